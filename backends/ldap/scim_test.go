package ldap_test

// SCIM-level tests: examples/openldap.hcl served by a real scimbridge on
// the package's slapd (with the ppolicy overlay), checked through the SCIM
// API and by reading slapd itself: the example as shipped, and with its
// ppolicy opt-in (deactivation through pwdAccountLockedTime). The shipped
// example on a stock slapd without ppolicy is tested in
// examples/openldap_test.go.

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/scimbridge/scimbridge/backends/kinds"

	"github.com/scimbridge/scimbridge/backends/ldap/ldaptest"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/config"
	"github.com/scimbridge/scimbridge/bridge/scimtest"
)

const (
	coreUser  = "urn:ietf:params:scim:schemas:core:2.0:User"
	coreGroup = "urn:ietf:params:scim:schemas:core:2.0:Group"
	patchOp   = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	entUser   = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
)

// example is examples/openldap.hcl served on a fresh OU.
type example struct {
	srv    *ldaptest.Server
	ou     ldaptest.OU
	bridge *bridgetest.Server
	c      *bridgetest.Client
}

func startOpenLDAPExample(t *testing.T) *example {
	t.Helper()
	srv := ldaptest.Shared(t)
	ou := srv.NewOU(t)
	b := bridgetest.StartFile(t, "../../examples/openldap.hcl", srv.ExampleEnv(ou), kinds.Types())
	return &example{srv: srv, ou: ou, bridge: b, c: bridgetest.NewClient(t, b.URL+"/scim/v2")}
}

// startPPolicyExample serves examples/openldap.hcl with its ppolicy opt-in
// on a fresh OU, with env (ExampleEnv when nil).
func startPPolicyExample(t *testing.T, ou ldaptest.OU, env map[string]string) *example {
	t.Helper()
	srv := ldaptest.Shared(t)
	if env == nil {
		env = srv.ExampleEnv(ou)
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	t.Setenv("SCIMBRIDGE_TOKEN", bridgetest.Token)
	b := bridgetest.Start(t, ldaptest.PPolicyExample(t, "../../examples/openldap.hcl"), kinds.Types())
	return &example{srv: srv, ou: ou, bridge: b, c: bridgetest.NewClient(t, b.URL+"/scim/v2")}
}

// ppolicyTarget is what the ppolicy opt-in stores where.
func ppolicyTarget(c *bridgetest.Client, b *bridgetest.Server) *scimtest.Target {
	return &scimtest.Target{
		Client: c, Backend: b.Backends["openldap"],
		UserName: "uid", GivenName: "givenName", FamilyName: "sn", Email: "mail",
		Active: "pwdAccountLockedTime", ActiveTrue: "", ActiveFalse: ldaptest.PermanentLock,
		// userPassword is never read back: TestOpenLDAPPPolicyOkta checks it with binds.
		EmployeeNumber: "employeeNumber", Manager: "manager", Mobile: "mobile",
		GroupName: "cn", Members: "member",
	}
}

func q(s string) string { return url.QueryEscape(s) }

func sameDN(a, b string) bool {
	pa, err1 := goldap.ParseDN(a)
	pb, err2 := goldap.ParseDN(b)
	return err1 == nil && err2 == nil && pa.EqualFold(pb)
}

func sameDNs(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for _, w := range want {
		if !slices.ContainsFunc(got, func(g string) bool { return sameDN(g, w) }) {
			return false
		}
	}
	return true
}

// bind tries a simple bind as dn.
func bind(t *testing.T, srv *ldaptest.Server, dn, password string) error {
	t.Helper()
	c, err := goldap.DialURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.Bind(dn, password)
}

func str(r *bridgetest.Response, path ...string) string { return bridgetest.Str(r.JSON, path...) }

// TestOpenLDAPPPolicyGolden runs the IdP sequences on the ppolicy opt-in.
func TestOpenLDAPPPolicyGolden(t *testing.T) {
	srv := ldaptest.Shared(t)
	ex := startPPolicyExample(t, srv.NewOU(t), nil)
	scimtest.RunGolden(t, ppolicyTarget(ex.c, ex.bridge))
	// Everything the sequences created they also deleted: only the two
	// OUs' own entries are left, and nothing was written elsewhere.
	if left := ex.srv.Search(t, ex.ou.DN, "(!(objectClass=organizationalUnit))", "1.1"); len(left) != 0 {
		var dns []string
		for _, e := range left {
			dns = append(dns, e.DN)
		}
		t.Errorf("entries left behind: %v", dns)
	}
}

func TestOpenLDAPExampleOktaSpec(t *testing.T) {
	ex := startOpenLDAPExample(t)
	scimtest.SeedForOktaSpec(t, ex.c)
	if res := scimtest.RunOktaSpec(t, ex.c.Base, ex.c.Auth); res.Assertions == 0 {
		t.Fatal("the SPEC test ran no assertion")
	}
	// The SPEC test's users are real inetOrgPerson entries below ou=people.
	for _, e := range ex.srv.Search(t, ex.ou.People, "(objectClass=inetOrgPerson)", "uid", "cn", "sn") {
		if !sameDN(e.DN, "uid="+goldap.EscapeDN(e.GetAttributeValue("uid"))+","+ex.ou.People) ||
			e.GetAttributeValue("cn") == "" || e.GetAttributeValue("sn") == "" {
			t.Errorf("SPEC user stored as %s cn=%q sn=%q", e.DN, e.GetAttributeValue("cn"), e.GetAttributeValue("sn"))
		}
	}
}

// TestOpenLDAPPPolicyOkta runs Okta's provisioning life cycle on the
// ppolicy opt-in and checks each step in slapd itself.
func TestOpenLDAPPPolicyOkta(t *testing.T) {
	ex := startPPolicyExample(t, ldaptest.Shared(t).NewOU(t), nil)
	srv, ou, c := ex.srv, ex.ou, ex.c
	c.Headers = map[string]string{"User-Agent": "Okta SCIM Client 1.0.0"}
	const name = "jane.doe@example.com"
	dn := "uid=" + name + "," + ou.People

	// Assign: existence check, then create.
	r := c.Must(200, "GET", "/Users?filter="+q(`userName eq "`+name+`"`)+"&startIndex=1&count=100", nil)
	if str(r, "totalResults") != "0" {
		t.Fatalf("existence check: %s", r.Body)
	}
	r = c.Must(201, "POST", "/Users", map[string]any{
		"schemas": []string{coreUser, entUser}, "userName": name,
		"name":         map[string]any{"givenName": "Jane", "familyName": "Doe"},
		"emails":       []any{map[string]any{"primary": true, "type": "work", "value": name}},
		"phoneNumbers": []any{map[string]any{"type": "work", "value": "+1 555 0101"}},
		"title":        "Analyst", "locale": "en-US", "externalId": "00u1abcd", "groups": []any{},
		"password": "Init-Passw0rd!", "active": true,
		entUser: map[string]any{"employeeNumber": "42", "department": "Finance"},
	})
	uid := str(r, "id")
	e := srv.Entry(t, dn, "*", "entryUUID", "pwdAccountLockedTime")
	if e == nil {
		t.Fatalf("%s not in the directory after create: %s", dn, r.Body)
	}
	for attr, want := range map[string]string{
		"entryUUID": uid, "uid": name, "givenName": "Jane", "sn": "Doe", "cn": "Jane Doe", "mail": name,
		"telephoneNumber": "+1 555 0101", "title": "Analyst", "employeeNumber": "42", "departmentNumber": "Finance",
		"pwdAccountLockedTime": "",
	} {
		if got := e.GetAttributeValue(attr); got != want {
			t.Errorf("after create: %s = %q, want %q", attr, got, want)
		}
	}
	if !slices.ContainsFunc(e.GetAttributeValues("objectClass"), func(s string) bool { return strings.EqualFold(s, "inetOrgPerson") }) {
		t.Errorf("objectClass %v", e.GetAttributeValues("objectClass"))
	}
	if pw := e.GetAttributeValue("userPassword"); !strings.HasPrefix(pw, "{SSHA}") {
		t.Errorf("userPassword stored as %q, want a {SSHA} hash", pw)
	}
	if err := bind(t, srv, dn, "Init-Passw0rd!"); err != nil {
		t.Errorf("bind with the initial password: %v", err)
	}

	// Profile update: GET, then PUT the whole object back with a new password.
	got := c.Must(200, "GET", "/Users/"+uid, nil).JSON
	got["name"].(map[string]any)["familyName"] = "Smith"
	got["displayName"] = "Jane Smith (Finance)"
	got["password"] = "N3w-Passw0rd!"
	c.Must(200, "PUT", "/Users/"+uid, got)
	e = srv.Entry(t, dn, "sn", "cn", "displayName", "mail")
	if e.GetAttributeValue("sn") != "Smith" || !slices.Equal(e.GetAttributeValues("cn"), []string{"Jane Smith (Finance)"}) ||
		e.GetAttributeValue("displayName") != "Jane Smith (Finance)" || e.GetAttributeValue("mail") != name {
		t.Errorf("after PUT: sn=%q cn=%q displayName=%q mail=%q", e.GetAttributeValue("sn"), e.GetAttributeValues("cn"),
			e.GetAttributeValue("displayName"), e.GetAttributeValue("mail"))
	}
	if err := bind(t, srv, dn, "N3w-Passw0rd!"); err != nil {
		t.Errorf("bind with the password set by PUT: %v", err)
	}
	if err := bind(t, srv, dn, "Init-Passw0rd!"); err == nil {
		t.Error("the old password still binds")
	}

	// Deactivate: locked for good, binds refused; reactivate: unlocked.
	setActive := func(active bool) {
		t.Helper()
		r := c.Must(200, "PATCH", "/Users/"+uid, map[string]any{"schemas": []string{patchOp},
			"Operations": []any{map[string]any{"op": "replace", "value": map[string]any{"active": active}}}})
		if str(r, "active") != fmt.Sprint(active) {
			t.Errorf("PATCH active=%v answered %s", active, r.Body)
		}
	}
	setActive(false)
	if v := srv.Entry(t, dn, "pwdAccountLockedTime").GetAttributeValue("pwdAccountLockedTime"); v != ldaptest.PermanentLock {
		t.Errorf("deactivated: pwdAccountLockedTime = %q", v)
	}
	if err := bind(t, srv, dn, "N3w-Passw0rd!"); !goldap.IsErrorWithCode(err, goldap.LDAPResultInvalidCredentials) {
		t.Errorf("bind of a deactivated user: %v, want invalidCredentials", err)
	}
	if r := c.Must(200, "GET", "/Users?filter="+q(`active eq false`), nil); str(r, "totalResults") != "1" {
		t.Errorf("active eq false: %s", r.Body)
	}
	setActive(true)
	if v := srv.Entry(t, dn, "pwdAccountLockedTime").GetAttributeValues("pwdAccountLockedTime"); len(v) != 0 {
		t.Errorf("reactivated: pwdAccountLockedTime = %q", v)
	}
	if err := bind(t, srv, dn, "N3w-Passw0rd!"); err != nil {
		t.Errorf("bind after reactivation: %v", err)
	}

	// A second user, and a manager reference stored as a DN.
	const bobName = "bob.roe@example.com"
	bobDN := "uid=" + bobName + "," + ou.People
	bob := str(c.Must(201, "POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": bobName,
		"name": map[string]any{"givenName": "Bob", "familyName": "Roe"}}), "id")
	c.Must(200, "PATCH", "/Users/"+uid, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "add", "path": entUser + ":manager", "value": bob}}})
	if m := srv.Entry(t, dn, "manager").GetAttributeValue("manager"); !sameDN(m, bobDN) {
		t.Errorf("manager stored as %q, want %s", m, bobDN)
	}
	if r := c.Must(200, "GET", "/Users/"+uid, nil); str(r, entUser, "manager", "value") != bob {
		t.Errorf("manager read back: %s", r.Body)
	}

	// Group push: an empty group holds only the placeholder.
	if r := c.Must(200, "GET", "/Groups?filter="+q(`displayName eq "Finance"`), nil); str(r, "totalResults") != "0" {
		t.Fatalf("group existence check: %s", r.Body)
	}
	gid := str(c.Must(201, "POST", "/Groups", map[string]any{"schemas": []string{coreGroup}, "displayName": "Finance", "members": []any{}}), "id")
	gdn := "cn=Finance," + ou.Groups
	ge := srv.Entry(t, gdn, "member", "entryUUID")
	if ge == nil || ge.GetAttributeValue("entryUUID") != gid {
		t.Fatalf("group entry %s: %v", gdn, ge)
	}
	if m := ge.GetAttributeValues("member"); len(m) != 1 || !sameDN(m[0], "cn=nobody,"+ou.DN) {
		t.Errorf("empty group member values %q, want only the placeholder", m)
	}
	if r := c.Must(200, "GET", "/Groups/"+gid, nil); strings.Contains(string(r.Body), "nobody") {
		t.Errorf("the placeholder is shown: %s", r.Body)
	}

	// Membership changes, each with Okta's path-less rename.
	groupPatch := func(displayName string, ops ...any) {
		t.Helper()
		all := append([]any{map[string]any{"op": "replace", "value": map[string]any{"id": gid, "displayName": displayName}}}, ops...)
		r := c.Do("PATCH", "/Groups/"+gid, map[string]any{"schemas": []string{patchOp}, "Operations": all})
		if r.Status != 200 && r.Status != 204 {
			t.Fatalf("group PATCH: %d %s", r.Status, r.Body)
		}
	}
	members := func(groupDN string, want ...string) {
		t.Helper()
		e := srv.Entry(t, groupDN, "member")
		if e == nil {
			t.Fatalf("group %s missing", groupDN)
		}
		if got := e.GetAttributeValues("member"); !sameDNs(got, want) {
			t.Errorf("member values of %s = %q, want %q", groupDN, got, want)
		}
	}
	memberOf := func(userDN string, want ...string) {
		t.Helper()
		if got := srv.Entry(t, userDN, "memberOf").GetAttributeValues("memberOf"); !sameDNs(got, want) {
			t.Errorf("memberOf of %s = %q, want %q", userDN, got, want)
		}
	}
	groupPatch("Finance", map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": uid, "display": name}}})
	members(gdn, dn)
	memberOf(dn, gdn)
	groupPatch("Finance", map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": bob, "display": bobName}}})
	members(gdn, dn, bobDN)
	groupPatch("Finance", map[string]any{"op": "remove", "path": `members[value eq "` + uid + `"]`})
	members(gdn, bobDN)
	memberOf(dn)
	groupPatch("Finance", map[string]any{"op": "replace", "path": "members", "value": []any{map[string]any{"value": uid}, map[string]any{"value": bob}}})
	members(gdn, dn, bobDN)
	if r := c.Must(200, "GET", "/Users/"+uid, nil); !strings.Contains(string(r.Body), gid) {
		t.Errorf("the user's groups do not list %s: %s", gid, r.Body)
	}

	// Rename the group: modrdn, same id, same members.
	groupPatch("Finance & Controlling")
	newGDN := "cn=" + goldap.EscapeDN("Finance & Controlling") + "," + ou.Groups
	if srv.Entry(t, gdn) != nil {
		t.Errorf("%s still exists after the rename", gdn)
	}
	if e := srv.Entry(t, newGDN, "entryUUID", "cn"); e == nil || e.GetAttributeValue("entryUUID") != gid ||
		!slices.Equal(e.GetAttributeValues("cn"), []string{"Finance & Controlling"}) {
		t.Fatalf("renamed group: %v", e)
	}
	members(newGDN, dn, bobDN)
	memberOf(dn, newGDN)
	memberOf(bobDN, newGDN)

	// Import: every user once, in pages, with a stable total.
	for i := range 5 {
		c.Must(201, "POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": fmt.Sprintf("import%d@example.com", i),
			"name": map[string]any{"givenName": "Im", "familyName": fmt.Sprint("Port", i)}})
	}
	seen := map[string]bool{}
	for start := 1; start < 100; start += 3 {
		r := c.Must(200, "GET", fmt.Sprintf("/Users?startIndex=%d&count=3", start), nil)
		if str(r, "totalResults") != "7" {
			t.Fatalf("page at %d: totalResults %s", start, str(r, "totalResults"))
		}
		res, _ := r.JSON["Resources"].([]any)
		if len(res) == 0 {
			break
		}
		for _, x := range res {
			id := bridgetest.Str(x.(map[string]any), "id")
			if seen[id] {
				t.Errorf("import returned %s twice", id)
			}
			seen[id] = true
		}
	}
	if len(seen) != 7 || !seen[uid] || !seen[bob] {
		t.Errorf("import saw %d users, want 7", len(seen))
	}

	// Group delete: the entry and the users' memberOf values go.
	c.Must(204, "DELETE", "/Groups/"+gid, nil)
	if srv.Entry(t, newGDN) != nil {
		t.Errorf("%s still exists", newGDN)
	}
	memberOf(dn)
	memberOf(bobDN)
	c.Must(404, "GET", "/Groups/"+gid, nil)
}

// TestOpenLDAPExampleUserShapes checks the cn/sn rules of inetOrgPerson.
func TestOpenLDAPExampleUserShapes(t *testing.T) {
	ex := startOpenLDAPExample(t)
	c := ex.c
	// userName and name only: cn is "given family".
	c.Must(201, "POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": "minimal",
		"name": map[string]any{"givenName": "Min", "familyName": "Imal"}})
	e := ex.srv.Entry(t, "uid=minimal,"+ex.ou.People, "cn", "sn", "givenName", "displayName")
	if e == nil || !slices.Equal(e.GetAttributeValues("cn"), []string{"Min Imal"}) || e.GetAttributeValue("sn") != "Imal" {
		t.Fatalf("minimal user stored as %v", e)
	}
	// familyName only: cn is the family name.
	id := str(c.Must(201, "POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": "family.only",
		"name": map[string]any{"familyName": "Only"}}), "id")
	if e := ex.srv.Entry(t, "uid=family.only,"+ex.ou.People, "cn"); !slices.Equal(e.GetAttributeValues("cn"), []string{"Only"}) {
		t.Errorf("family-only user cn %q", e.GetAttributeValues("cn"))
	}
	// A display name becomes cn, and cn follows it.
	c.Must(200, "PATCH", "/Users/"+id, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "add", "path": "displayName", "value": "The Only One"}}})
	if e := ex.srv.Entry(t, "uid=family.only,"+ex.ou.People, "cn", "displayName"); !slices.Equal(e.GetAttributeValues("cn"), []string{"The Only One"}) ||
		e.GetAttributeValue("displayName") != "The Only One" {
		t.Errorf("after setting displayName: cn %q displayName %q", e.GetAttributeValues("cn"), e.GetAttributeValue("displayName"))
	}
	// No family name: sn and cn are the userName, and the answer shows no
	// family name, as none was sent.
	r := c.Must(201, "POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": "no.sn"})
	if _, ok := r.JSON["name"]; ok {
		t.Errorf("user without a family name answered %s", r.Body)
	}
	if e := ex.srv.Entry(t, "uid=no.sn,"+ex.ou.People, "sn", "cn"); e == nil || e.GetAttributeValue("sn") != "no.sn" ||
		!slices.Equal(e.GetAttributeValues("cn"), []string{"no.sn"}) {
		t.Errorf("user without a family name stored as %v", e)
	}
}

// TestOpenLDAPExampleRename: a new userName renames the entry; the id and
// the group memberships stay.
func TestOpenLDAPExampleRename(t *testing.T) {
	ex := startOpenLDAPExample(t)
	srv, ou, c := ex.srv, ex.ou, ex.c
	uid := str(c.Must(201, "POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": "old.name",
		"name": map[string]any{"givenName": "Re", "familyName": "Name"}}), "id")
	other := str(c.Must(201, "POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": "report",
		"name": map[string]any{"givenName": "Re", "familyName": "Port"}}), "id")
	c.Must(200, "PATCH", "/Users/"+other, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "add", "path": entUser + ":manager", "value": uid}}})
	var gids []string
	for _, g := range []string{"Alpha", "Beta"} {
		gids = append(gids, str(c.Must(201, "POST", "/Groups", map[string]any{"schemas": []string{coreGroup}, "displayName": g,
			"members": []any{map[string]any{"value": uid}}}), "id"))
	}
	check := func(how, userName string, gone ...string) {
		t.Helper()
		dn := "uid=" + goldap.EscapeDN(userName) + "," + ou.People
		e := srv.Entry(t, dn, "entryUUID", "uid", "memberOf")
		if e == nil || e.GetAttributeValue("entryUUID") != uid {
			t.Fatalf("%s: %s missing or with another entryUUID: %v", how, dn, e)
		}
		if !slices.Equal(e.GetAttributeValues("uid"), []string{userName}) {
			t.Errorf("%s: uid values %q (the old RDN value must go)", how, e.GetAttributeValues("uid"))
		}
		for _, old := range gone {
			if srv.Entry(t, "uid="+goldap.EscapeDN(old)+","+ou.People) != nil {
				t.Errorf("%s: uid=%s still exists", how, old)
			}
			if r := c.Must(200, "GET", "/Users?filter="+q(`userName eq "`+old+`"`), nil); str(r, "totalResults") != "0" {
				t.Errorf("%s: the old userName is still found: %s", how, r.Body)
			}
		}
		r := c.Must(200, "GET", "/Users/"+uid, nil)
		if str(r, "id") != uid || str(r, "userName") != userName {
			t.Errorf("%s: GET answered %s", how, r.Body)
		}
		for _, gid := range gids {
			if !strings.Contains(string(r.Body), gid) {
				t.Errorf("%s: the user's groups lose %s: %s", how, gid, r.Body)
			}
			g := c.Must(200, "GET", "/Groups/"+gid, nil)
			if !strings.Contains(string(g.Body), `"value":"`+uid+`"`) {
				t.Errorf("%s: group %s does not list the user: %s", how, gid, g.Body)
			}
		}
		for _, ge := range srv.Search(t, ou.Groups, "(objectClass=groupOfNames)", "member") {
			if got := ge.GetAttributeValues("member"); !sameDNs(got, []string{dn}) {
				t.Errorf("%s: %s member values %q, want [%s]", how, ge.DN, got, dn)
			}
		}
		if m := srv.Entry(t, "uid=report,"+ou.People, "manager").GetAttributeValue("manager"); !sameDN(m, dn) {
			t.Errorf("%s: the report's manager is %q, want %s", how, m, dn)
		}
		if r := c.Must(200, "GET", "/Users?filter="+q(`userName eq "`+userName+`"`), nil); str(r, "totalResults") != "1" {
			t.Errorf("%s: the new userName is not found: %s", how, r.Body)
		}
	}
	check("create", "old.name")

	c.Must(200, "PATCH", "/Users/"+uid, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "replace", "path": "userName", "value": "patched.name"}}})
	check("PATCH userName", "patched.name", "old.name")

	got := c.Must(200, "GET", "/Users/"+uid, nil).JSON
	got["userName"] = "put, name+x=y"
	c.Must(200, "PUT", "/Users/"+uid, got)
	check("PUT userName", "put, name+x=y", "patched.name")

	// A rename onto an existing userName is a conflict and changes nothing.
	r := c.Do("PATCH", "/Users/"+uid, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "replace", "path": "userName", "value": "report"}}})
	if r.Status != 409 {
		t.Errorf("rename onto an existing userName: %d %s, want 409", r.Status, r.Body)
	}
	// The body names the SCIM attribute and value, never a DN (issue #9).
	if d := str(r, "detail"); !strings.HasPrefix(d, `userName "report" is already taken`) || strings.Contains(string(r.Body), "dc=") ||
		strings.Contains(string(r.Body), "uid=") {
		t.Errorf("rename conflict: %s", r.Body)
	}
	// So does a create of a taken name.
	r = c.Do("POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": "report", "name": map[string]any{"familyName": "R"}})
	if d := str(r, "detail"); r.Status != 409 || !strings.HasPrefix(d, `userName "report" is already taken`) || strings.Contains(string(r.Body), "dc=") {
		t.Errorf("create of a taken userName: %d %s", r.Status, r.Body)
	}
	check("refused rename", "put, name+x=y")
}

// TestOpenLDAPExampleInjection sends LDAP filter and DN syntax through
// every SCIM input that reaches the directory.
func TestOpenLDAPExampleInjection(t *testing.T) {
	ex := startOpenLDAPExample(t)
	srv, ou, c := ex.srv, ex.ou, ex.c

	// The whole tree outside this test's OU, to compare at the end.
	outside := func() map[string]string {
		out := map[string]string{}
		for _, e := range srv.Search(t, ldaptest.BaseDN, "(objectClass=*)", "modifyTimestamp", "entryCSN") {
			if p, err := goldap.ParseDN(e.DN); err == nil {
				if b, _ := goldap.ParseDN(ou.DN); b.AncestorOfFold(p) || b.EqualFold(p) {
					continue
				}
			}
			out[strings.ToLower(e.DN)] = e.GetAttributeValue("entryCSN")
		}
		return out
	}
	before := outside()
	adminOrg := srv.Entry(t, ldaptest.BaseDN, "entryUUID").GetAttributeValue("entryUUID")
	reader := srv.Entry(t, ldaptest.ReaderDN, "entryUUID").GetAttributeValue("entryUUID")

	normal := map[string]string{}
	for _, n := range []string{"alice", "bob", "carol"} {
		normal[n] = str(c.Must(201, "POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": n,
			"name": map[string]any{"givenName": n, "familyName": "Normal"}, "displayName": n,
			"emails": []any{map[string]any{"type": "work", "value": n + "@example.org"}}}), "id")
	}
	payloads := []string{
		"*", "a*", "*)(uid=*", ")(", "*)(|(objectClass=*)", "x)(objectClass=*", `\2a`, `\00`, "nul\x00byte",
		",cn=admin", "x,cn=admin,dc=example,dc=org", "x,ou=groups," + ou.DN, "a+cn=b", "a,b", "a=b", "#hash",
		" lead", "trail ", `back\slash`, `"quoted"`, "<angle>", "semi;colon", "uid=alice," + ou.People,
	}
	created := map[string]string{} // payload -> id
	for _, p := range payloads {
		// The family name differs from the userName: one equal to it would
		// read back as none (it is what the example's default writes).
		r := c.Do("POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": p,
			"name": map[string]any{"givenName": p, "familyName": "Fam" + p}, "displayName": p})
		switch r.Status {
		case 201:
			created[p] = str(r, "id")
			if str(r, "userName") != p {
				t.Errorf("userName %q answered as %q", p, str(r, "userName"))
			}
		case 400, 409:
			t.Logf("userName %q refused: %d %s", p, r.Status, str(r, "detail"))
		default:
			t.Errorf("POST userName %q: %d %s", p, r.Status, r.Body)
		}
		// Groups are named by cn: the same payloads as displayName.
		r = c.Do("POST", "/Groups", map[string]any{"schemas": []string{coreGroup}, "displayName": p})
		if r.Status != 201 && r.Status != 400 && r.Status != 409 {
			t.Errorf("POST group %q: %d %s", p, r.Status, r.Body)
		}
	}
	if len(created) < len(payloads)/2 {
		t.Errorf("only %d of %d payloads were accepted as userNames; the escaping refuses too much", len(created), len(payloads))
	}
	// Every entry sits directly below its base, named by exactly its value.
	placed := 0
	for base, attr := range map[string]string{ou.People: "uid", ou.Groups: "cn"} {
		b, _ := goldap.ParseDN(base)
		for _, e := range srv.Search(t, base, "(|(objectClass=inetOrgPerson)(objectClass=groupOfNames))", attr) {
			placed++
			p, err := goldap.ParseDN(e.DN)
			if err != nil || len(p.RDNs) != len(b.RDNs)+1 || !b.AncestorOfFold(p) || len(p.RDNs[0].Attributes) != 1 ||
				!strings.EqualFold(p.RDNs[0].Attributes[0].Type, attr) || !slices.Contains(e.GetAttributeValues(attr), p.RDNs[0].Attributes[0].Value) {
				t.Errorf("entry %s is not <%s=value> directly below %s", e.DN, attr, base)
			}
		}
	}
	if all := srv.Search(t, ou.DN, "(|(objectClass=inetOrgPerson)(objectClass=groupOfNames))", "1.1"); len(all) != placed {
		t.Errorf("%d entries in the OU, %d of them below the base DNs", len(all), placed)
	}
	// Filters match literally: each payload finds at most its own user.
	for _, p := range payloads {
		want := "0"
		if created[p] != "" {
			want = "1"
		}
		for _, f := range []string{`userName eq "%s"`, `displayName eq "%s"`, `name.familyName eq "Fam%s"`, `name.givenName eq "%s"`} {
			filter := fmt.Sprintf(f, strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(p))
			r := c.Do("GET", "/Users?filter="+q(filter), nil)
			if r.Status == 400 {
				continue // refused by the SCIM filter parser: nothing ran
			}
			if r.Status != 200 || str(r, "totalResults") != want {
				t.Errorf("filter %s: %d totalResults %s, want %s: %s", filter, r.Status, str(r, "totalResults"), want, r.Body)
			}
		}
		for _, op := range []string{"sw", "co", "ew"} {
			filter := fmt.Sprintf(`userName %s "%s"`, op, strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(p))
			r := c.Do("GET", "/Users?filter="+q(filter), nil)
			if r.Status == 400 {
				continue
			}
			if r.Status != 200 {
				t.Errorf("filter %s: %d %s", filter, r.Status, r.Body)
				continue
			}
			res, _ := r.JSON["Resources"].([]any)
			for _, x := range res {
				un := bridgetest.Str(x.(map[string]any), "userName")
				lu, lp := strings.ToLower(un), strings.ToLower(p)
				ok := map[string]bool{"sw": strings.HasPrefix(lu, lp), "co": strings.Contains(lu, lp), "ew": strings.HasSuffix(lu, lp)}[op]
				if !ok {
					t.Errorf("filter %s matched %q", filter, un)
				}
			}
		}
	}
	for _, f := range []string{`emails.value eq "*"`, `emails[type eq "work" and value eq "*)(mail=*"].value eq "x"`, `userName pr and userName eq "*)(uid=*x"`} {
		r := c.Do("GET", "/Users?filter="+q(f), nil)
		if r.Status == 200 && str(r, "totalResults") != "0" {
			t.Errorf("filter %s: %s", f, r.Body)
		}
	}

	// Member ids: nothing that is not the id of a user of this endpoint is
	// accepted, and nothing changes.
	gid := str(c.Must(201, "POST", "/Groups", map[string]any{"schemas": []string{coreGroup}, "displayName": "Target",
		"members": []any{map[string]any{"value": normal["alice"]}}}), "id")
	gdn := "cn=Target," + ou.Groups
	badIDs := []string{"*", ")(", "*)(member=*", `\00`, "nul\x00", ",cn=admin", "cn=admin,dc=example,dc=org", ldaptest.AdminDN,
		"uid=bob," + ou.People, "a+b", "a,b", "a=b", "00000000-0000-0000-0000-000000000000",
		reader, adminOrg, gid, strings.ToUpper(normal["bob"]) + "x", normal["bob"] + ")(",
	}
	for _, bad := range badIDs {
		for _, body := range []map[string]any{
			{"schemas": []string{patchOp}, "Operations": []any{map[string]any{"op": "add", "path": "members",
				"value": []any{map[string]any{"value": normal["carol"]}, map[string]any{"value": bad}}}}},
			{"schemas": []string{patchOp}, "Operations": []any{map[string]any{"op": "replace", "path": "members",
				"value": []any{map[string]any{"value": bad}}}}},
		} {
			r := c.Do("PATCH", "/Groups/"+gid, body)
			if r.Status != 400 || str(r, "scimType") != "invalidValue" {
				t.Errorf("member id %q: %d %s, want 400 invalidValue", bad, r.Status, r.Body)
			}
		}
		r := c.Do("POST", "/Groups", map[string]any{"schemas": []string{coreGroup}, "displayName": "New " + fmt.Sprint(len(bad)),
			"members": []any{map[string]any{"value": bad}}})
		if r.Status != 400 || str(r, "scimType") != "invalidValue" {
			t.Errorf("create with member id %q: %d %s, want 400 invalidValue", bad, r.Status, r.Body)
		}
		// A filtered remove with the payload removes nothing.
		r = c.Do("PATCH", "/Groups/"+gid, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
			map[string]any{"op": "remove", "path": `members[value eq "` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(bad) + `"]`}}})
		if r.Status >= 500 {
			t.Errorf("remove member %q: %d %s", bad, r.Status, r.Body)
		}
		// The manager leaves it out (unknown_manager = "ignore", the
		// default): the PATCH succeeds and no manager is written (checked
		// below).
		r = c.Do("PATCH", "/Users/"+normal["carol"], map[string]any{"schemas": []string{patchOp}, "Operations": []any{
			map[string]any{"op": "add", "path": entUser + ":manager", "value": bad}}})
		if strings.ContainsRune(bad, 0) {
			if r.Status != 400 { // no text with NUL is accepted anywhere
				t.Errorf("manager id %q: %d %s, want 400", bad, r.Status, r.Body)
			}
		} else if r.Status != 200 || strings.Contains(string(r.Body), `"manager"`) {
			t.Errorf("manager id %q: %d %s, want 200 without a manager", bad, r.Status, r.Body)
		}
		// Reading by such an id finds nothing.
		if r := c.Do("GET", "/Users/"+url.PathEscape(bad), nil); r.Status != 404 && r.Status != 400 {
			t.Errorf("GET /Users/%q: %d %s", bad, r.Status, r.Body)
		}
		if r := c.Do("GET", "/Users?filter="+q(`id eq "`+strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(bad)+`"`), nil); r.Status == 200 && str(r, "totalResults") != "0" {
			t.Errorf("id eq %q: %s", bad, r.Body)
		}
	}
	if got := srv.Entry(t, gdn, "member").GetAttributeValues("member"); !sameDNs(got, []string{"uid=alice," + ou.People}) {
		t.Errorf("member values of %s after the refused changes: %q", gdn, got)
	}
	if m := srv.Entry(t, "uid=carol,"+ou.People, "manager").GetAttributeValues("manager"); len(m) != 0 {
		t.Errorf("carol's manager after the refused changes: %q", m)
	}
	// Renames with DN syntax stay in place.
	for _, p := range []string{"evil,ou=groups," + ou.DN, "x+objectClass=top", "..", "cn=admin,dc=example,dc=org"} {
		r := c.Do("PATCH", "/Users/"+normal["bob"], map[string]any{"schemas": []string{patchOp}, "Operations": []any{
			map[string]any{"op": "replace", "path": "userName", "value": p}}})
		if r.Status != 200 {
			if r.Status >= 500 {
				t.Errorf("rename to %q: %d %s", p, r.Status, r.Body)
			}
			continue
		}
		e := srv.Search(t, ou.DN, "(entryUUID="+normal["bob"]+")", "uid")
		if len(e) != 1 || !sameDN(e[0].DN, "uid="+goldap.EscapeDN(p)+","+ou.People) {
			t.Errorf("rename to %q placed the entry at %v", p, e)
		}
	}
	// Nothing outside this OU was created, changed or removed.
	after := outside()
	for dn, csn := range before {
		if a, ok := after[dn]; !ok || a != csn {
			t.Errorf("%s changed outside the base DNs", dn)
		}
	}
	for dn := range after {
		if _, ok := before[dn]; !ok {
			t.Errorf("%s was created outside the base DNs", dn)
		}
	}
}

// TestExamplesValidate loads both LDAP examples as `scimbridge validate`
// does (389ds.hcl runs against a real 389 DS in examples/ds389_test.go).
func TestExamplesValidate(t *testing.T) {
	for _, f := range []string{"openldap.hcl", "389ds.hcl"} {
		t.Run(f, func(t *testing.T) {
			t.Setenv("LDAP_URL", "ldaps://ldap.example.org:636")
			t.Setenv("LDAP_BIND_DN", "cn=Directory Manager")
			t.Setenv("LDAP_BIND_PASSWORD", "secret")
			t.Setenv("LDAP_BASE_DN", "dc=example,dc=org")
			t.Setenv("SCIMBRIDGE_TOKEN", bridgetest.Token)
			cfg, diags := config.Load("../../examples/"+f, kinds.Types(), nil)
			if diags.HasErrors() {
				t.Fatalf("%s: %s", f, diags.Error())
			}
			for _, d := range diags {
				t.Errorf("%s: warning: %s", f, d.Error())
			}
			if len(cfg.Endpoints) != 1 || len(cfg.Backends) != 1 {
				t.Errorf("%s: %d endpoints, %d backends", f, len(cfg.Endpoints), len(cfg.Backends))
			}
		})
	}
}

// TestOpenLDAPMetrics: the bridge's registry carries the LDAP backend's
// metrics, labelled with the backend's name from openldap.hcl.
func TestOpenLDAPMetrics(t *testing.T) {
	ex := startOpenLDAPExample(t)
	c := ex.c
	uid := str(c.Must(201, "POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": "metered",
		"name": map[string]any{"givenName": "M", "familyName": "Etered"}}), "id")
	c.Must(200, "GET", "/Users/"+uid, nil)
	c.Must(200, "GET", "/Users/"+uid, nil)
	value := func(name string, labels map[string]string) (float64, bool) { return ex.bridge.Metric(t, name, labels) }
	for _, tc := range []struct {
		name   string
		labels map[string]string
		min    float64
	}{
		{"scimbridge_ldap_calls_total", map[string]string{"backend": "openldap", "result": "success"}, 3},
		{"scimbridge_ldap_call_duration_seconds", map[string]string{"backend": "openldap"}, 3},
		{"scimbridge_ldap_dials_total", map[string]string{"backend": "openldap", "result": "success"}, 1},
		{"scimbridge_ldap_id_cache_lookups_total", map[string]string{"backend": "openldap", "result": "hit"}, 1},
		{"scimbridge_ldap_pool_size", map[string]string{"backend": "openldap"}, 8},
		{"scimbridge_ldap_pool_idle", map[string]string{"backend": "openldap"}, 1},
		{"scimbridge_ldap_entries_read_total", map[string]string{"backend": "openldap"}, 1},
	} {
		if v, ok := value(tc.name, tc.labels); !ok || v < tc.min {
			t.Errorf("%s%v = %v (found %v), want at least %v", tc.name, tc.labels, v, ok, tc.min)
		}
	}
	if v, ok := value("scimbridge_ldap_pool_in_use", map[string]string{"backend": "openldap"}); !ok || v != 0 {
		t.Errorf("scimbridge_ldap_pool_in_use = %v (found %v) with no request running", v, ok)
	}
}

// TestOpenLDAPPPolicyServiceAccount serves the ppolicy opt-in bound as a
// service account that has only the olcAccess rules the example's header
// documents (write below the two OUs), not as the rootdn, and runs the
// golden IdP sequences (creates with passwords, deactivation through
// pwdAccountLockedTime, group pushes, renames, deletes) and Okta's life
// cycle through it.
func TestOpenLDAPPPolicyServiceAccount(t *testing.T) {
	srv := ldaptest.Shared(t)
	ou := srv.NewOU(t)
	srv.GrantService(t, ou)
	srv.LiftServiceLimits(t)
	env := srv.ExampleEnv(ou)
	env["LDAP_BIND_DN"], env["LDAP_BIND_PASSWORD"] = ldaptest.ServiceDN, ldaptest.ServicePassword
	ex := startPPolicyExample(t, ou, env)
	c := ex.c
	scimtest.RunGolden(t, ppolicyTarget(c, ex.bridge))
	// A password set through SCIM binds; deactivation locks it.
	uid := str(c.Must(201, "POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": "svc.user",
		"name": map[string]any{"givenName": "S", "familyName": "User"}, "password": "Svc-Passw0rd!"}), "id")
	dn := "uid=svc.user," + ou.People
	if err := bind(t, srv, dn, "Svc-Passw0rd!"); err != nil {
		t.Fatalf("bind with the password set as the service account: %v", err)
	}
	c.Must(200, "PATCH", "/Users/"+uid, map[string]any{"schemas": []string{patchOp},
		"Operations": []any{map[string]any{"op": "replace", "value": map[string]any{"active": false}}}})
	if got := srv.Entry(t, dn, "pwdAccountLockedTime").GetAttributeValue("pwdAccountLockedTime"); got != ldaptest.PermanentLock {
		t.Fatalf("pwdAccountLockedTime = %q after deactivation", got)
	}
	if err := bind(t, srv, dn, "Svc-Passw0rd!"); err == nil {
		t.Fatal("a deactivated user still binds")
	}
	// The account's rights end at the OU: it cannot write elsewhere.
	other := srv.NewOU(t)
	sc, err := srv.DialAs(ldaptest.ServiceDN, ldaptest.ServicePassword)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	add := goldap.NewAddRequest("uid=intruder,"+other.People, nil)
	add.Attribute("objectClass", []string{"inetOrgPerson"})
	add.Attribute("uid", []string{"intruder"})
	add.Attribute("cn", []string{"x"})
	add.Attribute("sn", []string{"x"})
	if err := sc.Add(add); !goldap.IsErrorWithCode(err, goldap.LDAPResultInsufficientAccessRights) {
		t.Fatalf("service account adding outside its OU: %v, want insufficientAccessRights", err)
	}
}

// TestOpenLDAPExampleAnswers: every write's answer is what a GET right
// after it returns, body and ETag (the user's groups from memberOf, the
// manager's DN as an id), on the example as shipped and with a
// multi-valued attribute mapped (roles as employeeType values).
func TestOpenLDAPExampleAnswers(t *testing.T) {
	t.Run("shipped", func(t *testing.T) {
		ex := startOpenLDAPExample(t)
		scimtest.RunAnswers(t, ex.c, scimtest.AnswerMapping{Groups: true, Manager: true})
	})
	t.Run("roles", func(t *testing.T) {
		srv := ldaptest.Shared(t)
		ou := srv.NewOU(t)
		for k, v := range srv.ExampleEnv(ou) {
			t.Setenv(k, v)
		}
		t.Setenv("SCIMBRIDGE_TOKEN", bridgetest.Token)
		mapped := `attribute "groups.value"      { native = "memberOf" }`
		b := bridgetest.Start(t, bridgetest.EditFile(t, "../../examples/openldap.hcl",
			[2]string{mapped, mapped + "\n    attribute \"roles.value\"       { native = \"employeeType\" }"}), kinds.Types())
		scimtest.RunAnswers(t, bridgetest.NewClient(t, b.URL+"/scim/v2"), scimtest.AnswerMapping{Groups: true, Manager: true, Roles: true})
	})
}

// TestPPolicyValidateLive: validate --live passes the ppolicy opt-in of
// examples/openldap.hcl on a slapd with the ppolicy overlay, write probe
// included (the same file on a stock slapd is refused: examples/live_test.go).
func TestPPolicyValidateLive(t *testing.T) {
	srv := ldaptest.Shared(t)
	for k, v := range srv.ExampleEnv(srv.NewOU(t)) {
		t.Setenv(k, v)
	}
	t.Setenv("SCIMBRIDGE_TOKEN", bridgetest.Token)
	text := ldaptest.PPolicyExample(t, "../../examples/openldap.hcl")
	bridgetest.ExpectDiagnostics(t, text, bridgetest.CheckLive(t, text, kinds.Types(), config.LiveOptions{WriteProbe: true}))
}

// TestOpenLDAPExampleSizeLimit: the example served as its service account
// on a stock slapd whose size limit (olcSizeLimit 500) the header's
// olcLimits rule has not lifted yet. An import of 520 users is refused as
// the directory's refusal of the bridge's account, 502 with an RFC 7644
// Error body (not 503 "retry later", which an IdP repeats for ever); with
// the rule in place, the same bridge answers the listing, exactly.
func TestOpenLDAPExampleSizeLimit(t *testing.T) {
	srv := ldaptest.Own(t, ldaptest.Options{Stock: true})
	ou := srv.NewOU(t)
	srv.GrantService(t, ou)
	const n = 520
	srv.AddUsers(t, ou.People, "lim", n)
	env := srv.ExampleEnv(ou)
	env["LDAP_BIND_DN"], env["LDAP_BIND_PASSWORD"] = ldaptest.ServiceDN, ldaptest.ServicePassword
	b := bridgetest.StartFile(t, "../../examples/openldap.hcl", env, kinds.Types())
	c := bridgetest.NewClient(t, b.URL+"/scim/v2")
	r := c.Must(502, "GET", "/Users?startIndex=1&count=100", nil)
	if d := str(r, "detail"); !strings.Contains(d, "search size limit") || str(r, "status") != "502" {
		t.Fatalf("502 body: %s", r.Body)
	}
	srv.LiftServiceLimits(t)
	r = c.Must(200, "GET", "/Users?startIndex=1&count=100", nil)
	if total := r.JSON["totalResults"]; fmt.Sprint(total) != fmt.Sprint(n) || len(r.JSON["Resources"].([]any)) != 100 {
		t.Fatalf("after the olcLimits rule: totalResults %v, %d resources", total, len(r.JSON["Resources"].([]any)))
	}
}
