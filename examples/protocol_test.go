package examples_test

import (
	"testing"

	"github.com/scimbridge/scimbridge/bridge/scimtest"
)

// TestExamplesProtocol: the SCIM protocol details of issue #16 on every
// SQL example, as shipped.
func TestExamplesProtocol(t *testing.T) {
	for _, ex := range examples() {
		t.Run(ex.name, func(t *testing.T) {
			s := start(t, ex)
			scimtest.RunProtocol(t, s.c, scimtest.ProtocolMapping{MetaCreated: true, DisplayName: ex.name != "PostgresStaff", Manager: true})
		})
	}
}

// TestDS389Protocol: the same on examples/389ds.hcl.
func TestDS389Protocol(t *testing.T) {
	d := startDS389(t)
	scimtest.RunProtocol(t, d.c, scimtest.ProtocolMapping{MetaCreated: true, DisplayName: true, Manager: true})
}

// TestOpenLDAPStockProtocol: the same on examples/openldap.hcl.
func TestOpenLDAPStockProtocol(t *testing.T) {
	d := startOpenLDAP(t)
	scimtest.RunProtocol(t, d.c, scimtest.ProtocolMapping{MetaCreated: true, DisplayName: true, Manager: true})
}
