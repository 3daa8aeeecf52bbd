package mapping

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/scim"
)

// defaultsMapping fills sn and cn the way examples/openldap.hcl does.
const defaultsMapping = `
attribute "userName"        { native = "uid" }
attribute "name.givenName"  { native = "givenName" }
attribute "name.familyName" {
  native  = "sn"
  default = resource.userName
}
attribute "displayName" { native = "displayName" }
attribute "title" {
  native  = "title"
  default = resource.enterprise.department == null ? null : format("Staff (%s)", resource.enterprise.department)
}
attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department" { native = "departmentNumber" }
attribute "password" { native = "userPassword" }
computed "cn" {
  value = element(compact([
    resource.displayName,
    join(" ", compact([resource.name.givenName, resource.name.familyName])),
    resource.userName,
  ]), 0)
}
`

func TestDefaultWrites(t *testing.T) {
	m, diags := decode(t, defaultsMapping)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	cases := []struct {
		name string
		doc  scim.Doc
		want backends.Attrs
	}{
		{"userName only", scim.Doc{"userName": "jdoe"},
			backends.Attrs{"uid": {"jdoe"}, "givenName": {}, "sn": {"jdoe"}, "displayName": {}, "title": {},
				"departmentNumber": {}, "cn": {"jdoe"}}},
		{"family name sent", scim.Doc{"userName": "jdoe", "name": map[string]any{"givenName": "Jane", "familyName": "Doe"}},
			backends.Attrs{"uid": {"jdoe"}, "givenName": {"Jane"}, "sn": {"Doe"}, "displayName": {}, "title": {},
				"departmentNumber": {}, "cn": {"Jane Doe"}}},
		// "" is no value: the default applies (Entra clears with "").
		{"empty family name", scim.Doc{"userName": "jdoe", "name": map[string]any{"givenName": "Jane", "familyName": ""}},
			backends.Attrs{"uid": {"jdoe"}, "givenName": {"Jane"}, "sn": {"jdoe"}, "displayName": {}, "title": {},
				"departmentNumber": {}, "cn": {"Jane"}}},
		{"default over an extension", scim.Doc{"userName": "jdoe", scim.EnterpriseSchema: map[string]any{"department": "R&D"}},
			backends.Attrs{"uid": {"jdoe"}, "givenName": {}, "sn": {"jdoe"}, "displayName": {}, "title": {"Staff (R&D)"},
				"departmentNumber": {"R&D"}, "cn": {"jdoe"}}},
	}
	for _, tc := range cases {
		got, err := m.ToNative(tc.doc)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %v\nwant %v", tc.name, got, tc.want)
		}
	}
}

// A stored value reads back as absent exactly when the default would
// have written it for the resource read without it.
func TestDefaultReadsBackAsAbsent(t *testing.T) {
	m, diags := decode(t, defaultsMapping)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for _, tc := range []struct {
		name  string
		attrs backends.Attrs
		want  scim.Doc
	}{
		{"defaulted", backends.Attrs{"uid": {"jdoe"}, "sn": {"jdoe"}, "cn": {"jdoe"}},
			scim.Doc{"id": "1", "userName": "jdoe"}},
		{"defaulted beside a given name", backends.Attrs{"uid": {"jdoe"}, "givenName": {"Jane"}, "sn": {"jdoe"}},
			scim.Doc{"id": "1", "userName": "jdoe", "name": map[string]any{"givenName": "Jane"}}},
		{"a real family name", backends.Attrs{"uid": {"jdoe"}, "sn": {"Doe"}},
			scim.Doc{"id": "1", "userName": "jdoe", "name": map[string]any{"familyName": "Doe"}}},
		// The userName changed outside the bridge: sn is no longer what
		// the default gives, so it is a real value.
		{"a stale default", backends.Attrs{"uid": {"jane"}, "sn": {"jdoe"}},
			scim.Doc{"id": "1", "userName": "jane", "name": map[string]any{"familyName": "jdoe"}}},
		{"compared exactly", backends.Attrs{"uid": {"jdoe"}, "sn": {"JDoe"}},
			scim.Doc{"id": "1", "userName": "jdoe", "name": map[string]any{"familyName": "JDoe"}}},
		{"two values", backends.Attrs{"uid": {"jdoe"}, "sn": {"jdoe", "Doe"}},
			scim.Doc{"id": "1", "userName": "jdoe", "name": map[string]any{"familyName": "jdoe"}}},
		{"extension default", backends.Attrs{"uid": {"jdoe"}, "sn": {"Doe"}, "departmentNumber": {"R&D"}, "title": {"Staff (R&D)"}},
			scim.Doc{"id": "1", "userName": "jdoe", "name": map[string]any{"familyName": "Doe"}, scim.EnterpriseSchema: map[string]any{"department": "R&D"}}},
		{"extension value", backends.Attrs{"uid": {"jdoe"}, "sn": {"Doe"}, "departmentNumber": {"R&D"}, "title": {"Boss"}},
			scim.Doc{"id": "1", "userName": "jdoe", "name": map[string]any{"familyName": "Doe"}, "title": "Boss", scim.EnterpriseSchema: map[string]any{"department": "R&D"}}},
	} {
		got, err := m.FromNative(backends.Record{ID: "1", Attrs: tc.attrs})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %v\nwant %v", tc.name, got, tc.want)
		}
	}
}

// What a client sends reads back as sent, and a write of what was read
// back changes nothing: the default survives a round trip unseen, and a
// new userName carries a defaulted sn along.
func TestDefaultRoundTrip(t *testing.T) {
	m, diags := decode(t, defaultsMapping)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	sent := scim.Doc{"userName": "jdoe", "name": map[string]any{"givenName": "Jane"}}
	stored, err := m.ToNative(sent)
	if err != nil {
		t.Fatal(err)
	}
	read, err := m.FromNative(backends.Record{ID: "1", Attrs: stored})
	if err != nil {
		t.Fatal(err)
	}
	if got := GetPathOrNil(m, read, "name.familyName"); got != nil {
		t.Fatalf("familyName read back as %v, the client sent none: %v", got, read)
	}
	again, err := m.ToNative(read)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, stored) {
		t.Errorf("writing what was read changes the record:\n got %v\nwant %v", again, stored)
	}
	// A PATCH of userName: the general path maps the whole resource.
	read["userName"] = "jane.doe"
	renamed, err := m.ToNative(read)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(renamed["sn"], []string{"jane.doe"}) || !slices.Equal(renamed["cn"], []string{"Jane"}) {
		t.Errorf("after the rename: sn %v cn %v", renamed["sn"], renamed["cn"])
	}
	// Removing a real family name falls back to the default.
	withName := scim.Doc{"userName": "jdoe", "name": map[string]any{"familyName": "Doe"}}
	if err := scim.SetPath(m.RT, withName, mustPath(t, m, "name.familyName"), nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.ToNative(withName); !slices.Equal(got["sn"], []string{"jdoe"}) {
		t.Errorf("after removing familyName: sn %v", got["sn"])
	}
}

func GetPathOrNil(m *Mapping, doc scim.Doc, path string) any {
	p, err := scim.ResolvePath(m.RT, path)
	if err != nil {
		return err
	}
	return scim.GetPath(m.RT, doc, p)
}

func mustPath(t *testing.T, m *Mapping, path string) scim.Path {
	t.Helper()
	p, err := scim.ResolvePath(m.RT, path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Filters on an attribute with a default select a superset in the
// directory (a defaulted value matches there but reads back as absent);
// the bridge narrows it in memory. ne cannot be pushed down at all.
func TestDefaultFiltersAndSorts(t *testing.T) {
	m, diags := decode(t, defaultsMapping)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	sn := backends.Compare{Attr: "sn", Op: backends.Eq, Value: "Doe", IgnoreCase: true}
	for _, tc := range []struct {
		filter string
		want   backends.Filter
		exact  bool
	}{
		{`userName eq "jdoe"`, backends.Compare{Attr: "uid", Op: backends.Eq, Value: "jdoe", IgnoreCase: true}, true},
		{`name.familyName eq "Doe"`, sn, false},
		{`name.familyName pr`, backends.Present{Attr: "sn"}, false},
		{`name.familyName ne "Doe"`, nil, false},
		{`not (name.familyName eq "Doe")`, nil, false},
		{`name.familyName eq "Doe" or userName eq "x"`, backends.Or{Filters: []backends.Filter{sn,
			backends.Compare{Attr: "uid", Op: backends.Eq, Value: "x", IgnoreCase: true}}}, false},
	} {
		expr, err := scim.ParseFilter(tc.filter)
		if err != nil {
			t.Fatal(err)
		}
		got, exact := m.Compile(expr)
		if !reflect.DeepEqual(got, tc.want) || exact != tc.exact {
			t.Errorf("%s:\n got %#v exact=%v\nwant %#v exact=%v", tc.filter, got, exact, tc.want, tc.exact)
		}
	}
	if key, ok := m.SortKey("name.familyName"); ok {
		t.Errorf("SortKey(name.familyName) = %q: a defaulted value would sort as a real one", key)
	}
}

func TestDefaultDependsOn(t *testing.T) {
	m, diags := decode(t, defaultsMapping)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for path, want := range map[string]bool{
		"userName": true, "name.familyName": true, "title": true,
		scim.EnterpriseSchema + ":department": true,
		"name.givenName":                      true, // same attribute as familyName: name
		"displayName":                         false, "emails": false,
	} {
		p := mustPath(t, m, path)
		if got := m.DefaultDependsOn(p.Schema, p.Attr); got != want {
			t.Errorf("DefaultDependsOn(%s) = %v, want %v", path, got, want)
		}
	}
}

func TestDefaultDiagnostics(t *testing.T) {
	base := "attribute \"userName\" { native = \"uid\" }\nattribute \"password\" { native = \"pw\" }\nattribute \"groups.value\" { native = \"memberOf\" }\n"
	cases := []struct{ src, summary, detail string }{
		{`attribute "name.familyName" {
  native  = "sn"
  default = value
}`, "Unknown variable", `no variable named "value" in default`},
		{`attribute "name.familyName" {
  native  = "sn"
  default = resource.usrName
}`, "Unknown SCIM attribute", "usrName"},
		{`attribute "name.familyName" {
  native  = "sn"
  default = shell(resource.userName)
}`, "Call to unknown function", "shell"},
		{`attribute "meta.created" {
  native  = "createTimestamp"
  default = "20240101000000Z"
}`, "Invalid default", "read-only"},
		{`attribute "emails[type eq \"work\"].value" {
  native  = "mail"
  default = resource.userName
}`, "Invalid default", "singular"},
		{`attribute "roles.value" {
  native  = "role"
  default = "staff"
}`, "Invalid default", "singular"},
		{`attribute "nickName" {
  native  = "nick"
  default = resource.id
}`, "Invalid default", "reads id"},
		{`attribute "nickName" {
  native  = "nick"
  default = length(resource.groups)
}`, "Invalid default", "reads groups"},
		{`attribute "nickName" {
  native  = "nick"
  default = resource.password
}`, "Invalid default", "never read back"},
		{`attribute "nickName" {
  native  = "nick"
  default = resource
}`, "Invalid default", "whole resource"},
		{`attribute "nickName" {
  native  = "nick"
  default = resource.enterprise
}`, "Invalid default", "whole extension"},
		{`attribute "name.familyName" {
  native  = "sn"
  default = resource.nickName
}
attribute "nickName" {
  native  = "nick"
  default = resource.userName
}`, "Invalid default", "has a default itself"},
		{`attribute "name.familyName" {
  native  = "sn"
  default = resource.name.familyName
}`, "Invalid default", "has a default itself"},
	}
	for _, tc := range cases {
		_, diags := decode(t, base+tc.src)
		found := false
		for _, d := range diags {
			if d.Summary == tc.summary && strings.Contains(d.Detail, tc.detail) && d.Subject != nil && d.Subject.Start.Line > 3 {
				found = true
			}
		}
		if !found {
			t.Errorf("%s\n want %q (%q) with a range, got %v", tc.src, tc.summary, tc.detail, diags)
		}
	}
	// Reading a sibling sub-attribute is fine.
	if _, diags := decode(t, base+`attribute "name.givenName" { native = "gn" }
attribute "name.familyName" {
  native  = "sn"
  default = coalesce(resource.name.givenName, resource.userName)
}`); diags.HasErrors() {
		t.Errorf("a default over a sibling sub-attribute: %v", diags)
	}
}

// A default is the native value: to_native applies to sent values only.
func TestDefaultIsNative(t *testing.T) {
	m, diags := decode(t, `attribute "userName" { native = "uid" }
attribute "nickName" {
  native    = "nick"
  to_native = upper(value)
  default   = "none"
}`)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for sent, want := range map[string]string{"": "none", "bo": "BO"} {
		got, err := m.ToNative(scim.Doc{"userName": "x", "nickName": sent})
		if err != nil || !slices.Equal(got["nick"], []string{want}) {
			t.Errorf("nickName %q: nick %v (%v), want %q", sent, got["nick"], err, want)
		}
	}
	doc, err := m.FromNative(backends.Record{ID: "1", Attrs: backends.Attrs{"uid": {"x"}, "nick": {"none"}}})
	if err != nil || doc["nickName"] != nil {
		t.Errorf("a stored default reads back as %v (%v)", doc, err)
	}
}

func BenchmarkFromNativeWithDefault(b *testing.B) {
	for _, tc := range []struct{ name, src string }{
		{"plain", `attribute "userName" { native = "uid" }
attribute "name.givenName" { native = "givenName" }
attribute "name.familyName" { native = "sn" }
attribute "emails[type eq \"work\"].value" { native = "mail" }`},
		{"default", `attribute "userName" { native = "uid" }
attribute "name.givenName" { native = "givenName" }
attribute "name.familyName" {
  native  = "sn"
  default = resource.userName
}
attribute "emails[type eq \"work\"].value" { native = "mail" }`},
	} {
		b.Run(tc.name, func(b *testing.B) {
			f, diags := hclsyntax.ParseConfig([]byte(tc.src), "m.hcl", hcl.InitialPos)
			if diags.HasErrors() {
				b.Fatal(diags)
			}
			rt := &scim.ResourceType{Name: "User", Endpoint: "/Users", Schema: scim.CoreUser(), Extensions: []scim.Extension{{Schema: scim.EnterpriseUser()}}}
			m, diags := Decode(f.Body, rt)
			if diags.HasErrors() {
				b.Fatal(diags)
			}
			rec := backends.Record{ID: "1", Attrs: backends.Attrs{"uid": {"jdoe"}, "givenName": {"Jane"}, "sn": {"Doe"}, "mail": {"j@x"}}}
			for b.Loop() {
				if _, err := m.FromNative(rec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestCopiedDefaultReadsAsEvaluated: a default that copies a resource
// attribute (resource.userName) is recognized at load and read without an
// evaluation, with the same outcome as evaluating it, for records where
// the stored value equals the copied one, differs, or either is missing.
func TestCopiedDefaultReadsAsEvaluated(t *testing.T) {
	src := defaultsMapping + `
attribute "nickName" {
  native  = "nick"
  default = resource.name.givenName
}
`
	m, diags := decode(t, src)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	copies := map[string]bool{}
	for _, a := range m.defaults {
		copies[a.Label] = a.defaultCopies != nil
	}
	if !copies["name.familyName"] || !copies["nickName"] || copies["title"] {
		t.Fatalf("copied defaults recognized: %v; want name.familyName and nickName, not title", copies)
	}
	recs := []backends.Attrs{
		{"uid": {"jdoe"}, "sn": {"jdoe"}, "givenName": {"Jane"}, "nick": {"Jane"}},
		{"uid": {"jdoe"}, "sn": {"Doe"}, "givenName": {"Jane"}, "nick": {"J"}},
		{"uid": {"jdoe"}, "sn": {"jdoe"}, "nick": {"x"}},
		{"uid": {"jdoe"}, "givenName": {""}, "nick": {""}},
		{"sn": {"x"}},
	}
	for _, attrs := range recs {
		fast, err := m.FromNative(backends.Record{ID: "1", Attrs: attrs})
		if err != nil {
			t.Fatal(err)
		}
		saved := map[*Attr]*readPath{}
		for _, a := range m.defaults {
			saved[a], a.defaultCopies = a.defaultCopies, nil
		}
		slow, err := m.FromNative(backends.Record{ID: "1", Attrs: attrs})
		for a, rp := range saved {
			a.defaultCopies = rp
		}
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Errorf("%v: read %v without evaluating, %v evaluating", attrs, fast, slow)
		}
	}
}
