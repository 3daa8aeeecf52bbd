package ldap_test

import (
	"testing"

	"github.com/scimbridge/scimbridge/bridge/scimtest"
)

// TestOpenLDAPExampleFiltersAgree: on examples/openldap.hcl and slapd,
// every filter over the stored resources returns what their reads say.
func TestOpenLDAPExampleFiltersAgree(t *testing.T) {
	ex := startOpenLDAPExample(t)
	scimtest.SeedVaried(t, ex.c)
	t.Logf("%d filters checked", scimtest.CheckFiltersAgree(t, ex.bridge, ex.c))
}
