package bridge_test

import (
	"testing"

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
