package examples_test

import (
	dbsql "database/sql"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/backends/sql/pgtest"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/scimtest"
)

// TestChildTablesGuidePostgres serves the last example of
// docs/mapping-child-tables.md (phones by kind, roles through a lookup
// table) on PostgreSQL with the guide's tables, as written there: the
// start-up check passes, the writes land in the right rows, an
// unknown role is a 400 naming it, answers equal the GETs after them, and
// filters agree with reads.
func TestChildTablesGuidePostgres(t *testing.T) {
	doc, err := os.ReadFile("../docs/mapping-child-tables.md")
	if err != nil {
		t.Fatal(err)
	}
	var schema string
	for _, m := range regexp.MustCompile("(?s)```sql\n(.*?)```").FindAllStringSubmatch(string(doc), -1) {
		schema += m[1]
	}
	hcls := regexp.MustCompile("(?s)```hcl\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	if len(hcls) == 0 || !strings.Contains(schema, "CREATE TABLE phones") {
		t.Fatal("the guide lost its examples")
	}
	schema += `INSERT INTO roles (role_id, role_name) VALUES (1, 'Admin'), (2, 'Auditor'), (3, 'reader'), (4, 'writer');`

	url := pgtest.Shared(t).NewDatabase(t)
	db, err := dbsql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Exec(schema); err != nil {
		t.Fatalf("loading the guide's tables: %v", err)
	}
	t.Setenv("DATABASE_URL", url)
	t.Setenv("SCIMBRIDGE_TOKEN", bridgetest.Token)
	srv := bridgetest.Start(t, hcls[len(hcls)-1][1], kinds.Types())
	c := bridgetest.NewClient(t, srv.URL+"/scim/v2")

	patch := func(ops ...map[string]any) map[string]any {
		list := make([]any, len(ops))
		for i, op := range ops {
			list[i] = op
		}
		return map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": list}
	}
	phones := func(id string) []string {
		t.Helper()
		rows, err := db.Query("SELECT kind || ':' || number FROM phones WHERE owner = $1 ORDER BY kind, number", id)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		return out
	}

	id := bridgetest.Str(c.Must(201, "POST", "/Users", map[string]any{
		"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName": "ann@example.com",
		"phoneNumbers": []any{
			map[string]any{"type": "work", "value": "+1 555 0100"},
			map[string]any{"type": "mobile", "value": "+1 555 0199"},
		},
		"roles": []any{map[string]any{"value": "admin"}},
	}).JSON, "id")
	user := "/Users/" + id
	if got := phones(id); !slices.Equal(got, []string{"M:+1 555 0199", "W:+1 555 0100"}) {
		t.Errorf("phones after POST: %q", got)
	}
	c.Must(200, "PATCH", user, patch(
		map[string]any{"op": "replace", "path": `phoneNumbers[type eq "work"].value`, "value": "+1 555 0101"},
		map[string]any{"op": "add", "path": "roles", "value": []any{map[string]any{"value": "Auditor"}}}))
	if got := phones(id); !slices.Equal(got, []string{"M:+1 555 0199", "W:+1 555 0101"}) {
		t.Errorf("phones after PATCH: %q", got)
	}
	get := c.Must(200, "GET", user, nil)
	if roles, _ := get.JSON["roles"].([]any); len(roles) != 2 {
		t.Errorf("roles after PATCH: %v", get.JSON["roles"])
	}
	res := c.Do("PATCH", user, patch(map[string]any{"op": "add", "path": "roles", "value": []any{map[string]any{"value": "Root"}}}))
	if detail, _ := res.JSON["detail"].(string); res.Status != 400 || res.JSON["scimType"] != "invalidValue" || !strings.HasPrefix(detail, `roles "Root" is not a known value`) {
		t.Errorf("unknown role: %d %s", res.Status, res.Body)
	}

	scimtest.RunAnswers(t, c, scimtest.AnswerMapping{Roles: true})
	scimtest.SeedVaried(t, c)
	t.Logf("%d filters checked", scimtest.CheckFiltersAgree(t, srv, c))
}
