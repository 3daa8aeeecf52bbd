package sql_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/scimbridge/scimbridge/backends"
	sqlbackend "github.com/scimbridge/scimbridge/backends/sql"
)

const lookupConfig = `
backend "sql" "t" {
  driver = driver
  dsn    = dsn
  lookup "departments" {
    sql     = "SELECT code, name FROM departments"
    refresh = "1m"
  }
  lookup "levels" {
    sql = "SELECT level_no, label FROM levels"
  }
  resource "User" {
    table     = "people"
    id_column = "id"
  }
}`

const lookupSchema = `
CREATE TABLE people (id integer PRIMARY KEY, login varchar(64), dept varchar(8));
CREATE TABLE departments (code varchar(8) PRIMARY KEY, name varchar(100));
CREATE TABLE levels (level_no integer PRIMARY KEY, label varchar(100));
INSERT INTO departments VALUES ('ENG', 'Engineering');
INSERT INTO departments VALUES ('OPS', 'Operations');
INSERT INTO departments VALUES ('OLD', NULL);
INSERT INTO levels VALUES (1, 'Junior');
INSERT INTO levels VALUES (2, 'Senior');
`

func sortedRows(rows [][2]string) [][2]string {
	sort.Slice(rows, func(i, j int) bool { return rows[i][0] < rows[j][0] })
	return rows
}

// TestLookupTableServers: a lookup block's statement is read on SQLite,
// PostgreSQL and MariaDB: key first, value second, rows with a NULL left
// out, integer keys as the records show them, a change seen on the next
// read.
func TestLookupTableServers(t *testing.T) {
	sqlite := server{name: "SQLite", driver: "sqlite", raw: "sqlite", newDB: func(t *testing.T) string {
		return filepath.Join(t.TempDir(), "l.db")
	}}
	for _, srv := range append([]server{sqlite}, servers()...) {
		t.Run(srv.name, func(t *testing.T) {
			b, raw := openServer(t, srv, lookupConfig, lookupSchema)
			var lk backends.Lookuper = b
			ctx := context.Background()
			rows, err := lk.LookupTable(ctx, "departments")
			if err != nil {
				t.Fatal(err)
			}
			if want := [][2]string{{"ENG", "Engineering"}, {"OPS", "Operations"}}; !reflect.DeepEqual(sortedRows(rows), want) {
				t.Errorf("departments: %v, want %v", rows, want)
			}
			rows, err = lk.LookupTable(ctx, "levels")
			if err != nil {
				t.Fatal(err)
			}
			if want := [][2]string{{"1", "Junior"}, {"2", "Senior"}}; !reflect.DeepEqual(sortedRows(rows), want) {
				t.Errorf("levels: %v, want %v", rows, want)
			}
			if _, err := raw.Exec(`UPDATE departments SET name = 'Platform Engineering' WHERE code = 'ENG'`); err != nil {
				t.Fatal(err)
			}
			rows, _ = lk.LookupTable(ctx, "departments")
			if sortedRows(rows)[0][1] != "Platform Engineering" {
				t.Errorf("after an update: %v", rows)
			}
			if _, err := lk.LookupTable(ctx, "nosuch"); !errors.Is(err, backends.ErrConfig) {
				t.Errorf("unknown lookup: %v, want ErrConfig", err)
			}
		})
	}
}

// TestLookupConfigDiagnostics: lookup blocks are checked at load, each
// problem at its line.
func TestLookupConfigDiagnostics(t *testing.T) {
	src := `backend "sql" "t" {
  driver = "sqlite"
  dsn    = "x.db"
  lookup "departments" {
    sql     = "DELETE FROM departments"
    refresh = "1s"
  }
  lookup "departments" {
    sql = "SELECT code, name FROM departments"
  }
  lookup "bad name" {
    sql = "SELECT a, b FROM t"
  }
  resource "User" {
    table     = "people"
    id_column = "id"
  }
}`
	cfg, diags := decode(t, "l.hcl", src, nil)
	var got []string
	for _, d := range diags {
		got = append(got, d.Summary+"@"+strings.TrimPrefix(d.Subject.String(), "l.hcl:"))
	}
	sort.Strings(got)
	want := []string{"Duplicate lookup@8,3-23", "Invalid lookup name@11,3-20", "Invalid lookup statement@5,5-40", "Invalid refresh@6,5-19"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("diagnostics:\n got %v\nwant %v", got, want)
	}
	specs := cfg.LookupTables()
	if len(specs) != 3 || specs[1].Refresh.String() != "5m0s" {
		t.Errorf("specs: %v", specs)
	}
}

// TestLookupStatementCheckedAtStart: a lookup statement the database
// refuses, or of the wrong shape, stops New at the statement's line.
func TestLookupStatementCheckedAtStart(t *testing.T) {
	src := `backend "sql" "t" {
  driver = "sqlite"
  dsn    = dsn
  bootstrap_sql = "CREATE TABLE people (id integer PRIMARY KEY); CREATE TABLE departments (code text, name text);"
  lookup "departments" {
    sql = "SELECT code, name FROM departmets"
  }
  lookup "wide" {
    sql = "SELECT code, name, code FROM departments"
  }
  resource "User" {
    table     = "people"
    id_column = "id"
  }
}`
	cfg, diags := decode(t, "s.hcl", src, map[string]cty.Value{"dsn": cty.StringVal(filepath.Join(t.TempDir(), "s.db"))})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	_, err := sqlbackend.New(context.Background(), cfg, hclog.NewNullLogger())
	var got hcl.Diagnostics
	if !errors.As(err, &got) || len(got) != 2 || got[0].Subject.Start.Line != 6 || got[1].Subject.Start.Line != 9 {
		t.Fatalf("New: %v", err)
	}
}
