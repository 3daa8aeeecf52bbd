package bridge_test

import (
	dbsql "database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/scimtest"
)

// staffConfig is a legacy HR schema as the issue found it: a one-letter
// status whose "L" (on leave) reads as active, a quota in MB read in GB, a
// title stored lower-case and read upper-case through a function that
// cannot take NULL. Filters on them cannot be pushed down by inverting
// to_native; only active says, with filter_values, which codes read as
// what.
func staffConfig(dsn string, withFilterValues bool) string {
	fv := ""
	if withFilterValues {
		fv = `filter_values = value ? null : ["D"]`
	}
	return `
schema "urn:ietf:params:scim:schemas:extension:acme:2.0:User" {
  resource = "User"
  attribute "storageQuotaGB" { type = "integer" }
}
backend "sql" "hr" {
  driver = "sqlite"
  dsn    = "` + dsn + `"
  bootstrap_sql = <<-SQL
    CREATE TABLE IF NOT EXISTS staff (
      id       INTEGER PRIMARY KEY AUTOINCREMENT,
      login    TEXT NOT NULL UNIQUE COLLATE NOCASE,
      first_nm TEXT,
      last_nm  TEXT,
      status   TEXT NOT NULL DEFAULT 'E',
      quota_mb INTEGER,
      job      TEXT,
      mail     TEXT
    );
    CREATE TABLE IF NOT EXISTS teams (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE);
    CREATE TABLE IF NOT EXISTS team_members (team INTEGER NOT NULL, staff INTEGER NOT NULL, PRIMARY KEY (team, staff));
  SQL
  resource "User" {
    table     = "staff"
    id_column = "id"
    reference "teams" {
      join_table   = "team_members"
      this_column  = "staff"
      other_column = "team"
      target       = "Group"
      read_only    = true
    }
  }
  resource "Group" {
    table     = "teams"
    id_column = "id"
    reference "members" {
      join_table   = "team_members"
      this_column  = "team"
      other_column = "staff"
      target       = "User"
    }
  }
}
endpoint "hr" {
  base_path = "/scim/v2"
  backend   = "hr"
  ` + bridgetest.TokenBlock + `
  mapping "User" {
    attribute "userName"        { native = "login" }
    attribute "name.givenName"  { native = "first_nm" }
    attribute "name.familyName" { native = "last_nm" }
    attribute "emails[type eq \"work\"].value" { native = "mail" }
    attribute "title" {
      native      = "job"
      to_native   = lower(value)
      from_native = upper(value)
    }
    attribute "active" {
      native      = "status"
      to_native   = value ? "E" : "D"
      from_native = value != "D"
      ` + fv + `
    }
    attribute "urn:ietf:params:scim:schemas:extension:acme:2.0:User:storageQuotaGB" {
      native      = "quota_mb"
      to_native   = value * 1024
      from_native = floor(tonumber(value) / 1024)
    }
    attribute "groups.value" { native = "teams" }
  }
  mapping "Group" {
    attribute "displayName"   { native = "name" }
    attribute "members.value" { native = "members" }
  }
}
`
}

func startStaff(t *testing.T, withFilterValues bool) (*bridgetest.Server, *bridgetest.Client, *dbsql.DB) {
	t.Helper()
	dsn := filepath.Join(t.TempDir(), "hr.db")
	srv := bridgetest.Start(t, staffConfig(dsn, withFilterValues), kinds.Types())
	db, err := dbsql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return srv, bridgetest.NewClient(t, srv.URL+"/scim/v2"), db
}

// TestReadsSurviveExpressionErrors: from_native = upper(value) on a NULL
// column neither fails the write that stored the row (the IdP would retry
// into 409 and the user would be stuck) nor any list holding it; a stored
// value an expression cannot read is left out of that one resource.
func TestReadsSurviveExpressionErrors(t *testing.T) {
	_, c, db := startStaff(t, false)
	u := c.Must(201, "POST", "/Users", map[string]any{"userName": "no-title"})
	id := bridgetest.Str(u.JSON, "id")
	if _, ok := u.JSON["title"]; ok {
		t.Fatalf("a user without a title answers one: %s", u.Body)
	}
	c.Must(200, "GET", "/Users/"+id, nil)
	c.Must(201, "POST", "/Users", map[string]any{"userName": "with-title", "title": "Boss"})
	if _, err := db.Exec(`UPDATE staff SET quota_mb = 'lots' WHERE login = 'with-title'`); err != nil {
		t.Fatal(err)
	}
	l := c.Must(200, "GET", "/Users?count=10", nil)
	if n := bridgetest.Str(l.JSON, "totalResults"); n != "2" {
		t.Fatalf("list: %s", l.Body)
	}
	g := c.Must(200, "GET", "/Users?filter="+q(`userName eq "with-title"`), nil)
	res := g.JSON["Resources"].([]any)[0].(map[string]any)
	if res["title"] != "BOSS" || res["urn:ietf:params:scim:schemas:extension:acme:2.0:User"] != nil {
		t.Fatalf("a stored quota that does not read is left out, the rest stays: %s", g.Body)
	}
	// The write's answer is not an error either.
	p := c.Must(200, "PATCH", "/Users/"+id, map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []any{map[string]any{"op": "replace", "path": "name.givenName", "value": "N"}}})
	if bridgetest.Str(p.JSON, "name", "givenName") != "N" {
		t.Fatalf("patch: %s", p.Body)
	}
}

// TestFiltersAgreeWithReads: on the schema, with rows only the
// application writes ('L', a quota of 2500 MB), every filter returns what
// reads say; with and without filter_values.
func TestFiltersAgreeWithReads(t *testing.T) {
	for _, fv := range []bool{false, true} {
		srvFull, srv, db := startStaff(t, fv)
		c := srv
		for i, u := range []map[string]any{
			{"userName": "ann", "name": map[string]any{"givenName": "Ann", "familyName": "Archer"}, "title": "Lead", "active": true,
				"emails": []any{map[string]any{"type": "work", "value": "ann@example.com"}}, "urn:ietf:params:scim:schemas:extension:acme:2.0:User": map[string]any{"storageQuotaGB": 2}},
			{"userName": "bob", "name": map[string]any{"givenName": "Bob"}, "active": false, "urn:ietf:params:scim:schemas:extension:acme:2.0:User": map[string]any{"storageQuotaGB": 5}},
			{"userName": "cy", "title": "lead", "active": true},
			{"userName": "dee", "active": true},
		} {
			r := srv.Must(201, "POST", "/Users", u)
			if i == 0 {
				srv.Must(201, "POST", "/Groups", map[string]any{"displayName": "core", "members": []any{map[string]any{"value": bridgetest.Str(r.JSON, "id")}}})
			}
		}
		// What only the application writes.
		for _, stmt := range []string{
			`UPDATE staff SET status = 'L', quota_mb = 2500 WHERE login = 'dee'`,
			`UPDATE staff SET quota_mb = 2047 WHERE login = 'cy'`,
		} {
			if _, err := db.Exec(stmt); err != nil {
				t.Fatal(err)
			}
		}
		active := srv.Must(200, "GET", "/Users?filter="+q(`active eq true`), nil)
		if !strings.Contains(string(active.Body), `"dee"`) {
			t.Fatalf("status L reads as active, so active eq true finds it: %s", active.Body)
		}
		quota := srv.Must(200, "GET", "/Users?filter="+q(`urn:ietf:params:scim:schemas:extension:acme:2.0:User:storageQuotaGB eq 2`), nil)
		if bridgetest.Str(quota.JSON, "totalResults") != "2" {
			t.Fatalf("ann (2048 MB) and dee (2500 MB) read as 2 GB: %s", quota.Body)
		}
		n := scimtest.CheckFiltersAgree(t, srvFull, c)
		t.Logf("filter_values %v: %d filters checked", fv, n)
	}
}
