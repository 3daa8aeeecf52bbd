package bridge_test

import (
	"testing"

	"github.com/scimbridge/scimbridge/bridge/scimtest"
)

func TestHostileCorpusMemory(t *testing.T) {
	_, c, mem := startMemory(t)
	if res := scimtest.RunHostile(t, c, mem); res.Cases < 150 {
		t.Fatalf("only %d hostile cases", res.Cases)
	}
}

func TestHostileCorpusSQLiteExample(t *testing.T) {
	srv, c := startExample(t)
	if res := scimtest.RunHostile(t, c, srv.Backends["legacy"]); res.Cases < 150 {
		t.Fatalf("only %d hostile cases", res.Cases)
	}
}

func TestConcurrencyMemory(t *testing.T) {
	_, c, mem := startMemory(t)
	scimtest.RunConcurrency(t, c, mem, "member")
}

func TestConcurrencySQLiteExample(t *testing.T) {
	srv, c := startExample(t)
	scimtest.RunConcurrency(t, c, srv.Backends["legacy"], "members")
}
