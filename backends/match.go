package backends

import (
	"cmp"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"
)

// Match reports whether a record with attrs matches f. It is the one
// definition of what a Filter means; a backend that evaluates filters in
// memory (the memory backend, the LDAP backend where the server cannot say
// what SCIM means) calls it, and a backend that translates filters (SQL,
// LDAP) must select what it selects. Call ValidateFilter first: Match
// assumes a filter it accepts.
//
// The semantics:
//
//   - A nil filter matches every record; And with no operands matches,
//     Or with none does not.
//   - Attribute names are found as Attrs.Get finds them (exact spelling
//     first, then case-insensitively).
//   - Present matches when the attribute has at least one non-empty value.
//   - Compare matches when at least one value of the attribute compares to
//     Value as Op says; Ne matches when no value is Eq to Value, and so
//     also when the attribute has no value.
//   - Co, Sw and Ew compare the text (substring, prefix, suffix) whatever
//     the Kind; IgnoreCase compares strings.ToLower of both sides.
//   - Eq, Gt, Ge, Lt and Le compare by Kind:
//     KindString compares the bytes (strings.Compare), after
//     strings.ToLower of both sides when IgnoreCase is set.
//     KindNumber compares exact values (math/big.Rat, never floating
//     point) of decimal numbers: an optional sign, digits with an optional
//     fraction (".5" and "5." are numbers), an optional exponent (e or E,
//     optional sign, digits); no hexadecimal, no fractions like "1/2", no
//     Inf or NaN, no digit separators.
//     KindTime compares instants written in RFC 3339 (the layout
//     time.RFC3339Nano, which takes any number of fraction digits and
//     needs a zone: Z or ±hh:mm); a backend whose store writes times in
//     another form converts them to RFC 3339 before calling Match.
//     KindBool compares "true" and "false", in any case, false before true.
//   - Numbers, times and booleans are read after removing leading and
//     trailing white space (strings.TrimSpace); text is compared as it is.
//   - A stored value that is not of the comparison's Kind compares to
//     nothing: it never matches Eq or an ordering, and so never keeps Ne
//     from matching. A Value that is not of its Kind (ValidateFilter
//     refuses it) matches no value.
func Match(f Filter, attrs Attrs) bool {
	return MatchFunc(f, attrs, CompareValue)
}

// MatchFunc is Match with the comparison of one stored value decided by
// cmp instead of CompareValue. cmp is called for Compare nodes with every
// Op but Ne, whose meaning Match derives from Eq (cmp sees it as Eq). It
// serves a reference evaluator for a store that documents a different
// comparison (ASCII-only case folding, floating-point numbers) and keeps
// the rest of the semantics.
func MatchFunc(f Filter, attrs Attrs, cmp func(c Compare, stored string) bool) bool {
	switch f := f.(type) {
	case nil:
		return true
	case And:
		for _, c := range f.Filters {
			if !MatchFunc(c, attrs, cmp) {
				return false
			}
		}
		return true
	case *And:
		return f != nil && MatchFunc(*f, attrs, cmp)
	case Or:
		for _, c := range f.Filters {
			if MatchFunc(c, attrs, cmp) {
				return true
			}
		}
		return false
	case *Or:
		return f != nil && MatchFunc(*f, attrs, cmp)
	case Not:
		return !MatchFunc(f.Filter, attrs, cmp)
	case *Not:
		return f != nil && MatchFunc(*f, attrs, cmp)
	case Present:
		return HasValue(attrs.Get(f.Attr))
	case *Present:
		return f != nil && MatchFunc(*f, attrs, cmp)
	case Compare:
		return matchValues(f, attrs.Get(f.Attr), cmp)
	case *Compare:
		return f != nil && MatchFunc(*f, attrs, cmp)
	}
	return false
}

// MatchValues reports whether the values of c.Attr, vals, satisfy c, as
// Match decides it: for a backend that evaluates one comparison on values
// it has read itself.
func MatchValues(c Compare, vals []string) bool {
	return matchValues(c, vals, CompareValue)
}

func matchValues(c Compare, vals []string, cmp func(Compare, string) bool) bool {
	if c.Op == Ne {
		eq := c
		eq.Op = Eq
		return !slices.ContainsFunc(vals, func(v string) bool { return cmp(eq, v) })
	}
	return slices.ContainsFunc(vals, func(v string) bool { return cmp(c, v) })
}

// HasValue reports whether vals holds a non-empty value, which is what
// Present tests.
func HasValue(vals []string) bool {
	return slices.ContainsFunc(vals, func(v string) bool { return v != "" })
}

// CompareValue reports whether one stored value v compares to c.Value as
// c.Op says (Ne is not for one value: it reports false), with the
// semantics of Match.
func CompareValue(c Compare, v string) bool {
	want := c.Value
	switch c.Op {
	case Co, Sw, Ew:
		if c.IgnoreCase {
			v, want = strings.ToLower(v), strings.ToLower(want)
		}
		switch c.Op {
		case Co:
			return strings.Contains(v, want)
		case Sw:
			return strings.HasPrefix(v, want)
		}
		return strings.HasSuffix(v, want)
	case Eq, Gt, Ge, Lt, Le:
	default:
		return false
	}
	var n int
	if c.Kind == KindString {
		if c.IgnoreCase {
			v, want = strings.ToLower(v), strings.ToLower(want)
		}
		n = strings.Compare(v, want)
	} else {
		x, ok1 := ParseValue(c.Kind, v)
		y, ok2 := ParseValue(c.Kind, want)
		if !ok1 || !ok2 {
			return false
		}
		n = x.Compare(y)
	}
	switch c.Op {
	case Eq:
		return n == 0
	case Gt:
		return n > 0
	case Ge:
		return n >= 0
	case Lt:
		return n < 0
	}
	return n <= 0 // Le
}

// Value is a number, time or boolean read as Match reads it.
type Value struct {
	Kind ValueKind
	Num  *big.Rat  // KindNumber
	Time time.Time // KindTime
	Bool bool      // KindBool
}

// Compare orders x and y, which must be of the same Kind.
func (x Value) Compare(y Value) int {
	switch x.Kind {
	case KindNumber:
		return x.Num.Cmp(y.Num)
	case KindTime:
		return x.Time.Compare(y.Time)
	}
	return cmp.Compare(b2i(x.Bool), b2i(y.Bool))
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ParseValue reads s as a value of kind k (KindNumber, KindTime or
// KindBool) as Match does; ok is false when s is not one, and always for
// KindString.
func ParseValue(k ValueKind, s string) (Value, bool) {
	s = strings.TrimSpace(s)
	switch k {
	case KindNumber:
		if !IsDecimal(s) {
			return Value{}, false
		}
		r, ok := new(big.Rat).SetString(s)
		if !ok { // an exponent too large for math/big
			return Value{}, false
		}
		return Value{Kind: k, Num: r}, true
	case KindTime:
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return Value{}, false
		}
		return Value{Kind: k, Time: t}, true
	case KindBool:
		switch {
		case strings.EqualFold(s, "true"):
			return Value{Kind: k, Bool: true}, true
		case strings.EqualFold(s, "false"):
			return Value{Kind: k}, true
		}
	}
	return Value{}, false
}

// IsDecimal reports whether s (without surrounding white space) is a
// decimal number as Match reads them: [+-] digits [. digits] or
// [+-] . digits, then optionally [eE] [+-] digits.
func IsDecimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := func() int {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - j
	}
	n := digits()
	if i < len(s) && s[i] == '.' {
		i++
		n += digits()
	}
	if n == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// ValidateFilter checks a filter before it is evaluated or translated: it
// wraps ErrUnsupported for a node or operator that is not one of this
// package's (and for nil operands inside the tree, ErrInvalid), and
// ErrInvalid for a Value that is not of its Kind under Eq, Ne, Gt, Ge, Lt
// or Le (see Match for what each Kind reads; Co, Sw and Ew compare text
// and take any Value). A nil filter is valid: it selects everything.
// Backends add their own refusals (an attribute they do not have, an
// ordering they cannot make).
func ValidateFilter(f Filter) error {
	if f == nil {
		return nil
	}
	return validate(f)
}

func validate(f Filter) error {
	switch f := f.(type) {
	case nil:
		return fmt.Errorf("filter with a missing operand: %w", ErrInvalid)
	case And:
		return validateAll(f.Filters)
	case Or:
		return validateAll(f.Filters)
	case Not:
		return validate(f.Filter)
	case Present:
		return nil
	case Compare:
		return validateCompare(f)
	case *And:
		if f != nil {
			return validate(*f)
		}
	case *Or:
		if f != nil {
			return validate(*f)
		}
	case *Not:
		if f != nil {
			return validate(*f)
		}
	case *Present:
		if f != nil {
			return nil
		}
	case *Compare:
		if f != nil {
			return validateCompare(*f)
		}
	default:
		return fmt.Errorf("filter %T: %w", f, ErrUnsupported)
	}
	return fmt.Errorf("filter with a missing operand: %w", ErrInvalid)
}

func validateAll(fs []Filter) error {
	for _, c := range fs {
		if err := validate(c); err != nil {
			return err
		}
	}
	return nil
}

func validateCompare(c Compare) error {
	switch c.Op {
	case Co, Sw, Ew:
		return nil
	case Eq, Ne, Gt, Ge, Lt, Le:
	default:
		return fmt.Errorf("filter operator %q: %w", c.Op, ErrUnsupported)
	}
	if c.Kind == KindString {
		return nil
	}
	if _, ok := ParseValue(c.Kind, c.Value); !ok {
		return fmt.Errorf("filter value %q for %s is not a valid %s: %w", c.Value, c.Attr, c.Kind, ErrInvalid)
	}
	return nil
}

// String names the kind: "string", "number", "time", "boolean".
func (k ValueKind) String() string {
	switch k {
	case KindNumber:
		return "number"
	case KindTime:
		return "time"
	case KindBool:
		return "boolean"
	}
	return "string"
}
