package sql_test

// Issue #10 item 11: the id column read as another attribute too
// (direction = "read"), and a write-only mapping, on SQLite, PostgreSQL
// and MariaDB: the start-up check accepts the one and refuses a writable
// mapping of the id; reads show it, writes never write it, filters on it
// go to the database and agree with reads, answers equal GETs.

import (
	"net/url"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/scimtest"
)

const enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// directionMapping reads user_id as employeeNumber and writes status
// from userType without ever reading it back.
const directionMapping = goodMapping + `
    attribute "` + enterprise + `:employeeNumber" {
      native    = "user_id"
      direction = "read"
    }
    attribute "userType" {
      native    = "status"
      direction = "write"
    }`

func TestIDReadAsAttribute(t *testing.T) {
	for _, st := range checkStores(t) {
		t.Run(st.name, func(t *testing.T) {
			if diags := bridgetest.Check(t, withSQLiteSchema(st.name, st.config(directionMapping)), kinds.Types()); len(diags) != 0 {
				t.Fatalf("a read-only mapping of the id: %v", diags)
			}
			writable := strings.Replace(directionMapping, `direction = "read"`, `direction = "both"`, 1)
			text := withSQLiteSchema(st.name, st.config(writable))
			diags := bridgetest.Check(t, text, kinds.Types())
			if len(diags) != 1 || diags[0].Summary != "Mapping writes the id" || diags[0].Severity != hcl.DiagError ||
				!strings.Contains(diags[0].Detail, `direction = "read"`) || diags[0].Subject.Start.Line != bridgetest.LineOf(text, `native    = "user_id"`)-1 {
				t.Fatalf("a writable mapping of the id: %v", diags)
			}

			srv := bridgetest.Start(t, withSQLiteSchema(st.name, st.config(directionMapping)), kinds.Types())
			c := bridgetest.NewClient(t, srv.URL+"/scim/v2")
			var ids []string
			for i, name := range []string{"ida", "idb", "idc"} {
				u := c.Must(201, "POST", "/Users", map[string]any{
					"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User", enterprise},
					"userName": name + "-" + st.name, "name": map[string]any{"givenName": "I", "familyName": name},
					"userType": []string{"A", "B", "C"}[i],
					enterprise: map[string]any{"employeeNumber": "99999"}, // ignored: read-only
				})
				id := bridgetest.Str(u.JSON, "id")
				ids = append(ids, id)
				ext, _ := u.JSON[enterprise].(map[string]any)
				if ext == nil || ext["employeeNumber"] != id {
					t.Fatalf("POST answer: employeeNumber %v, want the id %s: %s", ext, id, u.Body)
				}
				if _, ok := u.JSON["userType"]; ok {
					t.Fatalf("a write-only attribute in the answer: %s", u.Body)
				}
				g := c.Must(200, "GET", "/Users/"+id, nil)
				if string(g.Body) != string(u.Body) {
					t.Fatalf("answer and GET differ:\n%s\n%s", u.Body, g.Body)
				}
			}
			// A PUT and a PATCH that send another employeeNumber change
			// nothing of it, and their answers are the GET.
			put := c.Must(200, "PUT", "/Users/"+ids[0], map[string]any{
				"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User", enterprise},
				"userName": "ida-" + st.name, "name": map[string]any{"givenName": "J", "familyName": "ida"},
				enterprise: map[string]any{"employeeNumber": "1"},
			})
			if ext, _ := put.JSON[enterprise].(map[string]any); ext == nil || ext["employeeNumber"] != ids[0] {
				t.Fatalf("PUT answer: %s", put.Body)
			}
			patch := c.Must(200, "PATCH", "/Users/"+ids[1], map[string]any{
				"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
				"Operations": []any{map[string]any{"op": "replace", "value": map[string]any{
					enterprise + ":employeeNumber": "2", "name.givenName": "K"}}},
			})
			if ext, _ := patch.JSON[enterprise].(map[string]any); ext == nil || ext["employeeNumber"] != ids[1] {
				t.Fatalf("PATCH answer: %s", patch.Body)
			}
			if g := c.Must(200, "GET", "/Users/"+ids[1], nil); string(g.Body) != string(patch.Body) {
				t.Fatalf("PATCH answer and GET differ:\n%s\n%s", patch.Body, g.Body)
			}
			patch = c.Must(200, "PATCH", "/Users/"+ids[1], map[string]any{
				"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
				"Operations": []any{map[string]any{"op": "replace", "path": enterprise + ":employeeNumber", "value": "3"},
					map[string]any{"op": "replace", "path": "userType", "value": "D"}},
			})
			if g := c.Must(200, "GET", "/Users/"+ids[1], nil); string(g.Body) != string(patch.Body) || strings.Contains(string(g.Body), `"3"`) {
				t.Fatalf("PATCH with a path: answer and GET differ, or the id changed:\n%s\n%s", patch.Body, g.Body)
			}
			// Filters on the id read as employeeNumber find the row.
			l := c.Must(200, "GET", "/Users?filter="+url.QueryEscape(enterprise+":employeeNumber eq \""+ids[2]+"\""), nil)
			if r, _ := l.JSON["Resources"].([]any); len(r) != 1 || bridgetest.Str(r[0].(map[string]any), "id") != ids[2] {
				t.Fatalf("filter on employeeNumber: %s", l.Body)
			}
			l = c.Must(200, "GET", "/Users?sortBy="+url.QueryEscape(enterprise+":employeeNumber")+"&sortOrder=descending", nil)
			if r, _ := l.JSON["Resources"].([]any); len(r) != 3 || bridgetest.Str(r[0].(map[string]any), "id") != ids[2] {
				t.Fatalf("sort by employeeNumber: %s", l.Body)
			}
			if r := c.Do("GET", "/Users?filter="+url.QueryEscape(`userType eq "A"`), nil); r.Status != 400 {
				t.Fatalf("filter on a write-only attribute: %d %s, want 400", r.Status, r.Body)
			}
			scimtest.CheckFiltersAgree(t, srv, c)
			// /Schemas advertises what the directions mean.
			s := c.Must(200, "GET", "/Schemas/"+enterprise, nil)
			if !strings.Contains(string(s.Body), `"mutability":"readOnly","name":"employeeNumber"`) {
				t.Errorf("employeeNumber not advertised readOnly: %s", s.Body)
			}
		})
	}
}
