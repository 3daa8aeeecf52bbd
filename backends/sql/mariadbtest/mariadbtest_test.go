package mariadbtest_test

import (
	"context"
	dbsql "database/sql"
	"testing"

	"github.com/scimbridge/scimbridge/backends/sql/mariadbtest"
)

func TestMain(m *testing.M) { mariadbtest.Main(m) }

func TestServer(t *testing.T) {
	srv := mariadbtest.Shared(t)
	t.Logf("server %s", srv.Version)
	dsn := srv.NewDatabase(t)
	db, err := dbsql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE TABLE x (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(10))"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO x (v) VALUES (?)", "a"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM x").Scan(&n); err != nil || n != 1 {
		t.Fatalf("count: %d %v", n, err)
	}
	db2, err := dbsql.Open("mysql", srv.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if _, err := db2.ExecContext(ctx, "SELECT 1 FROM x"); err == nil {
		t.Fatal("table x visible in another database")
	}
}
