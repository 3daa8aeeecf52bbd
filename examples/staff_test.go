package examples_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/scimtest"
)

// staffExample is examples/postgres-staff.hcl: StaffBase, a legacy schema
// mapped as found (status E/L/S/X, department codes through a lookup
// table, phones by kind in a child table, roles through a join, a NOT NULL
// family name, local time stamps).
var staffExample = example{
	name: "PostgresStaff", config: "postgres-staff.hcl", schema: "postgres-staff-schema.sql", backend: "staffbase",
	target: scimtest.Target{
		UserName: "logon", GivenName: "given_nm", FamilyName: "family_nm", Email: "mail",
		Active: "status", ActiveTrue: "E", ActiveFalse: "S", Password: "pw_hash",
		EmployeeNumber: "payroll_no", Manager: "manager_no", Mobile: "phone_mobile",
		GroupName: "team_nm", Members: "members",
	},
	userRow:      "SELECT logon, status FROM staff WHERE staff_no = $1 AND status <> 'X'",
	deletedRow:   "SELECT COUNT(*) FROM staff WHERE staff_no = $1 AND status = 'X'",
	memberRow:    "SELECT COUNT(*) FROM team_members WHERE team_id = $1 AND staff_no = $2",
	recreateCode: 201, // the unique index skips people who left
}

// TestStaffExample: what the schema needed a view or a statement for
// before, through SCIM, checked in the tables.
func TestStaffExample(t *testing.T) {
	s := start(t, staffExample)
	c := s.c
	row := func(query string, args ...any) string {
		t.Helper()
		var v *string
		if err := s.db.QueryRow(query, args...).Scan(&v); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		if v == nil {
			return "<null>"
		}
		return *v
	}
	u := c.Must(201, "POST", "/Users", map[string]any{
		"userName": "ines.ortega", "name": map[string]any{"givenName": "Ines"},
		"phoneNumbers": []any{map[string]any{"type": "work", "value": "+49 30 1234"}, map[string]any{"type": "mobile", "value": "+49 170 555"}},
		"roles":        []any{map[string]any{"value": "employee"}, map[string]any{"value": "Auditor"}},
		entUser:        map[string]any{"department": "engineering"},
	})
	id := bridgetest.Str(u.JSON, "id")
	if got := row(`SELECT family_nm || '/' || dept_cd FROM staff WHERE staff_no = $1`, id); got != "ines.ortega/ENG" {
		t.Errorf("family name default and department code: %s", got)
	}
	ext, _ := u.JSON["urn:ietf:params:scim:schemas:extension:staffbase:2.0:User"].(map[string]any)
	if fmt.Sprint(ext["staffNumber"]) != id {
		t.Errorf("the staff number is the key: %s", u.Body)
	}
	// Time stamps: local wall-clock time in the table, an instant in SCIM.
	var skew float64
	if err := s.db.QueryRow(`SELECT abs(extract(epoch FROM (created_at AT TIME ZONE 'Europe/Berlin') - now())) FROM staff WHERE staff_no = $1`, id).Scan(&skew); err != nil || skew > 300 {
		t.Errorf("created_at is not Berlin time: %v seconds off (%v)", skew, err)
	}
	if _, ok := u.JSON["name"].(map[string]any)["familyName"]; ok {
		t.Errorf("the defaulted family name reads back: %s", u.Body)
	}
	if got := row(`SELECT string_agg(kind || number, ',' ORDER BY kind) FROM phones WHERE owner = $1`, id); got != "M+49 170 555,W+49 30 1234" {
		t.Errorf("phones: %s", got)
	}
	if got := row(`SELECT string_agg(r.role_name, ',' ORDER BY r.role_name) FROM person_roles p JOIN roles r USING (role_id) WHERE p.person = $1`, id); got != "auditor,employee" {
		t.Errorf("roles: %s", got)
	}
	// A role the application does not know: 400 naming it, nothing written.
	r := c.Do("PATCH", "/Users/"+id, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "add", "path": "roles", "value": []any{map[string]any{"value": "root"}}}}})
	if r.Status != 400 || !strings.Contains(bridgetest.Str(r.JSON, "detail"), `"root"`) || strings.Contains(string(r.Body), "role_name") {
		t.Errorf("unknown role: %d %s", r.Status, r.Body)
	}
	// On leave: reactivation keeps L; it reads as active and filters agree.
	if _, err := s.db.Exec(`UPDATE staff SET status = 'L' WHERE staff_no = $1`, id); err != nil {
		t.Fatal(err)
	}
	c.Must(200, "PATCH", "/Users/"+id, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "replace", "value": map[string]any{"active": true}}}})
	if got := row(`SELECT status FROM staff WHERE staff_no = $1`, id); got != "L" {
		t.Errorf("reactivating a user on leave wrote %s", got)
	}
	l := c.Must(200, "GET", "/Users?filter="+url.QueryEscape(`active eq true and userName eq "ines.ortega"`), nil)
	if bridgetest.Str(l.JSON, "totalResults") != "1" {
		t.Errorf("active eq true misses a user on leave: %s", l.Body)
	}
	c.Must(200, "PATCH", "/Users/"+id, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "replace", "path": "active", "value": false}}})
	if got := row(`SELECT status FROM staff WHERE staff_no = $1`, id); got != "S" {
		t.Errorf("deactivating wrote %s", got)
	}
	// A home phone the IdP never sees survives a replace of the work phone.
	if _, err := s.db.Exec(`INSERT INTO phones VALUES ($1, 'H', '+49 30 999')`, id); err != nil {
		t.Fatal(err)
	}
	c.Must(200, "PATCH", "/Users/"+id, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "replace", "path": `phoneNumbers[type eq "work"].value`, "value": "+49 30 4321"}}})
	if got := row(`SELECT string_agg(kind || number, ',' ORDER BY kind) FROM phones WHERE owner = $1`, id); got != "H+49 30 999,M+49 170 555,W+49 30 4321" {
		t.Errorf("phones after replacing the work number: %s", got)
	}
	scimtest.SeedVaried(t, c)
	t.Logf("%d filters checked", scimtest.CheckFiltersAgree(t, s.srv, c))
}
