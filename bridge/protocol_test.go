package bridge_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/config"
	"github.com/scimbridge/scimbridge/bridge/scimtest"
)

// The SCIM protocol details of issue #16 on the in-memory backend and on
// config.example.hcl (SQLite); examples/ and backends/ldap run the same
// sequence on PostgreSQL, MariaDB, OpenLDAP and 389 DS.

func TestProtocolMemory(t *testing.T) {
	_, c, _ := startMemory(t)
	scimtest.RunProtocol(t, c, scimtest.ProtocolMapping{DisplayName: true, Manager: true})
}

func TestProtocolSQLite(t *testing.T) {
	_, c := startExample(t)
	scimtest.RunProtocol(t, c, scimtest.ProtocolMapping{MetaCreated: true, DisplayName: true, Manager: true})
}

// TestBulkTransactionSQLite: bulk_transaction = true on
// config.example.hcl.
func TestBulkTransactionSQLite(t *testing.T) {
	cfg := bridgetest.EditFile(t, "../config.example.hcl", [2]string{`base_path = "/scim/v2"`, `base_path = "/scim/v2"
  bulk_transaction = true`})
	t.Setenv("SCIMBRIDGE_TOKEN", bridgetest.Token)
	t.Setenv("SCIMBRIDGE_SQLITE_PATH", filepath.Join(t.TempDir(), "tx.db"))
	srv := bridgetest.Start(t, cfg, kinds.Types())
	scimtest.RunBulkTransaction(t, bridgetest.NewClient(t, srv.URL+"/scim/v2"))
}

// TestBulkTransactionNeedsSQL: the in-memory backend runs no
// transactions: bulk_transaction = true stops the start.
func TestBulkTransactionNeedsSQL(t *testing.T) {
	cfg := strings.Replace(memoryConfig, `backend   = "mem"`, `backend   = "mem"
  bulk_transaction = true`, 1)
	path := filepath.Join(t.TempDir(), "scimbridge.hcl")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	c, diags := config.Load(path, map[string]config.BackendType{"memory": bridgetest.Static(newMemory())}, nil)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	opened := map[string]backends.Backend{"mem": newMemory()}
	if _, err := bridge.New(c, opened, hclog.NewNullLogger()); err == nil || !strings.Contains(err.Error(), "bulk_transaction") {
		t.Errorf("bulk_transaction on the memory backend: %v", err)
	}
}
