package examples_test

// examples/activedirectory.hcl served by a real scimbridge on a real Samba
// AD domain controller (sambatest) over LDAPS, the certificate verified,
// bound as the delegated service account, each test on its own OU. The
// checks read the directory itself, as the domain's Administrator.

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/conformance"
	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/backends/ldap/sambatest"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/config"
	"github.com/scimbridge/scimbridge/bridge/scimtest"
)

const adBackend = "ad" // the backend block's name in activedirectory.hcl

// ad is examples/activedirectory.hcl served on a fresh OU.
type ad struct {
	dirExample
	srv *sambatest.Server
}

// adEnv is the environment activedirectory.hcl reads, for ou.
func adEnv(srv *sambatest.Server, ou sambatest.OU, upnSuffix string) map[string]string {
	return map[string]string{
		"LDAP_URL": srv.URL, "LDAP_CA_FILE": srv.CAFile, "LDAP_TLS_SERVER_NAME": sambatest.ServerName,
		"LDAP_BIND_DN": sambatest.ServiceDN, "LDAP_BIND_PASSWORD": sambatest.ServicePassword,
		"LDAP_BASE_DN": sambatest.BaseDN, "AD_UPN_SUFFIX": upnSuffix,
		"AD_USERS_DN": ou.People, "AD_GROUPS_DN": ou.Groups,
	}
}

func startAD(t *testing.T) *ad {
	t.Helper()
	srv := sambatest.Shared(t)
	ou := srv.NewOU(t)
	return &ad{srv: srv, dirExample: startDirExample(t, srv.Admin, ou, "activedirectory.hcl", adEnv(srv, ou, ""),
		adBackend, "(|(objectClass=user)(objectClass=group))")}
}

// adTarget names what activedirectory.hcl stores where.
func adTarget(d *ad) *scimtest.Target {
	return &scimtest.Target{
		Client: d.c, Backend: d.bridge.Backends[adBackend],
		UserName: "userPrincipalName", GivenName: "givenName", FamilyName: "sn", Email: "mail",
		// The virtual attribute the backend reads from userAccountControl.
		Active: "scimbridgeActive", ActiveTrue: "TRUE", ActiveFalse: "FALSE",
		// unicodePwd is never readable: TestADDirectory checks it with binds.
		EmployeeNumber: "employeeID", Manager: "manager", Mobile: "mobile",
		GroupName: "cn", Members: "member",
	}
}

func TestADConformance(t *testing.T) {
	sambatest.Shared(t) // skips without Samba before any subtest
	conformance.Run(t, conformance.Fixture{
		New:      func(t *testing.T) backends.Backend { return startAD(t).bridge.Backends[adBackend] },
		UserName: "userPrincipalName", GivenName: "givenName", FamilyName: "sn", DisplayName: "displayName", Email: "mail",
		Active: "scimbridgeActive", ActiveTrue: "TRUE", ActiveFalse: "FALSE",
		UserGroups: "memberOf", Manager: "manager", MultiValued: "otherTelephone",
		GroupName: "cn", GroupMembers: "member",
		ExtraUserAttrs: func(i int) backends.Attrs {
			return backends.Attrs{"cn": {fmt.Sprintf("User %d", i)}}
		},
	})
}

func TestADGolden(t *testing.T) {
	d := startAD(t)
	d.runGolden(t, adTarget(d))
}

func TestADOktaSpec(t *testing.T) {
	d := startAD(t)
	d.runOktaSpec(t)
	users := d.srv.Search(t, d.ou.People, "(objectClass=user)", "userPrincipalName", "sAMAccountName", "objectGUID")
	if len(users) == 0 {
		t.Fatal("no user objects after the SPEC test")
	}
	for _, e := range users {
		if e.GetAttributeValue("sAMAccountName") == "" || len(e.GetRawAttributeValue("objectGUID")) != 16 {
			t.Errorf("SPEC user %s: sAMAccountName %q", e.DN, e.GetAttributeValue("sAMAccountName"))
		}
	}
}

func TestADHostile(t *testing.T) {
	d := startAD(t)
	d.runHostile(t)
}

func TestADConcurrency(t *testing.T) {
	d := startAD(t)
	scimtest.RunConcurrency(t, d.c, d.bridge.Backends[adBackend], "member")
}

// TestADFault kills the DC under load and restarts it.
func TestADFault(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts the directory")
	}
	d := startAD(t)
	scimtest.RunFault(t, d.c, d.bridge.Backends[adBackend],
		restartable{kill: d.srv.Kill, restart: d.srv.Restart},
		scimtest.FaultOptions{UserName: "userPrincipalName", Active: "scimbridgeActive", ActiveTrue: "TRUE", ActiveFalse: "FALSE", Members: "member"})
}

// guidOf reads the objectGUID of dn in its string form, the way the
// bridge shows it (first three fields little-endian).
func guidOf(t *testing.T, srv *sambatest.Server, dn string) string {
	t.Helper()
	e := srv.Entry(t, dn, "objectGUID")
	if e == nil {
		t.Fatalf("%s does not exist", dn)
	}
	raw := e.GetRawAttributeValue("objectGUID")
	if len(raw) != 16 {
		t.Fatalf("objectGUID of %s: %x", dn, raw)
	}
	return fmt.Sprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		raw[3], raw[2], raw[1], raw[0], raw[5], raw[4], raw[7], raw[6], raw[8], raw[9], raw[10], raw[11], raw[12], raw[13], raw[14], raw[15])
}

func uacOf(t *testing.T, srv *sambatest.Server, dn string) int64 {
	t.Helper()
	v, err := strconv.ParseInt(srv.Entry(t, dn, "userAccountControl").GetAttributeValue("userAccountControl"), 10, 64)
	if err != nil {
		t.Fatalf("userAccountControl of %s: %v", dn, err)
	}
	return v
}

// TestADDirectory runs a provisioning life cycle and checks each step in
// the directory: objectGUID as the SCIM id, sAMAccountName and the UPN
// suffix, userAccountControl bit 0x2 set and cleared with every other bit
// kept, a password set through SCIM that binds, the policy's refusal of a
// weak one, member / memberOf / manager values, a rename that keeps id and
// memberships, and deletes.
func TestADDirectory(t *testing.T) {
	srv := sambatest.Shared(t)
	ou := srv.NewOU(t)
	b := bridgetest.StartFile(t, "activedirectory.hcl", adEnv(srv, ou, sambatest.UPNSuffix), kinds.Types())
	c := bridgetest.NewClient(t, b.URL+"/scim/v2")

	r := c.Must(201, "POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": "jane.doe",
		"name": map[string]any{"givenName": "Jane", "familyName": "Doe"}, "password": "Init-Passw0rd!", "active": true,
		"emails": []any{map[string]any{"type": "work", "value": "jane@example.test", "primary": true}}})
	uid := str(r, "id")
	if got := str(r, "userName"); got != "jane.doe@"+sambatest.UPNSuffix {
		t.Errorf("userName without a suffix answered as %q, want jane.doe@%s", got, sambatest.UPNSuffix)
	}
	dn := "CN=Jane Doe," + ou.People
	if g := guidOf(t, srv, dn); g != uid {
		t.Fatalf("id %s, objectGUID %s", uid, g)
	}
	e := srv.Entry(t, dn, "sAMAccountName", "userPrincipalName", "objectClass")
	if e.GetAttributeValue("sAMAccountName") != "jane.doe" || e.GetAttributeValue("userPrincipalName") != "jane.doe@"+sambatest.UPNSuffix {
		t.Errorf("stored sAMAccountName %q userPrincipalName %q", e.GetAttributeValue("sAMAccountName"), e.GetAttributeValue("userPrincipalName"))
	}
	if uac := uacOf(t, srv, dn); uac != 0x200 {
		t.Errorf("new active user: userAccountControl %#x, want 0x200 (NORMAL_ACCOUNT)", uac)
	}
	if err := srv.Bind(dn, "Init-Passw0rd!"); err != nil {
		t.Errorf("bind with the password set on create: %v", err)
	}
	if err := srv.Bind("jane.doe@"+sambatest.UPNSuffix, "Init-Passw0rd!"); err != nil {
		t.Errorf("bind by UPN: %v", err)
	}
	// id filters and a second bridge, whose cache is empty (it finds the
	// object with a base search on <GUID=...>), see the same user.
	if r := c.Must(200, "GET", "/Users?filter="+url.QueryEscape(`id eq "`+uid+`"`), nil); str(r, "totalResults") != "1" {
		t.Errorf("id eq: %s", r.Body)
	}
	b2 := bridgetest.StartFile(t, "activedirectory.hcl", adEnv(srv, ou, sambatest.UPNSuffix), kinds.Types())
	c2 := bridgetest.NewClient(t, b2.URL+"/scim/v2")
	if r := c2.Must(200, "GET", "/Users/"+uid, nil); str(r, "userName") != "jane.doe@"+sambatest.UPNSuffix {
		t.Errorf("GET through a fresh bridge: %s", r.Body)
	}
	c2.Must(404, "GET", "/Groups/"+uid, nil) // a user's GUID is no group

	// A weak password: 400 naming password and the rule, nothing changed.
	r = c.Do("PATCH", "/Users/"+uid, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "replace", "path": "password", "value": "abc"}}})
	if r.Status != 400 || !strings.Contains(str(r, "detail"), "password") || !strings.Contains(str(r, "detail"), "shorter") {
		t.Errorf("a weak password: %d %s, want 400 naming the length rule", r.Status, r.Body)
	}
	if err := srv.Bind(dn, "Init-Passw0rd!"); err != nil {
		t.Errorf("bind after the refused password: %v", err)
	}
	c.Must(200, "PATCH", "/Users/"+uid, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "replace", "path": "password", "value": "N3w-Passw0rd!"}}})
	if err := srv.Bind(dn, "N3w-Passw0rd!"); err != nil {
		t.Errorf("bind with the password set by PATCH: %v", err)
	}
	// (No check that the old password fails: Samba, like Windows, accepts
	// the previous password for an "old password allowed period".)

	// An administrator sets another bit (DONT_EXPIRE_PASSWORD 0x10000):
	// deactivation sets 0x2 and keeps it, reactivation clears 0x2 only.
	m := goldap.NewModifyRequest(dn, nil)
	m.Replace("userAccountControl", []string{strconv.Itoa(0x200 | 0x10000)})
	if err := srv.Conn(t).Modify(m); err != nil {
		t.Fatal(err)
	}
	setActive := func(active bool) {
		t.Helper()
		r := c.Must(200, "PATCH", "/Users/"+uid, map[string]any{"schemas": []string{patchOp},
			"Operations": []any{map[string]any{"op": "replace", "value": map[string]any{"active": active}}}})
		if str(r, "active") != fmt.Sprint(active) {
			t.Errorf("PATCH active=%v answered %s", active, r.Body)
		}
	}
	setActive(false)
	if uac := uacOf(t, srv, dn); uac != 0x200|0x10000|0x2 {
		t.Errorf("deactivated: userAccountControl %#x, want %#x", uac, 0x200|0x10000|0x2)
	}
	if err := srv.Bind(dn, "N3w-Passw0rd!"); err == nil {
		t.Error("a deactivated user binds")
	}
	if r := c.Must(200, "GET", "/Users?filter="+url.QueryEscape(`active eq false`), nil); str(r, "totalResults") != "1" {
		t.Errorf("active eq false: %s", r.Body)
	}
	setActive(true)
	if uac := uacOf(t, srv, dn); uac != 0x200|0x10000 {
		t.Errorf("reactivated: userAccountControl %#x, want %#x", uac, 0x200|0x10000)
	}
	if err := srv.Bind(dn, "N3w-Passw0rd!"); err != nil {
		t.Errorf("bind after reactivation: %v", err)
	}
	if r := c.Must(200, "GET", "/Users?filter="+url.QueryEscape(`active eq true`), nil); str(r, "totalResults") != "1" {
		t.Errorf("active eq true: %s", r.Body)
	}

	// A user created inactive: 0x202.
	bob := str(c.Must(201, "POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": "bob.roe@example.org",
		"name": map[string]any{"givenName": "Bob", "familyName": "Roe"}, "active": false}), "id")
	bobDN := "CN=Bob Roe," + ou.People
	if uac := uacOf(t, srv, bobDN); uac != 0x202 {
		t.Errorf("new inactive user: userAccountControl %#x, want 0x202", uac)
	}
	// The same userName again: 409.
	if r := c.Do("POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": "bob.roe@example.org",
		"displayName": "Another Bob"}); r.Status != 409 {
		t.Errorf("a taken userName: %d %s, want 409", r.Status, r.Body)
	}
	// Another user whose logon name would be the same: 409 too.
	if r := c.Do("POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": "bob.roe@example.com",
		"displayName": "Bob Roe Two"}); r.Status != 409 {
		t.Errorf("a taken sAMAccountName: %d %s, want 409", r.Status, r.Body)
	}

	// Manager: a DN in the directory, an id in SCIM.
	c.Must(200, "PATCH", "/Users/"+bob, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "add", "path": entUser + ":manager", "value": uid}}})
	if mgr := srv.Entry(t, bobDN, "manager").GetAttributeValue("manager"); !sameDN(mgr, dn) {
		t.Errorf("manager stored as %q, want %s", mgr, dn)
	}

	// Groups: a global security group; member values are DNs, memberOf follows.
	gid := str(c.Must(201, "POST", "/Groups", map[string]any{"schemas": []string{coreGroup}, "displayName": "Finance",
		"members": []any{map[string]any{"value": uid}, map[string]any{"value": bob}}}), "id")
	gdn := "CN=Finance," + ou.Groups
	if g := guidOf(t, srv, gdn); g != gid {
		t.Fatalf("group id %s, objectGUID %s", gid, g)
	}
	if gt := srv.Entry(t, gdn, "groupType").GetAttributeValue("groupType"); gt != "-2147483646" {
		t.Errorf("groupType %s, want -2147483646 (global security)", gt)
	}
	members := func(groupDN string, want ...string) {
		t.Helper()
		if got := srv.Entry(t, groupDN, "member").GetAttributeValues("member"); !sameDNs(got, want) {
			t.Errorf("member values of %s = %q, want %q", groupDN, got, want)
		}
	}
	members(gdn, dn, bobDN)
	if r := c.Do("PATCH", "/Groups/"+gid, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "remove", "path": `members[value eq "` + bob + `"]`}}}); r.Status != 200 && r.Status != 204 {
		t.Fatalf("group PATCH: %d %s", r.Status, r.Body)
	}
	members(gdn, dn)
	if r := c.Must(200, "GET", "/Users/"+uid, nil); !strings.Contains(string(r.Body), gid) {
		t.Errorf("the user's groups do not list %s: %s", gid, r.Body)
	}

	// Rename: a new display name is a ModifyDN; id, membership and the
	// manager reference stay.
	c.Must(200, "PATCH", "/Users/"+uid, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "replace", "path": "displayName", "value": "Jane Smith"}}})
	newDN := "CN=Jane Smith," + ou.People
	if srv.Entry(t, dn) != nil {
		t.Errorf("%s still exists after the rename", dn)
	}
	if g := guidOf(t, srv, newDN); g != uid {
		t.Fatalf("renamed user: objectGUID %s, id %s", g, uid)
	}
	members(gdn, newDN)
	if mgr := srv.Entry(t, bobDN, "manager").GetAttributeValue("manager"); !sameDN(mgr, newDN) {
		t.Errorf("bob's manager after the rename: %q, want %s", mgr, newDN)
	}
	if r := c.Must(200, "GET", "/Users/"+bob, nil); !strings.Contains(string(r.Body), uid) {
		t.Errorf("bob's manager id after the rename: %s", r.Body)
	}

	// Delete: AD removes the member value and the manager reference.
	c.Must(204, "DELETE", "/Users/"+uid, nil)
	if srv.Entry(t, newDN) != nil {
		t.Errorf("%s still exists", newDN)
	}
	members(gdn)
	c.Must(404, "GET", "/Users/"+uid, nil)
	c.Must(204, "DELETE", "/Groups/"+gid, nil)
	c.Must(204, "DELETE", "/Users/"+bob, nil)
}

// TestADBigGroup: a group of 2,000 members, more than AD's MaxValRange
// (1,500), reads back completely through SCIM (ranged retrieval), and one
// more member is one single-value modify.
func TestADBigGroup(t *testing.T) {
	d := startAD(t)
	const n = 2000
	conn := d.srv.Conn(t)
	var dns []string
	for i := range n {
		dn := fmt.Sprintf("CN=m%d,%s", i, d.ou.People)
		req := goldap.NewAddRequest(dn, nil)
		req.Attribute("objectClass", []string{"user"})
		req.Attribute("sAMAccountName", []string{fmt.Sprintf("big.m%d", i)})
		req.Attribute("userPrincipalName", []string{fmt.Sprintf("m%d@big.example.test", i)})
		if err := conn.Add(req); err != nil {
			t.Fatal(err)
		}
		dns = append(dns, dn)
	}
	req := goldap.NewAddRequest("CN=everyone,"+d.ou.Groups, nil)
	req.Attribute("objectClass", []string{"group"})
	req.Attribute("member", dns)
	if err := conn.Add(req); err != nil {
		t.Fatal(err)
	}
	list := d.c.Must(200, "GET", "/Groups?filter="+url.QueryEscape(`displayName eq "everyone"`), nil)
	res, _ := list.JSON["Resources"].([]any)
	if len(res) != 1 {
		t.Fatalf("group list: %s", list.Body)
	}
	gid := bridgetest.Str(res[0].(map[string]any), "id")
	count := func(r *bridgetest.Response) int {
		m, _ := r.JSON["members"].([]any)
		seen := map[string]bool{}
		for _, x := range m {
			seen[bridgetest.Str(x.(map[string]any), "value")] = true
		}
		return len(seen)
	}
	if got := count(d.c.Must(200, "GET", "/Groups/"+gid, nil)); got != n {
		t.Fatalf("GET of a %d-member group shows %d distinct members", n, got)
	}
	uid := str(d.c.Must(201, "POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": "one.more@example.test"}), "id")
	if r := d.c.Do("PATCH", "/Groups/"+gid, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": uid}}}}}); r.Status != 200 && r.Status != 204 {
		t.Fatalf("group PATCH: %d %s", r.Status, r.Body)
	}
	if got := len(d.srv.Entry(t, "CN=everyone,"+d.ou.Groups, "member").GetAttributeValues("member")); got != n+1 {
		t.Errorf("member values after adding one: %d, want %d", got, n+1)
	}
	if got := count(d.c.Must(200, "GET", "/Groups/"+gid, nil)); got != n+1 {
		t.Errorf("GET after adding one shows %d members, want %d", got, n+1)
	}
}

// TestADBrownfield seeds a domain the way it exists before the bridge:
// users, groups and a nested group created by an administrator, then
// imports them through SCIM pages as Okta does, and reads a user's nested
// groups through the in-chain rule with transitive = true.
func TestADBrownfield(t *testing.T) {
	srv := sambatest.Shared(t)
	ou := srv.NewOU(t)
	conn := srv.Conn(t)
	const users = 250
	var dns []string
	for i := range users {
		dn := fmt.Sprintf("CN=Seed %03d,%s", i, ou.People)
		req := goldap.NewAddRequest(dn, nil)
		req.Attribute("objectClass", []string{"user"})
		req.Attribute("sAMAccountName", []string{fmt.Sprintf("seed%03d", i)})
		req.Attribute("userPrincipalName", []string{fmt.Sprintf("seed%03d@%s", i, sambatest.UPNSuffix)})
		req.Attribute("givenName", []string{"Seed"})
		req.Attribute("sn", []string{fmt.Sprintf("%03d", i)})
		req.Attribute("userAccountControl", []string{strconv.Itoa(0x200 | (i%5/4)*0x2)}) // every fifth disabled
		if err := conn.Add(req); err != nil {
			t.Fatal(err)
		}
		dns = append(dns, dn)
	}
	addGroup := func(name string, members ...string) {
		t.Helper()
		req := goldap.NewAddRequest("CN="+name+","+ou.Groups, nil)
		req.Attribute("objectClass", []string{"group"})
		if len(members) > 0 {
			req.Attribute("member", members)
		}
		if err := conn.Add(req); err != nil {
			t.Fatal(err)
		}
	}
	addGroup("Engineering", dns[:100]...)
	addGroup("Staff", append([]string{"CN=Engineering," + ou.Groups}, dns[100:]...)...)

	text := bridgetest.EditFile(t, "activedirectory.hcl",
		[2]string{`    reference "memberOf" {
      target    = "Group"
      read_only = true
    }`, `    reference "groups" {
      target     = "Group"
      inverse_of = "member"
      transitive = true
    }`},
		[2]string{`attribute "groups.value"      { native = "memberOf" }`, `attribute "groups.value"      { native = "groups" }`})
	for k, v := range adEnv(srv, ou, sambatest.UPNSuffix) {
		t.Setenv(k, v)
	}
	t.Setenv("SCIMBRIDGE_TOKEN", bridgetest.Token)
	b := bridgetest.Start(t, text, kinds.Types())
	c := bridgetest.NewClient(t, b.URL+"/scim/v2")

	// Okta's import: pages of 100 until startIndex passes totalResults.
	// Right after start the bridge may not have counted the directory
	// yet: a page then answers a lower bound, and the page that reaches
	// the end answers the exact total.
	seen := map[string]bool{}
	inactive := 0
	var first string
	total := 0
	for start := 1; start <= max(total, 1); start += 100 {
		r := c.Must(200, "GET", fmt.Sprintf("/Users?startIndex=%d&count=100", start), nil)
		tr, err := strconv.Atoi(str(r, "totalResults"))
		if err != nil {
			t.Fatalf("page at %d: totalResults %q", start, str(r, "totalResults"))
		}
		total = tr
		res, _ := r.JSON["Resources"].([]any)
		if total < start-1+len(res) {
			t.Fatalf("page at %d: totalResults %d below the %d entries read", start, total, start-1+len(res))
		}
		for _, x := range res {
			u := x.(map[string]any)
			seen[bridgetest.Str(u, "id")] = true
			if bridgetest.Str(u, "active") == "false" {
				inactive++
			}
			if bridgetest.Str(u, "userName") == "seed000@"+sambatest.UPNSuffix {
				first = bridgetest.Str(u, "id")
			}
		}
		if start > 10*users {
			t.Fatalf("import does not end: totalResults %d at %d", total, start)
		}
	}
	if total != users {
		t.Errorf("last totalResults %d, want %d", total, users)
	}
	if len(seen) != users || inactive != users/5 {
		t.Errorf("imported %d distinct users, %d inactive; want %d and %d", len(seen), inactive, users, users/5)
	}
	groups := c.Must(200, "GET", "/Groups?startIndex=1&count=100", nil)
	if str(groups, "totalResults") != "2" {
		t.Fatalf("groups: %s", groups.Body)
	}
	// seed000 is in Engineering directly and in Staff through it.
	u := c.Must(200, "GET", "/Users/"+first, nil)
	gs, _ := u.JSON["groups"].([]any)
	if len(gs) != 2 {
		t.Errorf("seed000's groups (nested included): %s", u.Body)
	}
}

// TestADFirstPagesReadThePage: Samba AD ignores the size limit a search
// asks for and sends every match. The bridge's probe at start sees that,
// and its first pages use the paged results control there, so a first
// page of 10 reads about 10 entries from the directory, not the whole
// listing (which, at a hundred thousand users, would be every import's
// first page reading the directory), and a lookup is one search on a
// pooled connection.
func TestADFirstPagesReadThePage(t *testing.T) {
	srv := sambatest.Shared(t)
	ou := srv.NewOU(t)
	conn := srv.Conn(t)
	const users = 40
	for i := range users {
		req := goldap.NewAddRequest(fmt.Sprintf("CN=Page %02d,%s", i, ou.People), nil)
		req.Attribute("objectClass", []string{"user"})
		req.Attribute("sAMAccountName", []string{fmt.Sprintf("page%02d", i)})
		req.Attribute("userPrincipalName", []string{fmt.Sprintf("page%02d@%s", i, sambatest.UPNSuffix)})
		if err := conn.Add(req); err != nil {
			t.Fatal(err)
		}
	}
	b := bridgetest.StartFile(t, "activedirectory.hcl", adEnv(srv, ou, sambatest.UPNSuffix), kinds.Types())
	c := bridgetest.NewClient(t, b.URL+"/scim/v2")
	read := func() float64 {
		t.Helper()
		v, ok := b.Metric(t, "scimbridge_ldap_entries_read_total", map[string]string{"backend": adBackend})
		if !ok {
			t.Fatal("no scimbridge_ldap_entries_read_total")
		}
		return v
	}
	// count=0 answers once the count taken at start is done: the whole
	// listing's pages then need no count of their own. A filtered
	// listing's first page is a search ended at 12 entries on a pooled
	// connection (a whole answer would end at 10, and one past the limit
	// of 11 it asked for shows Samba ignored it), then the count of its
	// matches (names only) and the page.
	c.Must(200, "GET", "/Users?count=0", nil)
	filtered := url.QueryEscape(`userName sw "page"`)
	for _, tc := range []struct {
		query string
		most  float64
	}{
		{"/Users?startIndex=1&count=10", 10},
		{"/Users?startIndex=1&count=10&filter=" + filtered, 12 + users + 10},
		{"/Users?startIndex=11&count=10&filter=" + filtered, users + 20},
	} {
		before := read()
		r := c.Must(200, "GET", tc.query, nil)
		res, _ := r.JSON["Resources"].([]any)
		if str(r, "totalResults") != strconv.Itoa(users) || len(res) != 10 {
			t.Errorf("%s: totalResults %s, %d resources; want %d and 10", tc.query, str(r, "totalResults"), len(res), users)
		}
		if n := read() - before; n > tc.most {
			t.Errorf("%s read %v entries from the directory, want at most %v", tc.query, n, tc.most)
		}
	}
	lookupsPooled(t, b, c, adBackend, "page07@"+sambatest.UPNSuffix)
}

// TestADServiceAccountRights: the bridge's account may do nothing outside
// the OU it was delegated: a user placed elsewhere is a 502 and the log
// names the right; the SCIM client learns nothing of it.
func TestADServiceAccountRights(t *testing.T) {
	srv := sambatest.Shared(t)
	ou := srv.NewOU(t)
	env := adEnv(srv, ou, "")
	env["AD_USERS_DN"] = "OU=Services," + sambatest.BaseDN // not delegated
	b := bridgetest.StartFile(t, "activedirectory.hcl", env, kinds.Types())
	c := bridgetest.NewClient(t, b.URL+"/scim/v2")
	r := c.Do("POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": "nope@example.test"})
	if r.Status < 500 {
		t.Errorf("create without the right: %d %s, want 5xx", r.Status, r.Body)
	}
	if strings.Contains(string(r.Body), "Services") {
		t.Errorf("the answer shows the directory: %s", r.Body)
	}
	if len(srv.Search(t, "OU=Services,"+sambatest.BaseDN, "(userPrincipalName=nope@example.test)", "1.1")) != 0 {
		t.Error("the user was created")
	}
}

// TestADSAMAccountName: a sAMAccountName AD refuses is a 400 that names the rule,
// before anything is sent.
func TestADSAMAccountName(t *testing.T) {
	d := startAD(t)
	be := d.bridge.Backends[adBackend]
	for _, name := range []string{"abcdefghijklmnopqrstu", "a/b", "x*", "tab\tname", "..."} {
		_, err := be.Create(t.Context(), backends.User, backends.Attrs{"cn": {"N"}, "userPrincipalName": {"n@example.test"}, "sAMAccountName": {name}})
		ae, ok := backends.AsAttrError(err)
		if !ok || !strings.EqualFold(ae.Attr, "sAMAccountName") || ae.Reason == "" {
			t.Errorf("sAMAccountName %q: %v, want an invalid value of sAMAccountName", name, err)
		}
	}
	if left := d.leftBehind(t); len(left) != 0 {
		t.Errorf("objects written: %v", left)
	}
	// A long userName makes a sAMAccountName cut to 20 characters.
	r := d.c.Must(201, "POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": "a.very.long.name.indeed+tag@example.test"})
	e := d.srv.Search(t, d.ou.People, "(userPrincipalName=a.very.long.name.indeed+tag@example.test)", "sAMAccountName")
	if len(e) != 1 || e[0].GetAttributeValue("sAMAccountName") != "a.very.long.name.ind" {
		t.Errorf("derived sAMAccountName: %v (%s)", e, r.Body)
	}
}

// TestLiveAD: validate --live on the shipped example, as the delegated
// account (the write probe included), and with a users' OU that does not
// exist. Samba lists neither the assertion nor the post-read control.
func TestLiveAD(t *testing.T) {
	srv := sambatest.Shared(t)
	ou := srv.NewOU(t)
	at := `backend "ldap" "ad"`
	noAssert := bridgetest.WantDiagnostic{Summary: "Directory lacks the assertion control", At: at, Detail: "1.3.6.1.1.12", Warning: true}
	noPostRead := bridgetest.WantDiagnostic{Summary: "Directory lacks the post-read control", At: at, Detail: "1.3.6.1.1.13.2", Warning: true}
	env := func(users string) {
		e := adEnv(srv, ou, sambatest.UPNSuffix)
		if users != "" {
			e["AD_USERS_DN"] = users
		}
		for k, v := range e {
			t.Setenv(k, v)
		}
		t.Setenv("SCIMBRIDGE_TOKEN", bridgetest.Token)
	}
	t.Run("as shipped", func(t *testing.T) {
		env("")
		text := bridgetest.EditFile(t, "activedirectory.hcl")
		bridgetest.ExpectDiagnostics(t, text, bridgetest.CheckLive(t, text, kinds.Types(), config.LiveOptions{WriteProbe: true}), noAssert, noPostRead)
	})
	t.Run("missing OU", func(t *testing.T) {
		env("OU=Staff," + ou.DN)
		text := bridgetest.EditFile(t, "activedirectory.hcl")
		bridgetest.ExpectDiagnostics(t, text, bridgetest.CheckLive(t, text, kinds.Types(), config.LiveOptions{}),
			bridgetest.WantDiagnostic{Summary: "Container not found", At: `resource "User"`, Detail: `OU=Staff,`}, noAssert, noPostRead)
	})
}

// TestADMustChangePassword: with must_change_password, a password set
// through SCIM also sets pwdLastSet = 0 (change at next logon).
func TestADMustChangePassword(t *testing.T) {
	srv := sambatest.Shared(t)
	ou := srv.NewOU(t)
	text := bridgetest.EditFile(t, "activedirectory.hcl",
		[2]string{"# must_change_password = true", "must_change_password = true"})
	for k, v := range adEnv(srv, ou, sambatest.UPNSuffix) {
		t.Setenv(k, v)
	}
	t.Setenv("SCIMBRIDGE_TOKEN", bridgetest.Token)
	b := bridgetest.Start(t, text, kinds.Types())
	c := bridgetest.NewClient(t, b.URL+"/scim/v2")
	uid := str(c.Must(201, "POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": "kim",
		"displayName": "Kim Lee", "password": "Init-Passw0rd!", "active": true}), "id")
	dn := "CN=Kim Lee," + ou.People
	if v := srv.Entry(t, dn, "pwdLastSet").GetAttributeValue("pwdLastSet"); v != "0" {
		t.Errorf("after create: pwdLastSet %q, want 0", v)
	}
	m := goldap.NewModifyRequest(dn, nil)
	m.Replace("pwdLastSet", []string{"-1"}) // the user changed it: "now"
	if err := srv.Conn(t).Modify(m); err != nil {
		t.Fatal(err)
	}
	c.Must(200, "PATCH", "/Users/"+uid, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "replace", "path": "password", "value": "N3w-Passw0rd!"}}})
	if v := srv.Entry(t, dn, "pwdLastSet").GetAttributeValue("pwdLastSet"); v != "0" {
		t.Errorf("after a password PATCH: pwdLastSet %q, want 0", v)
	}
}
