package scimtest

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
)

// The SCIM 1.1 golden sequence: the messages of Okta's on-premises
// Provisioning Agent, as Okta documents them ("SCIM messages for
// on-premises provisioning"), sent to an endpoint with protocol =
// "scim1.1", with the stored native values checked as RunGolden does.

const (
	core11    = "urn:scim:schemas:core:1.0"
	oktaSPC11 = "urn:okta:schemas:scim:providerconfig:1.0"
	// OktaCustom11 is the extension namespace of the agent's custom
	// attributes.
	OktaCustom11 = "urn:okta:onprem_app:1.0:user:custom"
	// Base11 is the base path Edit11 gives the 1.1 endpoint.
	Base11 = "/scim/v1.1"
)

// Target11 is a 1.1 endpoint. Custom is the native attribute Edit11 maps
// urn:okta:onprem_app:1.0:user:custom:costCenter to ("": not mapped,
// not checked); in the 1.1 endpoint's mapping it replaces the attribute
// that mapped that native one.
type Target11 struct {
	*Target
	Custom string
	// NoScan: the server runs with max_filter_scan = 0 (Options11.NoScan),
	// so the filters that succeed were run by the directory. Checked
	// against what ServiceProviderConfigs advertises.
	NoScan bool
}

// Options11 says how Edit11 derives the configuration.
type Options11 struct {
	// Custom: see Target11.
	Custom string
	// NoScan sets max_filter_scan = 0, so that a filter the directory
	// cannot run is refused instead of evaluated by the bridge: the
	// sequence then proves that its filters are pushed down.
	NoScan bool
}

// Edit11 returns the edit (for bridgetest.EditFile) that adds to the
// configuration file at path a copy of its first endpoint, served in
// SCIM 1.1 at Base11 on the same backend with the same mapping.
func Edit11(t testing.TB, path string, o Options11) [2]string {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Config11(src, o)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return [2]string{string(src), string(out)}
}

// Config11 is Edit11 on a configuration's text.
func Config11(src []byte, o Options11) ([]byte, error) {
	f, diags := hclwrite.ParseConfig(src, "config.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	root := f.Body()
	var ep, server *hclwrite.Block
	for _, b := range root.Blocks() {
		switch b.Type() {
		case "endpoint":
			if ep == nil {
				ep = b
			}
		case "server":
			server = b
		}
	}
	if ep == nil {
		return nil, fmt.Errorf("no endpoint block")
	}
	cf, diags := hclwrite.ParseConfig(ep.BuildTokens(nil).Bytes(), "endpoint.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	clone := cf.Body().Blocks()[0]
	clone.SetLabels([]string{ep.Labels()[0] + "_v11"})
	clone.Body().SetAttributeValue("base_path", cty.StringVal(Base11))
	clone.Body().SetAttributeValue("protocol", cty.StringVal("scim1.1"))
	if o.Custom != "" {
		s := root.AppendNewBlock("schema", []string{OktaCustom11})
		s.Body().SetAttributeValue("resource", cty.StringVal("User"))
		s.Body().AppendNewBlock("attribute", []string{"costCenter"}).Body().SetAttributeValue("type", cty.StringVal("string"))
		for _, m := range clone.Body().Blocks() {
			if m.Type() == "mapping" && m.Labels()[0] == "User" {
				// The attribute that wrote that native one gives it up.
				for _, a := range m.Body().Blocks() {
					if n := a.Body().GetAttribute("native"); n != nil && strings.TrimSpace(string(n.Expr().BuildTokens(nil).Bytes())) == `"`+o.Custom+`"` {
						m.Body().RemoveBlock(a)
					}
				}
				m.Body().AppendNewBlock("attribute", []string{OktaCustom11 + ":costCenter"}).Body().SetAttributeValue("native", cty.StringVal(o.Custom))
			}
		}
	}
	if o.NoScan {
		if server == nil {
			server = root.AppendNewBlock("server", nil)
		}
		server.Body().SetAttributeValue("max_filter_scan", cty.NumberIntVal(0))
	}
	root.AppendNewline()
	root.AppendBlock(clone)
	return f.Bytes(), nil
}

// Errors11 returns the code of a 1.1 error body ({"Errors": [{"code"}]}),
// "" when the body is not one.
func Errors11(r *bridgetest.Response) string {
	list, _ := r.JSON["Errors"].([]any)
	if len(list) != 1 {
		return ""
	}
	e, _ := list[0].(map[string]any)
	if _, ok := e["description"].(string); !ok {
		return ""
	}
	return bridgetest.Str(e, "code")
}

// expect11 fails unless r is a 1.1 resource: core 1.0 schema, no 2.0 URN.
func expect11(t *testing.T, r *bridgetest.Response) {
	t.Helper()
	if !strings.Contains(string(r.Body), core11) {
		t.Errorf("not a SCIM 1.1 body: %s", r.Body)
	}
	// 2.0's own URNs (an admin's extension may be named urn:ietf:...).
	for _, urn := range []string{coreUser, coreGroup, entUser, "urn:ietf:params:scim:api:"} {
		if strings.Contains(string(r.Body), urn) {
			t.Errorf("%s in a SCIM 1.1 body: %s", urn, r.Body)
		}
	}
	if _, ok := r.JSON["Errors"]; ok {
		t.Errorf("an error body: %s", r.Body)
	}
}

func capabilities(t *testing.T, c *bridgetest.Client) []string {
	t.Helper()
	r := c.Must(200, "GET", "/ServiceProviderConfigs", nil)
	if !strings.Contains(bridgetest.Str(r.JSON, "schemas"), oktaSPC11) || !strings.Contains(bridgetest.Str(r.JSON, "schemas"), core11) {
		t.Errorf("ServiceProviderConfigs schemas: %s", r.Body)
	}
	ext, _ := r.JSON[oktaSPC11].(map[string]any)
	var out []string
	list, _ := ext["userManagementCapabilities"].([]any)
	for _, el := range list {
		out = append(out, fmt.Sprint(el))
	}
	return out
}

// Capabilities11 reads the userManagementCapabilities a 1.1 endpoint
// advertises.
func Capabilities11(t *testing.T, c *bridgetest.Client) []string { return capabilities(t, c) }

func user11(userName, given, family string, active bool, extra map[string]any) map[string]any {
	u := map[string]any{
		"schemas":  []string{core11},
		"userName": userName,
		"name":     map[string]any{"givenName": given, "familyName": family},
		"emails":   []any{map[string]any{"value": userName, "primary": true, "type": "work"}},
		"active":   active,
	}
	for k, v := range extra {
		u[k] = v
	}
	return u
}

// RunGolden11 replays the agent's messages on a 1.1 endpoint.
func RunGolden11(t *testing.T, tg *Target11) {
	c := tg.Client
	c.Headers = map[string]string{"Accept": "application/json"}
	defer func() { c.Headers = nil }()
	user := "opp.jane@example.com"

	// Get implemented user management capabilities.
	caps := capabilities(t, c)
	for _, want := range []string{"IMPORT_NEW_USERS", "IMPORT_PROFILE_UPDATES", "PUSH_NEW_USERS", "PUSH_PROFILE_UPDATES", "GROUP_PUSH"} {
		if !slices.Contains(caps, want) {
			t.Errorf("capabilities %v lack %s", caps, want)
		}
	}
	if tg.Active != "" {
		for _, want := range []string{"PUSH_PENDING_USERS", "PUSH_USER_DEACTIVATION", "REACTIVATE_USERS"} {
			if !slices.Contains(caps, want) {
				t.Errorf("capabilities %v lack %s", caps, want)
			}
		}
	}

	if tg.NoScan {
		spc := c.Must(200, "GET", "/ServiceProviderConfigs", nil)
		if got := bridgetest.Str(spc.JSON, "urn:scimbridge:params:scim:limits", "maxFilterScan"); got != "0" {
			t.Fatalf("NoScan, but maxFilterScan is %q: %s", got, spc.Body)
		}
	}

	// What Okta reads when the connector is saved; counts are integers.
	for _, path := range []string{"/Users?startIndex=1&count=2", "/Groups?startIndex=1&count=100"} {
		r := c.Must(200, "GET", path, nil)
		for _, k := range []string{"totalResults", "startIndex", "itemsPerPage"} {
			if _, ok := r.JSON[k].(json.Number); !ok {
				t.Errorf("GET %s: %s is not a number: %s", path, k, r.Body)
			}
		}
	}

	// Create a user: the existence check, then the create.
	exists := func(name string) *bridgetest.Response {
		r := c.Must(200, "GET", `/Users?filter=`+q(`userName eq "`+name+`"`)+`&startIndex=1&count=100`, nil)
		if bridgetest.Str(r.JSON, "schemas") != "["+core11+"]" {
			t.Errorf("list schemas: %s", r.Body)
		}
		return r
	}
	expectEmptyList(t, exists(user))
	extra := map[string]any{"password": "S3cret-Passw0rd!", "phoneNumbers": []any{}}
	if tg.Custom != "" {
		extra["schemas"] = []string{core11, OktaCustom11}
		extra[OktaCustom11] = map[string]any{"costCenter": "CC-1234"}
	}
	created := c.Must(201, "POST", "/Users", user11(user, "Jane", "Doe", true, extra))
	expect11(t, created)
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
	tg.expectAttr(t, rec, tg.FamilyName, "Doe")
	tg.expectAttr(t, rec, tg.Email, user)
	tg.expectAttr(t, rec, tg.Active, tg.ActiveTrue)
	tg.expectAttr(t, rec, tg.Custom, "CC-1234")
	oldPW := ""
	if tg.Password != "" {
		oldPW = rec.Attrs.First(tg.Password)
		if oldPW == "" || strings.Contains(oldPW, "S3cret") {
			t.Errorf("stored password %q: want a hash of the password", oldPW)
		}
	}
	if tg.Custom != "" && bridgetest.Str(created.JSON, OktaCustom11, "costCenter") != "CC-1234" {
		t.Errorf("the custom attribute was not returned: %s", created.Body)
	}
	if r := exists(strings.ToUpper(user)); bridgetest.Str(r.JSON, "totalResults") != "1" {
		t.Errorf("existence check after the create: %s", r.Body)
	}
	dup := c.Do("POST", "/Users", user11(user, "J", "D", true, nil))
	if dup.Status != 409 || Errors11(dup) != "409" {
		t.Errorf("duplicate create: %d %s, want 409 with a 1.1 error body", dup.Status, dup.Body)
	}

	// Create a pending user: created inactive.
	pendingName := "opp.pending@example.com"
	expectEmptyList(t, exists(pendingName))
	pending := c.Must(201, "POST", "/Users", user11(pendingName, "Pat", "Pending", false, nil))
	pid := id(pending)
	if bridgetest.Str(pending.JSON, "active") != "false" {
		t.Errorf("pending user answered %s", pending.Body)
	}
	tg.expectAttr(t, tg.stored(t, backends.User, pid), tg.Active, tg.ActiveFalse)

	// Import a user profile.
	got := c.Must(200, "GET", "/Users/"+uid, nil)
	expect11(t, got)
	if bridgetest.Str(got.JSON, "userName") != user || bridgetest.Str(got.JSON, "meta", "location") == "" {
		t.Errorf("GET answered %s", got.Body)
	}

	// Activate the pending user, then deactivate and reactivate the
	// first: the agent PUTs the whole user with active set.
	put := func(uid string, body map[string]any) *bridgetest.Response {
		t.Helper()
		r := c.Must(200, "PUT", "/Users/"+uid, body)
		expect11(t, r)
		return r
	}
	r := put(pid, user11(pendingName, "Pat", "Pending", true, map[string]any{"id": pid}))
	if bridgetest.Str(r.JSON, "active") != "true" {
		t.Errorf("activation answered %s", r.Body)
	}
	tg.expectAttr(t, tg.stored(t, backends.User, pid), tg.Active, tg.ActiveTrue)
	for _, active := range []bool{false, true} {
		r := put(uid, user11(user, "Jane", "Doe", active, map[string]any{"id": uid}))
		if bridgetest.Str(r.JSON, "active") != fmt.Sprint(active) {
			t.Errorf("PUT active=%v answered %s", active, r.Body)
		}
		want := tg.ActiveTrue
		if !active {
			want = tg.ActiveFalse
		}
		tg.expectAttr(t, tg.stored(t, backends.User, uid), tg.Active, want)
	}

	// OIN integrations deactivate and reactivate with a 1.1 PATCH.
	for _, active := range []bool{false, true} {
		r := c.Must(200, "PATCH", "/Users/"+uid, map[string]any{"schemas": []string{core11}, "id": uid, "active": active})
		expect11(t, r)
		if bridgetest.Str(r.JSON, "active") != fmt.Sprint(active) || bridgetest.Str(r.JSON, "userName") != user {
			t.Errorf("PATCH active=%v answered %s", active, r.Body)
		}
		want := tg.ActiveTrue
		if !active {
			want = tg.ActiveFalse
		}
		tg.expectAttr(t, tg.stored(t, backends.User, uid), tg.Active, want)
	}

	// Push a profile update (the GET's body sent back, meta included),
	// then a password update.
	prof := c.Must(200, "GET", "/Users/"+uid, nil).JSON
	prof["name"] = map[string]any{"givenName": "Jane", "familyName": "Smith"}
	prof["groups"] = []any{}
	put(uid, prof)
	rec = tg.stored(t, backends.User, uid)
	tg.expectAttr(t, rec, tg.FamilyName, "Smith")
	tg.expectAttr(t, rec, tg.UserName, user)
	if tg.Password != "" && !slices.Contains(caps, "PUSH_PASSWORD_UPDATES") {
		t.Errorf("capabilities %v lack PUSH_PASSWORD_UPDATES", caps)
	}
	if slices.Contains(caps, "PUSH_PASSWORD_UPDATES") {
		// The new password is N3w-Passw0rd! (a caller may bind with it).
		put(uid, user11(user, "Jane", "Smith", true, map[string]any{"id": uid, "password": "N3w-Passw0rd!"}))
		if tg.Password != "" {
			if pw := tg.stored(t, backends.User, uid).Attrs.First(tg.Password); pw == oldPW || pw == "" || strings.Contains(pw, "N3w") {
				t.Errorf("stored password %q after the password push (was %q)", pw, oldPW)
			}
		}
	}

	// Import users: every page until totalResults.
	imported := map[string]map[string]any{}
	total := -1
	for start := 1; ; start += 2 {
		page := c.Must(200, "GET", fmt.Sprintf("/Users?startIndex=%d&count=2", start), nil)
		if total < 0 {
			fmt.Sscan(bridgetest.Str(page.JSON, "totalResults"), &total)
		}
		res, _ := page.JSON["Resources"].([]any)
		if len(res) == 0 {
			break
		}
		for _, el := range res {
			m := el.(map[string]any)
			imported[bridgetest.Str(m, "id")] = m
		}
	}
	if len(imported) != total || imported[uid] == nil || imported[pid] == nil {
		t.Errorf("import read %d users, totalResults %d, want both new users", len(imported), total)
	}

	// Import recently changed users: meta.lastModified gt the latest
	// time any user shows, after a change to one of them.
	if bridgetest.Str(imported[uid], "meta", "lastModified") != "" {
		incremental(t, tg, imported, uid, user)
	} else {
		t.Log("meta.lastModified is not mapped: the incremental import is not checked")
	}

	// Groups: download, create, update (PUT and 1.1 PATCH), delete.
	c.Must(200, "GET", "/Groups?startIndex=1&count=100", nil)
	// Okta sends the group's description in its own extension, which
	// the SCIM server may ignore.
	g := c.Must(201, "POST", "/Groups", map[string]any{"schemas": []string{core11, "urn:okta:custom:group:1.0"}, "displayName": "OPP Engineers",
		"urn:okta:custom:group:1.0": map[string]any{"description": "All Users West of the Rockies"},
		"members":                   []any{map[string]any{"value": uid, "display": user}}})
	expect11(t, g)
	gid := id(g)
	tg.expectMembers(t, gid, uid)
	tg.expectAttr(t, tg.stored(t, backends.Group, gid), tg.GroupName, "OPP Engineers")
	groups := c.Must(200, "GET", "/Groups?startIndex=1&count=100", nil)
	if !strings.Contains(string(groups.Body), gid) || strings.Contains(string(groups.Body), coreGroup) {
		t.Errorf("group download: %s", groups.Body)
	}
	r = c.Must(200, "PUT", "/Groups/"+gid, map[string]any{"schemas": []string{core11}, "id": gid, "displayName": "OPP Engineering",
		"members": []any{map[string]any{"value": uid, "display": user}, map[string]any{"value": pid, "display": pendingName}}})
	expect11(t, r)
	tg.expectMembers(t, gid, uid, pid)
	tg.expectAttr(t, tg.stored(t, backends.Group, gid), tg.GroupName, "OPP Engineering")
	patch := func(body map[string]any) {
		t.Helper()
		r := c.Do("PATCH", "/Groups/"+gid, body)
		if r.Status != 200 && r.Status != 204 {
			t.Fatalf("1.1 PATCH: %d %s", r.Status, r.Body)
		}
	}
	patch(map[string]any{"schemas": []string{core11}, "members": []any{map[string]any{"value": uid, "operation": "delete"}}})
	tg.expectMembers(t, gid, pid)
	patch(map[string]any{"schemas": []string{core11}, "displayName": "OPP Eng",
		"members": []any{map[string]any{"value": uid, "display": user}, map[string]any{"value": pid, "operation": "delete"}}})
	tg.expectMembers(t, gid, uid)
	tg.expectAttr(t, tg.stored(t, backends.Group, gid), tg.GroupName, "OPP Eng")
	bad := c.Do("PUT", "/Groups/"+gid, map[string]any{"schemas": []string{core11}, "displayName": "OPP Eng",
		"members": []any{map[string]any{"value": "no-such-user-id"}}})
	if bad.Status != 400 || Errors11(bad) != "400" {
		t.Errorf("unknown member: %d %s, want 400 with a 1.1 error body", bad.Status, bad.Body)
	}
	tg.expectMembers(t, gid, uid)
	c.Must(204, "DELETE", "/Groups/"+gid, nil)
	gone := c.Do("GET", "/Groups/"+gid, nil)
	if gone.Status != 404 || Errors11(gone) != "404" {
		t.Errorf("deleted group: %d %s, want 404 with a 1.1 error body", gone.Status, gone.Body)
	}
}

// incremental checks the import of recently changed users: after a change
// to one user, a filter on meta.lastModified gt the latest time the
// import showed returns exactly the users whose reads are later.
func incremental(t *testing.T, tg *Target11, imported map[string]map[string]any, uid, user string) {
	c := tg.Client
	var since time.Time
	var sinceText string
	for _, m := range imported {
		s := bridgetest.Str(m, "meta", "lastModified")
		ts, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatalf("meta.lastModified %q: %v", s, err)
		}
		if ts.After(since) {
			since, sinceText = ts, s
		}
	}
	// Change the user until its time is past since (the store's clock
	// may count whole seconds).
	changed := false
	for i := 0; i < 20 && !changed; i++ {
		given := fmt.Sprintf("Jane%d", i)
		r := c.Must(200, "PUT", "/Users/"+uid, user11(user, given, "Smith", true, map[string]any{"id": uid}))
		ts, err := time.Parse(time.RFC3339Nano, bridgetest.Str(r.JSON, "meta", "lastModified"))
		if err != nil {
			t.Fatalf("meta.lastModified after a write: %s", r.Body)
		}
		changed = ts.After(since)
		if !changed {
			time.Sleep(300 * time.Millisecond)
		}
	}
	if !changed {
		t.Fatalf("meta.lastModified never passed %s", sinceText)
	}
	ids := func(filter string) []string {
		t.Helper()
		r := c.Must(200, "GET", "/Users?filter="+q(filter)+"&startIndex=1&count=100", nil)
		res, _ := r.JSON["Resources"].([]any)
		var out []string
		for _, el := range res {
			out = append(out, bridgetest.Str(el.(map[string]any), "id"))
		}
		if n := bridgetest.Str(r.JSON, "totalResults"); n != fmt.Sprint(len(out)) {
			t.Errorf("%s: totalResults %s for %d resources", filter, n, len(out))
		}
		slices.Sort(out)
		return out
	}
	got := ids(`meta.lastModified gt "` + sinceText + `"`)
	t.Logf("incremental import since %s: %v", sinceText, got)
	if !slices.Equal(got, []string{uid}) {
		t.Errorf("incremental import since %s returned %v, want only %s", sinceText, got, uid)
	}
	// The same in the form a Java client writes (UTC, milliseconds):
	// exactly the users whose reads are later than that instant.
	ms := since.UTC().Truncate(time.Millisecond)
	want := []string{uid}
	for id, m := range imported {
		ts, _ := time.Parse(time.RFC3339Nano, bridgetest.Str(m, "meta", "lastModified"))
		if id != uid && ts.After(ms) {
			want = append(want, id)
		}
	}
	slices.Sort(want)
	if got := ids(`meta.lastModified gt "` + ms.Format("2006-01-02T15:04:05.000Z") + `"`); !slices.Equal(got, want) {
		t.Errorf("incremental import since %s returned %v, want %v", ms.Format("2006-01-02T15:04:05.000Z"), got, want)
	}
}
