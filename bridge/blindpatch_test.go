package bridge_test

import (
	"context"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/config"
)

// counting records how often the bridge reads before it writes.
type counting struct {
	backends.Backend
	gets, modifies int
}

func (c *counting) Get(ctx context.Context, rt, id string, attrs []string) (backends.Record, error) {
	c.gets++
	return c.Backend.Get(ctx, rt, id, attrs)
}

func (c *counting) Modify(ctx context.Context, rt, id string, m []backends.Modification, attrs []string) (backends.Record, error) {
	c.modifies++
	return c.Backend.Modify(ctx, rt, id, m, attrs)
}

func TestBlindPatchKeepsWhatItDoesNotTouch(t *testing.T) {
	mem := newMemory()
	cb := &counting{Backend: mem}
	cfg := strings.Replace(memoryConfig, `attribute "displayName"     { native = "displayName" }`, `attribute "displayName"     { native = "displayName" }
    computed "gecos" { value = format("%s %s", resource.name.givenName, resource.name.familyName) }`, 1)
	srv := bridgetest.Start(t, cfg, map[string]config.BackendType{"memory": bridgetest.Static(cb)})
	c := bridgetest.NewClient(t, srv.URL+"/scim/v2")
	u := c.Must(201, "POST", "/Users", map[string]any{"userName": "blind", "title": "T", "active": true,
		"name": map[string]any{"givenName": "Ada", "familyName": "Lovelace"}})
	id := bridgetest.Str(u.JSON, "id")
	stored := func() backends.Attrs {
		r, err := mem.Get(context.Background(), backends.User, id, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r.Attrs
	}
	cases := []struct {
		name  string
		ops   []any
		blind bool
		check map[string]string
	}{
		{"path-less active", []any{map[string]any{"op": "replace", "value": map[string]any{"active": false}}}, true,
			map[string]string{"status": "disabled", "title": "T", "givenName": "Ada"}},
		{"title by path", []any{map[string]any{"op": "Replace", "path": "title", "value": "Boss"}}, true,
			map[string]string{"title": "Boss", "status": "disabled"}},
		{"family name: the computed gecos depends on it", []any{map[string]any{"op": "replace", "path": "name.familyName", "value": "King"}}, false,
			map[string]string{"sn": "King", "givenName": "Ada", "gecos": "Ada King"}},
		{"multi-valued needs the current values", []any{map[string]any{"op": "add", "path": "emails", "value": []any{map[string]any{"value": "a@x", "type": "work"}}}}, false,
			map[string]string{"mail": "a@x", "title": "Boss"}},
		{"remove needs the current values", []any{map[string]any{"op": "remove", "path": "title"}}, false,
			map[string]string{"title": "", "mail": "a@x"}},
	}
	for _, tc := range cases {
		cb.gets, cb.modifies = 0, 0
		c.Must(200, "PATCH", "/Users/"+id, map[string]any{"Operations": tc.ops})
		if blind := cb.gets == 0; blind != tc.blind {
			t.Errorf("%s: read first = %v, want blind = %v", tc.name, cb.gets > 0, tc.blind)
		}
		got := stored()
		for k, want := range tc.check {
			if got.First(k) != want {
				t.Errorf("%s: stored %s = %q, want %q", tc.name, k, got.First(k), want)
			}
		}
	}
	// If-Match always reads.
	cb.gets = 0
	etag := c.Must(200, "GET", "/Users/"+id, nil).Header.Get("ETag")
	c.Headers = map[string]string{"If-Match": etag}
	c.Must(200, "PATCH", "/Users/"+id, map[string]any{"Operations": []any{map[string]any{"op": "replace", "path": "title", "value": "X"}}})
	c.Headers = nil
	if cb.gets < 2 {
		t.Errorf("a PATCH with If-Match did not read the resource")
	}
	// A blind PATCH of an unknown id is still a 404, and writes nothing.
	c.Must(404, "PATCH", "/Users/no-such-id", map[string]any{"Operations": []any{map[string]any{"op": "replace", "value": map[string]any{"active": false}}}})
}

// TestBlindPatchAndDefaults: a PATCH that touches an attribute with a
// default, or one a default reads, reads the resource first, so that a
// defaulted native value follows (no computed attribute forces that here).
func TestBlindPatchAndDefaults(t *testing.T) {
	mem := newMemory()
	cb := &counting{Backend: mem}
	cfg := strings.Replace(memoryConfig, `attribute "name.familyName" { native = "sn" }`, `attribute "name.familyName" {
      native  = "sn"
      default = resource.userName
    }`, 1)
	srv := bridgetest.Start(t, cfg, map[string]config.BackendType{"memory": bridgetest.Static(cb)})
	c := bridgetest.NewClient(t, srv.URL+"/scim/v2")
	u := c.Must(201, "POST", "/Users", map[string]any{"userName": "ada", "title": "T"})
	id := bridgetest.Str(u.JSON, "id")
	if _, ok := u.JSON["name"]; ok {
		t.Fatalf("created without a family name, answered %s", u.Body)
	}
	sn := func() string {
		r, err := mem.Get(context.Background(), backends.User, id, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r.Attrs.First("sn")
	}
	if got := sn(); got != "ada" {
		t.Fatalf("sn after create = %q", got)
	}
	for _, tc := range []struct {
		name   string
		op     map[string]any
		blind  bool
		sn     string
		family string // in the answer
	}{
		{"title", map[string]any{"op": "replace", "path": "title", "value": "Boss"}, true, "ada", ""},
		{"userName, which the default reads", map[string]any{"op": "replace", "path": "userName", "value": "ada.king"}, false, "ada.king", ""},
		{"family name set", map[string]any{"op": "replace", "path": "name.familyName", "value": "King"}, false, "King", "King"},
		{"family name emptied", map[string]any{"op": "replace", "path": "name.familyName", "value": ""}, false, "ada.king", ""},
		{"path-less userName", map[string]any{"op": "replace", "value": map[string]any{"userName": "ada"}}, false, "ada", ""},
	} {
		cb.gets = 0
		r := c.Must(200, "PATCH", "/Users/"+id, map[string]any{"Operations": []any{tc.op}})
		if blind := cb.gets == 0; blind != tc.blind {
			t.Errorf("%s: read first = %v, want blind = %v", tc.name, cb.gets > 0, tc.blind)
		}
		if got := sn(); got != tc.sn {
			t.Errorf("%s: stored sn = %q, want %q", tc.name, got, tc.sn)
		}
		if got := bridgetest.Str(r.JSON, "name", "familyName"); got != tc.family {
			t.Errorf("%s: answered familyName %q, want %q: %s", tc.name, got, tc.family, r.Body)
		}
	}
}
