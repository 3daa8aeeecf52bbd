package ldap_test

import (
	"testing"

	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/backends/ldap/ldaptest"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/scimtest"
)

// TestOpenLDAPPPolicyGolden11: the SCIM 1.1 sequence of Okta's
// on-premises Provisioning Agent on the ppolicy opt-in of
// examples/openldap.hcl (which maps a password), served beside its 2.0
// endpoint with max_filter_scan = 0. The pushed passwords are checked
// with binds: userPassword is never read back.
func TestOpenLDAPPPolicyGolden11(t *testing.T) {
	srv := ldaptest.Shared(t)
	ou := srv.NewOU(t)
	for k, v := range srv.ExampleEnv(ou) {
		t.Setenv(k, v)
	}
	t.Setenv("SCIMBRIDGE_TOKEN", bridgetest.Token)
	text, err := scimtest.Config11([]byte(ldaptest.PPolicyExample(t, "../../examples/openldap.hcl")),
		scimtest.Options11{Custom: "title", NoScan: true})
	if err != nil {
		t.Fatal(err)
	}
	b := bridgetest.Start(t, string(text), kinds.Types())
	c := bridgetest.NewClient(t, b.URL+scimtest.Base11)
	tg := ppolicyTarget(c, b)
	caps := scimtest.Capabilities11(t, c)
	scimtest.RunGolden11(t, &scimtest.Target11{Target: tg, Custom: "title", NoScan: true})

	entries := srv.Search(t, ou.DN, "(uid=opp.jane@example.com)", "1.1")
	if len(entries) != 1 {
		t.Fatalf("%d entries for opp.jane", len(entries))
	}
	dn := entries[0].DN
	hasPush := false
	for _, cp := range caps {
		hasPush = hasPush || cp == "PUSH_PASSWORD_UPDATES"
	}
	if !hasPush {
		t.Errorf("capabilities %v lack PUSH_PASSWORD_UPDATES, and the example maps userPassword", caps)
	}
	if err := bind(t, srv, dn, "N3w-Passw0rd!"); err != nil {
		t.Errorf("bind with the pushed password: %v", err)
	}
	if err := bind(t, srv, dn, "S3cret-Passw0rd!"); err == nil {
		t.Error("the first password still binds after the password push")
	}
}
