package scim

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"

	filter "github.com/scim2/filter-parser/v2"
)

var fuzzDoc = func() Doc {
	var raw map[string]any
	_ = json.Unmarshal([]byte(`{"userName":"jd","name":{"givenName":"J"},"active":true,
	  "emails":[{"value":"a@b","type":"work","primary":true}],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"1"}}`), &raw)
	d, _ := Normalize(testUserRT, raw)
	return d
}()

// FuzzParseFilter: no input panics the parser, the checker or the
// evaluator, and every refusal is a 400 invalidFilter.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{`userName eq "x"`, `emails[type eq "work"].value eq "a@b"`, `not (a eq "b") or c pr`,
		`userName eq x`, `meta.lastModified gt "2020-01-01T00:00:00Z"`, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "1"`,
		`(((`, `a eq "\u0000"`, `)(uid=*`, `emails[type eq "a" or type eq "b"].value pr`, `x[y[z eq 1]]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// The fast path must agree with the general parser.
		if fast, ok := fastFilter(s); ok && utf8.ValidString(s) {
			if slow, err := parseSafely(lenientFilter(s)); err == nil {
				_ = unescapeValues(slow, 0)
				if fast.(*filter.AttributeExpression).String() != slow.(interface{ String() string }).String() {
					t.Fatalf("%q: fast path %s, parser %s", s, fast, slow)
				}
			}
		}
		expr, err := ParseFilter(s)
		if err != nil {
			if e, ok := AsError(err); !ok || e.Status != 400 || e.ScimType != TypeInvalidFilter {
				t.Fatalf("%q: refusal %v is not 400 invalidFilter", s, err)
			}
			return
		}
		if err := CheckFilter(testUserRT, expr); err != nil {
			if e, ok := AsError(err); !ok || e.Status != 400 {
				t.Fatalf("%q: check error %v is not a 400", s, err)
			}
			return
		}
		Match(testUserRT, expr, fuzzDoc)
	})
}

// FuzzPatch: arbitrary operations never panic; they either apply or are
// refused with a 4xx, and a refusal leaves the input document unchanged
// (the caller works on a copy; here we check Apply itself is total).
func FuzzPatch(f *testing.F) {
	for _, s := range []string{
		`[{"op":"replace","value":{"active":false}}]`,
		`[{"op":"Add","path":"phoneNumbers[type eq \"mobile\"].value","value":"1"}]`,
		`[{"op":"remove","path":"emails[type eq \"work\"]"}]`,
		`[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"x"}]`,
		`[{"op":"add","path":"emails","value":[{"value":1},{"primary":"true"}]}]`,
		`[{"op":"replace","value":{"name.givenName":"x","urn:a:b":{"c":1}}}]`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		dec := json.NewDecoder(bytes.NewReader([]byte(s)))
		dec.UseNumber()
		var ops []PatchOp
		if dec.Decode(&ops) != nil {
			return
		}
		d := CopyDoc(fuzzDoc)
		d["id"] = "u1"
		p := &Patcher{RT: testUserRT}
		if _, err := p.Apply(d, ops); err != nil {
			if e, ok := AsError(err); !ok || e.Status < 400 || e.Status >= 500 {
				t.Fatalf("%s: %v is not a 4xx", s, err)
			}
		}
	})
}

// FuzzNormalize: any JSON object either normalises or is refused with 400.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{`{"userName":"x","active":"True","emails":"a@b"}`, `{"name":{"givenName":1}}`,
		`{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"managerId":"1"}}}`, `{"x509Certificates":[{"value":true}]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		dec := json.NewDecoder(bytes.NewReader([]byte(s)))
		dec.UseNumber()
		var raw map[string]any
		if dec.Decode(&raw) != nil {
			return
		}
		d, err := Normalize(testUserRT, raw)
		if err != nil {
			if e, ok := AsError(err); !ok || e.Status != 400 {
				t.Fatalf("%s: %v", s, err)
			}
			return
		}
		if _, err := json.Marshal(d); err != nil {
			t.Fatalf("normalised document does not encode: %v", err)
		}
	})
}

// FuzzResolvePath: paths resolve or are refused with 400.
func FuzzResolvePath(f *testing.F) {
	for _, s := range []string{`members[value eq "1"]`, `emails[type eq "work"].value`, `name.givenName`, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`, `a[`, `]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := ResolvePath(testUserRT, s); err != nil {
			if e, ok := AsError(err); !ok || e.Status != 400 {
				t.Fatalf("%q: %v", s, err)
			}
		}
	})
}
