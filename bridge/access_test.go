package bridge_test

import (
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/config"
)

// Issue #9 finding 2: sortBy=password ordered SQL rows by the password
// column, and a binary search with one probe account recovered a
// password. Attributes that are never returned are treated as absent by
// filter, sortBy, attributes and excludedAttributes, on every route.
func TestWriteOnlyAttributesCannotBeQueried(t *testing.T) {
	for _, tg := range queryTargets(t, "", "") {
		t.Run(tg.name, func(t *testing.T) {
			cl := *tg.c
			cl.T = t
			c := &cl
			var id string
			for _, pw := range []string{"aaaa-first", "mmmm-middle", "zzzz-last"} {
				u := c.Must(201, "POST", "/Users", map[string]any{"userName": "pw." + pw[:4], "password": pw})
				id = bridgetest.Str(u.JSON, "id")
			}
			patch := map[string]any{"Operations": []any{map[string]any{"op": "replace", "path": "title", "value": "changed"}}}
			before := c.Must(200, "GET", "/Users?sortBy=userName", nil).Body
			for _, tc := range []queryCase{
				{"sortBy", "GET", "/Users?sortBy=password", nil, 400, "invalidValue", []string{`"password"`}},
				{"sortBy descending", "GET", "/Users?sortBy=password&sortOrder=descending", nil, 400, "invalidValue", nil},
				{"sortBy any case", "GET", "/Users?sortBy=PassWord", nil, 400, "invalidValue", nil},
				{"sortBy with URN", "GET", "/Users?sortBy=urn:ietf:params:scim:schemas:core:2.0:User:password", nil, 400, "invalidValue", nil},
				{"filter pr", "GET", "/Users?filter=" + q(`password pr`), nil, 400, "invalidFilter", []string{`"password"`}},
				{"filter gt", "GET", "/Users?filter=" + q(`password gt "m"`), nil, 400, "invalidFilter", nil},
				{"filter nested", "GET", "/Users?filter=" + q(`userName sw "pw" and not (PASSWORD sw "a")`), nil, 400, "invalidFilter", nil},
				{"filter with URN", "GET", "/Users?filter=" + q(`urn:ietf:params:scim:schemas:core:2.0:User:password eq "x"`), nil, 400, "invalidFilter", nil},
				{"attributes", "GET", "/Users?attributes=password", nil, 400, "invalidValue", nil},
				{"attributes among others", "GET", "/Users?attributes=userName,password", nil, 400, "invalidValue", nil},
				{"excludedAttributes", "GET", "/Users?excludedAttributes=password", nil, 400, "invalidValue", nil},
				{".search sortBy", "POST", "/Users/.search", map[string]any{"sortBy": "password"}, 400, "invalidValue", nil},
				{".search filter", "POST", "/Users/.search", map[string]any{"filter": "password pr"}, 400, "invalidFilter", nil},
				{".search attributes", "POST", "/Users/.search", map[string]any{"attributes": []string{"password"}}, 400, "invalidValue", nil},
				{"get attributes", "GET", "/Users/" + id + "?attributes=password", nil, 400, "invalidValue", nil},
				{"create attributes", "POST", "/Users?attributes=password", map[string]any{"userName": "pw.created"}, 400, "invalidValue", nil},
				{"put attributes", "PUT", "/Users/" + id + "?attributes=password", map[string]any{"userName": "pw.zzzz", "title": "changed"}, 400, "invalidValue", nil},
				{"patch excludedAttributes", "PATCH", "/Users/" + id + "?excludedAttributes=password", patch, 400, "invalidValue", nil},
			} {
				t.Run(tc.name, func(t *testing.T) { tc.run(t, c) })
			}
			after := c.Must(200, "GET", "/Users?sortBy=userName", nil).Body
			if string(before) != string(after) {
				t.Errorf("a refused request changed the directory:\nbefore %s\nafter  %s", before, after)
			}
			// What may be named still works, and no answer carries the password.
			for _, path := range []string{"/Users?sortBy=userName", "/Users/" + id, "/Users?excludedAttributes=title", "/Users?filter=" + q(`userName sw "pw."`)} {
				if r := c.Must(200, "GET", path, nil); strings.Contains(strings.ToLower(string(r.Body)), "password") || strings.Contains(string(r.Body), "aaaa-first") {
					t.Errorf("GET %s answered the password: %s", path, r.Body)
				}
			}
		})
	}
}

// Credentials with some scopes only, for the cross-resource tests.
const scopedTokens = `    token "users-reader" {
      value  = "sb_ureader_Vn3kPq8ZtX2wLm9CbR5yHj7sDf4Ga6Ue"
      scopes = ["get:users"]
    }
    token "groups-reader" {
      value  = "sb_greader_Ht6yNc2QmW9vXp4KsL7bZr3Fd8Ju5Ea"
      scopes = ["get:groups"]
    }
    token "user-writer" {
      value  = "sb_uwriter_Bq9xLm4TzK7wNv2PcY8rHs5Gd3Jf6Ue"
      scopes = ["get:users", "post:users", "put:users", "patch:users"]
    }
    token "group-writer" {
      value  = "sb_gwriter_Rk5tWp8ZqN3xLm7VcB2yHs9Fd4Gj6Ea"
      scopes = ["get:groups", "post:groups", "patch:groups"]
    }`

// Issue #9 finding 8c: a get:users-only token read group ids through
// attributes=groups and filter=groups.value. Which groups a user is in is
// group data (get:groups), who is in a group user data (get:users):
// without the scope the attribute is left out of every answer and naming
// it is a 403 that names the scope. Writes are unchanged.
func TestCrossResourceAttributesNeedTheirScope(t *testing.T) {
	for _, tg := range queryTargets(t, "", scopedTokens) {
		t.Run(tg.name, func(t *testing.T) {
			full := *tg.c
			full.T = t
			u := full.Must(201, "POST", "/Users", map[string]any{"userName": "scoped.user", "title": "T"})
			uid := bridgetest.Str(u.JSON, "id")
			other := full.Must(201, "POST", "/Users", map[string]any{"userName": "scoped.other"})
			oid := bridgetest.Str(other.JSON, "id")
			g := full.Must(201, "POST", "/Groups", map[string]any{"displayName": "scoped group", "members": []any{map[string]any{"value": uid}}})
			gid := bridgetest.Str(g.JSON, "id")
			if r := full.Must(200, "GET", "/Users/"+uid, nil); !strings.Contains(string(r.Body), gid) {
				t.Fatalf("the full credential does not see the user's groups: %s", r.Body)
			}
			as := func(token string) *bridgetest.Client {
				cl := full
				cl.Auth = "Bearer " + token
				return &cl
			}
			usersReader, groupsReader := as("sb_ureader_Vn3kPq8ZtX2wLm9CbR5yHj7sDf4Ga6Ue"), as("sb_greader_Ht6yNc2QmW9vXp4KsL7bZr3Fd8Ju5Ea")
			userWriter, groupWriter := as("sb_uwriter_Bq9xLm4TzK7wNv2PcY8rHs5Gd3Jf6Ue"), as("sb_gwriter_Rk5tWp8ZqN3xLm7VcB2yHs9Fd4Gj6Ea")
			needGroups, needUsers := []string{`"get:groups"`}, []string{`"get:users"`}
			for _, tc := range []struct {
				c *bridgetest.Client
				queryCase
			}{
				{usersReader, queryCase{"attributes=groups", "GET", "/Users?attributes=groups", nil, 403, "", needGroups}},
				{usersReader, queryCase{"attributes=groups.value", "GET", "/Users?attributes=userName,groups.value", nil, 403, "", needGroups}},
				{usersReader, queryCase{"filter groups.value", "GET", "/Users?filter=" + q(`groups.value eq "`+gid+`"`), nil, 403, "", needGroups}},
				{usersReader, queryCase{"filter groups[value]", "GET", "/Users?filter=" + q(`groups[value eq "`+gid+`"]`), nil, 403, "", needGroups}},
				{usersReader, queryCase{"filter groups pr", "GET", "/Users?filter=" + q(`userName sw "s" and groups pr`), nil, 403, "", needGroups}},
				{usersReader, queryCase{"sortBy groups", "GET", "/Users?sortBy=groups.value", nil, 403, "", needGroups}},
				{usersReader, queryCase{".search filter", "POST", "/Users/.search", map[string]any{"filter": `groups.value eq "` + gid + `"`}, 403, "", needGroups}},
				{usersReader, queryCase{"get attributes=groups", "GET", "/Users/" + uid + "?attributes=groups", nil, 403, "", needGroups}},
				{groupsReader, queryCase{"attributes=members", "GET", "/Groups?attributes=members", nil, 403, "", needUsers}},
				{groupsReader, queryCase{"filter members[value]", "GET", "/Groups?filter=" + q(`members[value eq "`+uid+`"]`), nil, 403, "", needUsers}},
				{groupsReader, queryCase{"filter members.value", "GET", "/Groups?filter=" + q(`members.value eq "`+uid+`"`), nil, 403, "", needUsers}},
				{groupsReader, queryCase{"get attributes=members", "GET", "/Groups/" + gid + "?attributes=members.value", nil, 403, "", needUsers}},
				{groupWriter, queryCase{"patch attributes=members", "PATCH", "/Groups/" + gid + "?attributes=members", map[string]any{
					"Operations": []any{map[string]any{"op": "replace", "path": "displayName", "value": "never renamed"}}}, 403, "", needUsers}},
			} {
				t.Run(tc.name, func(t *testing.T) { tc.run(t, tc.c) })
			}
			// Left out of every answer.
			for _, tc := range []struct {
				c            *bridgetest.Client
				method, path string
				body         any
				status       int
			}{
				{usersReader, "GET", "/Users/" + uid, nil, 200},
				{usersReader, "GET", "/Users?filter=" + q(`userName eq "scoped.user"`), nil, 200},
				{usersReader, "GET", "/Users?excludedAttributes=title", nil, 200},
				{usersReader, "POST", "/Users/.search", map[string]any{"filter": `title eq "T"`}, 200},
				{userWriter, "PUT", "/Users/" + uid, map[string]any{"userName": "scoped.user", "title": "T2", "active": true,
					"groups": []any{map[string]any{"value": gid}}}, 200},
				{userWriter, "PATCH", "/Users/" + uid, map[string]any{"Operations": []any{map[string]any{"op": "replace", "path": "title", "value": "T3"}}}, 200},
				{groupsReader, "GET", "/Groups/" + gid, nil, 200},
				{groupsReader, "GET", "/Groups", nil, 200},
				{groupsReader, "GET", "/Groups?excludedAttributes=members", nil, 200},
				{groupWriter, "PATCH", "/Groups/" + gid + "?attributes=displayName", map[string]any{"Operations": []any{
					map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": oid}}}}}, 200},
			} {
				cl := *tc.c
				cl.T = t
				r := cl.Must(tc.status, tc.method, tc.path, tc.body)
				if strings.Contains(string(r.Body), `"groups"`) || strings.Contains(string(r.Body), `"members"`) || strings.Contains(string(r.Body), `"$ref"`) {
					t.Errorf("%s %s answered what the credential may not read: %s", tc.method, tc.path, r.Body)
				}
			}
			// Writes are unchanged: the group writer added a member it
			// cannot read back, and the PUT did not touch memberships.
			r := full.Must(200, "GET", "/Groups/"+gid, nil)
			if !strings.Contains(string(r.Body), uid) || !strings.Contains(string(r.Body), oid) {
				t.Errorf("memberships after the writes: %s", r.Body)
			}
		})
	}
}

// A custom sub-attribute declared writeOnly is as absent as password, and
// a PATCH path whose value filter names it is refused: its values are
// never read back, so it could select nothing.
func TestWriteOnlySubAttributeInPatchPaths(t *testing.T) {
	const acme = "urn:ietf:params:scim:schemas:extension:acme:2.0:User"
	cfg := strings.Replace(memoryConfig, `  attribute "accountSize" { type = "integer" }`, `  attribute "accountSize" { type = "integer" }
  attribute "creds" {
    type         = "complex"
    multi_valued = true
    sub_attribute "type" { type = "string" }
    sub_attribute "secret" {
      type       = "string"
      mutability = "writeOnly"
    }
  }`, 1)
	cfg = strings.Replace(cfg, `    attribute "groups.value" { native = "memberOf" }`, `    attribute "groups.value" { native = "memberOf" }
    attribute "`+acme+`:creds[type eq \"otp\"].secret" { native = "otpSecret" }
    attribute "`+acme+`:creds[type eq \"otp\"].type" { native = "otpType" }`, 1)
	srv := bridgetest.Start(t, cfg, map[string]config.BackendType{"memory": bridgetest.Static(newMemory())})
	c := bridgetest.NewClient(t, srv.URL+"/scim/v2")
	u := c.Must(201, "POST", "/Users", map[string]any{"userName": "otp.user",
		acme: map[string]any{"creds": []any{map[string]any{"type": "otp", "secret": "s3cret"}}}})
	id := bridgetest.Str(u.JSON, "id")
	if strings.Contains(string(u.Body), "s3cret") {
		t.Fatalf("the create answer holds the secret: %s", u.Body)
	}
	op := func(path string) map[string]any {
		return map[string]any{"Operations": []any{map[string]any{"op": "replace", "path": path, "value": "x"}}}
	}
	for _, tc := range []queryCase{
		{"patch filter on the secret", "PATCH", "/Users/" + id, op(acme + `:creds[secret eq "s3cret"].type`), 400, "invalidFilter", []string{"creds.secret"}},
		{"list filter", "GET", "/Users?filter=" + q(acme+`:creds.secret eq "s3cret"`), nil, 400, "invalidFilter", nil},
		{"list value filter", "GET", "/Users?filter=" + q(acme+`:creds[secret sw "s"]`), nil, 400, "invalidFilter", nil},
		{"attributes", "GET", "/Users/" + id + "?attributes=" + acme + ":creds.secret", nil, 400, "invalidValue", nil},
		{"sortBy", "GET", "/Users?sortBy=" + acme + ":creds.secret", nil, 400, "invalidValue", nil},
		// Writing the secret through a filter on its type is fine.
		{"patch the secret", "PATCH", "/Users/" + id, op(acme + `:creds[type eq "otp"].secret`), 200, "", nil},
		{"the rest of the attribute", "GET", "/Users/" + id + "?attributes=" + acme + ":creds", nil, 200, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := tc.run(t, c); r.Status < 300 && (strings.Contains(string(r.Body), "s3cret") || strings.Contains(string(r.Body), `"secret"`)) {
				t.Errorf("answered the secret: %s", r.Body)
			}
		})
	}
}
