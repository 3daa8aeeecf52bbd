package bridge_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
)

// TestAuditTrail (issue #14, item 5): a known sequence of writes gives
// exactly one record per change, in order, with who, from where, the
// request id, what (operation, resource, id, attribute names) and the
// outcome; reads, searches and refused credentials give none, and no
// value a client sent (a password, an e-mail) is in the file.
func TestAuditTrail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	cfg := strings.Replace(memoryConfig, "max_body_bytes = 65536", "max_body_bytes = 65536\n  audit_log = \""+path+"\"", 1)
	srv, _ := startLogged(t, cfg)
	type call struct {
		method, path, body string
		auth               string
		want               int
	}
	user := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"audit.jane","password":"Pw-Secret-91xQ",
	  "emails":[{"type":"work","value":"jane.audit@example.com"}],
	  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"4711"}}`
	var id string
	do := func(c call) *httptestResponse {
		t.Helper()
		req := httptest.NewRequest(c.method, strings.ReplaceAll(c.path, "{id}", id), strings.NewReader(c.body))
		req.Header.Set("Content-Type", "application/scim+json")
		req.Header.Set("X-Request-Id", "audit-"+c.method+"-"+string(rune('a'+len(c.path)%26)))
		auth := c.auth
		if auth == "" {
			auth = "Bearer " + bridgetest.Token
		}
		req.Header.Set("Authorization", auth)
		resp, err := srv.App.Test(req, 10000)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != c.want {
			t.Fatalf("%s %s: %d, want %d: %s", c.method, c.path, resp.StatusCode, c.want, b)
		}
		return &httptestResponse{status: resp.StatusCode, body: b, rid: resp.Header.Get("X-Request-Id")}
	}
	r := do(call{"POST", "/scim/v2/Users", user, "", 201})
	var created map[string]any
	_ = json.Unmarshal(r.body, &created)
	id, _ = created["id"].(string)
	rids := []string{r.rid}
	for _, c := range []call{
		{"GET", "/scim/v2/Users/{id}", "", "", 200},
		{"POST", "/scim/v2/Users/.search", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}`, "", 200},
		{"PATCH", "/scim/v2/Users/{id}", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		  {"op":"replace","path":"emails[type eq \"work\"].value","value":"new.audit@example.com"},
		  {"op":"replace","value":{"active":false,"displayName":"Jane"}}]}`, "", 200},
		{"POST", "/scim/v2/Users", user, "", 409},
		{"DELETE", "/scim/v2/Users/{id}", "", "Bearer sb_not_configured_Xq81Lm2Zr7", 401},
		{"DELETE", "/scim/v2/Users/{id}", "", "", 204},
	} {
		r := do(c)
		if c.method != "GET" && !strings.HasSuffix(c.path, ".search") && c.want != 401 {
			rids = append(rids, r.rid)
		}
	}
	bulk := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[
	  {"method":"POST","path":"/Users","bulkId":"u1","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"audit.bulk"}},
	  {"method":"PATCH","path":"/Users/bulkId:u1","data":{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"title","value":"Bulk"}]}}]}`
	br := do(call{"POST", "/scim/v2/Bulk", bulk, "", 200})
	srv.Close()

	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []bridge.AuditRecord
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var rec bridge.AuditRecord
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("not a JSON line: %q", sc.Text())
		}
		recs = append(recs, rec)
		for _, secret := range []string{"Pw-Secret-91xQ", "jane.audit@example.com", "new.audit@example.com", "4711"} {
			if strings.Contains(sc.Text(), secret) {
				t.Errorf("a value is in the audit trail: %s", sc.Text())
			}
		}
	}
	type want struct {
		op, id     string
		attrs      string
		status     int
		result, at string
	}
	wants := []want{
		{"create", id, "emails,password,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber,userName", 201, "success", rids[0]},
		{"patch", id, "active,displayName,emails.value", 200, "success", rids[1]},
		{"create", "", "emails,password,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber,userName", 409, "failure", rids[2]},
		{"delete", id, "", 204, "success", rids[3]},
		{"create", "*", "userName", 201, "success", br.rid},
		{"patch", "*", "title", 200, "success", br.rid},
	}
	if len(recs) != len(wants) {
		t.Fatalf("%d records, want %d: %+v", len(recs), len(wants), recs)
	}
	for i, w := range wants {
		g := recs[i]
		if g.Operation != w.op || (w.id != "*" && g.ID != w.id) || (w.id == "*" && g.ID == "") || strings.Join(g.Attributes, ",") != w.attrs ||
			g.Status != w.status || g.Result != w.result || g.RequestID != w.at || g.Resource != "User" ||
			g.Endpoint != "test" || g.Credential != "test" || g.Address == "" || g.Time == "" || g.LatencyMS < 0 {
			t.Errorf("record %d: %+v, want %+v", i, g, w)
		}
	}
	if recs[4].ID != recs[5].ID {
		t.Errorf("the bulk PATCH of bulkId:u1 names %q, the POST created %q", recs[5].ID, recs[4].ID)
	}
}

type httptestResponse struct {
	status int
	body   []byte
	rid    string
}
