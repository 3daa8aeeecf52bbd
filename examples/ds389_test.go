package examples_test

// examples/389ds.hcl served by a real scimbridge on a real 389 Directory
// Server (ds389test), bound as a service account with the ACI the
// example's header documents, each test on its own OU. The checks read the
// directory itself, as the root DN.

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/conformance"
	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/backends/ldap/ds389test"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/scimtest"
)

const (
	ds389Backend = "389ds" // the backend block's name in 389ds.hcl
	coreUser     = "urn:ietf:params:scim:schemas:core:2.0:User"
	coreGroup    = "urn:ietf:params:scim:schemas:core:2.0:Group"
	patchOp      = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	entUser      = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
)

// ds389 is examples/389ds.hcl served on a fresh OU.
type ds389 struct {
	dirExample
	srv *ds389test.Server
}

func startDS389(t *testing.T) *ds389 {
	t.Helper()
	srv := ds389test.Shared(t)
	ou := srv.NewOU(t)
	return &ds389{srv: srv, dirExample: startDirExample(t, srv.Admin, ou, "389ds.hcl", ds389ExampleEnv(srv, ou), ds389Backend,
		"(!(objectClass=organizationalUnit))")}
}

// ds389ExampleEnv is the environment 389ds.hcl reads, for ou.
func ds389ExampleEnv(srv *ds389test.Server, ou ds389test.OU) map[string]string {
	return map[string]string{"LDAP_URL": srv.URL, "LDAP_BIND_DN": ds389test.ServiceDN,
		"LDAP_BIND_PASSWORD": ds389test.ServicePassword, "LDAP_BASE_DN": ou.DN}
}

// ds389Target names what 389ds.hcl stores where.
func ds389Target(d *ds389) *scimtest.Target {
	return &scimtest.Target{
		Client: d.c, Backend: d.bridge.Backends[ds389Backend],
		UserName: "uid", GivenName: "givenName", FamilyName: "sn", Email: "mail",
		// Active users have no nsAccountLock; inactive ones "true".
		Active: "nsAccountLock", ActiveTrue: "", ActiveFalse: "true",
		// userPassword is never read back: TestDS389Directory checks it with binds.
		EmployeeNumber: "employeeNumber", Manager: "manager", Mobile: "mobile",
		GroupName: "cn", Members: "member",
	}
}

// TestDS389Conformance runs the backend conformance suite on the backend
// block of 389ds.hcl as shipped.
func TestDS389Conformance(t *testing.T) {
	ds389test.Shared(t) // skips without 389 DS before any subtest
	conformance.Run(t, conformance.Fixture{
		New:      func(t *testing.T) backends.Backend { return startDS389(t).bridge.Backends[ds389Backend] },
		UserName: "uid", GivenName: "givenName", FamilyName: "sn", DisplayName: "displayName", Email: "mail",
		// nsAccountLock is operational: read only because 389ds.hcl lists it
		// in operational_attributes.
		Active: "nsAccountLock", ActiveTrue: "false", ActiveFalse: "true",
		Ordered: "employeeNumber", OrderedKind: backends.KindNumber,
		UserGroups: "memberOf", Manager: "manager", MultiValued: "telephoneNumber",
		GroupName: "cn", GroupMembers: "member",
		ExtraUserAttrs: func(i int) backends.Attrs {
			return backends.Attrs{"cn": {fmt.Sprintf("User %d", i)}, "sn": {"Family"}}
		},
	})
}

func TestDS389Golden(t *testing.T) {
	d := startDS389(t)
	d.runGolden(t, ds389Target(d))
}

func TestDS389OktaSpec(t *testing.T) {
	d := startDS389(t)
	d.runOktaSpec(t)
	// The SPEC test's users are inetOrgPerson entries named by uid, with
	// the cn and sn the schema requires.
	users := d.srv.Search(t, d.ou.People, "(objectClass=inetOrgPerson)", "uid", "cn", "sn", "nsUniqueId")
	if len(users) == 0 {
		t.Fatal("no user entries after the SPEC test")
	}
	for _, e := range users {
		if !sameDN(e.DN, "uid="+goldap.EscapeDN(e.GetAttributeValue("uid"))+","+d.ou.People) ||
			e.GetAttributeValue("cn") == "" || e.GetAttributeValue("sn") == "" || e.GetAttributeValue("nsUniqueId") == "" {
			t.Errorf("SPEC user stored as %s cn=%q sn=%q nsUniqueId=%q", e.DN, e.GetAttributeValue("cn"),
				e.GetAttributeValue("sn"), e.GetAttributeValue("nsUniqueId"))
		}
	}
}

func TestDS389Hostile(t *testing.T) {
	d := startDS389(t)
	d.runHostile(t)
}

func TestDS389Concurrency(t *testing.T) {
	d := startDS389(t)
	scimtest.RunConcurrency(t, d.c, d.bridge.Backends[ds389Backend], "member")
}

// TestDS389Directory runs a provisioning life cycle and checks each step
// in the directory: nsUniqueId as the SCIM id, the password hashed by the
// server and usable for binds, nsAccountLock on deactivation, member and
// memberOf values, a rename that keeps the id, and deletes.
func TestDS389Directory(t *testing.T) {
	d := startDS389(t)
	srv, ou, c := d.srv, d.ou, d.c
	const name = "jane.doe@example.com"
	dn := "uid=" + name + "," + ou.People

	r := c.Must(201, "POST", "/Users", map[string]any{
		"schemas": []string{coreUser, entUser}, "userName": name,
		"name":         map[string]any{"givenName": "Jane", "familyName": "Doe"},
		"emails":       []any{map[string]any{"primary": true, "type": "work", "value": name}},
		"phoneNumbers": []any{map[string]any{"type": "work", "value": "+1 555 0101"}},
		"title":        "Analyst", "password": "Init-Passw0rd!", "active": true,
		entUser: map[string]any{"employeeNumber": "42", "department": "Finance"},
	})
	uid := str(r, "id")
	e := srv.Entry(t, dn, "*", "nsUniqueId", "nsAccountLock", "userPassword")
	if e == nil {
		t.Fatalf("%s not in the directory after create: %s", dn, r.Body)
	}
	for attr, want := range map[string]string{
		"nsUniqueId": uid, "uid": name, "givenName": "Jane", "sn": "Doe", "cn": "Jane Doe", "mail": name,
		"telephoneNumber": "+1 555 0101", "title": "Analyst", "employeeNumber": "42", "departmentNumber": "Finance",
		"nsAccountLock": "",
	} {
		if got := e.GetAttributeValue(attr); got != want {
			t.Errorf("after create: %s = %q, want %q", attr, got, want)
		}
	}
	if pw := e.GetAttributeValue("userPassword"); !strings.HasPrefix(pw, "{") || strings.Contains(pw, "Init-Passw0rd!") {
		t.Errorf("userPassword stored as %q, want a hash", pw)
	} else {
		t.Logf("userPassword stored with scheme %s", pw[:strings.IndexByte(pw, '}')+1])
	}
	if err := srv.Bind(dn, "Init-Passw0rd!"); err != nil {
		t.Errorf("bind with the initial password: %v", err)
	}

	// PUT with a new password and family name.
	got := c.Must(200, "GET", "/Users/"+uid, nil).JSON
	got["name"].(map[string]any)["familyName"] = "Smith"
	got["password"] = "N3w-Passw0rd!"
	c.Must(200, "PUT", "/Users/"+uid, got)
	if e := srv.Entry(t, dn, "sn", "cn"); e.GetAttributeValue("sn") != "Smith" || !slices.Equal(e.GetAttributeValues("cn"), []string{"Jane Smith"}) {
		t.Errorf("after PUT: sn=%q cn=%q", e.GetAttributeValue("sn"), e.GetAttributeValues("cn"))
	}
	if err := srv.Bind(dn, "N3w-Passw0rd!"); err != nil {
		t.Errorf("bind with the password set by PUT: %v", err)
	}
	if err := srv.Bind(dn, "Init-Passw0rd!"); err == nil {
		t.Error("the old password still binds")
	}
	// A password that looks like a hash is refused (the bridge's account
	// is not the root DN), so a client cannot set a hash it chose.
	before := srv.Entry(t, dn, "userPassword").GetAttributeValue("userPassword")
	r = c.Do("PATCH", "/Users/"+uid, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "replace", "path": "password", "value": "{CLEAR}Chosen-Passw0rd!"}}})
	if r.Status != 400 {
		t.Errorf("a pre-hashed password: %d %s, want 400", r.Status, r.Body)
	} else {
		t.Logf("a pre-hashed password: %s", str(r, "detail"))
	}
	if after := srv.Entry(t, dn, "userPassword").GetAttributeValue("userPassword"); after != before {
		t.Errorf("userPassword changed to %q by a refused PATCH", after)
	}
	if err := srv.Bind(dn, "N3w-Passw0rd!"); err != nil {
		t.Errorf("bind after the refused password change: %v", err)
	}

	// Deactivate: nsAccountLock true, binds refused; reactivate: no nsAccountLock.
	setActive := func(active bool) {
		t.Helper()
		r := c.Must(200, "PATCH", "/Users/"+uid, map[string]any{"schemas": []string{patchOp},
			"Operations": []any{map[string]any{"op": "replace", "value": map[string]any{"active": active}}}})
		if str(r, "active") != fmt.Sprint(active) {
			t.Errorf("PATCH active=%v answered %s", active, r.Body)
		}
	}
	setActive(false)
	if v := srv.Entry(t, dn, "nsAccountLock").GetAttributeValues("nsAccountLock"); !slices.Equal(v, []string{"true"}) {
		t.Errorf("deactivated: nsAccountLock = %q, want [true]", v)
	}
	if err := srv.Bind(dn, "N3w-Passw0rd!"); err == nil {
		t.Error("a deactivated user binds")
	}
	if r := c.Must(200, "GET", "/Users?filter="+url.QueryEscape(`active eq false`), nil); str(r, "totalResults") != "1" {
		t.Errorf("active eq false: %s", r.Body)
	}
	setActive(true)
	if v := srv.Entry(t, dn, "nsAccountLock").GetAttributeValues("nsAccountLock"); len(v) != 0 {
		t.Errorf("reactivated: nsAccountLock = %q, want none", v)
	}
	if err := srv.Bind(dn, "N3w-Passw0rd!"); err != nil {
		t.Errorf("bind after reactivation: %v", err)
	}
	// A lock set by an administrator (dsidm account lock writes "true")
	// reads as inactive; any other value as active.
	for value, active := range map[string]string{"TRUE": "false", "false": "true"} {
		m := goldap.NewModifyRequest(dn, nil)
		m.Replace("nsAccountLock", []string{value})
		if err := srv.Conn(t).Modify(m); err != nil {
			t.Fatal(err)
		}
		if r := c.Must(200, "GET", "/Users/"+uid, nil); str(r, "active") != active {
			t.Errorf("nsAccountLock %q read as active=%s, want %s", value, str(r, "active"), active)
		}
	}
	setActive(true)

	// A second user as manager, stored as a DN.
	const bobName = "bob.roe@example.com"
	bobDN := "uid=" + bobName + "," + ou.People
	bob := str(c.Must(201, "POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": bobName,
		"name": map[string]any{"givenName": "Bob", "familyName": "Roe"}}), "id")
	c.Must(200, "PATCH", "/Users/"+uid, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "add", "path": entUser + ":manager", "value": bob}}})
	if m := srv.Entry(t, dn, "manager").GetAttributeValue("manager"); !sameDN(m, bobDN) {
		t.Errorf("manager stored as %q, want %s", m, bobDN)
	}

	// Groups: an empty group has no member attribute; members are DNs; the
	// MemberOf plugin writes memberOf, which the users show as groups.
	gid := str(c.Must(201, "POST", "/Groups", map[string]any{"schemas": []string{coreGroup}, "displayName": "Finance", "members": []any{}}), "id")
	gdn := "cn=Finance," + ou.Groups
	if ge := srv.Entry(t, gdn, "member", "nsUniqueId"); ge == nil || ge.GetAttributeValue("nsUniqueId") != gid || len(ge.GetAttributeValues("member")) != 0 {
		t.Fatalf("empty group %s: %v", gdn, ge)
	}
	members := func(groupDN string, want ...string) {
		t.Helper()
		if got := srv.Entry(t, groupDN, "member").GetAttributeValues("member"); !sameDNs(got, want) {
			t.Errorf("member values of %s = %q, want %q", groupDN, got, want)
		}
	}
	memberOf := func(userDN string, want ...string) {
		t.Helper()
		if got := srv.Entry(t, userDN, "memberOf").GetAttributeValues("memberOf"); !sameDNs(got, want) {
			t.Errorf("memberOf of %s = %q, want %q", userDN, got, want)
		}
	}
	groupPatch := func(ops ...any) {
		t.Helper()
		r := c.Do("PATCH", "/Groups/"+gid, map[string]any{"schemas": []string{patchOp}, "Operations": ops})
		if r.Status != 200 && r.Status != 204 {
			t.Fatalf("group PATCH: %d %s", r.Status, r.Body)
		}
	}
	groupPatch(map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": uid}, map[string]any{"value": bob}}})
	members(gdn, dn, bobDN)
	memberOf(dn, gdn)
	memberOf(bobDN, gdn)
	if r := c.Must(200, "GET", "/Users/"+uid, nil); !strings.Contains(string(r.Body), gid) {
		t.Errorf("the user's groups do not list %s: %s", gid, r.Body)
	}
	groupPatch(map[string]any{"op": "remove", "path": `members[value eq "` + bob + `"]`})
	members(gdn, dn)
	memberOf(bobDN)

	// Rename the user: modrdn, same nsUniqueId, the member and manager
	// values follow (the bridge rewrites them: referential_integrity = "bridge").
	c.Must(200, "PATCH", "/Users/"+bob, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "add", "path": entUser + ":manager", "value": uid}}})
	c.Must(200, "PATCH", "/Users/"+uid, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "replace", "path": "userName", "value": "jane.smith@example.com"}}})
	newDN := "uid=jane.smith@example.com," + ou.People
	if srv.Entry(t, dn) != nil {
		t.Errorf("%s still exists after the rename", dn)
	}
	if e := srv.Entry(t, newDN, "nsUniqueId", "uid"); e == nil || e.GetAttributeValue("nsUniqueId") != uid ||
		!slices.Equal(e.GetAttributeValues("uid"), []string{"jane.smith@example.com"}) {
		t.Fatalf("renamed user: %v", e)
	}
	members(gdn, newDN)
	memberOf(newDN, gdn)
	if m := srv.Entry(t, bobDN, "manager").GetAttributeValue("manager"); !sameDN(m, newDN) {
		t.Errorf("bob's manager after the rename: %q, want %s", m, newDN)
	}
	if r := c.Must(200, "GET", "/Users/"+uid, nil); str(r, "userName") != "jane.smith@example.com" {
		t.Errorf("GET after rename: %s", r.Body)
	}

	// Rename the group: same id, same members, memberOf follows.
	groupPatch(map[string]any{"op": "replace", "value": map[string]any{"displayName": "Finance & Controlling"}})
	newGDN := "cn=" + goldap.EscapeDN("Finance & Controlling") + "," + ou.Groups
	if e := srv.Entry(t, newGDN, "nsUniqueId"); e == nil || e.GetAttributeValue("nsUniqueId") != gid {
		t.Fatalf("renamed group: %v", e)
	}
	members(newGDN, newDN)
	memberOf(newDN, newGDN)

	// Delete the user: gone from the group and from bob's manager.
	c.Must(204, "DELETE", "/Users/"+uid, nil)
	if srv.Entry(t, newDN) != nil {
		t.Errorf("%s still exists", newDN)
	}
	members(newGDN)
	if m := srv.Entry(t, bobDN, "manager").GetAttributeValues("manager"); len(m) != 0 {
		t.Errorf("bob's manager after deleting it: %q", m)
	}
	c.Must(404, "GET", "/Users/"+uid, nil)

	// Delete the group: memberOf goes.
	groupPatch(map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": bob}}})
	memberOf(bobDN, newGDN)
	c.Must(204, "DELETE", "/Groups/"+gid, nil)
	if srv.Entry(t, newGDN) != nil {
		t.Errorf("%s still exists", newGDN)
	}
	memberOf(bobDN)
}

// TestDS389UserNameOnly: a user sent with only a userName (as Entra sends
// some) gets sn and cn from it, reads back without a family name, and its
// sn follows a new userName.
func TestDS389UserNameOnly(t *testing.T) {
	d := startDS389(t)
	srv, ou, c := d.srv, d.ou, d.c
	r := c.Must(201, "POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": "ada@contoso.com", "active": true})
	uid := str(r, "id")
	if _, ok := r.JSON["name"]; ok {
		t.Errorf("created without a name, answered %s", r.Body)
	}
	check := func(how, userName string) {
		t.Helper()
		e := srv.Entry(t, "uid="+goldap.EscapeDN(userName)+","+ou.People, "sn", "cn")
		if e == nil || !slices.Equal(e.GetAttributeValues("sn"), []string{userName}) || !slices.Equal(e.GetAttributeValues("cn"), []string{userName}) {
			t.Fatalf("%s: stored as %v", how, e)
		}
		g := c.Must(200, "GET", "/Users/"+uid, nil)
		if _, ok := g.JSON["name"]; ok || str(g, "userName") != userName {
			t.Errorf("%s: GET %s", how, g.Body)
		}
		if l := c.Must(200, "GET", "/Users?filter="+url.QueryEscape(`name.familyName eq "`+userName+`"`), nil); str(l, "totalResults") != "0" {
			t.Errorf("%s: a family name filter finds the user: %s", how, l.Body)
		}
	}
	check("create", "ada@contoso.com")
	lookupsPooled(t, d.bridge, c, d.backend, "ada@contoso.com")
	r = c.Must(200, "PATCH", "/Users/"+uid, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "Replace", "path": "userName", "value": "ada.king@contoso.com"}}})
	if _, ok := r.JSON["name"]; ok {
		t.Errorf("renamed, answered %s", r.Body)
	}
	check("rename", "ada.king@contoso.com")
	c.Must(204, "DELETE", "/Users/"+uid, nil)
}

// TestDS389Fault kills ns-slapd under load and restarts it.
func TestDS389Fault(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts the directory")
	}
	d := startDS389(t)
	scimtest.RunFault(t, d.c, d.bridge.Backends[ds389Backend],
		restartable{kill: d.srv.Kill, restart: d.srv.Restart},
		scimtest.FaultOptions{UserName: "uid", Active: "nsAccountLock", ActiveTrue: "", ActiveFalse: "true", Members: "member"})
}

func str(r *bridgetest.Response, path ...string) string { return bridgetest.Str(r.JSON, path...) }

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

// isChild reports whether dn is directly below parent.
func isChild(dn, parent string) bool {
	d, err1 := goldap.ParseDN(dn)
	p, err2 := goldap.ParseDN(parent)
	return err1 == nil && err2 == nil && len(d.RDNs) == len(p.RDNs)+1 && p.AncestorOfFold(d)
}

// TestDS389DisabledContainer serves 389ds.hcl changed to deactivate by
// moving users into ou=disabled below ou=people (disabled_base_dn) and
// checks, as the service account with the documented ACI, that the moves
// happen, keep nsUniqueId and keep group membership (389's referential
// integrity plugin is off: the bridge updates member values itself).
func TestDS389DisabledContainer(t *testing.T) {
	srv := ds389test.Shared(t)
	ou := srv.NewOU(t)
	disabled := "ou=disabled," + ou.People
	srv.AddOU(t, disabled)
	// Moving an entry to another superior needs the moddn right, which
	// the example's ACI does not give: the example's header documents this
	// second ACI. Without it the move is a 502 (checked first below).
	mod := goldap.NewModifyRequest(ou.People, nil)
	mod.Add("aci", []string{ds389MoveACI})
	text := bridgetest.EditFile(t, "389ds.hcl",
		[2]string{"base_dn            = \"ou=people,${env(\"LDAP_BASE_DN\")}\"\n    scope              = \"one\"",
			"base_dn            = \"ou=people,${env(\"LDAP_BASE_DN\")}\"\n    disabled_base_dn   = \"ou=disabled,ou=people,${env(\"LDAP_BASE_DN\")}\""},
		[2]string{`native      = "nsAccountLock"
      to_native   = value ? null : "true"
      from_native = lower(coalesce(value, "false")) != "true"`, `native = "scimbridgeActive"`})
	for k, v := range map[string]string{"LDAP_URL": srv.URL, "LDAP_BIND_DN": ds389test.ServiceDN,
		"LDAP_BIND_PASSWORD": ds389test.ServicePassword, "LDAP_BASE_DN": ou.DN, "SCIMBRIDGE_TOKEN": bridgetest.Token} {
		t.Setenv(k, v)
	}
	b := bridgetest.Start(t, text, kinds.Types())
	c := bridgetest.NewClient(t, b.URL+"/scim/v2")

	uid := str(c.Must(201, "POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": "kim",
		"name": map[string]any{"givenName": "Kim", "familyName": "Lee"}, "active": true}), "id")
	deactivate := map[string]any{"schemas": []string{patchOp},
		"Operations": []any{map[string]any{"op": "replace", "value": map[string]any{"active": false}}}}
	if r := c.Do("PATCH", "/Users/"+uid, deactivate); r.Status != 502 || srv.Entry(t, "uid=kim,"+ou.People) == nil {
		t.Fatalf("move without the moddn right: %d %s", r.Status, r.Body)
	}
	if err := srv.Conn(t).Modify(mod); err != nil {
		t.Fatal(err)
	}
	gid := str(c.Must(201, "POST", "/Groups", map[string]any{"schemas": []string{coreGroup}, "displayName": "crew",
		"members": []any{map[string]any{"value": uid}}}), "id")
	r := c.Must(200, "PATCH", "/Users/"+uid, deactivate)
	if str(r, "active") != "false" {
		t.Fatalf("deactivated: %s", r.Body)
	}
	e := srv.Entry(t, "uid=kim,"+disabled, "nsUniqueId")
	if e == nil || e.GetAttributeValue("nsUniqueId") != uid || srv.Entry(t, "uid=kim,"+ou.People) != nil {
		t.Fatalf("after deactivation: %+v", e)
	}
	if got := srv.Entry(t, "cn=crew,"+ou.Groups, "member").GetAttributeValues("member"); !sameDNs(got, []string{"uid=kim," + disabled}) {
		t.Fatalf("member values after the move %q", got)
	}
	r = c.Must(200, "GET", "/Users?filter="+url.QueryEscape(`active eq false`), nil)
	if str(r, "totalResults") != "1" {
		t.Fatalf("active eq false: %s", r.Body)
	}
	r = c.Must(200, "PATCH", "/Users/"+uid, map[string]any{"schemas": []string{patchOp},
		"Operations": []any{map[string]any{"op": "replace", "path": "active", "value": true}}})
	if str(r, "active") != "true" || srv.Entry(t, "uid=kim,"+ou.People) == nil {
		t.Fatalf("reactivated: %s", r.Body)
	}
	if got := srv.Entry(t, "cn=crew,"+ou.Groups, "member").GetAttributeValues("member"); !sameDNs(got, []string{"uid=kim," + ou.People}) {
		t.Fatalf("member values after reactivation %q", got)
	}
	c.Must(200, "GET", "/Groups/"+gid, nil)
}

// ds389MoveACI is the ACI 389ds.hcl's header documents for
// disabled_base_dn: it lets the service account move entries within
// ou=people (into and out of the disabled container).
const ds389MoveACI = `(targetattr="*")(version 3.0; acl "scimbridge moves"; allow (moddn) userdn="ldap:///` +
	ds389test.ServiceDN + `";)`
