package sambatest

import (
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

func TestMain(m *testing.M) { Main(m) }

// TestSambaServer checks what the harness promises: a DC on its own loopback
// address whose certificate verifies for ServerName with CAFile, the
// service account bound over LDAPS, and its rights limited to ScimDN.
func TestSambaServer(t *testing.T) {
	srv := Shared(t)
	t.Logf("DC started in %v at %s", srv.StartTime, srv.URL)
	if !strings.HasPrefix(srv.URL, "ldaps://127.") || strings.HasPrefix(srv.URL, "ldaps://127.0.0.") {
		t.Errorf("URL %s", srv.URL)
	}
	root := srv.Entry(t, "", "defaultNamingContext", "supportedControl", "domainControllerFunctionality")
	if root == nil || !strings.EqualFold(root.GetAttributeValue("defaultNamingContext"), BaseDN) {
		t.Fatalf("root DSE: %v", root)
	}
	t.Logf("supportedControl: %v", root.GetAttributeValues("supportedControl"))
	ou := srv.NewOU(t)
	svc, err := srv.DialAs(ServiceDN, ServicePassword)
	if err != nil {
		t.Fatalf("service bind: %v", err)
	}
	defer svc.Close()
	add := func(dn string, attrs map[string][]string) error {
		req := ldap.NewAddRequest(dn, nil)
		for k, v := range attrs {
			req.Attribute(k, v)
		}
		return svc.Add(req)
	}
	dn := "CN=u1," + ou.People
	if err := add(dn, map[string][]string{"objectClass": {"user"}, "sAMAccountName": {"u1"}}); err != nil {
		t.Fatalf("service account adds a user below its OU: %v", err)
	}
	if err := add("CN=g1,"+ou.Groups, map[string][]string{"objectClass": {"group"}, "member": {dn}}); err != nil {
		t.Fatalf("service account adds a group below its OU: %v", err)
	}
	if err := add("CN=u2,OU=Services,"+BaseDN, map[string][]string{"objectClass": {"user"}, "sAMAccountName": {"u2"}}); !ldap.IsErrorWithCode(err, ldap.LDAPResultInsufficientAccessRights) {
		t.Errorf("service account adds a user outside its OU: %v, want insufficientAccessRights", err)
	}
}
