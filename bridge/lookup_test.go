package bridge_test

import (
	"context"
	dbsql "database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/config"
	"github.com/scimbridge/scimbridge/bridge/scim"
	"github.com/scimbridge/scimbridge/bridge/scimtest"
)

const enterpriseDept = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// deptConfig is the HR schema with a department stored as a code and
// shown as its name from the departments table.
func deptConfig(t *testing.T, dsn string) string {
	t.Helper()
	cfg := staffConfig(dsn, true)
	for _, r := range []struct{ old, new string }{
		{"      mail     TEXT\n    );", "      mail     TEXT,\n      dept     TEXT\n    );\n" +
			"    CREATE TABLE IF NOT EXISTS departments (code TEXT PRIMARY KEY, name TEXT NOT NULL);\n" +
			"    INSERT OR IGNORE INTO departments VALUES ('ENG', 'Engineering'), ('OPS', 'Operations'), ('FIN', 'Finance');"},
		{"  resource \"User\" {\n    table     = \"staff\"", "  lookup \"departments\" {\n    sql     = \"SELECT code, name FROM departments\"\n    refresh = \"5m\"\n  }\n  resource \"User\" {\n    table     = \"staff\""},
		{`    attribute "groups.value" { native = "teams" }`, `    attribute "groups.value" { native = "teams" }
    attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department" {
      native        = "dept"
      to_native     = lookup_key("departments", value)
      from_native   = lookup_value("departments", value)
      filter_values = lookup_keys("departments", value)
    }`},
	} {
		if !strings.Contains(cfg, r.old) {
			t.Fatalf("the HR config changed; update this test: %q", r.old)
		}
		cfg = strings.Replace(cfg, r.old, r.new, 1)
	}
	return cfg
}

// TestLookupDepartments: on SQLite, a department name is stored as its
// code from the departments table and read back as its name; an unknown
// name is a 400 naming the attribute and the value; an unknown stored
// code leaves the attribute out; a renamed department reads with its new
// name after a refresh; eq and ne filters go to the database and agree
// with reads.
func TestLookupDepartments(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "hr.db")
	srv := bridgetest.Start(t, deptConfig(t, dsn), kinds.Types())
	c := bridgetest.NewClient(t, srv.URL+"/scim/v2")
	db, err := dbsql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	dept := func(login string) string {
		var s dbsql.NullString
		if err := db.QueryRow(`SELECT dept FROM staff WHERE login = ?`, login).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s.String
	}
	user := func(login, department string) map[string]any {
		return map[string]any{"userName": login, "schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User", enterpriseDept},
			enterpriseDept: map[string]any{"department": department}}
	}
	answered := func(r *bridgetest.Response) string { return bridgetest.Str(r.JSON, enterpriseDept, "department") }

	r := c.Must(201, "POST", "/Users", user("ann", "Engineering"))
	if dept("ann") != "ENG" || answered(r) != "Engineering" {
		t.Fatalf("stored %q, answered %s", dept("ann"), r.Body)
	}
	annID := bridgetest.Str(r.JSON, "id")
	r = c.Must(201, "POST", "/Users", user("bob", "operations"))
	if dept("bob") != "OPS" || answered(r) != "Operations" {
		t.Fatalf("a name in other case: stored %q, answered %s", dept("bob"), r.Body)
	}
	c.Must(201, "POST", "/Users", map[string]any{"userName": "cy"})
	bad := c.Must(400, "POST", "/Users", user("dee", "Marketing"))
	if d := bridgetest.Str(bad.JSON, "detail"); !strings.Contains(d, "department") || !strings.Contains(d, `"Marketing"`) || strings.Contains(d, "dept") {
		t.Errorf("unknown name: %s", bad.Body)
	}
	patch := map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []any{map[string]any{"op": "replace", "path": enterpriseDept + ":department", "value": "Finance"}}}
	r = c.Must(200, "PATCH", "/Users/"+annID, patch)
	if dept("ann") != "FIN" || answered(r) != "Finance" {
		t.Fatalf("patch: stored %q, answered %s", dept("ann"), r.Body)
	}
	// What only the application writes: a code the table does not have.
	if _, err := db.Exec(`INSERT INTO staff (login, dept) VALUES ('eve', 'XXX')`); err != nil {
		t.Fatal(err)
	}
	l := c.Must(200, "GET", "/Users?filter="+q(`userName eq "eve"`), nil)
	if bridgetest.Str(l.JSON, "totalResults") != "1" || strings.Contains(string(l.Body), "department") {
		t.Errorf("an unknown code is left out, the user is not: %s", l.Body)
	}
	for filter, want := range map[string]string{
		enterpriseDept + `:department eq "operations"`: "1",
		enterpriseDept + `:department eq "Marketing"`:  "0",
		enterpriseDept + `:department ne "Finance"`:    "3", // bob, cy, eve
	} {
		got := c.Must(200, "GET", "/Users?filter="+q(filter), nil)
		if n := bridgetest.Str(got.JSON, "totalResults"); n != want {
			t.Errorf("%s: %s results, want %s: %s", filter, n, want, got.Body)
		}
	}
	users := srv.Bridge.Endpoints[0].Users
	for _, f := range []string{enterpriseDept + `:department eq "Operations"`, enterpriseDept + `:department ne "Marketing"`} {
		expr, err := scim.ParseFilter(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, exact := users.Mapping.Compile(expr); !exact {
			t.Errorf("%s is not pushed down", f)
		}
	}
	scimtest.CheckFiltersAgree(t, srv, c)

	// A rename in the table shows after the next refresh.
	if _, err := db.Exec(`UPDATE departments SET name = 'Treasury' WHERE code = 'FIN'`); err != nil {
		t.Fatal(err)
	}
	if err := srv.Config.Backends["hr"].Lookups.Load(context.Background(), srv.Backends["hr"].(backends.Lookuper)); err != nil {
		t.Fatal(err)
	}
	if got := answered(c.Must(200, "GET", "/Users/"+annID, nil)); got != "Treasury" {
		t.Errorf("after the refresh: %q", got)
	}
	scimtest.CheckFiltersAgree(t, srv, c)
}

// TestLookupUnknownTableFailsAtLoad: a mapping naming a lookup table its
// backend does not declare stops the load at the call's line.
func TestLookupUnknownTableFailsAtLoad(t *testing.T) {
	dir := t.TempDir()
	cfg := strings.Replace(deptConfig(t, filepath.Join(dir, "hr.db")), `to_native     = lookup_key("departments", value)`, `to_native     = lookup_key("departmets", value)`, 1)
	path := filepath.Join(dir, "scimbridge.hcl")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SCIMBRIDGE_TOKEN", bridgetest.Token)
	_, diags := config.Load(path, kinds.Types(), nil)
	if !diags.HasErrors() {
		t.Fatal("loaded")
	}
	var found bool
	for _, d := range diags {
		if d.Summary == "Unknown lookup table" && d.Subject != nil && d.Subject.Filename == path && strings.Contains(d.Detail, "departments") {
			found = true
			line := strings.Split(cfg, "\n")[d.Subject.Start.Line-1]
			if !strings.Contains(line, `lookup_key("departmets"`) {
				t.Errorf("diagnostic at line %d: %q", d.Subject.Start.Line, line)
			}
		}
	}
	if !found {
		t.Errorf("diagnostics: %v", diags)
	}
}
