package mapping

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/scim"
)

func decode(t *testing.T, src string) (*Mapping, hcl.Diagnostics) {
	t.Helper()
	f, diags := hclsyntax.ParseConfig([]byte(src), "m.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	rt := &scim.ResourceType{Name: "User", Endpoint: "/Users", Schema: scim.CoreUser(), Extensions: []scim.Extension{{Schema: scim.EnterpriseUser()}}}
	return Decode(f.Body, rt)
}

const userMapping = `
attribute "userName" { native = "login" }
attribute "name.givenName" { native = "first" }
attribute "name.familyName" { native = "last" }
attribute "emails[type eq \"work\"].value" { native = "email" }
attribute "emails[type eq \"home\"].value" { native = "email2" }
attribute "active" {
  native = "status"
  to_native = value ? "A" : "D"
  from_native = value == "A"
}
attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber" { native = "empno" }
attribute "roles.value" { native = "role" }
computed "full_name" { value = join(" ", compact([resource.name.givenName, resource.name.familyName])) }
`

func TestRoundTrip(t *testing.T) {
	m, diags := decode(t, userMapping)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	doc := scim.Doc{"userName": "jd", "name": map[string]any{"givenName": "J", "familyName": "D"}, "active": false,
		"emails":              []any{map[string]any{"value": "h@x", "type": "home"}, map[string]any{"value": "w@x", "type": "work"}},
		scim.EnterpriseSchema: map[string]any{"employeeNumber": "7"}, "roles": []any{map[string]any{"value": "a"}, map[string]any{"value": "b"}}}
	attrs, err := m.ToNative(doc)
	if err != nil {
		t.Fatal(err)
	}
	want := backends.Attrs{"login": {"jd"}, "first": {"J"}, "last": {"D"}, "email": {"w@x"}, "email2": {"h@x"},
		"status": {"D"}, "empno": {"7"}, "role": {"a", "b"}, "full_name": {"J D"}}
	if !reflect.DeepEqual(attrs, want) {
		t.Fatalf("ToNative:\n got %v\nwant %v", attrs, want)
	}
	back, err := m.FromNative(backends.Record{ID: "1", Attrs: attrs})
	if err != nil {
		t.Fatal(err)
	}
	if back["active"] != false || back["userName"] != "jd" || len(back["emails"].([]any)) != 2 || len(back["roles"].([]any)) != 2 {
		t.Fatalf("FromNative: %v", back)
	}
	if back[scim.EnterpriseSchema].(map[string]any)["employeeNumber"] != "7" {
		t.Fatalf("extension: %v", back)
	}
	// Absent attributes map to "no value" so that PUT clears them.
	attrs, _ = m.ToNative(scim.Doc{"userName": "jd"})
	if v, ok := attrs["first"]; !ok || len(v) != 0 {
		t.Errorf("absent givenName: %v", attrs)
	}
}

func TestDecodeDiagnostics(t *testing.T) {
	cases := map[string]string{
		`attribute "nosuch" { native = "x" }`:                                                 "Unknown SCIM attribute path",
		`attribute "id" { native = "x" }`:                                                     "The id cannot be mapped",
		`attribute "name" { native = "x" }`:                                                   "Map sub-attributes",
		`attribute "emails.type" { native = "x" }`:                                            "Ambiguous multi-valued path",
		`attribute "emails[type co \"w\"].value" { native = "x" }`:                            "Unsupported element filter",
		`attribute "title" { native = "x" }` + "\n" + `attribute "title" { native = "y" }`:    "Duplicate attribute mapping",
		`attribute "title" { native = "x" }` + "\n" + `attribute "nickName" { native = "x" }`: "Native attribute mapped twice",
		`attribute "title" { native = "" }`:                                                   "Invalid native attribute name",
		`attribute "title" {
  native = "x"
  to_native = upper(valeu)
}`: "Unknown variable",
		`attribute "title" {
  native = "x"
  to_native = resource.name.gievnName
}`: "Unknown SCIM attribute",
		`attribute "title" {
  native = "x"
  from_native = resource.title
}`: "Unknown variable",
		`attribute "title" {
  native = "x"
  to_native = shell(value)
}`: "Call to unknown function",
	}
	for src, want := range cases {
		_, diags := decode(t, src)
		found := false
		for _, d := range diags {
			if d.Summary == want && d.Subject != nil && d.Subject.Start.Line > 0 {
				found = true
			}
		}
		if !found {
			t.Errorf("%s\n want diagnostic %q with a range, got %v", src, want, diags)
		}
	}
}

func TestCompile(t *testing.T) {
	m, diags := decode(t, userMapping)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	cases := []struct {
		filter string
		want   backends.Filter
		exact  bool
	}{
		{`userName eq "Jo"`, backends.Compare{Attr: "login", Op: backends.Eq, Value: "Jo", IgnoreCase: true}, true},
		// from_native without filter_values: in memory ('L' may read as
		// true, which native = to_native(true) would miss).
		{`active eq false`, nil, false},
		{`active pr`, nil, false},
		{`emails[type eq "work"].value eq "a@b"`, backends.Compare{Attr: "email", Op: backends.Eq, Value: "a@b", IgnoreCase: true}, true},
		{`emails.value co "x"`, backends.Or{Filters: []backends.Filter{
			backends.Compare{Attr: "email", Op: backends.Co, Value: "x", IgnoreCase: true},
			backends.Compare{Attr: "email2", Op: backends.Co, Value: "x", IgnoreCase: true}}}, true},
		{`title eq "x"`, nil, false}, // unmapped: evaluated in memory
		{`userName sw "j" and title eq "x"`, backends.Compare{Attr: "login", Op: backends.Sw, Value: "j", IgnoreCase: true}, false},
		{`userName sw "j" or title eq "x"`, nil, false},
		{`not (userName eq "j")`, backends.Not{Filter: backends.Compare{Attr: "login", Op: backends.Eq, Value: "j", IgnoreCase: true}}, true},
		{`active sw "t"`, nil, false},
		{`name.givenName pr`, backends.Present{Attr: "first"}, true},
	}
	for _, tc := range cases {
		expr, err := scim.ParseFilter(tc.filter)
		if err != nil {
			t.Fatal(err)
		}
		got, exact := m.Compile(expr)
		if !reflect.DeepEqual(got, tc.want) || exact != tc.exact {
			t.Errorf("%s:\n got %#v exact=%v\nwant %#v exact=%v", tc.filter, got, exact, tc.want, tc.exact)
		}
	}
}

// TestCompileFilterValues: filter_values says which native values read as
// a SCIM value; eq and ne go down through it, other operators stay in
// memory; a boolean side given as null is the complement of the other.
func TestCompileFilterValues(t *testing.T) {
	m, diags := decode(t, `
attribute "active" {
  native        = "status"
  to_native     = value ? "E" : "D"
  from_native   = value != "D"
  filter_values = value ? null : ["D"]
}
attribute "title" {
  native        = "job"
  to_native     = lower(value)
  from_native   = upper(value)
  filter_values = [lower(value), null]
}
attribute "displayName" {
  native    = "dn_text"
  to_native = format("%s (HR)", value)
}`)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	isD := backends.Compare{Attr: "status", Op: backends.Eq, Value: "D"}
	jobX := backends.Or{Filters: []backends.Filter{backends.Compare{Attr: "job", Op: backends.Eq, Value: "boss"},
		backends.Not{Filter: backends.Present{Attr: "job"}}}}
	for _, tc := range []struct {
		filter string
		want   backends.Filter
		exact  bool
	}{
		{`active eq false`, isD, true},
		{`active eq true`, backends.Not{Filter: isD}, true},
		{`active ne true`, backends.Not{Filter: backends.Not{Filter: isD}}, true},
		{`active pr`, nil, false},
		{`title eq "BOSS"`, jobX, true},
		{`title ne "BOSS"`, backends.Not{Filter: jobX}, true},
		{`title sw "B"`, nil, false},
		// to_native without from_native reads the native value as it is:
		// the filter compares it as it is too.
		{`displayName eq "Jo"`, backends.Compare{Attr: "dn_text", Op: backends.Eq, Value: "Jo", IgnoreCase: true}, true},
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
	_, diags = decode(t, `attribute "title" {
  native = "job"
  filter_values = [value, record.x]
}`)
	var summaries []string
	for _, d := range diags {
		summaries = append(summaries, d.Summary)
	}
	if got := strings.Join(summaries, "; "); !strings.Contains(got, "Unknown variable") || !strings.Contains(got, "filter_values without from_native") {
		t.Errorf("diagnostics: %s", got)
	}
}

func TestOneElementMappingTakesUntypedValues(t *testing.T) {
	m, _ := decode(t, `attribute "emails[type eq \"work\"].value" { native = "mail" }`)
	attrs, err := m.ToNative(scim.Doc{"emails": []any{map[string]any{"value": "x@y", "primary": true}}})
	if err != nil || strings.Join(attrs["mail"], ",") != "x@y" {
		t.Fatalf("%v %v", attrs, err)
	}
}

func TestCompileResidualNamesWhatStaysInMemory(t *testing.T) {
	m, diags := decode(t, userMapping+`attribute "password" { native = "pw" }`)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	cases := []struct {
		filter   string
		exact    bool
		residual []string
	}{
		{`userName eq "x"`, true, nil},
		{`title eq "x"`, false, []string{"title"}},
		{`userName sw "j" and TITLE eq "x"`, false, []string{"title"}},
		{`emails.type eq "work" or (title pr and emails.type eq "home")`, false, []string{"emails.type", "title"}},
		{`not (id eq "1")`, false, []string{"id"}},
		{`emails[type eq "other" and value co "x"]`, false, []string{"emails"}},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "x"`, false,
			[]string{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"}},
		// A write-only attribute is never pushed down, even when mapped.
		{`password eq "secret"`, false, []string{"password"}},
	}
	for _, tc := range cases {
		expr, err := scim.ParseFilter(tc.filter)
		if err != nil {
			t.Fatal(err)
		}
		_, exact, residual := m.CompileResidual(expr)
		if exact != tc.exact || !reflect.DeepEqual(residual, tc.residual) {
			t.Errorf("%s: exact=%v residual=%q, want exact=%v residual=%q", tc.filter, exact, residual, tc.exact, tc.residual)
		}
	}
}

func TestWriteOnlyIsNeverReadNorSorted(t *testing.T) {
	m, diags := decode(t, userMapping+`attribute "password" { native = "pw" }`)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if key, ok := m.SortKey("password"); ok {
		t.Errorf("SortKey(password) = %q: a sort by the stored password is an oracle on it", key)
	}
	if _, ok := m.SortKey("userName"); !ok {
		t.Error("SortKey(userName) refused")
	}
	for _, n := range m.NativeAttrs(true) {
		if n == "pw" {
			t.Errorf("NativeAttrs reads the password column: %v", m.NativeAttrs(true))
		}
	}
	doc, err := m.FromNative(backends.Record{ID: "1", Attrs: backends.Attrs{"login": {"a"}, "pw": {"secret"}}})
	if err != nil || doc["password"] != nil {
		t.Errorf("FromNative rendered the password: %v %v", doc, err)
	}
	for path, want := range map[string]bool{"password": true, "userName": false, "emails.value": false, "name.givenName": false} {
		p, err := scim.ResolvePath(m.RT, path)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.WriteOnly(p); got != want {
			t.Errorf("WriteOnly(%s) = %v, want %v", path, got, want)
		}
	}
}

// A custom sub-attribute declared writeOnly is as hidden as password.
func TestWriteOnlySubAttribute(t *testing.T) {
	ext := &scim.Schema{ID: "urn:ietf:params:scim:schemas:extension:acme:2.0:User", Attributes: []*scim.Attribute{
		{Name: "creds", Type: scim.TypeComplex, MultiValued: true, Mutability: scim.ReadWrite, Returned: "default", SubAttributes: []*scim.Attribute{
			{Name: "type", Type: scim.TypeString, Mutability: scim.ReadWrite, Returned: "default"},
			{Name: "secret", Type: scim.TypeString, Mutability: scim.WriteOnly, Returned: "never"},
		}},
	}}
	f, diags := hclsyntax.ParseConfig([]byte(`attribute "userName" { native = "login" }
attribute "urn:ietf:params:scim:schemas:extension:acme:2.0:User:creds[type eq \"otp\"].secret" { native = "otp" }
attribute "urn:ietf:params:scim:schemas:extension:acme:2.0:User:creds[type eq \"otp\"].type" { native = "otpType" }
`), "m.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	rt := &scim.ResourceType{Name: "User", Endpoint: "/Users", Schema: scim.CoreUser(), Extensions: []scim.Extension{{Schema: ext}}}
	m, diags := Decode(f.Body, rt)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	doc, err := m.FromNative(backends.Record{ID: "1", Attrs: backends.Attrs{"login": {"a"}, "otp": {"s3cret"}, "otpType": {"otp"}}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(fmt.Sprint(doc), "s3cret") {
		t.Errorf("FromNative rendered a writeOnly sub-attribute: %v", doc)
	}
	p, err := scim.ResolvePath(rt, ext.ID+":creds.secret")
	if err != nil {
		t.Fatal(err)
	}
	if !m.WriteOnly(p) {
		t.Error("WriteOnly(creds.secret) = false")
	}
	if p, _ := scim.ResolvePath(rt, ext.ID+":creds"); m.WriteOnly(p) {
		t.Error("WriteOnly(creds) = true: only its secret is write-only")
	}
}
