package scimtest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
)

// Target is a live endpoint plus what the golden sequences need to read
// the stored state directly from its backend (native attribute names of
// its mapping). Optional names may be "": their checks are skipped.
type Target struct {
	Client  *bridgetest.Client
	Backend backends.Backend

	UserName, GivenName, FamilyName, Email string
	Active, ActiveTrue, ActiveFalse        string
	Password                               string // where the password (hashed) is stored
	EmployeeNumber, Manager, Mobile        string
	GroupName, Members                     string
}

const (
	coreUser  = "urn:ietf:params:scim:schemas:core:2.0:User"
	coreGroup = "urn:ietf:params:scim:schemas:core:2.0:Group"
	patchOp   = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	entUser   = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
)

func (tg *Target) find(t *testing.T, rt, attr, value string) (backends.Record, bool) {
	t.Helper()
	page, err := tg.Backend.Search(context.Background(), rt, backends.Query{
		Filter: backends.Compare{Attr: attr, Op: backends.Eq, Value: value, IgnoreCase: true},
	})
	if err != nil {
		t.Fatalf("reading the backend: %v", err)
	}
	if len(page.Records) > 1 {
		t.Fatalf("%d %s records with %s=%q: duplicates", len(page.Records), rt, attr, value)
	}
	if len(page.Records) == 0 {
		return backends.Record{}, false
	}
	return page.Records[0], true
}

// stored reads one record by id with all attributes, failing if absent.
func (tg *Target) stored(t *testing.T, rt, id string) backends.Record {
	t.Helper()
	rec, err := tg.Backend.Get(context.Background(), rt, id, nil)
	if err != nil {
		t.Fatalf("reading %s %s from the backend: %v", rt, id, err)
	}
	return rec
}

func (tg *Target) expectAttr(t *testing.T, rec backends.Record, attr, want string) {
	t.Helper()
	if attr == "" {
		return
	}
	if got := rec.Attrs.First(attr); !strings.EqualFold(got, want) {
		t.Errorf("stored %s = %q, want %q (record %s)", attr, got, want, rec.ID)
	}
}

func (tg *Target) expectMembers(t *testing.T, gid string, want ...string) {
	t.Helper()
	rec, err := tg.Backend.Get(context.Background(), backends.Group, gid, []string{tg.Members})
	if err != nil {
		t.Fatalf("reading group %s: %v", gid, err)
	}
	got := slices.Clone(rec.Attrs.Get(tg.Members))
	slices.Sort(got)
	w := slices.Clone(want)
	slices.Sort(w)
	if !slices.Equal(got, w) {
		t.Errorf("stored members of %s = %v, want %v", gid, got, w)
	}
}

func id(r *bridgetest.Response) string { return bridgetest.Str(r.JSON, "id") }

func expectEmptyList(t *testing.T, r *bridgetest.Response) {
	t.Helper()
	if r.Status != 200 {
		t.Fatalf("status %d, want 200: %s", r.Status, r.Body)
	}
	if bridgetest.Str(r.JSON, "totalResults") != "0" {
		t.Fatalf("totalResults = %s, want 0: %s", bridgetest.Str(r.JSON, "totalResults"), r.Body)
	}
	if res, ok := r.JSON["Resources"].([]any); !ok || len(res) != 0 {
		t.Fatalf("Resources must be an empty array: %s", r.Body)
	}
	for _, k := range []string{"startIndex", "itemsPerPage"} {
		if _, ok := r.JSON[k]; !ok {
			t.Fatalf("%s missing: %s", k, r.Body)
		}
	}
}

// RunGolden replays the client sequences of Okta, Entra ID (both PATCH
// dialects) and OneLogin, and checks both the answers and the stored state.
func RunGolden(t *testing.T, tg *Target) {
	for _, seq := range []struct {
		name string
		run  func(*testing.T, *Target)
	}{
		{"Okta", okta},
		{"EntraLegacy", func(t *testing.T, tg *Target) { entra(t, tg, false) }},
		{"EntraCompliant", func(t *testing.T, tg *Target) { entra(t, tg, true) }},
		{"OneLogin", onelogin},
	} {
		t.Run(seq.name, func(t *testing.T) {
			sub := *tg
			client := *tg.Client
			client.T = t
			sub.Client = &client
			seq.run(t, &sub)
		})
	}
}

func okta(t *testing.T, tg *Target) {
	c := tg.Client
	c.Headers = map[string]string{"User-Agent": "Okta SCIM Client 1.0.0"}
	defer func() { c.Headers = nil }()
	user := "okta.jane@example.com"

	expectEmptyList(t, c.Do("GET", `/Users?filter=`+q(`userName eq "`+user+`"`)+`&startIndex=1&count=100`, nil))
	created := c.Must(201, "POST", "/Users", map[string]any{
		"schemas": []string{coreUser}, "userName": user,
		"name":        map[string]any{"givenName": "Jane", "familyName": "Doe"},
		"emails":      []any{map[string]any{"primary": true, "type": "work", "value": user}},
		"displayName": "Jane Doe", "locale": "en-US", "externalId": "00u1abcd", "groups": []any{},
		"password": "S3cret-Passw0rd!", "active": true,
	})
	uid := id(created)
	if uid == "" {
		t.Fatalf("create returned no id: %s", created.Body)
	}
	if _, ok := created.JSON["password"]; ok {
		t.Errorf("the password was returned: %s", created.Body)
	}
	rec := tg.stored(t, backends.User, uid)
	tg.expectAttr(t, rec, tg.UserName, user)
	tg.expectAttr(t, rec, tg.GivenName, "Jane")
	tg.expectAttr(t, rec, tg.Email, user)
	tg.expectAttr(t, rec, tg.Active, tg.ActiveTrue)
	if tg.Password != "" {
		if pw := rec.Attrs.First(tg.Password); pw == "" || strings.Contains(pw, "S3cret") {
			t.Errorf("stored password %q: want a hash of the password", pw)
		}
	}
	// A second assignment of the same user is a conflict.
	dup := c.Do("POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": strings.ToUpper(user),
		"name": map[string]any{"givenName": "J", "familyName": "D"}})
	if dup.Status != 409 || bridgetest.Str(dup.JSON, "scimType") != "uniqueness" {
		t.Errorf("duplicate create: %d %s, want 409 uniqueness", dup.Status, dup.Body)
	}
	// Existence check by e-mail as the unique identifier.
	for _, f := range []string{`emails[type eq "work"].value eq "` + user + `"`, `emails.value eq "` + user + `"`, `userName eq "` + strings.ToUpper(user) + `"`} {
		r := c.Must(200, "GET", "/Users?filter="+q(f), nil)
		if bridgetest.Str(r.JSON, "totalResults") != "1" {
			t.Errorf("filter %s: %s", f, r.Body)
		}
	}

	// Profile update: GET, then PUT the whole object back.
	got := c.Must(200, "GET", "/Users/"+uid, nil).JSON
	got["name"].(map[string]any)["familyName"] = "Smith"
	got["title"] = "Engineer"
	got["password"] = "N3w-Passw0rd!"
	c.Must(200, "PUT", "/Users/"+uid, got)
	rec = tg.stored(t, backends.User, uid)
	tg.expectAttr(t, rec, tg.FamilyName, "Smith")
	tg.expectAttr(t, rec, tg.UserName, user)

	// Deactivate and reactivate with path-less PATCH.
	for _, active := range []bool{false, true} {
		r := c.Must(200, "PATCH", "/Users/"+uid, map[string]any{"schemas": []string{patchOp},
			"Operations": []any{map[string]any{"op": "replace", "value": map[string]any{"active": active}}}})
		if bridgetest.Str(r.JSON, "active") != fmt.Sprint(active) {
			t.Errorf("PATCH active=%v answered %s", active, r.Body)
		}
		want := tg.ActiveTrue
		if !active {
			want = tg.ActiveFalse
		}
		tg.expectAttr(t, tg.stored(t, backends.User, uid), tg.Active, want)
	}
	// App Integration Wizard apps deactivate with PUT.
	got = c.Must(200, "GET", "/Users/"+uid, nil).JSON
	got["active"] = false
	c.Must(200, "PUT", "/Users/"+uid, got)
	tg.expectAttr(t, tg.stored(t, backends.User, uid), tg.Active, tg.ActiveFalse)
	got["active"] = true
	c.Must(200, "PUT", "/Users/"+uid, got)

	// Group push.
	other := c.Must(201, "POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": "okta.bob@example.com",
		"name": map[string]any{"givenName": "Bob", "familyName": "Roe"}, "active": true,
		"emails": []any{map[string]any{"primary": true, "type": "work", "value": "okta.bob@example.com"}}})
	bob := id(other)
	expectEmptyList(t, c.Do("GET", "/Groups?filter="+q(`displayName eq "Okta Engineers"`), nil))
	g := c.Must(201, "POST", "/Groups", map[string]any{"schemas": []string{coreGroup}, "displayName": "Okta Engineers", "members": []any{}})
	gid := id(g)
	r := c.Do("PATCH", "/Groups/"+gid, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "replace", "value": map[string]any{"id": gid, "displayName": "Okta Engineering"}},
		map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": uid, "display": user}}},
	}})
	if r.Status != 200 && r.Status != 204 {
		t.Fatalf("membership PATCH: %d %s", r.Status, r.Body)
	}
	tg.expectMembers(t, gid, uid)
	tg.expectAttr(t, tg.stored(t, backends.Group, gid), tg.GroupName, "Okta Engineering")
	c.Do("PATCH", "/Groups/"+gid, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "replace", "value": map[string]any{"id": gid, "displayName": "Okta Engineering"}},
		map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": bob, "display": "okta.bob@example.com"}}},
	}})
	tg.expectMembers(t, gid, uid, bob)
	c.Do("PATCH", "/Groups/"+gid, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "remove", "path": `members[value eq "` + uid + `"]`},
	}})
	tg.expectMembers(t, gid, bob)
	c.Do("PATCH", "/Groups/"+gid, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "replace", "path": "members", "value": []any{map[string]any{"value": uid}}},
	}})
	tg.expectMembers(t, gid, uid)
	// The user's groups list it.
	ur := c.Must(200, "GET", "/Users/"+uid, nil)
	if !strings.Contains(string(ur.Body), gid) {
		t.Errorf("user's groups do not list %s: %s", gid, ur.Body)
	}
	// Unknown member ids are refused and change nothing.
	bad := c.Do("PATCH", "/Groups/"+gid, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": bob}, map[string]any{"value": "no-such-user-id"}}},
	}})
	if bad.Status != 400 {
		t.Errorf("adding an unknown member: %d %s, want 400", bad.Status, bad.Body)
	}
	tg.expectMembers(t, gid, uid)

	// Import: pages until totalResults, stable and complete.
	seen := map[string]bool{}
	total := -1
	for start := 1; ; start += 1 {
		page := c.Must(200, "GET", fmt.Sprintf("/Users?startIndex=%d&count=1", start), nil)
		if total < 0 {
			fmt.Sscan(bridgetest.Str(page.JSON, "totalResults"), &total)
		}
		res, _ := page.JSON["Resources"].([]any)
		if len(res) == 0 {
			break
		}
		for _, x := range res {
			i := bridgetest.Str(x.(map[string]any), "id")
			if seen[i] {
				t.Errorf("import returned %s twice", i)
			}
			seen[i] = true
		}
		if start > 1000 {
			t.Fatal("import does not end")
		}
	}
	if len(seen) != total || !seen[uid] || !seen[bob] {
		t.Errorf("import saw %d users, totalResults %d", len(seen), total)
	}
	c.Must(204, "DELETE", "/Groups/"+gid, nil)
	c.Must(404, "GET", "/Groups/"+gid, nil)
	if _, err := tg.Backend.Get(context.Background(), backends.Group, gid, nil); err == nil {
		t.Errorf("deleted group %s is still stored", gid)
	}
	c.Must(204, "DELETE", "/Users/"+bob, nil)
	c.Must(204, "DELETE", "/Users/"+uid, nil)
}

func q(s string) string {
	r := strings.NewReplacer(" ", "%20", `"`, "%22", "[", "%5B", "]", "%5D", "&", "%26", "+", "%2B", "#", "%23")
	return r.Replace(s)
}

func entra(t *testing.T, tg *Target, compliant bool) {
	c := tg.Client
	suffix := "legacy"
	if compliant {
		suffix = "compliant"
	}
	user := "entra." + suffix + "@contoso.com"
	expectEmptyList(t, c.Do("GET", "/Users?filter="+q(`userName eq "6d6e4b4c-0f3e-4a9e-9a3e-2f1b3c4d5e6f"`), nil))
	active := any("True")
	if compliant {
		active = true
	}
	created := c.Must(201, "POST", "/Users", map[string]any{
		"schemas":    []string{coreUser, entUser, "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User"},
		"externalId": "ext-" + suffix, "userName": user, "active": active, "displayName": nil,
		"emails": []any{map[string]any{"primary": true, "type": "work", "value": user}},
		"name":   map[string]any{"formatted": "Ada Lovelace", "familyName": "Lovelace", "givenName": "Ada"},
		"title":  nil,
		entUser:  map[string]any{"employeeNumber": "1001", "department": nil},
		"urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User": map[string]any{"CustomAttribute": "x"},
	})
	uid := id(created)
	mgr := id(c.Must(201, "POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": "boss." + suffix + "@contoso.com",
		"name": map[string]any{"givenName": "Boss", "familyName": "Person"}, "active": true}))
	tg.expectAttr(t, tg.stored(t, backends.User, uid), tg.Active, tg.ActiveTrue)

	ops := []any{
		map[string]any{"op": "Replace", "path": `emails[type eq "work"].value`, "value": "ada." + suffix + "@contoso.com"},
		map[string]any{"op": "Replace", "path": "name.familyName", "value": "King"},
		map[string]any{"op": "Replace", "path": entUser + ":employeeNumber", "value": "2002"},
		map[string]any{"op": "Add", "path": `phoneNumbers[type eq "mobile"].value`, "value": "+1 555 0100"},
	}
	if compliant {
		ops = append(ops, map[string]any{"op": "replace", "value": map[string]any{"name.givenName": "Augusta", entUser + ":department": "R&D"}})
	}
	c.Must(200, "PATCH", "/Users/"+uid, map[string]any{"schemas": []string{patchOp}, "Operations": ops})
	rec := tg.stored(t, backends.User, uid)
	tg.expectAttr(t, rec, tg.Email, "ada."+suffix+"@contoso.com")
	tg.expectAttr(t, rec, tg.FamilyName, "King")
	tg.expectAttr(t, rec, tg.EmployeeNumber, "2002")
	tg.expectAttr(t, rec, tg.Mobile, "+1 555 0100")
	if compliant {
		tg.expectAttr(t, rec, tg.GivenName, "Augusta")
	}
	// Manager: a bare string in a second PATCH.
	c.Must(200, "PATCH", "/Users/"+uid, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "Add", "path": entUser + ":manager", "value": mgr}}})
	tg.expectAttr(t, tg.stored(t, backends.User, uid), tg.Manager, mgr)
	// Disable.
	var disable any = "False"
	if compliant {
		disable = false
	}
	c.Must(200, "PATCH", "/Users/"+uid, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "Replace", "path": "active", "value": disable}}})
	tg.expectAttr(t, tg.stored(t, backends.User, uid), tg.Active, tg.ActiveFalse)

	// Groups: created empty, members PATCHed in, read without members.
	g := c.Must(201, "POST", "/Groups", map[string]any{"schemas": []string{coreGroup}, "displayName": "Entra " + suffix, "externalId": "g-" + suffix})
	gid := id(g)
	r := c.Do("PATCH", "/Groups/"+gid, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "Add", "path": "members", "value": []any{map[string]any{"value": uid}, map[string]any{"value": mgr}}}}})
	if r.Status != 204 {
		t.Errorf("group PATCH answered %d, Entra expects 204", r.Status)
	}
	tg.expectMembers(t, gid, uid, mgr)
	rg := c.Must(200, "GET", "/Groups/"+gid+"?excludedAttributes=members", nil)
	if _, ok := rg.JSON["members"]; ok {
		t.Errorf("excludedAttributes=members still returned members: %s", rg.Body)
	}
	rl := c.Must(200, "GET", "/Groups?excludedAttributes=members&filter="+q(`displayName eq "Entra `+suffix+`"`), nil)
	if bridgetest.Str(rl.JSON, "totalResults") != "1" || strings.Contains(string(rl.Body), `"members"`) {
		t.Errorf("group query: %s", rl.Body)
	}
	remove := map[string]any{"op": "Remove", "path": "members", "value": []any{map[string]any{"value": uid}}}
	if compliant {
		remove = map[string]any{"op": "remove", "path": `members[value eq "` + uid + `"]`}
	}
	c.Must(204, "PATCH", "/Groups/"+gid, map[string]any{"schemas": []string{patchOp}, "Operations": []any{remove}})
	tg.expectMembers(t, gid, mgr)
	c.Must(204, "DELETE", "/Groups/"+gid, nil)
	c.Must(204, "DELETE", "/Users/"+uid, nil)
	c.Must(204, "DELETE", "/Users/"+mgr, nil)
	if _, ok := tg.find(t, backends.User, tg.UserName, user); ok {
		t.Errorf("deleted user %s still stored", user)
	}
}

func onelogin(t *testing.T, tg *Target) {
	c := tg.Client
	c.Headers = map[string]string{"Accept": "application/json"}
	defer func() { c.Headers = nil }()
	user := "ol.max@example.org"
	first := c.Do("GET", "/Users?filter=userName+eq+%22"+user+"%22&", nil)
	expectEmptyList(t, first)
	if ct := first.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Accept: application/json answered %q", ct)
	}
	created := c.Must(201, "POST", "/Users", map[string]any{
		"schemas": []string{"urn:scim:schemas:core:2.0", entUser}, "userName": user, "active": "true",
		"name":   map[string]any{"givenName": "Max", "familyName": "Mustermann"},
		"emails": []any{map[string]any{"value": user, "primary": "true"}},
		entUser:  map[string]any{"employeeNumber": "77"},
	})
	uid := id(created)
	mgr := id(c.Must(201, "POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": "ol.boss@example.org",
		"name": map[string]any{"givenName": "Olga", "familyName": "Boss"}, "active": "true"}))
	rec := tg.stored(t, backends.User, uid)
	tg.expectAttr(t, rec, tg.Email, user)
	tg.expectAttr(t, rec, tg.Active, tg.ActiveTrue)
	tg.expectAttr(t, rec, tg.EmployeeNumber, "77")
	// Updates are PUTs of the admin's template.
	c.Must(200, "PUT", "/Users/"+uid, map[string]any{
		"schemas": []string{"urn:scim:schemas:core:2.0", entUser}, "userName": user, "active": "false",
		"name":   map[string]any{"givenName": "Max", "familyName": "Muster"},
		"emails": []any{map[string]any{"value": user, "primary": "true"}},
		entUser:  map[string]any{"employeeNumber": "78", "manager": map[string]any{"managerId": mgr}},
	})
	rec = tg.stored(t, backends.User, uid)
	tg.expectAttr(t, rec, tg.FamilyName, "Muster")
	tg.expectAttr(t, rec, tg.Active, tg.ActiveFalse)
	tg.expectAttr(t, rec, tg.EmployeeNumber, "78")
	tg.expectAttr(t, rec, tg.Manager, mgr)
	g := c.Must(201, "POST", "/Groups", map[string]any{"schemas": []string{coreGroup}, "displayName": "OneLogin Staff"})
	gid := id(g)
	r := c.Do("PATCH", "/Groups/"+gid, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": uid}}}}})
	if r.Status != 200 && r.Status != 204 {
		t.Fatalf("membership PATCH: %d %s", r.Status, r.Body)
	}
	tg.expectMembers(t, gid, uid)
	c.Must(204, "DELETE", "/Groups/"+gid, nil)
	c.Must(204, "DELETE", "/Users/"+uid, nil)
	c.Must(204, "DELETE", "/Users/"+mgr, nil)
}
