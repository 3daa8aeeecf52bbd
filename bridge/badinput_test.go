package bridge_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
)

// snapshot reads everything the backend stores.
func snapshot(t *testing.T, b backends.Backend) map[string][]backends.Record {
	t.Helper()
	out := map[string][]backends.Record{}
	for _, rt := range []string{backends.User, backends.Group} {
		p, err := b.Search(context.Background(), rt, backends.Query{SortBy: ""})
		if err != nil {
			t.Fatal(err)
		}
		out[rt] = p.Records
	}
	return out
}

func TestBadInputChangesNothing(t *testing.T) {
	_, c, mem := startMemory(t)
	u := c.Must(201, "POST", "/Users", map[string]any{"userName": "alice", "name": map[string]any{"givenName": "Alice", "familyName": "A"}, "active": true})
	uid := bridgetest.Str(u.JSON, "id")
	g := c.Must(201, "POST", "/Groups", map[string]any{"displayName": "team", "members": []any{map[string]any{"value": uid}}})
	gid := bridgetest.Str(g.JSON, "id")
	before := snapshot(t, mem)

	long := strings.Repeat("a", 5000)
	deep := strings.Repeat(`{"a":`, 2000) + "1" + strings.Repeat("}", 2000)
	cases := []struct {
		name, method, path string
		body               any
		auth               string
		status             int
		scimType           string
	}{
		{"no auth", "GET", "/Users", nil, "-", 401, ""},
		{"wrong token", "GET", "/Users", nil, "Bearer wrong-token-000000000000", 401, ""},
		{"basic with no basic users", "GET", "/Users", nil, "Basic dXNlcjpwYXNz", 401, ""},
		{"garbage basic", "GET", "/Users", nil, "Basic !!!", 401, ""},
		{"unknown scheme", "GET", "/Users", nil, "Digest abc", 401, ""},
		{"malformed json", "POST", "/Users", `{"userName": "x",`, "", 400, "invalidSyntax"},
		{"json array", "POST", "/Users", `[{"userName":"x"}]`, "", 400, "invalidSyntax"},
		{"trailing data", "POST", "/Users", `{"userName":"x"} {}`, "", 400, "invalidSyntax"},
		{"empty body", "POST", "/Users", ``, "", 400, "invalidSyntax"},
		{"deep nesting", "POST", "/Users", deep, "", 400, ""},
		{"missing userName", "POST", "/Users", map[string]any{"name": map[string]any{"givenName": "x"}}, "", 400, "invalidValue"},
		{"blank userName", "POST", "/Users", map[string]any{"userName": "  "}, "", 400, "invalidValue"},
		{"userName wrong type", "POST", "/Users", map[string]any{"userName": map[string]any{"a": 1}}, "", 400, "invalidValue"},
		{"active wrong type", "POST", "/Users", map[string]any{"userName": "bob", "active": "maybe"}, "", 400, "invalidValue"},
		{"unknown attribute", "POST", "/Users", map[string]any{"userName": "bob", "shoeSize": 42}, "", 400, "invalidValue"},
		{"unknown sub-attribute", "POST", "/Users", map[string]any{"userName": "bob", "name": map[string]any{"nick": "b"}}, "", 400, "invalidValue"},
		{"integer wrong type", "POST", "/Users", map[string]any{"userName": "bob", "urn:ietf:params:scim:schemas:extension:acme:2.0:User": map[string]any{"accountSize": "lots"}}, "", 400, "invalidValue"},
		{"duplicate userName", "POST", "/Users", map[string]any{"userName": "ALICE"}, "", 409, "uniqueness"},
		{"duplicate group", "POST", "/Groups", map[string]any{"displayName": "team"}, "", 409, "uniqueness"},
		{"missing displayName", "POST", "/Groups", map[string]any{"members": []any{}}, "", 400, "invalidValue"},
		{"unknown member", "POST", "/Groups", map[string]any{"displayName": "x", "members": []any{map[string]any{"value": "nope"}}}, "", 400, "invalidValue"},
		{"member without value", "POST", "/Groups", map[string]any{"displayName": "x", "members": []any{map[string]any{"display": "nope"}}}, "", 400, "invalidValue"},
		{"get unknown id", "GET", "/Users/does-not-exist", nil, "", 404, ""},
		{"get traversal id", "GET", "/Users/..%2F..%2Fetc%2Fpasswd", nil, "", 404, ""},
		{"put unknown id", "PUT", "/Users/nope", map[string]any{"userName": "x"}, "", 404, ""},
		{"delete unknown id", "DELETE", "/Users/nope", nil, "", 404, ""},
		{"patch unknown id", "PATCH", "/Users/nope", map[string]any{"Operations": []any{map[string]any{"op": "replace", "path": "title", "value": "x"}}}, "", 404, ""},
		{"put id mismatch", "PUT", "/Users/" + uid, map[string]any{"id": "other", "userName": "alice"}, "", 400, "mutability"},
		{"put without userName", "PUT", "/Users/" + uid, map[string]any{"title": "x"}, "", 400, "invalidValue"},
		{"patch no ops", "PATCH", "/Users/" + uid, map[string]any{"Operations": []any{}}, "", 400, "invalidValue"},
		{"patch bad op", "PATCH", "/Users/" + uid, map[string]any{"Operations": []any{map[string]any{"op": "move", "path": "title", "value": "x"}}}, "", 400, "invalidSyntax"},
		{"patch ops not array", "PATCH", "/Users/" + uid, map[string]any{"Operations": "x"}, "", 400, "invalidSyntax"},
		{"patch bad path", "PATCH", "/Users/" + uid, map[string]any{"Operations": []any{map[string]any{"op": "replace", "path": "emails[type eq", "value": "x"}}}, "", 400, "invalidPath"},
		{"patch unknown path", "PATCH", "/Users/" + uid, map[string]any{"Operations": []any{map[string]any{"op": "replace", "path": "shoeSize", "value": 1}}}, "", 400, "invalidPath"},
		{"patch read-only id", "PATCH", "/Users/" + uid, map[string]any{"Operations": []any{map[string]any{"op": "replace", "path": "id", "value": "x"}}}, "", 400, "mutability"},
		{"patch read-only groups", "PATCH", "/Users/" + uid, map[string]any{"Operations": []any{map[string]any{"op": "add", "path": "groups", "value": []any{map[string]any{"value": "another-group"}}}}}, "", 400, "mutability"},
		{"patch remove userName", "PATCH", "/Users/" + uid, map[string]any{"Operations": []any{map[string]any{"op": "remove", "path": "userName"}}}, "", 400, "invalidValue"},
		{"patch remove without path", "PATCH", "/Users/" + uid, map[string]any{"Operations": []any{map[string]any{"op": "remove"}}}, "", 400, "noTarget"},
		{"patch atomic: second op fails", "PATCH", "/Users/" + uid, map[string]any{"Operations": []any{
			map[string]any{"op": "replace", "path": "title", "value": "changed"},
			map[string]any{"op": "replace", "path": "active", "value": "perhaps"}}}, "", 400, "invalidValue"},
		{"patch atomic: backend refuses", "PATCH", "/Groups/" + gid, map[string]any{"Operations": []any{
			map[string]any{"op": "replace", "path": "displayName", "value": "renamed"},
			map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": "ghost"}}}}}, "", 400, "invalidValue"},
		{"patch path not string", "PATCH", "/Users/" + uid, map[string]any{"Operations": []any{map[string]any{"op": "replace", "path": 7, "value": "x"}}}, "", 400, "invalidPath"},
		{"patch value filter on single", "PATCH", "/Users/" + uid, map[string]any{"Operations": []any{map[string]any{"op": "replace", "path": `title[value eq "x"]`, "value": "x"}}}, "", 400, "invalidPath"},
		{"if-match mismatch", "PATCH", "/Users/" + uid, map[string]any{"Operations": []any{map[string]any{"op": "replace", "path": "title", "value": "x"}}}, "ifmatch", 412, ""},
		{"invalid filter", "GET", "/Users?filter=" + q(`userName eq`), nil, "", 400, "invalidFilter"},
		{"filter unknown attr", "GET", "/Users?filter=" + q(`shoeSize eq "1"`), nil, "", 400, "invalidFilter"},
		{"filter garbage", "GET", "/Users?filter=" + q(`)(uid=*`), nil, "", 400, "invalidFilter"},
		{"filter too long", "GET", "/Users?filter=" + q(`userName eq "`+long+`"`), nil, "", 400, "invalidFilter"},
		{"filter nul", "GET", "/Users?filter=userName%20eq%20%22a%00%22", nil, "", 400, "invalidFilter"},
		{"count too large", "GET", "/Users?count=100000", nil, "", 400, "tooMany"},
		{"count not a number", "GET", "/Users?count=ten", nil, "", 400, "invalidValue"},
		{"startIndex not a number", "GET", "/Users?startIndex=x", nil, "", 400, "invalidValue"},
		{"bad sortOrder", "GET", "/Users?sortOrder=sideways", nil, "", 400, "invalidValue"},
		{"bad sortBy", "GET", "/Users?sortBy=shoeSize", nil, "", 400, "invalidValue"},
		{"bad attributes", "GET", "/Users?attributes=shoeSize", nil, "", 400, "invalidValue"},
		{"unknown endpoint", "GET", "/Widgets", nil, "", 404, ""},
		{"unknown schema", "GET", "/Schemas/urn:nope", nil, "", 404, ""},
		{"unknown resource type", "GET", "/ResourceTypes/Widget", nil, "", 404, ""},
		{"wrong method", "DELETE", "/Users", nil, "", 405, ""},
		{"search bad body", "POST", "/Users/.search", `{"filter": 5, "count": "x"}`, "", 400, ""},
		{"oversized body", "POST", "/Users", `{"userName":"big","title":"` + strings.Repeat("x", 100<<10) + `"}`, "", 413, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cl := *c
			cl.T = t
			switch tc.auth {
			case "-":
				cl.Auth = ""
			case "ifmatch":
				cl.Headers = map[string]string{"If-Match": `W/"0000000000000000"`}
			case "":
			default:
				cl.Auth = tc.auth
			}
			r := cl.Do(tc.method, tc.path, tc.body)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			if r.JSON == nil || bridgetest.Str(r.JSON, "status") != fmt.Sprint(tc.status) || !strings.Contains(string(r.Body), "urn:ietf:params:scim:api:messages:2.0:Error") {
				t.Fatalf("not an RFC 7644 error body: %s", r.Body)
			}
			if tc.scimType != "" && bridgetest.Str(r.JSON, "scimType") != tc.scimType {
				t.Fatalf("scimType %q, want %q: %s", bridgetest.Str(r.JSON, "scimType"), tc.scimType, r.Body)
			}
			if bridgetest.Str(r.JSON, "detail") == "" {
				t.Fatalf("empty detail: %s", r.Body)
			}
		})
	}
	if after := snapshot(t, mem); !reflect.DeepEqual(before, after) {
		t.Errorf("bad input changed the store:\nbefore %v\nafter  %v", before, after)
	}
}

func q(s string) string {
	r := strings.NewReplacer(" ", "%20", `"`, "%22", "[", "%5B", "]", "%5D", "(", "%28", ")", "%29", "=", "%3D", "*", "%2A")
	return r.Replace(s)
}
