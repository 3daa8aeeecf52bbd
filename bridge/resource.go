package bridge

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	filter "github.com/scim2/filter-parser/v2"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/mapping"
	"github.com/scimbridge/scimbridge/bridge/scim"
)

// Resource carries out SCIM operations on one resource type of one
// endpoint: it validates input, runs the PATCH engine, maps between SCIM
// and native records and calls the backend. It knows nothing of HTTP.
type Resource struct {
	RT      *scim.ResourceType
	Mapping *mapping.Mapping
	Backend backends.Backend
	Log     hclog.Logger
	Limits  Limits
	locks   [64]sync.Mutex
	// scans, when set, bounds the in-memory lists each credential runs
	// at once; one limiter is shared by every resource of a server.
	scans *scanLimiter
	// readWarned: when each attribute that did not map was last logged.
	readWarned sync.Map
	// IgnoreUnknown drops attributes the resource type does not define
	// from writes instead of refusing them (unknown_attributes = "ignore").
	IgnoreUnknown bool
	// unknownWarned holds the names IgnoreUnknown dropped and logged.
	unknownWarned sync.Map
	// RejectUnknownManager refuses a manager that names no user with 400
	// (unknown_manager = "reject") instead of leaving it out (manager.go).
	RejectUnknownManager bool
	// users, for a Group resource, reads its members' display names.
	users *Resource
}

// Limits bound what one request may ask for.
type Limits struct {
	MaxResults, DefaultCount, MaxOperations, MaxMembers int
	// MaxFilterScan bounds the records one list may read to evaluate a
	// filter or sort the backend cannot run (max_filter_scan).
	MaxFilterScan int
	// MaxValueBytes bounds each string (or number) a client sends; 0: no bound.
	MaxValueBytes int
}

// NewResource builds a Resource.
func NewResource(m *mapping.Mapping, b backends.Backend, log hclog.Logger, lim Limits) *Resource {
	return &Resource{RT: m.RT, Mapping: m, Backend: b, Log: log, Limits: lim}
}

// lock serialises read-modify-write cycles on one resource in this process,
// so concurrent PATCHes of the same entry cannot lose each other's changes
// and If-Match checks are atomic with the write.
func (r *Resource) lock(id string) func() {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	mu := &r.locks[h.Sum32()%uint32(len(r.locks))]
	mu.Lock()
	return mu.Unlock
}

// listNative returns the native attribute of a list mapping (members).
func (r *Resource) listNative(name string) string {
	if a := r.Mapping.Lists[name]; a != nil {
		return a.Native
	}
	return ""
}

// Version is the ETag value of a resource: a hash of what it says,
// excluding meta and member lists (which change independently).
func Version(doc scim.Doc) string {
	h := newFNV64a()
	keys := make([]string, 0, len(doc))
	for k := range doc {
		switch k {
		case "meta", "members", "groups", "schemas":
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		hashValue(&h, k)
		hashValue(&h, doc[k])
	}
	var sum [8]byte
	binary.BigEndian.PutUint64(sum[:], uint64(h))
	return `W/"` + hex.EncodeToString(sum[:]) + `"`
}

// fnv64a is the 64-bit FNV-1a hash (hash/fnv's New64a), kept as a value
// so that hashing strings allocates nothing.
type fnv64a uint64

func newFNV64a() fnv64a { return 14695981039346656037 }

func (h *fnv64a) byte(b byte) { *h = (*h ^ fnv64a(b)) * 1099511628211 }

func (h *fnv64a) string(s string) {
	for i := 0; i < len(s); i++ {
		h.byte(s[i])
	}
}

// hashValue feeds a JSON-like value into h deterministically (map keys in
// order, a type tag before each value), without encoding it to JSON.
func hashValue(h *fnv64a, v any) {
	switch x := v.(type) {
	case nil:
		h.byte('n')
	case string:
		h.byte('s')
		h.string(x)
		h.byte(0)
	case bool:
		if x {
			h.byte('t')
		} else {
			h.byte('f')
		}
	case map[string]any:
		h.byte('{')
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			hashValue(h, k)
			hashValue(h, x[k])
		}
		h.byte('}')
	case []any:
		h.byte('[')
		for _, el := range x {
			hashValue(h, el)
		}
		h.byte(']')
	default:
		h.byte('#')
		h.string(scim.FilterValueString(x))
		h.byte(0)
	}
}

// checkRequired reports missing required attributes.
func (r *Resource) checkRequired(doc scim.Doc) error {
	for _, a := range r.RT.Schema.Attributes {
		if !a.Required {
			continue
		}
		v, ok := doc[a.Name]
		if s, isStr := v.(string); !ok || v == nil || (isStr && strings.TrimSpace(s) == "") {
			return scim.BadRequest(scim.TypeInvalidValue, "attribute %q is required", a.Name)
		}
	}
	return nil
}

// stripReadOnly drops attributes a client may send but never sets.
func (r *Resource) stripReadOnly(doc scim.Doc) {
	for _, c := range []string{"id", "meta"} {
		delete(doc, c)
	}
	for _, a := range r.RT.Schema.Attributes {
		if a.Mutability == scim.ReadOnly {
			delete(doc, a.Name)
		}
	}
}

func (r *Resource) listIDs(doc scim.Doc, name string) ([]string, error) {
	list, _ := doc[name].([]any)
	if r.Limits.MaxMembers > 0 && len(list) > r.Limits.MaxMembers {
		return nil, scim.Errorf(413, scim.TypeTooMany, "at most %d %s per request", r.Limits.MaxMembers, name)
	}
	set := scim.NewOrderedSet()
	for _, el := range list {
		m, _ := el.(map[string]any)
		s, _ := m["value"].(string)
		if s == "" {
			return nil, scim.BadRequest(scim.TypeInvalidValue, "every %s element needs a \"value\"", name)
		}
		set.Put(s)
	}
	return set.List(), nil
}

// dropUnknown applies unknown_attributes = "ignore" to a POST or PUT body.
func (r *Resource) dropUnknown(raw map[string]any) {
	if r.IgnoreUnknown {
		r.warnUnknown(scim.DropUnknown(r.RT, raw))
	}
}

// warnUnknown logs each attribute name that unknown_attributes = "ignore"
// dropped, once per name for the life of the process: the admin sees what
// the identity provider sends that nothing maps.
func (r *Resource) warnUnknown(names []string) {
	for _, n := range names {
		if _, seen := r.unknownWarned.LoadOrStore(strings.ToLower(n), true); !seen {
			r.Log.Warn("ignoring an attribute that the resource type does not define (unknown_attributes = \"ignore\"; further ones of this name are not logged)",
				"resource", r.RT.Name, "attribute", n)
		}
	}
}

// Create stores a new resource.
func (r *Resource) Create(ctx context.Context, raw map[string]any) (scim.Doc, error) {
	r.dropUnknown(raw)
	if err := scim.CheckValueSizes(r.RT, raw, "", r.Limits.MaxValueBytes); err != nil {
		return nil, err
	}
	doc, err := scim.Normalize(r.RT, raw)
	if err != nil {
		return nil, err
	}
	r.stripReadOnly(doc)
	if err := r.checkRequired(doc); err != nil {
		return nil, err
	}
	if bad, err := r.unknownManager(ctx, nil, doc); err != nil {
		return nil, err
	} else if bad != "" {
		setManager(doc, "")
	}
	attrs, err := r.Mapping.ToNative(doc)
	if err != nil {
		return nil, err
	}
	for k, v := range attrs {
		if len(v) == 0 {
			delete(attrs, k)
		}
	}
	for name, a := range r.Mapping.Lists {
		ids, err := r.listIDs(doc, name)
		if err != nil {
			return nil, err
		}
		if len(ids) > 0 {
			attrs[a.Native] = ids
		}
	}
	if err := r.Mapping.CheckCreate(doc, attrs); err != nil {
		return nil, err
	}
	rec, err := r.Backend.Create(ctx, r.RT.Name, attrs)
	if err != nil {
		return nil, r.fromBackend(err, doc)
	}
	out := r.render(rec)
	r.memberDisplays(ctx, out)
	return out, nil
}

// Get reads one resource; withLists includes members (with display).
func (r *Resource) Get(ctx context.Context, id string, withLists bool) (scim.Doc, error) {
	rec, err := r.Backend.Get(ctx, r.RT.Name, id, r.Mapping.NativeAttrs(withLists))
	if err != nil {
		return nil, r.fromBackend(err, nil)
	}
	doc := r.render(rec)
	if withLists {
		r.memberDisplays(ctx, doc)
	}
	return doc, nil
}

// render maps a record to a resource. It never fails: an attribute whose
// native value does not map (from_native fails on it) is left out of that
// resource and logged, so that one odd entry neither breaks a list nor
// turns a committed write into an error.
func (r *Resource) render(rec backends.Record) scim.Doc {
	doc, err := r.Mapping.FromNative(rec)
	var problems mapping.ReadProblems
	if errors.As(err, &problems) {
		for _, p := range problems {
			r.readProblem(rec.ID, p)
		}
	}
	return doc
}

// readProblem logs an attribute left out of a resource, once a minute per
// attribute: a list of a thousand entries with the same odd value logs
// one line, not a thousand.
func (r *Resource) readProblem(id string, p mapping.ReadProblem) {
	now := time.Now()
	if last, ok := r.readWarned.Load(p.Attr); ok && now.Sub(last.(time.Time)) < time.Minute {
		return
	}
	r.readWarned.Store(p.Attr, now)
	r.Log.Warn("attribute left out of a resource: its stored value does not map (further ones of this attribute are not logged for a minute)",
		"resource", r.RT.Name, "id", id, "attribute", p.Attr, "mapping", p.Range.String(), "error", p.Err)
}

// Replace is PUT: the resource becomes what the body says. Member lists
// absent from the body are left as they are; present ones are diffed so
// that only the changed members are written.
func (r *Resource) Replace(ctx context.Context, id string, raw map[string]any, ifMatch string) (scim.Doc, error) {
	r.dropUnknown(raw)
	if err := scim.CheckValueSizes(r.RT, raw, "", r.Limits.MaxValueBytes); err != nil {
		return nil, err
	}
	doc, err := scim.Normalize(r.RT, raw)
	if err != nil {
		return nil, err
	}
	if bid, ok := doc["id"].(string); ok && bid != id {
		return nil, scim.BadRequest(scim.TypeMutability, "the id in the body (%q) differs from the URL", bid)
	}
	r.stripReadOnly(doc)
	if err := r.checkRequired(doc); err != nil {
		return nil, err
	}
	defer r.lock(id)()
	return r.retryWrite(ifMatch, func() (scim.Doc, error) {
		doc := scim.CopyDoc(doc)
		cur, stored, expect, err := r.current(ctx, id)
		if err != nil {
			return nil, err
		}
		if err := checkETag(ifMatch, cur); err != nil {
			return nil, err
		}
		if bad, err := r.unknownManager(ctx, cur, doc); err != nil {
			return nil, err
		} else if bad != "" {
			setManager(doc, managerOf(cur)) // as if the body had not named it
		}
		mods, err := r.diff(cur, doc, stored)
		if err != nil {
			return nil, err
		}
		for name, a := range r.Mapping.Lists {
			if _, present := doc[name]; !present {
				continue
			}
			ids, err := r.listIDs(doc, name)
			if err != nil {
				return nil, err
			}
			delta := &scim.ListDelta{Replaced: true, Set: scim.NewOrderedSet()}
			for _, s := range ids {
				delta.Set.Put(s)
			}
			lm, err := r.listMods(ctx, id, a.Native, delta)
			if err != nil {
				return nil, err
			}
			mods = append(mods, lm...)
		}
		return r.apply(ctx, id, cur, doc, mods, expect)
	})
}

// Patch applies RFC 7644 PATCH operations atomically.
func (r *Resource) Patch(ctx context.Context, id string, ops []scim.PatchOp, ifMatch string) (scim.Doc, error) {
	if r.Limits.MaxOperations > 0 && len(ops) > r.Limits.MaxOperations {
		return nil, scim.Errorf(413, scim.TypeTooMany, "at most %d operations per PATCH", r.Limits.MaxOperations)
	}
	if r.IgnoreUnknown && len(ops) > 0 {
		var dropped []string
		ops, dropped = scim.DropUnknownOps(r.RT, ops)
		r.warnUnknown(dropped)
		if len(ops) == 0 {
			// Every operation named attributes that do not exist.
			cur, err := r.Get(ctx, id, false)
			if err != nil {
				return nil, err
			}
			return cur, checkETag(ifMatch, cur)
		}
	}
	for _, op := range ops {
		if err := scim.CheckValueSizes(r.RT, op.Value, strings.TrimSpace(op.Path), r.Limits.MaxValueBytes); err != nil {
			return nil, err
		}
	}
	defer r.lock(id)()
	lists := map[string]bool{}
	for name := range r.Mapping.Lists {
		lists[name] = true
	}
	p := &scim.Patcher{RT: r.RT, Lists: lists, MaxListOps: r.Limits.MaxMembers,
		LoadList: func(name string) ([]any, error) {
			full, err := r.Get(ctx, id, true)
			if err != nil {
				return nil, err
			}
			l, _ := full[name].([]any)
			return l, nil
		}}
	if strings.TrimSpace(ifMatch) == "" {
		if touches, ok := r.blindTouches(ops); ok {
			return r.blindPatch(ctx, id, ops, touches, p)
		}
	}
	return r.retryWrite(ifMatch, func() (scim.Doc, error) {
		cur, stored, expect, err := r.current(ctx, id)
		if err != nil {
			return nil, err
		}
		if err := checkETag(ifMatch, cur); err != nil {
			return nil, err
		}
		next := scim.CopyDoc(cur)
		deltas, err := p.Apply(next, ops)
		if err != nil {
			return nil, err
		}
		if err := r.checkRequired(next); err != nil {
			return nil, err
		}
		if bad, err := r.unknownManager(ctx, cur, next); err != nil {
			return nil, err
		} else if bad != "" {
			setManager(next, managerOf(cur)) // the operation is left out
		}
		mods, err := r.diff(cur, next, stored)
		if err != nil {
			return nil, err
		}
		names := make([]string, 0, len(deltas))
		for name := range deltas {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			lm, err := r.listMods(ctx, id, r.listNative(name), deltas[name])
			if err != nil {
				return nil, err
			}
			mods = append(mods, lm...)
		}
		return r.apply(ctx, id, cur, next, mods, expect)
	})
}

// apply writes mods; next is the resource as the client wants it. expect
// holds the native values the write started from: a backend that is a
// ConditionalModifier writes only if the directory still holds them, so
// that bridges running side by side on one directory cannot lose each
// other's changes or pass an If-Match that no longer holds (the lock of
// this process orders its own writes, the directory decides across
// processes).
func (r *Resource) apply(ctx context.Context, id string, cur, next scim.Doc, mods []backends.Modification, expect backends.Attrs) (scim.Doc, error) {
	if len(mods) == 0 {
		return cur, nil
	}
	var rec backends.Record
	var err error
	if cm, ok := r.Backend.(backends.ConditionalModifier); ok && expect != nil {
		rec, err = cm.ModifyIf(ctx, r.RT.Name, id, expect, mods, r.answerAttrs())
	} else {
		rec, err = r.Backend.Modify(ctx, r.RT.Name, id, mods, r.answerAttrs())
	}
	if err != nil {
		return nil, r.fromBackend(err, next)
	}
	return r.render(rec), nil
}

// answerAttrs is what a write asks the backend to return: what a GET
// without member lists reads, so that the answer and its ETag are those of
// a GET right after the write. Never nil (nil would mean everything,
// member lists included).
func (r *Resource) answerAttrs() []string {
	if a := r.Mapping.NativeAttrs(false); a != nil {
		return a
	}
	return []string{}
}

// diff compares the native form of the current and the new resource and
// returns replace modifications for the native attributes that change.
// stored is the record as stored, for to_native expressions that read it
// (nil when none does).
func (r *Resource) diff(cur, next scim.Doc, stored *backends.Record) ([]backends.Modification, error) {
	before, err := r.Mapping.ToNativeFrom(cur, stored)
	if err != nil {
		// The stored entry does not map cleanly (edited outside the
		// bridge): write every attribute.
		before = backends.Attrs{}
	}
	after, err := r.Mapping.ToNativeFrom(next, stored)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(after))
	for k := range after {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var mods []backends.Modification
	for _, k := range keys {
		if !equalValues(before[k], after[k]) {
			mods = append(mods, backends.Modification{Op: backends.ModReplace, Attr: k, Values: after[k]})
		}
	}
	return mods, r.Mapping.CheckModify(next, mods)
}

func equalValues(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// listMods turns a list delta into add/delete modifications. A replaced
// list is diffed against the stored one so only changes are written.
func (r *Resource) listMods(ctx context.Context, id, native string, d *scim.ListDelta) ([]backends.Modification, error) {
	if native == "" {
		return nil, nil
	}
	var add, del []string
	if d.Replaced {
		rec, err := r.Backend.Get(ctx, r.RT.Name, id, []string{native})
		if err != nil {
			return nil, r.fromBackend(err, nil)
		}
		current := rec.Attrs.Get(native)
		have := make(map[string]bool, len(current))
		for _, v := range current {
			have[v] = true
		}
		for _, v := range d.Set.List() {
			if !have[v] {
				add = append(add, v)
			}
		}
		for _, v := range current {
			if !d.Set.Has(v) {
				del = append(del, v)
			}
		}
	} else {
		add, del = d.Add.List(), d.Remove.List()
	}
	var mods []backends.Modification
	if len(del) > 0 {
		mods = append(mods, backends.Modification{Op: backends.ModDelete, Attr: native, Values: del})
	}
	if len(add) > 0 {
		mods = append(mods, backends.Modification{Op: backends.ModAdd, Attr: native, Values: add})
	}
	return mods, nil
}

// writeAttempts bounds how often a PUT or PATCH without If-Match reads
// and writes again when the directory reports that the resource changed
// between its read and its write (another bridge wrote it).
const writeAttempts = 8

// retryWrite runs one read-modify-write cycle, and runs it again from a
// fresh read when the directory refuses the write because the resource
// changed since the read (backends.ErrPrecondition) and the client sent
// no If-Match; with If-Match the answer is 412.
func (r *Resource) retryWrite(ifMatch string, cycle func() (scim.Doc, error)) (scim.Doc, error) {
	for attempt := 1; ; attempt++ {
		doc, err := cycle()
		if err == nil || !errors.Is(err, backends.ErrPrecondition) {
			return doc, err
		}
		if strings.TrimSpace(ifMatch) != "" {
			return nil, scim.Errorf(412, "", "the resource has changed")
		}
		if attempt == writeAttempts {
			return nil, r.fromBackend(fmt.Errorf("%w: the resource kept changing during %d attempts to write it: %v",
				backends.ErrUnavailable, attempt, err), nil)
		}
	}
}

func checkETag(ifMatch string, cur scim.Doc) error {
	ifMatch = strings.TrimSpace(ifMatch)
	if ifMatch == "" || ifMatch == "*" {
		return nil
	}
	v := Version(cur)
	for _, tag := range strings.Split(ifMatch, ",") {
		tag = strings.TrimSpace(tag)
		if tag == v || strings.TrimPrefix(tag, "W/") == strings.TrimPrefix(v, "W/") {
			return nil
		}
	}
	return scim.Errorf(412, "", "the resource has changed (version %s, If-Match %s)", v, ifMatch)
}

// Delete removes a resource, and a deleted user from the manager of the
// users that name it (manager.go).
func (r *Resource) Delete(ctx context.Context, id string) error {
	unlock := r.lock(id)
	err := r.fromBackend(r.Backend.Delete(ctx, r.RT.Name, id), nil)
	unlock() // dropManagerRefs takes the locks of other users
	if err == nil {
		r.dropManagerRefs(ctx, id)
	}
	return err
}

// ListQuery is a parsed query (GET parameters or a SearchRequest body).
type ListQuery struct {
	Filter     filter.Expression
	SortBy     string
	Descending bool
	StartIndex int
	Count      int
	WithLists  bool
	// Credential is who asks; in-memory evaluation is limited per
	// credential. Nil: not limited.
	Credential *Principal
}

// ListResult is one page.
type ListResult struct {
	Resources    []scim.Doc
	TotalResults int
	StartIndex   int
}

// List runs a query: pushed down to the backend when the filter compiles
// exactly, otherwise over the backend's superset with the SCIM filter
// evaluated in memory (see listInMemory).
func (r *Resource) List(ctx context.Context, q ListQuery) (*ListResult, error) {
	res, err := r.list(ctx, q)
	if err == nil && q.WithLists {
		r.memberDisplays(ctx, res.Resources...)
	}
	return res, err
}

func (r *Resource) list(ctx context.Context, q ListQuery) (*ListResult, error) {
	if q.StartIndex < 1 {
		q.StartIndex = 1
	}
	if id, ok := idEquality(q.Filter); ok {
		return r.listByID(ctx, id, q)
	}
	var nf backends.Filter
	var why inMemory
	exact := true
	if q.Filter != nil {
		nf, exact, why.filter = r.Mapping.CompileResidual(q.Filter)
	}
	sortKey, sortable := "", true
	if q.SortBy != "" {
		sortKey, sortable = r.Mapping.SortKey(q.SortBy)
		if !sortable {
			why.sortBy = q.SortBy
		}
	}
	attrs := r.Mapping.NativeAttrs(q.WithLists)
	if exact && sortable {
		page, err := r.Backend.Search(ctx, r.RT.Name, backends.Query{Filter: nf, SortBy: sortKey, Descending: q.Descending,
			StartIndex: q.StartIndex, Count: q.Count, CountOnly: q.Count == 0, Attrs: attrs})
		if err == nil {
			out := &ListResult{TotalResults: page.Total, StartIndex: q.StartIndex}
			for _, rec := range page.Records {
				out.Resources = append(out.Resources, r.render(rec))
			}
			return out, nil
		}
		if !errors.Is(err, backends.ErrUnsupported) {
			return nil, r.fromBackend(err, nil)
		}
		r.Log.Debug("backend cannot run the query; evaluating it in memory", "error", err)
		// The backend refused the sort or the filter: listInMemory also
		// names the filter when the backend refuses it without the sort.
		why.sortBy = q.SortBy
	}
	return r.listInMemory(ctx, nf, q, attrs, why)
}

func (r *Resource) listByID(ctx context.Context, id string, q ListQuery) (*ListResult, error) {
	out := &ListResult{StartIndex: q.StartIndex}
	rec, err := r.Backend.Get(ctx, r.RT.Name, id, r.Mapping.NativeAttrs(q.WithLists || mentions(q.Filter, "members")))
	if errors.Is(err, backends.ErrNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, r.fromBackend(err, nil)
	}
	d := r.render(rec)
	if scim.Match(r.RT, q.Filter, d) {
		out.TotalResults = 1
		if q.StartIndex == 1 && q.Count != 0 {
			if !q.WithLists {
				delete(d, "members")
			}
			out.Resources = []scim.Doc{d}
		}
	}
	return out, nil
}

// idEquality recognises `id eq "x"` (possibly and-ed with more terms).
func idEquality(e filter.Expression) (string, bool) {
	switch x := e.(type) {
	case *filter.AttributeExpression:
		if x.Operator == filter.EQ && x.AttributePath.URIPrefix == nil && x.AttributePath.SubAttribute == nil && strings.EqualFold(x.AttributePath.AttributeName, "id") {
			s, ok := x.CompareValue.(string)
			return s, ok
		}
	case *filter.LogicalExpression:
		if x.Operator == filter.AND {
			if id, ok := idEquality(x.Left); ok {
				return id, true
			}
			return idEquality(x.Right)
		}
	}
	return "", false
}

func mentions(e filter.Expression, attr string) bool {
	switch x := e.(type) {
	case *filter.AttributeExpression:
		return strings.EqualFold(x.AttributePath.AttributeName, attr)
	case *filter.ValuePath:
		return strings.EqualFold(x.AttributePath.AttributeName, attr)
	case *filter.LogicalExpression:
		return mentions(x.Left, attr) || mentions(x.Right, attr)
	case *filter.NotExpression:
		return mentions(x.Expression, attr)
	}
	return false
}
