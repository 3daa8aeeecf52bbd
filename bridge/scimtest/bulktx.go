package scimtest

import (
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/bridge/bridgetest"
)

// RunBulkTransaction checks /Bulk on an endpoint with bulk_transaction =
// true: the operations see each other's writes (a PATCH that reads the
// user a POST of the same request created, the members' display names
// of a group created with them), and a failing operation undoes all of
// them, those before it answering 424.
func RunBulkTransaction(t *testing.T, c *bridgetest.Client) {
	t.Helper()
	bulk := func(ops ...map[string]any) []string {
		t.Helper()
		r := c.Must(200, "POST", "/Bulk", map[string]any{"schemas": []string{bulkRequest}, "Operations": ops})
		st, _ := bulkStatuses(t, r)
		if len(st) == 0 {
			t.Fatalf("no operations in %s", trunc(r.Body))
		}
		return st
	}
	user := func(name string) map[string]any {
		u := bulkUser(name)
		u["title"] = "Temporary"
		return u
	}
	ops := []map[string]any{
		{"method": "POST", "path": "/Users", "bulkId": "u1", "data": user("proto.tx.u1@example.com")},
		{"method": "POST", "path": "/Groups", "bulkId": "g", "data": map[string]any{"schemas": []string{coreGroup}, "displayName": "Proto Tx",
			"members": []any{map[string]any{"value": "bulkId:u1"}}}},
		// A remove reads the resource first: inside the transaction.
		{"method": "PATCH", "path": "/Users/bulkId:u1", "data": map[string]any{"schemas": []string{patchOp},
			"Operations": []any{map[string]any{"op": "remove", "path": "title"}}}},
		{"method": "POST", "path": "/Users", "bulkId": "dup", "data": user("proto.tx.u1@example.com")},
	}
	if got := strings.Join(bulk(ops...), ","); got != "424,424,424,409" {
		t.Errorf("a failing operation in a transaction: statuses %s, want 424,424,424,409", got)
	}
	if n := count(t, c, "/Users", `userName eq "proto.tx.u1@example.com"`); n != "0" {
		t.Errorf("rolled back, yet %s users exist", n)
	}
	if n := count(t, c, "/Groups", `displayName eq "Proto Tx"`); n != "0" {
		t.Errorf("rolled back, yet %s groups exist", n)
	}
	r := c.Must(200, "POST", "/Bulk", map[string]any{"schemas": []string{bulkRequest}, "Operations": ops[:3]})
	st, res := bulkStatuses(t, r)
	if strings.Join(st, ",") != "201,201,200" {
		t.Fatalf("a transaction that succeeds: %v; %s", st, trunc(r.Body))
	}
	if d := displays(&bridgetest.Response{JSON: res[1]["response"].(map[string]any)}); len(d) != 1 {
		t.Errorf("the group's answer in the transaction: members %v", d)
	}
	uid := bridgetest.Str(res[0], "response", "id")
	u := c.Must(200, "GET", "/Users/"+uid, nil)
	if bridgetest.Str(u.JSON, "title") != "" || u.Header.Get("ETag") != bridgetest.Str(res[2], "version") {
		t.Errorf("after the transaction: %s (ETag %s, PATCH version %s)", trunc(u.Body), u.Header.Get("ETag"), bridgetest.Str(res[2], "version"))
	}
	if got := memberIDs(c.Must(200, "GET", "/Groups/"+bridgetest.Str(res[1], "response", "id"), nil)); len(got) != 1 || got[0] != uid {
		t.Errorf("members after the transaction: %v", got)
	}
}
