package ldap

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	ber "github.com/go-asn1-ber/asn1-ber"
	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/backends"
)

// fuzzSchema is what an OpenLDAP server announces for the attributes the
// fuzz resources use, plus a case-exact attribute with an ordering rule, a
// multi-valued one with caseIgnoreOrderingMatch and a boolean.
var fuzzSchema = []string{
	"( 2.5.4.0 NAME 'objectClass' EQUALITY objectIdentifierMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.38 )",
	"( 2.5.4.41 NAME 'name' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{32768} )",
	"( 2.5.4.3 NAME ( 'cn' 'commonName' ) SUP name )",
	"( 2.5.4.4 NAME ( 'sn' 'surname' ) SUP name )",
	"( 0.9.2342.19200300.100.1.1 NAME ( 'uid' 'userid' ) EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{256} )",
	"( 0.9.2342.19200300.100.1.3 NAME ( 'mail' 'rfc822Mailbox' ) EQUALITY caseIgnoreIA5Match SUBSTR caseIgnoreIA5SubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.26{256} )",
	"( 2.16.840.1.113730.3.1.3 NAME 'employeeNumber' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )",
	"( 1.3.6.1.1.1.1.0 NAME 'uidNumber' EQUALITY integerMatch ORDERING integerOrderingMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )",
	"( 2.5.18.1 NAME 'createTimestamp' EQUALITY generalizedTimeMatch ORDERING generalizedTimeOrderingMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.24 SINGLE-VALUE NO-USER-MODIFICATION USAGE directoryOperation )",
	"( 1.3.6.1.4.1.42.2.27.8.1.17 NAME 'pwdAccountLockedTime' EQUALITY generalizedTimeMatch ORDERING generalizedTimeOrderingMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.24 SINGLE-VALUE USAGE directoryOperation )",
	"( 2.5.4.35 NAME 'userPassword' EQUALITY octetStringMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.40{128} )",
	"( 2.5.4.49 NAME 'distinguishedName' EQUALITY distinguishedNameMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 )",
	"( 2.5.4.31 NAME 'member' SUP distinguishedName )",
	"( 0.9.2342.19200300.100.1.10 NAME 'manager' EQUALITY distinguishedNameMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 )",
	"( 1.2.840.113556.1.2.102 NAME 'memberOf' EQUALITY distinguishedNameMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 NO-USER-MODIFICATION USAGE dSAOperation )",
	"( 1.3.6.1.1.1.1.12 NAME 'memberUid' EQUALITY caseExactIA5Match SUBSTR caseExactIA5SubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 )",
	"( 1.3.6.1.1.16.4 NAME 'entryUUID' EQUALITY UUIDMatch ORDERING UUIDOrderingMatch SYNTAX 1.3.6.1.1.16.1 SINGLE-VALUE NO-USER-MODIFICATION USAGE directoryOperation )",
	"( 1.3.6.1.4.1.99999.1.1 NAME 'exactCode' EQUALITY caseExactMatch ORDERING caseExactOrderingMatch SUBSTR caseExactSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )",
	"( 1.3.6.1.4.1.99999.1.2 NAME 'rankName' EQUALITY caseIgnoreMatch ORDERING caseIgnoreOrderingMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )",
	"( 1.3.6.1.4.1.99999.1.3 NAME 'isActive' EQUALITY booleanMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.7 SINGLE-VALUE )",
	"( 1.3.6.1.4.1.99999.1.4 NAME 'badgeIA5' EQUALITY caseExactIA5Match SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 )",
}

// fuzzAttrs are the attribute names the tree generator picks from, per
// resource type; the fuzzed name is added as one more choice. They cover
// every branch of the compiler: references (stored, by name, computed,
// with a placeholder), the id and password attributes, each matching-rule
// family, an attribute the server does not know, an OID and an option.
var fuzzAttrs = map[string][]string{
	backends.User: {"uid", "cn", "mail", "employeeNumber", "uidNumber", "createTimestamp", "pwdAccountLockedTime",
		"exactCode", "rankName", "isActive", "badgeIA5", "entryUUID", "userPassword", "manager", "memberOf", "groups",
		"unknownAttr", "2.5.4.3", "cn;lang-en", "UID"},
	backends.Group: {"cn", "member", "memberUid", "entryUUID", "exactCode", "rankName", "unknownAttr", "objectClass"},
}

const fuzzPlaceholder = "cn=nobody,dc=example,dc=org"

var (
	fuzzOnce     sync.Once
	fuzzBackends [2]*Backend // with the server's schema, and without one
	fuzzErr      error
)

// fuzzBackend returns backends configured in-process: the only server URL
// refuses connections, and the capabilities a live server would announce
// are stored directly, so no directory is needed. Only an eq/ne on a
// reference with a well-formed id would ask the directory (to resolve the
// id); it then fails fast with ErrUnavailable.
func fuzzBackend(tb testing.TB, withSchema bool) *Backend {
	fuzzOnce.Do(func() {
		for i := range fuzzBackends {
			cfg := &Config{
				URLs:       []string{"ldap://127.0.0.1:1"},
				Timeout:    "2s",
				MaxBackoff: "1m", // after the first refusal, fail without dialing
				Resources: []*ResourceConfig{
					{Type: backends.User, BaseDN: "ou=people,dc=example,dc=org", RDNAttribute: "uid",
						ObjectClasses: []string{"inetOrgPerson"}, PasswordAttribute: "userPassword",
						References: []*ReferenceConfig{
							{Attribute: "manager", Target: backends.User},
							{Attribute: "memberOf", Target: backends.Group, ReadOnly: true},
							{Attribute: "groups", Target: backends.Group, InverseOf: "member"},
						}},
					{Type: backends.Group, BaseDN: "ou=groups,dc=example,dc=org", RDNAttribute: "cn",
						ObjectClasses: []string{"groupOfNames", "top"}, Filter: "(|(objectClass=groupOfNames)(objectClass=posixGroup))",
						References: []*ReferenceConfig{
							{Attribute: "member", Target: backends.User, EmptyPlaceholder: fuzzPlaceholder},
							{Attribute: "memberUid", Target: backends.User, ValueKind: "rdn"},
						}},
				},
			}
			b, err := New(context.Background(), cfg, nil)
			if err != nil {
				fuzzErr = err
				return
			}
			c := &caps{controls: map[string]bool{}, extensions: map[string]bool{}}
			if i == 0 {
				c.schema = parseSchema(fuzzSchema)
			}
			b.caps.Store(c)
			fuzzBackends[i] = b
		}
	})
	if fuzzErr != nil {
		tb.Fatalf("fuzz backend: %v", fuzzErr)
	}
	if withSchema {
		return fuzzBackends[0]
	}
	return fuzzBackends[1]
}

var fuzzOps = []backends.Op{backends.Eq, backends.Ne, backends.Co, backends.Sw, backends.Ew,
	backends.Gt, backends.Ge, backends.Lt, backends.Le, "regex"}

// fuzzPayloads are the hostile values every seed shape is tried with.
var fuzzPayloads = []string{"*", ")(uid=*", `\00`, ",cn=admin", "' OR '1'='1", "%", "_", "!", `\`, "\x00", "(", "É"}

// fuzzDict are values leaves may take besides the two fuzzed ones: the
// characters filters and DNs care about and values of each kind.
var fuzzDict = []string{"*", "(", ")", `\`, "\x00", ")(uid=*", `\2a`, ",cn=admin", "", "a", "A", "É", "é",
	"0f8fad5b-d9cb-469f-a165-70867728950e", "2021-02-03T04:05:06Z", "2021-02-03T04:05:06.5+01:00", "20210203040506Z",
	"42", "-7", "042", "true", "FALSE", fuzzPlaceholder}

// treeGen decodes bytes into a small filter tree. Running out of bytes
// reads zeros, which close every open junction, so every input is a tree.
type treeGen struct {
	shape    []byte
	pos      int
	nodes    int
	attrs    []string
	values   []string
	pointers bool // also produce *And, *Compare, ... (the LDAP compiler takes both)
	leaves   []backends.Filter
}

func (g *treeGen) next() byte {
	if g.pos >= len(g.shape) {
		return 0
	}
	g.pos++
	return g.shape[g.pos-1]
}

func (g *treeGen) node(depth int) backends.Filter {
	g.nodes++
	c := g.next()
	if depth >= 4 || g.nodes > 16 {
		c = 3 + c%5 // leaves only
	}
	ptr := g.pointers && c&0x80 != 0
	switch c % 8 {
	case 0, 1:
		fs := []backends.Filter{}
		for n := int(g.next() % 4); n > 0; n-- {
			fs = append(fs, g.node(depth+1))
		}
		switch {
		case c%8 == 0 && ptr:
			return &backends.And{Filters: fs}
		case c%8 == 0:
			return backends.And{Filters: fs}
		case ptr:
			return &backends.Or{Filters: fs}
		}
		return backends.Or{Filters: fs}
	case 2:
		if ptr {
			return &backends.Not{Filter: g.node(depth + 1)}
		}
		return backends.Not{Filter: g.node(depth + 1)}
	case 3:
		p := backends.Present{Attr: g.attrs[int(g.next())%len(g.attrs)]}
		g.leaves = append(g.leaves, p)
		if ptr {
			return &p
		}
		return p
	}
	cmp := backends.Compare{Attr: g.attrs[int(g.next())%len(g.attrs)], Op: fuzzOps[int(g.next())%len(fuzzOps)]}
	flags := g.next()
	cmp.IgnoreCase = flags&1 != 0
	cmp.Kind = backends.ValueKind(flags >> 1 & 3)
	switch flags >> 3 & 3 {
	case 0, 1:
		cmp.Value = g.values[flags>>3&1]
	case 2:
		cmp.Value = fuzzDict[int(g.next())%len(fuzzDict)]
	default:
		cmp.Value = g.values[0] + fuzzDict[int(g.next())%len(fuzzDict)] + g.values[1]
	}
	g.leaves = append(g.leaves, cmp)
	if ptr {
		return &cmp
	}
	return cmp
}

// FuzzFilterCompile compiles generated filter trees with the LDAP filter
// compiler and checks that no input can escape its place in the filter:
//   - no panic, and every refusal wraps ErrInvalid or ErrUnsupported
//     (ErrUnavailable only where an id had to be resolved by the directory);
//   - an attribute name that is not an LDAP attribute description is
//     refused, never spliced;
//   - the result parses with go-ldap as exactly one filter, and ANDed with
//     the resource's filter (as Search sends it) keeps that filter intact;
//   - every attribute in the result is one the tree named (or objectClass),
//     every assertion value is a value of the tree (or its stored form:
//     upper-cased boolean, GeneralizedTime, the placeholder DN), and each
//     substring assertion is one component, so no '*' or ')' got through.
func FuzzFilterCompile(f *testing.F) {
	seeds := []struct {
		shape        []byte
		a, b, name   string
		group, plain bool
	}{
		{[]byte{4, 0, 0, 0}, "jdoe", "x", "uid", false, false},
		{[]byte{0, 3, 4, 1, 2, 1, 4, 2, 3, 8, 3, 3}, "a*b", ")(uid=*", "cn", false, false},
		{[]byte{1, 2, 4, 0, 1, 0, 2, 4, 13, 1, 1}, `\00`, ",cn=admin", "mail", false, false},
		{[]byte{2, 4, 7, 5, 2}, "42", "2021-02-03T04:05:06Z", "x", false, false},
		{[]byte{4, 4, 6, 2, 4, 5, 6, 4}, "2021-02-03T04:05:06+01:00", "true", "", false, false},
		{[]byte{4, 7, 0, 0, 4, 8, 8, 0}, "ABC", "abc", "rankName", false, false},
		{[]byte{4, 1, 0, 0, 4, 1, 1, 8}, "0f8fad5b-d9cb-469f-a165-70867728950e", "nope", "", true, false},
		{[]byte{3, 1}, "", "", "member", true, false},
		{[]byte{4, 20, 0, 0}, "x", "y", "uid=*)(objectClass", false, false},
		{[]byte{4, 20, 2, 1}, "*", "", "cn:caseExactMatch:", false, true},
		{[]byte{0x82, 0x84, 9, 0, 0}, "' OR '1'='1", "%_!", "", false, true},
	}
	for _, s := range seeds {
		f.Add(s.shape, s.a, s.b, s.name, s.group, s.plain)
	}
	// Every payload through every operator on each matching-rule family
	// (uid caseIgnore, exactCode caseExact, mail IA5, member DN, the id),
	// with and without IgnoreCase, and under NOT.
	leaf := func(attr, op, flags byte) []byte { return []byte{4, attr, op, flags} }
	or := func(kids ...[]byte) []byte { return slices.Concat(append([][]byte{{1, byte(len(kids))}}, kids...)...) }
	not := func(kid []byte) []byte { return append([]byte{2}, kid...) }
	for _, p := range fuzzPayloads {
		for _, shape := range [][]byte{
			or(leaf(0, 2, 1), leaf(7, 3, 0), leaf(2, 4, 1)),
			or(leaf(7, 2, 1), not(leaf(0, 3, 0)), leaf(8, 8, 1)),
			or(leaf(0, 0, 0), leaf(7, 1, 1), leaf(11, 0, 0)),
			or(leaf(4, 5, 2), leaf(5, 6, 6), leaf(9, 0, 4)),
		} {
			f.Add(shape, p, "", "cn", false, false)
		}
		f.Add(or(leaf(0, 0, 0), leaf(1, 1, 0), leaf(3, 2, 1)), p, "", "cn", true, false)
		f.Add(or(leaf(0, 2, 0), leaf(20, 0, 0)), p, "", p, false, true)
	}
	f.Fuzz(func(t *testing.T, shape []byte, a, b, name string, group, plain bool) {
		be := fuzzBackend(t, !plain)
		typ := backends.User
		if group {
			typ = backends.Group
		}
		r := be.res[typ]
		g := &treeGen{shape: shape, attrs: append(fuzzAttrs[typ][:len(fuzzAttrs[typ]):len(fuzzAttrs[typ])], name),
			values: []string{a, b}, pointers: true}
		filter := g.node(0)
		checkLDAPFilter(t, be, r, filter, g.leaves)
	})
}

func checkLDAPFilter(t *testing.T, be *Backend, r *resource, filter backends.Filter, leaves []backends.Filter) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cf, evalAttrs, err := be.compileFilter(ctx, r, filter)

	// What the tree may legitimately put into the filter.
	attrOK := map[string]bool{"objectclass": true}
	valueOK := map[string]bool{fuzzPlaceholder: true}
	badName, resolves := "", false
	for _, l := range leaves {
		var attr string
		switch l := l.(type) {
		case backends.Present:
			attr = l.Attr
		case backends.Compare:
			attr = l.Attr
			valueOK[l.Value] = true
			valueOK[strings.ToUpper(l.Value)] = true
			if gt, ok := toGeneralizedTime(l.Value); ok {
				valueOK[gt] = true
			}
			if ref := r.ref(l.Attr); ref != nil && ref.inverse == nil && (l.Op == backends.Eq || l.Op == backends.Ne) && be.validID(l.Value) {
				resolves = true
			}
		}
		attrOK[strings.ToLower(attr)] = true
		if !validAttrName(attr) {
			badName = attr
		}
	}

	if err != nil {
		switch {
		case errors.Is(err, backends.ErrInvalid), errors.Is(err, backends.ErrUnsupported):
		case resolves && errors.Is(err, backends.ErrUnavailable):
		default:
			t.Fatalf("%#v: refused with %v, which wraps neither ErrInvalid nor ErrUnsupported", filter, err)
		}
		return
	}
	if badName != "" {
		t.Fatalf("%#v: attribute name %q accepted: %s", filter, badName, cf.ldap)
	}
	if cf.eval == nil {
		t.Fatalf("%#v: no eval", filter)
	}
	for _, a := range evalAttrs {
		if !attrOK[a] {
			t.Fatalf("%#v: eval reads %q, which the filter does not name", filter, a)
		}
	}

	p, err := goldap.CompileFilter(cf.ldap)
	if err != nil {
		t.Fatalf("%#v: compiled to %q, which does not parse: %v", filter, cf.ldap, err)
	}
	// Search sends (&<compiled><resource filter>): the resource filter must
	// come out of the parse as the second of exactly two operands.
	full, err := goldap.CompileFilter("(&" + cf.ldap + r.filter + ")")
	if err != nil {
		t.Fatalf("%#v: search filter with %q does not parse: %v", filter, cf.ldap, err)
	}
	scope, _ := goldap.CompileFilter(r.filter)
	want, _ := goldap.DecompileFilter(scope)
	if full.Tag != goldap.FilterAnd || len(full.Children) != 2 {
		t.Fatalf("%#v: search filter (&%s%s) is not a two-operand and", filter, cf.ldap, r.filter)
	}
	if got, _ := goldap.DecompileFilter(full.Children[1]); got != want {
		t.Fatalf("%#v: resource filter became %s in (&%s%s)", filter, got, cf.ldap, r.filter)
	}

	walkFilter(p, func(n *ber.Packet) {
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("%#v compiled to %s: "+format, append([]any{filter, cf.ldap}, args...)...)
		}
		str := func(c *ber.Packet) string { return c.Data.String() }
		checkAttr := func(a string) {
			if !attrOK[strings.ToLower(a)] {
				fail("attribute %q is not one the filter names", a)
			}
		}
		checkValue := func(v string) {
			if !valueOK[v] {
				fail("value %q is not a value of the filter", v)
			}
		}
		switch n.Tag {
		case goldap.FilterPresent:
			checkAttr(str(n))
		case goldap.FilterEqualityMatch, goldap.FilterGreaterOrEqual, goldap.FilterLessOrEqual:
			checkAttr(str(n.Children[0]))
			checkValue(str(n.Children[1]))
		case goldap.FilterSubstrings:
			checkAttr(str(n.Children[0]))
			if comps := n.Children[1].Children; len(comps) != 1 {
				fail("substring assertion with %d components", len(comps))
			}
			for _, c := range n.Children[1].Children {
				checkValue(str(c))
			}
		case goldap.FilterExtensibleMatch:
			for _, c := range n.Children {
				switch c.Tag {
				case goldap.MatchingRuleAssertionType:
					checkAttr(str(c))
				case goldap.MatchingRuleAssertionMatchValue:
					checkValue(str(c))
				case goldap.MatchingRuleAssertionMatchingRule:
					switch str(c) {
					case "caseExactMatch", "caseExactIA5Match", "caseIgnoreMatch", "caseIgnoreIA5Match":
					default:
						fail("matching rule %q", str(c))
					}
				default:
					fail("extensible match with :dn or tag %d", c.Tag)
				}
			}
		case goldap.FilterAnd, goldap.FilterOr, goldap.FilterNot:
		default:
			fail("unexpected filter choice %d", n.Tag)
		}
	})

	// The in-memory check must not panic on any entry.
	e := goldap.NewEntry("uid=x,"+r.baseDN, map[string][]string{})
	for _, l := range leaves {
		if c, ok := l.(backends.Compare); ok {
			e.Attributes = append(e.Attributes, &goldap.EntryAttribute{Name: c.Attr, Values: []string{c.Value, "", "20210203040506Z"}})
		}
	}
	cf.eval(e)
}

func walkFilter(p *ber.Packet, fn func(*ber.Packet)) {
	fn(p)
	switch p.Tag {
	case goldap.FilterAnd, goldap.FilterOr, goldap.FilterNot:
		for _, c := range p.Children {
			walkFilter(c, fn)
		}
	}
}

// FuzzDNValue: the DN of a new entry names it by exactly the given value
// and sits directly below the resource's base DN, or the value is refused
// with ErrInvalid (only values that are not UTF-8 may be); splitRDN and rdnValue, which renames use, read the
// same RDN and parent back.
func FuzzDNValue(f *testing.F) {
	for _, s := range []string{"jdoe", "*", ")(uid=*", `\00`, "a\x00b", ",cn=admin", "x,cn=admin,dc=example,dc=org",
		"+uid=y", "uid=z,ou=people", "#hash", " lead", "trail ", `back\slash`, `"quoted"`, "<angle>", "semi;colon",
		"x=y", "' OR '1'='1", "%", "_", "!", "Ünïcødé", "é ", "\xff", "", " ", "  ", "\\", "#", "a\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		be := fuzzBackend(t, true)
		for _, r := range []*resource{be.res[backends.User], be.res[backends.Group]} {
			dn, err := buildDN(r, value)
			if err != nil {
				if !errors.Is(err, backends.ErrInvalid) {
					t.Fatalf("buildDN(%q): %v does not wrap ErrInvalid", value, err)
				}
				if utf8.ValidString(value) {
					t.Fatalf("buildDN(%q) refused a valid UTF-8 value: %v", value, err)
				}
				continue
			}
			p, err := goldap.ParseDN(dn)
			if err != nil {
				t.Fatalf("buildDN(%q) = %q, which does not parse: %v", value, dn, err)
			}
			if len(p.RDNs) != len(r.base.RDNs)+1 || !(&goldap.DN{RDNs: p.RDNs[1:]}).Equal(r.base) {
				t.Fatalf("buildDN(%q) = %q is not directly below %s", value, dn, r.baseDN)
			}
			if len(p.RDNs[0].Attributes) != 1 || p.RDNs[0].Attributes[0].Type != r.rdnAttr || p.RDNs[0].Attributes[0].Value != value {
				t.Fatalf("buildDN(%q) = %q names the entry %v", value, dn, p.RDNs[0])
			}
			if got := rdnValue(r, dn); got != value {
				t.Fatalf("rdnValue(%q) = %q, want %q", dn, got, value)
			}
			if _, parent := splitRDN(dn); parent != r.baseDN {
				t.Fatalf("splitRDN(%q) parent %q, want %q", dn, parent, r.baseDN)
			}
			if !r.contains(dn) {
				t.Fatalf("buildDN(%q) = %q is outside the resource", value, dn)
			}
		}
	})
}
