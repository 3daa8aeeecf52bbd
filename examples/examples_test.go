package examples_test

import (
	"context"
	dbsql "database/sql"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/backends/ldap/ds389test"
	"github.com/scimbridge/scimbridge/backends/ldap/ldaptest"
	"github.com/scimbridge/scimbridge/backends/ldap/sambatest"

	"github.com/scimbridge/scimbridge/backends/sql/mariadbtest"
	"github.com/scimbridge/scimbridge/backends/sql/pgtest"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/scimtest"
)

// One PostgreSQL and one MariaDB for the package; every test loads the
// example's schema file into a fresh database and serves the example's
// configuration as shipped, with DATABASE_URL pointing at it. The 389 DS
// tests (ds389_test.go) share one 389 Directory Server, the OpenLDAP tests
// (openldap_test.go) one stock slapd, an OU each. Each server starts when
// a test first uses it.
func TestMain(m *testing.M) {
	os.Exit(pgtest.Wrap(func() int {
		return mariadbtest.Wrap(func() int {
			return ds389test.Wrap(func() int {
				return sambatest.Wrap(func() int { return ldaptest.Wrap(m.Run, ldaptest.Options{Stock: true}) })
			}, ds389test.Options{})
		})
	}))
}

// example describes one shipped example and its native names.
type example struct {
	name    string
	config  string // file name
	schema  string // file name
	backend string // backend block name
	target  scimtest.Target
	// sql for the direct checks ($1 / ? placeholders as the driver wants).
	userRow      string // -> login, status; by id; live rows only
	deletedRow   string // -> count of soft-deleted rows; by id
	memberRow    string // -> count; by group id, user id
	recreateCode int    // status of re-creating a deleted userName
	// account is the role the bridge connects as, created before the
	// schema is loaded (which grants it what it needs); "": the superuser.
	account string
}

// postgres reports whether the example runs on PostgreSQL (else MariaDB).
func (ex example) postgres() bool { return strings.HasPrefix(ex.name, "Postgres") }

var postgresExample = example{
	name: "Postgres", config: "postgres.hcl", schema: "postgres-legacy-schema.sql", backend: "hrportal",
	target: scimtest.Target{
		UserName: "logon_nm", GivenName: "frst_nm", FamilyName: "lst_nm", Email: "email_addr_txt",
		Active: "stat_cd", ActiveTrue: "A", ActiveFalse: "D", Password: "pwd_hash",
		EmployeeNumber: "emp_nbr", Manager: "mgr_person_no", Mobile: "tel_cell",
		GroupName: "team_nm", Members: "members",
	},
	userRow:      "SELECT logon_nm, stat_cd FROM hr_person WHERE person_no = $1 AND del_ts IS NULL",
	deletedRow:   "SELECT COUNT(*) FROM hr_person WHERE person_no = $1 AND del_ts IS NOT NULL",
	memberRow:    "SELECT COUNT(*) FROM hr_team_member WHERE team_id = $1 AND person_no = $2",
	recreateCode: 201, // the unique index covers live rows only
}

var mysqlExample = example{
	name: "MariaDB", config: "mysql.hcl", schema: "mysql-legacy-schema.sql", backend: "crm3",
	target: scimtest.Target{
		UserName: "USR_LOGIN", GivenName: "USR_FNAME", FamilyName: "USR_LNAME", Email: "USR_MAIL",
		Active: "USR_STATUS", ActiveTrue: "A", ActiveFalse: "I", Password: "USR_PWD",
		EmployeeNumber: "USR_EMPNO", Manager: "USR_MGR_ID", Mobile: "USR_MOBILE",
		GroupName: "GRP_NAME", Members: "members",
	},
	userRow:      "SELECT USR_LOGIN, USR_STATUS FROM TBL_USR WHERE USR_ID = ? AND USR_STATUS <> 'D'",
	deletedRow:   "SELECT COUNT(*) FROM TBL_USR WHERE USR_ID = ? AND USR_STATUS = 'D'",
	memberRow:    "SELECT COUNT(*) FROM TBL_GRP_USR WHERE GRP_ID = ? AND USR_ID = ?",
	recreateCode: 409, // UK_USR_LOGIN covers deleted users too
}

// started is one example served on a fresh database.
type started struct {
	srv *bridgetest.Server
	c   *bridgetest.Client
	db  *dbsql.DB // direct access for checks
	ex  example
}

func start(t *testing.T, ex example) *started {
	t.Helper()
	return startEdited(t, ex, "")
}

// startEdited is start with extraSQL run after the example's schema file
// and edits made to its configuration (as bridgetest.EditFile makes them).
func startEdited(t *testing.T, ex example, extraSQL string, edits ...[2]string) *started {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	schemaFile, err := os.ReadFile(ex.schema)
	if err != nil {
		t.Fatal(err)
	}
	schema := string(schemaFile) + extraSQL
	src := bridgetest.EditFile(t, ex.config, edits...)
	var url string
	var db *dbsql.DB
	switch {
	case ex.postgres():
		url = pgtest.Shared(t).NewDatabase(t)
		if db, err = dbsql.Open("pgx", url); err != nil {
			t.Fatal(err)
		}
		if ex.account != "" {
			if _, err := db.ExecContext(ctx, `DO $$ BEGIN CREATE ROLE `+ex.account+` LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$`); err != nil {
				t.Fatal(err)
			}
			super := "postgres://" + pgtest.User + "@"
			if !strings.HasPrefix(url, super) {
				t.Fatalf("unexpected DSN form %q", url)
			}
			url = "postgres://" + ex.account + "@" + strings.TrimPrefix(url, super)
		}
		if _, err := db.ExecContext(ctx, schema); err != nil {
			t.Fatalf("loading %s: %v", ex.schema, err)
		}
	default:
		srv := mariadbtest.Shared(t)
		dsn := srv.NewDatabase(t)
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			t.Fatal(err)
		}
		url = srv.URL(cfg.DBName) // the mysql:// form a DATABASE_URL has
		cfg.MultiStatements = true
		script, err := dbsql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			t.Fatal(err)
		}
		_, err = script.ExecContext(ctx, schema)
		script.Close()
		if err != nil {
			t.Fatalf("loading %s: %v", ex.schema, err)
		}
		if db, err = dbsql.Open("mysql", dsn); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = db.Close() })
	t.Setenv("DATABASE_URL", url)
	t.Setenv("SCIMBRIDGE_TOKEN", bridgetest.Token)
	srv := bridgetest.Start(t, src, kinds.Types())
	return &started{srv: srv, c: bridgetest.NewClient(t, srv.URL+"/scim/v2"), db: db, ex: ex}
}

func examples() []example {
	return []example{postgresExample, mysqlExample, proceduresExample, staffExample}
}

func TestExamplesGolden(t *testing.T) {
	for _, ex := range examples() {
		t.Run(ex.name, func(t *testing.T) {
			s := start(t, ex)
			tg := ex.target
			tg.Client, tg.Backend = s.c, s.srv.Backends[ex.backend]
			scimtest.RunGolden(t, &tg)
		})
	}
}

func TestExamplesOktaSpec(t *testing.T) {
	for _, ex := range examples() {
		t.Run(ex.name, func(t *testing.T) {
			s := start(t, ex)
			scimtest.SeedForOktaSpec(t, s.c)
			if res := scimtest.RunOktaSpec(t, s.c.Base, s.c.Auth); res.Assertions == 0 {
				t.Fatal("the SPEC test ran no assertion")
			}
		})
	}
}

// TestExamplesRows provisions through SCIM and reads the legacy tables
// directly: the rows, the status code, the join table, soft deletion.
func TestExamplesRows(t *testing.T) {
	for _, ex := range examples() {
		t.Run(ex.name, func(t *testing.T) {
			s := start(t, ex)
			c := s.c
			u := c.Must(201, "POST", "/Users", map[string]any{
				"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
				"userName": "Grace.Hopper@example.com",
				"name":     map[string]any{"givenName": "Grace", "familyName": "Hopper"},
				"emails": []any{
					map[string]any{"type": "work", "value": "grace@example.com", "primary": true},
					map[string]any{"type": "home", "value": "grace@home.example"},
				},
				"active": true,
			})
			uid := bridgetest.Str(u.JSON, "id")
			g := c.Must(201, "POST", "/Groups", map[string]any{
				"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
				"displayName": "Compilers",
				"members":     []any{map[string]any{"value": uid}},
			})
			gid := bridgetest.Str(g.JSON, "id")

			var login, status string
			if err := s.db.QueryRow(ex.userRow, uid).Scan(&login, &status); err != nil {
				t.Fatalf("user row %s: %v", uid, err)
			}
			if login != "Grace.Hopper@example.com" || status != ex.target.ActiveTrue {
				t.Errorf("user row: login %q status %q", login, status)
			}
			memberRows := func() int {
				t.Helper()
				var n int
				if err := s.db.QueryRow(ex.memberRow, gid, uid).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			if n := memberRows(); n != 1 {
				t.Fatalf("join table rows for group %s / user %s: %d, want 1", gid, uid, n)
			}
			// Deactivate: the status code column.
			c.Must(200, "PATCH", "/Users/"+uid, map[string]any{
				"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
				"Operations": []any{map[string]any{"op": "replace", "path": "active", "value": false}},
			})
			if err := s.db.QueryRow(ex.userRow, uid).Scan(&login, &status); err != nil || status != ex.target.ActiveFalse {
				t.Errorf("after deactivation: status %q (%v), want %q", status, err, ex.target.ActiveFalse)
			}
			// Delete: the row stays, marked; membership goes; SCIM no longer sees it.
			c.Must(204, "DELETE", "/Users/"+uid, nil)
			var deleted int
			if err := s.db.QueryRow(ex.deletedRow, uid).Scan(&deleted); err != nil || deleted != 1 {
				t.Fatalf("soft-deleted rows for %s: %d (%v), want 1", uid, deleted, err)
			}
			if n := memberRows(); n != 0 {
				t.Errorf("join table rows after deleting the user: %d, want 0", n)
			}
			c.Must(404, "GET", "/Users/"+uid, nil)
			list := c.Must(200, "GET", "/Users?filter="+`userName%20eq%20%22grace.hopper@example.com%22`, nil)
			if got := bridgetest.Str(list.JSON, "totalResults"); got != "0" {
				t.Errorf("a deleted user is listed: %s", list.Body)
			}
			c.Must(404, "DELETE", "/Users/"+uid, nil)
			// Re-creating the same userName: as the schema's unique key says.
			again := c.Do("POST", "/Users", map[string]any{
				"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
				"userName": "grace.hopper@example.com",
			})
			if again.Status != ex.recreateCode {
				t.Errorf("re-creating a deleted userName: %d %s, want %d", again.Status, again.Body, ex.recreateCode)
			}
		})
	}
}
