package main

import (
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/scimbridge/scimbridge/bridge/preview"
)

// previewConfig is a legacy user table with the defects real directories
// have: no unique constraint on the login, a status code the mapping
// reads loosely, a quota column holding text.
const previewConfig = `
schema "urn:ietf:params:scim:schemas:extension:acme:2.0:User" {
  resource = "User"
  attribute "accountSize" { type = "integer" }
}
backend "sql" "legacy" {
  driver = "sqlite"
  dsn    = env("PREVIEW_DB")
  bootstrap_sql = <<-SQL
    CREATE TABLE IF NOT EXISTS people (
      id INTEGER PRIMARY KEY, login TEXT, given TEXT, mail TEXT, status TEXT NOT NULL DEFAULT 'A', quota INTEGER);
    CREATE TABLE IF NOT EXISTS teams (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS team_members (team_id INTEGER NOT NULL, person_id INTEGER NOT NULL, PRIMARY KEY (team_id, person_id));
  SQL
  resource "User" {
    table     = "people"
    id_column = "id"
  }
  resource "Group" {
    table     = "teams"
    id_column = "id"
    reference "members" {
      join_table   = "team_members"
      this_column  = "team_id"
      other_column = "person_id"
      target       = "User"
    }
  }
}
endpoint "default" {
  base_path = "/scim/v2"
  backend   = "legacy"
  auth {
    token "t" { value = env("SCIMBRIDGE_TOKEN") }
  }
  mapping "User" {
    attribute "userName"                       { native = "login" }
    attribute "name.givenName"                 { native = "given" }
    attribute "emails[type eq \"work\"].value" { native = "mail" }
    attribute "active" {
      native      = "status"
      to_native   = value ? "A" : "D"
      from_native = value != "D"
    }
    attribute "urn:ietf:params:scim:schemas:extension:acme:2.0:User:accountSize" { native = "quota" }
  }
  mapping "Group" {
    attribute "displayName"   { native = "name" }
    attribute "members.value" { native = "members" }
  }
}
`

// TestPreviewReportsSeededDefects: a table seeded with known defects
// gives exactly the expected report, in every format, and preview writes
// nothing.
func TestPreviewReportsSeededDefects(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "legacy.db")
	cfg := filepath.Join(dir, "preview.hcl")
	if err := os.WriteFile(cfg, []byte(previewConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PREVIEW_DB", db)
	t.Setenv("SCIMBRIDGE_TOKEN", "sb_preview_Vb8Lq3Zx6Nm1Rt9Wk4Hs7Jd2")
	// The first run creates the tables (bootstrap_sql) and finds nothing.
	code, out, errs := runCmd(t, "", "preview", "--config", cfg)
	if code != 0 || !strings.Contains(out, "0 users, 0 groups") || !strings.Contains(out, "No problems found.") {
		t.Fatalf("preview of an empty directory: exit %d\n%s%s", code, out, errs)
	}
	conn, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{
		`INSERT INTO people (id, login, given, mail, status, quota) VALUES
		  (1, 'alice', 'Alice', 'alice@example.com', 'A', 10),
		  (2, 'bob', 'Bob', 'Shared@Example.com', 'A', NULL),
		  (3, 'BOB', 'Robert', 'shared@example.com', 'D', NULL),
		  (4, NULL, 'Nobody', NULL, 'A', NULL),
		  (5, 'carol', 'Carol', 'carol@example.com', 'X', NULL),
		  (6, 'dave', 'Dave', NULL, 'A', 'lots')`,
		`INSERT INTO teams (id, name) VALUES (1, 'eng'), (2, 'ops')`,
		`INSERT INTO team_members (team_id, person_id) VALUES (1, 1), (1, 2), (2, 5), (2, 99)`,
	} {
		if _, err := conn.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	before := dump(t, conn)

	code, out, errs = runCmd(t, "", "preview", "--config", cfg, "--format", "json")
	if code != 0 {
		t.Fatalf("preview: exit %d\n%s", code, errs)
	}
	// Not a terminal: plain progress lines, one at the end of each type at least.
	if !strings.Contains(errs, "preview: User 6/6 (") || !strings.Contains(errs, "preview: Group 2/2 (") {
		t.Errorf("no progress lines:\n%s", errs)
	}
	var rep preview.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("preview --format json: %v\n%s", err, out)
	}
	want := []preview.Finding{ // per entry in read order, then the duplicates, then the groups
		{Kind: preview.NoUserName, Resource: "User", ID: "4", Attribute: "userName"},
		{Kind: preview.NotRoundTrip, Resource: "User", ID: "5", Attribute: "active"},
		{Kind: preview.Unmappable, Resource: "User", ID: "6", Attribute: "urn:ietf:params:scim:schemas:extension:acme:2.0:User:accountSize"},
		{Kind: preview.DuplicateUserName, Resource: "User", ID: "2", Attribute: "userName"},
		{Kind: preview.DuplicateEmail, Resource: "User", ID: "2", Attribute: "emails"},
		{Kind: preview.MemberOutsideScope, Resource: "Group", ID: "2", Attribute: "members"},
	}
	got := make([]preview.Finding, len(rep.Findings))
	for i, f := range rep.Findings {
		got[i] = preview.Finding{Kind: f.Kind, Resource: f.Resource, ID: f.ID, Attribute: f.Attribute}
	}
	if !slices.Equal(got, want) {
		t.Errorf("findings:\n got  %+v\n want %+v\n%s", got, want, out)
	}
	for _, w := range []struct{ kind, detail string }{
		{preview.NotRoundTrip, `status stores "X", which reads as a SCIM value that writes back as "A"`},
		{preview.Unmappable, `the stored value "lots" is not a valid integer`},
		{preview.DuplicateUserName, `"bob" is shared by 2 users (2, 3)`},
		{preview.DuplicateEmail, `"shared@example.com" is shared by 2 users (2, 3)`},
		{preview.MemberOutsideScope, `1 member(s) are not among the users of this endpoint: 99`},
	} {
		found := false
		for _, f := range rep.Findings {
			found = found || (f.Kind == w.kind && strings.Contains(f.Detail, w.detail))
		}
		if !found {
			t.Errorf("no %s finding saying %q:\n%s", w.kind, w.detail, out)
		}
	}
	s := rep.Summary
	if s.Users != 6 || s.Groups != 2 || s.UsersWithoutEmail != 2 || s.Limited || len(s.Findings) != 6 {
		t.Errorf("summary: %+v", s)
	}

	// The same findings as a table and as CSV (a header and one row each).
	code, out, _ = runCmd(t, "", "preview", "--config", cfg)
	if code != 0 || !strings.Contains(out, "6 users, 2 groups") || strings.Count(out, "\n") < len(want)+4 {
		t.Errorf("preview table: exit %d\n%s", code, out)
	}
	code, out, _ = runCmd(t, "", "preview", "--config", cfg, "--format", "csv")
	if code != 0 || !strings.HasPrefix(out, "kind,resource,id,attribute,detail\n") || strings.Count(out, "\n") != len(want)+1 {
		t.Errorf("preview csv: exit %d\n%s", code, out)
	}
	// --limit reads fewer users and then leaves out the scope check.
	code, out, _ = runCmd(t, "", "preview", "--config", cfg, "--format", "json", "--limit", "2")
	var lim preview.Report
	if err := json.Unmarshal([]byte(out), &lim); code != 0 || err != nil || lim.Summary.Users != 2 || !lim.Summary.Limited || lim.Summary.Findings[preview.MemberOutsideScope] != 0 {
		t.Errorf("preview --limit 2: exit %d, %+v\n%s", code, lim.Summary, out)
	}
	if code, _, _ := runCmd(t, "", "preview", "--config", cfg, "--format", "xml"); code != 2 {
		t.Errorf("--format xml: exit %d, want 2", code)
	}
	if after := dump(t, conn); after != before {
		t.Errorf("preview changed the database:\nbefore %s\nafter  %s", before, after)
	}
}

// dump is every row of the test tables, for checking nothing changed.
func dump(t *testing.T, conn *sql.DB) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		"SELECT id, coalesce(login,''), given, coalesce(mail,''), status, coalesce(quota,'') FROM people ORDER BY id",
		"SELECT id, name, '', '', '', '' FROM teams ORDER BY id",
		"SELECT team_id, person_id, '', '', '', '' FROM team_members ORDER BY 1, 2",
	} {
		rows, err := conn.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var v [6]string
			if err := rows.Scan(&v[0], &v[1], &v[2], &v[3], &v[4], &v[5]); err != nil {
				t.Fatal(err)
			}
			b.WriteString(strings.Join(v[:], "|") + ";")
		}
		rows.Close()
	}
	return b.String()
}
