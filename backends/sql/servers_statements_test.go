package sql_test

import (
	"context"
	dbsql "database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/conformance"
	sqlbackend "github.com/scimbridge/scimbridge/backends/sql"
)

// An application that lets its database account only read its tables and
// call its procedures (SECURITY DEFINER), which also write audit rows. The
// backend connects with that account, so any write of its own would fail.

// procTables are the tables, the same on both servers but for types.
var procTables = map[string][]string{
	"Postgres": {`
CREATE TABLE acct_users (
  user_id      serial PRIMARY KEY,
  login        varchar(64) NOT NULL,
  first_name   varchar(100), last_name varchar(100), display_name varchar(200), email varchar(254),
  active       smallint NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  employee_no  integer,
  created_at   timestamptz, updated_at timestamptz,
  row_version  integer NOT NULL DEFAULT 0
)`,
		`CREATE UNIQUE INDEX acct_users_login_key ON acct_users (lower(login))`,
		`CREATE TABLE acct_groups (group_id serial PRIMARY KEY, name varchar(100) NOT NULL)`,
		`CREATE UNIQUE INDEX acct_groups_name_key ON acct_groups (lower(name))`,
		`CREATE TABLE acct_members (
  group_id integer NOT NULL REFERENCES acct_groups (group_id),
  user_id  integer NOT NULL REFERENCES acct_users (user_id),
  PRIMARY KEY (group_id, user_id))`,
		`CREATE TABLE acct_audit (seq bigserial PRIMARY KEY, op text NOT NULL, obj text NOT NULL, detail text)`,
	},
	"MariaDB": {`
CREATE TABLE acct_users (
  user_id      INT AUTO_INCREMENT PRIMARY KEY,
  login        VARCHAR(64) NOT NULL UNIQUE,
  first_name   VARCHAR(100), last_name VARCHAR(100), display_name VARCHAR(200), email VARCHAR(254),
  active       TINYINT NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  employee_no  INT,
  created_at   DATETIME(6), updated_at DATETIME(6),
  row_version  INT NOT NULL DEFAULT 0
) ENGINE=InnoDB`,
		`CREATE TABLE acct_groups (group_id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL UNIQUE) ENGINE=InnoDB`,
		`CREATE TABLE acct_members (
  group_id INT NOT NULL, user_id INT NOT NULL, PRIMARY KEY (group_id, user_id),
  FOREIGN KEY (group_id) REFERENCES acct_groups (group_id),
  FOREIGN KEY (user_id) REFERENCES acct_users (user_id)) ENGINE=InnoDB`,
		`CREATE TABLE acct_audit (seq BIGINT AUTO_INCREMENT PRIMARY KEY, op VARCHAR(20) NOT NULL, obj VARCHAR(100) NOT NULL, detail VARCHAR(300)) ENGINE=InnoDB`,
	},
}

// procRoutines are the application's procedures: creating a user is a
// function on PostgreSQL (SELECT returns the id) and a procedure with a
// result set on MariaDB; creating a group is a procedure with an INOUT id
// on PostgreSQL and one that returns nothing on MariaDB (found by name).
var procRoutines = map[string][]string{
	"Postgres": {`
CREATE FUNCTION acct_user_create(p_login text, p_first text, p_last text, p_display text, p_email text,
                                 p_active smallint, p_empno integer, p_created timestamptz)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE v integer;
BEGIN
  IF lower(p_login) IN ('root', 'admin') THEN
    RAISE EXCEPTION 'login % is reserved', p_login;
  END IF;
  INSERT INTO acct_users (login, first_name, last_name, display_name, email, active, employee_no, created_at, updated_at)
  VALUES (p_login, p_first, p_last, p_display, p_email, COALESCE(p_active, 1), p_empno, p_created, p_created)
  RETURNING user_id INTO v;
  INSERT INTO acct_audit (op, obj, detail) VALUES ('user+', v, p_login);
  RETURN v;
END $$`, `
CREATE PROCEDURE acct_user_update(p_id integer, p_login text, p_first text, p_last text, p_display text, p_email text,
                                  p_active smallint, p_empno integer, p_updated timestamptz, p_version integer)
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  IF lower(p_login) IN ('root', 'admin') THEN
    RAISE EXCEPTION 'login % is reserved', p_login;
  END IF;
  UPDATE acct_users SET login = p_login, first_name = p_first, last_name = p_last, display_name = p_display,
    email = p_email, active = p_active, employee_no = p_empno, updated_at = p_updated, row_version = p_version
  WHERE user_id = p_id;
  INSERT INTO acct_audit (op, obj, detail) VALUES ('user~', p_id, p_login);
END $$`, `
CREATE PROCEDURE acct_user_delete(p_id integer, p_login text) LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  INSERT INTO acct_audit (op, obj) SELECT 'member-', group_id || '/' || user_id FROM acct_members WHERE user_id = p_id ORDER BY group_id;
  DELETE FROM acct_members WHERE user_id = p_id;
  DELETE FROM acct_users WHERE user_id = p_id;
  INSERT INTO acct_audit (op, obj, detail) VALUES ('user-', p_id, p_login);
END $$`, `
CREATE PROCEDURE acct_group_create(p_name text, INOUT p_id integer DEFAULT NULL) LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  INSERT INTO acct_groups (name) VALUES (p_name) RETURNING group_id INTO p_id;
  INSERT INTO acct_audit (op, obj, detail) VALUES ('group+', p_id, p_name);
END $$`, `
CREATE PROCEDURE acct_group_rename(p_id integer, p_name text) LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  UPDATE acct_groups SET name = p_name WHERE group_id = p_id;
  INSERT INTO acct_audit (op, obj, detail) VALUES ('group~', p_id, p_name);
END $$`, `
CREATE PROCEDURE acct_group_delete(p_id integer) LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  INSERT INTO acct_audit (op, obj) SELECT 'member-', group_id || '/' || user_id FROM acct_members WHERE group_id = p_id ORDER BY user_id;
  DELETE FROM acct_members WHERE group_id = p_id;
  DELETE FROM acct_groups WHERE group_id = p_id;
  INSERT INTO acct_audit (op, obj) VALUES ('group-', p_id);
END $$`, `
CREATE PROCEDURE acct_member_add(p_group integer, p_user integer) LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  INSERT INTO acct_members (group_id, user_id) VALUES (p_group, p_user);
  INSERT INTO acct_audit (op, obj) VALUES ('member+', p_group || '/' || p_user);
END $$`, `
CREATE PROCEDURE acct_member_remove(p_group integer, p_user integer) LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  DELETE FROM acct_members WHERE group_id = p_group AND user_id = p_user;
  INSERT INTO acct_audit (op, obj) VALUES ('member-', p_group || '/' || p_user);
END $$`,
	},
	"MariaDB": {`
CREATE PROCEDURE acct_user_create(IN p_login VARCHAR(64), IN p_first VARCHAR(100), IN p_last VARCHAR(100),
  IN p_display VARCHAR(200), IN p_email VARCHAR(254), IN p_active TINYINT, IN p_empno INT, IN p_created DATETIME(6))
BEGIN
  DECLARE v INT;
  DECLARE msg VARCHAR(200);
  IF LOWER(p_login) IN ('root', 'admin') THEN
    SET msg = CONCAT('login ', p_login, ' is reserved');
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = msg;
  END IF;
  INSERT INTO acct_users (login, first_name, last_name, display_name, email, active, employee_no, created_at, updated_at)
  VALUES (p_login, p_first, p_last, p_display, p_email, COALESCE(p_active, 1), p_empno, p_created, p_created);
  SET v = LAST_INSERT_ID();
  INSERT INTO acct_audit (op, obj, detail) VALUES ('user+', v, p_login);
  SELECT v AS user_id;
END`, `
CREATE PROCEDURE acct_user_update(IN p_id INT, IN p_login VARCHAR(64), IN p_first VARCHAR(100), IN p_last VARCHAR(100),
  IN p_display VARCHAR(200), IN p_email VARCHAR(254), IN p_active TINYINT, IN p_empno INT, IN p_updated DATETIME(6), IN p_version INT)
BEGIN
  DECLARE msg VARCHAR(200);
  IF LOWER(p_login) IN ('root', 'admin') THEN
    SET msg = CONCAT('login ', p_login, ' is reserved');
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = msg;
  END IF;
  UPDATE acct_users SET login = p_login, first_name = p_first, last_name = p_last, display_name = p_display,
    email = p_email, active = p_active, employee_no = p_empno, updated_at = p_updated, row_version = p_version
  WHERE user_id = p_id;
  INSERT INTO acct_audit (op, obj, detail) VALUES ('user~', p_id, p_login);
END`, `
CREATE PROCEDURE acct_user_delete(IN p_id INT, IN p_login VARCHAR(64))
BEGIN
  INSERT INTO acct_audit (op, obj) SELECT 'member-', CONCAT(group_id, '/', user_id) FROM acct_members WHERE user_id = p_id ORDER BY group_id;
  DELETE FROM acct_members WHERE user_id = p_id;
  DELETE FROM acct_users WHERE user_id = p_id;
  INSERT INTO acct_audit (op, obj, detail) VALUES ('user-', p_id, p_login);
END`, `
CREATE PROCEDURE acct_group_create(IN p_name VARCHAR(100))
BEGIN
  INSERT INTO acct_groups (name) VALUES (p_name);
  INSERT INTO acct_audit (op, obj, detail) VALUES ('group+', LAST_INSERT_ID(), p_name);
END`, `
CREATE PROCEDURE acct_group_rename(IN p_id INT, IN p_name VARCHAR(100))
BEGIN
  UPDATE acct_groups SET name = p_name WHERE group_id = p_id;
  INSERT INTO acct_audit (op, obj, detail) VALUES ('group~', p_id, p_name);
END`, `
CREATE PROCEDURE acct_group_delete(IN p_id INT)
BEGIN
  INSERT INTO acct_audit (op, obj) SELECT 'member-', CONCAT(group_id, '/', user_id) FROM acct_members WHERE group_id = p_id ORDER BY user_id;
  DELETE FROM acct_members WHERE group_id = p_id;
  DELETE FROM acct_groups WHERE group_id = p_id;
  INSERT INTO acct_audit (op, obj) VALUES ('group-', p_id);
END`, `
CREATE PROCEDURE acct_member_add(IN p_group INT, IN p_user INT)
BEGIN
  INSERT INTO acct_members (group_id, user_id) VALUES (p_group, p_user);
  INSERT INTO acct_audit (op, obj) VALUES ('member+', CONCAT(p_group, '/', p_user));
END`, `
CREATE PROCEDURE acct_member_remove(IN p_group INT, IN p_user INT)
BEGIN
  DELETE FROM acct_members WHERE group_id = p_group AND user_id = p_user;
  INSERT INTO acct_audit (op, obj) VALUES ('member-', CONCAT(p_group, '/', p_user));
END`,
	},
}

// procConfigs write only through the procedures. Create statements differ:
// see procRoutines.
var procConfigs = map[string]string{
	"Postgres": strings.NewReplacer(
		"USER_CREATE", `sql        = "SELECT acct_user_create(:login, :first_name, :last_name, :display_name, :email, :active::smallint, :employee_no, :created_at)"
      returns_id = true`,
		"GROUP_CREATE", `sql        = "CALL acct_group_create(:name, NULL)"
      returns_id = true`,
		"ACTIVE", ":active::smallint",
	).Replace(procConfigTemplate),
	"MariaDB": strings.NewReplacer(
		"USER_CREATE", `sql        = "CALL acct_user_create(:login, :first_name, :last_name, :display_name, :email, :active, :employee_no, :created_at)"
      returns_id = true`,
		"GROUP_CREATE", `sql     = "CALL acct_group_create(:name)"
      find_by = "name"`,
		"ACTIVE", ":active",
	).Replace(procConfigTemplate),
}

const procConfigTemplate = `
backend "sql" "proc" {
  driver        = driver
  dsn           = dsn
  query_timeout = "30s"

  resource "User" {
    table           = "acct_users"
    id_column       = "user_id"
    columns         = ["login", "first_name", "last_name", "display_name", "email", "active", "employee_no"]
    created_column  = "created_at"
    modified_column = "updated_at"
    version_column  = "row_version"
    create {
      USER_CREATE
    }
    update {
      sql = <<-SQL
        CALL acct_user_update(:id, :login, :first_name, :last_name, :display_name, :email, ACTIVE,
                              :employee_no, :updated_at, :row_version)
      SQL
    }
    delete { sql = "CALL acct_user_delete(:id, :login)" }
    reference "groups" {
      join_table   = "acct_members"
      this_column  = "user_id"
      other_column = "group_id"
      target       = "Group"
      read_only    = true
    }
  }
  resource "Group" {
    table     = "acct_groups"
    id_column = "group_id"
    columns   = ["name"]
    create {
      GROUP_CREATE
    }
    update { sql = "CALL acct_group_rename(:id, :name)" }
    delete { sql = "CALL acct_group_delete(:id)" }
    reference "members" {
      join_table   = "acct_members"
      this_column  = "group_id"
      other_column = "user_id"
      target       = "User"
      add    { sql = "CALL acct_member_add(:id, :target_id)" }
      remove { sql = "CALL acct_member_remove(:id, :target_id)" }
    }
  }
}
`

// procAccount is the application's account: it reads the tables and calls
// the procedures (grants: extra, e.g. "DELETE ON acct_users").
const procAccount, procPassword = "scim_app", "scim-app-secret"

// procDSN loads the tables and routines into a fresh database, grants the
// application's account what it may do, and returns that account's DSN
// and an administrator's connection for checks.
func procDSN(t *testing.T, srv server, grants ...string) (string, *dbsql.DB) {
	t.Helper()
	dsn := srv.newDB(t)
	db := rawServerDB(t, srv, dsn)
	for _, stmt := range append(slices.Clone(procTables[srv.name]), procRoutines[srv.name]...) {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s schema: %v\n%s", srv.name, err, stmt)
		}
	}
	var admin []string
	var appDSN string
	switch srv.name {
	case "Postgres":
		admin = []string{
			`DO $$ BEGIN CREATE ROLE ` + procAccount + ` LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$`,
			`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ` + procAccount,
		}
		for _, g := range grants {
			admin = append(admin, "GRANT "+g+" TO "+procAccount)
		}
		if !strings.HasPrefix(dsn, "postgres://postgres@") {
			t.Fatalf("unexpected DSN form %q", dsn)
		}
		appDSN = "postgres://" + procAccount + "@" + strings.TrimPrefix(dsn, "postgres://postgres@")
	default:
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			t.Fatal(err)
		}
		admin = []string{
			"CREATE USER IF NOT EXISTS '" + procAccount + "'@'127.0.0.1' IDENTIFIED BY '" + procPassword + "'",
			"GRANT SELECT, EXECUTE ON `" + cfg.DBName + "`.* TO '" + procAccount + "'@'127.0.0.1'",
		}
		for _, g := range grants {
			on, what, _ := strings.Cut(g, " ON ")
			admin = append(admin, "GRANT "+on+" ON `"+cfg.DBName+"`."+what+" TO '"+procAccount+"'@'127.0.0.1'")
		}
		cfg.User, cfg.Passwd = procAccount, procPassword
		appDSN = cfg.FormatDSN()
	}
	for _, stmt := range admin {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v\n%s", srv.name, err, stmt)
		}
	}
	return appDSN, db
}

// openProc opens the backend on the procedures, as the application's account.
func openProc(t *testing.T, srv server, src string, grants ...string) (*sqlbackend.Backend, *dbsql.DB) {
	t.Helper()
	dsn, db := procDSN(t, srv, grants...)
	cfg, diags := decode(t, "proc.hcl", src, map[string]cty.Value{"dsn": cty.StringVal(dsn), "driver": cty.StringVal(srv.driver)})
	if diags.HasErrors() {
		t.Fatalf("DecodeConfig: %v", diags)
	}
	b, err := sqlbackend.New(context.Background(), cfg, hclog.NewNullLogger())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b, db
}

func TestConformanceServersProcedures(t *testing.T) {
	for _, srv := range servers() {
		t.Run(srv.name, func(t *testing.T) {
			conformance.Run(t, legacyColumns(func(t *testing.T) backends.Backend {
				b, _ := openProc(t, srv, procConfigs[srv.name])
				return b
			}))
		})
	}
}

// procChecks reads the database directly.
type procChecks struct {
	t      *testing.T
	db     *dbsql.DB
	srv    server
	seen   int // audit rows already checked
	concat func(parts ...string) string
}

func newProcChecks(t *testing.T, srv server, db *dbsql.DB) *procChecks {
	c := &procChecks{t: t, db: db, srv: srv}
	c.concat = func(parts ...string) string { return strings.Join(parts, " || ") }
	if srv.name == "MariaDB" {
		c.concat = func(parts ...string) string { return "CONCAT(" + strings.Join(parts, ", ") + ")" }
	}
	return c
}

// text casts expr to text.
func (c *procChecks) text(expr string) string {
	if c.srv.name == "Postgres" {
		return "CAST(" + expr + " AS text)"
	}
	return "CAST(" + expr + " AS CHAR)"
}

// ph is the n-th placeholder of the server.
func (c *procChecks) ph(n int) string {
	if c.srv.name == "Postgres" {
		return "$" + string(rune('0'+n))
	}
	return "?"
}

func (c *procChecks) strings(query string, args ...any) []string {
	c.t.Helper()
	return queryStrings(c.t, c.db, query, args...)
}

// audit checks the audit rows written since the last call.
func (c *procChecks) audit(what string, want ...string) {
	c.t.Helper()
	all := c.strings("SELECT " + c.concat("op", "' '", "obj") + " FROM acct_audit ORDER BY seq")
	got := all[c.seen:]
	c.seen = len(all)
	if !slices.Equal(got, want) {
		c.t.Fatalf("%s: audit rows %q, want %q", what, got, want)
	}
}

// TestServerProcedures checks the tables and the audit rows the procedures
// write, that membership changes are one call per changed member, and that
// a failing procedure rolls back the whole write and maps to the right error.
func TestServerProcedures(t *testing.T) {
	for _, srv := range servers() {
		t.Run(srv.name, func(t *testing.T) {
			b, db := openProc(t, srv, procConfigs[srv.name])
			c := newProcChecks(t, srv, db)
			ctx := withTimeout(t)
			alice, err := b.Create(ctx, backends.User, backends.Attrs{"login": {"alice"}, "first_name": {"Alice"}, "employee_no": {"7"}})
			if err != nil {
				t.Fatal(err)
			}
			bob, err := b.Create(ctx, backends.User, backends.Attrs{"login": {"bob"}, "active": {"0"}})
			if err != nil {
				t.Fatal(err)
			}
			a, bo := alice.ID, bob.ID
			if alice.Attrs.First("active") != "1" || alice.Attrs.First("created_at") == "" || bob.Attrs.First("active") != "0" {
				t.Errorf("created: %v / %v", alice.Attrs, bob.Attrs)
			}
			c.audit("create users", "user+ "+a, "user+ "+bo)
			g, err := b.Create(ctx, backends.Group, backends.Attrs{"name": {"staff"}, "members": {a}})
			if err != nil {
				t.Fatal(err)
			}
			c.audit("create group", "group+ "+g.ID, "member+ "+g.ID+"/"+a)

			steps := []struct {
				what  string
				mod   backends.Modification
				audit []string
			}{
				{"add one new, one present", backends.Modification{Op: backends.ModAdd, Attr: "members", Values: []string{a, bo}}, []string{"member+ " + g.ID + "/" + bo}},
				{"replace", backends.Modification{Op: backends.ModReplace, Attr: "members", Values: []string{bo}}, []string{"member- " + g.ID + "/" + a}},
				{"remove a non-member", backends.Modification{Op: backends.ModDelete, Attr: "members", Values: []string{a}}, nil},
				{"remove all", backends.Modification{Op: backends.ModDelete, Attr: "members"}, []string{"member- " + g.ID + "/" + bo}},
				{"add both", backends.Modification{Op: backends.ModAdd, Attr: "members", Values: []string{bo, a}}, []string{"member+ " + g.ID + "/" + bo, "member+ " + g.ID + "/" + a}},
			}
			for _, st := range steps {
				if _, err := b.Modify(ctx, backends.Group, g.ID, []backends.Modification{st.mod}, nil); err != nil {
					t.Fatalf("%s: %v", st.what, err)
				}
				c.audit(st.what, st.audit...)
			}

			// The update procedure gets the whole row, the new version and
			// the modification time.
			rec, err := b.Modify(ctx, backends.User, a, []backends.Modification{{Op: backends.ModReplace, Attr: "last_name", Values: []string{"Liddell"}}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			c.audit("update", "user~ "+a)
			if rec.Attrs.First("first_name") != "Alice" || rec.Attrs.First("last_name") != "Liddell" || rec.Attrs.First("employee_no") != "7" ||
				rec.Attrs.First("row_version") != "1" || rec.Attrs.First("updated_at") == "" {
				t.Errorf("after update: %v", rec.Attrs)
			}
			row := c.strings("SELECT "+c.concat("login", "'|'", "first_name", "'|'", "last_name", "'|'", c.text("row_version"))+
				" FROM acct_users WHERE user_id = "+c.ph(1), a)
			if !slices.Equal(row, []string{"alice|Alice|Liddell|1"}) {
				t.Errorf("alice's row: %q", row)
			}

			// Refused writes leave nothing behind, not even audit rows.
			for _, tc := range []struct {
				what  string
				err   error
				want  error
				words string
			}{
				{"reserved login (RAISE / SIGNAL)", create(ctx, b, backends.Attrs{"login": {"root"}}), backends.ErrInvalid, "login root is reserved"},
				{"reserved login on update", modify(ctx, b, backends.User, bo, backends.Modification{Op: backends.ModReplace, Attr: "login", Values: []string{"Admin"}}), backends.ErrInvalid, "login Admin is reserved"},
				{"duplicate login", create(ctx, b, backends.Attrs{"login": {"ALICE"}}), backends.ErrAlreadyExists, ""},
				{"rename onto a taken login", modify(ctx, b, backends.User, bo, backends.Modification{Op: backends.ModReplace, Attr: "login", Values: []string{"alice"}}), backends.ErrAlreadyExists, ""},
				{"check constraint", modify(ctx, b, backends.User, bo, backends.Modification{Op: backends.ModReplace, Attr: "active", Values: []string{"7"}}), backends.ErrInvalid, ""},
				{"group with an unknown member", create(ctx, b, backends.Attrs{"name": {"never"}, "members": {a, "987654"}}, backends.Group), backends.ErrInvalidReference, "987654"},
				{"rename and an unknown member", modify(ctx, b, backends.Group, g.ID,
					backends.Modification{Op: backends.ModReplace, Attr: "name", Values: []string{"renamed"}},
					backends.Modification{Op: backends.ModReplace, Attr: "members", Values: []string{a}},
					backends.Modification{Op: backends.ModAdd, Attr: "members", Values: []string{"987654"}}), backends.ErrInvalidReference, ""},
				{"unknown user", modify(ctx, b, backends.User, "987654", backends.Modification{Op: backends.ModReplace, Attr: "login", Values: []string{"x"}}), backends.ErrNotFound, ""},
			} {
				if !errors.Is(tc.err, tc.want) || !strings.Contains(tc.err.Error(), tc.words) {
					t.Errorf("%s: %v, want %v mentioning %q", tc.what, tc.err, tc.want, tc.words)
				}
			}
			// What the bridge may show: the procedure's own message, and
			// which attribute a procedure's insert found taken.
			var am *backends.AdminMessage
			if err := create(ctx, b, backends.Attrs{"login": {"root"}}); !errors.As(err, &am) || am.Msg != "login root is reserved" {
				t.Errorf("RAISE / SIGNAL: %v, want an AdminMessage with the procedure's text", err)
			}
			if ae, ok := backends.AsAttrError(create(ctx, b, backends.Attrs{"login": {"ALICE"}})); !ok || ae.Attr != "login" {
				t.Errorf("duplicate login through a procedure: %+v, want an AttrError about login", ae)
			}
			c.audit("refused writes")
			if got := c.strings("SELECT name FROM acct_groups"); !slices.Equal(got, []string{"staff"}) {
				t.Errorf("groups: %q", got)
			}
			if got := c.strings("SELECT login FROM acct_users ORDER BY login"); !slices.Equal(got, []string{"alice", "bob"}) {
				t.Errorf("users: %q", got)
			}

			// Deleting: the procedures remove the memberships too.
			if err := b.Delete(ctx, backends.User, bo); err != nil {
				t.Fatal(err)
			}
			c.audit("delete bob", "member- "+g.ID+"/"+bo, "user- "+bo)
			if err := b.Delete(ctx, backends.User, bo); !errors.Is(err, backends.ErrNotFound) {
				t.Errorf("second delete: %v, want ErrNotFound", err)
			}
			if err := b.Delete(ctx, backends.Group, g.ID); err != nil {
				t.Fatal(err)
			}
			c.audit("delete group", "member- "+g.ID+"/"+a, "group- "+g.ID)
			if got := c.strings("SELECT " + c.concat(c.text("group_id"), "'/'", c.text("user_id")) + " FROM acct_members"); len(got) != 0 {
				t.Errorf("join rows left: %q", got)
			}
		})
	}
}

// TestServerProceduresInjection: values with quotes, semicolons and
// :names go through the procedures as data.
func TestServerProceduresInjection(t *testing.T) {
	values := append(slices.Clone(hostileValues), `'; DROP TABLE acct_audit; --`, `\'; CALL acct_user_delete(1, 'x'); --`)
	for _, srv := range servers() {
		t.Run(srv.name, func(t *testing.T) {
			b, db := openProc(t, srv, procConfigs[srv.name])
			c := newProcChecks(t, srv, db)
			ctx := withTimeout(t)
			g, err := b.Create(ctx, backends.Group, backends.Attrs{"name": {`g'); DELETE FROM acct_members; --`}})
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range values {
				login := string(rune('a'+i)) + v
				u, err := b.Create(ctx, backends.User, backends.Attrs{"login": {login}, "first_name": {v}, "email": {v}})
				if err != nil {
					t.Fatalf("create %q: %v", v, err)
				}
				rec, err := b.Modify(ctx, backends.User, u.ID, []backends.Modification{{Op: backends.ModReplace, Attr: "display_name", Values: []string{v}}}, nil)
				if err != nil {
					t.Fatalf("modify %q: %v", v, err)
				}
				if rec.Attrs.First("login") != login || rec.Attrs.First("first_name") != v || rec.Attrs.First("display_name") != v {
					t.Errorf("%q read back as %v", v, rec.Attrs)
				}
				got := c.strings("SELECT "+c.concat("login", "'|'", "first_name", "'|'", "email", "'|'", "display_name")+" FROM acct_users WHERE user_id = "+c.ph(1), u.ID)
				if want := login + "|" + v + "|" + v + "|" + v; !slices.Equal(got, []string{want}) {
					t.Errorf("row of %q: %q, want %q", v, got, want)
				}
				if got := c.strings("SELECT detail FROM acct_audit WHERE op = 'user~' AND obj = "+c.ph(1), u.ID); !slices.Equal(got, []string{login}) {
					t.Errorf("audit detail of %q: %q", v, got)
				}
				if _, err := b.Modify(ctx, backends.Group, g.ID, []backends.Modification{{Op: backends.ModAdd, Attr: "members", Values: []string{u.ID}}}, nil); err != nil {
					t.Fatal(err)
				}
			}
			if got := c.strings("SELECT " + c.text("COUNT(*)") + " FROM acct_members"); !slices.Equal(got, []string{strconv.Itoa(len(values))}) {
				t.Errorf("join rows: %q, want %d", got, len(values))
			}
			if got := c.strings("SELECT name FROM acct_groups"); !slices.Equal(got, []string{`g'); DELETE FROM acct_members; --`}) {
				t.Errorf("group name: %q", got)
			}
		})
	}
}

// TestServerProceduresDirectDeletes: without delete statements, deleting a
// record removes its references through the remove procedure (one call per
// reference), then deletes the row itself (the account may delete rows,
// not join rows).
func TestServerProceduresDirectDeletes(t *testing.T) {
	src := func(s string) string {
		return strings.NewReplacer(
			`delete { sql = "CALL acct_user_delete(:id, :login)" }`, "",
			`delete { sql = "CALL acct_group_delete(:id)" }`, "",
		).Replace(s)
	}
	for _, srv := range servers() {
		t.Run(srv.name, func(t *testing.T) {
			b, db := openProc(t, srv, src(procConfigs[srv.name]), "DELETE ON acct_users", "DELETE ON acct_groups")
			c := newProcChecks(t, srv, db)
			ctx := withTimeout(t)
			var u []string
			for _, name := range []string{"u1", "u2"} {
				rec, err := b.Create(ctx, backends.User, backends.Attrs{"login": {name}})
				if err != nil {
					t.Fatal(err)
				}
				u = append(u, rec.ID)
			}
			var g []string
			for _, name := range []string{"g1", "g2"} {
				rec, err := b.Create(ctx, backends.Group, backends.Attrs{"name": {name}, "members": u})
				if err != nil {
					t.Fatal(err)
				}
				g = append(g, rec.ID)
			}
			c.audit("setup", "user+ "+u[0], "user+ "+u[1],
				"group+ "+g[0], "member+ "+g[0]+"/"+u[0], "member+ "+g[0]+"/"+u[1],
				"group+ "+g[1], "member+ "+g[1]+"/"+u[0], "member+ "+g[1]+"/"+u[1])
			if err := b.Delete(ctx, backends.User, u[0]); err != nil {
				t.Fatal(err)
			}
			c.audit("delete a user", "member- "+g[0]+"/"+u[0], "member- "+g[1]+"/"+u[0])
			if err := b.Delete(ctx, backends.Group, g[1]); err != nil {
				t.Fatal(err)
			}
			c.audit("delete a group", "member- "+g[1]+"/"+u[1])
			if got := c.strings("SELECT login FROM acct_users"); !slices.Equal(got, []string{"u2"}) {
				t.Errorf("users: %q", got)
			}
			if got := c.strings("SELECT name FROM acct_groups"); !slices.Equal(got, []string{"g1"}) {
				t.Errorf("groups: %q", got)
			}
			if got := c.strings("SELECT " + c.concat(c.text("group_id"), "'/'", c.text("user_id")) + " FROM acct_members"); !slices.Equal(got, []string{g[0] + "/" + u[1]}) {
				t.Errorf("join rows: %q", got)
			}
			if err := b.Delete(ctx, backends.User, u[0]); !errors.Is(err, backends.ErrNotFound) {
				t.Errorf("second delete: %v, want ErrNotFound", err)
			}
		})
	}
}

// TestServerProceduresRowLock: where the account may lock rows (here:
// UPDATE privilege on PostgreSQL), an update through a procedure waits
// for a concurrent writer of the row and then passes the row as that
// writer left it, so the writer's change is not overwritten.
func TestServerProceduresRowLock(t *testing.T) {
	for _, srv := range servers() {
		t.Run(srv.name, func(t *testing.T) {
			var grants []string
			if srv.name == "Postgres" {
				grants = []string{"UPDATE ON acct_users"}
			}
			b, db := openProc(t, srv, procConfigs[srv.name], grants...)
			ctx := withTimeout(t)
			u, err := b.Create(ctx, backends.User, backends.Attrs{"login": {"lock"}, "first_name": {"Old"}})
			if err != nil {
				t.Fatal(err)
			}
			c := newProcChecks(t, srv, db)
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = tx.Rollback() }()
			if _, err := tx.Exec("UPDATE acct_users SET first_name = 'App' WHERE user_id = "+c.ph(1), u.ID); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				_, err := b.Modify(ctx, backends.User, u.ID, []backends.Modification{{Op: backends.ModReplace, Attr: "last_name", Values: []string{"Bridge"}}}, nil)
				done <- err
			}()
			select {
			case err := <-done:
				t.Fatalf("the modify did not wait for the row lock: %v", err)
			case <-time.After(300 * time.Millisecond):
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			got := c.strings("SELECT "+c.concat("first_name", "'|'", "last_name")+" FROM acct_users WHERE user_id = "+c.ph(1), u.ID)
			if !slices.Equal(got, []string{"App|Bridge"}) {
				t.Errorf("row after both writes: %q, want App|Bridge", got)
			}
		})
	}
}
