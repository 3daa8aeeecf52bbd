package scimtest

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/bridge/bridgetest"
)

// ProtocolMapping says what the endpoint's mapping holds that RunProtocol
// relies on; checks of attributes it lacks are skipped.
type ProtocolMapping struct {
	MetaCreated bool // meta.created is mapped (a store timestamp)
	DisplayName bool // the User's displayName is mapped
	Manager     bool // the enterprise extension's manager is mapped
}

// RunProtocol checks the SCIM protocol details of issue #16 on a live
// endpoint: member objects as clients send them, attribute names in any
// case, value filters in attributes lists.
func RunProtocol(t *testing.T, c *bridgetest.Client, m ProtocolMapping) {
	t.Helper()
	run := func(name string, f func(t *testing.T, c *bridgetest.Client)) {
		t.Run(name, func(t *testing.T) {
			sc := *c // failures end the subtest, not its parent
			sc.T = t
			f(t, &sc)
		})
	}
	run("MemberObjects", protocolMembers)
	run("AttributeNameCase", func(t *testing.T, c *bridgetest.Client) { protocolNameCase(t, c, m) })
	run("AttributesValueFilter", protocolAttributesFilter)
	if m.Manager {
		run("UnknownManager", protocolUnknownManager)
		run("DeletedManager", protocolDeletedManager)
	}
	run("MemberDisplay", func(t *testing.T, c *bridgetest.Client) { protocolDisplay(t, c, m) })
	run("RootSearch", func(t *testing.T, c *bridgetest.Client) { protocolRootSearch(t, c, m) })
	run("Bulk", func(t *testing.T, c *bridgetest.Client) { protocolBulk(t, c, m) })
}

func protocolUser(t *testing.T, c *bridgetest.Client, userName, given, family string) string {
	t.Helper()
	return id(c.Must(201, "POST", "/Users", map[string]any{
		"schemas": []string{coreUser}, "userName": userName,
		"name":   map[string]any{"givenName": given, "familyName": family},
		"emails": []any{map[string]any{"type": "work", "value": userName, "primary": true}},
		"active": true,
	}))
}

func memberIDs(r *bridgetest.Response) []string {
	list, _ := r.JSON["members"].([]any)
	var out []string
	for _, el := range list {
		if m, ok := el.(map[string]any); ok {
			out = append(out, bridgetest.Str(m, "value"))
		}
	}
	return out
}

// protocolMembers: member values carrying displayName (for display),
// $ref and type, as some clients send them, are accepted on POST, PUT
// and PATCH; only the value is written.
func protocolMembers(t *testing.T, c *bridgetest.Client) {
	a := protocolUser(t, c, "proto.member.a@example.com", "Mem", "Ber")
	b := protocolUser(t, c, "proto.member.b@example.com", "Mem", "Bers")
	member := func(uid string) map[string]any {
		return map[string]any{"value": uid, "displayName": "Someone", "$ref": c.Base + "/Users/" + uid, "type": "User"}
	}
	g := c.Must(201, "POST", "/Groups", map[string]any{
		"schemas": []string{coreGroup}, "displayName": "Proto Members", "members": []any{member(a)}})
	gid := id(g)
	c.Must(204, "PATCH", "/Groups/"+gid, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "add", "path": "members", "value": []any{member(b)}}}})
	got := memberIDs(c.Must(200, "GET", "/Groups/"+gid, nil))
	if len(got) != 2 || !slices.Contains(got, a) || !slices.Contains(got, b) {
		t.Errorf("members after POST and PATCH with displayName/$ref/type: %v, want %s and %s", got, a, b)
	}
	c.Must(204, "PATCH", "/Groups/"+gid, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "remove", "path": "members", "value": []any{member(a)}}}})
	c.Must(200, "PUT", "/Groups/"+gid, map[string]any{
		"schemas": []string{coreGroup}, "displayName": "Proto Members", "members": []any{member(a)}})
	if got := memberIDs(c.Must(200, "GET", "/Groups/"+gid, nil)); len(got) != 1 || got[0] != a {
		t.Errorf("members after remove and PUT: %v, want [%s]", got, a)
	}
	// Still refused: a member without a value, an unknown sub-attribute.
	c.Must(400, "PATCH", "/Groups/"+gid, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"displayName": "x"}}}}})
	c.Must(400, "PATCH", "/Groups/"+gid, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": b, "colour": "red"}}}}})
}

// protocolNameCase: attribute and sub-attribute names are matched
// case-insensitively (RFC 7643 §2.1) in filters, sortBy, attributes,
// excludedAttributes and PATCH paths.
func protocolNameCase(t *testing.T, c *bridgetest.Client, m ProtocolMapping) {
	uid := protocolUser(t, c, "proto.case@example.com", "Case", "Insensitive")
	protocolUser(t, c, "proto.case2@example.com", "Case", "Another")
	list := func(query string) *bridgetest.Response {
		t.Helper()
		return c.Must(200, "GET", "/Users?"+query, nil)
	}
	only := func(filter string) {
		t.Helper()
		r := list("filter=" + url.QueryEscape(filter))
		list, _ := r.JSON["Resources"].([]any)
		if bridgetest.Str(r.JSON, "totalResults") != "1" || len(list) != 1 || bridgetest.Str(list[0].(map[string]any), "id") != uid {
			t.Errorf("filter %s: %s, want only %s", filter, trunc(r.Body), uid)
		}
	}
	only(`name.FamilyName eq "Insensitive"`)
	only(`NAME.familyname EQ "Insensitive"`)
	only(`emails.Value eq "proto.case@example.com"`)
	only(`Emails[Type eq "work" and Value eq "proto.case@example.com"]`)
	only(`UserName eq "proto.case@example.com"`)
	if m.MetaCreated {
		r := list("filter=" + url.QueryEscape(`meta.Created gt "2000-01-01T00:00:00Z" and userName sw "proto.case"`))
		if bridgetest.Str(r.JSON, "totalResults") != "2" {
			t.Errorf("filter meta.Created: %s, want both users", trunc(r.Body))
		}
	}
	r := list("filter=" + url.QueryEscape(`userName sw "proto.case"`) + "&sortBy=name.FamilyName")
	if l, _ := r.JSON["Resources"].([]any); len(l) != 2 || bridgetest.Str(l[0].(map[string]any), "name", "familyName") != "Another" {
		t.Errorf("sortBy=name.FamilyName: %s, want Another first", trunc(r.Body))
	}
	r = list("filter=" + url.QueryEscape(`userName sw "proto.case"`) + "&sortBy=NAME.FAMILYNAME&sortOrder=descending")
	if l, _ := r.JSON["Resources"].([]any); len(l) != 2 || bridgetest.Str(l[0].(map[string]any), "name", "familyName") != "Insensitive" {
		t.Errorf("sortBy=NAME.FAMILYNAME descending: %s, want Insensitive first", trunc(r.Body))
	}
	attrs := "name.FamilyName,emails.Value"
	if m.MetaCreated {
		attrs += ",meta.Created"
	}
	g := c.Must(200, "GET", "/Users/"+uid+"?attributes="+url.QueryEscape(attrs), nil)
	if bridgetest.Str(g.JSON, "name", "familyName") != "Insensitive" || bridgetest.Str(g.JSON, "name", "givenName") != "" ||
		bridgetest.Str(g.JSON, "userName") != "" || !strings.Contains(string(g.Body), `"proto.case@example.com"`) ||
		strings.Contains(string(g.Body), `"work"`) {
		t.Errorf("attributes=%s: %s", attrs, trunc(g.Body))
	}
	if m.MetaCreated && bridgetest.Str(g.JSON, "meta", "created") == "" {
		t.Errorf("attributes=%s: no meta.created in %s", attrs, trunc(g.Body))
	}
	g = c.Must(200, "GET", "/Users/"+uid+"?excludedAttributes=Name.GivenName,EMAILS", nil)
	if bridgetest.Str(g.JSON, "name", "givenName") != "" || bridgetest.Str(g.JSON, "name", "familyName") != "Insensitive" || g.JSON["emails"] != nil {
		t.Errorf("excludedAttributes=Name.GivenName,EMAILS: %s", trunc(g.Body))
	}
	c.Must(200, "PATCH", "/Users/"+uid, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "replace", "path": "name.FamilyName", "value": "Renamed"},
		map[string]any{"op": "replace", "path": `Emails[Type eq "work"].Value`, "value": "proto.case.new@example.com"},
	}})
	g = c.Must(200, "GET", "/Users/"+uid, nil)
	if bridgetest.Str(g.JSON, "name", "familyName") != "Renamed" || !strings.Contains(string(g.Body), "proto.case.new@example.com") {
		t.Errorf("after PATCH of name.FamilyName and Emails[Type eq \"work\"].Value: %s", trunc(g.Body))
	}
}

// protocolAttributesFilter: attributes=emails[type eq "work"] is read as
// attributes=emails (every value is returned), and so is the form with a
// sub-attribute; a comma inside the filter does not split the list.
func protocolAttributesFilter(t *testing.T, c *bridgetest.Client) {
	uid := protocolUser(t, c, "proto.attrs@example.com", "Attr", "Filter")
	for _, attrs := range []string{`emails[type eq "work"]`, `emails[type eq "a,b"],userName`, `Emails[Type eq "work"].value`} {
		g := c.Must(200, "GET", "/Users/"+uid+"?attributes="+url.QueryEscape(attrs), nil)
		if !strings.Contains(string(g.Body), "proto.attrs@example.com") || bridgetest.Str(g.JSON, "name", "familyName") != "" {
			t.Errorf("attributes=%s: %s, want the e-mail and no name", attrs, trunc(g.Body))
		}
		r := c.Must(200, "POST", "/Users/.search", map[string]any{"schemas": []string{searchRequest},
			"filter": `userName eq "proto.attrs@example.com"`, "attributes": []string{attrs}})
		if !strings.Contains(string(r.Body), "proto.attrs@example.com") || strings.Contains(string(r.Body), `"Filter"`) {
			t.Errorf(".search attributes [%s]: %s", attrs, trunc(r.Body))
		}
	}
	c.Must(400, "GET", "/Users/"+uid+"?attributes="+url.QueryEscape(`emails[type eq "work"`), nil)
	c.Must(400, "GET", "/Users/"+uid+"?attributes="+url.QueryEscape(`nosuch[type eq "work"]`), nil)
}

const searchRequest = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"

// unknownIDs are ids of no user, in the forms backends use (a number, a
// UUID, neither).
var unknownIDs = []string{"987654321", "0b5e2a4c-6f1d-4e7a-9c3b-2d8f0a1e5b77", "no-such-user"}

// protocolUnknownManager: a manager that names no user is left out of a
// create, and a PUT or PATCH naming one keeps the stored manager
// (unknown_manager = "ignore", the default); the answer is the GET after
// it. A member that names no user is still refused.
func protocolUnknownManager(t *testing.T, c *bridgetest.Client) {
	boss := protocolUser(t, c, "proto.boss@example.com", "Big", "Boss")
	for i, bad := range unknownIDs {
		name := "proto.managed" + string(rune('a'+i)) + "@example.com"
		r := c.Must(201, "POST", "/Users", map[string]any{"schemas": []string{coreUser, entUser}, "userName": name,
			"name": map[string]any{"givenName": "Man", "familyName": "Aged"}, entUser: map[string]any{"employeeNumber": "77", "manager": map[string]any{"value": bad}}})
		uid := id(r)
		if bridgetest.Str(r.JSON, entUser, "manager", "value") != "" {
			t.Errorf("POST with manager %q: %s, want no manager", bad, trunc(r.Body))
		}
		sameAsGet(t, c, "POST /Users with an unknown manager", r, "/Users/"+uid)
		c.Must(200, "PATCH", "/Users/"+uid, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
			map[string]any{"op": "replace", "path": entUser + ":manager", "value": boss}}})
		// A blind PATCH, a PATCH that reads first (If-Match) and a PUT.
		r = c.Must(200, "PATCH", "/Users/"+uid, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
			map[string]any{"op": "replace", "path": entUser + ":manager", "value": bad},
			map[string]any{"op": "replace", "path": "title", "value": "Blind"}}})
		sameAsGet(t, c, "PATCH with an unknown manager", r, "/Users/"+uid)
		etag := r.Header.Get("ETag")
		c.Headers = map[string]string{"If-Match": etag}
		r = c.Must(200, "PATCH", "/Users/"+uid, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
			map[string]any{"op": "replace", "value": map[string]any{entUser + ":manager": map[string]any{"value": bad}, "title": "Read"}}}})
		c.Headers = nil
		sameAsGet(t, c, "PATCH (If-Match) with an unknown manager", r, "/Users/"+uid)
		r = c.Must(200, "PUT", "/Users/"+uid, map[string]any{"schemas": []string{coreUser, entUser}, "userName": name, "title": "Put", "active": true,
			"name": map[string]any{"givenName": "Man", "familyName": "Aged"}, entUser: map[string]any{"employeeNumber": "77", "manager": map[string]any{"value": bad}}})
		sameAsGet(t, c, "PUT with an unknown manager", r, "/Users/"+uid)
		if got := bridgetest.Str(r.JSON, entUser, "manager", "value"); got != boss || bridgetest.Str(r.JSON, "title") != "Put" {
			t.Errorf("after PATCH and PUT with manager %q: %s, want the manager %s kept and title Put", bad, trunc(r.Body), boss)
		}
		c.Must(400, "POST", "/Groups", map[string]any{"schemas": []string{coreGroup}, "displayName": "Proto Unknown " + name,
			"members": []any{map[string]any{"value": uid}, map[string]any{"value": bad}}})
	}
}

// displays maps member ids to their display in a group answer.
func displays(r *bridgetest.Response) map[string]string {
	out := map[string]string{}
	list, _ := r.JSON["members"].([]any)
	for _, el := range list {
		if m, ok := el.(map[string]any); ok {
			out[bridgetest.Str(m, "value")] = bridgetest.Str(m, "display")
		}
	}
	return out
}

// protocolDisplay: group members carry display, the member's displayName
// or else its userName, in GET, lists, .search and the answer to POST;
// a rename shows in the next GET without changing the group's ETag.
func protocolDisplay(t *testing.T, c *bridgetest.Client, m ProtocolMapping) {
	a := protocolUser(t, c, "proto.display.a@example.com", "Dis", "Play")
	b := protocolUser(t, c, "proto.display.b@example.com", "Dis", "Plays")
	wantA := "proto.display.a@example.com"
	if m.DisplayName {
		wantA = "Alpha Display"
		c.Must(200, "PATCH", "/Users/"+a, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
			map[string]any{"op": "replace", "path": "displayName", "value": wantA}}})
	}
	created := c.Must(201, "POST", "/Groups", map[string]any{"schemas": []string{coreGroup}, "displayName": "Proto Display",
		"members": []any{map[string]any{"value": a}, map[string]any{"value": b}}})
	gid := id(created)
	sameAsGet(t, c, "POST /Groups", created, "/Groups/"+gid)
	check := func(what string, r *bridgetest.Response, a, wantA string) {
		t.Helper()
		d := displays(r)
		if d[a] != wantA || d[b] != "proto.display.b@example.com" || len(d) != 2 {
			t.Errorf("%s: member displays %v, want %s=%q and %s=userName", what, d, a, wantA, b)
		}
	}
	check("POST /Groups", created, a, wantA)
	g := c.Must(200, "GET", "/Groups/"+gid, nil)
	check("GET /Groups/id", g, a, wantA)
	l := c.Must(200, "GET", "/Groups?filter="+url.QueryEscape(`displayName eq "Proto Display"`), nil)
	if res, _ := l.JSON["Resources"].([]any); len(res) == 1 {
		check("GET /Groups?filter", &bridgetest.Response{JSON: res[0].(map[string]any)}, a, wantA)
	} else {
		t.Errorf("list: %s", trunc(l.Body))
	}
	l = c.Must(200, "POST", "/Groups/.search", map[string]any{"schemas": []string{searchRequest}, "filter": `id eq "` + gid + `"`})
	if res, _ := l.JSON["Resources"].([]any); len(res) == 1 {
		check("POST /Groups/.search by id", &bridgetest.Response{JSON: res[0].(map[string]any)}, a, wantA)
	} else {
		t.Errorf(".search: %s", trunc(l.Body))
	}
	if r := c.Must(200, "GET", "/Groups/"+gid+"?excludedAttributes=members", nil); r.JSON["members"] != nil {
		t.Errorf("excludedAttributes=members: %s", trunc(r.Body))
	}
	r := c.Must(200, "GET", "/Groups/"+gid+"?attributes=members.display", nil)
	if list, _ := r.JSON["members"].([]any); len(list) != 2 || !strings.Contains(string(r.Body), `"display":"`+wantA+`"`) || strings.Contains(string(r.Body), `"value"`) {
		t.Errorf("attributes=members.display: %s", trunc(r.Body))
	}
	// display is derived when a group is read: not searchable.
	for _, f := range []string{`members.display eq "x"`, `members[display eq "x"]`, `displayName eq "x" or members.DISPLAY pr`} {
		c.Must(400, "GET", "/Groups?filter="+url.QueryEscape(f), nil)
	}
	c.Must(400, "GET", "/Groups?sortBy=members.display", nil)
	if !m.DisplayName {
		return
	}
	c.Must(200, "PATCH", "/Users/"+a, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "replace", "path": "displayName", "value": "Alpha Renamed"}}})
	after := c.Must(200, "GET", "/Groups/"+gid, nil)
	check("GET after the member's rename", after, a, "Alpha Renamed")
	if after.Header.Get("ETag") != g.Header.Get("ETag") {
		t.Errorf("the group's ETag changed with a member's rename: %s -> %s", g.Header.Get("ETag"), after.Header.Get("ETag"))
	}
	c.Must(200, "PATCH", "/Users/"+a, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "remove", "path": "displayName"}}})
	check("GET after the member's displayName is removed", c.Must(200, "GET", "/Groups/"+gid, nil), a, "proto.display.a@example.com")
}

// rootNames lists "resourceType:name" of a root search answer's resources,
// name being the displayName (or the userName).
func rootNames(t *testing.T, r *bridgetest.Response) []string {
	t.Helper()
	list, _ := r.JSON["Resources"].([]any)
	var out []string
	for _, el := range list {
		m, _ := el.(map[string]any)
		name := bridgetest.Str(m, "displayName")
		if name == "" {
			name = bridgetest.Str(m, "userName")
		}
		out = append(out, bridgetest.Str(m, "meta", "resourceType")+":"+name)
	}
	return out
}

// protocolRootSearch: POST /.search at the endpoint root searches Users
// and Groups together, pages through both and sorts across them.
func protocolRootSearch(t *testing.T, c *bridgetest.Client, m ProtocolMapping) {
	var users []string
	for i := 1; i <= 3; i++ {
		name := "proto.root.u" + string(rune('0'+i)) + "@example.com"
		body := map[string]any{"schemas": []string{coreUser}, "userName": name, "active": true,
			"name": map[string]any{"givenName": "Ro", "familyName": "Ot"}}
		if m.DisplayName {
			body["displayName"] = "proto.root u" + string(rune('0'+i))
		}
		c.Must(201, "POST", "/Users", body)
		users = append(users, name)
	}
	for _, g := range []string{"proto.root g1", "proto.root g2"} {
		c.Must(201, "POST", "/Groups", map[string]any{"schemas": []string{coreGroup}, "displayName": g})
	}
	search := func(body map[string]any) *bridgetest.Response {
		t.Helper()
		body["schemas"] = []string{searchRequest}
		return c.Must(200, "POST", "/.search", body)
	}
	expect := func(what string, r *bridgetest.Response, total string, want ...string) {
		t.Helper()
		got := rootNames(t, r)
		if bridgetest.Str(r.JSON, "totalResults") != total || strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%s: totalResults %s, resources %v; want %s and %v", what, bridgetest.Str(r.JSON, "totalResults"), got, total, want)
		}
	}
	// A filter on an attribute only Users define finds only users.
	shown := users
	if m.DisplayName {
		shown = []string{"proto.root u1", "proto.root u2", "proto.root u3"}
	}
	expect("userName filter", search(map[string]any{"filter": `userName sw "proto.root."`, "sortBy": "userName"}), "3",
		"User:"+shown[0], "User:"+shown[1], "User:"+shown[2])
	if !m.DisplayName {
		expect("displayName filter", search(map[string]any{"filter": `displayName sw "proto.root"`, "sortBy": "displayName"}), "2",
			"Group:proto.root g1", "Group:proto.root g2")
		return
	}
	all := []string{"Group:proto.root g1", "Group:proto.root g2", "User:proto.root u1", "User:proto.root u2", "User:proto.root u3"}
	f := `displayName sw "proto.root"`
	expect("sorted", search(map[string]any{"filter": f, "sortBy": "displayName"}), "5", all...)
	expect("sorted descending", search(map[string]any{"filter": f, "sortBy": "DisplayName", "sortOrder": "descending"}), "5",
		all[4], all[3], all[2], all[1], all[0])
	expect("sorted page 2", search(map[string]any{"filter": f, "sortBy": "displayName", "startIndex": 2, "count": 2}), "5", all[1], all[2])
	expect("sorted last page", search(map[string]any{"filter": f, "sortBy": "displayName", "startIndex": 5, "count": 2}), "5", all[4])
	expect("count 0", search(map[string]any{"filter": f, "count": 0}), "5")
	// Without sortBy: the users, then the groups, page by page.
	seen := map[string]bool{}
	for start := 1; start <= 5; start += 2 {
		r := search(map[string]any{"filter": f, "startIndex": start, "count": 2})
		names := rootNames(t, r)
		if bridgetest.Str(r.JSON, "totalResults") != "5" || len(names) != min(2, 6-start) || bridgetest.Str(r.JSON, "startIndex") != fmt.Sprint(start) {
			t.Errorf("page at %d: %s", start, trunc(r.Body))
		}
		for _, n := range names {
			if seen[n] {
				t.Errorf("page at %d repeats %s", start, n)
			}
			seen[n] = true
		}
	}
	if len(seen) != 5 {
		t.Errorf("the pages held %v, want all five", seen)
	}
	// attributes apply where they are defined.
	r := search(map[string]any{"filter": f, "sortBy": "displayName", "attributes": []string{"userName", "displayName"}})
	// (meta is not asked for: the names come without resource type)
	expect("attributes", r, "5", ":proto.root g1", ":proto.root g2", ":proto.root u1", ":proto.root u2", ":proto.root u3")
	if strings.Contains(string(r.Body), `"familyName"`) || !strings.Contains(string(r.Body), `"userName":"proto.root.u1@example.com"`) {
		t.Errorf("attributes userName, displayName: %s", trunc(r.Body))
	}
	for _, bad := range []map[string]any{
		{"filter": `noSuchAttribute eq "x"`},
		{"filter": `displayName sw`},
		{"attributes": []string{"noSuchAttribute"}},
		{"sortBy": "noSuchAttribute"},
		{"sortOrder": "sideways"},
	} {
		bad["schemas"] = []string{searchRequest}
		if r := c.Do("POST", "/.search", bad); r.Status != 400 {
			t.Errorf("POST /.search %v: %d %s, want 400", bad, r.Status, trunc(r.Body))
		}
	}
}

const bulkRequest = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"

// bulkStatuses returns the status of each operation of a BulkResponse,
// and the operations.
func bulkStatuses(t *testing.T, r *bridgetest.Response) ([]string, []map[string]any) {
	t.Helper()
	list, _ := r.JSON["Operations"].([]any)
	var st []string
	var ops []map[string]any
	for _, el := range list {
		m, _ := el.(map[string]any)
		st = append(st, bridgetest.Str(m, "status"))
		ops = append(ops, m)
	}
	return st, ops
}

func bulkUser(name string) map[string]any {
	return map[string]any{"schemas": []string{coreUser}, "userName": name, "active": true,
		"name": map[string]any{"givenName": "Bulk", "familyName": "User"}}
}

// count returns how many resources a filter finds.
func count(t *testing.T, c *bridgetest.Client, endpoint, filter string) string {
	t.Helper()
	return bridgetest.Str(c.Must(200, "GET", endpoint+"?count=0&filter="+url.QueryEscape(filter), nil).JSON, "totalResults")
}

// protocolBulk: /Bulk with bulkId references (a user created and added
// to a group in the same request, forward references, a manager),
// failing operations mid-way with and without failOnErrors, circular
// references, and what /ServiceProviderConfig says of it.
func protocolBulk(t *testing.T, c *bridgetest.Client, m ProtocolMapping) {
	spc := c.Must(200, "GET", "/ServiceProviderConfig", nil)
	maxOps, _ := strconv.Atoi(bridgetest.Str(spc.JSON, "bulk", "maxOperations"))
	maxSize, _ := strconv.Atoi(bridgetest.Str(spc.JSON, "bulk", "maxPayloadSize"))
	if bridgetest.Str(spc.JSON, "bulk", "supported") != "true" || maxOps < 10 || maxSize < 1000 {
		t.Fatalf("/ServiceProviderConfig bulk: %v", spc.JSON["bulk"])
	}
	bulk := func(failOn int, ops ...map[string]any) *bridgetest.Response {
		t.Helper()
		body := map[string]any{"schemas": []string{bulkRequest}, "Operations": ops}
		if failOn > 0 {
			body["failOnErrors"] = failOn
		}
		return c.Must(200, "POST", "/Bulk", body)
	}
	want := func(what string, r *bridgetest.Response, statuses ...string) []map[string]any {
		t.Helper()
		got, ops := bulkStatuses(t, r)
		if strings.Join(got, ",") != strings.Join(statuses, ",") {
			t.Errorf("%s: statuses %v, want %v; %s", what, got, statuses, trunc(r.Body))
		}
		return ops
	}
	u2 := bulkUser("proto.bulk.u2@example.com")
	if m.Manager {
		u2[entUser] = map[string]any{"manager": map[string]any{"value": "bulkId:u1"}}
		u2["schemas"] = []string{coreUser, entUser}
	}
	// The group comes first and names users created after it: it waits.
	ops := want("references", bulk(0,
		map[string]any{"method": "POST", "path": "/Groups", "bulkId": "g1", "data": map[string]any{
			"schemas": []string{coreGroup}, "displayName": "Proto Bulk", "members": []any{map[string]any{"value": "bulkId:u1"}}}},
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "u1", "data": bulkUser("proto.bulk.u1@example.com")},
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "u2", "data": u2},
		map[string]any{"method": "PATCH", "path": "/Groups/bulkId:g1", "data": map[string]any{"schemas": []string{patchOp},
			"Operations": []any{map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": "bulkId:u2"}}}}}},
		map[string]any{"method": "PUT", "path": "/Users/bulkId:u1", "data": map[string]any{"schemas": []string{coreUser},
			"userName": "proto.bulk.u1@example.com", "title": "Put in bulk", "active": true, "name": map[string]any{"givenName": "Bulk", "familyName": "User"}}},
	), "201", "201", "201", "204", "200")
	if len(ops) != 5 {
		t.FailNow()
	}
	gid, u1, u2id := bridgetest.Str(ops[0], "response", "id"), bridgetest.Str(ops[1], "response", "id"), bridgetest.Str(ops[2], "response", "id")
	if gid == "" || u1 == "" || u2id == "" || !strings.HasSuffix(bridgetest.Str(ops[1], "location"), "/Users/"+u1) || bridgetest.Str(ops[1], "bulkId") != "u1" {
		t.Fatalf("bulk answers: %v", ops)
	}
	g := c.Must(200, "GET", "/Groups/"+gid, nil)
	if got := memberIDs(g); len(got) != 2 || !slices.Contains(got, u1) || !slices.Contains(got, u2id) {
		t.Errorf("group created in bulk: members %v, want %s and %s", got, u1, u2id)
	}
	if v := bridgetest.Str(ops[3], "version"); v != g.Header.Get("ETag") {
		t.Errorf("bulk PATCH version %s, GET ETag %s", v, g.Header.Get("ETag"))
	}
	got := c.Must(200, "GET", "/Users/"+u1, nil)
	if bridgetest.Str(got.JSON, "title") != "Put in bulk" || bridgetest.Str(ops[4], "version") != got.Header.Get("ETag") {
		t.Errorf("user after bulk PUT: %s (version %s)", trunc(got.Body), bridgetest.Str(ops[4], "version"))
	}
	if m.Manager {
		if mgr := bridgetest.Str(c.Must(200, "GET", "/Users/"+u2id, nil).JSON, entUser, "manager", "value"); mgr != u1 {
			t.Errorf("manager set by bulkId: %q, want %s", mgr, u1)
		}
	}
	// A failing operation mid-way: the others run; failOnErrors stops.
	ops = want("failure mid-way", bulk(0,
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "a", "data": bulkUser("proto.bulk.a@example.com")},
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "dup", "data": bulkUser("proto.bulk.a@example.com")},
		map[string]any{"method": "POST", "path": "/Groups", "bulkId": "gd", "data": map[string]any{"displayName": "Proto Bulk Dup",
			"members": []any{map[string]any{"value": "bulkId:dup"}}}},
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "b", "data": bulkUser("proto.bulk.b@example.com")},
		map[string]any{"method": "PATCH", "path": "/Users/" + u1, "version": `W/"stale"`, "data": map[string]any{
			"Operations": []any{map[string]any{"op": "replace", "path": "title", "value": "x"}}}},
		map[string]any{"method": "DELETE", "path": "/Users/no-such-user"},
	), "201", "409", "409", "201", "412", "404")
	if len(ops) == 6 && (bridgetest.Str(ops[1], "response", "scimType") != "uniqueness" || bridgetest.Str(ops[1], "response", "status") != "409") {
		t.Errorf("duplicate userName in bulk: %v", ops[1])
	}
	if n := count(t, c, "/Users", `userName eq "proto.bulk.b@example.com"`); n != "1" {
		t.Errorf("the operation after the failures did not run: %s users", n)
	}
	want("failOnErrors", bulk(1,
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "c", "data": bulkUser("proto.bulk.c@example.com")},
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "d", "data": map[string]any{"name": map[string]any{"givenName": "No userName"}}},
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "e", "data": bulkUser("proto.bulk.e@example.com")},
	), "201", "400")
	if n := count(t, c, "/Users", `userName eq "proto.bulk.e@example.com"`); n != "0" {
		t.Errorf("an operation after failOnErrors was reached ran: %s users", n)
	}
	// Circular references through members and managers are broken up:
	// the first POST of the circle is created without them, and a PATCH
	// adds them once the others exist. (The group waits for a user whose
	// manager waits for a user whose manager waits for the first.)
	if m.Manager {
		x, y := bulkUser("proto.bulk.x@example.com"), bulkUser("proto.bulk.y@example.com")
		x[entUser] = map[string]any{"manager": map[string]any{"value": "bulkId:y"}}
		y[entUser] = map[string]any{"manager": "bulkId:x"}
		ops = want("circular references", bulk(0,
			map[string]any{"method": "POST", "path": "/Groups", "bulkId": "cg", "data": map[string]any{"displayName": "Proto Circle",
				"members": []any{map[string]any{"value": "bulkId:x"}, map[string]any{"value": u1}}}},
			map[string]any{"method": "POST", "path": "/Users", "bulkId": "x", "data": x},
			map[string]any{"method": "POST", "path": "/Users", "bulkId": "y", "data": y},
		), "201", "201", "201")
		if len(ops) == 3 {
			cg, xid, yid := bridgetest.Str(ops[0], "response", "id"), bridgetest.Str(ops[1], "response", "id"), bridgetest.Str(ops[2], "response", "id")
			g := c.Must(200, "GET", "/Groups/"+cg, nil)
			if got := memberIDs(g); len(got) != 2 || !slices.Contains(got, xid) || !slices.Contains(got, u1) {
				t.Errorf("the group of the circle: members %v, want %s and %s", got, xid, u1)
			}
			if got := memberIDs(&bridgetest.Response{JSON: ops[0]["response"].(map[string]any)}); len(got) != 2 || bridgetest.Str(ops[0], "version") != g.Header.Get("ETag") {
				t.Errorf("the group's answer (%v, version %s) is not the GET after (ETag %s)", got, bridgetest.Str(ops[0], "version"), g.Header.Get("ETag"))
			}
			xg := c.Must(200, "GET", "/Users/"+xid, nil)
			if got := bridgetest.Str(ops[1], "response", entUser, "manager", "value"); got != yid || bridgetest.Str(ops[1], "version") != xg.Header.Get("ETag") {
				t.Errorf("x's manager in the answer: %q (version %s), want %s (ETag %s)", got, bridgetest.Str(ops[1], "version"), yid, xg.Header.Get("ETag"))
			}
			if got := bridgetest.Str(c.Must(200, "GET", "/Users/"+yid, nil).JSON, entUser, "manager", "value"); got != xid {
				t.Errorf("y's manager: %q, want %s", got, xid)
			}
			c.Must(204, "DELETE", "/Groups/"+cg, nil)
		}
	}
	// A circle through other attributes is not broken up: 409, nothing
	// of it written.
	p, q := bulkUser("proto.bulk.p@example.com"), bulkUser("proto.bulk.q@example.com")
	p["externalId"], q["externalId"] = "bulkId:q", "bulkId:p"
	want("circular externalIds", bulk(0,
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "p", "data": p},
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "q", "data": q},
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "r", "data": bulkUser("proto.bulk.r@example.com")},
	), "409", "409", "201")
	if n := count(t, c, "/Users", `userName sw "proto.bulk.p" or userName sw "proto.bulk.q"`); n != "0" {
		t.Errorf("circular users written: %s", n)
	}
	// Malformed operations fail alone; a request without Operations is 400.
	want("malformed", bulk(0,
		map[string]any{"method": "GET", "path": "/Users"},
		map[string]any{"method": "POST", "path": "/Users", "data": bulkUser("proto.bulk.nobulkid@example.com")},
		map[string]any{"method": "POST", "path": "/Widgets", "bulkId": "w", "data": map[string]any{}},
		map[string]any{"method": "DELETE", "path": "/Users"},
		map[string]any{"method": "DELETE", "path": "/Users/bulkId:nowhere"},
		map[string]any{"method": "DELETE", "path": "/Groups/" + gid},
	), "400", "400", "400", "400", "409", "204")
	c.Must(404, "GET", "/Groups/"+gid, nil)
	c.Must(400, "POST", "/Bulk", map[string]any{"schemas": []string{bulkRequest}})
	c.Must(400, "POST", "/Bulk", map[string]any{"schemas": []string{bulkRequest}, "failOnErrors": "many", "Operations": []any{}})
}

// protocolDeletedManager: deleting a user (a soft delete where the
// directory keeps deleted rows) removes it from the manager of the users
// that named it, and changes their ETag; the deleted id is then no user:
// setting it as a manager leaves the manager out, adding it as a member
// is refused.
func protocolDeletedManager(t *testing.T, c *bridgetest.Client) {
	boss := protocolUser(t, c, "proto.gone.boss@example.com", "Gone", "Boss")
	var emps []string
	for _, n := range []string{"a", "b"} {
		r := c.Must(201, "POST", "/Users", map[string]any{"schemas": []string{coreUser, entUser}, "userName": "proto.gone." + n + "@example.com",
			"active": true, "name": map[string]any{"givenName": "Em", "familyName": "Ployee"}, entUser: map[string]any{"manager": map[string]any{"value": boss}}})
		emps = append(emps, id(r))
	}
	before := c.Must(200, "GET", "/Users/"+emps[0], nil)
	if bridgetest.Str(before.JSON, entUser, "manager", "value") != boss {
		t.Fatalf("manager not set: %s", trunc(before.Body))
	}
	c.Must(204, "DELETE", "/Users/"+boss, nil)
	c.Must(404, "GET", "/Users/"+boss, nil)
	for _, e := range emps {
		r := c.Must(200, "GET", "/Users/"+e, nil)
		if bridgetest.Str(r.JSON, entUser, "manager", "value") != "" {
			t.Errorf("user %s still names its deleted manager: %s", e, trunc(r.Body))
		}
		if e == emps[0] && r.Header.Get("ETag") == before.Header.Get("ETag") {
			t.Errorf("the ETag of %s did not change when its manager was deleted", e)
		}
	}
	if n := count(t, c, "/Users", entUser+`:manager.value eq "`+boss+`"`); n != "0" {
		t.Errorf("users found by the deleted manager: %s", n)
	}
	r := c.Must(200, "PATCH", "/Users/"+emps[0], map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "replace", "path": entUser + ":manager", "value": boss}}})
	if bridgetest.Str(r.JSON, entUser, "manager", "value") != "" {
		t.Errorf("PATCH to the deleted manager: %s, want no manager", trunc(r.Body))
	}
	sameAsGet(t, c, "PATCH to a deleted manager", r, "/Users/"+emps[0])
	c.Must(400, "POST", "/Groups", map[string]any{"schemas": []string{coreGroup}, "displayName": "Proto Gone",
		"members": []any{map[string]any{"value": boss}}})
}
