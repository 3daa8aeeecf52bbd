package rest_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/backends/rest/jsontest"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
)

// TestGuideExampleServed serves the complete example of docs/rest.md
// against a real json-server (its base_url pointed there) and provisions
// through it.
func TestGuideExampleServed(t *testing.T) {
	b, err := os.ReadFile("../../docs/rest.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```hcl\n(.*?)```").FindStringSubmatch(string(b))
	if m == nil {
		t.Fatal("no hcl example in docs/rest.md")
	}
	srv := jsontest.Start(t)
	text := regexp.MustCompile(`(?m)^(\s*base_url\s*=\s*)"[^"]*"`).ReplaceAllString(m[1], `${1}"`+srv.URL+`"`)
	if !strings.Contains(text, srv.URL) {
		t.Fatal("no base_url in the example")
	}
	t.Setenv("SCIMBRIDGE_TOKEN", bridgetest.Token)
	br := bridgetest.Start(t, text, kinds.Types())
	c := bridgetest.NewClient(t, br.URL+"/scim/v2")
	uid := bridgetest.Str(c.Must(201, "POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": "ada",
		"name": map[string]any{"givenName": "Ada", "familyName": "Lovelace"}, "active": true}).JSON, "id")
	c.Must(409, "POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": "ADA"})
	gid := bridgetest.Str(c.Must(201, "POST", "/Groups", map[string]any{"schemas": []string{coreGroup}, "displayName": "analysts",
		"members": []any{map[string]any{"value": uid}}}).JSON, "id")
	c.Must(400, "POST", "/Groups", map[string]any{"schemas": []string{coreGroup}, "displayName": "ghosts",
		"members": []any{map[string]any{"value": "no-such-user"}}})
	if got := bridgetest.Str(c.Must(200, "GET", "/Users?filter="+`userName%20eq%20%22Ada%22`, nil).JSON, "totalResults"); got != "1" {
		t.Errorf("filter: totalResults %s, want 1", got)
	}
	c.Must(204, "DELETE", "/Users/"+uid, nil)
	g := srv.Records(t, "groups")
	if len(g) != 1 || g[0]["id"] != gid || len(g[0]["members"].([]any)) != 0 {
		t.Errorf("groups after deleting the member: %v", g)
	}
	u := srv.Records(t, "users")
	if len(u) != 0 {
		t.Errorf("users after the delete: %v", u)
	}
}
