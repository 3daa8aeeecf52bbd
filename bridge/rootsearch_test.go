package bridge_test

import (
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/bridge/bridgetest"
)

// TestRootSearchScopes: POST /.search searches only the resource types
// the credential may read, leaves out the attributes it may not read, and
// keeps the scan bounds: with sortBy it reads at most max_filter_scan
// resources of each type.
func TestRootSearchScopes(t *testing.T) {
	for _, tg := range queryTargets(t, "max_filter_scan = 20", scopedTokens) {
		t.Run(tg.name, func(t *testing.T) {
			full := *tg.c
			full.T = t
			u := full.Must(201, "POST", "/Users", map[string]any{"userName": "root.scoped", "displayName": "root scoped", "active": true})
			uid := bridgetest.Str(u.JSON, "id")
			full.Must(201, "POST", "/Groups", map[string]any{"displayName": "root scoped group", "members": []any{map[string]any{"value": uid}}})
			as := func(token string) *bridgetest.Client {
				cl := full
				cl.Auth = "Bearer " + token
				return &cl
			}
			body := map[string]any{"filter": `displayName sw "root scoped"`, "sortBy": "displayName", "count": 5}
			r := as("sb_ureader_Vn3kPq8ZtX2wLm9CbR5yHj7sDf4Ga6Ue").Must(200, "POST", "/.search", body)
			if bridgetest.Str(r.JSON, "totalResults") != "1" || strings.Contains(string(r.Body), `"Group"`) || strings.Contains(string(r.Body), `"groups"`) {
				t.Errorf("get:users only: %s, want the user without its groups", r.Body)
			}
			r = as("sb_greader_Ht6yNc2QmW9vXp4KsL7bZr3Fd8Ju5Ea").Must(200, "POST", "/.search", body)
			if bridgetest.Str(r.JSON, "totalResults") != "1" || strings.Contains(string(r.Body), `"User"`) || strings.Contains(string(r.Body), `"members"`) {
				t.Errorf("get:groups only: %s, want the group without its members", r.Body)
			}
			// Naming a withheld attribute is still a 403.
			r = as("sb_ureader_Vn3kPq8ZtX2wLm9CbR5yHj7sDf4Ga6Ue").Do("POST", "/.search", map[string]any{"filter": `groups.value eq "x"`})
			if r.Status != 403 {
				t.Errorf("get:users only, filter on groups: %d %s, want 403", r.Status, r.Body)
			}
			r = full.Do("POST", "/.search", map[string]any{"sortBy": "displayName", "startIndex": 15, "count": 10})
			if r.Status != 400 || !strings.Contains(string(r.Body), "max_filter_scan") {
				t.Errorf("sorted page past max_filter_scan: %d %s, want 400", r.Status, r.Body)
			}
			r = full.Do("POST", "/.search", map[string]any{"filter": "password pr"})
			if r.Status != 400 {
				t.Errorf("filter on the write-only password: %d %s, want 400", r.Status, r.Body)
			}
		})
	}
}
