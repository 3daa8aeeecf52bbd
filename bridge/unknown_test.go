package bridge_test

import (
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/config"
)

// TestUnknownAttributesIgnore: with unknown_attributes = "ignore", names
// the resource type does not define are dropped from POST, PUT and PATCH
// (misspelled attributes, sub-attributes, extension attributes, PATCH
// paths) and the rest is written; each name is logged once at warn level.
// The default ("reject") answers 400, as the hostile corpus checks.
func TestUnknownAttributesIgnore(t *testing.T) {
	cfg := strings.Replace(memoryConfig, `backend   = "mem"`, `backend   = "mem"
  unknown_attributes = "ignore"`, 1)
	var logs bridgetest.LogBuffer
	srv := bridgetest.StartLogged(t, cfg, map[string]config.BackendType{"memory": bridgetest.Static(newMemory())}, &logs)
	c := bridgetest.NewClient(t, srv.URL+"/scim/v2")
	const ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	u := c.Must(201, "POST", "/Users", map[string]any{"userName": "ign@example.com", "nickNam": "x",
		"name": map[string]any{"givenName": "Ig", "familyNam": "Nored"}, ent: map[string]any{"employeeNumber": "7", "costCentre": "9"}})
	uid := bridgetest.Str(u.JSON, "id")
	if bridgetest.Str(u.JSON, "name", "givenName") != "Ig" || bridgetest.Str(u.JSON, ent, "employeeNumber") != "7" {
		t.Errorf("POST with unknown attributes: %s", u.Body)
	}
	r := c.Must(200, "PUT", "/Users/"+uid, map[string]any{"userName": "ign@example.com", "nickNam": "y", "titel": "Boss",
		"name": map[string]any{"givenName": "Ig", "familyName": "Nored"}, "emails": []any{map[string]any{"value": "ign@example.com", "type": "work", "primry": true}}})
	if bridgetest.Str(r.JSON, "name", "familyName") != "Nored" || !strings.Contains(string(r.Body), `"ign@example.com"`) {
		t.Errorf("PUT with unknown attributes: %s", r.Body)
	}
	r = c.Must(200, "PATCH", "/Users/"+uid, map[string]any{"Operations": []any{
		map[string]any{"op": "replace", "path": "nickNam", "value": "z"},
		map[string]any{"op": "replace", "path": "name.familyNam", "value": "z"},
		map[string]any{"op": "replace", "value": map[string]any{"titel": "z", "title": "Chief"}},
	}})
	if bridgetest.Str(r.JSON, "title") != "Chief" {
		t.Errorf("PATCH with unknown paths: %s", r.Body)
	}
	// Only unknown paths: nothing to write, the resource as it is.
	r = c.Must(200, "PATCH", "/Users/"+uid, map[string]any{"Operations": []any{map[string]any{"op": "replace", "path": "nickNam", "value": "z"}}})
	if g := c.Must(200, "GET", "/Users/"+uid, nil); r.Header.Get("ETag") != g.Header.Get("ETag") {
		t.Errorf("no-op PATCH ETag %s, GET %s", r.Header.Get("ETag"), g.Header.Get("ETag"))
	}
	// Still refused: values of the wrong type, unknown filters.
	c.Must(400, "PUT", "/Users/"+uid, map[string]any{"userName": "ign@example.com", "active": "maybe"})
	c.Must(400, "PATCH", "/Users/"+uid, map[string]any{"Operations": []any{map[string]any{"op": "replace", "path": `emails[typ eq "work"].value`, "value": "z"}}})
	log := logs.String()
	for _, name := range []string{"nickNam", "name.familyNam", ent + ":costCentre", "titel", "emails.primry"} {
		if n := strings.Count(log, `"attribute":"`+name+`"`); n != 1 {
			t.Errorf("%q logged %d times, want once:\n%s", name, n, log)
		}
	}
	if !strings.Contains(log, `"@level":"warn"`) {
		t.Errorf("no warning logged:\n%s", log)
	}
}

// TestUnknownManagerReject: with unknown_manager = "reject" a manager
// that names no user is a 400 naming the manager, and nothing is written.
func TestUnknownManagerReject(t *testing.T) {
	cfg := strings.Replace(memoryConfig, `backend   = "mem"`, `backend   = "mem"
  unknown_manager = "reject"`, 1)
	mem := newMemory()
	srv := bridgetest.Start(t, cfg, map[string]config.BackendType{"memory": bridgetest.Static(mem)})
	c := bridgetest.NewClient(t, srv.URL+"/scim/v2")
	const ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	r := c.Do("POST", "/Users", map[string]any{"userName": "rej@example.com", ent: map[string]any{"manager": map[string]any{"value": "nope"}}})
	if r.Status != 400 || !strings.Contains(string(r.Body), `manager: \"nope\"`) {
		t.Errorf("unknown manager: %d %s, want 400 naming it", r.Status, r.Body)
	}
	if n := len(snapshot(t, mem)["User"]); n != 0 {
		t.Errorf("%d users written", n)
	}
	boss := bridgetest.Str(c.Must(201, "POST", "/Users", map[string]any{"userName": "boss@example.com"}).JSON, "id")
	c.Must(201, "POST", "/Users", map[string]any{"userName": "rej@example.com", ent: map[string]any{"manager": map[string]any{"value": boss}}})
}
