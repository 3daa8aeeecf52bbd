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

// mvSchemaSQLite: users with their e-mail addresses and phone numbers in
// child tables; a phone number "bad" violates a CHECK constraint.
const mvSchemaSQLite = `
CREATE TABLE IF NOT EXISTS mv_users (
  id     INTEGER PRIMARY KEY AUTOINCREMENT,
  login  TEXT NOT NULL UNIQUE COLLATE NOCASE,
  del_ts TEXT
);
CREATE TABLE IF NOT EXISTS user_email (
  user_id INTEGER NOT NULL REFERENCES mv_users(id),
  address TEXT NOT NULL,
  PRIMARY KEY (user_id, address)
);
CREATE TABLE IF NOT EXISTS user_phone (
  user_id INTEGER NOT NULL REFERENCES mv_users(id),
  number  TEXT NOT NULL CHECK (number <> 'bad')
);
`

const mvConfigSQLite = `
backend "sql" "mv" {
  driver        = "sqlite"
  dsn           = "${dir}/mv.db"
  bootstrap_sql = schema
  resource "User" {
    table     = "mv_users"
    id_column = "id"
    columns   = ["login"]
    soft_delete {
      column = "del_ts"
    }
    multi_value "mail" {
      table        = "user_email"
      this_column  = "user_id"
      value_column = "address"
    }
    multi_value "phone" {
      table        = "user_phone"
      this_column  = "user_id"
      value_column = "number"
    }
  }
}
`

func mail(op backends.ModOp, vals ...string) backends.Modification {
	return backends.Modification{Op: op, Attr: "mail", Values: vals}
}

// rawList lists a column of a raw query, in the order returned.
func rawList(t *testing.T, db *dbsql.DB, query string) []string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// testMultiValue runs the multi_value scenario against a backend
// configured as mvConfigSQLite (or its server variants); db is a raw
// connection to the same database.
func testMultiValue(t *testing.T, b *sqlbackend.Backend, db *dbsql.DB) {
	ctx := context.Background()
	e := &layoutEnv{t: t, b: b, db: db, ctx: ctx}
	stored := func(id string) []string {
		t.Helper()
		return rawList(t, db, "SELECT address FROM user_email WHERE user_id = "+id+" ORDER BY address")
	}
	want := func(id string, vals ...string) {
		t.Helper()
		e.wantAttr(backends.User, id, "mail", vals...)
		slices.Sort(vals)
		if got := stored(id); !slices.Equal(got, vals) {
			t.Fatalf("user_email rows of %s = %q, want %q", id, got, vals)
		}
	}

	// Create with two values (and a repeat, which is dropped).
	ann := e.create(backends.User, backends.Attrs{"login": {"ann"}, "mail": {"Ann@Example.com", "a_1@x.org", "Ann@Example.com"}})
	bob := e.create(backends.User, backends.Attrs{"login": {"bob"}, "mail": {"bob%@x.org"}, "phone": {"555"}})
	cy := e.create(backends.User, backends.Attrs{"login": {"cy"}})
	want(ann, "Ann@Example.com", "a_1@x.org")
	want(bob, "bob%@x.org")
	want(cy)

	// Asked for: listed; not asked for: not read.
	rec, err := b.Get(ctx, backends.User, ann, []string{"login"})
	if err != nil || rec.Attrs.Get("mail") != nil {
		t.Fatalf("Get(login) = %v, %v; want no mail", rec.Attrs, err)
	}
	rec, err = b.Get(ctx, backends.User, ann, []string{"MAIL"})
	if err != nil || !slices.Equal(rec.Attrs.Get("mail"), []string{"Ann@Example.com", "a_1@x.org"}) {
		t.Fatalf("Get(mail) = %v, %v", rec.Attrs, err)
	}
	page, err := b.Search(ctx, backends.User, backends.Query{Attrs: []string{"mail"}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, r := range page.Records {
		got[r.ID] = r.Attrs.Get("mail")
	}
	if diff := cmp.Diff(map[string][]string{ann: {"Ann@Example.com", "a_1@x.org"}, bob: {"bob%@x.org"}, cy: nil}, got); diff != "" {
		t.Fatalf("Search mail (-want +got):\n%s", diff)
	}

	// Add: only new values are inserted (the present one is no conflict).
	e.mustModify(backends.User, ann, mail(backends.ModAdd, "a_1@x.org", "third@x.org"))
	want(ann, "Ann@Example.com", "a_1@x.org", "third@x.org")
	// Delete given values (one not there).
	e.mustModify(backends.User, ann, mail(backends.ModDelete, "third@x.org", "nope@x.org"))
	want(ann, "Ann@Example.com", "a_1@x.org")
	// Replace: delete the ones not given, insert the missing ones.
	e.mustModify(backends.User, ann, mail(backends.ModReplace, "a_1@x.org", "new@x.org"))
	want(ann, "a_1@x.org", "new@x.org")
	// Delete all, add back.
	e.mustModify(backends.User, ann, mail(backends.ModDelete))
	want(ann)
	e.mustModify(backends.User, ann, mail(backends.ModAdd, "Ann@Example.com", "a_1@x.org"), backends.Modification{Op: backends.ModReplace, Attr: "login", Values: []string{"ann"}})
	want(ann, "Ann@Example.com", "a_1@x.org")
	// Replace with nothing empties the set.
	e.mustModify(backends.User, cy, mail(backends.ModAdd, "c@x.org"))
	e.mustModify(backends.User, cy, mail(backends.ModReplace))
	want(cy)

	// All or nothing: the phone insert fails (CHECK), so the mail changes
	// and the login change roll back too.
	err = e.modify(backends.User, ann,
		backends.Modification{Op: backends.ModReplace, Attr: "login", Values: []string{"ann2"}},
		mail(backends.ModReplace, "other@x.org"),
		backends.Modification{Op: backends.ModAdd, Attr: "phone", Values: []string{"bad"}})
	if !errors.Is(err, backends.ErrInvalid) {
		t.Fatalf("failing Modify: %v, want ErrInvalid", err)
	}
	want(ann, "Ann@Example.com", "a_1@x.org")
	if l := e.attr(backends.User, ann, "login"); !slices.Equal(l, []string{"ann"}) {
		t.Fatalf("login after rollback = %q", l)
	}
	// A failing Create leaves no child rows either.
	if _, err := b.Create(ctx, backends.User, backends.Attrs{"login": {"dee"}, "mail": {"d@x.org"}, "phone": {"bad"}}); !errors.Is(err, backends.ErrInvalid) {
		t.Fatalf("failing Create: %v, want ErrInvalid", err)
	}
	if n := rawList(t, db, "SELECT address FROM user_email WHERE address = 'd@x.org'"); len(n) != 0 {
		t.Fatalf("rows left by a failed Create: %q", n)
	}
	// Values the column cannot hold are refused before any write.
	if err := e.modify(backends.User, ann, mail(backends.ModAdd, "a\x00b")); !errors.Is(err, backends.ErrInvalid) {
		t.Fatalf("NUL value: %v, want ErrInvalid", err)
	}

	// Filters: same case handling and LIKE escaping as columns.
	f := func(op backends.Op, v string, ic bool) backends.Filter {
		return backends.Compare{Attr: "mail", Op: op, Value: v, IgnoreCase: ic}
	}
	for _, c := range []struct {
		name string
		f    backends.Filter
		want []string
	}{
		{"eq exact", f(backends.Eq, "ann@example.com", false), nil},
		{"eq exact hit", f(backends.Eq, "Ann@Example.com", false), []string{ann}},
		{"eq ignore case", f(backends.Eq, "ann@example.com", true), []string{ann}},
		{"ne", f(backends.Ne, "Ann@Example.com", false), []string{bob, cy}},
		{"co", f(backends.Co, "@x.", false), []string{ann, bob}},
		{"co percent", f(backends.Co, "%", false), []string{bob}},
		{"sw underscore", f(backends.Sw, "a_", false), []string{ann}},
		{"sw underscore is literal", f(backends.Sw, "b_b", false), nil},
		{"sw ignore case", f(backends.Sw, "ANN@", true), []string{ann}},
		{"ew", f(backends.Ew, ".ORG", true), []string{ann, bob}},
		{"pr", backends.Present{Attr: "mail"}, []string{ann, bob}},
		{"not pr", backends.Not{Filter: backends.Present{Attr: "mail"}}, []string{cy}},
		{"and", backends.And{Filters: []backends.Filter{f(backends.Sw, "a", false), f(backends.Ew, ".com", false)}}, []string{ann}},
		{"not co", backends.Not{Filter: f(backends.Co, "bob", false)}, []string{ann, cy}},
		{"quote", f(backends.Eq, "x' OR '1'='1", false), nil},
	} {
		want := slices.Clone(c.want)
		slices.Sort(want)
		if got := e.search(backends.User, c.f); !slices.Equal(got, want) {
			t.Errorf("filter %s: got %q, want %q", c.name, got, want)
		}
	}
	if _, err := b.Search(ctx, backends.User, backends.Query{SortBy: "mail"}); !errors.Is(err, backends.ErrUnsupported) {
		t.Errorf("sort by mail: %v, want ErrUnsupported", err)
	}

	// Delete (a soft delete here) removes the child rows.
	if err := b.Delete(ctx, backends.User, bob); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"SELECT address FROM user_email WHERE user_id = " + bob, "SELECT number FROM user_phone WHERE user_id = " + bob} {
		if rows := rawList(t, db, q); len(rows) != 0 {
			t.Fatalf("%s after Delete: %q", q, rows)
		}
	}
	want(ann, "Ann@Example.com", "a_1@x.org")
	if live := rawList(t, db, "SELECT login FROM mv_users WHERE del_ts IS NULL ORDER BY login"); !slices.Equal(live, []string{"ann", "cy"}) {
		t.Errorf("live users: %q", live)
	}
}

func TestMultiValueSQLite(t *testing.T) {
	b, dir := open(t, mvConfigSQLite, mvSchemaSQLite)
	testMultiValue(t, b, rawDB(t, dir, "mv.db"))
}

func TestMultiValueConfigErrors(t *testing.T) {
	src := `backend "sql" "x" {
  driver = "sqlite"
  dsn    = "x.db"
  resource "User" {
    table     = "u"
    id_column = "id"
    columns   = ["mail"]
    reference "groups" {
      target       = "User"
      join_table   = "j"
      this_column  = "a"
      other_column = "b"
    }
    multi_value "mail" {
      table        = "e"
      this_column  = "user_id"
      value_column = "address"
    }
    multi_value "groups" {
      table        = "e; DROP"
      this_column  = "user_id"
      value_column = "USER_ID"
    }
    multi_value "phone" {
      table        = "p"
      this_column  = "user_id"
    }
  }
}`
	_, diags := decode(t, "test.hcl", src, map[string]cty.Value{})
	want := []diagWant{
		{24, "Missing required argument"},
		{14, "multi_value shadows a column"},
		{19, "multi_value shadows a reference"},
		{20, "Invalid SQL identifier"},
		{22, "Invalid multi_value"},
	}
	if diff := cmp.Diff(want, diagList(diags)); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s\nall: %v", diff, diags)
	}
}

func TestMultiValueSchemaMismatch(t *testing.T) {
	src := `backend "sql" "x" {
  driver = "sqlite"
  dsn    = "${dir}/x.db"
  bootstrap_sql = "CREATE TABLE u (id INTEGER PRIMARY KEY, login TEXT, mail TEXT); CREATE TABLE e (uid INTEGER, addr TEXT);"
  resource "User" {
    table     = "u"
    id_column = "id"
    multi_value "mail" {
      table        = "e"
      this_column  = "uid"
      value_column = "addr"
    }
    multi_value "m2" {
      table        = "nope"
      this_column  = "uid"
      value_column = "addr"
    }
    multi_value "m3" {
      table        = "e"
      this_column  = "user_id"
      value_column = "address"
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
		`test.hcl:8,17-23: resource "User": multi_value "mail" has the name of a column or reference`,
		`test.hcl:14,7-28: multi_value "m2": table "nope" does not exist`,
		`test.hcl:20,7-31: multi_value "m3": this_column "user_id" is not a column of table "e"`,
		`test.hcl:21,7-31: multi_value "m3": value_column "address" is not a column of table "e"`,
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
}

// mvServerSchemas: the same tables on the servers.
var mvServerSchemas = map[string]string{
	"Postgres": `
CREATE TABLE mv_users (id serial PRIMARY KEY, login varchar(64) NOT NULL UNIQUE, del_ts timestamptz);
CREATE TABLE user_email (user_id integer NOT NULL REFERENCES mv_users(id), address varchar(254) NOT NULL, PRIMARY KEY (user_id, address));
CREATE TABLE user_phone (user_id integer NOT NULL REFERENCES mv_users(id), number varchar(40) NOT NULL CHECK (number <> 'bad'));
`,
	"MariaDB": `
CREATE TABLE mv_users (id int AUTO_INCREMENT PRIMARY KEY, login varchar(64) NOT NULL UNIQUE, del_ts datetime(6)) ENGINE=InnoDB;
CREATE TABLE user_email (user_id int NOT NULL, address varchar(254) COLLATE utf8mb4_bin NOT NULL, PRIMARY KEY (user_id, address), FOREIGN KEY (user_id) REFERENCES mv_users(id)) ENGINE=InnoDB;
CREATE TABLE user_phone (user_id int NOT NULL, number varchar(40) NOT NULL CHECK (number <> 'bad'), FOREIGN KEY (user_id) REFERENCES mv_users(id)) ENGINE=InnoDB;
`,
}

func TestMultiValueServers(t *testing.T) {
	src := strings.Replace(strings.Replace(mvConfigSQLite, `"sqlite"`, "driver", 1), `"${dir}/mv.db"`, "dsn", 1)
	src = strings.Replace(src, "  bootstrap_sql = schema\n", "", 1)
	for _, srv := range servers() {
		t.Run(srv.name, func(t *testing.T) {
			b, db := openServer(t, srv, src, mvServerSchemas[srv.name])
			testMultiValue(t, b, db)
		})
	}
}

// TestMultiValueUniqueAcrossRecords: a value that a unique key over the
// child table's rows of every record refuses (a phone number given to one
// person only) is a conflict naming it, and nothing of the write stays; it
// is never skipped silently as a duplicate of the record's own rows. A
// value the record already holds is still no error.
func TestMultiValueUniqueAcrossRecords(t *testing.T) {
	check := func(t *testing.T, b *sqlbackend.Backend, db *dbsql.DB) {
		ctx := context.Background()
		e := &layoutEnv{t: t, b: b, db: db, ctx: ctx}
		ann := e.create(backends.User, backends.Attrs{"login": {"ann"}, "phone": {"555"}})
		bob := e.create(backends.User, backends.Attrs{"login": {"bob"}, "mail": {"bob@x.org"}})
		_, err := b.Modify(ctx, backends.User, bob, []backends.Modification{
			mail(backends.ModAdd, "bob2@x.org"),
			{Op: backends.ModAdd, Attr: "phone", Values: []string{"556", "555"}}}, nil)
		ae, ok := backends.AsAttrError(err)
		if !errors.Is(err, backends.ErrAlreadyExists) || !ok || ae.Attr != "phone" || (ae.Value != "555" && ae.Value != "") {
			t.Fatalf("adding a phone number another user holds: %v, want a conflict on phone 555", err)
		}
		if got := rawList(t, db, "SELECT address FROM user_email WHERE user_id = "+bob+" ORDER BY address"); !slices.Equal(got, []string{"bob@x.org"}) {
			t.Errorf("the refused write left mail rows %q", got)
		}
		if got := rawList(t, db, "SELECT number FROM user_phone WHERE user_id = "+bob); len(got) != 0 {
			t.Errorf("the refused write left phone rows %q", got)
		}
		if _, err := b.Modify(ctx, backends.User, ann, []backends.Modification{{Op: backends.ModAdd, Attr: "phone", Values: []string{"555"}}}, nil); err != nil {
			t.Errorf("adding a number the user holds: %v", err)
		}
	}
	unique := map[string]string{
		"SQLite":   "CREATE UNIQUE INDEX IF NOT EXISTS user_phone_number ON user_phone (number);",
		"Postgres": "CREATE UNIQUE INDEX user_phone_number ON user_phone (number);",
		"MariaDB":  "CREATE UNIQUE INDEX user_phone_number ON user_phone (number);",
	}
	t.Run("SQLite", func(t *testing.T) {
		b, dir := open(t, mvConfigSQLite, mvSchemaSQLite+unique["SQLite"])
		check(t, b, rawDB(t, dir, "mv.db"))
	})
	src := strings.Replace(strings.Replace(mvConfigSQLite, `"sqlite"`, "driver", 1), `"${dir}/mv.db"`, "dsn", 1)
	src = strings.Replace(src, "  bootstrap_sql = schema\n", "", 1)
	for _, srv := range servers() {
		t.Run(srv.name, func(t *testing.T) {
			b, db := openServer(t, srv, src, mvServerSchemas[srv.name]+unique[srv.name])
			check(t, b, db)
		})
	}
}
