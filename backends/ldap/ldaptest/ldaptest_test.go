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

// TestPermanentLock checks that the ppolicy overlay refuses binds of an
// account with pwdAccountLockedTime = PermanentLock, and accepts them again
// when it is removed.
func TestPermanentLock(t *testing.T) {
	srv := Shared(t)
	ou := srv.NewOU(t)
	c := srv.Conn(t)
	dn := "uid=locked," + ou.People
	add := ldap.NewAddRequest(dn, nil)
	add.Attribute("objectClass", []string{"inetOrgPerson"})
	add.Attribute("uid", []string{"locked"})
	add.Attribute("cn", []string{"Locked"})
	add.Attribute("sn", []string{"Locked"})
	add.Attribute("userPassword", []string{"pw-locked"})
	if err := c.Add(add); err != nil {
		t.Fatal(err)
	}
	bind := func() error {
		u, err := ldap.DialURL(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer u.Close()
		return u.Bind(dn, "pw-locked")
	}
	if err := bind(); err != nil {
		t.Fatalf("bind before locking: %v", err)
	}
	lock := ldap.NewModifyRequest(dn, nil)
	lock.Replace("pwdAccountLockedTime", []string{PermanentLock})
	if err := c.Modify(lock); err != nil {
		t.Fatalf("locking: %v", err)
	}
	if err := bind(); !ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
		t.Fatalf("bind of a locked account: %v, want invalidCredentials", err)
	}
	unlock := ldap.NewModifyRequest(dn, nil)
	unlock.Replace("pwdAccountLockedTime", nil)
	if err := c.Modify(unlock); err != nil {
		t.Fatalf("unlocking: %v", err)
	}
	if err := bind(); err != nil {
		t.Fatalf("bind after unlocking: %v", err)
	}
}

func TestNoMemberOf(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a second slapd")
	}
	Shared(t) // skips without slapd
	srv, err := Start(Options{NoMemberOf: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	ou, err := srv.CreateOU("plain")
	if err != nil {
		t.Fatal(err)
	}
	c := srv.Conn(t)
	u := ldap.NewAddRequest("uid=u,"+ou.People, nil)
	u.Attribute("objectClass", []string{"inetOrgPerson"})
	u.Attribute("uid", []string{"u"})
	u.Attribute("cn", []string{"u"})
	u.Attribute("sn", []string{"u"})
	g := ldap.NewAddRequest("cn=g,"+ou.Groups, nil)
	g.Attribute("objectClass", []string{"groupOfNames"})
	g.Attribute("cn", []string{"g"})
	g.Attribute("member", []string{"uid=u," + ou.People})
	for _, req := range []*ldap.AddRequest{u, g} {
		if err := c.Add(req); err != nil {
			t.Fatal(err)
		}
	}
	if e := srv.Entry(t, "uid=u,"+ou.People, "memberOf"); len(e.GetAttributeValues("memberOf")) != 0 {
		t.Fatalf("memberOf maintained without the overlay: %v", e.GetAttributeValues("memberOf"))
	}
}

// TestStock checks the stock directory: memberof and refint work, the
// ppolicy overlay and its attributes are absent, Debian's access rules
// hold, and DenyBindsBelow stops binds below a container.
func TestStock(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a second slapd")
	}
	Shared(t) // skips without slapd
	srv, err := Start(Options{Stock: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	ou, err := srv.CreateOU("stock")
	if err != nil {
		t.Fatal(err)
	}
	c := srv.Conn(t)
	user := func(dn, uid string) *ldap.AddRequest {
		u := ldap.NewAddRequest(dn, nil)
		u.Attribute("objectClass", []string{"inetOrgPerson"})
		u.Attribute("uid", []string{uid})
		u.Attribute("cn", []string{uid})
		u.Attribute("sn", []string{uid})
		u.Attribute("userPassword", []string{"pw-" + uid})
		return u
	}
	dn := "uid=u," + ou.People
	g := ldap.NewAddRequest("cn=g,"+ou.Groups, nil)
	g.Attribute("objectClass", []string{"groupOfNames"})
	g.Attribute("cn", []string{"g"})
	g.Attribute("member", []string{dn})
	for _, req := range []*ldap.AddRequest{user(dn, "u"), g} {
		if err := c.Add(req); err != nil {
			t.Fatal(err)
		}
	}
	if e := srv.Entry(t, dn, "memberOf"); !slices.Equal(e.GetAttributeValues("memberOf"), []string{"cn=g," + ou.Groups}) {
		t.Errorf("memberOf = %v", e.GetAttributeValues("memberOf"))
	}
	lock := ldap.NewModifyRequest(dn, nil)
	lock.Replace("pwdAccountLockedTime", []string{PermanentLock})
	if err := c.Modify(lock); !ldap.IsErrorWithCode(err, ldap.LDAPResultUndefinedAttributeType) {
		t.Errorf("pwdAccountLockedTime on the stock directory: %v, want undefinedAttributeType", err)
	}
	if srv.Entry(t, "ou=policies,"+BaseDN) != nil {
		t.Error("ou=policies exists")
	}
	// refint: a rename is followed in member values.
	if err := c.ModifyDN(ldap.NewModifyDNRequest(dn, "uid=v", true, "")); err != nil {
		t.Fatal(err)
	}
	if e := srv.Entry(t, "cn=g,"+ou.Groups, "member"); !slices.Equal(e.GetAttributeValues("member"), []string{"uid=v," + ou.People}) {
		t.Errorf("member after the rename = %v", e.GetAttributeValues("member"))
	}
	// Debian's rules: anyone reads, nobody but the entry itself reads a password.
	rc, err := srv.DialAs(ReaderDN, ReaderPassword)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	res, err := rc.Search(ldap.NewSearchRequest("uid=v,"+ou.People, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"uid", "userPassword"}, nil))
	if err != nil || len(res.Entries) != 1 || res.Entries[0].GetAttributeValue("uid") != "v" || res.Entries[0].GetAttributeValue("userPassword") != "" {
		t.Errorf("reading as another account: %v %v", res, err)
	}
	// DenyBindsBelow: an entry there does not bind; one elsewhere does.
	disabled := "ou=disabled," + ou.People
	srv.AddOU(t, disabled)
	if err := c.Add(user("uid=w,"+disabled, "w")); err != nil {
		t.Fatal(err)
	}
	srv.DenyBindsBelow(t, disabled)
	if _, err := srv.DialAs("uid=w,"+disabled, "pw-w"); !ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
		t.Errorf("bind below the denied container: %v, want invalidCredentials", err)
	}
	if bc, err := srv.DialAs("uid=v,"+ou.People, "pw-u"); err != nil {
		t.Errorf("bind elsewhere: %v", err)
	} else {
		bc.Close()
	}
}
