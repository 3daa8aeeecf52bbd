package mapping

import (
	"reflect"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/scim"
)

const directionMapping = `
attribute "userName" { native = "login" }
attribute "name.familyName" { native = "last" }
attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber" {
  native    = "user_id"
  direction = "read"
}
attribute "title" {
  native    = "title"
  direction = "write"
}
attribute "emails[type eq \"work\"].value" {
  native    = "login"
  direction = "read"
}
`

// direction = "read" is read and never written; "write" is written and
// never read back, filtered or sorted on; one native attribute may back a
// writable mapping and read-only ones.
func TestDirection(t *testing.T) {
	m, diags := decode(t, directionMapping)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	doc := scim.Doc{"userName": "jd", "title": "Boss", "name": map[string]any{"familyName": "D"},
		"emails":              []any{map[string]any{"type": "work", "value": "other@x"}},
		scim.EnterpriseSchema: map[string]any{"employeeNumber": "99"}}
	attrs, err := m.ToNative(doc)
	if err != nil {
		t.Fatal(err)
	}
	want := backends.Attrs{"login": {"jd"}, "last": {"D"}, "title": {"Boss"}}
	if !reflect.DeepEqual(attrs, want) {
		t.Fatalf("ToNative:\n got %v\nwant %v", attrs, want)
	}
	if got := m.NativeAttrs(false); !reflect.DeepEqual(got, []string{"login", "last", "user_id"}) {
		t.Errorf("NativeAttrs = %v", got)
	}
	back, err := m.FromNative(backends.Record{ID: "7", Attrs: backends.Attrs{"login": {"jd"}, "last": {"D"}, "user_id": {"7"}, "title": {"Boss"}}})
	if err != nil {
		t.Fatal(err)
	}
	wantDoc := scim.Doc{"id": "7", "userName": "jd", "name": map[string]any{"familyName": "D"},
		"emails":              []any{map[string]any{"type": "work", "value": "jd"}},
		scim.EnterpriseSchema: map[string]any{"employeeNumber": "7"}}
	if !reflect.DeepEqual(back, wantDoc) {
		t.Errorf("FromNative:\n got %v\nwant %v", back, wantDoc)
	}
	for path, want := range map[string]bool{"title": true, "userName": false, scim.EnterpriseSchema + ":employeeNumber": false} {
		p, err := scim.ResolvePath(m.RT, path)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.WriteOnly(p); got != want {
			t.Errorf("WriteOnly(%s) = %v, want %v", path, got, want)
		}
	}
	if _, ok := m.SortKey("title"); ok {
		t.Error("SortKey(title) accepted a write-only attribute")
	}
	if _, ok := m.SortKey(scim.EnterpriseSchema + ":employeeNumber"); !ok {
		t.Error("SortKey(employeeNumber) refused a read-only attribute")
	}
	ent := m.RT.Extensions[0].Schema
	for _, tc := range []struct {
		s          *scim.Schema
		attr, sub  string
		mut, retur string
	}{
		{ent, "employeeNumber", "", scim.ReadOnly, "default"},
		{m.RT.Schema, "title", "", scim.WriteOnly, "never"},
		{m.RT.Schema, "userName", "", scim.ReadWrite, "default"},
		{m.RT.Schema, "emails", "value", scim.ReadOnly, "default"},
	} {
		a := tc.s.Attr(tc.attr)
		var sub *scim.Attribute
		if tc.sub != "" {
			sub = a.Sub(tc.sub)
		}
		mut, ret := m.Advertised(tc.s, a, sub)
		if mut != tc.mut || ret != tc.retur {
			t.Errorf("Advertised(%s %s) = %s, %s; want %s, %s", tc.attr, tc.sub, mut, ret, tc.mut, tc.retur)
		}
	}
	// The start-up check accepts reading the id, and refuses writing it.
	if d := m.Check(store()); len(d) != 0 {
		t.Errorf("Check: %v", d)
	}
	// Once checked, the record's id is the value, even where the store
	// does not list the id among the attributes (an LDAP create's answer).
	back, _ = m.FromNative(backends.Record{ID: "8", Attrs: backends.Attrs{"login": {"jd"}}})
	if ext, _ := back[scim.EnterpriseSchema].(map[string]any); ext["employeeNumber"] != "8" {
		t.Errorf("employeeNumber from the id: %v", back)
	}
}

func TestDirectionDiagnostics(t *testing.T) {
	cases := []struct {
		src, want string
	}{
		{`attribute "title" {
  native = "t"
  direction = "reed"
}`, `Did you mean "read"?`},
		{`attribute "title" {
  native = "t"
  direction = "read"
  to_native = upper(value)
}`, `to_native on a read-only mapping`},
		{`attribute "title" {
  native = "t"
  direction = "read"
  default = resource.userName
}`, `never written, so it cannot have a default`},
		{`attribute "title" {
  native = "t"
  direction = "write"
  from_native = lower(value)
}`, `from_native on a write-only mapping`},
		{`attribute "meta.created" {
  native = "t"
  direction = "both"
}`, `read-only in SCIM`},
		{`attribute "externalId" {
  native = "x"
  direction = "read"
}
attribute "name.familyName" {
  native = "t"
  default = resource.externalId
}`, `has direction = "read": clients do not write it`},
		{`attribute "externalId" {
  native = "x"
  direction = "read"
}
computed "full" { value = upper(resource.externalId) }`, `computed "full" reads externalId`},
		{`attribute "externalId" {
  native = "x"
  direction = "read"
}
attribute "displayName" {
  native = "t"
  to_native = "${value} ${resource.externalId}"
}`, `to_native of "displayName" reads externalId`},
		{`attribute "password" {
  native = "t"
  direction = "read"
}`, `never returned in SCIM`},
	}
	for _, tc := range cases {
		_, diags := decode(t, tc.src)
		if !diags.HasErrors() || !strings.Contains(diags.Error(), tc.want) {
			t.Errorf("%s:\n got %v\nwant %s", tc.src, diags, tc.want)
		}
		if n := len(diags); n != 1 {
			t.Errorf("%s: %d problems, want 1: %v", tc.src, n, diags)
		}
	}
}
