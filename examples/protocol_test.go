package examples_test

import (
	"testing"

	"github.com/scimbridge/scimbridge/bridge/bridgetest"
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

// TestExamplesSoftDeleteStamps: a soft delete marks the row and moves its
// modified_column on, as any other write does (the row's version), on
// the examples that keep deleted rows and stamp changes themselves.
func TestExamplesSoftDeleteStamps(t *testing.T) {
	stamps := map[string][2]string{ // set an old stamp; read whether it moved on
		"Postgres":      {"UPDATE hr_person SET upd_ts = '2001-01-01' WHERE person_no = $1", "SELECT COUNT(*) FROM hr_person WHERE person_no = $1 AND upd_ts > '2001-01-02'"},
		"MariaDB":       {"UPDATE TBL_USR SET USR_UPDATED = '2001-01-01' WHERE USR_ID = ?", "SELECT COUNT(*) FROM TBL_USR WHERE USR_ID = ? AND USR_UPDATED > '2001-01-02'"},
		"PostgresStaff": {"UPDATE staff SET changed_at = '2001-01-01' WHERE staff_no = $1", "SELECT COUNT(*) FROM staff WHERE staff_no = $1 AND changed_at > '2001-01-02'"},
	}
	for _, ex := range examples() {
		q, ok := stamps[ex.name]
		if !ok {
			continue
		}
		t.Run(ex.name, func(t *testing.T) {
			s := start(t, ex)
			uid := bridgetest.Str(s.c.Must(201, "POST", "/Users", map[string]any{"userName": "stamp@example.com", "active": true,
				"name": map[string]any{"givenName": "St", "familyName": "Amp"}}).JSON, "id")
			if _, err := s.db.Exec(q[0], uid); err != nil {
				t.Fatal(err)
			}
			s.c.Must(204, "DELETE", "/Users/"+uid, nil)
			var deleted, moved int
			if err := s.db.QueryRow(ex.deletedRow, uid).Scan(&deleted); err != nil || deleted != 1 {
				t.Fatalf("soft-deleted rows: %d, %v", deleted, err)
			}
			if err := s.db.QueryRow(q[1], uid).Scan(&moved); err != nil || moved != 1 {
				t.Errorf("the modified stamp of the soft-deleted row did not move on (%d, %v)", moved, err)
			}
		})
	}
}

// TestExamplesBulkTransaction: /Bulk with bulk_transaction = true on
// every SQL example.
func TestExamplesBulkTransaction(t *testing.T) {
	for _, ex := range examples() {
		t.Run(ex.name, func(t *testing.T) {
			s := startEdited(t, ex, "", [2]string{`base_path = "/scim/v2"`, `base_path = "/scim/v2"
  bulk_transaction = true`})
			scimtest.RunBulkTransaction(t, s.c)
		})
	}
}
