package scim

import (
	"encoding/json"
	"io"
	"reflect"
	"testing"
)

var errEOF = io.EOF

func ops(t *testing.T, s string) []PatchOp {
	t.Helper()
	var out []PatchOp
	dec := json.NewDecoder(stringsReader(s))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPatchDocument(t *testing.T) {
	base := `{"userName":"jdoe","name":{"givenName":"John","familyName":"Doe"},"active":true,"title":"Dev",
	  "emails":[{"value":"j@work","type":"work","primary":true},{"value":"j@home","type":"home"}],
	  "phoneNumbers":[{"value":"1","type":"work"}]}`
	cases := []struct {
		name, ops string
		check     func(t *testing.T, d Doc)
	}{
		{"pathless replace active (Okta)", `[{"op":"replace","value":{"active":false}}]`, func(t *testing.T, d Doc) {
			want(t, d["active"], false)
		}},
		{"capitalised op and string boolean (Entra legacy)", `[{"op":"Replace","path":"active","value":"False"}]`, func(t *testing.T, d Doc) {
			want(t, d["active"], false)
		}},
		{"filtered sub-attribute replace", `[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"new@work"}]`, func(t *testing.T, d Doc) {
			want(t, GetPath(userRT(), d, mustPath(t, "emails.value")), []any{"new@work", "j@home"})
		}},
		{"filtered add that matches nothing creates the element", `[{"op":"Add","path":"phoneNumbers[type eq \"mobile\"].value","value":"555"}]`, func(t *testing.T, d Doc) {
			want(t, d["phoneNumbers"], []any{map[string]any{"value": "1", "type": "work"}, map[string]any{"type": "mobile", "value": "555"}})
		}},
		{"sub-attribute path", `[{"op":"replace","path":"name.familyName","value":"Roe"}]`, func(t *testing.T, d Doc) {
			want(t, d["name"], map[string]any{"givenName": "John", "familyName": "Roe"})
		}},
		{"dotted and URN keys in a path-less value (Entra compliant)", `[{"op":"replace","value":{"name.givenName":"Jim","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"42","urn:unknown:ext:Thing":"x"}}]`, func(t *testing.T, d Doc) {
			want(t, d["name"].(map[string]any)["givenName"], "Jim")
			want(t, d[EnterpriseSchema], map[string]any{"employeeNumber": "42"})
		}},
		{"bare manager string", `[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"m-1"}]`, func(t *testing.T, d Doc) {
			want(t, d[EnterpriseSchema], map[string]any{"manager": map[string]any{"value": "m-1"}})
		}},
		{"extension object add", `[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","value":{"department":"R&D"}}]`, func(t *testing.T, d Doc) {
			want(t, d[EnterpriseSchema], map[string]any{"department": "R&D"})
		}},
		{"remove with filter", `[{"op":"remove","path":"emails[type eq \"home\"]"}]`, func(t *testing.T, d Doc) {
			want(t, d["emails"], []any{map[string]any{"value": "j@work", "type": "work", "primary": true}})
		}},
		{"remove attribute", `[{"op":"remove","path":"title"}]`, func(t *testing.T, d Doc) {
			if _, ok := d["title"]; ok {
				t.Error("title still present")
			}
		}},
		{"add to multi-valued keeps one primary", `[{"op":"add","path":"emails","value":[{"value":"x@y","type":"other","primary":true}]}]`, func(t *testing.T, d Doc) {
			n := 0
			for _, e := range d["emails"].([]any) {
				if e.(map[string]any)["primary"] == true {
					n++
				}
			}
			want(t, n, 1)
			want(t, len(d["emails"].([]any)), 3)
		}},
		{"replace multi-valued", `[{"op":"replace","path":"emails","value":[{"value":"only@one"}]}]`, func(t *testing.T, d Doc) {
			want(t, d["emails"], []any{map[string]any{"value": "only@one"}})
		}},
		{"nulls are ignored", `[{"op":"replace","value":{"title":null,"displayName":"JD"}}]`, func(t *testing.T, d Doc) {
			want(t, d["title"], "Dev")
			want(t, d["displayName"], "JD")
		}},
		{"echoed id is fine", `[{"op":"replace","value":{"id":"u1","title":"Lead"}}]`, func(t *testing.T, d Doc) {
			want(t, d["title"], "Lead")
		}},
		{"ops apply in order", `[{"op":"replace","path":"title","value":"A"},{"op":"replace","path":"title","value":"B"}]`, func(t *testing.T, d Doc) {
			want(t, d["title"], "B")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := doc(t, base)
			d["id"] = "u1"
			p := &Patcher{RT: userRT()}
			if _, err := p.Apply(d, ops(t, tc.ops)); err != nil {
				t.Fatal(err)
			}
			tc.check(t, d)
		})
	}
}

func TestPatchErrors(t *testing.T) {
	cases := map[string]string{
		`[{"op":"move","path":"title","value":"x"}]`:                              TypeInvalidSyntax,
		`[{"op":"remove"}]`:                                                       TypeNoTarget,
		`[{"op":"replace","path":"id","value":"other"}]`:                          TypeMutability,
		`[{"op":"replace","value":{"id":"other"}}]`:                               TypeMutability,
		`[{"op":"replace","path":"meta.created","value":"2020-01-01T00:00:00Z"}]`: TypeMutability,
		`[{"op":"replace","path":"active","value":"maybe"}]`:                      TypeInvalidValue,
		`[{"op":"replace","path":"nosuch","value":1}]`:                            TypeInvalidPath,
		`[{"op":"replace","path":"emails[","value":1}]`:                           TypeInvalidPath,
		`[{"op":"replace","path":"emails[type co \"w\"]","value":{"value":"x"}}]`: TypeNoTarget,
		`[{"op":"replace","value":"notAnObject"}]`:                                TypeInvalidValue,
		`[]`: TypeInvalidValue,
	}
	for in, wantType := range cases {
		d := doc(t, `{"userName":"a","emails":[{"value":"x","type":"home"}]}`)
		d["id"] = "u1"
		p := &Patcher{RT: userRT()}
		_, err := p.Apply(d, ops(t, in))
		e, ok := AsError(err)
		if !ok || e.Status != 400 || e.ScimType != wantType {
			t.Errorf("%s: got %v, want 400 %s", in, err, wantType)
		}
	}
}

func groupRT() *ResourceType {
	return &ResourceType{Name: "Group", Endpoint: "/Groups", Schema: CoreGroup()}
}

func TestPatchMembersAreDeltas(t *testing.T) {
	cases := []struct {
		name, ops    string
		replaced     bool
		add, remove  []string
		set          []string
		needsLoading bool
	}{
		{"Okta add", `[{"op":"add","path":"members","value":[{"value":"u1","display":"a"}]}]`, false, []string{"u1"}, []string{}, nil, false},
		{"Okta remove by filter", `[{"op":"remove","path":"members[value eq \"u1\"]"}]`, false, []string{}, []string{"u1"}, nil, false},
		{"Entra legacy remove by value array", `[{"op":"Remove","path":"members","value":[{"value":"u1"},{"value":"u2"}]}]`, false, []string{}, []string{"u1", "u2"}, nil, false},
		{"replace list", `[{"op":"replace","path":"members","value":[{"value":"u3"}]}]`, true, nil, nil, []string{"u3"}, false},
		{"path-less replace with members", `[{"op":"replace","value":{"displayName":"x","members":[{"value":"u4"}]}}]`, true, nil, nil, []string{"u4"}, false},
		{"add then remove cancels", `[{"op":"add","path":"members","value":[{"value":"u1"}]},{"op":"remove","path":"members[value eq \"u1\"]"}]`, false, []string{}, []string{"u1"}, nil, false},
		{"remove all", `[{"op":"remove","path":"members"}]`, true, nil, nil, []string{}, false},
		{"complex filter loads the list", `[{"op":"remove","path":"members[display sw \"a\"]"}]`, false, []string{}, []string{"u9"}, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			loaded := false
			p := &Patcher{RT: groupRT(), Lists: map[string]bool{"members": true}, LoadList: func(string) ([]any, error) {
				loaded = true
				return []any{map[string]any{"value": "u9", "display": "alice"}, map[string]any{"value": "u8", "display": "bob"}}, nil
			}}
			d := Doc{"id": "g1", "displayName": "G"}
			deltas, err := p.Apply(d, ops(t, tc.ops))
			if err != nil {
				t.Fatal(err)
			}
			dl := deltas["members"]
			if dl == nil {
				t.Fatal("no delta")
			}
			want(t, dl.Replaced, tc.replaced)
			if tc.replaced {
				want(t, dl.Set.List(), nonNil(tc.set))
			} else {
				want(t, dl.Add.List(), nonNil(tc.add))
				want(t, dl.Remove.List(), nonNil(tc.remove))
			}
			want(t, loaded, tc.needsLoading)
			if _, ok := d["members"]; ok {
				t.Error("members must not be written into the document")
			}
		})
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func TestPatchMemberLimit(t *testing.T) {
	p := &Patcher{RT: groupRT(), Lists: map[string]bool{"members": true}, MaxListOps: 2}
	_, err := p.Apply(Doc{"id": "g"}, ops(t, `[{"op":"add","path":"members","value":[{"value":"1"},{"value":"2"},{"value":"3"}]}]`))
	if e, ok := AsError(err); !ok || e.Status != 413 || e.ScimType != TypeTooMany {
		t.Fatalf("got %v, want 413 tooMany", err)
	}
}

func mustPath(t *testing.T, s string) Path {
	t.Helper()
	p, err := ResolvePath(userRT(), s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func want(t *testing.T, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
}

func stringsReader(s string) *stringReader { return &stringReader{s: s} }

type stringReader struct {
	s string
	i int
}

func (r *stringReader) Read(p []byte) (int, error) {
	if r.i >= len(r.s) {
		return 0, errEOF
	}
	n := copy(p, r.s[r.i:])
	r.i += n
	return n, nil
}
