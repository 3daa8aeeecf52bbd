package rest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"

	"github.com/scimbridge/scimbridge/backends"
)

// errStale: the API refused a write made against an older version (412,
// or an error rule of kind "stale"); the read-modify-write is tried again.
var errStale = errors.New("the record changed since it was read")

var errorKinds = map[string]error{
	"not_found":         backends.ErrNotFound,
	"already_exists":    backends.ErrAlreadyExists,
	"invalid":           backends.ErrInvalid,
	"invalid_reference": backends.ErrInvalidReference,
	"unavailable":       backends.ErrUnavailable,
	"permission":        backends.ErrPermission,
	"config":            backends.ErrConfig,
	"bad_upstream":      backends.ErrBadUpstream,
	"stale":             errStale,
}

func errorKindNames() []string {
	var out []string
	for k := range errorKinds {
		out = append(out, `"`+k+`"`)
	}
	slices.Sort(out)
	return out
}

// Backend is a REST API driven as the configuration describes.
type Backend struct {
	cfg     *Config
	c       *client
	log     hclog.Logger
	res     map[string]*resource
	locks   keyedLocks
	cursors *cursorCache
}

type resource struct {
	*ResourceConfig
	b        *Backend
	uniqueMu sync.Mutex // serializes the check and the write of unique attributes
}

var (
	_ backends.Backend = (*Backend)(nil)
	_ backends.Pinger  = (*Backend)(nil)
)

// New opens the backend. It makes no request: the API may come up later.
func New(ctx context.Context, cfg *Config, log hclog.Logger) (*Backend, error) {
	if cfg == nil {
		return nil, fmt.Errorf("%w: no configuration", backends.ErrConfig)
	}
	if cfg.base == nil {
		if diags := cfg.check(); diags.HasErrors() {
			return nil, fmt.Errorf("%w: %s", backends.ErrConfig, diags.Error())
		}
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	c, err := newClient(cfg, log)
	if err != nil {
		return nil, err
	}
	b := &Backend{cfg: cfg, c: c, log: log, res: map[string]*resource{}, cursors: newCursorCache(1024)}
	for _, r := range cfg.Resources {
		b.res[r.Type] = &resource{ResourceConfig: r, b: b}
	}
	for _, r := range b.res {
		for _, a := range r.Attributes {
			if a.InverseOf == "" {
				continue
			}
			t := b.res[a.Reference]
			if t == nil || t.attrs[strings.ToLower(a.InverseOf)] == nil {
				return nil, fmt.Errorf("%w: attribute %q of resource %q is the inverse of %s.%s, which is not declared", backends.ErrConfig, a.Name, r.Type, a.Reference, a.InverseOf)
			}
		}
	}
	return b, nil
}

// Close releases idle connections.
func (b *Backend) Close() error {
	b.cursors.c.Close()
	if tr, ok := b.c.http.Transport.(*http.Transport); ok {
		tr.CloseIdleConnections()
	}
	return nil
}

func (b *Backend) resource(typ string) (*resource, error) {
	r := b.res[typ]
	if r == nil {
		return nil, fmt.Errorf("%w: resource type %q has no resource block", backends.ErrUnsupported, typ)
	}
	return r, nil
}

// Ping makes the ping request, or lists one record of the first resource.
func (b *Backend) Ping(ctx context.Context) error {
	if b.cfg.Ping != nil {
		pv, err := b.cfg.eval(b.cfg.Ping.Path, nil)
		if err != nil {
			return fmt.Errorf("%w: ping path: %v", backends.ErrConfig, err)
		}
		p, _ := asString(pv)
		u, err := b.cfg.buildURL(p, nil)
		if err != nil {
			return err
		}
		resp, err := b.c.do(ctx, &request{op: "ping", what: "ping", method: "GET", url: u})
		if err != nil {
			return err
		}
		if resp.status >= 300 {
			return b.statusErr(nil, "ping", "ping", resp, nil)
		}
		return nil
	}
	r := b.res[b.cfg.Resources[0].Type]
	_, err := r.walk(ctx, nil, 0, 1, func(backends.Record, int) bool { return false })
	return err
}

// buildURL joins base_url and an evaluated path template and adds query.
// The result always has base_url's scheme and host, and its path starts
// with base_url's path.
func (c *Config) buildURL(p string, query map[string][]string) (string, error) {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "?#\\\r\n\x00") {
		return "", fmt.Errorf("%w: the path template gave %q: it must start with a single / and hold no ?, #, backslash or control character (put parameters in query)", backends.ErrConfig, p)
	}
	u, err := url.Parse(c.base.Scheme + "://" + c.base.Host + c.base.EscapedPath() + p)
	if err != nil || u.Scheme != c.base.Scheme || u.Host != c.base.Host || u.User != nil {
		return "", fmt.Errorf("%w: the path template gave %q, which does not stay on %s", backends.ErrConfig, p, c.base.Host)
	}
	if len(query) > 0 {
		u.RawQuery = url.Values(query).Encode()
	}
	return u.String(), nil
}

// pathID is an id as a path segment, or false when it cannot be an id
// of this resource (the record is then not found without a request).
func (r *resource) pathID(id string) (string, bool) {
	if id == "" || id == "." || id == ".." || len(id) > 1024 {
		return "", false
	}
	for _, c := range id {
		if c < 0x20 || c == 0x7f || strings.ContainsRune("/?#%\\", c) {
			return "", false
		}
	}
	if r.idRE != nil && !r.idRE.MatchString(id) {
		return "", false
	}
	return url.PathEscape(id), true
}

// opRequest evaluates an operation's path, query, headers and body.
func (r *resource) opRequest(opName string, op *OpConfig, vars map[string]cty.Value, withBody bool) (*request, error) {
	cfg := r.b.cfg
	what := opName + " " + r.Type
	pv, err := cfg.eval(op.Path, vars)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: path: %v", backends.ErrConfig, what, err)
	}
	p, ok := asString(pv)
	if !ok {
		return nil, fmt.Errorf("%w: %s: the path is not a string", backends.ErrConfig, what)
	}
	var query map[string][]string
	if isSet(op.Query) {
		qv, err := cfg.eval(op.Query, vars)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: query: %v", backends.ErrConfig, what, err)
		}
		if query, err = queryValues(qv); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", backends.ErrConfig, what, err)
		}
	}
	u, err := cfg.buildURL(p, query)
	if err != nil {
		return nil, err
	}
	req := &request{op: opName, what: what, method: op.Method, url: u}
	if isSet(op.Headers) {
		hv, err := cfg.eval(op.Headers, vars)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: headers: %v", backends.ErrConfig, what, err)
		}
		h, err := queryValues(hv)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: headers: %v", backends.ErrConfig, what, err)
		}
		req.headers = map[string]string{}
		for k, v := range h {
			if len(v) > 0 && !strings.ContainsAny(v[0], "\r\n") {
				req.headers[k] = v[0]
			}
		}
	}
	if withBody {
		bv, err := cfg.eval(op.Body, vars)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: body: %v", backends.ErrConfig, what, err)
		}
		if req.body, err = toJSON(bv); err != nil {
			return nil, fmt.Errorf("%w: %s: body: %v", backends.ErrConfig, what, err)
		}
	}
	return req, nil
}

// parse turns a record's JSON into a Record.
func (r *resource) parse(rec cty.Value) (backends.Record, error) {
	if rec == cty.NilVal || rec.IsNull() || !(rec.Type().IsObjectType() || rec.Type().IsMapType()) {
		return backends.Record{}, fmt.Errorf("%w: the answer holds no %s record where the configuration says", backends.ErrBadUpstream, r.Type)
	}
	vars := map[string]cty.Value{"record": rec}
	idv := getAttr(rec, "id")
	if isSet(r.ID) {
		v, err := r.b.cfg.eval(r.ID, vars)
		if err != nil {
			idv = cty.NullVal(cty.DynamicPseudoType)
		} else {
			idv = v
		}
	}
	id, ok := asString(idv)
	if !ok || id == "" {
		return backends.Record{}, fmt.Errorf("%w: a %s record in the answer has no id", backends.ErrBadUpstream, r.Type)
	}
	out := backends.Record{ID: id, Attrs: backends.Attrs{}}
	for _, a := range r.Attributes {
		if a.InverseOf != "" {
			continue
		}
		var v cty.Value
		if isSet(a.Read) {
			var err error
			if v, err = r.b.cfg.eval(a.Read, vars); err != nil {
				continue // a missing key reads as no value
			}
		} else {
			v = getAttr(rec, a.Name)
		}
		if vals := ctyStrings(v); len(vals) > 0 {
			out.Attrs[a.Name] = vals
		}
	}
	return out, nil
}

func ctyType(t string) cty.Type {
	switch t {
	case "number":
		return cty.Number
	case "bool":
		return cty.Bool
	}
	return cty.String
}

// attrsValue is the attrs variable of body expressions: every writable
// attribute, typed; single-valued ones null when absent, multi-valued
// ones a (possibly empty) list.
func (r *resource) attrsValue(a backends.Attrs) (cty.Value, error) {
	for k := range a {
		ac := r.attrs[strings.ToLower(k)]
		if ac == nil {
			return cty.NilVal, fmt.Errorf("%w: the mapping writes %q, which resource %q does not declare", backends.ErrConfig, k, r.Type)
		}
		if ac.ReadOnly && len(a[k]) > 0 {
			return cty.NilVal, fmt.Errorf("%w: the mapping writes %q, which is read_only in resource %q", backends.ErrConfig, k, r.Type)
		}
	}
	m := map[string]cty.Value{}
	for _, ac := range r.Attributes {
		if ac.ReadOnly {
			continue
		}
		ty := ctyType(ac.Type)
		var vals []cty.Value
		for _, s := range a.Get(ac.Name) {
			if s == "" {
				continue
			}
			v, err := typed(ac, s)
			if err != nil {
				return cty.NilVal, err
			}
			vals = append(vals, v)
		}
		switch {
		case ac.Multi && len(vals) == 0:
			m[ac.Name] = cty.ListValEmpty(ty)
		case ac.Multi:
			m[ac.Name] = cty.ListVal(vals)
		case len(vals) == 0:
			m[ac.Name] = cty.NullVal(ty)
		case len(vals) > 1:
			return cty.NilVal, backends.Invalid(ac.Name, "", "takes one value", nil)
		default:
			m[ac.Name] = vals[0]
		}
	}
	if len(m) == 0 {
		return cty.EmptyObjectVal, nil
	}
	return cty.ObjectVal(m), nil
}

func typed(ac *AttributeConfig, s string) (cty.Value, error) {
	switch ac.Type {
	case "number":
		v, err := cty.ParseNumberVal(strings.TrimSpace(s))
		if err != nil {
			return cty.NilVal, backends.Invalid(ac.Name, s, "is not a number", err)
		}
		return v, nil
	case "bool":
		switch strings.ToLower(s) {
		case "true":
			return cty.True, nil
		case "false":
			return cty.False, nil
		}
		return cty.NilVal, backends.Invalid(ac.Name, s, "is not true or false", nil)
	}
	return cty.StringVal(s), nil
}

// statusErr maps an answer that is not a success to an error: the
// error rules first, then the defaults.
func (b *Backend) statusErr(r *resource, op, what string, resp *response, written backends.Attrs) error {
	doc, err := decodeJSON(resp.body)
	if err != nil {
		doc = cty.NullVal(cty.DynamicPseudoType)
	}
	typ := ""
	if r != nil {
		typ = r.Type
	}
	cause := fmt.Errorf("%s: HTTP %d from %s: %s", what, resp.status, resp.url, snippet(resp.body))
	vars := map[string]cty.Value{
		"status": cty.NumberIntVal(int64(resp.status)), "response": doc, "headers": headerValue(resp.header),
		"operation": cty.StringVal(op), "resource": cty.StringVal(typ),
	}
	for _, rule := range b.cfg.Errors {
		v, err := b.cfg.eval(rule.When, vars)
		if err != nil || v.IsNull() || !v.IsKnown() || v.Type() != cty.Bool || v.False() {
			continue
		}
		kind := errorKinds[rule.Kind]
		attr := ""
		if isSet(rule.Attribute) && r != nil {
			if av, err := b.cfg.eval(rule.Attribute, vars); err == nil {
				if s, ok := asString(av); ok {
					if ac := r.attrs[strings.ToLower(s)]; ac != nil {
						attr = ac.Name
					}
				}
			}
		}
		return kindErr(kind, attr, written.First(attr), cause)
	}
	switch s := resp.status; {
	case s == 400 || s == 422:
		return kindErr(backends.ErrInvalid, "", "", cause)
	case s == 401 || s == 403:
		return fmt.Errorf("%w: %v", backends.ErrPermission, cause)
	case s == 404 && (op == "get" || op == "update" || op == "delete"):
		return fmt.Errorf("%w: %v", backends.ErrNotFound, cause)
	case s == 404 || s == 405:
		return fmt.Errorf("%w: the API has no such endpoint (check the path template): %v", backends.ErrConfig, cause)
	case s == 409:
		return kindErr(backends.ErrAlreadyExists, "", "", cause)
	case s == 412:
		return fmt.Errorf("%w: %v", errStale, cause)
	case s == 408 || s == 429 || s == 502 || s == 503 || s == 504:
		return fmt.Errorf("%w: %v", backends.ErrUnavailable, cause)
	case s >= 300 && s < 400:
		return fmt.Errorf("%w: a redirect (to %q), which the bridge does not follow: %v", backends.ErrBadUpstream, resp.header.Get("Location"), cause)
	}
	return fmt.Errorf("%w: %v", backends.ErrBadUpstream, cause)
}

func kindErr(kind error, attr, value string, cause error) error {
	switch kind {
	case backends.ErrAlreadyExists:
		return backends.Conflict(attr, value, cause)
	case backends.ErrInvalid:
		return backends.Invalid(attr, value, "", cause)
	case backends.ErrInvalidReference:
		return &backends.AttrError{Kind: backends.ErrInvalidReference, Attr: attr, Err: cause}
	}
	return fmt.Errorf("%w: %v", kind, cause)
}

// fetch gets one record's answer: the record, its JSON and the answer.
func (r *resource) fetch(ctx context.Context, id string) (backends.Record, cty.Value, *response, error) {
	pid, ok := r.pathID(id)
	if !ok {
		return backends.Record{}, cty.NilVal, nil, fmt.Errorf("%w: %s id %q", backends.ErrNotFound, r.Type, id)
	}
	req, err := r.opRequest("get", r.Get, map[string]cty.Value{"id": cty.StringVal(pid)}, false)
	if err != nil {
		return backends.Record{}, cty.NilVal, nil, err
	}
	resp, err := r.b.c.do(ctx, req)
	if err != nil {
		return backends.Record{}, cty.NilVal, nil, err
	}
	if resp.status >= 300 {
		return backends.Record{}, cty.NilVal, nil, r.b.statusErr(r, "get", req.what, resp, nil)
	}
	rec, js, err := r.answer(r.Get, resp)
	if err != nil {
		return backends.Record{}, cty.NilVal, nil, err
	}
	if rec.ID != id {
		return backends.Record{}, cty.NilVal, nil, fmt.Errorf("%w: get %s %q answered the record %q", backends.ErrBadUpstream, r.Type, id, rec.ID)
	}
	return rec, js, resp, nil
}

// answer reads the record out of an operation's answer.
func (r *resource) answer(op *OpConfig, resp *response) (backends.Record, cty.Value, error) {
	doc, err := resp.json()
	if err != nil {
		return backends.Record{}, cty.NilVal, err
	}
	js := doc
	if isSet(op.Record) {
		if js, err = r.b.cfg.eval(op.Record, map[string]cty.Value{"response": doc, "headers": headerValue(resp.header)}); err != nil {
			return backends.Record{}, cty.NilVal, fmt.Errorf("%w: %s: the record expression: %v", backends.ErrBadUpstream, r.Type, err)
		}
	}
	rec, err := r.parse(js)
	return rec, js, err
}

// Get reads one record.
func (b *Backend) Get(ctx context.Context, typ, id string, attrs []string) (backends.Record, error) {
	r, err := b.resource(typ)
	if err != nil {
		return backends.Record{}, err
	}
	rec, _, _, err := r.fetch(ctx, id)
	if err != nil {
		return backends.Record{}, err
	}
	return r.finish(ctx, rec, attrs)
}

// finish fills inverse references that attrs asks for and projects.
func (r *resource) finish(ctx context.Context, rec backends.Record, attrs []string) (backends.Record, error) {
	if err := r.fillInverse(ctx, []*backends.Record{&rec}, attrs); err != nil {
		return backends.Record{}, err
	}
	return project(rec, attrs), nil
}

func wants(attrs []string, name string) bool {
	if attrs == nil {
		return true
	}
	for _, a := range attrs {
		if strings.EqualFold(a, name) {
			return true
		}
	}
	return false
}

func project(rec backends.Record, attrs []string) backends.Record {
	if attrs == nil {
		return rec
	}
	out := backends.Record{ID: rec.ID, Attrs: backends.Attrs{}}
	for k, v := range rec.Attrs {
		if wants(attrs, k) {
			out.Attrs[k] = v
		}
	}
	return out
}

// fillInverse computes inverse references (a user's groups) by listing
// the referencing records.
func (r *resource) fillInverse(ctx context.Context, recs []*backends.Record, attrs []string) error {
	for _, a := range r.Attributes {
		if a.InverseOf == "" || !wants(attrs, a.Name) || len(recs) == 0 {
			continue
		}
		t := r.b.res[a.Reference]
		idx := map[string]*backends.Record{}
		var f backends.Filter
		if len(recs) == 1 {
			f = backends.Compare{Attr: a.InverseOf, Op: backends.Eq, Value: recs[0].ID}
		}
		for _, rec := range recs {
			idx[rec.ID] = rec
			delete(rec.Attrs, a.Name)
		}
		err := t.scan(ctx, f, func(ref backends.Record) error {
			for _, v := range ref.Attrs.Get(a.InverseOf) {
				if rec := idx[v]; rec != nil && !slices.Contains(rec.Attrs[a.Name], ref.ID) {
					rec.Attrs[a.Name] = append(rec.Attrs[a.Name], ref.ID)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Create stores a new record.
func (b *Backend) Create(ctx context.Context, typ string, attrs backends.Attrs) (backends.Record, error) {
	r, err := b.resource(typ)
	if err != nil {
		return backends.Record{}, err
	}
	av, err := r.attrsValue(attrs)
	if err != nil {
		return backends.Record{}, err
	}
	if err := r.checkReferences(ctx, attrs); err != nil {
		return backends.Record{}, err
	}
	unlock, err := r.checkUnique(ctx, "", attrs)
	if err != nil {
		return backends.Record{}, err
	}
	defer unlock()
	req, err := r.opRequest("create", r.Create, map[string]cty.Value{"attrs": av, "random": randomValue(), "uuid": uuidValue()}, true)
	if err != nil {
		return backends.Record{}, err
	}
	resp, err := b.c.do(ctx, req)
	if err != nil {
		return backends.Record{}, err
	}
	if resp.status >= 300 {
		return backends.Record{}, b.statusErr(r, "create", req.what, resp, attrs)
	}
	rec, _, err := r.answer(r.Create, resp)
	if err != nil {
		return backends.Record{}, err
	}
	var sub []backends.Modification
	for _, a := range r.Attributes {
		if a.AddRequest != nil && len(attrs.Get(a.Name)) > 0 {
			sub = append(sub, backends.Modification{Op: backends.ModAdd, Attr: a.Name, Values: attrs.Get(a.Name)})
		}
	}
	if len(sub) > 0 {
		pid, ok := r.pathID(rec.ID)
		if !ok {
			return backends.Record{}, fmt.Errorf("%w: create %s answered the id %q, which cannot go into a path", backends.ErrBadUpstream, r.Type, rec.ID)
		}
		if _, err := r.subRequests(ctx, rec.ID, pid, sub); err != nil {
			// All or nothing: the record goes again.
			if derr := b.Delete(ctx, typ, rec.ID); derr != nil {
				b.log.Error("deleting a record whose create failed halfway failed", "resource", typ, "id", rec.ID, "error", derr)
			}
			return backends.Record{}, err
		}
		if rec, _, _, err = r.fetch(ctx, rec.ID); err != nil {
			return backends.Record{}, err
		}
	}
	return r.finish(ctx, rec, nil)
}

// checkUnique refuses values of unique attributes another record has
// (case-insensitively). It holds the resource's lock until unlock, so
// that two writes through this process cannot both pass.
func (r *resource) checkUnique(ctx context.Context, self string, attrs backends.Attrs) (func(), error) {
	var check []*AttributeConfig
	for _, a := range r.Attributes {
		if a.Unique && len(attrs.Get(a.Name)) > 0 {
			check = append(check, a)
		}
	}
	if len(check) == 0 {
		return func() {}, nil
	}
	r.uniqueMu.Lock()
	for _, a := range check {
		v := attrs.First(a.Name)
		var clash error
		err := r.scan(ctx, backends.Compare{Attr: a.Name, Op: backends.Eq, Value: v, IgnoreCase: true}, func(rec backends.Record) error {
			if rec.ID != self {
				clash = backends.Conflict(a.Name, v, fmt.Errorf("%s %q already has %s %q", r.Type, rec.ID, a.Name, v))
			}
			return nil
		})
		if err == nil {
			err = clash
		}
		if err != nil {
			r.uniqueMu.Unlock()
			return nil, err
		}
	}
	return r.uniqueMu.Unlock, nil
}

// checkReferences checks, for attributes with integrity "bridge", that
// every id names a record of the target.
func (r *resource) checkReferences(ctx context.Context, attrs backends.Attrs) error {
	for _, a := range r.Attributes {
		if a.Reference == "" || a.Integrity != "bridge" || a.ReadOnly {
			continue
		}
		t := r.b.res[a.Reference]
		for _, id := range attrs.Get(a.Name) {
			if _, _, _, err := t.fetch(ctx, id); err != nil {
				if errors.Is(err, backends.ErrNotFound) {
					return &backends.AttrError{Kind: backends.ErrInvalidReference, Attr: a.Name, Value: id, Err: err}
				}
				return err
			}
		}
	}
	return nil
}

// Modify applies mods. Attributes with add/remove fragments change by
// one request without reading the record; every other change reads the
// record, applies the changes and writes the update body, under a
// per-record lock of this process (and with the record's version or ETag
// when the configuration sends one).
func (b *Backend) Modify(ctx context.Context, typ, id string, mods []backends.Modification, attrs []string) (backends.Record, error) {
	r, err := b.resource(typ)
	if err != nil {
		return backends.Record{}, err
	}
	pid, ok := r.pathID(id)
	if !ok {
		return backends.Record{}, fmt.Errorf("%w: %s id %q", backends.ErrNotFound, typ, id)
	}
	var frag, body, sub []backends.Modification
	for _, m := range mods {
		ac := r.attrs[strings.ToLower(m.Attr)]
		if ac == nil || ac.ReadOnly {
			return backends.Record{}, fmt.Errorf("%w: the mapping writes %q, which resource %q does not declare as writable", backends.ErrConfig, m.Attr, typ)
		}
		if ac.AddRequest != nil || ac.RemoveRequest != nil {
			sub = append(sub, m)
			continue
		}
		if (m.Op == backends.ModAdd && isSet(ac.Add)) || (m.Op == backends.ModDelete && len(m.Values) > 0 && isSet(ac.Remove)) {
			// Changes of one attribute and kind go into one fragment. The
			// add and remove fragments of an attribute are kept disjoint
			// (a later change of a value wins), since an API may apply
			// them in either order: PocketBase's members+ and members-
			// in one body are applied in no fixed order.
			i := slices.IndexFunc(frag, func(f backends.Modification) bool { return f.Op == m.Op && strings.EqualFold(f.Attr, m.Attr) })
			if i < 0 {
				frag = append(frag, backends.Modification{Op: m.Op, Attr: m.Attr})
				i = len(frag) - 1
			}
			other := slices.IndexFunc(frag, func(f backends.Modification) bool { return f.Op != m.Op && strings.EqualFold(f.Attr, m.Attr) })
			for _, v := range m.Values {
				if other >= 0 {
					frag[other].Values = slices.DeleteFunc(frag[other].Values, func(x string) bool { return x == v })
				}
				if !slices.Contains(frag[i].Values, v) {
					frag[i].Values = append(frag[i].Values, v)
				}
			}
		} else {
			body = append(body, m)
		}
	}
	added := backends.Attrs{}
	for _, m := range mods {
		if m.Op != backends.ModDelete {
			added[m.Attr] = append(added[m.Attr], m.Values...)
		}
	}
	if err := r.checkReferences(ctx, added); err != nil {
		return backends.Record{}, err
	}
	unlock := b.locks.lock(typ + "\x00" + id)
	defer unlock()
	if len(sub) > 0 {
		// Every change of such an attribute becomes the values to add
		// and to remove, against the record as it is.
		cur, _, _, err := r.fetch(ctx, id)
		if err != nil {
			return backends.Record{}, err
		}
		running := cur.Attrs.Clone()
		var diff []backends.Modification
		for _, m := range sub {
			before := slices.Clone(running.Get(m.Attr))
			running = apply(running, []backends.Modification{m})
			after := running.Get(m.Attr)
			var add, del []string
			for _, v := range after {
				if !slices.Contains(before, v) {
					add = append(add, v)
				}
			}
			for _, v := range before {
				if !slices.Contains(after, v) {
					del = append(del, v)
				}
			}
			if len(del) > 0 {
				diff = append(diff, backends.Modification{Op: backends.ModDelete, Attr: m.Attr, Values: del})
			}
			if len(add) > 0 {
				diff = append(diff, backends.Modification{Op: backends.ModAdd, Attr: m.Attr, Values: add})
			}
		}
		undo, err := r.subRequests(ctx, id, pid, diff)
		if err != nil {
			return backends.Record{}, err
		}
		if len(frag)+len(body) == 0 {
			rec, _, _, err := r.fetch(ctx, id)
			if err != nil {
				return backends.Record{}, err
			}
			return r.finish(ctx, rec, attrs)
		}
		defer func() {
			if undo != nil {
				undo()
			}
		}()
		for try := 0; ; try++ {
			rec, err := r.modifyOnce(ctx, id, pid, frag, body)
			if errors.Is(err, errStale) && try < 3 {
				continue
			}
			if err != nil {
				return backends.Record{}, err
			}
			undo = nil
			if r.subWanted(attrs) {
				if rec, _, _, err = r.fetch(ctx, id); err != nil {
					return backends.Record{}, err
				}
			}
			return r.finish(ctx, rec, attrs)
		}
	}
	for try := 0; ; try++ {
		rec, err := r.modifyOnce(ctx, id, pid, frag, body)
		if errors.Is(err, errStale) && try < 3 {
			continue
		}
		if err != nil {
			return backends.Record{}, err
		}
		if r.subWanted(attrs) {
			// The update's answer does not hold what sub-resources keep.
			if rec, _, _, err = r.fetch(ctx, id); err != nil {
				return backends.Record{}, err
			}
		}
		return r.finish(ctx, rec, attrs)
	}
}

// subWanted says whether attrs asks for an attribute kept as
// sub-resources (add_request / remove_request).
func (r *resource) subWanted(attrs []string) bool {
	for _, a := range r.Attributes {
		if (a.AddRequest != nil || a.RemoveRequest != nil) && wants(attrs, a.Name) {
			return true
		}
	}
	return false
}

func (r *resource) modifyOnce(ctx context.Context, id, pid string, frag, body []backends.Modification) (backends.Record, error) {
	b := r.b
	vars := map[string]cty.Value{"id": cty.StringVal(pid), "random": randomValue()}
	var changedNames []cty.Value
	for _, m := range body {
		if ac := r.attrs[strings.ToLower(m.Attr)]; ac != nil && !slices.Contains(changedNames, cty.StringVal(ac.Name)) {
			changedNames = append(changedNames, cty.StringVal(ac.Name))
		}
	}
	vars["changed"] = cty.ListValEmpty(cty.String)
	if len(changedNames) > 0 {
		vars["changed"] = cty.ListVal(changedNames)
	}
	fields := map[string]cty.Value{}
	var next backends.Attrs
	unlock := func() {}
	defer func() { unlock() }()
	if len(body) > 0 {
		cur, js, resp, err := r.fetch(ctx, id)
		if err != nil {
			return backends.Record{}, err
		}
		next = apply(cur.Attrs, body)
		changed := backends.Attrs{}
		for _, m := range body {
			changed[m.Attr] = next.Get(m.Attr)
		}
		u, err := r.checkUnique(ctx, id, changed)
		if err != nil {
			return backends.Record{}, err
		}
		unlock = u
		av, err := r.attrsValue(writable(r, next))
		if err != nil {
			return backends.Record{}, err
		}
		vars["attrs"], vars["record"] = av, js
		vars["version"] = cty.NullVal(cty.DynamicPseudoType)
		if isSet(r.Version) {
			if v, err := b.cfg.eval(r.Version, map[string]cty.Value{"record": js}); err == nil {
				vars["version"] = v
			}
		}
		vars["etag"] = cty.NullVal(cty.String)
		if et := resp.header.Get("ETag"); et != "" {
			vars["etag"] = cty.StringVal(et)
		}
		bv, err := b.cfg.eval(r.Update.Body, vars)
		if err != nil {
			return backends.Record{}, fmt.Errorf("%w: update %s: body: %v", backends.ErrConfig, r.Type, err)
		}
		if bv.IsNull() || !(bv.Type().IsObjectType() || bv.Type().IsMapType()) {
			return backends.Record{}, fmt.Errorf("%w: update %s: the body is not an object", backends.ErrConfig, r.Type)
		}
		for k, v := range bv.AsValueMap() {
			fields[k] = v
		}
	} else {
		vars["attrs"] = cty.NullVal(cty.DynamicPseudoType)
		vars["record"] = cty.NullVal(cty.DynamicPseudoType)
		vars["version"] = cty.NullVal(cty.DynamicPseudoType)
		vars["etag"] = cty.NullVal(cty.String)
	}
	for _, m := range frag {
		if len(m.Values) == 0 {
			continue // netted out by a later change of the same values
		}
		ac := r.attrs[strings.ToLower(m.Attr)]
		e := ac.Add
		if m.Op == backends.ModDelete {
			e = ac.Remove
		}
		vals := make([]cty.Value, len(m.Values))
		for i, s := range m.Values {
			v, err := typed(ac, s)
			if err != nil {
				return backends.Record{}, err
			}
			vals[i] = v
		}
		lv := cty.ListValEmpty(ctyType(ac.Type))
		if len(vals) > 0 {
			lv = cty.ListVal(vals)
		}
		fv, err := b.cfg.eval(e, map[string]cty.Value{"values": lv})
		if err != nil || fv.IsNull() || !(fv.Type().IsObjectType() || fv.Type().IsMapType()) {
			return backends.Record{}, fmt.Errorf("%w: attribute %q of %s: the add/remove fragment is not an object: %v", backends.ErrConfig, ac.Name, r.Type, err)
		}
		for k, v := range fv.AsValueMap() {
			if _, dup := fields[k]; dup {
				return backends.Record{}, fmt.Errorf("%w: update %s: two changes write the body field %q", backends.ErrConfig, r.Type, k)
			}
			fields[k] = v
		}
	}
	req, err := r.opRequest("update", r.Update, vars, false)
	if err != nil {
		return backends.Record{}, err
	}
	bodyVal := cty.EmptyObjectVal
	if len(fields) > 0 {
		bodyVal = cty.ObjectVal(fields)
	}
	if req.body, err = toJSON(bodyVal); err != nil {
		return backends.Record{}, fmt.Errorf("%w: update %s: body: %v", backends.ErrConfig, r.Type, err)
	}
	written := next
	if written == nil {
		written = backends.Attrs{}
		for _, m := range frag {
			written[m.Attr] = m.Values
		}
	}
	resp, err := b.c.do(ctx, req)
	if err != nil {
		return backends.Record{}, err
	}
	if resp.status >= 300 {
		return backends.Record{}, b.statusErr(r, "update", req.what, resp, written)
	}
	if len(strings.TrimSpace(string(resp.body))) == 0 {
		rec, _, _, err := r.fetch(ctx, id)
		return rec, err
	}
	rec, _, err := r.answer(r.Update, resp)
	if err != nil {
		return backends.Record{}, err
	}
	if rec.ID != id {
		return backends.Record{}, fmt.Errorf("%w: update %s %q answered the record %q", backends.ErrBadUpstream, r.Type, id, rec.ID)
	}
	return rec, nil
}

// subRequests adds and removes values one request each (add_request,
// remove_request); the caller has read the record. Adding a value
// that is there (409) or removing one that is not (404) is not an error.
// On a failure the requests already made are undone, best effort; the
// returned undo does the same for a later failure.
func (r *resource) subRequests(ctx context.Context, id, pid string, mods []backends.Modification) (func(), error) {
	type done struct {
		ac  *AttributeConfig
		add bool
		v   string
	}
	var made []done
	send := func(ac *AttributeConfig, add bool, v string) error {
		op, name := ac.AddRequest, "add_request"
		if !add {
			op, name = ac.RemoveRequest, "remove_request"
		}
		pv := url.PathEscape(v)
		if t := r.b.res[ac.Reference]; t != nil {
			var ok bool
			if pv, ok = t.pathID(v); !ok {
				if add {
					return &backends.AttrError{Kind: backends.ErrInvalidReference, Attr: ac.Name, Value: v, Err: fmt.Errorf("%q cannot be a %s id", v, ac.Reference)}
				}
				return nil // no such record can be a member
			}
		}
		vars := map[string]cty.Value{"id": cty.StringVal(pid), "value": cty.StringVal(v), "path_value": cty.StringVal(pv)}
		req, err := r.opRequest(name, op, vars, isSet(op.Body))
		if err != nil {
			return err
		}
		resp, err := r.b.c.do(ctx, req)
		if err != nil {
			return err
		}
		switch {
		case resp.status < 300, add && resp.status == 409, !add && resp.status == 404:
			return nil
		}
		return r.b.statusErr(r, name, req.what, resp, backends.Attrs{ac.Name: {v}})
	}
	undo := func() {
		for i := len(made) - 1; i >= 0; i-- {
			d := made[i]
			if err := send(d.ac, !d.add, d.v); err != nil {
				r.b.log.Error("undoing a membership request failed; the record may keep a partial change", "resource", r.Type, "id", id, "attribute", d.ac.Name, "value", d.v, "error", err)
			}
		}
	}
	for _, m := range mods {
		ac := r.attrs[strings.ToLower(m.Attr)]
		if m.Op == backends.ModAdd {
			if err := r.checkReferences(ctx, backends.Attrs{ac.Name: m.Values}); err != nil {
				undo()
				return nil, err
			}
		}
		for _, v := range m.Values {
			if err := send(ac, m.Op == backends.ModAdd, v); err != nil {
				undo()
				return nil, err
			}
			made = append(made, done{ac, m.Op == backends.ModAdd, v})
		}
	}
	return undo, nil
}

// writable drops read-only attributes from a record's values.
func writable(r *resource, a backends.Attrs) backends.Attrs {
	out := backends.Attrs{}
	for k, v := range a {
		if ac := r.attrs[strings.ToLower(k)]; ac != nil && !ac.ReadOnly {
			out[k] = v
		}
	}
	return out
}

// apply returns a with mods applied.
func apply(a backends.Attrs, mods []backends.Modification) backends.Attrs {
	out := a.Clone()
	key := func(name string) string {
		for k := range out {
			if strings.EqualFold(k, name) {
				return k
			}
		}
		return name
	}
	for _, m := range mods {
		k := key(m.Attr)
		switch m.Op {
		case backends.ModReplace:
			delete(out, k)
			if len(m.Values) > 0 {
				out[m.Attr] = slices.Clone(m.Values)
			}
		case backends.ModAdd:
			vals := out[k]
			delete(out, k)
			for _, v := range m.Values {
				if !slices.Contains(vals, v) {
					vals = append(vals, v)
				}
			}
			if len(vals) > 0 {
				out[m.Attr] = vals
			}
		case backends.ModDelete:
			if len(m.Values) == 0 {
				delete(out, k)
				continue
			}
			vals := slices.DeleteFunc(slices.Clone(out[k]), func(v string) bool { return slices.Contains(m.Values, v) })
			delete(out, k)
			if len(vals) > 0 {
				out[m.Attr] = vals
			}
		}
	}
	return out
}

// Delete removes a record, and first its id from the attributes with
// integrity "bridge" that reference it.
func (b *Backend) Delete(ctx context.Context, typ, id string) error {
	r, err := b.resource(typ)
	if err != nil {
		return err
	}
	pid, ok := r.pathID(id)
	if !ok {
		return fmt.Errorf("%w: %s id %q", backends.ErrNotFound, typ, id)
	}
	if _, _, _, err := r.fetch(ctx, id); err != nil {
		return err
	}
	for _, o := range b.cfg.Resources {
		for _, a := range o.Attributes {
			if a.Reference != typ || a.Integrity != "bridge" || a.ReadOnly {
				continue
			}
			or := b.res[o.Type]
			var holders []string
			err := or.scan(ctx, backends.Compare{Attr: a.Name, Op: backends.Eq, Value: id}, func(rec backends.Record) error {
				holders = append(holders, rec.ID)
				return nil
			})
			if err != nil {
				return err
			}
			for _, h := range holders {
				_, err := b.Modify(ctx, o.Type, h, []backends.Modification{{Op: backends.ModDelete, Attr: a.Name, Values: []string{id}}}, []string{})
				if err != nil && !errors.Is(err, backends.ErrNotFound) {
					return fmt.Errorf("removing %s %q from %s %q before deleting it: %w", typ, id, o.Type, h, err)
				}
			}
		}
	}
	req, err := r.opRequest("delete", r.Delete, map[string]cty.Value{"id": cty.StringVal(pid)}, false)
	if err != nil {
		return err
	}
	unlock := b.locks.lock(typ + "\x00" + id)
	defer unlock()
	resp, err := b.c.do(ctx, req)
	if err != nil {
		return err
	}
	if resp.status >= 300 {
		return b.statusErr(r, "delete", req.what, resp, nil)
	}
	return nil
}

// randomValue is the random variable of bodies: 32 random characters
// (a password for APIs that require one on create).
func randomValue() cty.Value {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return cty.StringVal(base64.RawURLEncoding.EncodeToString(b))
}

// uuidValue is the uuid variable of create bodies: a random (version 4)
// UUID, for APIs that take the new record's id from the client.
func uuidValue() cty.Value {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return cty.StringVal(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]))
}

// keyedLocks is a mutex per key (a record), dropped when unused.
type keyedLocks struct {
	mu sync.Mutex
	m  map[string]*keyedLock
}

type keyedLock struct {
	mu sync.Mutex
	n  int
}

func (k *keyedLocks) lock(key string) func() {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*keyedLock{}
	}
	l := k.m[key]
	if l == nil {
		l = &keyedLock{}
		k.m[key] = l
	}
	l.n++
	k.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		k.mu.Lock()
		l.n--
		if l.n == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}
