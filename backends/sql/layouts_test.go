package sql_test

import (
	"context"
	dbsql "database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/conformance"
	sqlbackend "github.com/scimbridge/scimbridge/backends/sql"
)

// fkSchema: each user is in at most one department, named by a foreign
// key on the user row.
const fkSchema = `
CREATE TABLE IF NOT EXISTS depts (
  dept_id INTEGER PRIMARY KEY AUTOINCREMENT,
  name    TEXT NOT NULL UNIQUE COLLATE NOCASE
);
CREATE TABLE IF NOT EXISTS staff (
  staff_id INTEGER PRIMARY KEY AUTOINCREMENT,
  login    TEXT NOT NULL UNIQUE COLLATE NOCASE,
  given TEXT, family TEXT, display TEXT, email TEXT, emp_no INTEGER,
  dept_id  INTEGER REFERENCES depts(dept_id)
);
`

const fkConfig = `
backend "sql" "fk" {
  driver        = "sqlite"
  dsn           = "${dir}/fk.db"
  bootstrap_sql = schema
  resource "User" {
    table     = "staff"
    id_column = "staff_id"
    columns   = ["login", "given", "family", "display", "email", "emp_no"]
    reference "groups" {
      target       = "Group"
      local_column = "dept_id"
      read_only    = true
    }
  }
  resource "Group" {
    table     = "depts"
    id_column = "dept_id"
    reference "members" {
      target      = "User"
      foreign_key = "dept_id"
    }
  }
}
`

// delimSchema keeps a role's members in one comma-separated column.
const delimSchema = `
CREATE TABLE IF NOT EXISTS accts (
  id    INTEGER PRIMARY KEY AUTOINCREMENT,
  login TEXT NOT NULL UNIQUE COLLATE NOCASE,
  given TEXT, family TEXT, display TEXT, email TEXT, emp_no INTEGER
);
CREATE TABLE IF NOT EXISTS roles (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
  member_ids TEXT
);
`

const delimConfig = `
backend "sql" "delim" {
  driver        = "sqlite"
  dsn           = "${dir}/delim.db"
  bootstrap_sql = schema
  resource "User" {
    table     = "accts"
    id_column = "id"
  }
  resource "Group" {
    table     = "roles"
    id_column = "id"
    columns   = ["name"]
    reference "members" {
      target    = "User"
      column    = "member_ids"
      separator = ","
    }
  }
}
`

func layoutFixture(cfg, schema string) conformance.Fixture {
	return layoutColumns(func(t *testing.T) backends.Backend {
		b, _ := open(t, cfg, schema)
		return b
	})
}

func TestConformanceForeignKey(t *testing.T) {
	f := layoutFixture(fkConfig, fkSchema)
	f.UserGroups = "groups"
	f.SingleGroupPerUser = true
	conformance.Run(t, f)
}

func TestConformanceDelimited(t *testing.T) {
	conformance.Run(t, layoutFixture(delimConfig, delimSchema))
}

type layoutEnv struct {
	t   *testing.T
	b   *sqlbackend.Backend
	db  *dbsql.DB
	ctx context.Context
}

func (e *layoutEnv) create(typ string, attrs backends.Attrs) string {
	e.t.Helper()
	rec, err := e.b.Create(e.ctx, typ, attrs)
	if err != nil {
		e.t.Fatalf("Create(%s, %v): %v", typ, attrs, err)
	}
	return rec.ID
}

func (e *layoutEnv) users(names ...string) []string {
	e.t.Helper()
	var out []string
	for _, n := range names {
		out = append(out, e.create(backends.User, backends.Attrs{"login": {n}}))
	}
	return out
}

func (e *layoutEnv) modify(typ, id string, mods ...backends.Modification) error {
	_, err := e.b.Modify(e.ctx, typ, id, mods, nil)
	return err
}

func (e *layoutEnv) mustModify(typ, id string, mods ...backends.Modification) {
	e.t.Helper()
	if err := e.modify(typ, id, mods...); err != nil {
		e.t.Fatalf("Modify(%s %s, %v): %v", typ, id, mods, err)
	}
}

func (e *layoutEnv) attr(typ, id, attr string) []string {
	e.t.Helper()
	rec, err := e.b.Get(e.ctx, typ, id, nil)
	if err != nil {
		e.t.Fatalf("Get(%s %s): %v", typ, id, err)
	}
	return rec.Attrs.Get(attr)
}

func (e *layoutEnv) wantAttr(typ, id, attr string, want ...string) {
	e.t.Helper()
	got := slices.Sorted(slices.Values(e.attr(typ, id, attr)))
	slices.Sort(want)
	if !slices.Equal(got, want) {
		e.t.Fatalf("%s %s %s = %q, want %q", typ, id, attr, got, want)
	}
}

func (e *layoutEnv) search(typ string, f backends.Filter) []string {
	e.t.Helper()
	p, err := e.b.Search(e.ctx, typ, backends.Query{Filter: f})
	if err != nil {
		e.t.Fatalf("Search(%s): %v", typ, err)
	}
	var out []string
	for _, r := range p.Records {
		out = append(out, r.ID)
	}
	slices.Sort(out)
	return out
}

func (e *layoutEnv) raw(query string, args ...any) string {
	e.t.Helper()
	var v dbsql.NullString
	if err := e.db.QueryRowContext(e.ctx, query, args...).Scan(&v); err != nil {
		e.t.Fatalf("%s: %v", query, err)
	}
	if !v.Valid {
		return "NULL"
	}
	return v.String
}

func newLayoutEnv(t *testing.T, cfg, schema, file string) *layoutEnv {
	b, dir := open(t, cfg, schema)
	return &layoutEnv{t: t, b: b, db: rawDB(t, dir, file), ctx: context.Background()}
}

func members(op backends.ModOp, ids ...string) backends.Modification {
	return backends.Modification{Op: op, Attr: "members", Values: ids}
}

func TestForeignKeyLayout(t *testing.T) {
	e := newLayoutEnv(t, fkConfig, fkSchema, "fk.db")
	u := e.users("a", "b", "c")
	g1 := e.create(backends.Group, backends.Attrs{"name": {"g1"}, "members": {u[0], u[1]}})
	g2 := e.create(backends.Group, backends.Attrs{"name": {"g2"}})
	e.wantAttr(backends.Group, g1, "members", u[0], u[1])
	e.wantAttr(backends.User, u[0], "groups", g1)
	e.wantAttr(backends.User, u[2], "groups")

	// Adding a to g2 moves it out of g1.
	e.mustModify(backends.Group, g2, members(backends.ModAdd, u[0]))
	e.wantAttr(backends.Group, g1, "members", u[1])
	e.wantAttr(backends.Group, g2, "members", u[0])
	e.wantAttr(backends.User, u[0], "groups", g2)
	if got := e.raw("SELECT dept_id FROM staff WHERE staff_id = ?", u[0]); got != g2 {
		t.Fatalf("staff a dept_id = %s, want %s", got, g2)
	}

	// Unknown ids are refused and nothing changes.
	for _, op := range []backends.ModOp{backends.ModAdd, backends.ModReplace} {
		err := e.modify(backends.Group, g1, members(op, u[2], "999"))
		if !errors.Is(err, backends.ErrInvalidReference) {
			t.Fatalf("op %v with an unknown id: %v, want ErrInvalidReference", op, err)
		}
		e.wantAttr(backends.Group, g1, "members", u[1])
		e.wantAttr(backends.User, u[2], "groups")
	}
	// Deleting a member of another group leaves it there.
	e.mustModify(backends.Group, g1, members(backends.ModDelete, u[0]))
	e.wantAttr(backends.Group, g2, "members", u[0])
	// The reverse side is read-only: only a mapping can write it.
	if err := e.modify(backends.User, u[2], backends.Modification{Op: backends.ModAdd, Attr: "groups", Values: []string{g1}}); !errors.Is(err, backends.ErrConfig) {
		t.Fatalf("write to the read-only groups: %v, want ErrConfig", err)
	}

	// Replace: b leaves (NULL), c joins.
	e.mustModify(backends.Group, g1, members(backends.ModReplace, u[2]))
	e.wantAttr(backends.Group, g1, "members", u[2])
	if got := e.raw("SELECT dept_id FROM staff WHERE staff_id = ?", u[1]); got != "NULL" {
		t.Fatalf("staff b dept_id = %s, want NULL", got)
	}

	// Filters, both sides.
	if got := e.search(backends.Group, backends.Compare{Attr: "members", Op: backends.Eq, Value: u[0]}); !slices.Equal(got, []string{g2}) {
		t.Fatalf("groups with a: %q", got)
	}
	if got := e.search(backends.User, backends.Compare{Attr: "groups", Op: backends.Eq, Value: g1}); !slices.Equal(got, []string{u[2]}) {
		t.Fatalf("users in g1: %q", got)
	}
	if got := e.search(backends.User, backends.Not{Filter: backends.Present{Attr: "groups"}}); !slices.Equal(got, []string{u[1]}) {
		t.Fatalf("users in no group: %q", got)
	}

	// Deleting a group NULLs its members' foreign keys; the users stay.
	if err := e.b.Delete(e.ctx, backends.Group, g1); err != nil {
		t.Fatal(err)
	}
	if got := e.raw("SELECT dept_id FROM staff WHERE staff_id = ?", u[2]); got != "NULL" {
		t.Fatalf("after deleting g1, staff c dept_id = %s, want NULL", got)
	}
	e.wantAttr(backends.User, u[2], "groups")
	// Deleting a user drops it from its group.
	if err := e.b.Delete(e.ctx, backends.User, u[0]); err != nil {
		t.Fatal(err)
	}
	e.wantAttr(backends.Group, g2, "members")
	// Delete all.
	e.mustModify(backends.Group, g2, members(backends.ModAdd, u[1], u[2]))
	e.mustModify(backends.Group, g2, members(backends.ModDelete))
	if got := e.raw("SELECT count(*) FROM staff WHERE dept_id IS NOT NULL"); got != "0" {
		t.Fatalf("%s staff rows still have a dept_id", got)
	}
}

func TestDelimitedLayout(t *testing.T) {
	e := newLayoutEnv(t, delimConfig, delimSchema, "delim.db")
	var u []string
	for i := range 12 {
		u = append(u, e.users(fmt.Sprintf("u%d", i+1))...)
	}
	if u[0] != "1" || u[10] != "11" {
		t.Fatalf("ids %q: the test wants 1..12", u)
	}
	col := func(id string) string { return e.raw("SELECT member_ids FROM roles WHERE id = ?", id) }
	g := e.create(backends.Group, backends.Attrs{"name": {"g"}, "members": {"2", "1", "2"}})
	if got := col(g); got != "2,1" {
		t.Fatalf("after create: %q, want 2,1", got)
	}
	e.mustModify(backends.Group, g, members(backends.ModAdd, "11", "1", "11"))
	if got := col(g); got != "2,1,11" {
		t.Fatalf("after add: %q, want 2,1,11 (order kept, no repeats)", got)
	}
	if got := e.attr(backends.Group, g, "members"); !slices.Equal(got, []string{"2", "1", "11"}) {
		t.Fatalf("members read %q", got)
	}
	e.mustModify(backends.Group, g, members(backends.ModDelete, "1", "7"))
	if got := col(g); got != "2,11" {
		t.Fatalf("after delete: %q, want 2,11", got)
	}
	// Unknown ids: refused, the column unchanged.
	for _, op := range []backends.ModOp{backends.ModAdd, backends.ModReplace} {
		for _, bad := range [][]string{{"3", "999"}, {"x"}} {
			err := e.modify(backends.Group, g, members(op, bad...))
			if !errors.Is(err, backends.ErrInvalidReference) {
				t.Fatalf("op %v %q: %v, want ErrInvalidReference", op, bad, err)
			}
			if got := col(g); got != "2,11" {
				t.Fatalf("after refused op %v: %q", op, got)
			}
		}
	}
	// Exact matching: 1 is not 11, 2 is not 12.
	h := e.create(backends.Group, backends.Attrs{"name": {"h"}, "members": {"12"}})
	e.create(backends.Group, backends.Attrs{"name": {"empty"}})
	for _, c := range []struct {
		f    backends.Filter
		want []string
	}{
		{backends.Compare{Attr: "members", Op: backends.Eq, Value: "1"}, nil},
		{backends.Compare{Attr: "members", Op: backends.Eq, Value: "11"}, []string{g}},
		{backends.Compare{Attr: "members", Op: backends.Eq, Value: "2"}, []string{g}},
		{backends.Compare{Attr: "members", Op: backends.Eq, Value: "12"}, []string{h}},
		{backends.Compare{Attr: "members", Op: backends.Ne, Value: "12"}, []string{g, "5"}},
		{backends.Present{Attr: "members"}, []string{g, h}},
	} {
		want := c.want
		for i, w := range want {
			if w == "5" { // the empty group's id
				want[i] = e.search(backends.Group, backends.Compare{Attr: "name", Op: backends.Eq, Value: "empty"})[0]
			}
		}
		slices.Sort(want)
		if got := e.search(backends.Group, c.f); !slices.Equal(got, want) {
			t.Fatalf("filter %v: %q, want %q", c.f, got, want)
		}
	}
	// Deleting a user removes it from every list, exactly.
	if err := e.b.Delete(e.ctx, backends.User, "11"); err != nil {
		t.Fatal(err)
	}
	if got := col(g); got != "2" {
		t.Fatalf("after deleting user 11: %q, want 2", got)
	}
	if got := col(h); got != "12" {
		t.Fatalf("deleting user 11 touched h: %q", got)
	}
	// Replace keeps the given order; delete-all leaves NULL.
	e.mustModify(backends.Group, g, members(backends.ModReplace, "9", "3"))
	if got := col(g); got != "9,3" {
		t.Fatalf("after replace: %q", got)
	}
	e.mustModify(backends.Group, g, members(backends.ModDelete))
	if got := col(g); got != "NULL" {
		t.Fatalf("after delete all: %q, want NULL", got)
	}
	// Lists written by someone else, with blanks and repeats, read cleanly.
	if _, err := e.db.Exec("UPDATE roles SET member_ids = ' 4 , 5,,4 ' WHERE id = ?", g); err != nil {
		t.Fatal(err)
	}
	if got := e.attr(backends.Group, g, "members"); !slices.Equal(got, []string{"4", "5"}) {
		t.Fatalf("members of a hand-written list: %q", got)
	}
	e.mustModify(backends.Group, g, members(backends.ModAdd, "6"))
	if got := col(g); got != "4,5,6" {
		t.Fatalf("after add to a hand-written list: %q", got)
	}
}

func TestLayoutConfigErrors(t *testing.T) {
	src := `backend "sql" "x" {
  driver = "sqlite"
  dsn    = "x.db"
  resource "User" {
    table     = "u"
    id_column = "id"
    reference "groups" {
      target       = "Group"
      local_column = "dept"
    }
    reference "g2" {
      target      = "Group"
      join_table  = "j"
      foreign_key = "dept"
    }
  }
  resource "Group" {
    table     = "g"
    id_column = "id"
    reference "members" {
      target = "User"
      column = "ids"
    }
    reference "m2" {
      target    = "User"
      column    = "ids2"
      separator = "1"
    }
    reference "m3" {
      target      = "User"
      foreign_key = "bad col"
      this_column = "x"
    }
    reference "m4" {
      target = "User"
    }
  }
}`
	_, diags := decode(t, "test.hcl", src, map[string]cty.Value{})
	want := []diagWant{
		{9, "Reference must be read_only"},
		{11, "Invalid reference layout"},
		{20, "Missing separator"},
		{27, "Invalid separator"},
		{31, "Invalid SQL identifier"},
		{32, "Invalid reference"},
		{34, "Invalid reference layout"},
	}
	if diff := cmp.Diff(want, diagList(diags)); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s\nall: %v", diff, diags)
	}
}

func TestLayoutSchemaMismatch(t *testing.T) {
	src := `backend "sql" "x" {
  driver = "sqlite"
  dsn    = "${dir}/x.db"
  bootstrap_sql = "CREATE TABLE u (id INTEGER PRIMARY KEY, login TEXT, dept INTEGER NOT NULL); CREATE TABLE g (id INTEGER PRIMARY KEY, t TEXT, n INTEGER);"
  resource "User" {
    table     = "u"
    id_column = "id"
    reference "groups" {
      target       = "Group"
      local_column = "nope"
      read_only    = true
    }
  }
  resource "Group" {
    table     = "g"
    id_column = "id"
    columns   = ["t"]
    reference "members" {
      target      = "User"
      foreign_key = "dept"
    }
    reference "m2" {
      target    = "User"
      column    = "n"
      separator = ","
    }
    reference "m3" {
      target      = "User"
      foreign_key = "missing"
    }
  }
}`
	cfg, diags := decode(t, "test.hcl", src, map[string]cty.Value{"dir": cty.StringVal(t.TempDir())})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	_, err := sqlbackend.New(context.Background(), cfg, hclog.NewNullLogger())
	if err == nil {
		t.Fatal("New succeeded")
	}
	for _, want := range []string{
		`test.hcl:10,7-28: reference "groups": local_column "nope" is not a column of table "u"`,
		`test.hcl:20,7-27: reference "members": foreign_key "dept" of table "u" is NOT NULL`,
		`test.hcl:24,7-22: reference "m2": column "n" must be a text column`,
		`test.hcl:29,7-30: reference "m3": foreign_key "missing" is not a column of table "u"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
