package ds389test

import (
	"slices"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

func TestMain(m *testing.M) { Main(m, Options{}) }

func TestServer(t *testing.T) {
	srv := Shared(t)
	t.Logf("instance created and started in %v", srv.StartTime)
	ou := srv.NewOU(t)
	if e := srv.Entry(t, ou.People, "aci"); e == nil || len(e.GetAttributeValues("aci")) != 1 {
		t.Fatalf("people OU missing or without the service ACI: %v", e)
	}
	root := srv.Entry(t, "", "supportedExtension", "vendorVersion", "namingContexts")
	if root == nil {
		t.Fatal("no root DSE")
	}
	if v := root.GetAttributeValue("vendorVersion"); !strings.HasPrefix(v, "389-Directory/") {
		t.Errorf("vendorVersion %q", v)
	}
	t.Logf("server: %s", root.GetAttributeValue("vendorVersion"))
	// The listener is on loopback only.
	if !strings.HasPrefix(srv.URL, "ldap://127.0.0.1:") {
		t.Errorf("URL %s", srv.URL)
	}
}

// TestDirectory checks what the harness promises about the instance: the
// MemberOf plugin, nsUniqueId kept across a rename, nsAccountLock refusing
// binds, and the service account's rights limited to the test OUs.
func TestDirectory(t *testing.T) {
	srv := Shared(t)
	ou := srv.NewOU(t)
	svc, err := ldap.DialURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if err := svc.Bind(ServiceDN, ServicePassword); err != nil {
		t.Fatalf("service bind: %v", err)
	}
	dn := "uid=u," + ou.People
	if err := svc.Add(addReq(dn, attr("objectClass", "inetOrgPerson"), attr("uid", "u"), attr("cn", "U"), attr("sn", "U"),
		attr("userPassword", "pw-u-12345"))); err != nil {
		t.Fatalf("service account adds a user: %v", err)
	}
	gdn := "cn=g," + ou.Groups
	if err := svc.Add(addReq(gdn, attr("objectClass", "groupOfNames"), attr("cn", "g"), attr("member", dn))); err != nil {
		t.Fatalf("service account adds a group: %v", err)
	}
	// The service account reads the operational attributes it needs.
	res, err := svc.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"nsUniqueId", "memberOf", "createTimestamp"}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("service account reads the user: %v", err)
	}
	e := res.Entries[0]
	id := e.GetAttributeValue("nsUniqueId")
	if id == "" || e.GetAttributeValue("createTimestamp") == "" {
		t.Errorf("service account reads nsUniqueId %q createTimestamp %q", id, e.GetAttributeValue("createTimestamp"))
	}
	if m := e.GetAttributeValues("memberOf"); !slices.Equal(m, []string{gdn}) {
		t.Errorf("memberOf = %q, want [%s]", m, gdn)
	}
	// A rename keeps nsUniqueId; the MemberOf plugin follows it.
	if err := svc.ModifyDN(ldap.NewModifyDNRequest(dn, "uid=v", true, "")); err != nil {
		t.Fatalf("service account renames: %v", err)
	}
	dn = "uid=v," + ou.People
	if got := srv.Entry(t, dn, "nsUniqueId").GetAttributeValue("nsUniqueId"); got != id {
		t.Errorf("nsUniqueId after rename %q, want %q", got, id)
	}
	// nsAccountLock: true refuses binds; removing it allows them again.
	if err := srv.Bind(dn, "pw-u-12345"); err != nil {
		t.Fatalf("bind: %v", err)
	}
	lock := ldap.NewModifyRequest(dn, nil)
	lock.Replace("nsAccountLock", []string{"true"})
	if err := svc.Modify(lock); err != nil {
		t.Fatalf("service account locks: %v", err)
	}
	if err := srv.Bind(dn, "pw-u-12345"); err == nil {
		t.Error("a locked account binds")
	} else {
		t.Logf("bind of a locked account: %v", err)
	}
	unlock := ldap.NewModifyRequest(dn, nil)
	unlock.Delete("nsAccountLock", nil)
	if err := svc.Modify(unlock); err != nil {
		t.Fatalf("service account unlocks: %v", err)
	}
	if err := srv.Bind(dn, "pw-u-12345"); err != nil {
		t.Errorf("bind after unlocking: %v", err)
	}
	// Outside the OUs the service account may not write.
	err = svc.Add(addReq("ou=elsewhere,"+BaseDN, attr("objectClass", "organizationalUnit"), attr("ou", "elsewhere")))
	if !ldap.IsErrorWithCode(err, ldap.LDAPResultInsufficientAccessRights) {
		t.Errorf("service account adds outside the OUs: %v, want insufficientAccessRights", err)
	}
}

// TestRestart kills the server and starts it again: the data stays.
func TestRestart(t *testing.T) {
	srv := Shared(t)
	ou := srv.NewOU(t)
	srv.Kill()
	if err := srv.Restart(); err != nil {
		t.Fatalf("restart: %v\n%s", err, srv.Log())
	}
	if srv.Entry(t, ou.Groups) == nil {
		t.Fatal("the OU is gone after a restart")
	}
}

func TestFillPlaceholders(t *testing.T) {
	got := fillPlaceholders("a %x% b %not-a-name% c 50% d %y%", func(n string) string { return "<" + n + ">" })
	if want := "a <x> b %not-a-name% c 50% d <y>"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestReferentialIntegrity starts a second server with the plugin: deleting
// a user removes it from groups and from its reports' manager.
func TestReferentialIntegrity(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a second ns-slapd")
	}
	Shared(t) // skips without 389 DS
	srv, err := Start(Options{ReferentialIntegrity: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	ou, err := srv.CreateOU("refint")
	if err != nil {
		t.Fatal(err)
	}
	c := srv.Conn(t)
	boss, report, gdn := "uid=boss,"+ou.People, "uid=report,"+ou.People, "cn=g,"+ou.Groups
	for _, req := range []*ldap.AddRequest{
		addReq(boss, attr("objectClass", "inetOrgPerson"), attr("uid", "boss"), attr("cn", "B"), attr("sn", "B")),
		addReq(report, attr("objectClass", "inetOrgPerson"), attr("uid", "report"), attr("cn", "R"), attr("sn", "R"), attr("manager", boss)),
		addReq(gdn, attr("objectClass", "groupOfNames"), attr("cn", "g"), attr("member", boss, report)),
	} {
		if err := c.Add(req); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Del(ldap.NewDelRequest(boss, nil)); err != nil {
		t.Fatal(err)
	}
	if m := srv.Entry(t, gdn, "member").GetAttributeValues("member"); !slices.Equal(m, []string{report}) {
		t.Errorf("member after deleting boss: %q", m)
	}
	if m := srv.Entry(t, report, "manager").GetAttributeValues("manager"); len(m) != 0 {
		t.Errorf("manager after deleting boss: %q", m)
	}
}
