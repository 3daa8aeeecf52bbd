package servertest

import (
	"context"
	"testing"
	"time"
)

// Databases is a database server harness (pgtest, mariadbtest) as
// NewDatabase uses it.
type Databases interface {
	// CreateDatabase creates database name and returns its DSN.
	CreateDatabase(ctx context.Context, name string) (string, error)
	DropDatabase(ctx context.Context, name string) error
	// Log is the end of the server log, for failure messages.
	Log() string
}

// NewDatabase creates database name on srv for t, dropped when t ends, and
// returns its DSN. harness prefixes the messages ("pgtest").
func NewDatabase(t testing.TB, harness string, srv Databases, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn, err := srv.CreateDatabase(ctx, name)
	if err != nil {
		t.Fatalf("%s: create database: %v\nserver log:\n%s", harness, err, srv.Log())
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := srv.DropDatabase(ctx, name); err != nil {
			t.Logf("%s: drop database %s: %v", harness, name, err)
		}
	})
	return dsn
}
