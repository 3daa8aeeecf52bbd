package mapping

import (
	"strings"
	"testing"
)

// Unknown names in a mapping come with the closest known one, when there
// is a close one.
func TestDidYouMean(t *testing.T) {
	cases := []struct {
		src, want string
	}{
		{`attribute "userNme" { native = "x" }`, `Did you mean "userName"?`},
		{`attribute "name.givnName" { native = "x" }`, `Did you mean "name.givenName"?`},
		{`attribute "nmae.givenName" { native = "x" }`, `Did you mean "name.givenName"?`},
		{`attribute "emails[type eq \"work\"].vlaue" { native = "x" }`, `Did you mean "emails[type eq \"work\"].value"?`},
		{`attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeNumber" { native = "x" }`,
			`Did you mean "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"?`},
		{`attribute "urn:ietf:params:scim:schemas:extension:enterprize:2.0:User:employeeNumber" { native = "x" }`,
			`Did you mean "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"?`},
		{`attribute "externalID2" { native = "x" }`, `Did you mean "externalId"?`},
		{"attribute \"displayName\" {\n native = \"x\"\n to_native = uper(value)\n}", `Did you mean "upper"?`},
		{"attribute \"displayName\" {\n native = \"x\"\n to_native = resource.username\n}", `Did you mean "userName"?`},
		{"attribute \"displayName\" {\n native = \"x\"\n to_native = resource.name.familyNam\n}", `Did you mean "familyName"?`},
		{"attribute \"displayName\" {\n native = \"x\"\n to_native = resource.enterprise.departmnt\n}", `Did you mean "department"?`},
		{"attribute \"displayName\" {\n native = \"x\"\n to_native = valeu\n}", `Did you mean "value"?`},
	}
	for _, tc := range cases {
		_, diags := decode(t, tc.src)
		if !diags.HasErrors() {
			t.Errorf("%s: no error", tc.src)
			continue
		}
		if got := diags.Error(); !strings.Contains(got, tc.want) {
			t.Errorf("%s:\n got %s\nwant %s", tc.src, got, tc.want)
		}
	}
	// Far from every name: no guess.
	for _, src := range []string{
		`attribute "qqqqqqqq" { native = "x" }`,
		"attribute \"displayName\" {\n native = \"x\"\n to_native = frobnicate(value)\n}",
	} {
		_, diags := decode(t, src)
		if !diags.HasErrors() || strings.Contains(diags.Error(), "Did you mean") {
			t.Errorf("%s: %v", src, diags)
		}
	}
}
