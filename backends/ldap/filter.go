package ldap

import (
	"context"
	"fmt"
	"math/big"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/backends"
)

// compiled is a backends.Filter translated for one resource type.
//
// ldap selects a superset of the matching entries; when exact is true it
// selects exactly them. Where LDAP cannot say what SCIM means (a
// case-sensitive substring on a case-insensitive attribute, ordering on an
// attribute without an ordering rule, numbers stored as text) the filter is
// widened and eval, which implements the backends.Filter semantics on the
// entry's values, decides. Every value is escaped with EscapeFilter and
// every attribute name checked, so no input can widen the search beyond
// the resource's own filter and base DN.
type compiled struct {
	ldap  string
	exact bool
	eval  func(e *goldap.Entry) bool
}

const (
	matchAll  = "(objectClass=*)"
	matchNone = "(!(objectClass=*))"
)

type compiler struct {
	ctx   context.Context
	b     *Backend
	r     *resource
	sch   schema
	attrs map[string]bool // attributes eval reads
	ad    bool            // Active Directory: no extensible rules but its own
}

func (b *Backend) compileFilter(ctx context.Context, r *resource, f backends.Filter) (compiled, []string, error) {
	caps, err := b.getCaps(ctx)
	if err != nil {
		return compiled{}, nil, err
	}
	cp := &compiler{ctx: ctx, b: b, r: r, sch: caps.schema, attrs: map[string]bool{}, ad: caps.ad}
	if f == nil {
		return compiled{ldap: matchAll, exact: true, eval: func(*goldap.Entry) bool { return true }}, nil, nil
	}
	c, err := cp.compile(f)
	if err != nil {
		return compiled{}, nil, err
	}
	var attrs []string
	for a := range cp.attrs {
		attrs = append(attrs, a)
	}
	return c, attrs, nil
}

func (cp *compiler) compile(f backends.Filter) (compiled, error) {
	switch f := f.(type) {
	case backends.And:
		return cp.junction("&", f.Filters, matchAll, func(bs []bool) bool {
			for _, b := range bs {
				if !b {
					return false
				}
			}
			return true
		})
	case *backends.And:
		return cp.compile(*f)
	case backends.Or:
		return cp.junction("|", f.Filters, matchNone, func(bs []bool) bool {
			for _, b := range bs {
				if b {
					return true
				}
			}
			return false
		})
	case *backends.Or:
		return cp.compile(*f)
	case backends.Not:
		if f.Filter == nil {
			return compiled{}, fmt.Errorf("%w: ldap filter: not without an operand", backends.ErrInvalid)
		}
		// Negations go down to the comparisons (De Morgan): 389 DS 2.3
		// answers a negated OR wrongly, e.g. nothing for
		// (!(|(uid:caseExactMatch:=a)(uid:caseExactMatch:=b)))
		// (389ds/389-ds-base#6307), and a negated junction with an inexact
		// part would otherwise widen to everything.
		if fs, ok := orFilters(f.Filter); ok {
			return cp.compile(backends.And{Filters: negateAll(fs)})
		}
		if fs, ok := andFilters(f.Filter); ok {
			return cp.compile(backends.Or{Filters: negateAll(fs)})
		}
		c, err := cp.compile(f.Filter)
		if err != nil {
			return compiled{}, err
		}
		out := compiled{eval: func(e *goldap.Entry) bool { return !c.eval(e) }}
		if c.exact {
			out.ldap, out.exact = "(!"+c.ldap+")", true
		} else {
			out.ldap = matchAll // the complement of a superset is not a superset
		}
		return out, nil
	case *backends.Not:
		return cp.compile(*f)
	case backends.Present:
		return cp.present(f.Attr)
	case *backends.Present:
		return cp.present(f.Attr)
	case backends.Compare:
		return cp.compare(f)
	case *backends.Compare:
		return cp.compare(*f)
	}
	return compiled{}, fmt.Errorf("%w: ldap filter node %T", backends.ErrUnsupported, f)
}

func orFilters(f backends.Filter) ([]backends.Filter, bool) {
	switch f := f.(type) {
	case backends.Or:
		return f.Filters, true
	case *backends.Or:
		if f != nil {
			return f.Filters, true
		}
	}
	return nil, false
}

func andFilters(f backends.Filter) ([]backends.Filter, bool) {
	switch f := f.(type) {
	case backends.And:
		return f.Filters, true
	case *backends.And:
		if f != nil {
			return f.Filters, true
		}
	}
	return nil, false
}

func negateAll(fs []backends.Filter) []backends.Filter {
	out := make([]backends.Filter, len(fs))
	for i, f := range fs {
		out[i] = backends.Not{Filter: f}
	}
	return out
}

func (cp *compiler) junction(op string, fs []backends.Filter, empty string, combine func([]bool) bool) (compiled, error) {
	if len(fs) == 0 {
		v := empty == matchAll
		return compiled{ldap: empty, exact: true, eval: func(*goldap.Entry) bool { return v }}, nil
	}
	parts := make([]compiled, len(fs))
	exact := true
	var b strings.Builder
	b.WriteString("(" + op)
	for i, f := range fs {
		c, err := cp.compile(f)
		if err != nil {
			return compiled{}, err
		}
		parts[i] = c
		exact = exact && c.exact
		b.WriteString(c.ldap)
	}
	b.WriteString(")")
	return compiled{ldap: b.String(), exact: exact, eval: func(e *goldap.Entry) bool {
		bs := make([]bool, len(parts))
		for i, p := range parts {
			bs[i] = p.eval(e)
		}
		return combine(bs)
	}}, nil
}

func (cp *compiler) checkAttr(attr string) error {
	if !validAttrName(attr) {
		return fmt.Errorf("%w: ldap filter: %q is not an attribute name", backends.ErrInvalid, attr)
	}
	if cp.r.isPassword(attr) {
		return fmt.Errorf("%w: ldap filter on the password attribute", backends.ErrUnsupported)
	}
	cp.attrs[strings.ToLower(attr)] = true
	return nil
}

func (cp *compiler) present(attr string) (compiled, error) {
	if cp.r.isActiveAttr(attr) {
		if cp.r.cfg.UserAccountControl {
			cp.attrs[strings.ToLower(uacAttr)] = true
			return compiled{ldap: "(" + uacAttr + "=*)", exact: true, eval: func(e *goldap.Entry) bool {
				_, ok := uacActive(e)
				return ok
			}}, nil
		}
		return compiled{ldap: matchAll, exact: true, eval: func(*goldap.Entry) bool { return true }}, nil
	}
	if err := cp.checkAttr(attr); err != nil {
		return compiled{}, err
	}
	if ref := cp.r.ref(attr); ref != nil {
		if ref.inverse != nil {
			return compiled{}, fmt.Errorf("%w: ldap filter on the computed reference %s", backends.ErrUnsupported, attr)
		}
		if ref.placeholder != "" {
			ph := normDN(ref.placeholder)
			return compiled{
				ldap:  fmt.Sprintf("(&(%s=*)(!(%s=%s)))", attr, attr, goldap.EscapeFilter(ref.placeholder)),
				exact: true,
				eval: func(e *goldap.Entry) bool {
					for _, v := range e.GetEqualFoldAttributeValues(attr) {
						if normDN(v) != ph {
							return true
						}
					}
					return false
				},
			}, nil
		}
	}
	return compiled{ldap: "(" + attr + "=*)", exact: true, eval: func(e *goldap.Entry) bool {
		return backends.HasValue(e.GetEqualFoldAttributeValues(attr))
	}}, nil
}

func negate(c compiled) compiled {
	out := compiled{eval: func(e *goldap.Entry) bool { return !c.eval(e) }, ldap: matchAll}
	if c.exact {
		out.ldap, out.exact = "(!"+c.ldap+")", true
	}
	return out
}

func (cp *compiler) compare(c backends.Compare) (compiled, error) {
	if cp.r.isActiveAttr(c.Attr) && cp.r.cfg.UserAccountControl {
		return cp.uacCompare(c)
	}
	if cp.r.isActiveAttr(c.Attr) {
		// Where the entry lies is no attribute a filter can test: every
		// entry is a candidate and its DN decides.
		r := cp.r
		return compiled{ldap: matchAll, eval: func(e *goldap.Entry) bool {
			return evalCompare(c, []string{r.activeValue(e.DN)})
		}}, nil
	}
	if err := cp.checkAttr(c.Attr); err != nil {
		return compiled{}, err
	}
	if ref := cp.r.ref(c.Attr); ref != nil {
		return cp.refCompare(ref, c)
	}
	if strings.EqualFold(c.Attr, cp.b.cfg.IDAttribute) && (c.Op == backends.Eq || c.Op == backends.Ne) {
		eq := compiled{ldap: matchNone, exact: true, eval: func(*goldap.Entry) bool { return false }}
		if cp.b.validID(c.Value) {
			v := c.Value
			b := cp.b
			eq = compiled{ldap: fmt.Sprintf("(%s=%s)", c.Attr, b.idValue(v)), exact: true, eval: func(e *goldap.Entry) bool {
				return strings.EqualFold(b.entryID(e), v)
			}}
		}
		if c.Op == backends.Ne {
			return negate(eq), nil
		}
		return eq, nil
	}
	at := cp.sch.lookup(c.Attr)
	out := compiled{ldap: "(" + c.Attr + "=*)", eval: func(e *goldap.Entry) bool {
		return evalCompare(c, e.GetEqualFoldAttributeValues(c.Attr))
	}}
	if cp.sch != nil && at == nil {
		// Unknown to the server: LDAP would evaluate it as Undefined, which
		// is wrong under not/ne; decide in memory.
		out.ldap = matchAll
		return out, nil
	}
	switch c.Op {
	case backends.Eq:
		out.ldap, out.exact = cp.equality(at, c)
	case backends.Ne:
		eq := c
		eq.Op = backends.Eq
		l, exact := cp.equality(at, eq)
		if exact {
			out.ldap, out.exact = "(!"+l+")", true
		} else {
			out.ldap = matchAll
		}
	case backends.Co, backends.Sw, backends.Ew:
		out.ldap, out.exact = cp.substring(at, c)
	case backends.Gt, backends.Ge, backends.Lt, backends.Le:
		out.ldap, out.exact = cp.ordering(at, c)
	default:
		return compiled{}, fmt.Errorf("%w: ldap filter operator %q", backends.ErrUnsupported, c.Op)
	}
	if strings.IndexByte(c.Value, 0) >= 0 {
		// 389 DS ends an assertion value at a NUL byte ("plain\x00" matches
		// "plain") or refuses the filter: select by presence, decide here.
		out.ldap, out.exact = "("+c.Attr+"=*)", false
		if c.Op == backends.Ne {
			out.ldap = matchAll
		}
	}
	return out, nil
}

// equality returns the LDAP equality assertion for c (Op eq) and whether
// it is exact; when not, it is a superset.
func (cp *compiler) equality(at *attrType, c backends.Compare) (string, bool) {
	a, v := c.Attr, c.Value
	presence := "(" + a + "=*)"
	switch {
	case c.Kind == backends.KindBool && at != nil && at.syntax == syntaxBoolean:
		return fmt.Sprintf("(%s=%s)", a, goldap.EscapeFilter(strings.ToUpper(v))), true
	case c.Kind == backends.KindTime && at != nil && at.syntax == syntaxGenTime:
		gt, ok := toGeneralizedTime(v)
		if !ok {
			return presence, false
		}
		return fmt.Sprintf("(%s=%s)", a, gt), true
	case c.Kind == backends.KindNumber:
		if at != nil && strings.EqualFold(at.equality, "integerMatch") {
			if _, ok := new(big.Int).SetString(v, 10); ok {
				return fmt.Sprintf("(%s=%s)", a, goldap.EscapeFilter(v)), true
			}
		}
		return presence, false // "042" equals 42 but not as text
	case c.Kind == backends.KindTime:
		return presence, false
	}
	ic := c.IgnoreCase || c.Kind == backends.KindBool
	if cp.ad && !ic && at.equalityCase() == ruleIgnore {
		// AD has no case-exact extensible rule: a superset, decided here.
		return fmt.Sprintf("(%s=%s)", a, goldap.EscapeFilter(v)), false
	}
	switch rc := at.equalityCase(); {
	case rc == ruleOther, ic && rc == ruleIgnore, !ic && rc == ruleExact:
		return fmt.Sprintf("(%s=%s)", a, goldap.EscapeFilter(v)), true
	default:
		// Extensible match with the rule of the other case behaviour.
		return fmt.Sprintf("(%s:%s:=%s)", a, at.extensibleRule(!ic), goldap.EscapeFilter(v)), true
	}
}

func (cp *compiler) substring(at *attrType, c backends.Compare) (string, bool) {
	a, v := c.Attr, goldap.EscapeFilter(c.Value)
	presence := "(" + a + "=*)"
	if c.Value == "" {
		return presence, true
	}
	if c.Kind == backends.KindNumber || c.Kind == backends.KindTime {
		return presence, false
	}
	rc, ok := at.substrCase()
	if !ok {
		return presence, false
	}
	var pattern string
	switch c.Op {
	case backends.Co:
		pattern = "*" + v + "*"
	case backends.Sw:
		pattern = v + "*"
	default:
		pattern = "*" + v
	}
	l := "(" + a + "=" + pattern + ")"
	switch {
	case rc == ruleOther, c.IgnoreCase && rc == ruleIgnore, !c.IgnoreCase && rc == ruleExact:
		return l, true
	case !c.IgnoreCase && rc == ruleIgnore:
		return l, false // case-insensitive match is a superset
	}
	return presence, false
}

func (cp *compiler) ordering(at *attrType, c backends.Compare) (string, bool) {
	a := c.Attr
	presence := "(" + a + "=*)"
	if at == nil || at.ordering == "" {
		return presence, false
	}
	v := c.Value
	rule := strings.ToLower(at.ordering)
	switch c.Kind {
	case backends.KindNumber:
		if rule != "integerorderingmatch" {
			return presence, false
		}
		if _, ok := new(big.Int).SetString(v, 10); !ok {
			return presence, false
		}
	case backends.KindTime:
		if rule != "generalizedtimeorderingmatch" {
			return presence, false
		}
		gt, ok := toGeneralizedTime(v)
		if !ok {
			return presence, false
		}
		v = gt
	case backends.KindString:
		want := "caseexactorderingmatch"
		if c.IgnoreCase {
			want = "caseignoreorderingmatch"
		}
		if rule != want {
			return presence, false
		}
	default:
		return presence, false
	}
	v = goldap.EscapeFilter(v)
	switch c.Op {
	case backends.Ge:
		return fmt.Sprintf("(%s>=%s)", a, v), true
	case backends.Le:
		return fmt.Sprintf("(%s<=%s)", a, v), true
	case backends.Gt:
		if at.single {
			return fmt.Sprintf("(&(%s>=%s)(!(%s=%s)))", a, v, a, v), true
		}
		return fmt.Sprintf("(%s>=%s)", a, v), false
	default: // Lt
		if at.single {
			return fmt.Sprintf("(&(%s<=%s)(!(%s=%s)))", a, v, a, v), true
		}
		return fmt.Sprintf("(%s<=%s)", a, v), false
	}
}

// refCompare compiles eq / ne on a reference: the id is resolved to the
// stored form (DN or name) first; an unknown id matches nothing.
func (cp *compiler) refCompare(ref *reference, c backends.Compare) (compiled, error) {
	if ref.inverse != nil {
		return compiled{}, fmt.Errorf("%w: ldap filter on the computed reference %s", backends.ErrUnsupported, c.Attr)
	}
	if c.Op != backends.Eq && c.Op != backends.Ne {
		return compiled{}, fmt.Errorf("%w: ldap filter %s on reference %s", backends.ErrUnsupported, c.Op, c.Attr)
	}
	eq := compiled{ldap: matchNone, exact: true, eval: func(*goldap.Entry) bool { return false }}
	hits, err := cp.b.lookupIDs(cp.ctx, ref.target, []string{c.Value}, true, ref.valueAttr)
	if err != nil {
		return compiled{}, err
	}
	if h, ok := hits[c.Value]; ok {
		stored := h.dn
		norm := normDN
		if ref.byValue {
			stored, norm = h.value, strings.ToLower
		}
		want := norm(stored)
		eq = compiled{ldap: fmt.Sprintf("(%s=%s)", c.Attr, goldap.EscapeFilter(stored)), exact: true, eval: func(e *goldap.Entry) bool {
			for _, v := range e.GetEqualFoldAttributeValues(c.Attr) {
				if norm(v) == want {
					return true
				}
			}
			return false
		}}
	}
	if c.Op == backends.Ne {
		return negate(eq), nil
	}
	return eq, nil
}

// toGeneralizedTime converts RFC 3339 to LDAP GeneralizedTime (UTC); a
// value already in GeneralizedTime passes through.
func toGeneralizedTime(v string) (string, bool) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC().Format("20060102150405Z"), true
	}
	if _, ok := parseGeneralizedTime(v); ok {
		return v, true
	}
	return "", false
}

// asRFC3339 rewrites a GeneralizedTime value as RFC 3339, the form
// backends.Match reads; other values are returned as they are.
func asRFC3339(v string) string {
	if t, ok := NativeTime(v); ok {
		return t.Format(time.RFC3339Nano)
	}
	return v
}

// evalCompare implements backends.Compare on the values of one attribute
// as backends.MatchValues defines it, the directory's timestamps
// (GeneralizedTime) read as the times they are.
func evalCompare(c backends.Compare, vals []string) bool {
	if c.Kind == backends.KindTime {
		c.Value = asRFC3339(c.Value)
		times := make([]string, len(vals))
		for i, v := range vals {
			times[i] = asRFC3339(v)
		}
		vals = times
	}
	return backends.MatchValues(c, vals)
}

// orderValues compares a and b as kind says, text case-insensitively; ok
// is false when a value is not of that kind.
func orderValues(kind backends.ValueKind, a, b string) (int, bool) {
	switch kind {
	case backends.KindString:
		return strings.Compare(strings.ToLower(a), strings.ToLower(b)), true
	case backends.KindTime:
		a, b = asRFC3339(a), asRFC3339(b)
	}
	x, ok1 := backends.ParseValue(kind, a)
	y, ok2 := backends.ParseValue(kind, b)
	if !ok1 || !ok2 {
		return 0, false
	}
	return x.Compare(y), true
}
