package sql

import (
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

func TestPostgresDSN(t *testing.T) {
	o := connOptions{connectTimeout: 7 * time.Second}
	for _, tc := range []struct{ in, want, notWant string }{
		{"postgres://u:p@h:5432/db?sslmode=require", "connect_timeout=7", ""},
		{"postgres://u:p@h/db?connect_timeout=2", "connect_timeout=2", "connect_timeout=7"},
		{"postgresql://u@h/db", "timezone=UTC", ""},
		{"host=h user=u dbname=db", " connect_timeout=7", ""},
		{"host=h timezone=Europe/Paris", "timezone=Europe/Paris", "timezone=UTC"},
	} {
		got, err := postgresDialect{}.dsn(tc.in, o)
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if !strings.Contains(got, tc.want) || (tc.notWant != "" && strings.Contains(got, tc.notWant)) {
			t.Errorf("dsn(%q) = %q, want %q and not %q", tc.in, got, tc.want, tc.notWant)
		}
	}
	if _, err := (postgresDialect{}).dsn("postgres://u:secret@h:bad port/db", o); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("bad URL: %v (must fail without the password)", err)
	}
}

func TestMySQLDSN(t *testing.T) {
	o := connOptions{connectTimeout: 7 * time.Second}
	for _, in := range []string{
		"mysql://app:p%40ss%3Aw%2Frd@db.internal:3307/crm?tls=skip-verify",
		"app:p@ss:w/rd@tcp(db.internal:3307)/crm?tls=skip-verify",
	} {
		got, err := mysqlDialect{}.dsn(in, o)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		c, err := mysql.ParseDSN(got)
		if err != nil {
			t.Fatalf("%s -> %s: %v", in, got, err)
		}
		if c.User != "app" || c.Passwd != "p@ss:w/rd" || c.Addr != "db.internal:3307" || c.DBName != "crm" || c.TLSConfig != "skip-verify" {
			t.Errorf("%s: parsed %+v", in, c)
		}
		if !c.ParseTime || c.Loc.String() != "UTC" || c.Timeout != 7*time.Second || c.MultiStatements || c.InterpolateParams {
			t.Errorf("%s: settings %+v", in, c)
		}
		if !strings.Contains(c.Params["sql_mode"], "STRICT_ALL_TABLES") || c.Params["time_zone"] != "'+00:00'" {
			t.Errorf("%s: params %v", in, c.Params)
		}
	}
	got, _ := mysqlDialect{}.dsn("mysql://u@h/db", o)
	if c, _ := mysql.ParseDSN(got); c.Addr != "h:3306" {
		t.Errorf("default port: %q", got)
	}
}
