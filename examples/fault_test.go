package examples_test

import (
	"testing"

	"github.com/scimbridge/scimbridge/backends/sql/mariadbtest"
	"github.com/scimbridge/scimbridge/backends/sql/pgtest"
	"github.com/scimbridge/scimbridge/bridge/scimtest"
)

// restartable adapts a test server to scimtest.Directory.
type restartable struct {
	kill    func()
	restart func() error
}

func (r restartable) Kill() error  { r.kill(); return nil }
func (r restartable) Start() error { return r.restart() }

// TestFault kills the database under a steady mixed load and restarts it:
// 503s with Retry-After while it is down, recovery by itself, and every
// acknowledged write present afterwards, with no duplicates.
func TestFault(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts the database")
	}
	for _, ex := range examples() {
		t.Run(ex.name, func(t *testing.T) {
			s := start(t, ex)
			var dir restartable
			if ex.postgres() {
				pg := pgtest.Shared(t)
				dir = restartable{kill: pg.Kill, restart: pg.Restart}
			} else {
				my := mariadbtest.Shared(t)
				dir = restartable{kill: my.Kill, restart: my.Restart}
			}
			scimtest.RunFault(t, s.c, s.srv.Backends[ex.backend], dir, scimtest.FaultOptions{
				UserName: ex.target.UserName, Active: ex.target.Active,
				ActiveTrue: ex.target.ActiveTrue, ActiveFalse: ex.target.ActiveFalse, Members: ex.target.Members,
			})
		})
	}
}

// TestHostile replays the hostile request corpus against both examples.
func TestHostile(t *testing.T) {
	for _, ex := range examples() {
		t.Run(ex.name, func(t *testing.T) {
			s := start(t, ex)
			if res := scimtest.RunHostile(t, s.c, s.srv.Backends[ex.backend]); res.Cases < 150 {
				t.Fatalf("only %d cases", res.Cases)
			}
		})
	}
}

// TestConcurrency: 16 clients on one group, racing creates and PUTs.
func TestConcurrency(t *testing.T) {
	for _, ex := range examples() {
		t.Run(ex.name, func(t *testing.T) {
			s := start(t, ex)
			scimtest.RunConcurrency(t, s.c, s.srv.Backends[ex.backend], ex.target.Members)
		})
	}
}
