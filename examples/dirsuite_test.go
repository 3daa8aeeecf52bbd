package examples_test

// What the examples on a directory of their own (activedirectory.hcl on
// sambatest, 389ds.hcl on ds389test) share: the example served by a real
// scimbridge on a fresh OU, and the checks of the shared suites that read
// that OU back.

import (
	"net/url"
	"testing"

	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/backends/ldap/ldaptest"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/scimtest"
)

// dirExample is one example served on a fresh OU.
type dirExample struct {
	admin   ldaptest.Admin // reads the directory
	ou      ldaptest.OU
	bridge  *bridgetest.Server
	c       *bridgetest.Client
	backend string // the backend block's name in the example
	written string // filter of the users and groups the bridge writes
}

// startDirExample serves file with env on ou.
func startDirExample(t *testing.T, admin ldaptest.Admin, ou ldaptest.OU, file string, env map[string]string, backend, written string) dirExample {
	t.Helper()
	b := bridgetest.StartFile(t, file, env, kinds.Types())
	return dirExample{admin: admin, ou: ou, bridge: b, c: bridgetest.NewClient(t, b.URL+"/scim/v2"), backend: backend, written: written}
}

// lookupsPooled checks that a userName lookup is one search on a pooled
// connection: the directory ends a search at the size limit the bridge
// asks for (the probe at start saw it honoured), so the lookup needs no
// paged cursor, which would dial a connection of its own.
func lookupsPooled(t *testing.T, b *bridgetest.Server, c *bridgetest.Client, backend, userName string) {
	t.Helper()
	q := "/Users?filter=" + url.QueryEscape(`userName eq "`+userName+`"`)
	// The counts taken at start dial connections of their own; count=0
	// answers once they are done. Then the pool holds a connection.
	c.Must(200, "GET", "/Users?count=0", nil)
	c.Must(200, "GET", "/Groups?count=0", nil)
	c.Must(200, "GET", q, nil)
	dials := func() float64 {
		v, _ := b.Metric(t, "scimbridge_ldap_dials_total", map[string]string{"backend": backend, "result": "success"})
		return v
	}
	before := dials()
	for range 3 {
		if r := c.Must(200, "GET", q, nil); str(r, "totalResults") != "1" {
			t.Fatalf("%s: %s", q, r.Body)
		}
	}
	if n := dials() - before; n != 0 {
		t.Errorf("3 userName lookups dialled %v connections: a first page closed its pooled connection, or took a cursor", n)
	}
}

// leftBehind lists the users and groups below the OU.
func (d dirExample) leftBehind(t *testing.T) []string {
	t.Helper()
	var dns []string
	for _, e := range d.admin.Search(t, d.ou.DN, d.written, "1.1") {
		dns = append(dns, e.DN)
	}
	return dns
}

// runGolden runs the golden sequences on target; everything they created
// they also deleted.
func (d dirExample) runGolden(t *testing.T, target *scimtest.Target) {
	scimtest.RunGolden(t, target)
	if left := d.leftBehind(t); len(left) != 0 {
		t.Errorf("objects left behind: %v", left)
	}
}

// runOktaSpec seeds and runs Okta's SPEC test, which must assert something.
func (d dirExample) runOktaSpec(t *testing.T) {
	scimtest.SeedForOktaSpec(t, d.c)
	if res := scimtest.RunOktaSpec(t, d.c.Base, d.c.Auth); res.Assertions == 0 {
		t.Fatal("the SPEC test ran no assertion")
	}
}

// runHostile runs the hostile requests; nothing may escape the OU's two
// containers.
func (d dirExample) runHostile(t *testing.T) {
	if res := scimtest.RunHostile(t, d.c, d.bridge.Backends[d.backend]); res.Cases < 150 {
		t.Fatalf("only %d cases", res.Cases)
	}
	for _, e := range d.admin.Search(t, d.ou.DN, d.written, "1.1") {
		if !isChild(e.DN, d.ou.People) && !isChild(e.DN, d.ou.Groups) {
			t.Errorf("object %s is not directly below %s or %s", e.DN, d.ou.People, d.ou.Groups)
		}
	}
}
