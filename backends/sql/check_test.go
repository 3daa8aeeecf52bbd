package sql_test

// Issue #10 item 4: a mapping that names what the database does not have
// stops serve with the mapping's file:line; at run time an error of the
// configuration is a 500 with the reason in the log, and a value the
// database requires that the client left out is a 400 naming the SCIM
// attribute. On SQLite, PostgreSQL and MariaDB.

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
)

var checkSchemas = map[string]string{
	"SQLite": `
CREATE TABLE chk_users (
  user_id    INTEGER PRIMARY KEY AUTOINCREMENT,
  login      TEXT NOT NULL UNIQUE,
  first_name TEXT,
  last_name  TEXT NOT NULL,
  status     CHAR(1) NOT NULL DEFAULT 'A',
  created_at TEXT
);
CREATE TABLE chk_groups (
  group_id INTEGER PRIMARY KEY AUTOINCREMENT,
  name     TEXT NOT NULL UNIQUE
);
CREATE TABLE chk_members (
  group_id INTEGER NOT NULL REFERENCES chk_groups(group_id),
  user_id  INTEGER NOT NULL REFERENCES chk_users(user_id),
  PRIMARY KEY (group_id, user_id)
);
`,
	"Postgres": `
CREATE TABLE chk_users (
  user_id    serial PRIMARY KEY,
  login      varchar(64) NOT NULL UNIQUE,
  first_name varchar(100),
  last_name  varchar(100) NOT NULL,
  status     char(1) NOT NULL DEFAULT 'A',
  created_at timestamptz
);
CREATE TABLE chk_groups (
  group_id serial PRIMARY KEY,
  name     varchar(100) NOT NULL UNIQUE
);
CREATE TABLE chk_members (
  group_id integer NOT NULL REFERENCES chk_groups(group_id),
  user_id  integer NOT NULL REFERENCES chk_users(user_id),
  PRIMARY KEY (group_id, user_id)
);
`,
	"MariaDB": `
CREATE TABLE chk_users (
  user_id    INT AUTO_INCREMENT PRIMARY KEY,
  login      VARCHAR(64) NOT NULL UNIQUE,
  first_name VARCHAR(100),
  last_name  VARCHAR(100) NOT NULL,
  status     CHAR(1) NOT NULL DEFAULT 'A',
  created_at DATETIME(6)
) ENGINE=InnoDB;
CREATE TABLE chk_groups (
  group_id INT AUTO_INCREMENT PRIMARY KEY,
  name     VARCHAR(100) NOT NULL UNIQUE
) ENGINE=InnoDB;
CREATE TABLE chk_members (
  group_id INT NOT NULL,
  user_id  INT NOT NULL,
  PRIMARY KEY (group_id, user_id),
  FOREIGN KEY (group_id) REFERENCES chk_groups(group_id),
  FOREIGN KEY (user_id) REFERENCES chk_users(user_id)
) ENGINE=InnoDB;
`,
}

// checkConfig serves chk_users and chk_groups; DRIVER and DSN are
// replaced, and MAPPING by the User mapping's attribute blocks.
const checkConfig = `backend "sql" "app" {
  driver = "DRIVER"
  dsn    = "DSN"
  resource "User" {
    table          = "chk_users"
    id_column      = "user_id"
    created_column = "created_at"
  }
  resource "Group" {
    table     = "chk_groups"
    id_column = "group_id"
    reference "members" {
      join_table   = "chk_members"
      this_column  = "group_id"
      other_column = "user_id"
      target       = "User"
    }
  }
}
endpoint "e" {
  base_path = "/scim/v2"
  backend   = "app"
  ` + bridgetest.TokenBlock + `
  mapping "User" {
MAPPING
  }
  mapping "Group" {
    attribute "displayName"   { native = "name" }
    attribute "members.value" { native = "members" }
  }
}
`

// goodMapping fits chk_users.
const goodMapping = `    attribute "userName"        { native = "login" }
    attribute "name.givenName"  { native = "first_name" }
    attribute "name.familyName" { native = "last_name" }
    attribute "meta.created"    { native = "created_at" }`

// checkStore is one database with the check schema loaded.
type checkStore struct {
	name   string
	config func(mapping string) string
}

func checkStores(t *testing.T) []checkStore {
	sqlite := checkStore{name: "SQLite", config: func(m string) string {
		dsn := filepath.Join(t.TempDir(), "chk.db")
		return strings.NewReplacer("DRIVER", "sqlite", "DSN", dsn, "MAPPING", m).Replace(checkConfig)
	}}
	stores := []checkStore{sqlite}
	for _, srv := range servers() {
		// One database per store, loaded once, shared by the subtests
		// (each only reads the catalog or writes its own rows).
		var once sync.Once
		var dsn string
		srv := srv
		stores = append(stores, checkStore{name: srv.name, config: func(m string) string {
			once.Do(func() {
				dsn = srv.newDB(t)
				execScript(t, srv, rawServerDB(t, srv, dsn), checkSchemas[srv.name])
			})
			return strings.NewReplacer("DRIVER", srv.driver, "DSN", dsn, "MAPPING", m).Replace(checkConfig)
		}})
	}
	return stores
}

// withSQLiteSchema adds the schema to a SQLite configuration as its
// bootstrap_sql (the others are loaded into their database).
func withSQLiteSchema(name, config string) string {
	if name != "SQLite" {
		return config
	}
	return strings.Replace(config, `  resource "User" {`, "  bootstrap_sql = <<-SQL\n"+checkSchemas["SQLite"]+"  SQL\n  resource \"User\" {", 1)
}

// lineOf is the 1-based line of the first line of text holding s.
// TestMappingCheckAtStart: every mistake of a mapping is reported before
// serving, with its line, as serve prints it; a mapping that fits passes.
func TestMappingCheckAtStart(t *testing.T) {
	bad := `    attribute "userName"        { native = "login" }
    attribute "name.givenName"  { native = "frist_name" }
    attribute "externalId"      { native = "USER_ID" }
    attribute "title"           { native = "created_at" }`
	for _, st := range checkStores(t) {
		t.Run(st.name, func(t *testing.T) {
			text := withSQLiteSchema(st.name, st.config(bad))
			diags := bridgetest.Check(t, text, kinds.Types())
			bridgetest.ExpectDiagnostics(t, text, diags,
				bridgetest.WantDiagnostic{Summary: "Native attribute not in the store", At: `native = "frist_name"`, Detail: `Did you mean "first_name"?`},
				bridgetest.WantDiagnostic{Summary: "Mapping writes the id", At: `native = "USER_ID"`, Detail: "SCIM id"},
				bridgetest.WantDiagnostic{Summary: "Mapping writes a read-only native attribute", At: `native = "created_at" }`, Detail: "created_column"},
				bridgetest.WantDiagnostic{Summary: "Required native attribute not mapped", At: `mapping "User"`, Detail: `"last_name" (a NOT NULL column without a default)`},
			)
			for _, d := range diags {
				if d.Summary != "Mapping writes a read-only native attribute" && !strings.Contains(d.Detail, `table "chk_users"`) {
					t.Errorf("%q: detail %q does not name the table", d.Summary, d.Detail)
				}
			}
			if diags := bridgetest.Check(t, withSQLiteSchema(st.name, st.config(goodMapping)), kinds.Types()); len(diags) != 0 {
				t.Errorf("a mapping that fits: %v", diags)
			}
		})
	}
}

// TestMappingErrorsBlameTheRightParty: a NOT NULL column mapped from an
// optional SCIM attribute the client left out is a 400 naming the SCIM
// attribute; a mapping served unchecked that names no column is a 500 with
// the reason (and the request id) in the log.
func TestMappingErrorsBlameTheRightParty(t *testing.T) {
	for _, st := range checkStores(t) {
		t.Run(st.name, func(t *testing.T) {
			srv := bridgetest.Start(t, withSQLiteSchema(st.name, st.config(goodMapping)), kinds.Types())
			c := bridgetest.NewClient(t, srv.URL+"/scim/v2")
			user := func(name string, family any) map[string]any {
				u := map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": name,
					"name": map[string]any{"givenName": "Ada"}}
				if family != nil {
					u["name"].(map[string]any)["familyName"] = family
				}
				return u
			}
			r := c.Do("POST", "/Users", user("ada-"+st.name, nil))
			detail := bridgetest.Str(r.JSON, "detail")
			if r.Status != 400 || bridgetest.Str(r.JSON, "scimType") != "invalidValue" || !strings.Contains(detail, `"name.familyName"`) || strings.Contains(detail, "last_name") {
				t.Fatalf("create without familyName: %d %s, want 400 naming name.familyName, not the column", r.Status, r.Body)
			}
			u := c.Must(201, "POST", "/Users", user("ada-"+st.name, "Lovelace"))
			id := bridgetest.Str(u.JSON, "id")
			r = c.Do("PATCH", "/Users/"+id, map[string]any{
				"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
				"Operations": []any{map[string]any{"op": "remove", "path": "name.familyName"}},
			})
			if r.Status != 400 || !strings.Contains(bridgetest.Str(r.JSON, "detail"), `"name.familyName"`) {
				t.Fatalf("removing familyName: %d %s, want 400 naming it", r.Status, r.Body)
			}

			// Served unchecked (as when a store cannot describe itself at
			// start), a typo fails every write: the configuration's fault.
			var log bridgetest.LogBuffer
			bad := strings.Replace(goodMapping, `native = "first_name"`, `native = "frist_name"`, 1)
			srv2 := bridgetest.StartWith(t, withSQLiteSchema(st.name, st.config(bad)), kinds.Types(), bridgetest.Options{Unchecked: true, Log: &log})
			c2 := bridgetest.NewClient(t, srv2.URL+"/scim/v2")
			c2.Headers = map[string]string{"X-Request-Id": "cfgcheck-" + st.name}
			r = c2.Do("POST", "/Users", user("grace-"+st.name, "Hopper"))
			if r.Status != 500 || !strings.Contains(bridgetest.Str(r.JSON, "detail"), "mapping does not fit the directory") || strings.Contains(string(r.Body), "frist_name") {
				t.Fatalf("write through a mapping naming no column: %d %s, want 500 without the native name", r.Status, r.Body)
			}
			if l := log.String(); !strings.Contains(l, "frist_name") || !strings.Contains(l, "cfgcheck-"+st.name) || !strings.Contains(l, "configuration does not fit") {
				t.Fatalf("the log does not tell the administrator (reason, request id):\n%s", l)
			}
		})
	}
}

// TestDescribeNative: what the catalog says, per kind of column.
func TestDescribeNative(t *testing.T) {
	b, _ := open(t, `
backend "sql" "x" {
  driver        = "sqlite"
  dsn           = "${dir}/chk.db"
  bootstrap_sql = schema
  resource "User" {
    table           = "chk_users"
    id_column       = "user_id"
    columns         = ["login", "first_name", "created_at"]
    created_column  = "created_at"
  }
  resource "Group" {
    table     = "chk_groups"
    id_column = "group_id"
    reference "members" {
      join_table   = "chk_members"
      this_column  = "group_id"
      other_column = "user_id"
      target       = "User"
      read_only    = true
    }
  }
}`, checkSchemas["SQLite"])
	d, err := b.DescribeNative(context.Background(), backends.User)
	if err != nil {
		t.Fatal(err)
	}
	describe := func(name string) string {
		n := d.Lookup(name)
		if n == nil {
			return "unknown"
		}
		return fmt.Sprintf("%s id=%v ro=%q req=%q", n.Name, n.ID, n.ReadOnly, n.Required)
	}
	for name, want := range map[string]string{
		"LOGIN":      `login id=false ro="" req="a NOT NULL column without a default"`,
		"first_name": `first_name id=false ro="" req=""`,
		"user_id":    `user_id id=true ro="" req=""`,
		"created_at": `created_at id=false ro="the backend sets it: created_column, modified_column or version_column" req=""`,
		// NOT NULL, no default, not in columns: required and unwritable.
		"last_name": `last_name id=false ro="not an attribute of the resource: list it in columns of resource \"User\"" req="a NOT NULL column without a default"`,
		"status":    "unknown", // has a default, not in columns
		"nosuch":    "unknown",
	} {
		if got := describe(name); got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
	g, err := b.DescribeNative(context.Background(), backends.Group)
	if err != nil {
		t.Fatal(err)
	}
	if n := g.Lookup("members"); n == nil || n.ReadOnly == "" {
		t.Errorf("read-only reference: %+v", n)
	}
	if _, err := b.DescribeNative(context.Background(), "Device"); err == nil {
		t.Error("no such resource type: no error")
	}
}

// TestDescribeNativeStatements: a column the create or update statement
// does not take cannot be written; the statement, not the table, decides
// what a new row needs.
func TestDescribeNativeStatements(t *testing.T) {
	src := strings.NewReplacer(
		"first_name = :first_name, ", "",
		":first_name, ", "NULL, ",
	).Replace(stmtSQLiteConfig)
	b, _ := open(t, src, stmtSQLiteSchema)
	d, err := b.DescribeNative(context.Background(), backends.User)
	if err != nil {
		t.Fatal(err)
	}
	if n := d.Lookup("first_name"); n == nil || !strings.Contains(n.ReadOnly, ":first_name") {
		t.Errorf("first_name: %+v, want read-only for want of :first_name", n)
	}
	if n := d.Lookup("last_name"); n == nil || n.ReadOnly != "" {
		t.Errorf("last_name: %+v, want writable", n)
	}
	for _, n := range d.Attrs {
		if n.Required != "" {
			t.Errorf("%s required (%s) although a create statement writes the rows", n.Name, n.Required)
		}
	}
}
