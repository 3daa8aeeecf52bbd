package sql_test

import (
	"context"
	dbsql "database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/conformance"
	sqlbackend "github.com/scimbridge/scimbridge/backends/sql"
)

// legacySchema is a realistic application schema: integer keys, a NOCASE
// unique login, columns the bridge must not see, a join table.
const legacySchema = `
CREATE TABLE IF NOT EXISTS app_users (
  user_id       INTEGER PRIMARY KEY AUTOINCREMENT,
  login         TEXT NOT NULL UNIQUE COLLATE NOCASE,
  first_name    TEXT,
  last_name     TEXT,
  display_name  TEXT,
  email         TEXT,
  active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  employee_no   INTEGER,
  password_hash TEXT,
  created_at    TEXT,
  updated_at    TEXT
);
CREATE TABLE IF NOT EXISTS app_groups (
  group_id    INTEGER PRIMARY KEY AUTOINCREMENT,
  name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
  description TEXT
);
CREATE TABLE IF NOT EXISTS app_group_members (
  group_id INTEGER NOT NULL REFERENCES app_groups(group_id),
  user_id  INTEGER NOT NULL REFERENCES app_users(user_id),
  PRIMARY KEY (group_id, user_id)
);
CREATE INDEX IF NOT EXISTS app_group_members_user ON app_group_members(user_id);
CREATE TABLE IF NOT EXISTS app_user_phones (
  user_id INTEGER NOT NULL REFERENCES app_users(user_id),
  phone   TEXT NOT NULL
);
`

const legacyConfig = `
backend "sql" "app" {
  driver        = "sqlite"
  dsn           = "file:${dir}/app.db"
  bootstrap_sql = schema
  max_open_conns = 4
  query_timeout  = "30s"

  resource "User" {
    table           = "app_users"
    id_column       = "user_id"
    columns         = ["login", "first_name", "last_name", "display_name", "email", "active", "employee_no"]
    created_column  = "created_at"
    modified_column = "updated_at"
    reference "groups" {
      join_table   = "app_group_members"
      this_column  = "user_id"
      other_column = "group_id"
      target       = "Group"
      read_only    = true
    }
    multi_value "phones" {
      table        = "app_user_phones"
      this_column  = "user_id"
      value_column = "phone"
    }
  }
  resource "Group" {
    table     = "app_groups"
    id_column = "group_id"
    reference "members" {
      join_table   = "app_group_members"
      this_column  = "group_id"
      other_column = "user_id"
      target       = "User"
    }
  }
}
`

// uuidSchema has text keys made by the backend and no unique index on the
// join table.
const uuidSchema = `
CREATE TABLE people (
  id TEXT PRIMARY KEY, uname TEXT NOT NULL UNIQUE COLLATE NOCASE,
  given TEXT, family TEXT, display TEXT, mail TEXT, hired TEXT);
CREATE TABLE teams (id TEXT PRIMARY KEY, title TEXT NOT NULL UNIQUE COLLATE NOCASE);
CREATE TABLE team_people (team TEXT NOT NULL, person TEXT NOT NULL);
`

const uuidConfig = `
backend "sql" "uuid" {
  driver        = "sqlite"
  dsn           = "${dir}/uuid.db"
  bootstrap_sql = schema
  resource "User" {
    table         = "people"
    id_column     = "id"
    id_generation = "uuid"
  }
  resource "Group" {
    table         = "teams"
    id_column     = "id"
    id_generation = "uuid"
    reference "people" {
      join_table   = "team_people"
      this_column  = "team"
      other_column = "person"
      target       = "User"
    }
  }
}
`

// decode parses src (one backend "sql" block) as file name and decodes it.
func decode(t *testing.T, name, src string, vars map[string]cty.Value) (*sqlbackend.Config, hcl.Diagnostics) {
	t.Helper()
	f, diags := hclsyntax.ParseConfig([]byte(src), name, hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("parse: %v", diags)
	}
	content, diags := f.Body.Content(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "backend", LabelNames: []string{"type", "name"}}}})
	if diags.HasErrors() || len(content.Blocks) != 1 {
		t.Fatalf("want one backend block: %v", diags)
	}
	return sqlbackend.DecodeConfig(content.Blocks[0].Body, &hcl.EvalContext{Variables: vars})
}

func open(t *testing.T, src, schema string) (*sqlbackend.Backend, string) {
	t.Helper()
	dir := t.TempDir()
	cfg, diags := decode(t, "test.hcl", src, map[string]cty.Value{
		"dir":    cty.StringVal(dir),
		"schema": cty.StringVal(schema),
	})
	if diags.HasErrors() {
		t.Fatalf("DecodeConfig: %v", diags)
	}
	b, err := sqlbackend.New(context.Background(), cfg, hclog.NewNullLogger())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b, dir
}

func TestConformance(t *testing.T) {
	f := legacyColumns(func(t *testing.T) backends.Backend {
		b, _ := open(t, legacyConfig, legacySchema)
		return b
	})
	f.MultiValued = "phones"
	conformance.Run(t, f)
}

// legacyColumns, uuidColumns and layoutColumns are the conformance
// fixtures of the three schema families (legacy, uuid and layout
// schemas), whatever the database and configuration; newBackend opens one.
func legacyColumns(newBackend func(t *testing.T) backends.Backend) conformance.Fixture {
	return conformance.Fixture{
		New:          newBackend,
		UserName:     "login",
		GivenName:    "first_name",
		FamilyName:   "last_name",
		DisplayName:  "display_name",
		Email:        "email",
		Active:       "active",
		ActiveTrue:   "1",
		ActiveFalse:  "0",
		Ordered:      "employee_no",
		OrderedKind:  backends.KindNumber,
		UserGroups:   "groups",
		GroupName:    "name",
		GroupMembers: "members",
	}
}

func uuidColumns(newBackend func(t *testing.T) backends.Backend) conformance.Fixture {
	return conformance.Fixture{
		New:          newBackend,
		UserName:     "uname",
		GivenName:    "given",
		FamilyName:   "family",
		DisplayName:  "display",
		Email:        "mail",
		Ordered:      "hired",
		OrderedKind:  backends.KindTime,
		GroupName:    "title",
		GroupMembers: "people",
	}
}

func layoutColumns(newBackend func(t *testing.T) backends.Backend) conformance.Fixture {
	return conformance.Fixture{
		New:          newBackend,
		UserName:     "login",
		GivenName:    "given",
		FamilyName:   "family",
		DisplayName:  "display",
		Email:        "email",
		Ordered:      "emp_no",
		OrderedKind:  backends.KindNumber,
		GroupName:    "name",
		GroupMembers: "members",
	}
}

// TestConformanceUUID runs the suite on text keys generated by the backend,
// a join table without a unique constraint and time-ordered values.
func TestConformanceUUID(t *testing.T) {
	if testing.Short() {
		t.Skip("second schema skipped in -short mode")
	}
	conformance.Run(t, uuidColumns(func(t *testing.T) backends.Backend {
		b, _ := open(t, uuidConfig, uuidSchema)
		return b
	}))
}

type diagWant struct {
	Line    int
	Summary string
}

func diagList(diags hcl.Diagnostics) []diagWant {
	var out []diagWant
	for _, d := range diags {
		w := diagWant{Summary: d.Summary}
		if d.Subject != nil {
			w.Line = d.Subject.Start.Line
		}
		out = append(out, w)
	}
	return out
}

func TestDecodeConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []diagWant
	}{
		{
			name: "every problem reported with its line",
			src: `backend "sql" "x" {
  driver = "oracle"
  dsn    = "x.db"
  query_timeout = "soon"
  max_open_conns = -1
  resource "User" {
    table     = "users; DROP TABLE users"
    id_column = "id"
    columns   = ["login", "first name"]
    id_generation = "sequence"
    created_column = "created-at"
  }
  resource "Group" {
    table     = "groups"
    id_column = "\"id\""
    reference "members" {
      join_table   = "m"
      this_column  = "g"
      other_column = "u"
      target       = "Person"
    }
  }
}`,
			want: []diagWant{
				{2, "Unsupported SQL driver"},
				{5, "Invalid max_open_conns"},
				{4, "Invalid query_timeout"},
				{7, "Invalid SQL identifier"},
				{11, "Invalid SQL identifier"},
				{10, "Invalid id_generation"},
				{9, "Invalid SQL identifier"},
				{15, "Invalid SQL identifier"},
				{20, "Unknown reference target"},
			},
		},
		{
			name: "missing required arguments",
			src: `backend "sql" "x" {
  driver = "sqlite"
  resource "User" {
    id_column = "id"
  }
}`,
			want: []diagWant{
				{1, "Missing required argument"},
				{3, "Missing required argument"},
			},
		},
		{
			name: "duplicates",
			src: `backend "sql" "x" {
  driver = "sqlite"
  dsn    = "x.db"
  resource "User" {
    table     = "u"
    id_column = "id"
    columns   = ["a", "A", "id"]
    reference "a" {
      join_table = "j"
      this_column = "x"
      other_column = "x"
      target = "User"
    }
  }
  resource "User" {
    table     = "u2"
    id_column = "id"
  }
}`,
			want: []diagWant{
				{15, "Duplicate resource"},
				{7, "Duplicate column"},
				{7, "Invalid column"},
				{8, "Reference shadows a column"},
				{11, "Invalid reference"},
			},
		},
		{
			name: "valid",
			src:  legacyConfig,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := decode(t, "test.hcl", tc.src, map[string]cty.Value{"dir": cty.StringVal("/tmp"), "schema": cty.StringVal("")})
			got := diagList(diags)
			for _, d := range diags {
				if d.Subject != nil && d.Subject.Filename != "test.hcl" {
					t.Errorf("diagnostic %q has file %q, want test.hcl", d.Summary, d.Subject.Filename)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s\nall: %v", diff, diags)
			}
		})
	}
}

func TestNewReportsSchemaMismatch(t *testing.T) {
	src := `backend "sql" "x" {
  driver = "sqlite"
  dsn    = "${dir}/x.db"
  bootstrap_sql = "CREATE TABLE users (id INTEGER PRIMARY KEY, login TEXT); CREATE TABLE m (g INTEGER, u INTEGER);"
  resource "User" {
    table     = "users"
    id_column = "id"
    columns   = ["login", "mail"]
    modified_column = "updated"
  }
  resource "Group" {
    table     = "groups"
    id_column = "id"
  }
  resource "Thing" {
    table     = "users"
    id_column = "id"
    reference "members" {
      join_table   = "m"
      this_column  = "g"
      other_column = "user_id"
      target       = "User"
    }
  }
}`
	cfg, diags := decode(t, "test.hcl", src, map[string]cty.Value{"dir": cty.StringVal(t.TempDir())})
	if diags.HasErrors() {
		t.Fatalf("DecodeConfig: %v", diags)
	}
	_, err := sqlbackend.New(context.Background(), cfg, nil)
	if err == nil {
		t.Fatal("New succeeded on a configuration that names missing tables and columns")
	}
	for _, want := range []string{
		`test.hcl:8,`, `column "mail" is not a column of table "users"`,
		`test.hcl:9,`, `modified_column "updated"`,
		`test.hcl:12,`, `table "groups" does not exist`,
		`test.hcl:21,`, `other_column "user_id" is not a column of table "m"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}

func TestNewBadBootstrap(t *testing.T) {
	src := `backend "sql" "x" {
  driver = "sqlite"
  dsn    = "${dir}/x.db"
  bootstrap_sql = "CREATE TABLE ok (id INTEGER PRIMARY KEY); CREATE TABLE broken (;"
  resource "User" {
    table     = "ok"
    id_column = "id"
  }
}`
	dir := t.TempDir()
	cfg, diags := decode(t, "test.hcl", src, map[string]cty.Value{"dir": cty.StringVal(dir)})
	if diags.HasErrors() {
		t.Fatalf("DecodeConfig: %v", diags)
	}
	if _, err := sqlbackend.New(context.Background(), cfg, nil); err == nil || !strings.Contains(err.Error(), "bootstrap_sql") {
		t.Fatalf("New: err = %v, want a bootstrap_sql error", err)
	}
	// One transaction: the first statement did not stick either.
	db := rawDB(t, dir, "x.db")
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM sqlite_master WHERE name = 'ok'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("table ok exists after a failed bootstrap (n=%d, err=%v)", n, err)
	}
}

func rawDB(t *testing.T, dir, file string) *dbsql.DB {
	t.Helper()
	db, err := dbsql.Open("sqlite", filepath.Join(dir, file)+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// TestInjection stores and searches hostile values: nothing is widened,
// nothing is executed, the tables survive.
func TestInjection(t *testing.T) {
	b, dir := open(t, legacyConfig, legacySchema)
	ctx := context.Background()
	corpus := []string{
		`'; DROP TABLE app_users; --`,
		`"; DROP TABLE app_groups; --`,
		`x' OR '1'='1`,
		`%`,
		`_`,
		`!`,
		`\`,
		`a%b_c!d\e`,
		`) OR 1=1 --`,
		`*`,
		`login`,
	}
	ids := map[string]string{}
	for i, v := range corpus {
		rec, err := b.Create(ctx, backends.User, backends.Attrs{
			"login": {fmt.Sprintf("user%d", i)}, "display_name": {v}, "first_name": {v},
		})
		if err != nil {
			t.Fatalf("Create with %q: %v", v, err)
		}
		ids[v] = rec.ID
	}
	// A user named like an injection.
	evil, err := b.Create(ctx, backends.User, backends.Attrs{"login": {`admin'--`}})
	if err != nil {
		t.Fatalf("Create admin'--: %v", err)
	}
	if _, err := b.Create(ctx, backends.Group, backends.Attrs{"name": {`'); DELETE FROM app_group_members; --`}, "members": {evil.ID}}); err != nil {
		t.Fatalf("Create group: %v", err)
	}

	for _, v := range corpus {
		for _, op := range []backends.Op{backends.Eq, backends.Co, backends.Sw, backends.Ew} {
			for _, ic := range []bool{false, true} {
				p, err := b.Search(ctx, backends.User, backends.Query{Filter: backends.Compare{Attr: "display_name", Op: op, Value: v, IgnoreCase: ic}})
				if err != nil {
					t.Fatalf("Search %s %q: %v", op, v, err)
				}
				var got []string
				for _, r := range p.Records {
					got = append(got, r.Attrs.First("display_name"))
				}
				for _, g := range got {
					if !matches(op, g, v, ic) {
						t.Errorf("Search display_name %s %q (ignoreCase=%v) returned %q", op, v, ic, g)
					}
				}
				if op == backends.Eq && (len(p.Records) != 1 || p.Records[0].ID != ids[v]) {
					t.Errorf("Search display_name eq %q: %q, want exactly user %s", v, got, ids[v])
				}
			}
		}
		// Stored verbatim.
		rec, err := b.Get(ctx, backends.User, ids[v], nil)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Attrs.First("display_name") != v || rec.Attrs.First("first_name") != v {
			t.Errorf("stored %q, read back %q / %q", v, rec.Attrs.First("display_name"), rec.Attrs.First("first_name"))
		}
	}
	// Hostile attribute names and ids are refused, not interpolated; only
	// the configuration names attributes, so it is to blame.
	if _, err := b.Create(ctx, backends.User, backends.Attrs{"login": {"z"}, "login = 'x'; --": {"y"}}); !errors.Is(err, backends.ErrConfig) {
		t.Errorf("Create with a hostile attribute name: %v, want ErrConfig", err)
	}
	if _, err := b.Search(ctx, backends.User, backends.Query{SortBy: "login; DROP TABLE app_users"}); !errors.Is(err, backends.ErrUnsupported) {
		t.Errorf("Search with a hostile SortBy: %v, want ErrUnsupported", err)
	}
	if _, err := b.Search(ctx, backends.User, backends.Query{Filter: backends.Present{Attr: "1=1) OR (1"}}); !errors.Is(err, backends.ErrUnsupported) {
		t.Errorf("Search with a hostile attribute: %v, want ErrUnsupported", err)
	}
	if _, err := b.Get(ctx, backends.User, "1 OR 1=1", nil); !errors.Is(err, backends.ErrNotFound) {
		t.Errorf("Get with a hostile id: %v, want ErrNotFound", err)
	}
	if _, err := b.Create(ctx, backends.User, backends.Attrs{"login": {"nul\x00byte"}}); !errors.Is(err, backends.ErrInvalid) {
		t.Errorf("Create with NUL: %v, want ErrInvalid", err)
	}

	// Everything is still there.
	db := rawDB(t, dir, "app.db")
	wantRowCounts(t, db, map[string]int{"app_users": len(corpus) + 1, "app_groups": 1, "app_group_members": 1})
}

// wantRowCounts checks the number of rows of each table.
func wantRowCounts(t *testing.T, db *dbsql.DB, want map[string]int) {
	t.Helper()
	for table, n := range want {
		var got int
		if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&got); err != nil {
			t.Fatalf("table %s: %v", table, err)
		}
		if got != n {
			t.Errorf("table %s has %d rows, want %d", table, got, n)
		}
	}
}

func matches(op backends.Op, got, want string, ic bool) bool {
	if ic {
		got, want = strings.ToLower(got), strings.ToLower(want)
	}
	switch op {
	case backends.Eq:
		return got == want
	case backends.Co:
		return strings.Contains(got, want)
	case backends.Sw:
		return strings.HasPrefix(got, want)
	case backends.Ew:
		return strings.HasSuffix(got, want)
	}
	return false
}

// TestLargeMembership: 10,000 members in one ModAdd, then one more member
// is one inserted row and nothing deleted.
func TestLargeMembership(t *testing.T) {
	const n = 10000
	schema := legacySchema + `
CREATE TABLE IF NOT EXISTS member_writes (ins INTEGER NOT NULL, del INTEGER NOT NULL);
INSERT INTO member_writes SELECT 0, 0 WHERE NOT EXISTS (SELECT 1 FROM member_writes);
CREATE TRIGGER IF NOT EXISTS count_ins AFTER INSERT ON app_group_members BEGIN UPDATE member_writes SET ins = ins + 1; END;
CREATE TRIGGER IF NOT EXISTS count_del AFTER DELETE ON app_group_members BEGIN UPDATE member_writes SET del = del + 1; END;
`
	b, dir := open(t, legacyConfig, schema)
	ctx := context.Background()
	db := rawDB(t, dir, "app.db")
	// Bulk-load users directly: this test is about the membership path.
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for i := range n + 1 {
		if _, err := tx.Exec("INSERT INTO app_users (login) VALUES (?)", fmt.Sprintf("bulk%05d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 0, n)
	rows, err := db.Query("SELECT user_id FROM app_users ORDER BY user_id")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, fmt.Sprint(id))
	}
	rows.Close()
	extra := ids[n]
	ids = ids[:n]

	g, err := b.Create(ctx, backends.Group, backends.Attrs{"name": {"everyone"}})
	if err != nil {
		t.Fatal(err)
	}
	writes := func() (ins, del int) {
		t.Helper()
		if err := db.QueryRow("SELECT ins, del FROM member_writes").Scan(&ins, &del); err != nil {
			t.Fatal(err)
		}
		return ins, del
	}

	start := time.Now()
	if _, err := b.Modify(ctx, backends.Group, g.ID, []backends.Modification{{Op: backends.ModAdd, Attr: "members", Values: ids}}, []string{"name"}); err != nil {
		t.Fatalf("ModAdd of %d members: %v", n, err)
	}
	t.Logf("ModAdd of %d members took %v", n, time.Since(start))
	if ins, del := writes(); ins != n || del != 0 {
		t.Fatalf("after ModAdd of %d: %d inserts, %d deletes", n, ins, del)
	}

	start = time.Now()
	// As the bridge asks: the group without its member list.
	rec, err := b.Modify(ctx, backends.Group, g.ID, []backends.Modification{{Op: backends.ModAdd, Attr: "members", Values: []string{extra}}}, []string{"name"})
	if err != nil {
		t.Fatalf("ModAdd of one member: %v", err)
	}
	t.Logf("ModAdd of 1 member to %d took %v", n, time.Since(start))
	if len(rec.Attrs.Get("members")) != 0 {
		t.Errorf("Modify returned %d members; it should not read the list", len(rec.Attrs.Get("members")))
	}
	if ins, del := writes(); ins != n+1 || del != 0 {
		t.Fatalf("after ModAdd of 1: %d inserts (want %d), %d deletes (want 0)", ins, n+1, del)
	}
	// Re-adding existing members and removing one are as small.
	if _, err := b.Modify(ctx, backends.Group, g.ID, []backends.Modification{
		{Op: backends.ModAdd, Attr: "members", Values: ids[:100]},
		{Op: backends.ModDelete, Attr: "members", Values: []string{ids[5]}},
	}, []string{"name"}); err != nil {
		t.Fatal(err)
	}
	if ins, del := writes(); ins != n+1 || del != 1 {
		t.Fatalf("after re-add + delete: %d inserts (want %d), %d deletes (want 1)", ins, n+1, del)
	}
	got, err := b.Get(ctx, backends.Group, g.ID, []string{"members"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Attrs.Get("members")) != n {
		t.Fatalf("group has %d members, want %d", len(got.Attrs.Get("members")), n)
	}
	// A huge ModAdd with one bad id changes nothing.
	bad := append(append([]string{}, ids[:5000]...), "999999999")
	_, err = b.Modify(ctx, backends.Group, g.ID, []backends.Modification{{Op: backends.ModDelete, Attr: "members"}, {Op: backends.ModAdd, Attr: "members", Values: bad}}, nil)
	if !errors.Is(err, backends.ErrInvalidReference) {
		t.Fatalf("ModAdd with a bad id: %v, want ErrInvalidReference", err)
	}
	if ins, del := writes(); ins != n+1 || del != 1 {
		t.Fatalf("a refused modify left writes behind: %d inserts, %d deletes", ins, del)
	}
}

// TestDocExample decodes and runs the configuration shown in the package
// comment, so that the documentation cannot rot.
func TestDocExample(t *testing.T) {
	src, err := os.ReadFile("sql.go")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	in := false
	for _, l := range strings.Split(string(src), "\n") {
		switch {
		case strings.HasPrefix(l, "//\tbackend \"sql\""):
			in = true
		case in && l != "//" && !strings.HasPrefix(l, "//\t"):
			in = false
		}
		if in {
			lines = append(lines, strings.TrimPrefix(strings.TrimPrefix(l, "//"), "\t"))
		}
	}
	if len(lines) < 10 {
		t.Fatalf("no example found in the package comment (%d lines)", len(lines))
	}
	example := strings.Join(lines, "\n")
	dir := t.TempDir()
	example = strings.Replace(example, `"file:/var/lib/scimbridge/app.db"`, `"file:${dir}/doc.db"`, 1)
	cfg, diags := decode(t, "doc.hcl", example, map[string]cty.Value{"dir": cty.StringVal(dir)})
	if diags.HasErrors() {
		t.Fatalf("the package comment's example does not decode: %v\n%s", diags, example)
	}
	b, err := sqlbackend.New(context.Background(), cfg, nil)
	if err != nil {
		t.Fatalf("the package comment's example does not start: %v", err)
	}
	defer b.Close()
	ctx := context.Background()
	u, err := b.Create(ctx, backends.User, backends.Attrs{"login": {"doc"}, "email": {"doc@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if u.Attrs.First("created_at") == "" || u.Attrs.First("updated_at") == "" || u.Attrs.First("active") != "1" {
		t.Errorf("created user %v: want timestamps and the default active = 1", u.Attrs)
	}
	g, err := b.Create(ctx, backends.Group, backends.Attrs{"name": {"docs"}, "members": {u.ID}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.Get(ctx, backends.User, u.ID, []string{"groups"})
	if err != nil || got.Attrs.First("groups") != g.ID {
		t.Fatalf("groups of the user: %v %v", got.Attrs, err)
	}
	if err := b.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

// Deleting a record of a type that references its own type (groups in
// groups) removes the join rows that name it on either side.
func TestDeleteSelfReference(t *testing.T) {
	const config = `
backend "sql" "nested" {
  driver        = "sqlite"
  dsn           = "${dir}/nested.db"
  bootstrap_sql = schema
  resource "Group" {
    table     = "grp"
    id_column = "id"
    reference "subgroups" {
      join_table   = "grp_sub"
      this_column  = "parent"
      other_column = "child"
      target       = "Group"
    }
  }
}`
	const schema = `
CREATE TABLE IF NOT EXISTS grp (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS grp_sub (parent INTEGER NOT NULL REFERENCES grp(id), child INTEGER NOT NULL REFERENCES grp(id),
  PRIMARY KEY (parent, child));
`
	b, dir := open(t, config, schema)
	ctx := context.Background()
	mk := func(name string, subs ...string) string {
		rec, err := b.Create(ctx, backends.Group, backends.Attrs{"name": {name}, "subgroups": subs})
		if err != nil {
			t.Fatal(err)
		}
		return rec.ID
	}
	leaf := mk("leaf")
	mid := mk("mid", leaf)
	top := mk("top", mid)
	db := rawDB(t, dir, "nested.db")
	wantRowCounts(t, db, map[string]int{"grp_sub": 2})
	// mid is a parent (of leaf) and a child (of top): both rows go.
	if err := b.Delete(ctx, backends.Group, mid); err != nil {
		t.Fatal(err)
	}
	wantRowCounts(t, db, map[string]int{"grp_sub": 0, "grp": 2})
	rec, err := b.Get(ctx, backends.Group, top, nil)
	if err != nil {
		t.Fatal(err)
	}
	if subs := rec.Attrs.Get("subgroups"); len(subs) != 0 {
		t.Fatalf("top still lists %v", subs)
	}
}
