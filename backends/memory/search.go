package memory

import (
	"cmp"
	"context"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/backends"
)

// Search returns one page of the matching records, in creation order
// unless q.SortBy says otherwise.
func (b *Backend) Search(ctx context.Context, resourceType string, q backends.Query) (backends.Page, error) {
	if err := ctx.Err(); err != nil {
		return backends.Page{}, err
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	st, err := b.store(resourceType)
	if err != nil {
		return backends.Page{}, err
	}
	if err := validate(q.Filter); err != nil {
		return backends.Page{}, err
	}
	type match struct {
		id string
		e  *entry
		a  backends.Attrs // attributes including reverse references
	}
	var matches []match
	for id, e := range st.records {
		a := b.view(st, id, e, nil)
		if q.Filter == nil || eval(q.Filter, a) {
			matches = append(matches, match{id, e, a})
		}
	}
	slices.SortFunc(matches, func(x, y match) int {
		if q.SortBy != "" {
			c := compareSortKey(x.a.Get(q.SortBy), y.a.Get(q.SortBy))
			if q.Descending {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return cmp.Compare(x.e.seq, y.e.seq)
	})
	page := backends.Page{Total: len(matches)}
	if q.CountOnly {
		return page, nil
	}
	start := max(q.StartIndex, 1) - 1
	if start >= len(matches) {
		return page, nil
	}
	end := len(matches)
	if q.Count > 0 {
		end = min(end, start+q.Count)
	}
	for _, m := range matches[start:end] {
		page.Records = append(page.Records, backends.Record{ID: m.id, Attrs: b.view(st, m.id, m.e, q.Attrs)})
	}
	return page, nil
}

// compareSortKey orders by the first value, case-insensitively; records
// without a value sort last.
func compareSortKey(a, b []string) int {
	switch {
	case len(a) == 0 && len(b) == 0:
		return 0
	case len(a) == 0:
		return 1
	case len(b) == 0:
		return -1
	}
	return cmp.Compare(strings.ToLower(a[0]), strings.ToLower(b[0]))
}

// validate rejects filters that are malformed or whose value does not
// parse for its Kind.
func validate(f backends.Filter) error {
	switch f := f.(type) {
	case nil:
		return nil
	case backends.And:
		for _, c := range f.Filters {
			if err := validate(c); err != nil {
				return err
			}
		}
	case backends.Or:
		for _, c := range f.Filters {
			if err := validate(c); err != nil {
				return err
			}
		}
	case backends.Not:
		return validate(f.Filter)
	case backends.Present:
	case backends.Compare:
		switch f.Op {
		case backends.Eq, backends.Ne, backends.Co, backends.Sw, backends.Ew, backends.Gt, backends.Ge, backends.Lt, backends.Le:
		default:
			return fmt.Errorf("memory: filter operator %q: %w", f.Op, backends.ErrUnsupported)
		}
		if f.Kind != backends.KindString && f.Op != backends.Co && f.Op != backends.Sw && f.Op != backends.Ew {
			if _, ok := parse(f.Kind, f.Value); !ok {
				return fmt.Errorf("memory: filter value %q for %s is not a valid %s: %w", f.Value, f.Attr, kindName(f.Kind), backends.ErrInvalid)
			}
		}
	default:
		return fmt.Errorf("memory: filter %T: %w", f, backends.ErrUnsupported)
	}
	return nil
}

// eval reports whether a record with attrs matches f.
func eval(f backends.Filter, attrs backends.Attrs) bool {
	switch f := f.(type) {
	case backends.And:
		for _, c := range f.Filters {
			if !eval(c, attrs) {
				return false
			}
		}
		return true
	case backends.Or:
		for _, c := range f.Filters {
			if eval(c, attrs) {
				return true
			}
		}
		return false
	case backends.Not:
		return !eval(f.Filter, attrs)
	case backends.Present:
		return slices.ContainsFunc(attrs.Get(f.Attr), func(v string) bool { return v != "" })
	case backends.Compare:
		vals := attrs.Get(f.Attr)
		if f.Op == backends.Ne {
			eq := f
			eq.Op = backends.Eq
			return !slices.ContainsFunc(vals, func(v string) bool { return compare(eq, v) })
		}
		return slices.ContainsFunc(vals, func(v string) bool { return compare(f, v) })
	}
	return false
}

// compare evaluates one Compare (not Ne) against one stored value.
func compare(f backends.Compare, v string) bool {
	want := f.Value
	switch f.Op {
	case backends.Co, backends.Sw, backends.Ew:
		if f.IgnoreCase {
			v, want = strings.ToLower(v), strings.ToLower(want)
		}
		switch f.Op {
		case backends.Co:
			return strings.Contains(v, want)
		case backends.Sw:
			return strings.HasPrefix(v, want)
		default:
			return strings.HasSuffix(v, want)
		}
	}
	var c int
	if f.Kind == backends.KindString {
		if f.IgnoreCase {
			v, want = strings.ToLower(v), strings.ToLower(want)
		}
		c = strings.Compare(v, want)
	} else {
		x, ok := parse(f.Kind, v)
		if !ok {
			return false // a stored value of the wrong type matches nothing
		}
		y, _ := parse(f.Kind, want)
		c = x.cmp(y)
	}
	switch f.Op {
	case backends.Eq:
		return c == 0
	case backends.Gt:
		return c > 0
	case backends.Ge:
		return c >= 0
	case backends.Lt:
		return c < 0
	case backends.Le:
		return c <= 0
	}
	return false
}

// typed is a parsed number, time or bool.
type typed struct {
	num *big.Rat
	t   time.Time
	b   int // 0 false, 1 true
	k   backends.ValueKind
}

func (x typed) cmp(y typed) int {
	switch x.k {
	case backends.KindNumber:
		return x.num.Cmp(y.num)
	case backends.KindTime:
		return x.t.Compare(y.t)
	}
	return cmp.Compare(x.b, y.b)
}

func parse(k backends.ValueKind, s string) (typed, bool) {
	s = strings.TrimSpace(s)
	switch k {
	case backends.KindNumber:
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			return typed{}, false
		}
		return typed{num: r, k: k}, true
	case backends.KindTime:
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return typed{}, false
		}
		return typed{t: t, k: k}, true
	case backends.KindBool:
		switch strings.ToLower(s) {
		case "true":
			return typed{b: 1, k: k}, true
		case "false":
			return typed{b: 0, k: k}, true
		}
	}
	return typed{}, false
}

func kindName(k backends.ValueKind) string {
	switch k {
	case backends.KindNumber:
		return "number"
	case backends.KindTime:
		return "time"
	case backends.KindBool:
		return "boolean"
	}
	return "string"
}
