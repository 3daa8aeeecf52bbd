package pgtest_test

import (
	"context"
	dbsql "database/sql"
	"testing"

	"github.com/scimbridge/scimbridge/backends/sql/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestServer(t *testing.T) {
	srv := pgtest.Shared(t)
	dsn := srv.NewDatabase(t)
	db, err := dbsql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE TABLE x (id serial PRIMARY KEY, v text); INSERT INTO x (v) VALUES ('a')"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM x").Scan(&n); err != nil || n != 1 {
		t.Fatalf("count: %d %v", n, err)
	}
	// A second database is separate.
	db2, err := dbsql.Open("pgx", srv.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if _, err := db2.ExecContext(ctx, "SELECT 1 FROM x"); err == nil {
		t.Fatal("table x visible in another database")
	}
}
