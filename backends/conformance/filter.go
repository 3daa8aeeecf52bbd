package conformance

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/backends"
)

func filterCases() []testCase {
	return []testCase{
		{"Filters", testFilters},
		{"FilterOrdering", testFilterOrdering},
		{"FilterInjection", testFilterInjection},
	}
}

// expectIDs searches typ with f and compares the ids with want.
func expectIDs(t *testing.T, s *suite, typ string, f backends.Filter, want ...string) {
	t.Helper()
	p := s.search(t, typ, backends.Query{Filter: f})
	got := sorted(ids(p.Records))
	if !slices.Equal(got, sorted(want)) {
		t.Fatalf("Search(%s, %s): ids %q, want %q", typ, describeFilter(f), got, sorted(want))
	}
	if p.Total != len(want) {
		t.Fatalf("Search(%s, %s): Total %d, want %d", typ, describeFilter(f), p.Total, len(want))
	}
}

// filterCase is one filter and the indexes of the dataset users it matches.
type filterCase struct {
	f    backends.Filter
	want []int
	// mayBeUnsupported: the backend may answer ErrUnsupported (ordering on
	// an attribute it cannot order).
	mayBeUnsupported bool
	// mayBeInvalid: the backend may answer ErrInvalid (a NUL byte some
	// databases cannot take in a string).
	mayBeInvalid bool
}

func runFilterCases(t *testing.T, s *suite, recs []backends.Record, cases []filterCase) {
	t.Helper()
	for _, c := range cases {
		p, err := s.b.Search(s.ctx, backends.User, backends.Query{Filter: c.f})
		if err != nil {
			switch {
			case c.mayBeUnsupported && errors.Is(err, backends.ErrUnsupported):
				t.Logf("Search(%s): unsupported, allowed: %v", describeFilter(c.f), err)
				continue
			case c.mayBeInvalid && errors.Is(err, backends.ErrInvalid):
				t.Logf("Search(%s): refused as invalid, allowed: %v", describeFilter(c.f), err)
				continue
			}
			t.Errorf("Search(%s): %v", describeFilter(c.f), err)
			continue
		}
		var want []string
		for _, i := range c.want {
			want = append(want, recs[i].ID)
		}
		got := sorted(ids(p.Records))
		if !slices.Equal(got, sorted(want)) {
			t.Errorf("Search(%s): got %s, want %s", describeFilter(c.f), names(s, recs, got), names(s, recs, want))
		}
		if p.Total != len(want) {
			t.Errorf("Search(%s): Total %d, want %d", describeFilter(c.f), p.Total, len(want))
		}
	}
}

// names renders ids as the userNames of the dataset, for readable failures.
func names(s *suite, recs []backends.Record, idList []string) string {
	var out []string
	for _, id := range idList {
		n := id
		for _, r := range recs {
			if r.ID == id {
				n = r.Attrs.First(s.f.UserName)
			}
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return "[" + strings.Join(out, " ") + "]"
}

// orderedValues returns four values of kind in ascending order whose text
// order differs from their order where that is possible.
func orderedValues(kind backends.ValueKind) []string {
	switch kind {
	case backends.KindNumber:
		return []string{"5", "40", "300", "2000"}
	case backends.KindTime:
		return []string{"2001-02-03T04:05:06Z", "2010-01-01T00:00:00Z", "2015-06-07T08:09:10Z", "2024-12-31T23:59:59Z"}
	}
	return []string{"a1", "b2", "c3", "d4"}
}

// dataset creates five users with controlled values:
//
//	0 alice     Alice Smith    "Alice Smith" alice@example.com    active  ordered[0]
//	1 bob       Bob   smith    "Bob smith"   bob@example.org      !active ordered[1]
//	2 carol     Carol Jones    "Carol Jones" carol@example.com    active  ordered[2]
//	3 dave      Dave  Brown    (none)        dave@sub.example.com !active ordered[3]
//	4 eve.admin Eve   Smithson "Eve"         eve@example.net      active  (none)
func dataset(t *testing.T, s *suite) []backends.Record {
	t.Helper()
	ov := orderedValues(s.f.OrderedKind)
	yes, no := true, false
	users := []user{
		{name: "alice", given: "Alice", family: "Smith", display: "Alice Smith", email: "alice@example.com", active: &yes, ordered: ov[0]},
		{name: "bob", given: "Bob", family: "smith", display: "Bob smith", email: "bob@example.org", active: &no, ordered: ov[1]},
		{name: "carol", given: "Carol", family: "Jones", display: "Carol Jones", email: "carol@example.com", active: &yes, ordered: ov[2]},
		{name: "dave", given: "Dave", family: "Brown", email: "dave@sub.example.com", active: &no, ordered: ov[3]},
		{name: "eve.admin", given: "Eve", family: "Smithson", display: "Eve", email: "eve@example.net", active: &yes},
	}
	recs := make([]backends.Record, len(users))
	for i, u := range users {
		recs[i] = s.createUser(t, u)
	}
	return recs
}

func testFilters(t *testing.T, s *suite) {
	recs := dataset(t, s)
	f := s.f
	cmp := func(attr string, op backends.Op, v string, ic bool) backends.Compare {
		return backends.Compare{Attr: attr, Op: op, Value: v, IgnoreCase: ic}
	}
	cases := []filterCase{
		{f: nil, want: []int{0, 1, 2, 3, 4}},
		{f: cmp(f.UserName, backends.Eq, "bob", false), want: []int{1}},
		{f: cmp(f.UserName, backends.Eq, "BOB", true), want: []int{1}},
		{f: cmp(f.UserName, backends.Eq, "nobody", true), want: nil},
		{f: cmp(f.FamilyName, backends.Eq, "smith", false), want: []int{1}},
		{f: cmp(f.FamilyName, backends.Eq, "Smith", false), want: []int{0}},
		{f: cmp(f.FamilyName, backends.Eq, "SMITH", false), want: nil},
		{f: cmp(f.FamilyName, backends.Eq, "smith", true), want: []int{0, 1}},
		{f: cmp(f.FamilyName, backends.Ne, "Smith", false), want: []int{1, 2, 3, 4}},
		{f: cmp(f.FamilyName, backends.Ne, "smith", true), want: []int{2, 3, 4}},
		// ne matches records without the attribute.
		{f: cmp(f.DisplayName, backends.Ne, "Eve", false), want: []int{0, 1, 2, 3}},
		{f: cmp(f.DisplayName, backends.Ne, "eve", true), want: []int{0, 1, 2, 3}},
		{f: cmp(f.Email, backends.Co, "example.com", false), want: []int{0, 2, 3}},
		{f: cmp(f.DisplayName, backends.Co, "smith", true), want: []int{0, 1}},
		{f: cmp(f.DisplayName, backends.Co, "smith", false), want: []int{1}},
		{f: cmp(f.DisplayName, backends.Co, "SMITH", false), want: nil},
		{f: cmp(f.DisplayName, backends.Co, "e", false), want: []int{0, 2, 4}},
		{f: cmp(f.FamilyName, backends.Sw, "Smith", false), want: []int{0, 4}},
		{f: cmp(f.FamilyName, backends.Sw, "smith", false), want: []int{1}},
		{f: cmp(f.FamilyName, backends.Sw, "smith", true), want: []int{0, 1, 4}},
		{f: cmp(f.FamilyName, backends.Sw, "mith", true), want: nil},
		{f: cmp(f.Email, backends.Ew, ".org", false), want: []int{1}},
		{f: cmp(f.Email, backends.Ew, ".COM", true), want: []int{0, 2, 3}},
		{f: cmp(f.Email, backends.Ew, ".COM", false), want: nil},
		{f: backends.Present{Attr: f.DisplayName}, want: []int{0, 1, 2, 4}},
		{f: backends.Present{Attr: f.GivenName}, want: []int{0, 1, 2, 3, 4}},
		{f: backends.And{Filters: []backends.Filter{cmp(f.FamilyName, backends.Sw, "smith", true), cmp(f.UserName, backends.Ne, "bob", false)}}, want: []int{0, 4}},
		{f: backends.And{Filters: []backends.Filter{cmp(f.FamilyName, backends.Sw, "smith", true), backends.Present{Attr: f.DisplayName}, cmp(f.Email, backends.Ew, ".com", false)}}, want: []int{0}},
		{f: backends.Or{Filters: []backends.Filter{cmp(f.UserName, backends.Eq, "alice", false), cmp(f.UserName, backends.Eq, "dave", false)}}, want: []int{0, 3}},
		{f: backends.Or{Filters: []backends.Filter{cmp(f.Email, backends.Ew, ".net", false), backends.Not{Filter: backends.Present{Attr: f.DisplayName}}}}, want: []int{3, 4}},
		{f: backends.Not{Filter: cmp(f.FamilyName, backends.Sw, "smith", true)}, want: []int{2, 3}},
		{f: backends.Not{Filter: backends.Present{Attr: f.DisplayName}}, want: []int{3}},
		// not over an absent attribute: dave has no displayName, so "co" is false for him.
		{f: backends.Not{Filter: cmp(f.DisplayName, backends.Co, "smith", true)}, want: []int{2, 3, 4}},
		{f: backends.Not{Filter: cmp(f.DisplayName, backends.Ne, "Eve", false)}, want: []int{4}},
		{f: backends.Not{Filter: backends.Or{Filters: []backends.Filter{cmp(f.UserName, backends.Eq, "alice", false), cmp(f.UserName, backends.Eq, "bob", false)}}}, want: []int{2, 3, 4}},
		{f: backends.And{Filters: []backends.Filter{
			backends.Or{Filters: []backends.Filter{cmp(f.Email, backends.Ew, ".com", false), cmp(f.Email, backends.Ew, ".org", false)}},
			backends.Not{Filter: cmp(f.GivenName, backends.Eq, "carol", true)},
		}}, want: []int{0, 1, 3}},
		// Ordering on text; a backend may not be able to order it.
		{f: cmp(f.UserName, backends.Gt, "carol", false), want: []int{3, 4}, mayBeUnsupported: true},
		{f: cmp(f.UserName, backends.Ge, "carol", false), want: []int{2, 3, 4}, mayBeUnsupported: true},
		{f: cmp(f.UserName, backends.Lt, "bob", false), want: []int{0}, mayBeUnsupported: true},
		{f: cmp(f.UserName, backends.Le, "bob", false), want: []int{0, 1}, mayBeUnsupported: true},
	}
	if f.Active != "" {
		cases = append(cases,
			filterCase{f: cmp(f.Active, backends.Eq, f.ActiveTrue, false), want: []int{0, 2, 4}},
			filterCase{f: cmp(f.Active, backends.Eq, f.ActiveFalse, false), want: []int{1, 3}},
			filterCase{f: cmp(f.Active, backends.Ne, f.ActiveTrue, false), want: []int{1, 3}},
			filterCase{f: backends.And{Filters: []backends.Filter{cmp(f.Active, backends.Eq, f.ActiveTrue, false), cmp(f.FamilyName, backends.Sw, "smith", true)}}, want: []int{0, 4}},
		)
	}
	runFilterCases(t, s, recs, cases)
}

func testFilterOrdering(t *testing.T, s *suite) {
	if s.f.Ordered == "" {
		t.Skip("fixture has no Ordered attribute")
	}
	recs := dataset(t, s)
	ov := orderedValues(s.f.OrderedKind)
	ord := func(op backends.Op, v string) backends.Compare {
		return backends.Compare{Attr: s.f.Ordered, Op: op, Value: v, Kind: s.f.OrderedKind}
	}
	// eve (4) has no value and never matches an ordering.
	cases := []filterCase{
		{f: ord(backends.Gt, ov[1]), want: []int{2, 3}, mayBeUnsupported: true},
		{f: ord(backends.Ge, ov[1]), want: []int{1, 2, 3}, mayBeUnsupported: true},
		{f: ord(backends.Lt, ov[1]), want: []int{0}, mayBeUnsupported: true},
		{f: ord(backends.Le, ov[1]), want: []int{0, 1}, mayBeUnsupported: true},
		{f: ord(backends.Gt, ov[3]), want: nil, mayBeUnsupported: true},
		{f: ord(backends.Lt, ov[0]), want: nil, mayBeUnsupported: true},
		{f: ord(backends.Eq, ov[2]), want: []int{2}},
		{f: ord(backends.Ne, ov[2]), want: []int{0, 1, 3, 4}},
		{f: backends.Present{Attr: s.f.Ordered}, want: []int{0, 1, 2, 3}},
		{f: backends.Not{Filter: ord(backends.Gt, ov[1])}, want: []int{0, 1, 4}, mayBeUnsupported: true},
		{f: backends.And{Filters: []backends.Filter{ord(backends.Ge, ov[1]), ord(backends.Le, ov[2])}}, want: []int{1, 2}, mayBeUnsupported: true},
	}
	runFilterCases(t, s, recs, cases)
}

func testFilterInjection(t *testing.T, s *suite) {
	// Each special value has a control that a widened (unescaped) pattern
	// would also match.
	values := []string{
		"100% sure",     // 0
		"1000 sure",     // 1 control for %
		"under_score",   // 2
		"underXscore",   // 3 control for _
		"star*name",     // 4
		"starXname",     // 5 control for *
		"paren(thesis)", // 6
		`back\slash`,    // 7
		"backslash",     // 8
		"it's",          // 9
		`say "hi"`,      // 10
		"a!b",           // 11 a common LIKE escape character
		"ab",            // 12
		"plain",         // 13
	}
	recs := make([]backends.Record, len(values))
	for i, v := range values {
		u := s.simpleUser("inj" + string(rune('a'+i)))
		u.display = v
		recs[i] = s.createUser(t, u)
	}
	d := s.f.DisplayName
	cmp := func(op backends.Op, v string, ic bool) backends.Compare {
		return backends.Compare{Attr: d, Op: op, Value: v, IgnoreCase: ic}
	}
	all := make([]int, len(values))
	for i := range all {
		all[i] = i
	}
	cases := []filterCase{
		{f: cmp(backends.Co, "%", false), want: []int{0}},
		{f: cmp(backends.Co, "%", true), want: []int{0}},
		{f: cmp(backends.Co, "0% s", false), want: []int{0}},
		{f: cmp(backends.Eq, "100% sure", false), want: []int{0}},
		{f: cmp(backends.Eq, "100%", false), want: nil},
		{f: cmp(backends.Sw, "100%", true), want: []int{0}},
		{f: cmp(backends.Ew, "%", false), want: nil},
		{f: cmp(backends.Co, "_", false), want: []int{2}},
		{f: cmp(backends.Co, "_", true), want: []int{2}},
		{f: cmp(backends.Eq, "under_score", false), want: []int{2}},
		{f: cmp(backends.Eq, "UNDER_SCORE", true), want: []int{2}},
		{f: cmp(backends.Sw, "under_", false), want: []int{2}},
		{f: cmp(backends.Ew, "_score", true), want: []int{2}},
		{f: cmp(backends.Ew, "score", false), want: []int{2, 3}},
		{f: cmp(backends.Co, "*", false), want: []int{4}},
		{f: cmp(backends.Eq, "*", false), want: nil},
		{f: cmp(backends.Eq, "star*name", false), want: []int{4}},
		{f: cmp(backends.Sw, "star*", true), want: []int{4}},
		{f: cmp(backends.Ne, "*", false), want: all},
		{f: cmp(backends.Co, "(", false), want: []int{6}},
		{f: cmp(backends.Co, ")", false), want: []int{6}},
		{f: cmp(backends.Eq, "paren(thesis)", true), want: []int{6}},
		{f: cmp(backends.Eq, "*)(uid=*", false), want: nil},
		{f: cmp(backends.Co, "*)(|(objectClass=*", false), want: nil},
		{f: cmp(backends.Co, `\`, false), want: []int{7}},
		{f: cmp(backends.Eq, `back\slash`, false), want: []int{7}},
		{f: cmp(backends.Sw, `back\`, true), want: []int{7}},
		{f: cmp(backends.Co, `\2a`, false), want: nil},
		{f: cmp(backends.Co, "'", false), want: []int{9}},
		{f: cmp(backends.Eq, "it's", false), want: []int{9}},
		{f: cmp(backends.Eq, "' OR '1'='1", false), want: nil},
		{f: cmp(backends.Co, "' OR '1'='1", true), want: nil},
		{f: cmp(backends.Eq, "x'; DROP TABLE users; --", false), want: nil},
		{f: cmp(backends.Co, `"`, false), want: []int{10}},
		{f: cmp(backends.Eq, `say "hi"`, false), want: []int{10}},
		{f: cmp(backends.Co, "!", false), want: []int{11}},
		{f: cmp(backends.Co, "a!b", true), want: []int{11}},
		{f: cmp(backends.Eq, "\x00", false), want: nil, mayBeInvalid: true},
		{f: cmp(backends.Co, "\x00", false), want: nil, mayBeInvalid: true},
		{f: cmp(backends.Co, "star\x00", false), want: nil, mayBeInvalid: true},
		{f: cmp(backends.Sw, "plain\x00x", true), want: nil, mayBeInvalid: true},
		{f: cmp(backends.Eq, "plain\x00", false), want: nil, mayBeInvalid: true},
	}
	runFilterCases(t, s, recs, cases)

	// Nothing was dropped or changed along the way.
	p := s.search(t, backends.User, backends.Query{})
	if p.Total != len(values) {
		t.Fatalf("after the injection corpus: Total %d, want %d", p.Total, len(values))
	}
	for i, r := range recs {
		wantValues(t, s.get(t, backends.User, r.ID), d, values[i])
	}
}
