package ldap

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/backends"
)

// change is one LDAP modification with values in stored form.
type change struct {
	op     backends.ModOp
	attr   string
	values []string
	ref    *reference // set for reference attributes
	// ifPresent: a delete sent only when the value is there (the
	// placeholder, which an add replaces).
	ifPresent bool
}

// plan is a Modify translated to LDAP.
type plan struct {
	changes        []change
	password       *string // set: write this password
	rdnValues      []string
	active         *bool           // set: move into or out of the disabled container
	touched        map[string]bool // lower-case attributes changed
	valueAttrsUsed []string        // attributes of r that references store by name and that change
	// newUPN (user_account_control) is a new userPrincipalName; samGiven
	// says the modifications set sAMAccountName themselves.
	newUPN   string
	samGiven bool
	// stamp, set by ModifyIf, is a filter on the entry's change stamp
	// ((entryCSN=...)) that modifyAsserted adds to its assertion.
	stamp string
	// readBack, when set, are the attributes the modify asks back with
	// the post-read control where the modify is execute's last write;
	// readResponse are that modify's response controls.
	readBack     []string
	readResponse []goldap.Control
}

var errStale = errors.New("stale dn")

// buildDN names a new entry of r; the value is escaped and the result must
// sit directly below the base DN, so no value can place it elsewhere.
func buildDN(r *resource, value string) (string, error) {
	return buildDNUnder(r, r.base, r.baseDN, value)
}

// buildDNUnder is buildDN below parent (the base DN or the disabled
// container).
func buildDNUnder(r *resource, parent *goldap.DN, parentDN, value string) (string, error) {
	dn := r.rdnAttr + "=" + goldap.EscapeDN(value) + "," + parentDN
	p, err := goldap.ParseDN(dn)
	if err != nil || len(p.RDNs) != len(parent.RDNs)+1 || !parent.AncestorOfFold(p) ||
		len(p.RDNs[0].Attributes) != 1 || p.RDNs[0].Attributes[0].Value != value {
		return "", backends.Invalid(r.rdnAttr, value, "cannot name an entry in the directory", fmt.Errorf("ldap: %s value %q cannot name an entry below %s", r.rdnAttr, value, parentDN))
	}
	return dn, nil
}

// splitRDN splits dn at its first unescaped comma.
func splitRDN(dn string) (rdn, parent string) {
	for i := 0; i < len(dn); i++ {
		switch dn[i] {
		case '\\':
			i++
		case ',':
			return dn[:i], dn[i+1:]
		}
	}
	return dn, ""
}

// rdnValue returns the value of r's naming attribute in dn.
func rdnValue(r *resource, dn string) string {
	p, err := goldap.ParseDN(dn)
	if err != nil || len(p.RDNs) == 0 {
		return ""
	}
	for _, a := range p.RDNs[0].Attributes {
		if strings.EqualFold(a.Type, r.rdnAttr) {
			return a.Value
		}
	}
	return ""
}

func nonEmpty(vals []string) []string {
	out := make([]string, 0, len(vals))
	seen := map[string]bool{}
	for _, v := range vals {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// refValues turns ids into stored values. With mustExist every id must
// name a record of the target, else ErrInvalidReference; a reference with
// unknown_ids = "ignore" leaves such ids out instead.
func (b *Backend) refValues(ctx context.Context, ref *reference, ids []string, mustExist bool) ([]string, error) {
	ids = nonEmpty(ids)
	if len(ids) == 0 {
		return nil, nil
	}
	valueAttr := ""
	if ref.byValue {
		valueAttr = ref.valueAttr
	}
	hits, err := b.lookupIDs(ctx, ref.target, ids, mustExist, valueAttr)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(ids))
	var missing []string
	for _, id := range ids {
		h, ok := hits[id]
		if !ok {
			missing = append(missing, id)
			continue
		}
		if ref.byValue {
			out = append(out, h.value)
		} else {
			out = append(out, h.dn)
		}
	}
	if mustExist && len(missing) > 0 && ref.ignoreUnknown {
		b.log.Warn("ignoring ids that name no entry (unknown_ids = \"ignore\")", "attribute", ref.attr,
			"target", ref.target.typ, "count", len(missing), "first", missing[0])
		return out, nil
	}
	if mustExist && len(missing) > 0 {
		if len(missing) > 3 {
			missing = append(missing[:3], fmt.Sprintf("and %d more", len(missing)-3))
		}
		return nil, &backends.AttrError{Kind: backends.ErrInvalidReference, Attr: ref.attr, Value: missing[0],
			Err: fmt.Errorf("ldap: %s: no %s with id %s", ref.attr, ref.target.typ, strings.Join(missing, ", "))}
	}
	return out, nil
}

// Create adds a new entry named by the RDN attribute below the base DN.
func (b *Backend) Create(ctx context.Context, resourceType string, attrs backends.Attrs) (backends.Record, error) {
	r, err := b.resource(resourceType)
	if err != nil {
		return backends.Record{}, err
	}
	caps, err := b.getCaps(ctx)
	if err != nil {
		return backends.Record{}, err
	}
	name := nonEmpty(attrs.Get(r.rdnAttr))
	if len(name) == 0 {
		return backends.Record{}, backends.Invalid(r.rdnAttr, "", "must have a value", fmt.Errorf("ldap: %s needs a value of %s", r.typ, r.rdnAttr))
	}
	parent, parentDN := r.base, r.baseDN
	if r.disabled != nil {
		if v := nonEmpty(attrs.Get(activeAttr)); len(v) > 0 {
			active, err := parseActive(v[0])
			if err != nil {
				return backends.Record{}, err
			}
			if !active {
				parent, parentDN = r.disabled, r.disabledDN
			}
		}
	}
	dn, err := buildDNUnder(r, parent, parentDN, name[0])
	if err != nil {
		return backends.Record{}, err
	}
	intoDisabled := parent == r.disabled
	if intoDisabled {
		if err := b.ensureDisabled(ctx, r); err != nil {
			return backends.Record{}, err
		}
	}
	if err := b.nameFree(ctx, r, name[0], ""); err != nil {
		return backends.Record{}, err
	}
	attrs, err = r.adCreateAttrs(attrs)
	if err != nil {
		return backends.Record{}, err
	}
	req := goldap.NewAddRequest(dn, nil)
	classes := slices.Clone(r.cfg.ObjectClasses)
	for _, oc := range attrs.Get("objectClass") {
		if oc != "" && !slices.ContainsFunc(classes, func(c string) bool { return strings.EqualFold(c, oc) }) {
			classes = append(classes, oc)
		}
	}
	req.Attribute("objectClass", classes)
	var password *string
	names := make([]string, 0, len(attrs))
	for k := range attrs {
		names = append(names, k)
	}
	sort.Strings(names)
	filled := map[*reference]bool{}
	for _, a := range names {
		vals := nonEmpty(attrs[a])
		switch {
		case strings.EqualFold(a, "objectClass"):
			continue
		case !validAttrName(a):
			return backends.Record{}, fmt.Errorf("%w: %q is not an attribute name", backends.ErrConfig, a)
		case strings.EqualFold(a, b.cfg.IDAttribute):
			continue // assigned by the directory
		case r.isPassword(a):
			if len(vals) > 0 {
				password = &vals[0]
			}
			continue
		case r.isActiveAttr(a):
			continue // where the entry is placed
		}
		if ref := r.ref(a); ref != nil {
			if ref.readOnly {
				continue
			}
			filled[ref] = true
			stored, err := b.refValues(ctx, ref, vals, true)
			if err != nil {
				return backends.Record{}, err
			}
			if len(stored) == 0 && ref.placeholder != "" {
				stored = []string{ref.placeholder}
			}
			if len(stored) > 0 {
				req.Attribute(ref.attr, stored)
			}
			continue
		}
		if len(vals) > 0 {
			req.Attribute(a, vals)
		}
	}
	for _, ref := range r.refs {
		if !filled[ref] && !ref.readOnly && ref.placeholder != "" {
			req.Attribute(ref.attr, []string{ref.placeholder})
		}
	}
	useExtended := password != nil && b.useExtendedPassword(caps)
	if password != nil && !useExtended {
		req.Attribute(r.cfg.PasswordAttribute, []string{r.passwordValue(*password)})
		if r.cfg.MustChangePassword {
			req.Attribute("pwdLastSet", []string{"0"})
		}
	}
	r.count.begin(dn, false)
	err = b.run(ctx, func(c *goldap.Conn) error { return c.Add(req) })
	if err != nil && r.cfg.UserAccountControl && password == nil && needsPassword(err) {
		// The domain does not enable an account without a password: it
		// is created disabled, as AD's own tools do, until one is set.
		b.log.Info("the domain requires a password to enable an account; creating it disabled", "dn", dn)
		for i, a := range req.Attributes {
			if strings.EqualFold(a.Type, uacAttr) {
				req.Attributes[i].Vals = []string{uacCreateValue(false)}
			}
		}
		err = b.run(ctx, func(c *goldap.Conn) error { return c.Add(req) })
	}
	if intoDisabled && goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject) {
		// The container went away since it was checked.
		r.disabledReady.Store(false)
		if err := b.ensureDisabled(ctx, r); err != nil {
			r.count.done(dn, 0)
			return backends.Record{}, err
		}
		err = b.run(ctx, func(c *goldap.Conn) error { return c.Add(req) })
	}
	if err != nil {
		r.count.done(dn, 0)
		return backends.Record{}, b.upnTaken(ctx, r, attrs, r.refused(b.mapErr(ctx, "add", dn, err), name[0]))
	}
	r.count.done(dn, 1)
	r.gen.Add(1)
	if useExtended {
		if err := b.setPassword(ctx, dn, *password); err != nil {
			// Leave nothing half made: the retry creates it again.
			if derr := b.deleteEntry(ctx, r, dn); derr != nil {
				b.log.Error("could not remove the entry whose password was refused", "dn", dn, "error", derr)
			}
			return backends.Record{}, r.refused(err, "")
		}
	}
	p := project(nil)
	var e *goldap.Entry
	err = b.run(ctx, func(c *goldap.Conn) error {
		var err error
		e, err = baseSearch(c, dn, matchAll, b.requestAttrs(r, p))
		return err
	})
	if err != nil {
		return backends.Record{}, b.mapErr(ctx, "read", dn, err)
	}
	if e == nil {
		return backends.Record{}, fmt.Errorf("%w: created entry vanished", backends.ErrNotFound)
	}
	id := b.entryID(e)
	if id == "" {
		return backends.Record{}, fmt.Errorf("%w: the directory gave the new entry no %s", backends.ErrInvalid, b.cfg.IDAttribute)
	}
	b.cache.putDN(r.typ, id, e.DN)
	recs, err := b.toRecords(ctx, r, []*goldap.Entry{e}, p)
	if err != nil || len(recs) == 0 {
		return backends.Record{}, err
	}
	return recs[0], nil
}

func (b *Backend) useExtendedPassword(c *caps) bool {
	switch b.cfg.PasswordModify {
	case "extended":
		return true
	case "attribute":
		return false
	}
	return c.extensions[oidPasswordModify]
}

// setPassword uses the Password Modify extended operation (RFC 3062), so
// the server hashes the password by its own policy.
func (b *Backend) setPassword(ctx context.Context, dn, password string) error {
	err := b.run(ctx, func(c *goldap.Conn) error {
		_, err := c.PasswordModify(goldap.NewPasswordModifyRequest(dn, "", password))
		return err
	})
	return b.mapErr(ctx, "password modify", dn, err)
}

// planModify translates mods; references are resolved here, before any
// write, so an unknown id changes nothing.
func (b *Backend) planModify(ctx context.Context, r *resource, mods []backends.Modification) (*plan, error) {
	pl := &plan{touched: map[string]bool{}}
	for _, m := range mods {
		if !validAttrName(m.Attr) {
			return nil, fmt.Errorf("%w: %q is not an attribute name", backends.ErrConfig, m.Attr)
		}
		if m.Op != backends.ModAdd && m.Op != backends.ModDelete && m.Op != backends.ModReplace {
			return nil, fmt.Errorf("%w: modification %v", backends.ErrInvalid, m.Op)
		}
		vals := nonEmpty(m.Values)
		if err := r.adCheck(m.Attr, vals); err != nil {
			return nil, err
		}
		if strings.EqualFold(m.Attr, "userPrincipalName") {
			for i, v := range vals {
				vals[i] = r.withUPNSuffix(v)
			}
			if r.cfg.UserAccountControl && m.Op == backends.ModReplace && len(vals) > 0 {
				pl.newUPN = vals[0]
			}
		}
		if strings.EqualFold(m.Attr, "sAMAccountName") {
			pl.samGiven = true
		}
		switch {
		case strings.EqualFold(m.Attr, b.cfg.IDAttribute):
			return nil, fmt.Errorf("%w: %s is assigned by the directory", backends.ErrConfig, m.Attr)
		case r.isPassword(m.Attr):
			if m.Op != backends.ModDelete && len(vals) > 0 {
				pw := vals[0]
				pl.password = &pw
			} else if m.Op != backends.ModAdd {
				pl.changes = append(pl.changes, change{op: backends.ModReplace, attr: r.cfg.PasswordAttribute})
			}
			continue
		case r.isActiveAttr(m.Attr):
			// Replacing or adding a value moves the entry; removing the
			// value leaves it where it is.
			if m.Op != backends.ModDelete && len(vals) > 0 {
				active, err := parseActive(vals[0])
				if err != nil {
					return nil, err
				}
				pl.active = &active
				pl.touched[strings.ToLower(activeAttr)] = true
			}
			continue
		case strings.EqualFold(m.Attr, r.rdnAttr):
			if (m.Op == backends.ModReplace && len(vals) == 0) || (m.Op == backends.ModDelete && len(m.Values) == 0) {
				return nil, backends.Invalid(m.Attr, "", "names the entry in the directory and cannot be removed", fmt.Errorf("ldap: %s names the entry", m.Attr))
			}
			if m.Op == backends.ModReplace {
				pl.rdnValues = vals
			}
		}
		pl.touched[strings.ToLower(m.Attr)] = true
		if ref := r.ref(m.Attr); ref != nil {
			if ref.readOnly {
				continue
			}
			stored, err := b.refValues(ctx, ref, vals, m.Op != backends.ModDelete)
			if err != nil {
				return nil, err
			}
			if m.Op != backends.ModReplace && !ref.byValue && len(m.Values) > 0 {
				// A member moved moments ago may still be named by its
				// earlier DN: refint rewrites in the background, and its
				// rewrite of the move back would put a removed member back,
				// or fail on one added again and leave the earlier DN.
				var earlier []string
				for _, id := range vals {
					earlier = append(earlier, b.moves.earlier(ref.target.typ, id)...)
				}
				if len(earlier) > 0 {
					pl.changes = append(pl.changes, change{op: backends.ModDelete, attr: ref.attr, values: earlier, ref: ref, ifPresent: true})
				}
			}
			ch := change{op: m.Op, attr: ref.attr, values: stored, ref: ref}
			switch {
			case m.Op == backends.ModDelete && len(m.Values) == 0:
				ch.op = backends.ModReplace
			case m.Op == backends.ModDelete && len(stored) == 0:
				continue // none of them can be a member
			case m.Op == backends.ModAdd && len(stored) == 0:
				continue
			}
			if ch.op == backends.ModReplace && len(ch.values) == 0 && ref.placeholder != "" {
				ch.values = []string{ref.placeholder}
			}
			pl.changes = append(pl.changes, ch)
			if m.Op == backends.ModAdd && ref.placeholder != "" {
				pl.changes = append(pl.changes, change{op: backends.ModDelete, attr: ref.attr, values: []string{ref.placeholder}, ref: ref, ifPresent: true})
			}
			continue
		}
		switch {
		case m.Op == backends.ModDelete && len(m.Values) == 0:
			// "Delete the attribute" is a replace with nothing, which is not
			// an error when the attribute is absent.
			pl.changes = append(pl.changes, change{op: backends.ModReplace, attr: m.Attr})
		case m.Op != backends.ModReplace && len(vals) == 0:
		default:
			pl.changes = append(pl.changes, change{op: m.Op, attr: m.Attr, values: vals})
		}
	}
	for _, other := range b.res {
		for _, ref := range other.refs {
			if ref.target == r && ref.byValue && ref.inverse == nil && pl.touched[strings.ToLower(ref.valueAttr)] &&
				!slices.Contains(pl.valueAttrsUsed, ref.valueAttr) {
				pl.valueAttrsUsed = append(pl.valueAttrsUsed, ref.valueAttr)
			}
		}
	}
	return pl, nil
}

// Modify applies mods to one entry: password (extended operation), then
// a rename when the RDN attribute changes, then one modify request; a
// failed modify undoes the rename. It returns the entry as Get with attrs
// would: in the modify's response (post-read) where it can, else read
// with one search at the DN the write left it at.
func (b *Backend) Modify(ctx context.Context, resourceType, id string, mods []backends.Modification, attrs []string) (backends.Record, error) {
	r, err := b.resource(resourceType)
	if err != nil {
		return backends.Record{}, err
	}
	if !b.validID(id) {
		return backends.Record{}, fmt.Errorf("%w: %s %q", backends.ErrNotFound, r.typ, id)
	}
	if _, err := b.getCaps(ctx); err != nil {
		return backends.Record{}, err
	}
	pl, err := b.planModify(ctx, r, mods)
	if err != nil {
		return backends.Record{}, err
	}
	rp := b.planRead(r, attrs)
	if rec, done, err := b.modifyAsserted(ctx, r, id, pl, rp); done {
		return rec, err
	}
	if rec, done, err := b.modifyMembers(ctx, r, id, pl, rp); done {
		return rec, err
	}
	pl.readBack = rp.attrs
	var dn string
	for attempt := 0; ; attempt++ {
		dn, err = b.dnOf(ctx, r, id, attempt > 0)
		if err != nil {
			return backends.Record{}, err
		}
		dn, err = b.execute(ctx, r, id, dn, pl)
		if errors.Is(err, errStale) {
			b.forgetStale(r, id, dn)
			if attempt == 0 {
				continue
			}
			return backends.Record{}, fmt.Errorf("%w: %s %q", backends.ErrNotFound, r.typ, id)
		}
		if err != nil {
			return backends.Record{}, err
		}
		break
	}
	r.gen.Add(1)
	if rec, ok, err := b.postReadRecord(ctx, r, rp, pl.readResponse, id, dn); ok || err != nil {
		return rec, err
	}
	rec, err := b.readAfterWrite(ctx, r, rp, id, dn)
	if errors.Is(err, backends.ErrNotFound) {
		// Renamed or moved outside the bridge since the write: find it by id.
		return b.Get(ctx, r.typ, id, attrs)
	}
	return rec, err
}

// modifyAsserted runs a plan that only modifies the entry's own (not
// reference) attributes as one modify request, when the server has the assertion and post-read
// controls: the cached DN is not verified first (the assertion (id=<id>)
// makes the server refuse the modify when the DN names another entry), and
// the entry comes back in the response with the attributes rp asks for,
// references included (their DNs resolve through the id cache, as for a
// search). done is false when the plan or the server needs the general
// path, which also handles a stale cached DN.
func (b *Backend) modifyAsserted(ctx context.Context, r *resource, id string, pl *plan, rp readPlan) (rec backends.Record, done bool, err error) {
	caps, err := b.getCaps(ctx)
	if err != nil || !caps.controls[oidAssertion] || len(pl.changes) == 0 || len(pl.valueAttrsUsed) > 0 || pl.active != nil ||
		(pl.password != nil && b.useExtendedPassword(caps)) {
		return backends.Record{}, false, nil
	}
	for _, ch := range pl.changes {
		if ch.ref != nil {
			// slapd's memberof overlay runs its own updates of the member
			// entries under the request's assertion, which they fail: a
			// reference change takes the general path.
			return backends.Record{}, false, nil
		}
	}
	dn, cached := b.cache.dnOf(r.typ, id)
	if !cached {
		// The search that finds the DN verifies it too.
		if dn, err = b.dnOf(ctx, r, id, true); err != nil {
			return backends.Record{}, true, err
		}
	}
	if len(pl.rdnValues) > 0 && rdnValue(r, dn) != pl.rdnValues[0] {
		return backends.Record{}, false, nil // a rename
	}
	assert, err := b.idAssertion(r, id, pl.stamp)
	if err != nil {
		return backends.Record{}, false, nil
	}
	controls := []goldap.Control{assert}
	readBack := caps.controls[oidPostRead]
	if readBack {
		controls = append(controls, postReadControl(rp.attrs))
	}
	changes := pl.changes
	if pl.password != nil {
		changes = append(slices.Clip(changes), r.passwordChanges(*pl.password)...)
	}
	resp, err := b.modifyWith(ctx, dn, changes, controls)
	if pl.stamp != "" && goldap.IsErrorWithCode(err, goldap.LDAPResultAssertionFailed) {
		// ModifyIf read the DN and the stamp just before: the entry
		// changed since.
		return backends.Record{}, true, fmt.Errorf("ldap: modify %s: the change stamp moved: %w", dn, backends.ErrPrecondition)
	}
	if isStaleErr(err) || goldap.IsErrorWithCode(err, goldap.LDAPResultAssertionFailed) {
		b.forgetStale(r, id, dn)
		return backends.Record{}, false, nil
	}
	if err != nil {
		return backends.Record{}, true, b.mapErr(ctx, "modify", dn, err)
	}
	r.gen.Add(1)
	if rec, ok, err := b.postReadRecord(ctx, r, rp, resp, id, dn); ok || err != nil {
		return rec, true, err
	}
	rec, err = b.readAfterWrite(ctx, r, rp, id, dn)
	if errors.Is(err, backends.ErrNotFound) && cached && resp == nil {
		// Nothing was sent (every change was a no-op) to a DN that was
		// never verified: let the general path find the entry.
		b.cache.forgetDN(r.typ, id, dn)
		return backends.Record{}, false, nil
	}
	return rec, true, err
}

// postReadRecord is the record of id in a modify's response controls
// (the post-read control), as Get with rp would read it; ok is false when
// the response holds none, or another entry, and the caller reads it.
func (b *Backend) postReadRecord(ctx context.Context, r *resource, rp readPlan, resp []goldap.Control, id, dn string) (rec backends.Record, ok bool, err error) {
	e, err := postReadEntry(resp)
	if err != nil {
		b.log.Warn("ldap server sent a post-read entry that does not decode; reading the entry", "dn", dn, "error", err)
		return backends.Record{}, false, nil
	}
	if e == nil || !r.contains(e.DN) {
		return backends.Record{}, false, nil
	}
	b.entriesRead.Add(1)
	recs, err := b.toRecords(ctx, r, []*goldap.Entry{e}, rp.p)
	if err != nil || len(recs) != 1 || recs[0].ID != id {
		return backends.Record{}, false, err
	}
	return recs[0], true, nil
}

// readAfterWrite reads the record at dn, where the write left it, as Get
// with the attributes planned as rp would: one search, which also proves
// that dn still names id (ErrNotFound when it does not).
func (b *Backend) readAfterWrite(ctx context.Context, r *resource, rp readPlan, id, dn string) (backends.Record, error) {
	var e *goldap.Entry
	err := b.run(ctx, func(c *goldap.Conn) error {
		var err error
		e, err = baseSearch(c, dn, b.idFilter(r, id), rp.attrs)
		return err
	})
	if err != nil {
		return backends.Record{}, b.mapErr(ctx, "read", dn, err)
	}
	notFound := fmt.Errorf("%w: %s %q", backends.ErrNotFound, r.typ, id)
	if e == nil || !r.contains(e.DN) {
		return backends.Record{}, notFound
	}
	b.entriesRead.Add(1)
	recs, err := b.toRecords(ctx, r, []*goldap.Entry{e}, rp.p)
	if err != nil {
		return backends.Record{}, err
	}
	if len(recs) == 0 {
		return backends.Record{}, notFound
	}
	return recs[0], nil
}

// execute runs the plan against dn; errStale when dn no longer names id.
// It returns the entry's DN afterwards.
func (b *Backend) execute(ctx context.Context, r *resource, id, dn string, pl *plan) (string, error) {
	if err := b.followSAM(ctx, r, id, pl); err != nil {
		return dn, err
	}
	var oldValues map[string]string
	if len(pl.valueAttrsUsed) > 0 {
		e, err := b.findEntry(ctx, r, id, pl.valueAttrsUsed)
		if err != nil {
			return dn, err
		}
		oldValues = map[string]string{}
		for _, a := range pl.valueAttrsUsed {
			oldValues[strings.ToLower(a)] = e.GetEqualFoldAttributeValue(a)
		}
	}
	newDN := dn
	var undo dnChange
	curRDN, curParent := splitRDN(dn)
	newRDN, newParent, superior := curRDN, curParent, ""
	if len(pl.rdnValues) > 0 && rdnValue(r, dn) != pl.rdnValues[0] {
		want, err := buildDN(r, pl.rdnValues[0])
		if err != nil {
			return dn, err
		}
		newRDN, _ = splitRDN(want)
	}
	if pl.active != nil && r.disabled != nil && *pl.active == r.isDisabled(dn) {
		// Deactivate into the disabled container; reactivate directly
		// below the base DN.
		newParent = r.baseDN
		if !*pl.active {
			newParent = r.disabledDN
		}
		superior = newParent
		if !*pl.active {
			if err := b.ensureDisabled(ctx, r); err != nil {
				return dn, err
			}
		}
	}
	if newRDN != curRDN || superior != "" {
		if r.disabled != nil && newRDN != curRDN {
			if err := b.nameFree(ctx, r, pl.rdnValues[0], dn); err != nil {
				return dn, err
			}
		}
		newDN = newRDN + "," + newParent
		err := b.run(ctx, func(c *goldap.Conn) error {
			return c.ModifyDN(goldap.NewModifyDNRequest(dn, newRDN, true, superior))
		})
		if isStaleErr(err) {
			if superior == r.disabledDN {
				// The entry moved, or the container is gone: the retry
				// looks for both again.
				r.disabledReady.Store(false)
			}
			return dn, errStale
		}
		if err != nil {
			return dn, r.refused(b.mapErr(ctx, "rename", dn, err), rdnValue(r, newDN))
		}
		undo = dnChange{newDN: newDN, rdn: curRDN}
		if superior != "" {
			undo.superior = curParent
		}
		b.cache.forgetDN(r.typ, id, dn)
		b.cache.putDN(r.typ, id, newDN)
		b.moves.note(r.typ, id, dn, newDN)
	}
	pl.changes = dropRDNReplace(r, pl.changes, rdnValue(r, newDN))
	// userAccountControl: a deactivation goes first (nothing else is
	// written for an account that may still be used); an activation goes
	// last, after a password in the same request, since a domain that
	// requires passwords refuses to enable an account without one.
	uacBefore := ""
	if pl.active != nil && r.cfg.UserAccountControl && !*pl.active {
		old, err := b.setAccountEnabled(ctx, r, id, newDN, false)
		if err != nil {
			b.undoRename(ctx, undo)
			return dn, err
		}
		uacBefore = old
	}
	if pl.password != nil {
		caps, _ := b.getCaps(ctx)
		if b.useExtendedPassword(caps) {
			if err := b.setPassword(ctx, newDN, *pl.password); err != nil {
				b.restoreAccountControl(ctx, newDN, uacBefore)
				b.undoRename(ctx, undo)
				return dn, r.refused(err, "")
			}
		} else {
			pl.changes = append(pl.changes, r.passwordChanges(*pl.password)...)
			pl.password = nil
		}
	}
	if len(pl.changes) > 0 {
		var extra []goldap.Control
		last := newDN == dn && oldValues == nil && (pl.active == nil || !r.cfg.UserAccountControl || !*pl.active)
		if caps, _ := b.getCaps(ctx); last && pl.readBack != nil && caps != nil && caps.controls[oidPostRead] && refValueCount(pl.changes) <= memberControlValues {
			// The entry as the modify left it, in its response: no read
			// after the write (dnOf verified the DN just before). Not
			// for many member values: slapd's memberof overlay updates
			// each member with the request's controls, and builds a
			// post-read entry for each (10,000 members: a quarter second
			// of the directory's time), far more than one read after.
			extra = []goldap.Control{postReadControl(pl.readBack)}
		}
		resp, err := b.modifyWith(ctx, newDN, pl.changes, extra)
		pl.readResponse = resp
		if err != nil {
			b.restoreAccountControl(ctx, newDN, uacBefore)
			b.undoRename(ctx, undo)
			if isStaleErr(err) {
				return dn, errStale
			}
			return dn, r.refused(b.mapErr(ctx, "modify", newDN, err), "")
		}
	}
	if pl.active != nil && r.cfg.UserAccountControl && *pl.active {
		if _, err := b.setAccountEnabled(ctx, r, id, newDN, true); err != nil {
			if len(pl.changes) > 0 {
				b.log.Warn("the account was not enabled; the other changes of the request were written", "dn", newDN, "error", err)
			}
			return newDN, err
		}
	}
	if newDN != dn || oldValues != nil {
		if err := b.fixReferences(ctx, r, id, dn, newDN, oldValues); err != nil {
			return newDN, err
		}
	}
	return newDN, nil
}

// refValueCount counts the DN reference values changes add or delete.
func refValueCount(changes []change) int {
	n := 0
	for _, ch := range changes {
		if ch.ref != nil && !ch.ref.byValue {
			n += len(ch.values)
		}
	}
	return n
}

func isStaleErr(err error) bool {
	return goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject)
}

// dnChange undoes a ModifyDN: the entry now at newDN gets back its rdn and,
// when it was moved, its superior.
type dnChange struct {
	newDN, rdn, superior string
}

func (b *Backend) undoRename(ctx context.Context, u dnChange) {
	if u.newDN == "" {
		return
	}
	err := b.run(context.WithoutCancel(ctx), func(c *goldap.Conn) error {
		return c.ModifyDN(goldap.NewModifyDNRequest(u.newDN, u.rdn, true, u.superior))
	})
	if err != nil {
		b.log.Error("could not undo a rename after a failed modify", "dn", u.newDN, "old_rdn", u.rdn, "old_superior", u.superior, "error", err)
	}
}

// refused names the attribute a refusal of a write is about when only
// the writer knows it: a name taken (entryAlreadyExists of an add or a
// rename) is the RDN attribute's value; a password the directory's policy
// refused is the password attribute's.
func (r *resource) refused(err error, name string) error {
	ae, ok := backends.AsAttrError(err)
	switch {
	case !ok && errors.Is(err, backends.ErrAlreadyExists):
		return backends.Conflict(r.rdnAttr, name, err)
	case ok && ae.Attr == "" && strings.HasPrefix(ae.Reason, passwordPolicy):
		ae.Attr = r.cfg.PasswordAttribute
	}
	return err
}

// parseActive reads a value of the virtual active attribute.
func parseActive(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, backends.Invalid(activeAttr, v, "must be true or false", fmt.Errorf("ldap: %s must be TRUE or FALSE, not %q", activeAttr, v))
}

// nameFree checks, for a resource with a disabled container, that no
// entry of r other than the one at except is named value anywhere below
// the base DN: the directory only keeps names unique within one container,
// and an active and a disabled entry of the same name would be two SCIM
// records with one userName.
func (b *Backend) nameFree(ctx context.Context, r *resource, value, except string) error {
	if r.disabled == nil {
		return nil
	}
	filter := fmt.Sprintf("(&%s(%s=%s))", r.filter, r.rdnAttr, goldap.EscapeFilter(value))
	entries, err := b.searchAll(ctx, r.baseDN, r.scope, filter, []string{"1.1"})
	if err != nil {
		return b.mapErr(ctx, "search", r.baseDN, err)
	}
	for _, e := range entries {
		if except == "" || normDN(e.DN) != normDN(except) {
			return backends.Conflict(r.rdnAttr, value, fmt.Errorf("ldap: %s %s=%q exists (%s)", r.typ, r.rdnAttr, value, e.DN))
		}
	}
	return nil
}

// modify sends one modify request with only the changed values. Adding a
// value that is there or deleting one that is not is made harmless with
// the permissive modify control, or, where the server lacks it, by
// checking the current values first. When a delete would empty an
// attribute that has a placeholder, the placeholder is added in the same
// request.
func (b *Backend) modify(ctx context.Context, dn string, changes []change) error {
	_, err := b.modifyWith(ctx, dn, changes, nil)
	return err
}

// modifyWith is modify with extra request controls (assertion, post-read);
// it returns the controls of the response to the request that succeeded,
// none when no request was needed.
func (b *Backend) modifyWith(ctx context.Context, dn string, changes []change, extra []goldap.Control) ([]goldap.Control, error) {
	var response []goldap.Control
	send := func(changes []change, permissive bool) error {
		controls := slices.Clone(extra)
		if permissive {
			controls = append(controls, goldap.NewControlString(oidPermissiveModify, true, ""))
		}
		req := goldap.NewModifyRequest(dn, controls)
		for _, ch := range changes {
			switch ch.op {
			case backends.ModAdd:
				req.Add(ch.attr, ch.values)
			case backends.ModDelete:
				req.Delete(ch.attr, ch.values)
			default:
				req.Replace(ch.attr, ch.values)
			}
		}
		b.modifies.Add(1)
		return b.run(ctx, func(c *goldap.Conn) error {
			res, err := c.ModifyWithResult(req)
			if err == nil && res != nil {
				response = res.Controls
			}
			return err
		})
	}
	attempt := func(changes []change) error {
		caps, err := b.getCaps(ctx)
		if err != nil {
			return err
		}
		if caps.controls[oidPermissiveModify] && b.permissive.Load() >= 0 {
			err := send(changes, true)
			if goldap.IsErrorAnyOf(err, goldap.LDAPResultNoSuchAttribute, goldap.LDAPResultAttributeOrValueExists,
				goldap.LDAPResultEntryAlreadyExists, goldap.LDAPResultUnwillingToPerform) {
				// Active Directory (and Samba) refuse some no-ops even with
				// the control: a single-valued attribute added its own
				// value, a link (member) added again or deleted when absent
				// (Samba: unwillingToPerform "already deleted"). Drop them
				// and resend; a refusal for another reason comes back.
				checked, cerr := b.dropNoops(ctx, dn, changes)
				if cerr != nil {
					return cerr
				}
				if len(checked) == 0 {
					return nil
				}
				return send(checked, true)
			}
			if !goldap.IsErrorWithCode(err, goldap.LDAPResultUnavailableCriticalExtension) {
				return err
			}
			b.log.Info("ldap server refuses the permissive modify control; checking values before writing")
			b.permissive.Store(-1)
		}
		// Optimistic: most changes add new values and delete present ones.
		err = send(changes, false)
		for retry := 0; retry < 5 && goldap.IsErrorAnyOf(err, goldap.LDAPResultNoSuchAttribute, goldap.LDAPResultAttributeOrValueExists); retry++ {
			// Concurrent writers may change the values between the check
			// and the write; check again.
			checked, cerr := b.dropNoops(ctx, dn, changes)
			if cerr != nil {
				return cerr
			}
			if len(checked) == 0 {
				return nil
			}
			err = send(checked, false)
		}
		return err
	}
	// Under the permissive modify control a delete of an absent value is
	// a no-op: no compare first (slapd, 389 DS). Active Directory refuses
	// some of those even with the control, so its deletes are checked.
	caps, err := b.getCaps(ctx)
	if err != nil {
		return nil, err
	}
	if !caps.controls[oidPermissiveModify] || b.permissive.Load() < 0 || caps.ad || b.guidIDs() {
		if changes, err = b.checkPresent(ctx, dn, changes); err != nil {
			return nil, err
		}
	}
	if len(changes) == 0 {
		return nil, nil
	}
	err = attempt(changes)
	if goldap.IsErrorWithCode(err, goldap.LDAPResultObjectClassViolation) {
		var withPH []change
		for _, ch := range changes {
			if ch.ref != nil && ch.ref.placeholder != "" && ch.op == backends.ModDelete && !slices.Contains(ch.values, ch.ref.placeholder) {
				withPH = append(withPH, change{op: backends.ModAdd, attr: ch.attr, values: []string{ch.ref.placeholder}, ref: ch.ref})
			}
		}
		if len(withPH) > 0 {
			err = attempt(append(withPH, changes...))
		}
	}
	if err != nil {
		return nil, err
	}
	return response, nil
}

// checkPresent drops ifPresent deletes of values the entry does not hold,
// with one compare each (a failed modify of a large group costs far more).
func (b *Backend) checkPresent(ctx context.Context, dn string, changes []change) ([]change, error) {
	out := changes[:0:0]
	for _, ch := range changes {
		if !ch.ifPresent {
			out = append(out, ch)
			continue
		}
		var keep []string
		for _, v := range ch.values {
			var present bool
			err := b.run(ctx, func(c *goldap.Conn) error {
				var err error
				present, err = c.Compare(dn, ch.attr, v)
				return err
			})
			if goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchAttribute) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if present {
				keep = append(keep, v)
			}
		}
		if len(keep) > 0 {
			ch.values = keep
			out = append(out, ch)
		}
	}
	return out, nil
}

// dropNoops removes values that are already there (add) or not there
// (delete), for servers without the permissive modify control.
func (b *Backend) dropNoops(ctx context.Context, dn string, changes []change) ([]change, error) {
	var attrs []string
	for _, ch := range changes {
		if ch.op != backends.ModReplace {
			attrs = append(attrs, ch.attr)
		}
	}
	if len(attrs) == 0 {
		return changes, nil
	}
	var e *goldap.Entry
	err := b.run(ctx, func(c *goldap.Conn) error {
		var err error
		e, err = baseSearch(c, dn, matchAll, attrs)
		return err
	})
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, goldap.NewError(goldap.LDAPResultNoSuchObject, errors.New("no such object"))
	}
	// Current values per attribute, updated as the changes apply in order.
	current := map[string]map[string]bool{}
	norm := func(ch change, v string) string {
		if ch.ref != nil && !ch.ref.byValue {
			return normDN(v)
		}
		return strings.ToLower(v)
	}
	var out []change
	for _, ch := range changes {
		k := strings.ToLower(ch.attr)
		if current[k] == nil {
			current[k] = map[string]bool{}
			for _, v := range e.GetEqualFoldAttributeValues(ch.attr) {
				current[k][norm(ch, v)] = true
			}
		}
		cur := current[k]
		if ch.op == backends.ModReplace {
			clear(cur)
			for _, v := range ch.values {
				cur[norm(ch, v)] = true
			}
			out = append(out, ch)
			continue
		}
		var keep []string
		for _, v := range ch.values {
			n := norm(ch, v)
			if cur[n] == (ch.op == backends.ModDelete) {
				keep = append(keep, v)
				cur[n] = ch.op == backends.ModAdd
			}
		}
		if len(keep) > 0 {
			out = append(out, change{op: ch.op, attr: ch.attr, values: keep, ref: ch.ref})
		}
	}
	return out, nil
}

// deleteEntry deletes the entry of r at dn, and tells r's count.
func (b *Backend) deleteEntry(ctx context.Context, r *resource, dn string) error {
	r.count.begin(dn, true)
	err := b.run(ctx, func(c *goldap.Conn) error { return c.Del(goldap.NewDelRequest(dn, nil)) })
	if err != nil {
		r.count.done(dn, 0)
	} else {
		r.count.done(dn, -1)
	}
	return err
}

// Delete removes the entry and every reference to it: references stored
// by name always, DN references when referential_integrity is "bridge".
func (b *Backend) Delete(ctx context.Context, resourceType, id string) error {
	r, err := b.resource(resourceType)
	if err != nil {
		return err
	}
	if !b.validID(id) {
		return fmt.Errorf("%w: %s %q", backends.ErrNotFound, r.typ, id)
	}
	for attempt := 0; ; attempt++ {
		dn, err := b.dnOf(ctx, r, id, attempt > 0)
		if err != nil {
			return err
		}
		if err := b.removeReferences(ctx, r, id, dn); err != nil {
			if errors.Is(err, errStale) && attempt == 0 {
				b.forgetStale(r, id, dn)
				continue
			}
			return err
		}
		err = b.deleteEntry(ctx, r, dn)
		if isStaleErr(err) {
			b.forgetStale(r, id, dn)
			if attempt == 0 {
				continue
			}
			return fmt.Errorf("%w: %s %q", backends.ErrNotFound, r.typ, id)
		}
		if err != nil {
			return b.mapErr(ctx, "delete", dn, err)
		}
		b.cache.forgetDN(r.typ, id, dn)
		b.moves.forget(r.typ, id)
		for _, other := range b.res {
			for _, ref := range other.refs {
				if ref.target == r && ref.byValue {
					b.cache.forgetValue(r.typ, ref.valueAttr, id, "")
				}
			}
		}
		r.gen.Add(1)
		return nil
	}
}

// referrers lists the stored references that point at records of r and
// that the bridge maintains.
func (b *Backend) referrers(r *resource) []*reference {
	var out []*reference
	for _, typ := range sortedTypes(b.res) {
		for _, ref := range b.res[typ].refs {
			if ref.target != r || ref.inverse != nil {
				continue
			}
			if ref.byValue || (b.cfg.ReferentialIntegrity == "bridge" && !ref.readOnly) {
				out = append(out, ref)
			}
		}
	}
	return out
}

func sortedTypes(m map[string]*resource) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// removeReferences deletes the stored values that point at id before the
// entry itself goes, so a failed delete can be retried.
func (b *Backend) removeReferences(ctx context.Context, r *resource, id, dn string) error {
	refs := b.referrers(r)
	if len(refs) == 0 {
		return nil
	}
	var e *goldap.Entry
	var valueAttrs []string
	for _, ref := range refs {
		if ref.byValue {
			valueAttrs = append(valueAttrs, ref.valueAttr)
		}
	}
	if len(valueAttrs) > 0 {
		err := b.run(ctx, func(c *goldap.Conn) error {
			var err error
			e, err = baseSearch(c, dn, b.idFilter(r, id), valueAttrs)
			return err
		})
		if err != nil {
			return b.mapErr(ctx, "read", dn, err)
		}
		if e == nil {
			return errStale
		}
	}
	for _, ref := range refs {
		stored := dn
		if ref.byValue {
			if stored = e.GetEqualFoldAttributeValue(ref.valueAttr); stored == "" {
				continue
			}
		}
		if err := b.replaceReference(ctx, ref, stored, ""); err != nil {
			return err
		}
	}
	return nil
}

// fixReferences rewrites references after a rename (DN changed) or a
// change of a name that references store.
func (b *Backend) fixReferences(ctx context.Context, r *resource, id, oldDN, newDN string, oldValues map[string]string) error {
	var newValues map[string]string
	for _, ref := range b.referrers(r) {
		if !ref.byValue {
			if oldDN != newDN {
				if err := b.replaceReference(ctx, ref, oldDN, newDN); err != nil {
					return err
				}
			}
			continue
		}
		old := oldValues[strings.ToLower(ref.valueAttr)]
		if oldValues == nil {
			continue
		}
		if newValues == nil {
			e, err := b.findEntry(ctx, r, id, []string{ref.valueAttr})
			if err != nil {
				return err
			}
			newValues = map[string]string{}
			for k := range oldValues {
				newValues[k] = e.GetEqualFoldAttributeValue(k)
			}
		}
		nv := newValues[strings.ToLower(ref.valueAttr)]
		if old == "" || old == nv {
			continue
		}
		b.cache.forgetValue(r.typ, ref.valueAttr, id, old)
		if err := b.replaceReference(ctx, ref, old, nv); err != nil {
			return err
		}
	}
	return nil
}

// replaceReference replaces the stored value from by to ("" removes it) in
// every entry of ref's resource that holds it.
func (b *Backend) replaceReference(ctx context.Context, ref *reference, from, to string) error {
	src := ref.src
	filter := fmt.Sprintf("(&%s(%s=%s))", src.filter, ref.attr, goldap.EscapeFilter(from))
	entries, err := b.searchAll(ctx, src.baseDN, src.scope, filter, []string{"1.1"})
	if err != nil {
		return b.mapErr(ctx, "find references", src.baseDN, err)
	}
	for _, e := range entries {
		changes := []change{{op: backends.ModDelete, attr: ref.attr, values: []string{from}, ref: ref}}
		if to != "" {
			changes = append(changes, change{op: backends.ModAdd, attr: ref.attr, values: []string{to}, ref: ref})
		}
		if err := b.modify(ctx, e.DN, changes); err != nil && !goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject) {
			return b.mapErr(ctx, "update reference", e.DN, err)
		}
		src.gen.Add(1)
	}
	return nil
}
