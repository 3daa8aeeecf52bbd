package examples_test

// examples/openldap.hcl as shipped, served by a real scimbridge on a slapd
// set up as it is usually found (ldaptest.Options{Stock: true}: Debian's
// database, with the memberof and refint overlays and no ppolicy), bound
// as a service account with the access rules the example's header
// documents, each test on its own OU holding only ou=people and
// ou=groups. The checks read the directory itself, as the root DN.
// (The example's ppolicy opt-in is tested in backends/ldap, whose slapd
// has the overlay.)

import (
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/hashicorp/hcl/v2"

	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/backends/ldap/ldaptest"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/scimtest"
)

const openldapBackend = "openldap" // the backend block's name in openldap.hcl

// openldap is examples/openldap.hcl served on a fresh OU of the stock slapd.
type openldap struct {
	srv      *ldaptest.Server
	ou       ldaptest.OU
	disabled string // the disabled container the example names
	bridge   *bridgetest.Server
	c        *bridgetest.Client
}

func startOpenLDAP(t *testing.T) *openldap {
	t.Helper()
	srv := ldaptest.Shared(t)
	ou := srv.NewOU(t)
	d := &openldap{srv: srv, ou: ou, disabled: "ou=disabled," + ou.People}
	// The header's rules: no binds below ou=disabled, then (first) the
	// service account's write access to both OUs, and no size limit for it.
	srv.DenyBindsBelow(t, d.disabled)
	srv.GrantService(t, ou)
	srv.LiftServiceLimits(t)
	env := srv.ExampleEnv(ou)
	env["LDAP_BIND_DN"], env["LDAP_BIND_PASSWORD"] = ldaptest.ServiceDN, ldaptest.ServicePassword
	d.bridge = bridgetest.StartFile(t, "openldap.hcl", env, kinds.Types())
	d.c = bridgetest.NewClient(t, d.bridge.URL+"/scim/v2")
	return d
}

func (d *openldap) bind(t *testing.T, dn, password string) error {
	t.Helper()
	c, err := d.srv.DialAs(dn, password)
	if err == nil {
		c.Close()
	}
	return err
}

// leftBehind lists the entries below the OU that are not OUs.
func (d *openldap) leftBehind(t *testing.T) []string {
	t.Helper()
	var dns []string
	for _, e := range d.srv.Search(t, d.ou.DN, "(!(objectClass=organizationalUnit))", "1.1") {
		dns = append(dns, e.DN)
	}
	return dns
}

// TestOpenLDAPStockGolden replays the Okta, Entra (both dialects) and
// OneLogin sequences on the stock directory.
func TestOpenLDAPStockGolden(t *testing.T) {
	d := startOpenLDAP(t)
	scimtest.RunGolden(t, &scimtest.Target{
		Client: d.c, Backend: d.bridge.Backends[openldapBackend],
		UserName: "uid", GivenName: "givenName", FamilyName: "sn", Email: "mail",
		// Where the entry lies (TestOpenLDAPStockDirectory reads the DNs).
		Active: "scimbridgeActive", ActiveTrue: "TRUE", ActiveFalse: "FALSE",
		EmployeeNumber: "employeeNumber", Manager: "manager", Mobile: "mobile",
		GroupName: "cn", Members: "member",
	})
	if left := d.leftBehind(t); len(left) != 0 {
		t.Errorf("entries left behind: %v", left)
	}
	if e := d.srv.Entry(t, d.disabled, "objectClass"); e == nil {
		t.Error("the disabled container does not exist")
	}
}

func TestOpenLDAPStockOktaSpec(t *testing.T) {
	d := startOpenLDAP(t)
	scimtest.SeedForOktaSpec(t, d.c)
	if res := scimtest.RunOktaSpec(t, d.c.Base, d.c.Auth); res.Assertions == 0 {
		t.Fatal("the SPEC test ran no assertion")
	}
	users := d.srv.Search(t, d.ou.People, "(objectClass=inetOrgPerson)", "uid", "cn", "sn", "entryUUID")
	if len(users) == 0 {
		t.Fatal("no user entries after the SPEC test")
	}
	for _, e := range users {
		rdn := "uid=" + goldap.EscapeDN(e.GetAttributeValue("uid"))
		if !sameDN(e.DN, rdn+","+d.ou.People) && !sameDN(e.DN, rdn+","+d.disabled) ||
			e.GetAttributeValue("cn") == "" || e.GetAttributeValue("sn") == "" || e.GetAttributeValue("entryUUID") == "" {
			t.Errorf("SPEC user stored as %s cn=%q sn=%q", e.DN, e.GetAttributeValue("cn"), e.GetAttributeValue("sn"))
		}
	}
}

// TestOpenLDAPStockUserNameOnly: a user sent with only a userName, as
// Entra sends some, is stored with sn and cn from it, and reads back with
// no family name, in every answer and in filters; sn follows the
// userName and gives way to a family name once one is sent.
func TestOpenLDAPStockUserNameOnly(t *testing.T) {
	d := startOpenLDAP(t)
	srv, ou, c := d.srv, d.ou, d.c
	const name = "ada@contoso.com"
	dnOf := func(userName string) string { return "uid=" + goldap.EscapeDN(userName) + "," + ou.People }
	stored := func(how, userName, sn, cn string) {
		t.Helper()
		e := srv.Entry(t, dnOf(userName), "sn", "cn")
		if e == nil {
			t.Fatalf("%s: %s missing", how, dnOf(userName))
		}
		if got := e.GetAttributeValues("sn"); !slices.Equal(got, []string{sn}) {
			t.Errorf("%s: sn = %q, want %q", how, got, sn)
		}
		if got := e.GetAttributeValues("cn"); !slices.Equal(got, []string{cn}) {
			t.Errorf("%s: cn = %q, want %q", how, got, cn)
		}
	}
	// The answer of a write is what a GET then says.
	sameAsGET := func(how string, r *bridgetest.Response) {
		t.Helper()
		g := c.Must(200, "GET", "/Users/"+str(r, "id"), nil)
		if !reflect.DeepEqual(r.JSON, g.JSON) {
			t.Errorf("%s: the answer\n%s\ndiffers from the GET after it\n%s", how, r.Body, g.Body)
		}
	}
	count := func(filter, want string) {
		t.Helper()
		if r := c.Must(200, "GET", "/Users?filter="+url.QueryEscape(filter), nil); str(r, "totalResults") != want {
			t.Errorf("filter %s: %s, want totalResults %s", filter, r.Body, want)
		}
	}

	r := c.Must(201, "POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": name, "active": true,
		"externalId": "e-ada", "name": nil, "displayName": nil})
	uid := str(r, "id")
	if _, ok := r.JSON["name"]; ok {
		t.Errorf("created without a name, answered %s", r.Body)
	}
	stored("create", name, name, name)
	sameAsGET("create", r)
	count(`userName eq "`+name+`"`, "1")
	lookupsPooled(t, d.bridge, c, "openldap", name)
	count(`name.familyName eq "`+name+`"`, "0")
	count(`name.familyName pr`, "0")
	count(`not (name.familyName pr)`, "1")

	// Entra sets a family name, then clears it.
	patch := func(ops ...any) *bridgetest.Response {
		t.Helper()
		return c.Must(200, "PATCH", "/Users/"+uid, map[string]any{"schemas": []string{patchOp}, "Operations": ops})
	}
	r = patch(map[string]any{"op": "Replace", "path": "name.familyName", "value": "Lovelace"})
	if str(r, "name", "familyName") != "Lovelace" {
		t.Errorf("after setting the family name: %s", r.Body)
	}
	stored("family name set", name, "Lovelace", "Lovelace")
	sameAsGET("family name set", r)
	count(`name.familyName eq "Lovelace"`, "1")
	r = patch(map[string]any{"op": "Remove", "path": "name.familyName"})
	if _, ok := r.JSON["name"]; ok {
		t.Errorf("after removing the family name: %s", r.Body)
	}
	stored("family name removed", name, name, name)
	sameAsGET("family name removed", r)
	r = patch(map[string]any{"op": "Replace", "path": "name.familyName", "value": ""})
	stored("family name emptied", name, name, name)
	sameAsGET("family name emptied", r)

	// A new userName renames the entry and carries the defaulted sn along.
	const renamed = "ada.king@contoso.com"
	r = patch(map[string]any{"op": "Replace", "path": "userName", "value": renamed})
	if str(r, "userName") != renamed {
		t.Errorf("after the rename: %s", r.Body)
	}
	if srv.Entry(t, dnOf(name)) != nil {
		t.Errorf("%s still exists", dnOf(name))
	}
	stored("renamed", renamed, renamed, renamed)
	sameAsGET("renamed", r)
	count(`name.familyName eq "`+name+`"`, "0")

	// Okta PUTs back what it read, with a given name: cn takes it, sn
	// stays the default.
	got := c.Must(200, "GET", "/Users/"+uid, nil).JSON
	got["name"] = map[string]any{"givenName": "Ada"}
	r = c.Must(200, "PUT", "/Users/"+uid, got)
	if str(r, "name", "givenName") != "Ada" || str(r, "name", "familyName") != "" {
		t.Errorf("after PUT: %s", r.Body)
	}
	stored("PUT", renamed, renamed, "Ada")
	sameAsGET("PUT", r)

	// Deactivated and renamed at once, the default follows into ou=disabled.
	r = patch(map[string]any{"op": "replace", "value": map[string]any{"active": false, "userName": name}})
	if e := srv.Entry(t, "uid="+goldap.EscapeDN(name)+","+d.disabled, "sn", "entryUUID"); e == nil ||
		e.GetAttributeValue("sn") != name || e.GetAttributeValue("entryUUID") != uid {
		t.Errorf("deactivated and renamed: %v", e)
	}
	sameAsGET("deactivated and renamed", r)
	c.Must(204, "DELETE", "/Users/"+uid, nil)
	if left := d.leftBehind(t); len(left) != 0 {
		t.Errorf("entries left behind: %v", left)
	}
}

// TestOpenLDAPStockDeactivation: deactivation moves the entry into
// ou=disabled, which the bridge created, keeping its id, its password and
// its groups; binds are refused there by the documented access rule;
// reactivation moves it back. Okta's PATCH and PUT and Entra's string
// "True" are used.
func TestOpenLDAPStockDeactivation(t *testing.T) {
	d := startOpenLDAP(t)
	srv, ou, c := d.srv, d.ou, d.c
	if e := srv.Entry(t, d.disabled, "objectClass", "ou"); e == nil ||
		!slices.ContainsFunc(e.GetAttributeValues("objectClass"), func(s string) bool { return strings.EqualFold(s, "organizationalUnit") }) {
		t.Fatalf("the container the bridge created at start: %v", e)
	}
	const password = "Init-Passw0rd!"
	active, inactive := "uid=kim,"+ou.People, "uid=kim,"+d.disabled
	r := c.Must(201, "POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": "kim",
		"name": map[string]any{"givenName": "Kim", "familyName": "Lee"}, "password": password, "active": true})
	uid := str(r, "id")
	if str(r, "active") != "true" {
		t.Fatalf("created: %s", r.Body)
	}
	if err := d.bind(t, active, password); err != nil {
		t.Fatalf("bind of an active user: %v", err)
	}
	gid := str(c.Must(201, "POST", "/Groups", map[string]any{"schemas": []string{coreGroup}, "displayName": "crew",
		"members": []any{map[string]any{"value": uid}}}), "id")
	gdn := "cn=crew," + ou.Groups
	where := func(how, dn string) {
		t.Helper()
		e := srv.Entry(t, dn, "entryUUID", "memberOf")
		if e == nil || e.GetAttributeValue("entryUUID") != uid {
			t.Fatalf("%s: %s missing or with another entryUUID: %v", how, dn, e)
		}
		other := active
		if dn == active {
			other = inactive
		}
		if srv.Entry(t, other) != nil {
			t.Errorf("%s: %s exists too", how, other)
		}
		if got := e.GetAttributeValues("memberOf"); !sameDNs(got, []string{gdn}) {
			t.Errorf("%s: memberOf = %q", how, got)
		}
		if got := srv.Entry(t, gdn, "member").GetAttributeValues("member"); !sameDNs(got, []string{dn}) {
			t.Errorf("%s: member values %q, want %s", how, got, dn)
		}
		g := c.Must(200, "GET", "/Groups/"+gid, nil)
		if !strings.Contains(string(g.Body), `"value":"`+uid+`"`) {
			t.Errorf("%s: the group does not list the user: %s", how, g.Body)
		}
	}
	where("created", active)

	// Okta: PATCH without a path.
	r = c.Must(200, "PATCH", "/Users/"+uid, map[string]any{"schemas": []string{patchOp},
		"Operations": []any{map[string]any{"op": "replace", "value": map[string]any{"active": false}}}})
	if str(r, "active") != "false" || str(r, "id") != uid {
		t.Fatalf("deactivated: %s", r.Body)
	}
	where("deactivated", inactive)
	if err := d.bind(t, inactive, password); !goldap.IsErrorWithCode(err, goldap.LDAPResultInvalidCredentials) {
		t.Errorf("bind of a deactivated user: %v, want invalidCredentials", err)
	}
	g := c.Must(200, "GET", "/Users/"+uid, nil)
	if !reflect.DeepEqual(g.JSON, r.JSON) {
		t.Errorf("GET after deactivation\n%s\ndiffers from the answer\n%s", g.Body, r.Body)
	}
	l := c.Must(200, "GET", "/Users?filter="+url.QueryEscape(`active eq false`), nil)
	if str(l, "totalResults") != "1" || !strings.Contains(string(l.Body), `"id":"`+uid+`"`) {
		t.Errorf("active eq false: %s", l.Body)
	}
	// The name stays taken.
	c.Must(409, "POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": "kim"})

	// Entra without the compliance flag: the string "True".
	r = c.Must(200, "PATCH", "/Users/"+uid, map[string]any{"schemas": []string{patchOp},
		"Operations": []any{map[string]any{"op": "Replace", "path": "active", "value": "True"}}})
	if str(r, "active") != "true" {
		t.Fatalf("reactivated: %s", r.Body)
	}
	where("reactivated", active)
	if err := d.bind(t, active, password); err != nil {
		t.Errorf("bind after reactivation: %v", err)
	}

	// Okta (App Integration Wizard): PUT with active false and a new
	// family name; then back.
	body := c.Must(200, "GET", "/Users/"+uid, nil).JSON
	body["active"] = false
	body["name"] = map[string]any{"givenName": "Kim", "familyName": "Park"}
	r = c.Must(200, "PUT", "/Users/"+uid, body)
	if str(r, "active") != "false" || str(r, "name", "familyName") != "Park" {
		t.Fatalf("PUT: %s", r.Body)
	}
	where("PUT inactive", inactive)
	if e := srv.Entry(t, inactive, "sn", "cn"); e.GetAttributeValue("sn") != "Park" || e.GetAttributeValue("cn") != "Kim Park" {
		t.Errorf("after PUT: sn=%q cn=%q", e.GetAttributeValue("sn"), e.GetAttributeValue("cn"))
	}
	// A deactivated user is deleted from where it is.
	c.Must(204, "DELETE", "/Users/"+uid, nil)
	if srv.Entry(t, inactive) != nil {
		t.Errorf("%s still exists", inactive)
	}
	if got := srv.Entry(t, gdn, "member").GetAttributeValues("member"); len(got) != 1 || !sameDN(got[0], "cn=nobody,"+ou.DN) {
		t.Errorf("member values after the delete: %q", got)
	}
}

// TestOpenLDAPStockRefusesPPolicy shows why the example no longer
// deactivates with pwdAccountLockedTime by default: on a directory without
// the ppolicy overlay its opt-in names an attribute type the directory
// does not have, and serve refuses to start, pointing at the mapping.
func TestOpenLDAPStockRefusesPPolicy(t *testing.T) {
	srv := ldaptest.Shared(t)
	ou := srv.NewOU(t)
	for k, v := range srv.ExampleEnv(ou) {
		t.Setenv(k, v)
	}
	t.Setenv("SCIMBRIDGE_TOKEN", bridgetest.Token)
	diags := bridgetest.Check(t, ldaptest.PPolicyExample(t, "openldap.hcl"), kinds.Types())
	found := false
	for _, d := range diags {
		if d.Severity == hcl.DiagError && strings.Contains(d.Detail+d.Summary, "pwdAccountLockedTime") && d.Subject != nil && d.Subject.Start.Line > 0 {
			found = true
		}
	}
	if !found {
		t.Fatalf("the start-up check on a directory without ppolicy: %v", diags)
	}
}
