package sql_test

import (
	"context"
	dbsql "database/sql"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"

	"github.com/scimbridge/scimbridge/backends"
	sqlbackend "github.com/scimbridge/scimbridge/backends/sql"
)

// childSchemaSQLite is the legacy schema of issue #10: staff, their phones
// in one table told apart by kind (W, M, and H, which no attribute maps),
// and roles through a join table to a lookup table.
const childSchemaSQLite = `
CREATE TABLE IF NOT EXISTS staff (
  id    INTEGER PRIMARY KEY AUTOINCREMENT,
  login TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS phones (
  owner  INTEGER NOT NULL REFERENCES staff(id),
  kind   TEXT NOT NULL CHECK (kind IN ('W', 'M', 'H')),
  number TEXT NOT NULL CHECK (number <> 'bad')
);
CREATE TABLE IF NOT EXISTS roles (
  role_id   INTEGER PRIMARY KEY,
  role_name TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS person_roles (
  person  INTEGER NOT NULL REFERENCES staff(id),
  role_id INTEGER NOT NULL REFERENCES roles(role_id),
  PRIMARY KEY (person, role_id)
);
INSERT INTO roles (role_id, role_name) VALUES (1, 'Admin'), (2, 'Auditor'), (3, 'Helpdesk'), (4, 'x''y');
`

const childConfigSQLite = `
backend "sql" "legacy" {
  driver        = "sqlite"
  dsn           = "${dir}/child.db"
  bootstrap_sql = schema
  resource "User" {
    table     = "staff"
    id_column = "id"
    columns   = ["login"]
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
    multi_value "roles" {
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
}
`

func mod(op backends.ModOp, attr string, vals ...string) backends.Modification {
	return backends.Modification{Op: op, Attr: attr, Values: vals}
}

// testChildTables runs the where and lookup scenario against a backend
// configured as childConfigSQLite (or its server variants); db is a raw
// connection to the same database.
func testChildTables(t *testing.T, b *sqlbackend.Backend, db *dbsql.DB) {
	ctx := context.Background()
	e := &layoutEnv{t: t, b: b, db: db, ctx: ctx}
	phones := func(id string) []string {
		t.Helper()
		return kindNumbers(t, db, "SELECT kind, number FROM phones WHERE owner = "+id+" ORDER BY kind, number")
	}
	roleIDs := func(id string) []string {
		t.Helper()
		return rawList(t, db, "SELECT role_id FROM person_roles WHERE person = "+id+" ORDER BY role_id")
	}

	ann := e.create(backends.User, backends.Attrs{"login": {"ann"}, "phone_work": {"100"}, "phone_mobile": {"200"}, "roles": {"admin", "Auditor"}})
	bob := e.create(backends.User, backends.Attrs{"login": {"bob"}, "phone_mobile": {"300"}, "roles": {"x'y"}})
	cy := e.create(backends.User, backends.Attrs{"login": {"cy"}})
	if got := phones(ann); !slices.Equal(got, []string{"M:200", "W:100"}) {
		t.Fatalf("phones of ann = %q", got)
	}
	if got := roleIDs(ann); !slices.Equal(got, []string{"1", "2"}) {
		t.Fatalf("role ids of ann = %q", got)
	}
	e.wantAttr(backends.User, ann, "phone_work", "100")
	e.wantAttr(backends.User, ann, "phone_mobile", "200")
	e.wantAttr(backends.User, ann, "roles", "Admin", "Auditor") // the names as the lookup table has them
	e.wantAttr(backends.User, bob, "phone_work")
	e.wantAttr(backends.User, bob, "roles", "x'y")

	// Rows of the application that no attribute maps (kind H), a second
	// work phone, and a key without a lookup row are left alone by
	// reads and by the writes of the other kinds.
	for _, q := range []string{
		"INSERT INTO phones (owner, kind, number) VALUES (" + ann + ", 'H', '999')",
		"INSERT INTO phones (owner, kind, number) VALUES (" + ann + ", 'W', '050')",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	rec, err := b.Get(ctx, backends.User, ann, nil)
	if err != nil {
		t.Fatal(err)
	}
	// In value order: an element mapping reads the first.
	if got := rec.Attrs.Get("phone_work"); !slices.Equal(got, []string{"050", "100"}) {
		t.Fatalf("phone_work = %q, want [050 100]", got)
	}
	page, err := b.Search(ctx, backends.User, backends.Query{Attrs: []string{"phone_mobile", "roles"}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, r := range page.Records {
		got[r.ID] = append(r.Attrs.Get("phone_mobile"), r.Attrs.Get("roles")...)
	}
	if diff := cmp.Diff(map[string][]string{ann: {"200", "Admin", "Auditor"}, bob: {"300", "x'y"}, cy: nil}, got); diff != "" {
		t.Fatalf("Search (-want +got):\n%s", diff)
	}

	// Replace: only the W rows change; the H row and the M row stay.
	e.mustModify(backends.User, ann, mod(backends.ModReplace, "phone_work", "101"))
	if got := phones(ann); !slices.Equal(got, []string{"H:999", "M:200", "W:101"}) {
		t.Fatalf("phones after replace = %q", got)
	}
	e.mustModify(backends.User, ann, mod(backends.ModAdd, "phone_work", "101", "102"), mod(backends.ModDelete, "phone_mobile", "200"))
	if got := phones(ann); !slices.Equal(got, []string{"H:999", "W:101", "W:102"}) {
		t.Fatalf("phones after add/delete = %q", got)
	}
	// Deleting a value held by another kind deletes nothing.
	e.mustModify(backends.User, ann, mod(backends.ModDelete, "phone_mobile", "101"))
	e.mustModify(backends.User, ann, mod(backends.ModDelete, "phone_work"))
	if got := phones(ann); !slices.Equal(got, []string{"H:999"}) {
		t.Fatalf("phones after delete all = %q", got)
	}
	e.mustModify(backends.User, ann, mod(backends.ModAdd, "phone_work", "100"), mod(backends.ModReplace, "phone_mobile", "200"))

	// Roles: add by name in any case, delete, replace.
	e.mustModify(backends.User, ann, mod(backends.ModAdd, "roles", "HELPDESK", "admin"))
	e.wantAttr(backends.User, ann, "roles", "Admin", "Auditor", "Helpdesk")
	e.mustModify(backends.User, ann, mod(backends.ModDelete, "roles", "auditor", "No Such Role"))
	e.wantAttr(backends.User, ann, "roles", "Admin", "Helpdesk")
	e.mustModify(backends.User, ann, mod(backends.ModReplace, "roles", "Helpdesk", "x'y"))
	e.wantAttr(backends.User, ann, "roles", "Helpdesk", "x'y")
	if got := roleIDs(ann); !slices.Equal(got, []string{"3", "4"}) {
		t.Fatalf("role ids after replace = %q", got)
	}
	// An unknown name is refused naming the value, and nothing is written.
	err = e.modify(backends.User, ann, mod(backends.ModReplace, "phone_work", "555"), mod(backends.ModAdd, "roles", "Admin", "Root"))
	var ae *backends.AttrError
	if !errors.As(err, &ae) || !errors.Is(err, backends.ErrInvalid) || ae.Attr != "roles" || ae.Value != "Root" {
		t.Fatalf("unknown role: %v, want an AttrError on roles naming Root", err)
	}
	if msg := err.Error(); !strings.Contains(ae.Reason, "not a known value") {
		t.Fatalf("unknown role reason %q (%s)", ae.Reason, msg)
	}
	e.wantAttr(backends.User, ann, "phone_work", "100")
	e.wantAttr(backends.User, ann, "roles", "Helpdesk", "x'y")
	if _, err := b.Create(ctx, backends.User, backends.Attrs{"login": {"dee"}, "roles": {"Admin", "nope"}}); !errors.As(err, &ae) || ae.Value != "nope" {
		t.Fatalf("Create with an unknown role: %v", err)
	}
	if n := rawList(t, db, "SELECT login FROM staff WHERE login = 'dee'"); len(n) != 0 {
		t.Fatalf("a failed Create left %q", n)
	}

	// Filters push down with the where values and through the join.
	f := func(attr string, op backends.Op, v string, ic bool) backends.Filter {
		return backends.Compare{Attr: attr, Op: op, Value: v, IgnoreCase: ic}
	}
	for _, c := range []struct {
		name string
		f    backends.Filter
		want []string
	}{
		{"work eq", f("phone_work", backends.Eq, "100", false), []string{ann}},
		{"work eq a mobile number", f("phone_work", backends.Eq, "300", false), nil},
		{"work eq the H number", f("phone_work", backends.Eq, "999", false), nil},
		{"mobile eq", f("phone_mobile", backends.Eq, "300", false), []string{bob}},
		{"mobile sw", f("phone_mobile", backends.Sw, "2", false), []string{ann}},
		{"work pr", backends.Present{Attr: "phone_work"}, []string{ann}},
		{"mobile pr", backends.Present{Attr: "phone_mobile"}, []string{ann, bob}},
		{"work ne", f("phone_work", backends.Ne, "100", false), []string{bob, cy}},
		{"roles eq", f("roles", backends.Eq, "Helpdesk", false), []string{ann}},
		{"roles eq ignore case", f("roles", backends.Eq, "helpdesk", true), []string{ann}},
		{"roles eq exact case", f("roles", backends.Eq, "helpdesk", false), nil},
		{"roles co quote", f("roles", backends.Co, "'", false), []string{ann, bob}},
		{"roles sw", f("roles", backends.Sw, "Help", false), []string{ann}},
		{"roles pr", backends.Present{Attr: "roles"}, []string{ann, bob}},
		{"roles ne", f("roles", backends.Ne, "x'y", false), []string{cy}},
		{"and", backends.And{Filters: []backends.Filter{f("roles", backends.Eq, "x'y", false), f("phone_mobile", backends.Eq, "300", false)}}, []string{bob}},
		{"or", backends.Or{Filters: []backends.Filter{f("phone_work", backends.Eq, "100", false), f("phone_mobile", backends.Eq, "300", false)}}, []string{ann, bob}},
	} {
		want := slices.Clone(c.want)
		slices.Sort(want)
		if got := e.search(backends.User, c.f); !slices.Equal(got, want) {
			t.Errorf("filter %s: got %q, want %q", c.name, got, want)
		}
	}

	// Deleting the record deletes its child rows, of every kind; the
	// lookup table stays.
	if err := b.Delete(ctx, backends.User, ann); err != nil {
		t.Fatal(err)
	}
	if got := phones(ann); len(got) != 0 {
		t.Fatalf("phones after Delete: %q", got)
	}
	if got := roleIDs(ann); len(got) != 0 {
		t.Fatalf("role ids after Delete: %q", got)
	}
	if n := rawList(t, db, "SELECT role_name FROM roles ORDER BY role_id"); len(n) != 4 {
		t.Fatalf("roles after Delete: %q", n)
	}
}

// kindNumbers lists "kind:number" of a query over phones.
func kindNumbers(t *testing.T, db *dbsql.DB, query string) []string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k, n string
		if err := rows.Scan(&k, &n); err != nil {
			t.Fatal(err)
		}
		out = append(out, k+":"+n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestChildTablesSQLite(t *testing.T) {
	b, dir := open(t, childConfigSQLite, childSchemaSQLite)
	testChildTables(t, b, rawDB(t, dir, "child.db"))
}

// childServerSchemas: the same tables on the servers.
var childServerSchemas = map[string]string{
	"Postgres": `
CREATE TABLE staff (id serial PRIMARY KEY, login varchar(64) NOT NULL UNIQUE);
CREATE TABLE phones (owner integer NOT NULL REFERENCES staff(id), kind char(1) NOT NULL CHECK (kind IN ('W', 'M', 'H')), number varchar(40) NOT NULL CHECK (number <> 'bad'));
CREATE TABLE roles (role_id integer PRIMARY KEY, role_name varchar(64) NOT NULL UNIQUE);
CREATE TABLE person_roles (person integer NOT NULL REFERENCES staff(id), role_id integer NOT NULL REFERENCES roles(role_id), PRIMARY KEY (person, role_id));
INSERT INTO roles (role_id, role_name) VALUES (1, 'Admin'), (2, 'Auditor'), (3, 'Helpdesk'), (4, 'x''y');
`,
	"MariaDB": `
CREATE TABLE staff (id int AUTO_INCREMENT PRIMARY KEY, login varchar(64) NOT NULL UNIQUE) ENGINE=InnoDB;
CREATE TABLE phones (owner int NOT NULL, kind char(1) NOT NULL CHECK (kind IN ('W', 'M', 'H')), number varchar(40) NOT NULL CHECK (number <> 'bad'), FOREIGN KEY (owner) REFERENCES staff(id)) ENGINE=InnoDB;
CREATE TABLE roles (role_id int PRIMARY KEY, role_name varchar(64) COLLATE utf8mb4_bin NOT NULL UNIQUE) ENGINE=InnoDB;
CREATE TABLE person_roles (person int NOT NULL, role_id int NOT NULL, PRIMARY KEY (person, role_id), FOREIGN KEY (person) REFERENCES staff(id), FOREIGN KEY (role_id) REFERENCES roles(role_id)) ENGINE=InnoDB;
INSERT INTO roles (role_id, role_name) VALUES (1, 'Admin'), (2, 'Auditor'), (3, 'Helpdesk'), (4, 'x''y');
`,
}

func TestChildTablesServers(t *testing.T) {
	src := strings.Replace(strings.Replace(childConfigSQLite, `"sqlite"`, "driver", 1), `"${dir}/child.db"`, "dsn", 1)
	src = strings.Replace(src, "  bootstrap_sql = schema\n", "", 1)
	for _, srv := range servers() {
		t.Run(srv.name, func(t *testing.T) {
			b, db := openServer(t, srv, src, childServerSchemas[srv.name])
			testChildTables(t, b, db)
		})
	}
}

func TestChildTablesConfigErrors(t *testing.T) {
	src := `backend "sql" "x" {
  driver = "sqlite"
  dsn    = "x.db"
  resource "User" {
    table     = "u"
    id_column = "id"
    multi_value "a" {
      table        = "p"
      this_column  = "owner"
      value_column = "number"
      where        = { owner = "1", number = "2", "k;" = "3" }
    }
    multi_value "b" {
      table        = "r"
      this_column  = "person"
      value_column = "role_id"
      lookup {
        table        = "r"
        key_column   = "id"
        value_column = "ID"
      }
      add {
        sql = "SELECT :id, :value"
      }
      remove {
        sql = "SELECT :id, :value"
      }
    }
  }
}`
	_, diags := decode(t, "test.hcl", src, map[string]cty.Value{})
	want := []diagWant{
		{11, "Invalid SQL identifier"},
		{11, "Invalid multi_value where"},
		{11, "Invalid multi_value where"},
		{20, "Invalid multi_value lookup"},
		{18, "Invalid multi_value lookup"},
		{17, "Invalid multi_value lookup"},
	}
	if diff := cmp.Diff(want, diagList(diags)); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s\nall: %v", diff, diags)
	}
}

func TestChildTablesSchemaMismatch(t *testing.T) {
	src := `backend "sql" "x" {
  driver = "sqlite"
  dsn    = "${dir}/x.db"
  bootstrap_sql = "CREATE TABLE u (id INTEGER PRIMARY KEY, login TEXT); CREATE TABLE p (owner INTEGER, kind TEXT, number TEXT); CREATE TABLE r (id INTEGER, name TEXT);"
  resource "User" {
    table     = "u"
    id_column = "id"
    multi_value "a" {
      table        = "p"
      this_column  = "owner"
      value_column = "number"
      where        = { sort = "W" }
    }
    multi_value "b" {
      table        = "p"
      this_column  = "owner"
      value_column = "number"
      lookup {
        table        = "nope"
        key_column   = "id"
        value_column = "name"
      }
    }
    multi_value "c" {
      table        = "p"
      this_column  = "owner"
      value_column = "number"
      lookup {
        table        = "r"
        key_column   = "rid"
        value_column = "id"
      }
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
	for _, w := range []string{
		`test.hcl:12,7-36: multi_value "a": where column "sort" is not a column of table "p"`,
		`test.hcl:19,9-30: multi_value "b": lookup table "nope" does not exist`,
		`test.hcl:30,9-29: multi_value "c": key_column "rid" is not a column of table "r"`,
		`test.hcl:31,9-28: multi_value "c": lookup value_column "id" must be a text column, it is integer`,
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
}

// A NOT NULL column of the child table that the inserts would not set is
// refused at start, with the block's place.
func TestChildTablesUnsetColumn(t *testing.T) {
	src := `backend "sql" "x" {
  driver = "sqlite"
  dsn    = "${dir}/x.db"
  bootstrap_sql = "CREATE TABLE u (id INTEGER PRIMARY KEY, login TEXT); CREATE TABLE p (n INTEGER PRIMARY KEY NOT NULL, owner INTEGER, kind TEXT NOT NULL, number TEXT);"
  resource "User" {
    table     = "u"
    id_column = "id"
    multi_value "a" {
      table        = "p"
      this_column  = "owner"
      value_column = "number"
    }
    multi_value "b" {
      table        = "p"
      this_column  = "owner"
      value_column = "number"
      where        = { kind = "W" }
    }
  }
}`
	cfg, diags := decode(t, "test.hcl", src, map[string]cty.Value{"dir": cty.StringVal(t.TempDir())})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	_, err := sqlbackend.New(context.Background(), cfg, hclog.NewNullLogger())
	want := `test.hcl:8,5-20: multi_value "a": column "kind" of table "p" is NOT NULL without a default`
	if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), `"b"`) {
		t.Fatalf("New: %v\nwant only %q", err, want)
	}
}

// With add and remove statements, where selects the rows read and
// compared; the statements write the fixed column themselves.
func TestChildTablesWhereWithStatements(t *testing.T) {
	src := `backend "sql" "x" {
  driver        = "sqlite"
  dsn           = "${dir}/x.db"
  bootstrap_sql = schema
  resource "User" {
    table     = "staff"
    id_column = "id"
    columns   = ["login"]
    multi_value "phone_work" {
      table        = "phones"
      this_column  = "owner"
      value_column = "number"
      where        = { kind = "W" }
      add    { sql = "INSERT INTO phones (owner, kind, number) VALUES (:id, 'W', :value)" }
      remove { sql = "DELETE FROM phones WHERE owner = :id AND kind = 'W' AND number = :value" }
    }
  }
}`
	b, dir := open(t, src, childSchemaSQLite)
	db := rawDB(t, dir, "x.db")
	e := &layoutEnv{t: t, b: b, db: db, ctx: context.Background()}
	ann := e.create(backends.User, backends.Attrs{"login": {"ann"}, "phone_work": {"100"}})
	if _, err := db.Exec("INSERT INTO phones (owner, kind, number) VALUES (" + ann + ", 'M', '100')"); err != nil {
		t.Fatal(err)
	}
	e.wantAttr(backends.User, ann, "phone_work", "100")
	e.mustModify(backends.User, ann, mod(backends.ModReplace, "phone_work", "101", "100"))
	e.mustModify(backends.User, ann, mod(backends.ModDelete, "phone_work", "100"))
	e.wantAttr(backends.User, ann, "phone_work", "101")
	got := kindNumbers(t, db, "SELECT kind, number FROM phones WHERE owner = "+ann+" ORDER BY kind, number")
	if !slices.Equal(got, []string{"M:100", "W:101"}) {
		t.Fatalf("phones = %q", got)
	}
}

// Deleting a record whose phones are written through statements for one
// kind and by the backend for another deletes every phone row.
func TestChildTablesDeleteMixed(t *testing.T) {
	src := `backend "sql" "x" {
  driver        = "sqlite"
  dsn           = "${dir}/x.db"
  bootstrap_sql = schema
  resource "User" {
    table     = "staff"
    id_column = "id"
    columns   = ["login"]
    multi_value "phone_work" {
      table        = "phones"
      this_column  = "owner"
      value_column = "number"
      where        = { kind = "W" }
      add    { sql = "INSERT INTO phones (owner, kind, number) VALUES (:id, 'W', :value)" }
      remove { sql = "DELETE FROM phones WHERE owner = :id AND kind = 'W' AND number = :value" }
    }
    multi_value "phone_mobile" {
      table        = "phones"
      this_column  = "owner"
      value_column = "number"
      where        = { kind = "M" }
    }
  }
}`
	b, dir := open(t, src, childSchemaSQLite)
	db := rawDB(t, dir, "x.db")
	e := &layoutEnv{t: t, b: b, db: db, ctx: context.Background()}
	ann := e.create(backends.User, backends.Attrs{"login": {"ann"}, "phone_work": {"100"}, "phone_mobile": {"200"}})
	if err := b.Delete(context.Background(), backends.User, ann); err != nil {
		t.Fatal(err)
	}
	if got := kindNumbers(t, db, "SELECT kind, number FROM phones"); len(got) != 0 {
		t.Fatalf("phones after Delete: %q", got)
	}
}
