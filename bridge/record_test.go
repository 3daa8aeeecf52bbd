package bridge_test

import (
	"context"
	dbsql "database/sql"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/config"
	"github.com/scimbridge/scimbridge/bridge/scimtest"
)

// keepLeave is the HR schema's active with a to_native that reads the
// stored record: an IdP that sends active: true for a user on leave ('L')
// keeps the 'L'.
const keepLeave = `to_native   = value ? (try(record.status, "") == "L" ? "L" : "E") : "D"`

func patchActive(v bool) map[string]any {
	return map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []any{map[string]any{"op": "replace", "value": map[string]any{"active": v}}}}
}

// TestToNativeReadsStoredRecord: on SQLite, with the HR schema's status
// E/L/D, PATCH and PUT of active: true keep 'L'; false writes 'D', and
// true on a 'D' row 'E'; a create sees no record. Each write's answer is
// the GET after it, and filters agree with reads.
func TestToNativeReadsStoredRecord(t *testing.T) {
	dir := t.TempDir()
	dsn := dir + "/hr.db"
	cfg := strings.Replace(staffConfig(dsn, true), `to_native   = value ? "E" : "D"`, keepLeave, 1)
	if !strings.Contains(cfg, keepLeave) {
		t.Fatal("the HR config changed: update this test")
	}
	srv := bridgetest.Start(t, cfg, kinds.Types())
	c := bridgetest.NewClient(t, srv.URL+"/scim/v2")
	db, err := dbsql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	status := func(login string) string {
		var s string
		if err := db.QueryRow(`SELECT status FROM staff WHERE login = ?`, login).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	u := c.Must(201, "POST", "/Users", map[string]any{"userName": "lee", "active": true})
	id := bridgetest.Str(u.JSON, "id")
	if got := status("lee"); got != "E" {
		t.Fatalf("create with active true stored %q, want E (no record on create)", got)
	}
	c.Must(201, "POST", "/Users", map[string]any{"userName": "dan", "active": false})
	if got := status("dan"); got != "D" {
		t.Fatalf("create with active false stored %q", got)
	}
	if _, err := db.Exec(`UPDATE staff SET status = 'L' WHERE login = 'lee'`); err != nil {
		t.Fatal(err)
	}
	agree := func(what string, answer *bridgetest.Response) {
		t.Helper()
		get := c.Must(200, "GET", "/Users/"+id, nil)
		if answer.Header.Get("ETag") != get.Header.Get("ETag") || answer.JSON["active"] != get.JSON["active"] {
			t.Errorf("%s: the answer %s differs from the GET %s", what, answer.Body, get.Body)
		}
	}
	steps := []struct {
		what   string
		method string
		body   map[string]any
		want   string
	}{
		{"PATCH active true on leave", "PATCH", patchActive(true), "L"},
		{"PUT active true on leave", "PUT", map[string]any{"userName": "lee", "active": true}, "L"},
		{"PATCH of another attribute", "PATCH", map[string]any{"Operations": []any{map[string]any{"op": "replace", "path": "title", "value": "Cook"}}}, "L"},
		{"PATCH active false", "PATCH", patchActive(false), "D"},
		{"PATCH active true on a deactivated row", "PATCH", patchActive(true), "E"},
		{"PUT active false", "PUT", map[string]any{"userName": "lee", "active": false}, "D"},
		{"PUT active true", "PUT", map[string]any{"userName": "lee", "active": true}, "E"},
	}
	for _, s := range steps {
		r := c.Must(200, s.method, "/Users/"+id, s.body)
		if got := status("lee"); got != s.want {
			t.Errorf("%s: stored %q, want %q", s.what, got, s.want)
		}
		if r.JSON["active"] != (s.want != "D") {
			t.Errorf("%s: answered %s", s.what, r.Body)
		}
		agree(s.what, r)
	}
	if _, err := db.Exec(`UPDATE staff SET status = 'L' WHERE login = 'lee'`); err != nil {
		t.Fatal(err)
	}
	scimtest.CheckFiltersAgree(t, srv, c)
}

// TestRecordReadOnlyWhenUsed: a PATCH of active, whose to_native reads the
// stored record, reads it first; a PATCH of another attribute stays blind
// (no read before the write).
func TestRecordReadOnlyWhenUsed(t *testing.T) {
	mem := newMemory()
	cb := &counting{Backend: mem}
	cfg := strings.Replace(memoryConfig, `to_native   = value ? "enabled" : "disabled"`,
		`to_native   = value ? (try(record.status, "") == "leave" ? "leave" : "enabled") : "disabled"`, 1)
	srv := bridgetest.Start(t, cfg, map[string]config.BackendType{"memory": bridgetest.Static(cb)})
	c := bridgetest.NewClient(t, srv.URL+"/scim/v2")
	id := bridgetest.Str(c.Must(201, "POST", "/Users", map[string]any{"userName": "rec", "active": true}).JSON, "id")
	ctx := context.Background()
	if _, err := mem.Modify(ctx, backends.User, id, []backends.Modification{{Op: backends.ModReplace, Attr: "status", Values: []string{"leave"}}}, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		body   map[string]any
		reads  bool
		status string
	}{
		{"title", map[string]any{"Operations": []any{map[string]any{"op": "replace", "path": "title", "value": "T"}}}, false, "leave"},
		{"active true", patchActive(true), true, "leave"},
		{"active false", patchActive(false), true, "disabled"},
		{"active true again", patchActive(true), true, "enabled"},
	} {
		cb.gets, cb.modifies = 0, 0
		c.Must(200, "PATCH", "/Users/"+id, tc.body)
		if (cb.gets > 0) != tc.reads || cb.gets > 1 {
			t.Errorf("%s: %d reads before the write, want read = %v (at most one)", tc.name, cb.gets, tc.reads)
		}
		rec, err := mem.Get(ctx, backends.User, id, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := rec.Attrs.First("status"); got != tc.status {
			t.Errorf("%s: status %q, want %q", tc.name, got, tc.status)
		}
	}
}
