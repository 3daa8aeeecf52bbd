package scimtest

import (
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
)

// SeedForOktaSpec creates the user and group Okta's SPEC test expects to
// find (its first step lists users and reads the first one's name, e-mail
// and active flag).
func SeedForOktaSpec(t interface {
	Helper()
	Fatalf(string, ...any)
}, c *bridgetest.Client) {
	t.Helper()
	u := c.Must(201, "POST", "/Users", map[string]any{
		"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName": "seed.user@example.com",
		"name":     map[string]any{"givenName": "Seed", "familyName": "User"},
		"emails":   []any{map[string]any{"value": "seed.user@example.com", "type": "work", "primary": true}},
		"active":   true,
	})
	c.Must(201, "POST", "/Groups", map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
		"displayName": "Seed Group",
		"members":     []any{map[string]any{"value": bridgetest.Str(u.JSON, "id")}},
	})
}
