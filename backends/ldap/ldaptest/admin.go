package ldaptest

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

// Admin reads a test directory as its root DN, for tests that check what
// the bridge wrote. The slapd of this package and the 389 DS of ds389test
// both embed one.
type Admin struct {
	name string
	dial func() (*ldap.Conn, error)
}

// NewAdmin returns an Admin that connects with dial; name prefixes its
// failure messages.
func NewAdmin(name string, dial func() (*ldap.Conn, error)) Admin {
	return Admin{name: name, dial: dial}
}

func (a Admin) mustDial(t testing.TB) *ldap.Conn {
	t.Helper()
	c, err := a.dial()
	if err != nil {
		t.Fatalf("%s: admin connection: %v", a.name, err)
	}
	return c
}

// Conn returns a connection bound as the root DN, closed when the test ends.
func (a Admin) Conn(t testing.TB) *ldap.Conn {
	t.Helper()
	c := a.mustDial(t)
	t.Cleanup(func() { c.Close() })
	return c
}

// Search runs a subtree search as the root DN and returns the entries;
// attrs as in a search request (none: all user attributes).
func (a Admin) Search(t testing.TB, base, filter string, attrs ...string) []*ldap.Entry {
	t.Helper()
	c := a.mustDial(t)
	defer c.Close()
	res, err := c.SearchWithPaging(ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		0, 0, false, filter, attrs, nil), 1000)
	if err != nil {
		t.Fatalf("%s: search %s %s: %v", a.name, base, filter, err)
	}
	return res.Entries
}

// Entry returns the entry at dn (base search) or nil when it does not exist.
func (a Admin) Entry(t testing.TB, dn string, attrs ...string) *ldap.Entry {
	t.Helper()
	c := a.mustDial(t)
	defer c.Close()
	res, err := c.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		0, 0, false, "(objectClass=*)", attrs, nil))
	if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
		return nil
	}
	if err != nil {
		t.Fatalf("%s: reading %s: %v", a.name, dn, err)
	}
	return res.Entries[0]
}

// AddOU adds the organizationalUnit dn (its RDN must be ou=<name>).
func (a Admin) AddOU(t testing.TB, dn string) {
	t.Helper()
	p, err := ldap.ParseDN(dn)
	if err != nil || len(p.RDNs) == 0 || !strings.EqualFold(p.RDNs[0].Attributes[0].Type, "ou") {
		t.Fatalf("%s: %q is not an ou=<name> DN", a.name, dn)
	}
	req := ldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{"organizationalUnit"})
	req.Attribute("ou", []string{p.RDNs[0].Attributes[0].Value})
	if err := a.Conn(t).Add(req); err != nil {
		t.Fatalf("%s: adding %s: %v", a.name, dn, err)
	}
}

// AddUsers adds n inetOrgPerson entries below people, uid (and cn) the
// prefix and a five-digit number, sn the prefix: eight adds at a time, in
// an order unlike the numbers'.
func (a Admin) AddUsers(t testing.TB, people, prefix string, n int) {
	t.Helper()
	c := a.Conn(t)
	errs := make(chan error, n)
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := range n {
		uid := fmt.Sprintf("%s%05d", prefix, (i*7919)%n)
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			req := ldap.NewAddRequest("uid="+uid+","+people, nil)
			req.Attribute("objectClass", []string{"inetOrgPerson"})
			req.Attribute("uid", []string{uid})
			req.Attribute("cn", []string{uid})
			req.Attribute("sn", []string{prefix})
			if err := c.Add(req); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("%s: adding users: %v", a.name, err)
	}
}

// ExampleEnv is the environment examples/openldap.hcl reads, for this
// server bound as the root DN and ou as the base.
func (s *Server) ExampleEnv(ou OU) map[string]string {
	return map[string]string{"LDAP_URL": s.URL, "LDAP_BIND_DN": AdminDN, "LDAP_BIND_PASSWORD": AdminPassword, "LDAP_BASE_DN": ou.DN}
}

// PPolicyExample returns the text of examples/openldap.hcl (at path) with
// the ppolicy opt-in its comments describe applied: deactivation writes
// pwdAccountLockedTime instead of moving the entry. It fails the test when
// the file no longer holds the snippet in its comments or the lines the
// opt-in changes, so that the documented edit is the tested one.
func PPolicyExample(t testing.TB, path string) string {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	const snippet = `attribute "active" {
  native      = "pwdAccountLockedTime"
  to_native   = value ? null : "000001010000Z"
  from_native = value != "000001010000Z"
  filter_values = value ? null : ["000001010000Z"]
}`
	var commented, active strings.Builder
	for line := range strings.Lines(snippet) {
		commented.WriteString("    #   " + line)
		active.WriteString("    " + line)
	}
	if !strings.Contains(text, commented.String()) {
		t.Fatalf("%s no longer documents the ppolicy opt-in as\n%s", path, commented.String())
	}
	for _, e := range [][2]string{
		{`    attribute "active" { native = "scimbridgeActive" }` + "\n", active.String() + "\n"},
		{`    disabled_base_dn          = "ou=disabled,ou=people,${env("LDAP_BASE_DN")}"` + "\n", ""},
		{`    create_disabled_container = true` + "\n", ""},
		{`operational_attributes = ["createTimestamp", "modifyTimestamp"]`, `operational_attributes = ["pwdAccountLockedTime", "createTimestamp", "modifyTimestamp"]`},
	} {
		if !strings.Contains(text, e[0]) {
			t.Fatalf("%s no longer holds %q", path, e[0])
		}
		text = strings.Replace(text, e[0], e[1], 1)
	}
	return text
}

// AddEntries dials with dial and adds reqs in order, for harnesses and
// programs without a *testing.T (CreateOU here, in ds389test and in
// sambatest).
func AddEntries(dial func() (*ldap.Conn, error), reqs ...*ldap.AddRequest) error {
	c, err := dial()
	if err != nil {
		return err
	}
	defer c.Close()
	for _, req := range reqs {
		if err := c.Add(req); err != nil {
			return fmt.Errorf("adding %s: %w", req.DN, err)
		}
	}
	return nil
}
