package bridge_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/config"
)

func bulkBody(ops ...map[string]any) map[string]any {
	return map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:BulkRequest"}, "Operations": ops}
}

func bulkPost(i int, extra string) map[string]any {
	return map[string]any{"method": "POST", "path": "/Users", "bulkId": fmt.Sprint("b", i),
		"data": map[string]any{"userName": fmt.Sprintf("bulk.limit.%d", i), "title": extra}}
}

// TestBulkLimits: bulk_max_operations and bulk_max_payload_bytes are
// enforced (413, nothing written) and advertised; the body is charged to
// max_body_memory as any other; bulk_max_operations = 0 turns /Bulk off.
func TestBulkLimits(t *testing.T) {
	cfg := strings.Replace(memoryConfig, "max_body_bytes = 65536", `max_body_bytes = 65536
  max_body_memory = 150000
  bulk_max_operations = 3
  bulk_max_payload_bytes = 30000`, 1)
	mem := newMemory()
	srv := bridgetest.Start(t, cfg, map[string]config.BackendType{"memory": bridgetest.Static(mem)})
	c := bridgetest.NewClient(t, srv.URL+"/scim/v2")
	spc := c.Must(200, "GET", "/ServiceProviderConfig", nil)
	if got := fmt.Sprint(spc.JSON["bulk"]); got != "map[maxOperations:3 maxPayloadSize:30000 supported:true]" {
		t.Errorf("bulk in /ServiceProviderConfig: %s", got)
	}
	r := c.Do("POST", "/Bulk", bulkBody(bulkPost(1, ""), bulkPost(2, ""), bulkPost(3, ""), bulkPost(4, "")))
	if r.Status != 413 || !strings.Contains(string(r.Body), "bulk_max_operations") {
		t.Errorf("4 operations: %d %s, want 413", r.Status, r.Body)
	}
	r = c.Do("POST", "/Bulk", bulkBody(bulkPost(1, strings.Repeat("x", 31000))))
	if r.Status != 413 || !strings.Contains(string(r.Body), "bulk_max_payload_bytes") {
		t.Errorf("31 kB body: %d %s, want 413", r.Status, r.Body)
	}
	// Compressed, the body is small; decoded, it is not.
	cl := *c
	cl.Headers = map[string]string{"Content-Encoding": "gzip"}
	r = cl.Do("POST", "/Bulk", gzipped(t, fmt.Sprintf(`{"Operations":[{"method":"POST","path":"/Users","bulkId":"z","data":{"userName":"zipped","title":%q}}]}`, strings.Repeat("x", 31000))))
	if r.Status != 413 || !strings.Contains(string(r.Body), "bulk_max_payload_bytes") {
		t.Errorf("gzip body of 31 kB decoded: %d %s, want 413", r.Status, r.Body)
	}
	// Within the payload bound, but parsed it needs more than max_body_memory.
	many := make([]any, 2500)
	for i := range many {
		many[i] = 1
	}
	r = c.Do("POST", "/Bulk", bulkBody(map[string]any{"method": "POST", "path": "/Users", "bulkId": "m", "data": map[string]any{"userName": "many", "x": many}}))
	if r.Status != 413 || !strings.Contains(string(r.Body), "max_body_memory") {
		t.Errorf("body over max_body_memory: %d %s, want 413", r.Status, r.Body)
	}
	if n := len(snapshot(t, mem)["User"]); n != 0 {
		t.Errorf("%d users written by refused requests", n)
	}
	r = c.Must(200, "POST", "/Bulk", bulkBody(bulkPost(1, ""), bulkPost(2, ""), bulkPost(3, "")))
	if strings.Count(string(r.Body), `"status":"201"`) != 3 {
		t.Errorf("3 operations: %s", r.Body)
	}

	off := strings.Replace(memoryConfig, "max_body_bytes = 65536", "max_body_bytes = 65536\n  bulk_max_operations = 0", 1)
	srv = bridgetest.Start(t, off, map[string]config.BackendType{"memory": bridgetest.Static(newMemory())})
	c = bridgetest.NewClient(t, srv.URL+"/scim/v2")
	if got := fmt.Sprint(c.Must(200, "GET", "/ServiceProviderConfig", nil).JSON["bulk"]); !strings.Contains(got, "supported:false") {
		t.Errorf("bulk_max_operations = 0: /ServiceProviderConfig says %s", got)
	}
	c.Must(404, "POST", "/Bulk", bulkBody(bulkPost(1, "")))
}

// TestBulkScopes: each operation needs the scope its single request
// needs, and answers leave out what the credential may not read.
func TestBulkScopes(t *testing.T) {
	for _, tg := range queryTargets(t, "", scopedTokens) {
		t.Run(tg.name, func(t *testing.T) {
			cl := *tg.c
			cl.T = t
			cl.Auth = "Bearer sb_uwriter_Bq9xLm4TzK7wNv2PcY8rHs5Gd3Jf6Ue" // get/post/put/patch:users
			r := cl.Must(200, "POST", "/Bulk", bulkBody(
				map[string]any{"method": "POST", "path": "/Users", "bulkId": "u", "data": map[string]any{"userName": "bulk.scoped", "active": true}},
				map[string]any{"method": "POST", "path": "/Groups", "bulkId": "g", "data": map[string]any{"displayName": "bulk scoped",
					"members": []any{map[string]any{"value": "bulkId:u"}}}},
				map[string]any{"method": "DELETE", "path": "/Users/bulkId:u"},
			))
			body := string(r.Body)
			if strings.Count(body, `"status":"403"`) != 4 || !strings.Contains(body, `"status":"201"`) ||
				!strings.Contains(body, `post:groups`) || !strings.Contains(body, `delete:users`) || strings.Contains(body, `"groups"`) {
				t.Errorf("user-writer bulk: %s", body)
			}
			cl.Auth = "Bearer sb_greader_Ht6yNc2QmW9vXp4KsL7bZr3Fd8Ju5Ea"
			r = cl.Must(200, "POST", "/Bulk", bulkBody(map[string]any{"method": "POST", "path": "/Users", "bulkId": "v", "data": map[string]any{"userName": "bulk.refused"}}))
			if !strings.Contains(string(r.Body), `"status":"403"`) {
				t.Errorf("groups-reader bulk: %s", r.Body)
			}
		})
	}
}
