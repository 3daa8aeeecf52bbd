package ldap_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
)

// Issue #10 item 11: the id attribute (entryUUID) read as another SCIM
// attribute too, with direction = "read": the start-up check accepts it,
// reads show it, a client's value is ignored, filters on it find the
// entry, and answers equal GETs.
func TestIDReadAsAttributeOpenLDAP(t *testing.T) {
	exampleEnv(t)
	const ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	text := bridgetest.EditFile(t, openLDAPExample,
		[2]string{`attribute "` + ent + `:employeeNumber" { native = "employeeNumber" }`,
			`attribute "` + ent + `:employeeNumber" {
      native    = "entryUUID"
      direction = "read"
    }`})
	if diags := bridgetest.Check(t, text, kinds.Types()); len(diags) != 0 {
		t.Fatalf("a read-only mapping of the id: %v", diags)
	}
	c := bridgetest.NewClient(t, bridgetest.Start(t, text, kinds.Types()).URL+"/scim/v2")
	u := c.Must(201, "POST", "/Users", map[string]any{"schemas": []string{coreUser, ent}, "userName": "idread",
		"name": map[string]any{"givenName": "Id", "familyName": "Read"}, ent: map[string]any{"employeeNumber": "99"}})
	id := str(u, "id")
	ext, _ := u.JSON[ent].(map[string]any)
	if ext == nil || ext["employeeNumber"] != id {
		t.Fatalf("POST answer: employeeNumber %v, want the id %s: %s", ext, id, u.Body)
	}
	if g := c.Must(200, "GET", "/Users/"+id, nil); string(g.Body) != string(u.Body) {
		t.Fatalf("answer and GET differ:\n%s\n%s", u.Body, g.Body)
	}
	l := c.Must(200, "GET", "/Users?filter="+url.QueryEscape(ent+`:employeeNumber eq "`+id+`"`), nil)
	if r, _ := l.JSON["Resources"].([]any); len(r) != 1 || !strings.Contains(string(l.Body), `"id":"`+id+`"`) {
		t.Fatalf("filter on employeeNumber: %s", l.Body)
	}
}
