package bridge

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/mapping"
	"github.com/scimbridge/scimbridge/bridge/scim"
)

func testMapping(t *testing.T) *mapping.Mapping {
	t.Helper()
	src := `
attribute "userName" { native = "login" }
attribute "name.familyName" { native = "last" }
attribute "emails[type eq \"work\"].value" { native = "email" }
attribute "active" {
  native    = "status"
  to_native = value ? "A" : "D"
}
attribute "password" {
  native    = "pw"
  to_native = sha256(value)
}
attribute "x509Certificates.value" { native = "certs" }
computed "full_name" { value = join(" ", compact([resource.name.givenName, resource.name.familyName])) }
`
	f, diags := hclsyntax.ParseConfig([]byte(src), "m.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	m, diags := mapping.Decode(f.Body, &scim.ResourceType{Name: "User", Endpoint: "/Users", Schema: scim.CoreUser()})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return m
}

// TestToSCIMErrorWording: every kind of backend refusal becomes a detail
// in SCIM terms, with the client's value where it is safe to show.
func TestToSCIMErrorWording(t *testing.T) {
	r := &Resource{RT: &scim.ResourceType{Name: "User"}, Mapping: testMapping(t)}
	doc := scim.Doc{"userName": "Ann", "password": "hunter2", "active": true,
		"emails":           []any{map[string]any{"type": "work", "value": "ann@example.com"}},
		"x509Certificates": []any{map[string]any{"value": "AAA"}, map[string]any{"value": "BBB"}}}
	native := errors.New("UNIQUE constraint failed: app_users.login (2067)")
	for _, tc := range []struct {
		name   string
		err    error
		doc    scim.Doc
		status int
		detail string
	}{
		{"conflict", backends.Conflict("LOGIN", "", native), doc, 409, `userName "Ann" is already taken`},
		{"conflict without the value", backends.Conflict("login", "", native), nil, 409, "userName is already taken by another User"},
		{"conflict, backend's value of a plain copy", backends.Conflict("login", "ann", native), nil, 409, `userName "ann" is already taken`},
		{"conflict on an element", backends.Conflict("email", "", native), doc, 409, `emails[type eq "work"].value "ann@example.com" is already taken`},
		{"conflict on one value of many", backends.Conflict("certs", "bbb", native), doc, 409, `x509Certificates "BBB" is already taken`},
		{"conflict on a computed attribute", backends.Conflict("full_name", "", native), doc, 409, "name is already taken by another User"},
		{"conflict, no attribute", fmt.Errorf("sql: %w: %w", backends.ErrAlreadyExists, native), doc, 409, "a User with these values already exists"},
		{"secret", backends.Invalid("pw", "5e884898", "does not meet the directory's password policy", native), doc, 400, "password does not meet the directory's password policy"},
		{"not null behind an expression", backends.Invalid("status", "", "must have a value", native), scim.Doc{}, 400, "active must have a value"},
		{"invalid with a reason", backends.Invalid("last", "", "has 70 characters; at most 64 fit", native), scim.Doc{"name": map[string]any{"familyName": "Long"}}, 400, `name.familyName "Long" has 70 characters; at most 64 fit`},
		{"invalid, no attribute", fmt.Errorf("ldap: %w: object class violation", backends.ErrInvalid), doc, 400, "the directory refused a value of this User; the bridge's log says which"},
		{"invalid on a read", fmt.Errorf("sql: %w: filter value", backends.ErrInvalid), nil, 400, "the directory refused this request; the bridge's log says why"},
		{"unknown reference", &backends.AttrError{Kind: backends.ErrInvalidReference, Attr: "certs", Value: "ghost", Err: native}, nil, 400, `x509Certificates: "ghost" is not the id of an existing resource`},
		{"unwritten attribute", backends.Invalid("tenant", "", "must have a value", native), doc, 500, "the directory refused the write for a value the bridge's mapping does not provide; see the server log"},
		{"a procedure's message", &backends.AdminMessage{Kind: backends.ErrInvalid, Msg: "login Ann is reserved", Err: native}, doc, 400, "login Ann is reserved"},
		{"not found inside a refusal", &backends.AttrError{Kind: backends.ErrInvalidReference, Attr: "certs", Value: "x", Err: backends.ErrNotFound}, nil, 400, `x509Certificates: "x" is not the id of an existing resource`},
		{"unusable upstream answer", fmt.Errorf("rest: %w: GET /users/1 is not JSON: %q", backends.ErrBadUpstream, "<html>hunter2</html>"), doc, 502, "the directory answered something the bridge cannot use (not JSON, too large, or without the record's id); the bridge's log says which"},
	} {
		e := ToSCIMError(r.fromBackend(tc.err, tc.doc))
		if e.Status != tc.status || e.Detail != tc.detail {
			t.Errorf("%s: %d %q, want %d %q", tc.name, e.Status, e.Detail, tc.status, tc.detail)
		}
		if e.Status < 500 && !e.Withheld {
			t.Errorf("%s: the native cause is not marked for the log", tc.name)
		}
		if strings.Contains(e.Detail, "hunter2") || strings.Contains(e.Detail, "5e884898") || strings.Contains(e.Detail, "app_users") {
			t.Errorf("%s: %q shows a secret or a native name", tc.name, e.Detail)
		}
	}
}
