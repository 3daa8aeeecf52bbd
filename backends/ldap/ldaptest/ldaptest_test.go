package ldaptest

import (
	"slices"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

func TestMain(m *testing.M) { Main(m, Options{TLS: true}) }

func TestServer(t *testing.T) {
	srv := Shared(t)
	ou := srv.NewOU(t)
	if e := srv.Entry(t, ou.People); e == nil {
		t.Fatalf("people OU missing")
	}
	root := srv.Entry(t, "", "supportedControl", "supportedExtension", "subschemaSubentry", "vendorName")
	if root == nil {
		t.Fatal("no root DSE")
	}
	if !slices.Contains(root.GetAttributeValues("supportedExtension"), "1.3.6.1.4.1.4203.1.11.1") {
		t.Fatal("no Password Modify extended operation")
	}
	if n := srv.MonitorCounter(t, "cn=Entries,cn=Statistics", "monitorCounter"); n <= 0 {
		t.Fatalf("monitor entries = %d", n)
	}
	// The TLS listener refuses an unknown CA.
	if c, err := ldap.DialURL(srv.TLSURL); err == nil {
		c.Close()
		t.Fatal("ldaps without the test CA connected")
	}
}
