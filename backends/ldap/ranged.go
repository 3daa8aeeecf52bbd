package ldap

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"
)

// Ranged retrieval (Active Directory): a server that limits how many
// values of one attribute a read returns (AD's MaxValRange, 1500 by
// default) answers member;range=0-1499 instead of member, and the client
// asks for member;range=1500-* (then the next range) until a range ends
// in "*". With value_range set the backend asks for its references in
// ranges of that size itself; either way it follows every range, so a
// group of any size reads back completely.

// rangedAttrs rewrites the stored references in a request's attribute list
// as their first range, when value_range is set.
func (b *Backend) rangedAttrs(r *resource, attrs []string) []string {
	n := b.cfg.ValueRange
	if n <= 0 {
		return attrs
	}
	for i, a := range attrs {
		if ref := r.ref(a); ref != nil && ref.inverse == nil && !strings.Contains(a, ";") {
			attrs[i] = fmt.Sprintf("%s;range=0-%d", ref.attr, n-1)
		}
	}
	return attrs
}

// parseRange splits "member;range=0-1499" into member, 0 and "1499" (or
// "*"); ok is false for a name without a range option.
func parseRange(name string) (base string, low int, high string, ok bool) {
	i := strings.Index(strings.ToLower(name), ";range=")
	if i < 0 {
		return "", 0, "", false
	}
	lo, hi, found := strings.Cut(name[i+len(";range="):], "-")
	l, err := strconv.Atoi(lo)
	if !found || err != nil || l < 0 {
		return "", 0, "", false
	}
	return name[:i], l, hi, true
}

// completeRanges replaces every ranged attribute of entries by the whole
// attribute, reading the remaining ranges with base searches. A ranged
// attribute next to the same attribute whole (a server that returned both
// for "*" and the ranged name) is dropped.
func (b *Backend) completeRanges(ctx context.Context, entries []*goldap.Entry) error {
	for _, e := range entries {
		var keep []*goldap.EntryAttribute
		for _, a := range e.Attributes {
			base, _, high, ok := parseRange(a.Name)
			if !ok {
				keep = append(keep, a)
				continue
			}
			if whole := e.GetEqualFoldAttributeValues(base); len(whole) > 0 {
				continue
			}
			whole := &goldap.EntryAttribute{Name: base, Values: a.Values, ByteValues: a.ByteValues}
			for high != "*" {
				h, err := strconv.Atoi(high)
				if err != nil {
					return fmt.Errorf("ldap: %s of %s: bad range %q", a.Name, e.DN, high)
				}
				ask := fmt.Sprintf("%s;range=%d-*", base, h+1)
				if n := b.cfg.ValueRange; n > 0 {
					ask = fmt.Sprintf("%s;range=%d-%d", base, h+1, h+n)
				}
				var next *goldap.Entry
				err = b.run(ctx, func(c *goldap.Conn) error {
					var err error
					next, err = baseSearch(c, e.DN, matchAll, []string{ask})
					return err
				})
				if err != nil {
					return b.mapErr(ctx, "read range", e.DN, err)
				}
				high = "*"
				if next == nil {
					break
				}
				for _, na := range next.Attributes {
					nb, low, nh, ok := parseRange(na.Name)
					if !ok || !strings.EqualFold(nb, base) || low != h+1 {
						continue
					}
					whole.Values = append(whole.Values, na.Values...)
					whole.ByteValues = append(whole.ByteValues, na.ByteValues...)
					high = nh
				}
			}
			keep = append(keep, whole)
		}
		e.Attributes = keep
	}
	return nil
}
