package ldap_test

import (
	"testing"

	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/backends/ldap/ldaptest"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/scimtest"
)

// crashable adapts a slapd of its own to scimtest.Directory.
type crashable struct{ *ldaptest.Server }

func (c crashable) Kill() error  { c.Crash(); return nil }
func (c crashable) Start() error { return c.Resume() }

// TestFault kills slapd (SIGKILL) under a steady mixed load through
// examples/openldap.hcl and starts it again: 503s with Retry-After while it
// is down, recovery without restarting the bridge, and every acknowledged
// write in the directory afterwards, with no duplicates.
func TestFault(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts slapd")
	}
	srv := ldaptest.Own(t, ldaptest.Options{})
	ou, err := srv.CreateOU("fault")
	if err != nil {
		t.Fatal(err)
	}
	b := bridgetest.StartFile(t, "../../examples/openldap.hcl", srv.ExampleEnv(ou), kinds.Types())
	c := bridgetest.NewClient(t, b.URL+"/scim/v2")
	scimtest.RunFault(t, c, b.Backends["openldap"], crashable{srv}, scimtest.FaultOptions{
		UserName: "uid", Active: "scimbridgeActive", ActiveTrue: "TRUE", ActiveFalse: "FALSE", Members: "member",
	})
}

// TestHostile replays the hostile request corpus against slapd.
func TestHostile(t *testing.T) {
	ex := startOpenLDAPExample(t)
	if res := scimtest.RunHostile(t, ex.c, ex.bridge.Backends["openldap"]); res.Cases < 150 {
		t.Fatalf("only %d cases", res.Cases)
	}
}

// TestConcurrency: 16 clients on one group's members, racing creates and PUTs.
func TestConcurrency(t *testing.T) {
	ex := startOpenLDAPExample(t)
	scimtest.RunConcurrency(t, ex.c, ex.bridge.Backends["openldap"], "member")
}
