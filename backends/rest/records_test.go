package rest_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/scimbridge/scimbridge/bridge/bridgetest"
)

const (
	coreUser  = "urn:ietf:params:scim:schemas:core:2.0:User"
	coreGroup = "urn:ietf:params:scim:schemas:core:2.0:Group"
	entUser   = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	patchOp   = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
)

func find(recs []map[string]any, id string) map[string]any {
	for _, r := range recs {
		if fmt.Sprint(r["id"]) == id {
			return r
		}
	}
	return nil
}

func strs(v any) []string {
	l, _ := v.([]any)
	out := []string{}
	for _, e := range l {
		out = append(out, fmt.Sprint(e))
	}
	slices.Sort(out)
	return out
}

// TestExamplesRecords: the same SCIM traffic through both examples, and
// the records read back directly through each API afterwards.
func TestExamplesRecords(t *testing.T) {
	for _, ex := range examplesServed {
		t.Run(ex.name, func(t *testing.T) {
			s := ex.serve(t, serveOpts{})
			c := s.c
			newUser := func(name string) string {
				return bridgetest.Str(c.Must(201, "POST", "/Users", map[string]any{
					"schemas": []string{coreUser, entUser}, "userName": name,
					"name":         map[string]any{"givenName": "Grace", "familyName": "Hopper"},
					"emails":       []any{map[string]any{"type": "work", "value": name + "@example.com", "primary": true}},
					"phoneNumbers": []any{map[string]any{"value": "+1 555 0100"}, map[string]any{"value": "+1 555 0101"}},
					"active":       true,
					entUser:        map[string]any{"employeeNumber": "1906"},
				}).JSON, "id")
			}
			grace, alan := newUser("grace"), newUser("alan")
			gid := bridgetest.Str(c.Must(201, "POST", "/Groups", map[string]any{
				"schemas": []string{coreGroup}, "displayName": "Compilers",
				"members": []any{map[string]any{"value": grace}},
			}).JSON, "id")
			c.Must(200, "PATCH", "/Users/"+grace, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
				map[string]any{"op": "replace", "path": "active", "value": false},
				map[string]any{"op": "replace", "path": "name.familyName", "value": "Murray Hopper"},
			}})
			c.Must(204, "PATCH", "/Groups/"+gid, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
				map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": alan}}},
				map[string]any{"op": "replace", "path": "displayName", "value": "Compiler Team"},
			}})

			users, groups := s.records(t, "User"), s.records(t, "Group")
			if len(users) != 2 || len(groups) != 1 {
				t.Fatalf("%d users, %d groups in the API, want 2 and 1", len(users), len(groups))
			}
			u, g := find(users, grace), find(groups, gid)
			if u == nil || g == nil {
				t.Fatalf("records %s / %s not found: %v %v", grace, gid, users, groups)
			}
			want := map[string]any{"userName": "grace", "active": false, "employeeNumber": "1906", "displayName": "Compiler Team"}
			switch ex.name {
			case "PocketBase":
				check(t, "givenName", u["givenName"], "Grace")
				check(t, "familyName", u["familyName"], "Murray Hopper")
				check(t, "email", u["email"], "grace@example.com")
				check(t, "phones", strs(u["phones"]), []string{"+1 555 0100", "+1 555 0101"})
				check(t, "members", strs(g["members"]), sorted(grace, alan))
			case "JSONServer":
				name, _ := u["name"].(map[string]any)
				check(t, "name.givenName", name["givenName"], "Grace")
				check(t, "name.familyName", name["familyName"], "Murray Hopper")
				check(t, "emails", strs(u["emails"]), []string{"grace@example.com"})
				check(t, "phones", strs(u["phones"]), []string{"+1 555 0100", "+1 555 0101"})
				check(t, "memberIds", strs(g["memberIds"]), sorted(grace, alan))
				// Created as version 1, one PATCH: version 2. The group: one
				// PATCH request, one write.
				check(t, "user version", fmt.Sprint(u["version"]), "2")
				check(t, "group version", fmt.Sprint(g["version"]), "2")
			}
			check(t, "userName", u["userName"], want["userName"])
			check(t, "active", u["active"], want["active"])
			check(t, "employeeNumber", fmt.Sprint(u["employeeNumber"]), want["employeeNumber"])
			check(t, "group displayName", g["displayName"], want["displayName"])

			// Deleting a user takes it out of the group (PocketBase itself;
			// json-server through the bridge).
			c.Must(204, "DELETE", "/Users/"+alan, nil)
			g = find(s.records(t, "Group"), gid)
			members := "members"
			if ex.name == "JSONServer" {
				members = "memberIds"
			}
			check(t, "members after deleting a user", strs(g[members]), []string{grace})
			if n := len(s.records(t, "User")); n != 1 {
				t.Errorf("%d users after the delete, want 1", n)
			}
		})
	}
}

func sorted(v ...string) []string { slices.Sort(v); return v }

func check(t *testing.T, what string, got, want any) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}
