package sql_test

// Issue #10 item 11: time_zone. Columns without a zone hold the
// application's wall-clock time; the bridge reads them as instants in the
// zone, writes that zone's wall-clock time, and filters on them agree with
// reads. On SQLite, PostgreSQL and MariaDB, in Europe/Berlin.

import (
	dbsql "database/sql"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/scimtest"
)

var tzSchemas = map[string]string{
	"SQLite": `
CREATE TABLE tz_users (
  user_id    INTEGER PRIMARY KEY AUTOINCREMENT,
  login      TEXT NOT NULL UNIQUE,
  hired_at   DATETIME,
  created_at TEXT,
  changed_at TEXT
);
`,
	"Postgres": `
CREATE TABLE tz_users (
  user_id    serial PRIMARY KEY,
  login      varchar(64) NOT NULL UNIQUE,
  hired_at   timestamp without time zone,
  created_at timestamp without time zone,
  changed_at timestamp(6)
);
`,
	"MariaDB": `
CREATE TABLE tz_users (
  user_id    INT AUTO_INCREMENT PRIMARY KEY,
  login      VARCHAR(64) NOT NULL UNIQUE,
  hired_at   DATETIME,
  created_at DATETIME(6),
  changed_at DATETIME(6)
) ENGINE=InnoDB;
`,
}

const acme = "urn:ietf:params:scim:schemas:extension:acme:2.0:User"

const tzConfig = `schema "` + acme + `" {
  resource = "User"
  attribute "hiredAt" { type = "dateTime" }
}
backend "sql" "app" {
  driver    = "DRIVER"
  dsn       = "DSN"
  time_zone = "Europe/Berlin"
  resource "User" {
    table           = "tz_users"
    id_column       = "user_id"
    created_column  = "created_at"
    modified_column = "changed_at"
  }
}
endpoint "e" {
  base_path = "/scim/v2"
  backend   = "app"
  ` + bridgetest.TokenBlock + `
  mapping "User" {
    attribute "userName"            { native = "login" }
    attribute "` + acme + `:hiredAt" { native = "hired_at" }
    attribute "meta.created"        { native = "created_at" }
    attribute "meta.lastModified"   { native = "changed_at" }
  }
}
`

func TestTimeZone(t *testing.T) {
	type store struct {
		name, driver, dsn string
		db                *dbsql.DB
	}
	dsn := filepath.Join(t.TempDir(), "tz.db")
	lite, err := dbsql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lite.Close() })
	stores := []store{{"SQLite", "sqlite", dsn, lite}}
	for _, srv := range servers() {
		dsn := srv.newDB(t)
		stores = append(stores, store{srv.name, srv.driver, dsn, rawServerDB(t, srv, dsn)})
	}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			execScript(t, server{name: st.name}, st.db, tzSchemas[st.name])
			// Rows the application wrote: Berlin wall-clock times, in
			// summer (UTC+2) and in winter (UTC+1).
			if _, err := st.db.Exec(`INSERT INTO tz_users (login, hired_at, created_at, changed_at) VALUES
				('summer', '2026-07-01 12:00:00', '2026-01-15 08:30:00', '2026-07-02 00:30:00'),
				('winter', '2026-01-10 00:30:00', '2026-01-10 00:30:00', '2026-01-10 00:30:00')`); err != nil {
				t.Fatal(err)
			}
			text := strings.NewReplacer("DRIVER", st.driver, "DSN", st.dsn).Replace(tzConfig)
			srv := bridgetest.Start(t, text, kinds.Types())
			c := bridgetest.NewClient(t, srv.URL+"/scim/v2")
			one := func(filter string) map[string]any {
				t.Helper()
				l := c.Must(200, "GET", "/Users?filter="+url.QueryEscape(filter), nil)
				r, _ := l.JSON["Resources"].([]any)
				if len(r) != 1 {
					t.Fatalf("filter %s: %s", filter, l.Body)
				}
				return r[0].(map[string]any)
			}
			hired := func(u map[string]any) any { ext, _ := u[acme].(map[string]any); return ext["hiredAt"] }
			meta := func(u map[string]any, k string) any { m, _ := u["meta"].(map[string]any); return m[k] }

			summer := one(`userName eq "summer"`)
			if hired(summer) != "2026-07-01T10:00:00Z" || meta(summer, "created") != "2026-01-15T07:30:00Z" || meta(summer, "lastModified") != "2026-07-01T22:30:00Z" {
				t.Fatalf("read in Europe/Berlin: %v", summer)
			}
			winter := one(`userName eq "winter"`)
			if hired(winter) != "2026-01-09T23:30:00Z" {
				t.Fatalf("read in Europe/Berlin: %v", winter)
			}
			// Filters compare instants: 10:00Z is 12:00 in Berlin.
			for filter, want := range map[string]string{
				acme + `:hiredAt eq "2026-07-01T10:00:00Z"`:              "summer",
				acme + `:hiredAt gt "2026-07-01T09:59:59Z"`:              "summer",
				acme + `:hiredAt lt "2026-01-10T00:00:00Z"`:              "winter",
				acme + `:hiredAt eq "2026-07-01T12:00:00+02:00"`:         "summer",
				`meta.lastModified gt "2026-07-01T22:00:00Z"`:            "summer",
				`meta.created lt "2026-01-09T23:31:00Z"`:                 "winter",
				`meta.created ge "2026-01-15T07:30:00Z" and userName pr`: "summer",
			} {
				if got := one(filter)["userName"]; got != want {
					t.Errorf("%s: %v, want %s", filter, got, want)
				}
			}
			// A write stores Berlin wall-clock time, and its answer is
			// the GET after it.
			u := c.Must(201, "POST", "/Users", map[string]any{
				"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User", acme},
				"userName": "new", acme: map[string]any{"hiredAt": "2026-03-01T09:00:00Z"},
			})
			if hired(u.JSON) != "2026-03-01T09:00:00Z" {
				t.Fatalf("POST answer: %s", u.Body)
			}
			if g := c.Must(200, "GET", "/Users/"+bridgetest.Str(u.JSON, "id"), nil); string(g.Body) != string(u.Body) {
				t.Fatalf("answer and GET differ:\n%s\n%s", u.Body, g.Body)
			}
			var stored string
			if err := st.db.QueryRow(`SELECT CAST(hired_at AS CHAR(32)) FROM tz_users WHERE login = 'new'`).Scan(&stored); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(strings.Replace(stored, "T", " ", 1), "2026-03-01 10:00:00") {
				t.Errorf("stored %q, want Berlin's wall-clock time 2026-03-01 10:00:00", stored)
			}
			created, _ := meta(u.JSON, "created").(string)
			if n := one(`meta.created eq "` + created + `"`); n["userName"] != "new" {
				t.Errorf("filter on the created stamp finds %v", n)
			}
			scimtest.CheckFiltersAgree(t, srv, c)
		})
	}
}

// A time_zone that names no zone fails at load, at its line.
func TestTimeZoneInvalid(t *testing.T) {
	for _, zone := range []string{"Europe/Berln", "Local", "+02:00"} {
		_, diags := decode(t, "tz.hcl", `backend "sql" "x" {
  driver    = "sqlite"
  dsn       = "x.db"
  time_zone = "`+zone+`"
  resource "User" {
    table     = "t"
    id_column = "id"
  }
}`, map[string]cty.Value{})
		if !diags.HasErrors() || !strings.Contains(diags.Error(), "tz.hcl:4,") || !strings.Contains(diags.Error(), "Invalid time_zone") {
			t.Errorf("%s: %v", zone, diags)
		}
	}
}
