package backends

import (
	"errors"
	"fmt"
	"testing"
)

func TestMatchCompare(t *testing.T) {
	str := func(op Op, v string, ic bool) Compare { return Compare{Attr: "a", Op: op, Value: v, IgnoreCase: ic} }
	num := func(op Op, v string) Compare { return Compare{Attr: "a", Op: op, Value: v, Kind: KindNumber} }
	tm := func(op Op, v string) Compare { return Compare{Attr: "a", Op: op, Value: v, Kind: KindTime} }
	bl := func(op Op, v string) Compare {
		return Compare{Attr: "a", Op: op, Value: v, Kind: KindBool, IgnoreCase: true}
	}
	cases := []struct {
		c      Compare
		stored []string
		want   bool
	}{
		// Text, case by case.
		{str(Eq, "Smith", false), []string{"Smith"}, true},
		{str(Eq, "smith", false), []string{"Smith"}, false},
		{str(Eq, "smith", true), []string{"Smith"}, true},
		{str(Eq, "école", true), []string{"ÉCOLE"}, true}, // Unicode lower case
		{str(Eq, "a", false), []string{" a"}, false},      // text is not trimmed
		{str(Gt, "b", false), []string{"a", "c"}, true},
		{str(Gt, "b", false), []string{"B"}, false}, // bytes: "B" < "b"
		{str(Gt, "b", true), []string{"C"}, true},
		{str(Ge, "b", false), []string{"b"}, true},
		{str(Lt, "b", false), []string{"a"}, true},
		{str(Le, "b", false), []string{"c"}, false},
		{str(Co, "mit", false), []string{"Smith"}, true},
		{str(Co, "MIT", false), []string{"Smith"}, false},
		{str(Co, "MIT", true), []string{"Smith"}, true},
		{str(Sw, "sm", true), []string{"Smith"}, true},
		{str(Sw, "mi", true), []string{"Smith"}, false},
		{str(Ew, "TH", true), []string{"Smith"}, true},
		{str(Ew, "", false), []string{"x"}, true},
		{str(Co, "%", false), []string{"100% sure", "1000 sure"}, true},
		{str(Co, "_", false), []string{"underXscore"}, false},
		// Ne: no value equals, which includes no value at all.
		{str(Ne, "a", false), []string{"b"}, true},
		{str(Ne, "a", false), []string{"b", "a"}, false},
		{str(Ne, "a", false), nil, true},
		{str(Ne, "A", true), []string{"a"}, false},
		// Any value of a multi-valued attribute may match.
		{str(Eq, "x", false), []string{"a", "x"}, true},
		{str(Eq, "x", false), nil, false},
		// Numbers: exact decimals, whatever the spelling.
		{num(Eq, "42"), []string{"42.0"}, true},
		{num(Eq, "42"), []string{"042"}, true},
		{num(Eq, "1000"), []string{"1e3"}, true},
		{num(Eq, "1000"), []string{"1E+3"}, true},
		{num(Eq, "0.5"), []string{".5"}, true},
		{num(Eq, "5"), []string{"5."}, true},
		{num(Eq, "5"), []string{"+5"}, true},
		{num(Eq, "12"), []string{" 12 "}, true}, // white space around numbers is trimmed
		{num(Eq, "12"), []string{"\t12\n"}, true},
		{num(Gt, "300"), []string{"40"}, false}, // not text order
		{num(Gt, "40"), []string{"300"}, true},
		{num(Lt, "-3"), []string{"-3.5"}, true},
		{num(Ge, "-3"), []string{"-3"}, true},
		{num(Le, "2"), []string{"2.0000000000000000000001"}, false},
		// Beyond float64: big.Rat keeps every digit.
		{num(Eq, "12345678901234567890123"), []string{"12345678901234567890124"}, false},
		{num(Lt, "12345678901234567890124"), []string{"12345678901234567890123"}, true},
		{num(Eq, "0.1"), []string{"0.10000000000000000001"}, false},
		{num(Gt, "1e400"), []string{"1e401"}, true},
		// Not decimals: no value, so no match (and Ne matches).
		{num(Eq, "16"), []string{"0x10"}, false},
		{num(Eq, "0.5"), []string{"1/2"}, false},
		{num(Eq, "1000"), []string{"1_000"}, false},
		{num(Eq, "1"), []string{"abc", "1"}, true},
		{num(Gt, "0"), []string{"Inf"}, false},
		{num(Eq, "12"), []string{"12abc"}, false},
		{num(Eq, "0"), []string{""}, false},
		{num(Eq, "1"), []string{"1e"}, false},
		{num(Eq, "1"), []string{"."}, false},
		{num(Ne, "16"), []string{"0x10"}, true},
		{num(Ne, "42"), []string{"42.00"}, false},
		// A filter value that is not a number matches no value.
		{num(Eq, "abc"), []string{"abc"}, false},
		// Substrings compare the text whatever the Kind.
		{num(Co, "2"), []string{"42"}, true},
		{Compare{Attr: "a", Op: Sw, Value: "2021-", Kind: KindTime}, []string{"2021-02-03T04:05:06Z"}, true},
		// Times: RFC 3339 instants, zones and fractions honoured.
		{tm(Eq, "2021-02-03T04:05:06Z"), []string{"2021-02-03T05:05:06+01:00"}, true},
		{tm(Eq, "2021-02-03T04:05:06Z"), []string{"2021-02-03T04:05:06.000Z"}, true},
		{tm(Gt, "2021-02-03T04:05:06Z"), []string{"2021-02-03T04:05:06.001Z"}, true},
		{tm(Lt, "2021-02-03T04:05:06Z"), []string{"2021-02-03T04:05:06-05:00"}, false},
		{tm(Eq, "2021-02-03T04:05:06.123456789Z"), []string{"2021-02-03T04:05:06.123456789Z"}, true},
		{tm(Eq, "2021-02-03T04:05:06Z"), []string{" 2021-02-03T04:05:06Z "}, true},
		{tm(Ge, "2010-01-01T00:00:00Z"), []string{"2001-02-03T04:05:06Z", "2024-12-31T23:59:59Z"}, true},
		// Other forms are not RFC 3339: a store converts them itself.
		{tm(Eq, "2021-02-03T00:00:00Z"), []string{"2021-02-03"}, false},
		{tm(Eq, "2021-02-03T04:05:06Z"), []string{"2021-02-03T04:05:06"}, false},
		{tm(Eq, "2021-02-03T04:05:06Z"), []string{"20210203040506Z"}, false},
		{tm(Eq, "2021-02-03T04:05:06Z"), []string{"2021-02-03 04:05:06Z"}, false},
		{tm(Ne, "2021-02-03T04:05:06Z"), []string{"yesterday"}, true},
		// Booleans: true and false in any case, trimmed.
		{bl(Eq, "true"), []string{"TRUE"}, true},
		{bl(Eq, "true"), []string{"True "}, true},
		{bl(Eq, "false"), []string{"FALSE"}, true},
		{bl(Eq, "true"), []string{"1"}, false},
		{bl(Eq, "true"), []string{"yes"}, false},
		{bl(Ne, "true"), []string{"FALSE"}, true},
		{bl(Ne, "true"), []string{"true"}, false},
		{bl(Gt, "false"), []string{"true"}, true},
		{bl(Lt, "false"), []string{"true"}, false},
		// Unknown operators match nothing.
		{str("regex", ".*", false), []string{"a"}, false},
	}
	for _, tc := range cases {
		if got := MatchValues(tc.c, tc.stored); got != tc.want {
			t.Errorf("%s %s %q (kind %s, ignore case %v) on %q: %v, want %v", tc.c.Attr, tc.c.Op, tc.c.Value, tc.c.Kind, tc.c.IgnoreCase, tc.stored, got, tc.want)
		}
		if got := Match(tc.c, Attrs{"a": tc.stored}); got != tc.want {
			t.Errorf("Match(%#v) on %q: %v, want %v", tc.c, tc.stored, got, tc.want)
		}
	}
}

func TestMatchTree(t *testing.T) {
	rec := Attrs{"uid": {"alice"}, "mail": {"a@example.com", "alice@example.org"}, "empty": {""}, "Rank": {"7"}}
	eq := func(a, v string) Compare { return Compare{Attr: a, Op: Eq, Value: v} }
	cases := []struct {
		f    Filter
		want bool
	}{
		{nil, true},
		{And{}, true},
		{Or{}, false},
		{Not{Filter: Or{}}, true},
		{Present{Attr: "uid"}, true},
		{Present{Attr: "UID"}, true}, // names are found case-insensitively
		{Present{Attr: "empty"}, false},
		{Present{Attr: "nope"}, false},
		{Not{Filter: Present{Attr: "nope"}}, true},
		{eq("rank", "7"), true},
		{Compare{Attr: "rank", Op: Gt, Value: "10", Kind: KindNumber}, false},
		{Compare{Attr: "rank", Op: Gt, Value: "10"}, true}, // as text, "7" > "10"
		{Compare{Attr: "mail", Op: Ew, Value: ".org"}, true},
		{Compare{Attr: "mail", Op: Ne, Value: "a@example.com"}, false},
		{Compare{Attr: "nope", Op: Ne, Value: "x"}, true},
		{Not{Filter: Compare{Attr: "nope", Op: Co, Value: "x"}}, true},
		{And{Filters: []Filter{eq("uid", "alice"), Present{Attr: "mail"}}}, true},
		{And{Filters: []Filter{eq("uid", "alice"), eq("uid", "bob")}}, false},
		{Or{Filters: []Filter{eq("uid", "bob"), eq("mail", "a@example.com")}}, true},
		{Not{Filter: And{Filters: []Filter{eq("uid", "alice"), Not{Filter: Present{Attr: "empty"}}}}}, false},
		{&And{Filters: []Filter{&Compare{Attr: "uid", Op: Eq, Value: "alice"}, &Present{Attr: "mail"}}}, true},
		{&Not{Filter: &Or{}}, true},
	}
	for _, tc := range cases {
		if err := ValidateFilter(tc.f); err != nil {
			t.Errorf("ValidateFilter(%#v): %v", tc.f, err)
		}
		if got := Match(tc.f, rec); got != tc.want {
			t.Errorf("Match(%#v): %v, want %v", tc.f, got, tc.want)
		}
	}
}

// TestMatchFunc: the comparison hook decides every comparison but ne,
// which it sees as eq; the tree is Match's.
func TestMatchFunc(t *testing.T) {
	var seen []string
	exact := func(c Compare, v string) bool {
		seen = append(seen, fmt.Sprintf("%s %s %s", c.Op, c.Value, v))
		return c.Op == Eq && v == c.Value
	}
	rec := Attrs{"a": {"x", "y"}}
	if !MatchFunc(Compare{Attr: "a", Op: Ne, Value: "z", IgnoreCase: true}, rec, exact) {
		t.Error("ne z on x, y: false")
	}
	if MatchFunc(Not{Filter: Compare{Attr: "a", Op: Eq, Value: "y"}}, rec, exact) {
		t.Error("not eq y on x, y: true")
	}
	if want := "[eq z x eq z y eq y x eq y y]"; fmt.Sprint(seen) != want {
		t.Errorf("the hook saw %v, want %s", seen, want)
	}
}

func TestValidateFilter(t *testing.T) {
	cases := []struct {
		f    Filter
		want error
	}{
		{nil, nil},
		{Compare{Attr: "a", Op: Eq, Value: "anything"}, nil},
		{Compare{Attr: "a", Op: "regex", Value: "x"}, ErrUnsupported},
		{Compare{Attr: "a", Op: Eq, Value: "12", Kind: KindNumber}, nil},
		{Compare{Attr: "a", Op: Gt, Value: " -1.5e3 ", Kind: KindNumber}, nil},
		{Compare{Attr: "a", Op: Eq, Value: "0x10", Kind: KindNumber}, ErrInvalid},
		{Compare{Attr: "a", Op: Eq, Value: "0x1p3", Kind: KindNumber}, ErrInvalid},
		{Compare{Attr: "a", Op: Eq, Value: "1/2", Kind: KindNumber}, ErrInvalid},
		{Compare{Attr: "a", Op: Ne, Value: "NaN", Kind: KindNumber}, ErrInvalid},
		{Compare{Attr: "a", Op: Eq, Value: "1e99999999999", Kind: KindNumber}, ErrInvalid},
		{Compare{Attr: "a", Op: Co, Value: "abc", Kind: KindNumber}, nil}, // substrings take any text
		{Compare{Attr: "a", Op: Le, Value: "2021-02-03T04:05:06.5+02:00", Kind: KindTime}, nil},
		{Compare{Attr: "a", Op: Le, Value: "2021-02-03", Kind: KindTime}, ErrInvalid},
		{Compare{Attr: "a", Op: Eq, Value: "20210203040506Z", Kind: KindTime}, ErrInvalid},
		{Compare{Attr: "a", Op: Eq, Value: "FALSE", Kind: KindBool}, nil},
		{Compare{Attr: "a", Op: Eq, Value: "1", Kind: KindBool}, ErrInvalid},
		{Compare{Attr: "a", Op: Eq, Value: "x", Kind: ValueKind(9)}, ErrInvalid},
		{And{Filters: []Filter{Present{Attr: "a"}, Compare{Attr: "a", Op: Eq, Value: "x", Kind: KindNumber}}}, ErrInvalid},
		{Or{Filters: []Filter{Present{Attr: "a"}, Compare{Attr: "a", Op: "sx"}}}, ErrUnsupported},
		{Not{Filter: Compare{Attr: "a", Op: Eq, Value: "x", Kind: KindTime}}, ErrInvalid},
		{Not{}, ErrInvalid},
		{And{Filters: []Filter{nil}}, ErrInvalid},
		{(*Compare)(nil), ErrInvalid},
		{&Compare{Attr: "a", Op: Eq, Value: "x", Kind: KindBool}, ErrInvalid},
		{otherFilter{}, ErrUnsupported},
	}
	for _, tc := range cases {
		err := ValidateFilter(tc.f)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("ValidateFilter(%#v) = %v, want %v", tc.f, err, tc.want)
		}
	}
}

type otherFilter struct{}

func (otherFilter) isFilter() {}

func TestIsDecimal(t *testing.T) {
	for s, want := range map[string]bool{
		"0": true, "-0": true, "+12": true, "1.": true, ".1": true, "1.5e-3": true, "1E9": true, "007": true,
		"": false, "-": false, ".": false, "e3": false, "1e": false, "1e+": false, "1.2.3": false, " 1": false,
		"1 ": false, "0x1": false, "1_0": false, "Inf": false, "NaN": false, "1/2": false, "١": false,
	} {
		if got := IsDecimal(s); got != want {
			t.Errorf("IsDecimal(%q) = %v, want %v", s, got, want)
		}
	}
}
