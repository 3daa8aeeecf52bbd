package scim

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCheckValueSizes(t *testing.T) {
	big := strings.Repeat("x", 101)
	rt := &ResourceType{Name: "User", Schema: CoreUser(), Extensions: []Extension{{Schema: EnterpriseUser()}}}
	for _, tc := range []struct {
		body, path, name string
	}{
		{`{"userName":"ok","title":"` + big + `"}`, "", "title"},
		{`{"name":{"givenName":"` + big + `"}}`, "", "name.givenName"},
		{`{"emails":[{"value":"a"},{"value":"` + big + `"}]}`, "", "emails.value"},
		{`{"members":[{"value":"` + big + `"}]}`, "", "members.value"},
		{`{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"` + big + `"}}`, "", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"},
		{`{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"` + big + `"}}}`, "", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"},
		{`{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"` + big + `"}`, "", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"},
		{`{"externalId":` + strings.Repeat("9", 101) + `}`, "", "externalId"},
		{`{"givenName":"` + big + `"}`, "name", "name.givenName"},
		{`"` + big + `"`, `emails[type eq "work"].value`, `emails[type eq "work"].value`},
		{`{"department":"` + big + `"}`, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"},
		{`[{"value":"` + big + `"}]`, "members", "members.value"},
		{`{"urn:ietf:params:scim:schemas:core:2.0:User":{"userName":"` + big + `"}}`, "", "userName"},
		{`{"urn:ietf:params:scim:schemas:extension:acme:2.0:User":{"shoe":"` + big + `"}}`, "", "urn:ietf:params:scim:schemas:extension:acme:2.0:User.shoe"},
	} {
		dec := json.NewDecoder(strings.NewReader(tc.body))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		err := CheckValueSizes(rt, v, tc.path, 100)
		e, ok := AsError(err)
		if !ok || e.Status != 400 || e.ScimType != TypeInvalidValue || !strings.HasPrefix(e.Detail, tc.name+": a value has 101 bytes") {
			t.Errorf("%s at %q: %v, want 400 invalidValue naming %s", tc.body[:min(len(tc.body), 60)], tc.path, err, tc.name)
		}
		if err := CheckValueSizes(rt, v, tc.path, 101); err != nil {
			t.Errorf("%s at a limit of 101: %v", tc.body[:min(len(tc.body), 60)], err)
		}
	}
}
