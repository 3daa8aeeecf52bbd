package rest

import (
	"math/big"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/backends"
)

// match evaluates f on a record's attributes in memory. It is the one place
// this package filters; it switches to backends.Match once that exists.
func match(f backends.Filter, a backends.Attrs) bool {
	switch f := f.(type) {
	case nil:
		return true
	case backends.And:
		for _, c := range f.Filters {
			if !match(c, a) {
				return false
			}
		}
		return true
	case backends.Or:
		for _, c := range f.Filters {
			if match(c, a) {
				return true
			}
		}
		return false
	case backends.Not:
		return !match(f.Filter, a)
	case backends.Present:
		for _, v := range a.Get(f.Attr) {
			if v != "" {
				return true
			}
		}
		return false
	case backends.Compare:
		vals := a.Get(f.Attr)
		if f.Op == backends.Ne {
			for _, v := range vals {
				if compare(f, v) {
					return false
				}
			}
			return true
		}
		for _, v := range vals {
			if compare(f, v) {
				return true
			}
		}
		return false
	}
	return false
}

// compare applies f's operator to one value (Ne as Eq).
func compare(f backends.Compare, v string) bool {
	want := f.Value
	switch f.Kind {
	case backends.KindNumber:
		x, ok1 := new(big.Float).SetString(v)
		y, ok2 := new(big.Float).SetString(want)
		if !ok1 || !ok2 {
			return false
		}
		return ordered(f.Op, x.Cmp(y))
	case backends.KindTime:
		x, err1 := time.Parse(time.RFC3339Nano, v)
		y, err2 := time.Parse(time.RFC3339Nano, want)
		if err1 != nil || err2 != nil {
			return false
		}
		return ordered(f.Op, x.Compare(y))
	case backends.KindBool:
		if f.Op != backends.Eq && f.Op != backends.Ne {
			return false
		}
		return strings.EqualFold(v, want)
	}
	if f.IgnoreCase {
		v, want = strings.ToLower(v), strings.ToLower(want)
	}
	switch f.Op {
	case backends.Co:
		return strings.Contains(v, want)
	case backends.Sw:
		return strings.HasPrefix(v, want)
	case backends.Ew:
		return strings.HasSuffix(v, want)
	}
	return ordered(f.Op, strings.Compare(v, want))
}

func ordered(op backends.Op, c int) bool {
	switch op {
	case backends.Eq, backends.Ne:
		return c == 0
	case backends.Gt:
		return c > 0
	case backends.Ge:
		return c >= 0
	case backends.Lt:
		return c < 0
	case backends.Le:
		return c <= 0
	case backends.Co, backends.Sw, backends.Ew:
		return c == 0
	}
	return false
}
