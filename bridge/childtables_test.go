package bridge_test

import (
	dbsql "database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/scimtest"
)

// childTablesConfig is the legacy schema of issue #10 items 6 and 7: the
// phones of a person in one table told apart by kind, their roles through
// a join table to a lookup table, served without views.
const childTablesConfig = `
backend "sql" "legacy" {
  driver = "sqlite"
  dsn    = env("CHILD_DB")
  bootstrap_sql = <<-SQL
    CREATE TABLE staff (
      id     INTEGER PRIMARY KEY AUTOINCREMENT,
      login  TEXT NOT NULL UNIQUE COLLATE NOCASE,
      given  TEXT,
      family TEXT,
      title  TEXT,
      status TEXT NOT NULL DEFAULT 'A'
    );
    CREATE TABLE phones (
      owner  INTEGER NOT NULL REFERENCES staff(id),
      kind   CHAR(1) NOT NULL CHECK (kind IN ('W', 'M', 'H')),
      number TEXT NOT NULL
    );
    CREATE TABLE roles (
      role_id   INTEGER PRIMARY KEY,
      role_name TEXT NOT NULL UNIQUE
    );
    CREATE TABLE person_roles (
      person  INTEGER NOT NULL REFERENCES staff(id),
      role_id INTEGER NOT NULL REFERENCES roles(role_id),
      PRIMARY KEY (person, role_id)
    );
    CREATE TABLE teams (
      id   INTEGER PRIMARY KEY AUTOINCREMENT,
      name TEXT NOT NULL UNIQUE
    );
    CREATE TABLE team_members (
      team   INTEGER NOT NULL REFERENCES teams(id),
      person INTEGER NOT NULL REFERENCES staff(id),
      PRIMARY KEY (team, person)
    );
    INSERT INTO roles (role_id, role_name) VALUES
      (1, 'Admin'), (2, 'Auditor'), (3, 'Helpdesk'), (4, 'reader'), (5, 'writer');
  SQL

  resource "User" {
    table     = "staff"
    id_column = "id"
    multi_value "phone_work" {
      table        = "phones"
      this_column  = "owner"
      value_column = "number"
      where        = { kind = "W" }
    }
    multi_value "phone_mobile" {
      table        = "phones"
      this_column  = "owner"
      value_column = "number"
      where        = { kind = "M" }
    }
    multi_value "app_roles" {
      table        = "person_roles"
      this_column  = "person"
      value_column = "role_id"
      lookup {
        table        = "roles"
        key_column   = "role_id"
        value_column = "role_name"
      }
    }
  }
  resource "Group" {
    table     = "teams"
    id_column = "id"
    reference "members" {
      join_table   = "team_members"
      this_column  = "team"
      other_column = "person"
      target       = "User"
    }
  }
}

endpoint "default" {
  base_path = "/scim/v2"
  backend   = "legacy"
  auth {
    token "env" { value = env("SCIMBRIDGE_TOKEN") }
  }
  mapping "User" {
    attribute "userName"        { native = "login" }
    attribute "name.givenName"  { native = "given" }
    attribute "name.familyName" { native = "family" }
    attribute "title"           { native = "title" }
    attribute "active" {
      native        = "status"
      to_native     = value ? "A" : "D"
      from_native   = value != "D"
      filter_values = value ? null : ["D"]
    }
    attribute "phoneNumbers[type eq \"work\"].value"   { native = "phone_work" }
    attribute "phoneNumbers[type eq \"mobile\"].value" { native = "phone_mobile" }
    attribute "roles.value"                            { native = "app_roles" }
  }
  mapping "Group" {
    attribute "displayName"   { native = "name" }
    attribute "members.value" { native = "members" }
  }
}
`

func startChildTables(t *testing.T) (*bridgetest.Server, *bridgetest.Client, *dbsql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "child.db")
	t.Setenv("SCIMBRIDGE_TOKEN", bridgetest.Token)
	t.Setenv("CHILD_DB", path)
	srv := bridgetest.Start(t, childTablesConfig, kinds.Types())
	db, err := dbsql.Open("sqlite", path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return srv, bridgetest.NewClient(t, srv.URL+"/scim/v2"), db
}

// rows lists "a:b" of a two-column query.
func rows(t *testing.T, db *dbsql.DB, query string) []string {
	t.Helper()
	rs, err := db.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		var a, b string
		if err := rs.Scan(&a, &b); err != nil {
			t.Fatal(err)
		}
		out = append(out, a+":"+b)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

const userSchema = "urn:ietf:params:scim:schemas:core:2.0:User"

func patchOps(ops ...map[string]any) map[string]any {
	list := make([]any, len(ops))
	for i, op := range ops {
		list[i] = op
	}
	return map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": list}
}

// phonesOf and rolesOf read a SCIM user's phones ("type:value", sorted)
// and role names (sorted).
func phonesOf(doc map[string]any) []string {
	var out []string
	l, _ := doc["phoneNumbers"].([]any)
	for _, el := range l {
		m, _ := el.(map[string]any)
		out = append(out, fmt.Sprintf("%v:%v", m["type"], m["value"]))
	}
	slices.Sort(out)
	return out
}

func rolesOf(doc map[string]any) []string {
	var out []string
	l, _ := doc["roles"].([]any)
	for _, el := range l {
		m, _ := el.(map[string]any)
		out = append(out, fmt.Sprint(m["value"]))
	}
	slices.Sort(out)
	return out
}

// TestChildTablesSQLite: issue #10 items 6 and 7 through the SCIM API.
func TestChildTablesSQLite(t *testing.T) {
	srv, c, db := startChildTables(t)
	check := func(what string, r *bridgetest.Response, path string, phones, roles []string, stored []string) {
		t.Helper()
		get := c.Must(200, "GET", path, nil)
		if r.Status != 204 && !reflect.DeepEqual(r.JSON, get.JSON) {
			t.Errorf("%s: the answer differs from a GET right after it\nanswer: %s\nGET:    %s", what, r.Body, get.Body)
		}
		if got := phonesOf(get.JSON); !slices.Equal(got, phones) {
			t.Errorf("%s: phoneNumbers %q, want %q", what, got, phones)
		}
		if got := rolesOf(get.JSON); !slices.Equal(got, roles) {
			t.Errorf("%s: roles %q, want %q", what, got, roles)
		}
		id := bridgetest.Str(get.JSON, "id")
		if got := rows(t, db, "SELECT kind, number FROM phones WHERE owner = "+id+" ORDER BY kind, number"); !slices.Equal(got, stored) {
			t.Errorf("%s: phones rows %q, want %q", what, got, stored)
		}
	}

	created := c.Must(201, "POST", "/Users", map[string]any{
		"schemas": []string{userSchema}, "userName": "ann@example.com", "active": true,
		"name": map[string]any{"givenName": "Ann", "familyName": "Lee"},
		"phoneNumbers": []any{
			map[string]any{"type": "work", "value": "+1 555 0100"},
			map[string]any{"type": "mobile", "value": "+1 555 0199"},
		},
		"roles": []any{map[string]any{"value": "Admin"}, map[string]any{"value": "auditor"}},
	})
	id := bridgetest.Str(created.JSON, "id")
	user := "/Users/" + id
	check("POST", created, user, []string{"mobile:+1 555 0199", "work:+1 555 0100"}, []string{"Admin", "Auditor"},
		[]string{"M:+1 555 0199", "W:+1 555 0100"})
	if got := rows(t, db, "SELECT person, role_id FROM person_roles ORDER BY role_id"); !slices.Equal(got, []string{id + ":1", id + ":2"}) {
		t.Errorf("person_roles rows %q", got)
	}

	// A row of a kind no attribute maps stays through every write.
	if _, err := db.Exec("INSERT INTO phones (owner, kind, number) VALUES (?, 'H', '+1 555 0000')", id); err != nil {
		t.Fatal(err)
	}
	r := c.Must(200, "PATCH", user, patchOps(map[string]any{"op": "replace", "path": `phoneNumbers[type eq "work"].value`, "value": "+1 555 0101"}))
	check("PATCH replace work phone", r, user, []string{"mobile:+1 555 0199", "work:+1 555 0101"}, []string{"Admin", "Auditor"},
		[]string{"H:+1 555 0000", "M:+1 555 0199", "W:+1 555 0101"})
	r = c.Must(200, "PATCH", user, patchOps(map[string]any{"op": "add", "path": "roles", "value": []any{map[string]any{"value": "HELPDESK"}}}))
	check("PATCH add role", r, user, []string{"mobile:+1 555 0199", "work:+1 555 0101"}, []string{"Admin", "Auditor", "Helpdesk"},
		[]string{"H:+1 555 0000", "M:+1 555 0199", "W:+1 555 0101"})
	r = c.Must(200, "PATCH", user, patchOps(
		map[string]any{"op": "remove", "path": `roles[value eq "Admin"]`},
		map[string]any{"op": "remove", "path": `phoneNumbers[type eq "mobile"]`}))
	check("PATCH remove role and mobile", r, user, []string{"work:+1 555 0101"}, []string{"Auditor", "Helpdesk"},
		[]string{"H:+1 555 0000", "W:+1 555 0101"})
	r = c.Must(200, "PATCH", user, patchOps(
		map[string]any{"op": "replace", "path": "roles", "value": []any{map[string]any{"value": "reader"}}},
		map[string]any{"op": "add", "path": "phoneNumbers", "value": []any{map[string]any{"type": "mobile", "value": "+1 555 0198"}}}))
	check("PATCH replace roles, add mobile", r, user, []string{"mobile:+1 555 0198", "work:+1 555 0101"}, []string{"reader"},
		[]string{"H:+1 555 0000", "M:+1 555 0198", "W:+1 555 0101"})

	r = c.Must(200, "PUT", user, map[string]any{
		"schemas": []string{userSchema}, "userName": "ann@example.com", "active": true,
		"name":         map[string]any{"givenName": "Ann", "familyName": "Lee"},
		"phoneNumbers": []any{map[string]any{"type": "mobile", "value": "+1 555 0197"}},
		"roles":        []any{map[string]any{"value": "writer"}, map[string]any{"value": "Admin"}},
	})
	check("PUT", r, user, []string{"mobile:+1 555 0197"}, []string{"Admin", "writer"}, []string{"H:+1 555 0000", "M:+1 555 0197"})

	// An unknown role: 400 invalidValue naming the attribute and the value;
	// nothing of the request is written.
	for _, req := range []struct {
		method, path string
		body         any
	}{
		{"PATCH", user, patchOps(
			map[string]any{"op": "replace", "path": `phoneNumbers[type eq "mobile"].value`, "value": "+1 555 0111"},
			map[string]any{"op": "add", "path": "roles", "value": []any{map[string]any{"value": "Root"}}})},
		{"PUT", user, map[string]any{"schemas": []string{userSchema}, "userName": "ann@example.com", "active": true,
			"roles": []any{map[string]any{"value": "Root"}}}},
		{"POST", "/Users", map[string]any{"schemas": []string{userSchema}, "userName": "bob@example.com", "active": true,
			"roles": []any{map[string]any{"value": "reader"}, map[string]any{"value": "Root"}}}},
	} {
		res := c.Do(req.method, req.path, req.body)
		detail, _ := res.JSON["detail"].(string)
		if res.Status != 400 || res.JSON["scimType"] != "invalidValue" || !strings.HasPrefix(detail, `roles "Root" is not a known value`) {
			t.Errorf("%s with an unknown role: %d %s", req.method, res.Status, res.Body)
		}
		for _, leak := range []string{"app_roles", "person_roles", "role_name", "role_id", "lookup"} {
			if strings.Contains(string(res.Body), leak) {
				t.Errorf("%s with an unknown role: the answer names %q: %s", req.method, leak, res.Body)
			}
		}
	}
	check("after the refused writes", c.Must(200, "GET", user, nil), user, []string{"mobile:+1 555 0197"}, []string{"Admin", "writer"},
		[]string{"H:+1 555 0000", "M:+1 555 0197"})
	if got := rows(t, db, "SELECT login, id FROM staff WHERE login = 'bob@example.com'"); len(got) != 0 {
		t.Errorf("the refused POST left %q", got)
	}

	// A second work phone stored by the application: the element reads
	// the first in value order; writing the element replaces both.
	if _, err := db.Exec("INSERT INTO phones (owner, kind, number) VALUES (?, 'W', '+1 555 0300'), (?, 'W', '+1 555 0200')", id, id); err != nil {
		t.Fatal(err)
	}
	get := c.Must(200, "GET", user, nil)
	if got := phonesOf(get.JSON); !slices.Equal(got, []string{"mobile:+1 555 0197", "work:+1 555 0200"}) {
		t.Errorf("two work phones read as %q", got)
	}
	r = c.Must(200, "PATCH", user, patchOps(map[string]any{"op": "replace", "path": `phoneNumbers[type eq "work"].value`, "value": "+1 555 0400"}))
	check("PATCH work phone over two rows", r, user, []string{"mobile:+1 555 0197", "work:+1 555 0400"}, []string{"Admin", "writer"},
		[]string{"H:+1 555 0000", "M:+1 555 0197", "W:+1 555 0400"})

	// Filters go to the database through the where values and the join.
	for _, f := range []struct {
		filter string
		want   int
	}{
		{`phoneNumbers[type eq "work"].value eq "+1 555 0400"`, 1},
		{`phoneNumbers[type eq "mobile"].value eq "+1 555 0400"`, 0},
		{`phoneNumbers.value eq "+1 555 0000"`, 0},
		{`roles.value eq "admin"`, 1},
		{`roles.value sw "wri"`, 1},
		{`roles.value eq "Auditor"`, 0},
		{`roles pr`, 1},
	} {
		res := c.Must(200, "GET", "/Users?filter="+urlQuery(f.filter), nil)
		if fmt.Sprint(res.JSON["totalResults"]) != fmt.Sprint(f.want) {
			t.Errorf("filter %s: %v results, want %d", f.filter, res.JSON["totalResults"], f.want)
		}
	}

	// The answers of the common sequences equal the GETs after them, and
	// every filter agrees with the reads.
	scimtest.RunAnswers(t, c, scimtest.AnswerMapping{Roles: true})
	scimtest.SeedVaried(t, c)
	c.Must(201, "POST", "/Users", map[string]any{"schemas": []string{userSchema}, "userName": "dee@example.com", "active": true,
		"roles":        []any{map[string]any{"value": "Helpdesk"}, map[string]any{"value": "reader"}},
		"phoneNumbers": []any{map[string]any{"type": "mobile", "value": "+1 555 0100"}}})
	t.Logf("%d filters checked", scimtest.CheckFiltersAgree(t, srv, c))
}

func urlQuery(s string) string {
	r := strings.NewReplacer(" ", "%20", `"`, "%22", "+", "%2B", "[", "%5B", "]", "%5D")
	return r.Replace(s)
}
