package ldap

import (
	"context"
	"fmt"
	"sort"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/backends"
)

// stampAttr is the change stamp ModifyIf asserts: OpenLDAP sets it on
// every write to an entry, with a unique value per change.
const stampAttr = "entryCSN"

// ModifyIf is Modify when the entry still holds the values expect names.
//
// It reads the entry's change stamp (entryCSN), then the values expect
// names, and compares them. When they match and the server has the
// assertion control (RFC 4528), a write that is one modify request of the
// entry's own attributes (no rename, move, password extended operation or
// member list change) carries the assertion (entryCSN=<stamp read>): the
// directory refuses it if any write reached the entry since the read, and
// ModifyIf returns backends.ErrPrecondition. Without the stamp (389 DS,
// which lacks the control; a server without entryCSN), a write that only
// replaces the entry's own attributes is one modify request that deletes
// the values read of each replaced attribute and adds the new ones
// (modifySwapped): the directory refuses it if one of those values is
// gone. Otherwise (the writes named above, where slapd's memberof overlay
// would run its own updates under the assertion and fail them) the
// comparison with values read just before the write is the check: a write
// of another bridge in that one round trip is not detected.
func (b *Backend) ModifyIf(ctx context.Context, resourceType, id string, expect backends.Attrs, mods []backends.Modification, attrs []string) (backends.Record, error) {
	r, err := b.resource(resourceType)
	if err != nil {
		return backends.Record{}, err
	}
	caps, err := b.getCaps(ctx)
	if err != nil {
		return backends.Record{}, err
	}
	stamp := ""
	if caps.controls[oidAssertion] {
		e, err := b.findEntry(ctx, r, id, []string{stampAttr})
		if err != nil {
			return backends.Record{}, err
		}
		stamp = e.GetEqualFoldAttributeValue(stampAttr)
	}
	names := make([]string, 0, len(expect))
	for n := range expect {
		names = append(names, n)
	}
	sort.Strings(names)
	cur, err := b.Get(ctx, resourceType, id, names)
	if err != nil {
		return backends.Record{}, err
	}
	for _, n := range names {
		if !backends.SameValues(cur.Attrs.Get(n), expect[n]) {
			return backends.Record{}, fmt.Errorf("ldap: modify %s %q: %s changed: %w", r.typ, id, n, backends.ErrPrecondition)
		}
	}
	if !b.validID(id) {
		return backends.Record{}, fmt.Errorf("%w: %s %q", backends.ErrNotFound, r.typ, id)
	}
	pl, err := b.planModify(ctx, r, mods)
	if err != nil {
		return backends.Record{}, err
	}
	if stamp == "" {
		if rec, done, err := b.modifySwapped(ctx, r, id, expect, pl, b.planRead(r, attrs)); done {
			return rec, err
		}
		return b.Modify(ctx, resourceType, id, mods, attrs)
	}
	pl.stamp = "(" + stampAttr + "=" + goldap.EscapeFilter(stamp) + ")"
	if rec, done, err := b.modifyAsserted(ctx, r, id, pl, b.planRead(r, attrs)); done {
		return rec, err
	}
	// Not one asserted modify request: the comparison above is the check.
	return b.Modify(ctx, resourceType, id, mods, attrs)
}

// modifySwapped runs a plan of replacements of the entry's own attributes
// as one modify request that deletes the values expect gives for each
// replaced attribute that had values and adds the new ones: where the
// server has no assertion control (389 DS), a modify is still atomic, and
// a value that another write removed since the read makes it fail with
// noSuchAttribute, which is backends.ErrPrecondition. done is false when
// the plan needs the general path (anything but replacements of own
// attributes, a rename, a password) or the directory cannot delete one of
// the values by value (no equality rule); nothing was written then.
func (b *Backend) modifySwapped(ctx context.Context, r *resource, id string, expect backends.Attrs, pl *plan, rp readPlan) (backends.Record, bool, error) {
	if len(pl.changes) == 0 || len(pl.valueAttrsUsed) > 0 || pl.active != nil || pl.password != nil || pl.newUPN != "" {
		return backends.Record{}, false, nil
	}
	for _, ch := range pl.changes {
		if ch.ref != nil || ch.op != backends.ModReplace || ch.ifPresent {
			return backends.Record{}, false, nil
		}
	}
	dn, err := b.dnOf(ctx, r, id, true) // no assertion guards a cached DN
	if err != nil {
		return backends.Record{}, true, err
	}
	if len(pl.rdnValues) > 0 && rdnValue(r, dn) != pl.rdnValues[0] {
		return backends.Record{}, false, nil // a rename
	}
	req := goldap.NewModifyRequest(dn, nil)
	for _, ch := range pl.changes {
		old := expect.Get(ch.attr)
		if len(old) == 0 {
			req.Replace(ch.attr, ch.values)
			continue
		}
		if backends.SameValues(old, ch.values) {
			continue
		}
		req.Delete(ch.attr, old)
		if len(ch.values) > 0 {
			req.Add(ch.attr, ch.values)
		}
	}
	b.modifies.Add(1)
	err = b.run(ctx, func(c *goldap.Conn) error { return c.Modify(req) })
	switch {
	case goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchAttribute):
		return backends.Record{}, true, fmt.Errorf("ldap: modify %s: a value read is gone: %w", dn, backends.ErrPrecondition)
	case isStaleErr(err), goldap.IsErrorWithCode(err, goldap.LDAPResultInappropriateMatching):
		return backends.Record{}, false, nil
	case err != nil:
		return backends.Record{}, true, r.refused(b.mapErr(ctx, "modify", dn, err), "")
	}
	r.gen.Add(1)
	rec, err := b.readAfterWrite(ctx, r, rp, id, dn)
	return rec, true, err
}
