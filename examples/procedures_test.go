package examples_test

import (
	dbsql "database/sql"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/scimtest"
)

// proceduresExample is postgres-procedures.hcl on its schema, served as
// the account the schema file grants SELECT and EXECUTE to. It is one of
// examples(), so the golden sequences, the SPEC test, the row checks, the
// fault, hostile and concurrency tests run on it too.
var proceduresExample = example{
	name: "PostgresProcedures", config: "postgres-procedures.hcl", schema: "postgres-procedures-schema.sql", backend: "timetrack",
	account: "timetrack_scim",
	target: scimtest.Target{
		UserName: "login_nm", GivenName: "given_nm", FamilyName: "family_nm", Email: "email_txt",
		Active: "status_cd", ActiveTrue: "A", ActiveFalse: "L", Password: "pwd_hash",
		EmployeeNumber: "badge_no", Manager: "manager_emp_id", Mobile: "mobile_txt",
		GroupName: "team_nm", Members: "members",
	},
	userRow:      "SELECT login_nm, status_cd FROM tt_employee WHERE emp_id = $1 AND status_cd <> 'X'",
	deletedRow:   "SELECT COUNT(*) FROM tt_employee WHERE emp_id = $1 AND status_cd = 'X'",
	memberRow:    "SELECT COUNT(*) FROM tt_team_member WHERE team_id = $1 AND emp_id = $2",
	recreateCode: 201, // the unique index covers employees not removed
}

// TestProceduresAudit provisions through SCIM and reads TimeTrack's audit
// table: every change was made by a procedure, called by the bridge's
// account, once per changed member; a procedure's exception is a 400 with
// its message and leaves nothing behind.
func TestProceduresAudit(t *testing.T) {
	s := start(t, proceduresExample)
	c := s.c
	seen := 0
	audit := func(what string, want ...string) {
		t.Helper()
		rows, err := s.db.Query("SELECT action || ' ' || object_id || ' ' || COALESCE(detail, '') || ' ' || actor FROM tt_audit ORDER BY audit_id")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var all []string
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			all = append(all, v)
		}
		got := all[seen:]
		seen = len(all)
		if !slices.Equal(got, want) {
			t.Fatalf("%s: audit rows\n got  %q\n want %q", what, got, want)
		}
	}
	const actor = " timetrack_scim"
	user := func(name string) map[string]any {
		return map[string]any{
			"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
			"userName": name, "name": map[string]any{"givenName": "Grace", "familyName": "Hopper"},
			"emails": []any{map[string]any{"type": "work", "value": "grace@example.com", "primary": true}},
			"active": true, "password": "Sup3r-secret!",
		}
	}
	patch := func(ops ...any) map[string]any {
		return map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": ops}
	}

	uid := bridgetest.Str(c.Must(201, "POST", "/Users", user("grace")).JSON, "id")
	audit("create", "employee.create "+uid+" grace"+actor)
	var hash string
	if err := s.db.QueryRow("SELECT pwd_hash FROM tt_employee WHERE emp_id = $1", uid).Scan(&hash); err != nil || !strings.HasPrefix(hash, "$2") {
		t.Errorf("pwd_hash %q (%v): want a bcrypt hash written by the procedure", hash, err)
	}

	// A procedure's exception: 400 with its message, nothing written.
	r := c.Do("POST", "/Users", user("grace hopper"))
	if r.Status != 400 || !strings.Contains(string(r.Body), "contains white space") {
		t.Errorf("log-on name with a space: %d %s, want 400 with the procedure's message", r.Status, r.Body)
	}
	if r := c.Do("POST", "/Users", user("GRACE")); r.Status != 409 {
		t.Errorf("duplicate log-on name: %d %s, want 409", r.Status, r.Body)
	}
	r = c.Do("PATCH", "/Users/"+uid, patch(map[string]any{"op": "replace", "path": "userName", "value": "grace  h"}))
	if r.Status != 400 {
		t.Errorf("rename to a name with spaces: %d %s, want 400", r.Status, r.Body)
	}
	audit("refused writes")

	other := bridgetest.Str(c.Must(201, "POST", "/Users", user("alan")).JSON, "id")
	audit("second user", "employee.create "+other+" alan"+actor)
	gid := bridgetest.Str(c.Must(201, "POST", "/Groups", map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
		"displayName": "Compilers", "members": []any{map[string]any{"value": uid}},
	}).JSON, "id")
	audit("create group", "team.create "+gid+" Compilers"+actor, "team.join "+gid+" "+uid+actor)

	// One call per member that changes.
	c.Must(204, "PATCH", "/Groups/"+gid, patch(map[string]any{"op": "add", "path": "members",
		"value": []any{map[string]any{"value": uid}, map[string]any{"value": other}}}))
	audit("add members", "team.join "+gid+" "+other+actor)
	c.Must(200, "PATCH", "/Users/"+uid, patch(map[string]any{"op": "replace", "path": "active", "value": false}))
	audit("deactivate", "employee.update "+uid+" grace"+actor)

	// Delete: the procedure marks the row and takes the employee out of
	// the team; SCIM no longer sees it; the name is free again.
	c.Must(204, "DELETE", "/Users/"+uid, nil)
	audit("delete user", "team.leave "+gid+" "+uid+actor, "employee.remove "+uid+" "+actor)
	c.Must(404, "GET", "/Users/"+uid, nil)
	again := bridgetest.Str(c.Must(201, "POST", "/Users", user("grace")).JSON, "id")
	audit("re-create", "employee.create "+again+" grace"+actor)
	c.Must(204, "DELETE", "/Groups/"+gid, nil)
	audit("delete group", "team.leave "+gid+" "+other+actor, "team.drop "+gid+" "+actor)

	var n int
	if err := s.db.QueryRow("SELECT COUNT(*) FROM tt_employee WHERE status_cd = 'X'").Scan(&n); err != nil || n != 1 {
		t.Errorf("removed employees: %d (%v), want 1", n, err)
	}
	if err := s.db.QueryRow("SELECT COUNT(*) FROM tt_team").Scan(&n); err != nil || n != 0 {
		t.Errorf("teams: %d (%v), want 0", n, err)
	}

	// The bridge's account (DATABASE_URL) cannot write the tables itself.
	app, err := dbsql.Open("pgx", os.Getenv("DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	for _, stmt := range []string{
		"UPDATE tt_employee SET given_nm = 'x'",
		"INSERT INTO tt_team (team_nm) VALUES ('x')",
		"DELETE FROM tt_team_member",
	} {
		if _, err := app.Exec(stmt); err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("%s as the bridge's account: %v, want permission denied", stmt, err)
		}
	}
}
