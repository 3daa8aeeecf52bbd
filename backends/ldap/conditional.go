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
// ModifyIf returns backends.ErrPrecondition. Otherwise (389 DS, which
// lacks the control; a server without entryCSN; the writes named above,
// where slapd's memberof overlay would run its own updates under the
// assertion and fail them) the comparison with values read just before the
// write is the check: a write of another bridge in that one round trip is
// not detected.
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
	if stamp == "" {
		return b.Modify(ctx, resourceType, id, mods, attrs)
	}
	if !b.validID(id) {
		return backends.Record{}, fmt.Errorf("%w: %s %q", backends.ErrNotFound, r.typ, id)
	}
	pl, err := b.planModify(ctx, r, mods)
	if err != nil {
		return backends.Record{}, err
	}
	pl.stamp = "(" + stampAttr + "=" + goldap.EscapeFilter(stamp) + ")"
	if rec, done, err := b.modifyAsserted(ctx, r, id, pl, b.planRead(r, attrs)); done {
		return rec, err
	}
	// Not one asserted modify request: the comparison above is the check.
	return b.Modify(ctx, resourceType, id, mods, attrs)
}
