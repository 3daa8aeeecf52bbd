package bridge_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/config"
	"github.com/scimbridge/scimbridge/bridge/scimtest"
)

func config11(t *testing.T, src string, o scimtest.Options11) string {
	t.Helper()
	out, err := scimtest.Config11([]byte(src), o)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// startMemory11 serves memoryConfig at /scim/v2 and, on the same backend,
// in SCIM 1.1 at /scim/v1.1.
func startMemory11(t *testing.T, o scimtest.Options11) (*bridgetest.Server, *bridgetest.Client, *bridgetest.Client) {
	t.Helper()
	mem := newMemory()
	srv := bridgetest.Start(t, config11(t, memoryConfig, o), map[string]config.BackendType{"memory": bridgetest.Static(mem)})
	return srv, bridgetest.NewClient(t, srv.URL+"/scim/v2"), bridgetest.NewClient(t, srv.URL+scimtest.Base11)
}

func memoryTarget(c *bridgetest.Client, srv *bridgetest.Server) *scimtest.Target {
	return &scimtest.Target{
		Client: c, Backend: srv.Backends["mem"],
		UserName: "uid", GivenName: "givenName", FamilyName: "sn", Email: "mail",
		Active: "status", ActiveTrue: "enabled", ActiveFalse: "disabled", Password: "userPassword",
		EmployeeNumber: "employeeNumber", Manager: "manager", Mobile: "mobile",
		GroupName: "cn", Members: "member",
	}
}

// TestGolden11Memory: the 2.0 sequences and the 1.1 one, side by side on
// one process and one backend.
func TestGolden11Memory(t *testing.T) {
	srv, c2, c11 := startMemory11(t, scimtest.Options11{Custom: "costCenter"})
	t.Run("SCIM2", func(t *testing.T) { scimtest.RunGolden(t, memoryTarget(c2, srv)) })
	t.Run("SCIM11", func(t *testing.T) {
		c11.T = t
		scimtest.RunGolden11(t, &scimtest.Target11{Target: memoryTarget(c11, srv), Custom: "costCenter"})
	})
}

// startExample11 serves config.example.hcl with its endpoint also in 1.1,
// max_filter_scan = 0: a filter the database cannot run is refused.
func startExample11(t *testing.T) (*bridgetest.Server, *bridgetest.Client, *bridgetest.Client) {
	t.Helper()
	src, err := os.ReadFile("../config.example.hcl")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("SCIMBRIDGE_TOKEN", bridgetest.Token)
	t.Setenv("SCIMBRIDGE_SQLITE_PATH", filepath.Join(t.TempDir(), "example.db"))
	srv := bridgetest.Start(t, config11(t, string(src), scimtest.Options11{Custom: "app_role", NoScan: true}), kinds.Types())
	return srv, bridgetest.NewClient(t, srv.URL+"/scim/v2"), bridgetest.NewClient(t, srv.URL+scimtest.Base11)
}

func exampleTarget(c *bridgetest.Client, srv *bridgetest.Server) *scimtest.Target {
	return &scimtest.Target{
		Client: c, Backend: srv.Backends["legacy"],
		UserName: "login_name", GivenName: "fname", FamilyName: "lname", Email: "email_addr",
		Active: "acct_status", ActiveTrue: "A", ActiveFalse: "D", Password: "pw_hash",
		EmployeeNumber: "emp_no", Manager: "mgr_ref",
		GroupName: "grp_name", Members: "members",
	}
}

// TestGolden11SQLiteExample: both versions on one process, the 1.1
// incremental import pushed down to SQL (max_filter_scan = 0).
func TestGolden11SQLiteExample(t *testing.T) {
	srv, c2, c11 := startExample11(t)
	t.Run("SCIM2", func(t *testing.T) { scimtest.RunGolden(t, exampleTarget(c2, srv)) })
	t.Run("SCIM11", func(t *testing.T) {
		c11.T = t
		scimtest.RunGolden11(t, &scimtest.Target11{Target: exampleTarget(c11, srv), Custom: "app_role", NoScan: true})
		// max_filter_scan = 0 does refuse what SQL cannot run: the
		// incremental import above was pushed down.
		r := c11.Do("GET", "/Users?filter=active%20pr", nil)
		if r.Status != 400 || scimtest.Errors11(r) != "400" {
			t.Errorf("a filter SQL cannot run: %d %s, want 400", r.Status, r.Body)
		}
	})
}

// TestSCIM11Edge: 1.1 bodies in and out (URNs, errors, lists, PATCH), and
// the 2.0 endpoint beside it unchanged.
func TestSCIM11Edge(t *testing.T) {
	srv, c2, c := startMemory11(t, scimtest.Options11{})
	mem := srv.Backends["mem"]
	const ent11 = "urn:scim:schemas:extension:enterprise:1.0"

	anon := *c
	anon.Auth = ""
	for _, tc := range []struct {
		c      *bridgetest.Client
		method string
		path   string
		body   any
		status string
	}{
		{&anon, "GET", "/Users", nil, "401"},
		{c, "GET", "/Users/no-such-id", nil, "404"},
		{c, "GET", "/NoSuchThing", nil, "404"},
		{c, "POST", "/Users", `{"userName": `, "400"},
		{c, "GET", "/Users?filter=" + url.QueryEscape(`userName eq`), nil, "400"},
		{c, "POST", "/Users", map[string]any{"schemas": []string{"urn:scim:schemas:core:1.0"}, "name": map[string]any{"givenName": "x"}}, "400"},
	} {
		r := tc.c.Do(tc.method, tc.path, tc.body)
		if fmt.Sprint(r.Status) != tc.status || scimtest.Errors11(r) != tc.status {
			t.Errorf("%s %s: %d %s, want %s with a 1.1 error body", tc.method, tc.path, r.Status, r.Body, tc.status)
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s %s: Content-Type %q", tc.method, tc.path, ct)
		}
	}
	// The 2.0 endpoint still answers in 2.0.
	if r := c2.Do("GET", "/Users/no-such-id", nil); r.Status != 404 || bridgetest.Str(r.JSON, "status") != "404" || r.JSON["Errors"] != nil {
		t.Errorf("2.0 error: %d %s", r.Status, r.Body)
	}

	// The 1.1 enterprise extension is the 2.0 one inside.
	created := c.Must(201, "POST", "/Users", map[string]any{
		"schemas":  []string{"urn:scim:schemas:core:1.0", ent11},
		"userName": "edge@example.com", "title": "Engineer", "locale": "en-US",
		"emails": []any{map[string]any{"value": "edge@example.com", "type": "work", "primary": true},
			map[string]any{"value": "old@example.com", "type": "home", "operation": "delete"}},
		ent11: map[string]any{"employeeNumber": "42"},
	})
	uid := bridgetest.Str(created.JSON, "id")
	if bridgetest.Str(created.JSON, ent11, "employeeNumber") != "42" || !strings.Contains(bridgetest.Str(created.JSON, "schemas"), ent11) {
		t.Errorf("create answered %s", created.Body)
	}
	if strings.Contains(string(created.Body), "urn:ietf") || strings.Contains(string(created.Body), "resourceType") {
		t.Errorf("2.0 names in a 1.1 answer: %s", created.Body)
	}
	rec, err := mem.Get(context.Background(), "User", uid, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Attrs.First("employeeNumber") != "42" || rec.Attrs.First("homeMail") != "" {
		t.Errorf("stored %v", rec.Attrs)
	}

	// 1.1 PATCH: meta.attributes removes, the body replaces.
	r := c.Must(200, "PATCH", "/Users/"+uid, map[string]any{"schemas": []string{"urn:scim:schemas:core:1.0"},
		"title": "Lead", "meta": map[string]any{"attributes": []any{"locale", ent11 + ":employeeNumber"}}})
	if bridgetest.Str(r.JSON, "title") != "Lead" || bridgetest.Str(r.JSON, "locale") != "" || strings.Contains(string(r.Body), "employeeNumber") {
		t.Errorf("PATCH answered %s", r.Body)
	}
	rec, _ = mem.Get(context.Background(), "User", uid, nil)
	if rec.Attrs.First("title") != "Lead" || rec.Attrs.First("locale") != "" || rec.Attrs.First("employeeNumber") != "" {
		t.Errorf("stored after PATCH %v", rec.Attrs)
	}
	// A PATCH that changes nothing answers the resource as it is.
	same := c.Must(200, "PATCH", "/Users/"+uid, map[string]any{"schemas": []string{"urn:scim:schemas:core:1.0"}})
	if bridgetest.Str(same.JSON, "title") != "Lead" || same.Header.Get("ETag") != r.Header.Get("ETag") {
		t.Errorf("empty PATCH answered %s (ETag %s, before %s)", same.Body, same.Header.Get("ETag"), r.Header.Get("ETag"))
	}
	// meta.attributes empties a group's members; a body with an id does
	// not rename anything.
	g := c.Must(201, "POST", "/Groups", map[string]any{"schemas": []string{"urn:scim:schemas:core:1.0"}, "displayName": "Edge",
		"members": []any{map[string]any{"value": uid}}})
	gid := bridgetest.Str(g.JSON, "id")
	pr := c.Do("PATCH", "/Groups/"+gid, map[string]any{"schemas": []string{"urn:scim:schemas:core:1.0"}, "id": gid,
		"meta": map[string]any{"attributes": []any{"members"}}})
	if pr.Status != 204 && pr.Status != 200 {
		t.Fatalf("PATCH meta.attributes members: %d %s", pr.Status, pr.Body)
	}
	grec, _ := mem.Get(context.Background(), "Group", gid, nil)
	if len(grec.Attrs.Get("member")) != 0 || grec.Attrs.First("cn") != "Edge" {
		t.Errorf("stored group after removing members: %v", grec.Attrs)
	}
	bad := c.Do("PATCH", "/Groups/"+gid, map[string]any{"meta": map[string]any{"attributes": "members"}})
	if bad.Status != 400 || scimtest.Errors11(bad) != "400" {
		t.Errorf("meta.attributes not a list: %d %s", bad.Status, bad.Body)
	}
	// A 1.1 list.
	l := c.Must(200, "GET", "/Users?filter="+url.QueryEscape(`title eq "Lead"`), nil)
	if bridgetest.Str(l.JSON, "totalResults") != "1" || bridgetest.Str(l.JSON, "schemas") != "[urn:scim:schemas:core:1.0]" || strings.Contains(string(l.Body), "urn:ietf") {
		t.Errorf("list answered %s", l.Body)
	}
}

// TestSCIM11Protocol: protocol takes scim2 or scim1.1.
func TestSCIM11Protocol(t *testing.T) {
	text := strings.Replace(memoryConfig, `base_path = "/scim/v2"`, `base_path = "/scim/v1"
  protocol  = "scim3"`, 1)
	path := filepath.Join(t.TempDir(), "scimbridge.hcl")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	_, diags := config.Load(path, map[string]config.BackendType{"memory": bridgetest.Static(newMemory())}, nil)
	bridgetest.ExpectDiagnostics(t, text, diags, bridgetest.WantDiagnostic{Summary: "Unknown protocol", At: `protocol  = "scim3"`, Detail: "scim1.1"})
}

// capsConfig is a 1.1 endpoint whose mapping and scopes decide what Okta's
// agent may do.
func capsConfig(userExtra, groups, scopes string) string {
	return `
backend "memory" "mem" {}
endpoint "opp" {
  base_path = "/scim/v1"
  protocol  = "scim1.1"
  backend   = "mem"
  auth {
    token "agent" {
      value  = "` + bridgetest.Token + `"
      ` + scopes + `
    }
  }
  mapping "User" {
    attribute "userName"       { native = "uid" }
    attribute "name.givenName" { native = "givenName" }
    ` + userExtra + `
  }
  ` + groups + `
}
`
}

// TestSCIM11Capabilities: /ServiceProviderConfigs advertises what the
// mapping and the credential allow, and follows a change of the mapping.
func TestSCIM11Capabilities(t *testing.T) {
	const (
		active   = `attribute "active" { native = "status" }`
		password = `attribute "password" {
      native    = "userPassword"
      to_native = sha256(value)
    }`
		groups = `mapping "Group" {
    attribute "displayName"   { native = "cn" }
    attribute "members.value" { native = "member" }
  }`
		groupsNoMembers = `mapping "Group" {
    attribute "displayName" { native = "cn" }
  }`
	)
	all := []string{"GROUP_PUSH", "IMPORT_NEW_USERS", "IMPORT_PROFILE_UPDATES", "PUSH_NEW_USERS", "PUSH_PASSWORD_UPDATES",
		"PUSH_PENDING_USERS", "PUSH_PROFILE_UPDATES", "PUSH_USER_DEACTIVATION", "REACTIVATE_USERS"}
	for _, tc := range []struct {
		name                   string
		userExtra, grp, scopes string
		want                   []string
	}{
		{"everything", active + "\n" + password, groups, "", all},
		{"no password", active, groups, "", []string{"GROUP_PUSH", "IMPORT_NEW_USERS", "IMPORT_PROFILE_UPDATES", "PUSH_NEW_USERS",
			"PUSH_PENDING_USERS", "PUSH_PROFILE_UPDATES", "PUSH_USER_DEACTIVATION", "REACTIVATE_USERS"}},
		{"no active", password, groups, "", []string{"GROUP_PUSH", "IMPORT_NEW_USERS", "IMPORT_PROFILE_UPDATES", "PUSH_NEW_USERS",
			"PUSH_PASSWORD_UPDATES", "PUSH_PROFILE_UPDATES"}},
		{"read-only active", `attribute "active" {
      native    = "status"
      direction = "read"
    }`, "", "", []string{"IMPORT_NEW_USERS", "IMPORT_PROFILE_UPDATES", "PUSH_NEW_USERS", "PUSH_PROFILE_UPDATES"}},
		{"no groups", active + "\n" + password, "", "", []string{"IMPORT_NEW_USERS", "IMPORT_PROFILE_UPDATES", "PUSH_NEW_USERS",
			"PUSH_PASSWORD_UPDATES", "PUSH_PENDING_USERS", "PUSH_PROFILE_UPDATES", "PUSH_USER_DEACTIVATION", "REACTIVATE_USERS"}},
		{"groups without members", "", groupsNoMembers, "", []string{"IMPORT_NEW_USERS", "IMPORT_PROFILE_UPDATES", "PUSH_NEW_USERS", "PUSH_PROFILE_UPDATES"}},
		{"import-only credential", active + "\n" + password, groups, `scopes = ["get:users", "get:groups"]`,
			[]string{"IMPORT_NEW_USERS", "IMPORT_PROFILE_UPDATES"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := bridgetest.Start(t, capsConfig(tc.userExtra, tc.grp, tc.scopes), map[string]config.BackendType{"memory": bridgetest.Static(newMemory())})
			c := bridgetest.NewClient(t, srv.URL+"/scim/v1")
			if got := scimtest.Capabilities11(t, c); !slices.Equal(got, tc.want) {
				t.Errorf("capabilities %v, want %v", got, tc.want)
			}
		})
	}
}
