package ldap

import (
	"context"
	"errors"
	"slices"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/backends"
)

// The general path sends three requests for a membership change of a
// cached group: a search that verifies the cached DN, a compare for the
// placeholder, the modify. modifyMembers sends one modify that carries
//
//   - an assertion (RFC 4528) that holds for the group only when it is the
//     record id and holds the placeholder exactly as the modify expects
//     (absent: the modify does not delete it; present: the modify deletes
//     it), or for the entries named by the change's values: slapd's
//     memberof overlay runs its internal updates of those member entries
//     under the request's assertion, and (entryDN=<member>) lets them
//     through. The cached group DN is never one of those values (checked
//     before sending), so the assertion holds at the cached DN only for
//     the record id;
//   - the post-read control, so the answer comes in the response.
//
// An assertion that fails (the DN is stale, or the placeholder is not as
// guessed) writes nothing; the placeholder guess is flipped once, then the
// general path (verify, compare, modify) runs.

// memberControlValues is the most DN values a membership change may carry
// to be sent with the assertion (here) or post-read (execute) control:
// slapd's memberof overlay repeats the request's controls for every member
// entry it updates, the assertion's terms (one per value) and post-read
// entries included.
const memberControlValues = 16

// modifyMembers runs pl as one asserted modify when it changes DN
// references (and plain attributes) only. done is false when the plan, the
// server or the entry needs the general path.
func (b *Backend) modifyMembers(ctx context.Context, r *resource, id string, pl *plan, rp readPlan) (rec backends.Record, done bool, err error) {
	caps, err := b.getCaps(ctx)
	if err != nil || caps.ad || b.guidIDs() || !caps.controls[oidAssertion] || !caps.controls[oidPostRead] ||
		len(pl.changes) == 0 || pl.password != nil || pl.active != nil || len(pl.valueAttrsUsed) > 0 ||
		pl.stamp != "" || pl.newUPN != "" || pl.samGiven {
		return backends.Record{}, false, nil
	}
	dn, cached := b.cache.dnOf(r.typ, id)
	if !cached {
		return backends.Record{}, false, nil
	}
	if len(pl.rdnValues) > 0 && rdnValue(r, dn) != pl.rdnValues[0] {
		return backends.Record{}, false, nil // a rename
	}
	changes := dropRDNReplace(r, pl.changes, rdnValue(r, dn))
	// The values the memberof overlay may update (the placeholders too:
	// added back when a delete empties the group), and the one
	// placeholder a member add deletes when present.
	var values []string
	var phChange = -1
	refs := 0
	for i, ch := range changes {
		if ch.ref == nil {
			continue
		}
		if ch.ref.byValue || ch.ref.inverse != nil || ch.ref.readOnly || ch.op == backends.ModReplace {
			// A replace makes the memberof overlay update every earlier
			// member too, entries the assertion does not name.
			return backends.Record{}, false, nil
		}
		refs++
		if ch.ifPresent {
			if phChange >= 0 || ch.op != backends.ModDelete || len(ch.values) != 1 || ch.values[0] != ch.ref.placeholder {
				return backends.Record{}, false, nil // an earlier DN of a moved member: general path
			}
			phChange = i
		}
		values = append(values, ch.values...)
		if ch.ref.placeholder != "" {
			values = append(values, ch.ref.placeholder)
		}
	}
	if refs == 0 {
		return backends.Record{}, false, nil // modifyAsserted's
	}
	seen := map[string]bool{}
	var terms []string
	for _, v := range values {
		n := normDN(v)
		if seen[n] {
			continue
		}
		seen[n] = true
		if n == normDN(dn) {
			return backends.Record{}, false, nil
		}
		terms = append(terms, "(entryDN="+goldap.EscapeFilter(v)+")")
	}
	if len(terms) > memberControlValues {
		return backends.Record{}, false, nil
	}
	// Guess the placeholder absent (a group with members), then present.
	guesses := []bool{false}
	if phChange >= 0 {
		guesses = append(guesses, true)
	}
	for _, present := range guesses {
		send := changes
		group := b.idFilter(r, id)
		if phChange >= 0 {
			ph := changes[phChange]
			send = slices.Delete(slices.Clone(changes), phChange, phChange+1)
			term := "(" + ph.attr + "=" + goldap.EscapeFilter(ph.values[0]) + ")"
			if present {
				send = append(send, change{op: backends.ModDelete, attr: ph.attr, values: ph.values, ref: ph.ref})
				group = "(&" + group + term + ")"
			} else {
				group = "(&" + group + "(!" + term + "))"
			}
		}
		assert, err := assertionControl("(|" + group + strings.Join(terms, "") + ")")
		if err != nil {
			return backends.Record{}, false, nil
		}
		resp, err := b.modifyWith(ctx, dn, send, []goldap.Control{assert, postReadControl(rp.attrs)})
		if goldap.IsErrorWithCode(err, goldap.LDAPResultAssertionFailed) {
			continue
		}
		if isStaleErr(err) {
			b.forgetStale(r, id, dn)
			return backends.Record{}, false, nil
		}
		if err != nil {
			return backends.Record{}, true, r.refused(b.mapErr(ctx, "modify", dn, err), "")
		}
		r.gen.Add(1)
		if rec, ok, err := b.postReadRecord(ctx, r, rp, resp, id, dn); ok || err != nil {
			return rec, true, err
		}
		rec, err = b.readAfterWrite(ctx, r, rp, id, dn)
		if errors.Is(err, backends.ErrNotFound) {
			// Renamed since (nothing was sent when every change was a
			// no-op): the general path finds it and writes again, which
			// changes nothing a second time.
			b.forgetStale(r, id, dn)
			return backends.Record{}, false, nil
		}
		return rec, true, err
	}
	return backends.Record{}, false, nil
}
