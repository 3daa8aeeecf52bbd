package sql_test

import (
	"context"
	dbsql "database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/conformance"
	sqlbackend "github.com/scimbridge/scimbridge/backends/sql"
)

// stmtSQLiteSchema is an application that writes through its own
// statements: every row carries who changed it last (changed_by, NOT NULL
// without a default, so the backend's own INSERT would fail), triggers
// write an audit row for every change, and a trigger refuses a login the
// application forbids.
const stmtSQLiteSchema = `
CREATE TABLE acct_users (
  user_id      INTEGER PRIMARY KEY AUTOINCREMENT,
  login        TEXT NOT NULL UNIQUE COLLATE NOCASE,
  first_name   TEXT, last_name TEXT, display_name TEXT, email TEXT,
  active       INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  employee_no  INTEGER,
  created_at   TEXT, updated_at TEXT,
  changed_by   TEXT NOT NULL
);
CREATE TABLE acct_groups (
  group_id   INTEGER PRIMARY KEY AUTOINCREMENT,
  name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
  changed_by TEXT NOT NULL
);
CREATE TABLE acct_members (
  group_id INTEGER NOT NULL REFERENCES acct_groups(group_id) ON DELETE CASCADE,
  user_id  INTEGER NOT NULL REFERENCES acct_users(user_id) ON DELETE CASCADE,
  added_by TEXT NOT NULL,
  PRIMARY KEY (group_id, user_id)
);
CREATE TABLE acct_mail (
  user_id INTEGER NOT NULL REFERENCES acct_users(user_id) ON DELETE CASCADE,
  address TEXT NOT NULL,
  added_by TEXT NOT NULL,
  PRIMARY KEY (user_id, address)
);
CREATE TABLE acct_audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  op  TEXT NOT NULL,
  obj TEXT NOT NULL,
  who TEXT
);
CREATE TRIGGER acct_users_ins AFTER INSERT ON acct_users BEGIN
  INSERT INTO acct_audit (op, obj, who) VALUES ('user+', NEW.user_id, NEW.changed_by); END;
CREATE TRIGGER acct_users_upd AFTER UPDATE ON acct_users BEGIN
  INSERT INTO acct_audit (op, obj, who) VALUES ('user~', NEW.user_id, NEW.changed_by); END;
CREATE TRIGGER acct_users_del AFTER DELETE ON acct_users BEGIN
  INSERT INTO acct_audit (op, obj) VALUES ('user-', OLD.user_id); END;
CREATE TRIGGER acct_users_guard BEFORE INSERT ON acct_users WHEN NEW.login = 'forbidden' BEGIN
  SELECT RAISE(ABORT, 'login forbidden by policy'); END;
CREATE TRIGGER acct_groups_ins AFTER INSERT ON acct_groups BEGIN
  INSERT INTO acct_audit (op, obj, who) VALUES ('group+', NEW.group_id, NEW.changed_by); END;
CREATE TRIGGER acct_groups_del AFTER DELETE ON acct_groups BEGIN
  INSERT INTO acct_audit (op, obj) VALUES ('group-', OLD.group_id); END;
CREATE TRIGGER acct_members_ins AFTER INSERT ON acct_members BEGIN
  INSERT INTO acct_audit (op, obj, who) VALUES ('member+', NEW.group_id || '/' || NEW.user_id, NEW.added_by); END;
CREATE TRIGGER acct_members_del AFTER DELETE ON acct_members BEGIN
  INSERT INTO acct_audit (op, obj) VALUES ('member-', OLD.group_id || '/' || OLD.user_id); END;
CREATE TRIGGER acct_mail_ins AFTER INSERT ON acct_mail BEGIN
  INSERT INTO acct_audit (op, obj, who) VALUES ('mail+', NEW.user_id || '/' || NEW.address, NEW.added_by); END;
CREATE TRIGGER acct_mail_del AFTER DELETE ON acct_mail BEGIN
  INSERT INTO acct_audit (op, obj) VALUES ('mail-', OLD.user_id || '/' || OLD.address); END;
`

// stmtSQLiteConfig writes only through statements: plain parameterised
// INSERT / UPDATE / DELETE (SQLite has no procedures).
const stmtSQLiteConfig = `
backend "sql" "stmt" {
  driver        = "sqlite"
  dsn           = "file:${dir}/stmt.db"
  bootstrap_sql = schema
  query_timeout = "30s"

  resource "User" {
    table           = "acct_users"
    id_column       = "user_id"
    columns         = ["login", "first_name", "last_name", "display_name", "email", "active", "employee_no"]
    created_column  = "created_at"
    modified_column = "updated_at"
    create {
      sql = <<-SQL
        INSERT INTO acct_users (login, first_name, last_name, display_name, email, active, employee_no,
                                created_at, updated_at, changed_by)
        VALUES (:login, :first_name, :last_name, :display_name, :email, COALESCE(:active, 1), :employee_no,
                :created_at, :updated_at, 'scim:create') -- ':not_a_param' in a comment
        RETURNING user_id;
      SQL
      returns_id = true
    }
    update {
      sql = <<-SQL
        UPDATE acct_users SET login = :login, first_name = :first_name, last_name = :last_name,
          display_name = :display_name, email = :email, active = :active, employee_no = :employee_no,
          updated_at = :updated_at, changed_by = 'scim:update'
        WHERE user_id = :id
      SQL
    }
    delete { sql = "DELETE FROM acct_users WHERE user_id = :id" }
    reference "groups" {
      join_table   = "acct_members"
      this_column  = "user_id"
      other_column = "group_id"
      target       = "Group"
      read_only    = true
    }
    multi_value "mail" {
      table        = "acct_mail"
      this_column  = "user_id"
      value_column = "address"
      add    { sql = "INSERT INTO acct_mail (user_id, address, added_by) VALUES (:id, :value, 'scim')" }
      remove { sql = "DELETE FROM acct_mail WHERE user_id = :id AND address = :value" }
    }
  }
  resource "Group" {
    table     = "acct_groups"
    id_column = "group_id"
    columns   = ["name"]
    create {
      sql     = "INSERT INTO acct_groups (name, changed_by) VALUES (:name, 'scim:create')"
      find_by = "name"
    }
    update { sql = "UPDATE acct_groups SET name = :name, changed_by = 'scim:update' WHERE group_id = :id" }
    delete { sql = "DELETE FROM acct_groups WHERE group_id = :id" }
    reference "members" {
      join_table   = "acct_members"
      this_column  = "group_id"
      other_column = "user_id"
      target       = "User"
      add    { sql = "INSERT INTO acct_members (group_id, user_id, added_by) VALUES (:id, :target_id, 'scim')" }
      remove { sql = "DELETE FROM acct_members WHERE group_id = :id AND user_id = :target_id" }
    }
  }
}
`

func openStmtSQLite(t *testing.T) (*sqlbackend.Backend, *dbsql.DB) {
	t.Helper()
	b, dir := open(t, stmtSQLiteConfig, stmtSQLiteSchema)
	db, err := dbsql.Open("sqlite", filepath.Join(dir, "stmt.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return b, db
}

func TestConformanceStatementsSQLite(t *testing.T) {
	f := legacyColumns(func(t *testing.T) backends.Backend {
		b, _ := openStmtSQLite(t)
		return b
	})
	f.MultiValued = "mail"
	conformance.Run(t, f)
}

// queryStrings runs a query returning one text column per row.
func queryStrings(t *testing.T, db *dbsql.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v dbsql.NullString
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v.String)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestStatementsSQLite checks the tables after writes through statements:
// the statements' own marks, the audit rows of the triggers, incremental
// membership, and that a failing statement rolls the whole write back.
func TestStatementsSQLite(t *testing.T) {
	b, db := openStmtSQLite(t)
	ctx := withTimeout(t)
	audit := func() []string {
		t.Helper()
		return queryStrings(t, db, "SELECT op || ' ' || obj || ' ' || COALESCE(who, '') FROM acct_audit ORDER BY seq")
	}
	since := func(n int) []string { return audit()[n:] }
	wantAudit := func(what string, from int, want ...string) int {
		t.Helper()
		got := since(from)
		if !slices.Equal(got, want) {
			t.Fatalf("%s: audit rows %q, want %q", what, got, want)
		}
		return from + len(got)
	}

	alice, err := b.Create(ctx, backends.User, backends.Attrs{"login": {"alice"}, "first_name": {"Alice"}, "mail": {"a@x.example", "alice@x.example"}})
	if err != nil {
		t.Fatal(err)
	}
	bob, err := b.Create(ctx, backends.User, backends.Attrs{"login": {"bob"}, "active": {"0"}})
	if err != nil {
		t.Fatal(err)
	}
	a, bo := alice.ID, bob.ID
	n := wantAudit("create users", 0, "user+ "+a+" scim:create", "mail+ "+a+"/a@x.example scim", "mail+ "+a+"/alice@x.example scim", "user+ "+bo+" scim:create")
	if got := alice.Attrs.Get("mail"); !slices.Equal(got, []string{"a@x.example", "alice@x.example"}) {
		t.Errorf("created alice: mail %q", got)
	}
	if got := queryStrings(t, db, "SELECT active || ' ' || created_at FROM acct_users WHERE user_id = ?", a); len(got) != 1 || !strings.HasPrefix(got[0], "1 20") {
		t.Errorf("alice row: %q (active defaulted by COALESCE, created_at stamped)", got)
	}

	g, err := b.Create(ctx, backends.Group, backends.Attrs{"name": {"staff"}, "members": {a}})
	if err != nil {
		t.Fatal(err)
	}
	n = wantAudit("create group", n, "group+ "+g.ID+" scim:create", "member+ "+g.ID+"/"+a+" scim")

	// One call per member that changes; none for members already there.
	if _, err := b.Modify(ctx, backends.Group, g.ID, []backends.Modification{{Op: backends.ModAdd, Attr: "members", Values: []string{a, bo}}}, nil); err != nil {
		t.Fatal(err)
	}
	n = wantAudit("add bob", n, "member+ "+g.ID+"/"+bo+" scim")
	if _, err := b.Modify(ctx, backends.Group, g.ID, []backends.Modification{{Op: backends.ModReplace, Attr: "members", Values: []string{bo}}}, nil); err != nil {
		t.Fatal(err)
	}
	n = wantAudit("replace with bob", n, "member- "+g.ID+"/"+a+" ")
	if _, err := b.Modify(ctx, backends.Group, g.ID, []backends.Modification{{Op: backends.ModDelete, Attr: "members", Values: []string{a}}}, nil); err != nil {
		t.Fatal(err)
	}
	n = wantAudit("remove a non-member", n)

	// The update statement gets the whole row after the change.
	rec, err := b.Modify(ctx, backends.User, a, []backends.Modification{{Op: backends.ModReplace, Attr: "last_name", Values: []string{"Liddell"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Attrs.First("first_name") != "Alice" || rec.Attrs.First("last_name") != "Liddell" || rec.Attrs.First("login") != "alice" {
		t.Errorf("modified alice: %v", rec.Attrs)
	}
	if got := queryStrings(t, db, "SELECT login || '|' || first_name || '|' || last_name || '|' || changed_by FROM acct_users WHERE user_id = ?", a); !slices.Equal(got, []string{"alice|Alice|Liddell|scim:update"}) {
		t.Errorf("alice row after update: %q", got)
	}
	n = wantAudit("update alice", n, "user~ "+a+" scim:update")
	if _, err := b.Modify(ctx, backends.User, a, []backends.Modification{{Op: backends.ModAdd, Attr: "mail", Values: []string{"a@x.example", "new@x.example"}}, {Op: backends.ModDelete, Attr: "mail", Values: []string{"alice@x.example"}}}, nil); err != nil {
		t.Fatal(err)
	}
	n = wantAudit("mail changes", n, "mail+ "+a+"/new@x.example scim", "mail- "+a+"/alice@x.example ")
	rec, err = b.Modify(ctx, backends.User, a, []backends.Modification{{Op: backends.ModReplace, Attr: "mail", Values: []string{"new@x.example", "z@x.example"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	n = wantAudit("mail replaced", n, "mail- "+a+"/a@x.example ", "mail+ "+a+"/z@x.example scim")
	if got, err := b.Get(ctx, backends.User, a, []string{"mail"}); err != nil || !slices.Equal(got.Attrs.Get("mail"), []string{"new@x.example", "z@x.example"}) {
		t.Errorf("mail after replace: %v %v", got.Attrs, err)
	}

	// A failing statement rolls back everything the write did.
	_, err = b.Modify(ctx, backends.Group, g.ID, []backends.Modification{
		{Op: backends.ModReplace, Attr: "name", Values: []string{"renamed"}},
		{Op: backends.ModAdd, Attr: "members", Values: []string{a}},
		{Op: backends.ModReplace, Attr: "members", Values: []string{"999999"}},
	}, nil)
	if !errors.Is(err, backends.ErrInvalidReference) {
		t.Fatalf("modify with a bad member: %v, want ErrInvalidReference", err)
	}
	_, err = b.Create(ctx, backends.User, backends.Attrs{"login": {"forbidden"}})
	if !errors.Is(err, backends.ErrInvalid) || !strings.Contains(err.Error(), "login forbidden by policy") {
		t.Fatalf("create refused by a trigger: %v, want ErrInvalid with its message", err)
	}
	_, err = b.Create(ctx, backends.User, backends.Attrs{"login": {"ALICE"}})
	if !errors.Is(err, backends.ErrAlreadyExists) {
		t.Fatalf("duplicate login: %v, want ErrAlreadyExists", err)
	}
	_, err = b.Modify(ctx, backends.User, bo, []backends.Modification{{Op: backends.ModReplace, Attr: "active", Values: []string{"7"}}}, nil)
	if !errors.Is(err, backends.ErrInvalid) {
		t.Fatalf("CHECK violation: %v, want ErrInvalid", err)
	}
	_, err = b.Create(ctx, backends.Group, backends.Attrs{"name": {"never"}, "members": {a, "999999"}})
	if !errors.Is(err, backends.ErrInvalidReference) {
		t.Fatalf("group with a bad member: %v, want ErrInvalidReference", err)
	}
	n = wantAudit("refused writes", n)
	if got := queryStrings(t, db, "SELECT name FROM acct_groups ORDER BY name"); !slices.Equal(got, []string{"staff"}) {
		t.Fatalf("groups after refused writes: %q", got)
	}

	// Deleting a user: the statement, the join rows by the cascade.
	if err := b.Delete(ctx, backends.User, bo); err != nil {
		t.Fatal(err)
	}
	wantAudit("delete bob", n, "member- "+g.ID+"/"+bo+" ", "user- "+bo+" ")
	if err := b.Delete(ctx, backends.User, bo); !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("second delete: %v, want ErrNotFound", err)
	}
}

// TestStatementsColumnsNotTaken: a value for a column that the statement
// does not take is refused as the configuration's fault (the mapping
// writes it), not dropped; setting a column to the value it has is not a
// change.
func TestStatementsColumnsNotTaken(t *testing.T) {
	src := strings.NewReplacer(
		"first_name = :first_name, ", "",
		":first_name, ", "NULL, ",
	).Replace(stmtSQLiteConfig)
	b, _ := open(t, src, stmtSQLiteSchema)
	ctx := withTimeout(t)
	_, err := b.Create(ctx, backends.User, backends.Attrs{"login": {"carol"}, "first_name": {"Carol"}})
	if !errors.Is(err, backends.ErrConfig) || !strings.Contains(err.Error(), ":first_name") {
		t.Fatalf("create with a column the statement does not take: %v, want ErrConfig naming :first_name", err)
	}
	u, err := b.Create(ctx, backends.User, backends.Attrs{"login": {"carol"}, "last_name": {"C"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Modify(ctx, backends.User, u.ID, []backends.Modification{{Op: backends.ModReplace, Attr: "first_name", Values: []string{"Carol"}}}, nil)
	if !errors.Is(err, backends.ErrConfig) {
		t.Fatalf("modify of a column the statement does not take: %v, want ErrConfig", err)
	}
	rec, err := b.Modify(ctx, backends.User, u.ID, []backends.Modification{
		{Op: backends.ModDelete, Attr: "first_name"}, // already empty
		{Op: backends.ModReplace, Attr: "last_name", Values: []string{"Carolsdottir"}},
	}, nil)
	if err != nil || rec.Attrs.First("last_name") != "Carolsdottir" {
		t.Fatalf("modify leaving an untaken column as it is: %v %v", rec.Attrs, err)
	}
}

// hostileValues contain what would break a statement that spliced values
// into its text.
var hostileValues = []string{
	`O'Brien`,
	`x'); DELETE FROM acct_audit; --`,
	`a; DROP TABLE acct_users`,
	`:login`,
	`:id, :target_id`,
	`$1 ? @x $tag$`,
	`"quoted" \ back\slash`,
	`-- comment /* c */`,
}

// TestStatementsInjectionSQLite: values land verbatim as data.
func TestStatementsInjectionSQLite(t *testing.T) {
	b, db := openStmtSQLite(t)
	ctx := withTimeout(t)
	g, err := b.Create(ctx, backends.Group, backends.Attrs{"name": {"g"}})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range hostileValues {
		login := "u" + string(rune('a'+i)) + v
		u, err := b.Create(ctx, backends.User, backends.Attrs{"login": {login}, "first_name": {v}, "mail": {v}})
		if err != nil {
			t.Fatalf("create %q: %v", v, err)
		}
		rec, err := b.Modify(ctx, backends.User, u.ID, []backends.Modification{{Op: backends.ModReplace, Attr: "last_name", Values: []string{v}}}, nil)
		if err != nil {
			t.Fatalf("modify %q: %v", v, err)
		}
		if rec.Attrs.First("login") != login || rec.Attrs.First("first_name") != v || rec.Attrs.First("last_name") != v {
			t.Errorf("%q: read back %v", v, rec.Attrs)
		}
		got := queryStrings(t, db, "SELECT login || '|' || first_name || '|' || last_name FROM acct_users WHERE user_id = ?", u.ID)
		if want := login + "|" + v + "|" + v; !slices.Equal(got, []string{want}) {
			t.Errorf("row of %q: %q, want %q", v, got, want)
		}
		if got := queryStrings(t, db, "SELECT address FROM acct_mail WHERE user_id = ?", u.ID); !slices.Equal(got, []string{v}) {
			t.Errorf("mail of %q: %q", v, got)
		}
		if _, err := b.Modify(ctx, backends.Group, g.ID, []backends.Modification{{Op: backends.ModAdd, Attr: "members", Values: []string{u.ID}}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if got := queryStrings(t, db, "SELECT COUNT(*) FROM acct_users"); got[0] != "8" {
		t.Errorf("users: %s", got)
	}
	if got := queryStrings(t, db, "SELECT COUNT(*) FROM acct_members"); got[0] != "8" {
		t.Errorf("members: %s", got)
	}
	if got := queryStrings(t, db, "SELECT COUNT(*) FROM acct_audit"); got[0] == "0" {
		t.Errorf("audit rows: %s", got)
	}
}

// TestStatementsConfigErrors: statement problems are reported with the
// line of the configuration, without a database where they can be.
func TestStatementsConfigErrors(t *testing.T) {
	tests := []struct {
		name, driver, body string
		want               []diagWant
	}{
		{
			name:   "syntax and settings",
			driver: "postgres",
			body: `
  resource "User" {
    table     = "u"
    id_column = "id"
    columns   = ["login", "first_name"]
    create {
      sql = "CALL u_add(:login, :frist_name, :id)"
    }
    update {
      sql        = "CALL u_set($1, :login)"
      returns_id = true
    }
    delete { sql = "CALL u_del(:id, 'unterminated)" }
  }
  resource "Group" {
    table     = "g"
    id_column = "id"
    create {
      sql        = "SELECT g_add(:name); SELECT 1"
      returns_id = true
      find_by    = "name"
    }
    reference "members" {
      join_table   = "m"
      this_column  = "g"
      other_column = "u"
      target       = "User"
      add { sql = "CALL m_add(:id, :member_id)" }
    }
    reference "owners" {
      target    = "User"
      column    = "owner_ids"
      separator = ","
      add    { sql = "CALL o_add(:id, :target_id)" }
      remove { sql = "CALL o_del(:id, :target_id)" }
    }
    multi_value "tags" {
      table        = "t"
      this_column  = "g"
      value_column = "tag"
      add    { sql = "INSERT INTO t VALUES (:id, :value) /* unterminated" }
      remove { sql = "DELETE FROM t WHERE g = :id AND tag = :value" }
    }
  }`,
			want: []diagWant{
				{9, "Unknown statement parameter"},      // :frist_name
				{9, "Unknown statement parameter"},      // :id before the id exists
				{8, "Invalid create block"},             // neither returns_id nor find_by
				{13, "Invalid update block"},            // returns_id
				{12, "Invalid statement"},               // $1
				{15, "Invalid statement"},               // unterminated string
				{23, "Invalid create block"},            // both returns_id and find_by
				{21, "Invalid statement"},               // two statements
				{30, "Incomplete reference statements"}, // add without remove
				{30, "Unknown statement parameter"},     // :member_id
				{36, "Invalid reference"},               // delimited layout
				{43, "Invalid statement"},               // unterminated comment
			},
		},
		{
			name:   "mysql placeholders, read-only references, uuid ids, find_by",
			driver: "mysql",
			body: `
  resource "User" {
    table         = "u"
    id_column     = "id"
    id_generation = "uuid"
    create {
      sql        = "CALL u_add(?, :login)"
    }
    reference "groups" {
      join_table   = "m"
      this_column  = "u"
      other_column = "g"
      target       = "Group"
      read_only    = true
      add    { sql = "CALL m_add(:target_id, :id)" }
      remove { sql = "CALL m_del(:target_id, :id)" }
    }
  }
  resource "Group" {
    table     = "g"
    id_column = "id"
    create {
      sql     = "CALL g_add(:name) # :name2 in a comment"
      find_by = "title"
    }
  }`,
			want: []diagWant{
				{9, "Invalid statement"},  // ?
				{17, "Invalid reference"}, // read_only
				{26, "Invalid find_by"},   // not a parameter
			},
		},
		{
			name:   "backend-made ids are passed as :id",
			driver: "sqlite",
			body: `
  resource "User" {
    table         = "u"
    id_column     = "id"
    id_generation = "uuid"
    create {
      sql        = "INSERT INTO u (id, login) VALUES (:id, :login) RETURNING id"
      returns_id = true
    }
  }
  resource "Group" {
    table         = "g"
    id_column     = "id"
    id_generation = "uuid"
    create { sql = "INSERT INTO g (name) VALUES (:name)" }
    update { sql = "UPDATE g SET name = :name WHERE id = @id" }
  }`,
			want: []diagWant{
				{10, "Invalid create block"}, // returns_id with backend-made ids
				{17, "Invalid create block"}, // no :id
				{18, "Invalid statement"},    // SQLite's own @id
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := `backend "sql" "x" {
  driver = "` + tc.driver + `"
  dsn    = "x"` + tc.body + `
}`
			_, diags := decode(t, "test.hcl", src, nil)
			got := diagList(diags)
			if !sameDiags(got, tc.want) {
				t.Errorf("diagnostics:\n got  %v\n want %v\n%v", got, tc.want, diags)
			}
		})
	}
}

// sameDiags compares diagnostics regardless of order.
func sameDiags(a, b []diagWant) bool {
	keys := func(ds []diagWant) []string {
		out := make([]string, len(ds))
		for i, d := range ds {
			out[i] = fmt.Sprintf("%04d %s", d.Line, d.Summary)
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(keys(a), keys(b))
}

// TestStatementsUnknownColumnAtLoad: with the columns read from the table,
// an unknown parameter is found when the backend starts, with its line.
func TestStatementsUnknownColumnAtLoad(t *testing.T) {
	const src = `backend "sql" "x" {
  driver        = "sqlite"
  dsn           = "file:${dir}/x.db"
  bootstrap_sql = schema
  resource "User" {
    table     = "acct_users"
    id_column = "user_id"
    update {
      sql = "UPDATE acct_users SET login = :login, changed_by = :changed_by, email = :e_mail WHERE user_id = :id"
    }
  }
}`
	dir := t.TempDir()
	cfg, diags := decode(t, "test.hcl", src, map[string]cty.Value{"dir": cty.StringVal(dir), "schema": cty.StringVal(stmtSQLiteSchema)})
	if diags.HasErrors() {
		t.Fatalf("DecodeConfig: %v", diags)
	}
	_, err := sqlbackend.New(context.Background(), cfg, hclog.NewNullLogger())
	if err == nil || !strings.Contains(err.Error(), "test.hcl:9,") || !strings.Contains(err.Error(), "unknown parameter :e_mail") ||
		strings.Contains(err.Error(), ":changed_by;") {
		t.Fatalf("New: %v, want the unknown parameter :e_mail at test.hcl:9", err)
	}
}

// TestConformanceStatementsForeignKey: a foreign_key reference whose
// changes are UPDATE statements of the configuration.
func TestConformanceStatementsForeignKey(t *testing.T) {
	schema := strings.Replace(fkSchema, "dept_id  INTEGER REFERENCES depts(dept_id)", "dept_id  INTEGER REFERENCES depts(dept_id),\n  dept_by  TEXT", 1)
	config := strings.Replace(fkConfig, `foreign_key = "dept_id"`, `foreign_key = "dept_id"
      add    { sql = "UPDATE staff SET dept_id = :id, dept_by = 'scim:' || :id WHERE staff_id = :target_id" }
      remove { sql = "UPDATE staff SET dept_id = NULL, dept_by = 'scim' WHERE staff_id = :target_id AND dept_id = :id" }`, 1)
	if schema == fkSchema || config == fkConfig {
		t.Fatal("the layout fixture changed; update this test")
	}
	f := layoutFixture(config, schema)
	f.UserGroups = "groups"
	f.SingleGroupPerUser = true
	conformance.Run(t, f)

	t.Run("Marks", func(t *testing.T) {
		b, dir := open(t, config, schema)
		db, err := dbsql.Open("sqlite", filepath.Join(dir, "fk.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		ctx := withTimeout(t)
		u, err := b.Create(ctx, backends.User, backends.Attrs{"login": {"x"}})
		if err != nil {
			t.Fatal(err)
		}
		g, err := b.Create(ctx, backends.Group, backends.Attrs{"name": {"d"}, "members": {u.ID}})
		if err != nil {
			t.Fatal(err)
		}
		if got := queryStrings(t, db, "SELECT dept_by FROM staff WHERE staff_id = ?", u.ID); !slices.Equal(got, []string{"scim:" + g.ID}) {
			t.Errorf("dept_by after the add statement: %q", got)
		}
	})
}

// TestConformanceStatementsUUID: ids made by the backend and passed as
// :id; the columns read from the tables; no delete statements, so deleting
// a record removes its memberships with the remove statement.
func TestConformanceStatementsUUID(t *testing.T) {
	const config = `
backend "sql" "uuid" {
  driver        = "sqlite"
  dsn           = "${dir}/uuid.db"
  bootstrap_sql = schema
  resource "User" {
    table         = "people"
    id_column     = "id"
    id_generation = "uuid"
    create { sql = "INSERT INTO people (id, uname, given, family, display, mail, hired) VALUES (:id, :uname, :given, :family, :display, :mail, :hired)" }
    update { sql = "UPDATE people SET uname = :uname, given = :given, family = :family, display = :display, mail = :mail, hired = :hired WHERE id = :id" }
  }
  resource "Group" {
    table         = "teams"
    id_column     = "id"
    id_generation = "uuid"
    create { sql = "INSERT INTO teams (id, title) VALUES (:id, :title)" }
    update { sql = "UPDATE teams SET title = :title WHERE id = :id" }
    reference "people" {
      join_table   = "team_people"
      this_column  = "team"
      other_column = "person"
      target       = "User"
      add    { sql = "INSERT INTO team_people (team, person) VALUES (:id, :target_id)" }
      remove { sql = "DELETE FROM team_people WHERE team = :id AND person = :target_id" }
    }
  }
}
`
	conformance.Run(t, uuidColumns(func(t *testing.T) backends.Backend {
		b, _ := open(t, config, uuidSchema)
		return b
	}))
}

// TestStatementsMisbehaving: a statement that does not do what its block
// says is an error, and the write it was part of is undone.
func TestStatementsMisbehaving(t *testing.T) {
	src := strings.NewReplacer(
		`delete { sql = "DELETE FROM acct_users WHERE user_id = :id" }`,
		`delete { sql = "UPDATE acct_users SET changed_by = 'not deleted' WHERE user_id = :id" }`,
		`sql     = "INSERT INTO acct_groups (name, changed_by) VALUES (:name, 'scim:create')"`,
		`sql     = "INSERT INTO acct_groups (name, changed_by) VALUES (:name || ' (SCIM)', 'scim:create')"`,
	).Replace(stmtSQLiteConfig)
	b, dir := open(t, src, stmtSQLiteSchema)
	db, err := dbsql.Open("sqlite", filepath.Join(dir, "stmt.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := withTimeout(t)
	u, err := b.Create(ctx, backends.User, backends.Attrs{"login": {"stays"}})
	if err != nil {
		t.Fatal(err)
	}
	audit := func() []string { return queryStrings(t, db, "SELECT COUNT(*) FROM acct_audit") }
	before := audit()
	err = b.Delete(ctx, backends.User, u.ID)
	if err == nil || !strings.Contains(err.Error(), "still live") || errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("delete statement that deletes nothing: %v, want an error saying the record is still live", err)
	}
	if got := queryStrings(t, db, "SELECT changed_by FROM acct_users WHERE user_id = ?", u.ID); !slices.Equal(got, []string{"scim:create"}) {
		t.Errorf("the failed delete was not rolled back: %q", got)
	}
	// find_by finds nothing when the statement stores another value.
	_, err = b.Create(ctx, backends.Group, backends.Attrs{"name": {"MiXeD"}})
	if err == nil || !strings.Contains(err.Error(), "find_by") {
		t.Fatalf("create whose row find_by cannot find: %v", err)
	}
	if got := queryStrings(t, db, "SELECT COUNT(*) FROM acct_groups"); got[0] != "0" {
		t.Errorf("the failed create was not rolled back: %s groups", got[0])
	}
	if got := audit(); !slices.Equal(got, before) {
		t.Errorf("audit rows of failed writes: %s, want %s", got, before)
	}

	// returns_id with a statement that returns NULL.
	src = strings.Replace(stmtSQLiteConfig, "RETURNING user_id;", "RETURNING NULL;", 1)
	b, dir = open(t, src, stmtSQLiteSchema)
	_, err = b.Create(ctx, backends.User, backends.Attrs{"login": {"nobody"}})
	if err == nil || !strings.Contains(err.Error(), "returned NULL") {
		t.Fatalf("create statement returning NULL: %v", err)
	}
	db2, err := dbsql.Open("sqlite", filepath.Join(dir, "stmt.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if got := queryStrings(t, db2, "SELECT COUNT(*) FROM acct_users"); got[0] != "0" {
		t.Errorf("the failed create was not rolled back: %s users", got[0])
	}
}
