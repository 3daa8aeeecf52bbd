package bridge_test

import (
	"context"
	dbsql "database/sql"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
)

// TestMappingExpressionsGuide serves each example configuration of
// docs/mapping-expressions.md on SQLite and checks what its section says.
func TestMappingExpressionsGuide(t *testing.T) {
	b, err := os.ReadFile("../docs/mapping-expressions.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```hcl\n(.*?)```").FindAllStringSubmatch(string(b), -1)
	if len(blocks) != 3 {
		t.Fatalf("%d examples; this test knows 3", len(blocks))
	}
	t.Setenv("SCIMBRIDGE_TOKEN", bridgetest.Token)
	dsnRE := regexp.MustCompile(`dsn    = "[a-z]+\.db"`)
	var srv *bridgetest.Server
	serve := func(t *testing.T, i int) (*bridgetest.Client, *dbsql.DB) {
		dsn := filepath.Join(t.TempDir(), "x.db")
		cfg := dsnRE.ReplaceAllString(blocks[i][1], `dsn    = "`+dsn+`"`)
		srv = bridgetest.Start(t, cfg, kinds.Types())
		db, err := dbsql.Open("sqlite", dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return bridgetest.NewClient(t, srv.URL+"/scim/v2"), db
	}
	str := func(db *dbsql.DB, query string) string {
		var s dbsql.NullString
		if err := db.QueryRow(query).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s.String
	}
	t.Run("lookups", func(t *testing.T) {
		c, db := serve(t, 0)
		if _, err := db.Exec(`INSERT INTO departments VALUES ('ENG', 'Engineering')`); err != nil {
			t.Fatal(err)
		}
		// Read at start before the row existed: a write is refused until
		// the table has it, and names the value.
		r := c.Must(400, "POST", "/Users", user("ann", "Engineering"))
		if !strings.Contains(bridgetest.Str(r.JSON, "detail"), `"Engineering"`) {
			t.Errorf("%s", r.Body)
		}
		if err := srv.Config.Backends["hr"].Lookups.Load(context.Background(), srv.Backends["hr"].(backends.Lookuper)); err != nil {
			t.Fatal(err)
		}
		c.Must(201, "POST", "/Users", user("ann", "engineering"))
		if s := str(db, `SELECT dept FROM staff`); s != "ENG" {
			t.Errorf("dept %q", s)
		}
		l := c.Must(200, "GET", "/Users?filter="+q(enterpriseDept+`:department eq "Engineering"`), nil)
		if bridgetest.Str(l.JSON, "totalResults") != "1" {
			t.Errorf("filter: %s", l.Body)
		}
	})
	t.Run("record", func(t *testing.T) {
		c, db := serve(t, 1)
		id := bridgetest.Str(c.Must(201, "POST", "/Users", map[string]any{"userName": "lee", "active": true}).JSON, "id")
		if _, err := db.Exec(`UPDATE staff SET status = 'L'`); err != nil {
			t.Fatal(err)
		}
		c.Must(200, "PATCH", "/Users/"+id, patchActive(true))
		if s := str(db, `SELECT status FROM staff`); s != "L" {
			t.Errorf("status %q", s)
		}
	})
	t.Run("null-safe", func(t *testing.T) {
		c, db := serve(t, 2)
		r := c.Must(201, "POST", "/Users", map[string]any{"userName": "eve",
			"phoneNumbers": []any{map[string]any{"type": "work", "value": "+1 555 0100 x42"}}})
		if _, ok := r.JSON["name"]; ok || r.JSON["title"] != nil {
			t.Errorf("answer: %s", r.Body)
		}
		if got := str(db, `SELECT surname || '|' || phone_ext || '|' || gecos FROM accounts`); got != "eve|42|eve" {
			t.Errorf("stored %q", got)
		}
	})
}

func user(login, department string) map[string]any {
	return map[string]any{"userName": login, "schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User", enterpriseDept},
		enterpriseDept: map[string]any{"department": department}}
}
