package sql_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/backends"
)

// refusalSchema has the kinds of uniqueness an application's tables have:
// a UNIQUE column, a named unique index, a unique expression index, a
// unique pair, and a child table of e-mail addresses unique on their own.
const refusalSchema = `
CREATE TABLE people (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  uname TEXT NOT NULL UNIQUE,
  display TEXT,
  mail TEXT,
  site TEXT,
  badge TEXT
);
CREATE UNIQUE INDEX people_display ON people (display);
CREATE UNIQUE INDEX people_mail ON people (lower(mail));
CREATE UNIQUE INDEX people_site_badge ON people (site, badge);
CREATE TABLE people_aliases (person INTEGER NOT NULL REFERENCES people(id), alias TEXT NOT NULL UNIQUE);
CREATE TABLE teams (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL UNIQUE);
CREATE TABLE team_people (team INTEGER NOT NULL REFERENCES teams(id), person INTEGER NOT NULL REFERENCES people(id), PRIMARY KEY (team, person));
`

const refusalConfig = `
backend "sql" "r" {
  driver        = "sqlite"
  dsn           = "file:${dir}/r.db"
  bootstrap_sql = schema
  resource "User" {
    table     = "people"
    id_column = "id"
    multi_value "aliases" {
      table        = "people_aliases"
      this_column  = "person"
      value_column = "alias"
    }
  }
  resource "Group" {
    table     = "teams"
    id_column = "id"
    reference "members" {
      join_table   = "team_people"
      this_column  = "team"
      other_column = "person"
      target       = "User"
    }
  }
}
`

// TestRefusalsNameTheAttribute: a refused write says which attribute (in
// the configuration's spelling) it is about, so that the bridge can name
// the SCIM attribute instead of showing the database's message; when the
// database names several columns, none is claimed.
func TestRefusalsNameTheAttribute(t *testing.T) {
	b, _ := open(t, refusalConfig, refusalSchema)
	ctx := context.Background()
	first, err := b.Create(ctx, backends.User, backends.Attrs{"uname": {"ann"}, "display": {"Ann"}, "mail": {"Ann@x"},
		"site": {"s1"}, "badge": {"7"}, "aliases": {"annie"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Create(ctx, backends.Group, backends.Attrs{"title": {"team"}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		err        error
		kind       error
		attr       string
		reasonHas  string
		valueEqual string
	}{
		{"UNIQUE column", create(ctx, b, backends.Attrs{"uname": {"ann"}}), backends.ErrAlreadyExists, "uname", "", ""},
		{"named unique index", create(ctx, b, backends.Attrs{"uname": {"b"}, "display": {"Ann"}}), backends.ErrAlreadyExists, "display", "", ""},
		{"expression index", create(ctx, b, backends.Attrs{"uname": {"c"}, "mail": {"ann@X"}}), backends.ErrAlreadyExists, "mail", "", ""},
		{"unique pair", create(ctx, b, backends.Attrs{"uname": {"d"}, "site": {"s1"}, "badge": {"7"}}), backends.ErrAlreadyExists, "", "", ""},
		{"child table", create(ctx, b, backends.Attrs{"uname": {"e"}, "aliases": {"annie"}}), backends.ErrAlreadyExists, "aliases", "", ""},
		{"group name", create(ctx, b, backends.Attrs{"title": {"team"}}, backends.Group), backends.ErrAlreadyExists, "title", "", ""},
		{"not null", modify(ctx, b, backends.User, first.ID, backends.Modification{Op: backends.ModDelete, Attr: "uname"}), backends.ErrInvalid, "uname", "must have a value", ""},
		{"NUL", create(ctx, b, backends.Attrs{"uname": {"nul\x00"}}), backends.ErrInvalid, "uname", "NUL", ""},
		{"unknown member", create(ctx, b, backends.Attrs{"title": {"t2"}, "members": {first.ID, "4242"}}, backends.Group), backends.ErrInvalidReference, "members", "", "4242"},
	} {
		if !errors.Is(tc.err, tc.kind) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.kind)
			continue
		}
		ae, ok := backends.AsAttrError(tc.err)
		if !ok {
			t.Errorf("%s: %v is not an AttrError", tc.name, tc.err)
			continue
		}
		if ae.Attr != tc.attr || !errors.Is(ae.Kind, tc.kind) {
			t.Errorf("%s: attribute %q (%v), want %q", tc.name, ae.Attr, ae.Kind, tc.attr)
		}
		if !strings.Contains(ae.Reason, tc.reasonHas) {
			t.Errorf("%s: reason %q, want it to say %q", tc.name, ae.Reason, tc.reasonHas)
		}
		if tc.valueEqual != "" && ae.Value != tc.valueEqual {
			t.Errorf("%s: value %q, want %q", tc.name, ae.Value, tc.valueEqual)
		}
		for _, native := range []string{"people", "team_people", "people_aliases", "INTEGER"} {
			if strings.Contains(ae.Reason, native) {
				t.Errorf("%s: the reason %q names %q", tc.name, ae.Reason, native)
			}
		}
	}
}

// Per server: the same kinds of uniqueness as refusalSchema, with named
// constraints (MariaDB names only the key in its message) and, on
// PostgreSQL, a key expression.
var refusalServerSchemas = map[string]string{
	"Postgres": `
CREATE TABLE people (
  id      serial PRIMARY KEY,
  uname   varchar(64) NOT NULL,
  display text,
  mail    text,
  site    text,
  badge   text,
  grade   integer,
  CONSTRAINT people_uname_uq UNIQUE (uname),
  CONSTRAINT people_site_badge UNIQUE (site, badge)
);
CREATE UNIQUE INDEX people_display ON people (display);
CREATE UNIQUE INDEX people_mail ON people (lower(mail));
CREATE TABLE people_aliases (person integer NOT NULL REFERENCES people(id), alias text NOT NULL UNIQUE);
CREATE TABLE teams (id serial PRIMARY KEY, title text NOT NULL UNIQUE);
CREATE TABLE team_people (team integer NOT NULL REFERENCES teams(id), person integer NOT NULL REFERENCES people(id), PRIMARY KEY (team, person));
`,
	"MariaDB": `
CREATE TABLE people (
  id      INT AUTO_INCREMENT PRIMARY KEY,
  uname   VARCHAR(64) NOT NULL,
  display VARCHAR(200),
  mail    VARCHAR(254),
  site    VARCHAR(20),
  badge   VARCHAR(20),
  grade   INT,
  CONSTRAINT people_uname_uq UNIQUE (uname),
  CONSTRAINT people_site_badge UNIQUE (site, badge),
  UNIQUE KEY people_display (display),
  UNIQUE KEY people_mail (mail)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE people_aliases (
  person INT NOT NULL,
  alias  VARCHAR(100) NOT NULL,
  CONSTRAINT people_alias_uq UNIQUE (alias),
  FOREIGN KEY (person) REFERENCES people(id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE teams (id INT AUTO_INCREMENT PRIMARY KEY, title VARCHAR(100) NOT NULL, CONSTRAINT teams_title_uq UNIQUE (title)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE team_people (
  team   INT NOT NULL,
  person INT NOT NULL,
  PRIMARY KEY (team, person),
  FOREIGN KEY (team) REFERENCES teams(id),
  FOREIGN KEY (person) REFERENCES people(id)
) ENGINE=InnoDB;
`,
}

const refusalServerConfig = `
backend "sql" "r" {
  driver = driver
  dsn    = dsn
  resource "User" {
    table     = "people"
    id_column = "id"
    multi_value "aliases" {
      table        = "people_aliases"
      this_column  = "person"
      value_column = "alias"
    }
  }
  resource "Group" {
    table     = "teams"
    id_column = "id"
    reference "members" {
      join_table   = "team_people"
      this_column  = "team"
      other_column = "person"
      target       = "User"
    }
  }
}
`

// TestServerRefusalsNameTheAttribute is TestRefusalsNameTheAttribute on
// PostgreSQL (key details, a lower() index) and MariaDB (key names only,
// resolved through the catalog).
func TestServerRefusalsNameTheAttribute(t *testing.T) {
	for _, srv := range servers() {
		t.Run(srv.name, func(t *testing.T) {
			b, _ := openServer(t, srv, refusalServerConfig, refusalServerSchemas[srv.name])
			ctx := withTimeout(t)
			first, err := b.Create(ctx, backends.User, backends.Attrs{"uname": {"ann"}, "display": {"Ann"}, "mail": {"Ann@x"},
				"site": {"s1"}, "badge": {"7"}, "aliases": {"annie"}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.Create(ctx, backends.Group, backends.Attrs{"title": {"team"}}); err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct {
				name      string
				err       error
				kind      error
				attr      string
				reasonHas string
			}{
				{"named unique constraint", create(ctx, b, backends.Attrs{"uname": {"ann"}}), backends.ErrAlreadyExists, "uname", ""},
				{"unique index", create(ctx, b, backends.Attrs{"uname": {"b"}, "display": {"Ann"}}), backends.ErrAlreadyExists, "display", ""},
				{"case-insensitive index", create(ctx, b, backends.Attrs{"uname": {"c"}, "mail": {"ann@X"}}), backends.ErrAlreadyExists, "mail", ""},
				{"unique pair", create(ctx, b, backends.Attrs{"uname": {"d"}, "site": {"s1"}, "badge": {"7"}}), backends.ErrAlreadyExists, "", ""},
				{"group name", create(ctx, b, backends.Attrs{"title": {"team"}}, backends.Group), backends.ErrAlreadyExists, "title", ""},
				{"rename onto a taken name", modify(ctx, b, backends.User, mustCreate(ctx, t, b, "f"), backends.Modification{Op: backends.ModReplace, Attr: "uname", Values: []string{"ann"}}), backends.ErrAlreadyExists, "uname", ""},
				{"not null", modify(ctx, b, backends.User, first.ID, backends.Modification{Op: backends.ModDelete, Attr: "uname"}), backends.ErrInvalid, "uname", "must have a value"},
				{"too long", create(ctx, b, backends.Attrs{"uname": {strings.Repeat("x", 65)}}), backends.ErrInvalid, "uname", "at most 64"},
				{"not an integer", create(ctx, b, backends.Attrs{"uname": {"g"}, "grade": {"high"}}), backends.ErrInvalid, "grade", "not an integer"},
				{"unknown member", create(ctx, b, backends.Attrs{"title": {"t2"}, "members": {first.ID, "4242"}}, backends.Group), backends.ErrInvalidReference, "members", ""},
			} {
				if !errors.Is(tc.err, tc.kind) {
					t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.kind)
					continue
				}
				ae, ok := backends.AsAttrError(tc.err)
				if !ok {
					t.Errorf("%s: %v is not an AttrError", tc.name, tc.err)
					continue
				}
				if ae.Attr != tc.attr {
					t.Errorf("%s: attribute %q, want %q (%v)", tc.name, ae.Attr, tc.attr, tc.err)
				}
				if !strings.Contains(ae.Reason, tc.reasonHas) {
					t.Errorf("%s: reason %q, want it to say %q", tc.name, ae.Reason, tc.reasonHas)
				}
				for _, native := range []string{"people", "teams", "varchar", "int(", "constraint", "Key ("} {
					if strings.Contains(strings.ToLower(ae.Reason), strings.ToLower(native)) {
						t.Errorf("%s: the reason %q names %q", tc.name, ae.Reason, native)
					}
				}
			}
		})
	}
}

func mustCreate(ctx context.Context, t *testing.T, b backends.Backend, uname string) string {
	t.Helper()
	rec, err := b.Create(ctx, backends.User, backends.Attrs{"uname": {uname}})
	if err != nil {
		t.Fatal(err)
	}
	return rec.ID
}
