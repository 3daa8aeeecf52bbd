package bridge_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/config"
)

// nativeWords are what an error body must never hold: the example's
// tables and columns, the memory test configuration's native names, and
// the words of SQLite's, PostgreSQL's, MariaDB's and LDAP's messages and
// of HCL diagnostics.
var nativeWords = []string{
	"acct_users", "acct_groups", "login_name", "grp_name", "pw_hash", "acct_group_members",
	"UNIQUE constraint", "constraint failed", "(2067)", "(1555)", "Duplicate entry", "duplicate key", "violates",
	"SQLSTATE", "Key (", "dc=", "ou=", "uid=", "cn=", "LDAP Result", ".hcl", "scimbridge.hcl", "Error in function call",
}

// leaks returns the native words in an error body.
func leaks(body []byte) []string {
	var out []string
	for _, w := range nativeWords {
		if bytes.Contains(bytes.ToLower(body), bytes.ToLower([]byte(w))) {
			out = append(out, w)
		}
	}
	return out
}

// wantRefusal checks status, scimType and a detail that starts with want
// and ends with the request id of the response.
func wantRefusal(t *testing.T, what string, r *bridgetest.Response, status int, scimType, want string) {
	t.Helper()
	detail := bridgetest.Str(r.JSON, "detail")
	rid := r.Header.Get("X-Request-Id")
	if r.Status != status || bridgetest.Str(r.JSON, "scimType") != scimType {
		t.Errorf("%s: %d %q, want %d %q: %s", what, r.Status, bridgetest.Str(r.JSON, "scimType"), status, scimType, r.Body)
	}
	if !strings.HasPrefix(detail, want) {
		t.Errorf("%s: detail %q, want it to start with %q", what, detail, want)
	}
	if rid == "" || !strings.HasSuffix(detail, "(request id "+rid+")") {
		t.Errorf("%s: detail %q does not end with the request id %q", what, detail, rid)
	}
	if l := leaks(r.Body); len(l) > 0 {
		t.Errorf("%s: the body shows %q: %s", what, l, r.Body)
	}
}

// line returns the first JSON log line with the given request id.
func startExampleLogged(t *testing.T, logs *bridgetest.LogBuffer) *bridgetest.Client {
	t.Helper()
	src, err := os.ReadFile("../config.example.hcl")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("SCIMBRIDGE_TOKEN", bridgetest.Token)
	t.Setenv("SCIMBRIDGE_SQLITE_PATH", filepath.Join(t.TempDir(), "example.db"))
	srv := bridgetest.StartLogged(t, string(src), kinds.Types(), logs)
	return bridgetest.NewClient(t, srv.URL+"/scim/v2")
}

// TestConflictsSpeakSCIM (issue #9, finding 6): a uniqueness conflict on
// SQLite names the SCIM attribute and the client's value, not the table
// and column; the native message is logged with the request id the body
// ends with.
func TestConflictsSpeakSCIM(t *testing.T) {
	logs := &bridgetest.LogBuffer{}
	c := startExampleLogged(t, logs)
	u := c.Must(201, "POST", "/Users", map[string]any{"userName": "jane@example.com"})
	other := c.Must(201, "POST", "/Users", map[string]any{"userName": "john@example.com"})
	c.Must(201, "POST", "/Groups", map[string]any{"displayName": "Engineers"})
	g := c.Must(201, "POST", "/Groups", map[string]any{"displayName": "Sales"})
	oid, gid := bridgetest.Str(other.JSON, "id"), bridgetest.Str(g.JSON, "id")
	patch := func(path string, v any) map[string]any {
		return map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
			"Operations": []any{map[string]any{"op": "replace", "path": path, "value": v}}}
	}
	for _, tc := range []struct {
		what, method, path string
		body               any
		want               string
	}{
		{"POST", "POST", "/Users", map[string]any{"userName": "JANE@example.com"}, `userName "JANE@example.com" is already taken`},
		{"PUT", "PUT", "/Users/" + oid, map[string]any{"userName": "jane@example.com", "active": true}, `userName "jane@example.com" is already taken`},
		{"PATCH", "PATCH", "/Users/" + oid, patch("userName", "Jane@Example.com"), `userName "Jane@Example.com" is already taken`},
		{"NOT NULL column", "PUT", "/Users/" + oid, map[string]any{"userName": "john@example.com"}, `active must have a value`},
		{"group POST", "POST", "/Groups", map[string]any{"displayName": "engineers"}, `displayName "engineers" is already taken`},
		{"group PATCH", "PATCH", "/Groups/" + gid, patch("displayName", "ENGINEERS"), `displayName "ENGINEERS" is already taken`},
	} {
		r := c.Do(tc.method, tc.path, tc.body)
		status, scimType, native := 409, "uniqueness", "UNIQUE constraint failed: acct_"
		if tc.what == "NOT NULL column" {
			status, scimType, native = 400, "invalidValue", "NOT NULL constraint failed: acct_users.acct_status"
		}
		wantRefusal(t, tc.what, r, status, scimType, tc.want)
		line := logs.Line(r.Header.Get("X-Request-Id"))
		if line == nil {
			t.Errorf("%s: no log line with request id %s", tc.what, r.Header.Get("X-Request-Id"))
			continue
		}
		if cause, _ := line["cause"].(string); line["@level"] != "info" || !strings.Contains(cause, native) {
			t.Errorf("%s: the log line does not hold the native cause at info: %v", tc.what, line)
		}
	}
	// The client's own request id is the one named.
	cl := *c
	cl.Headers = map[string]string{"X-Request-Id": "okta-req-42"}
	r := cl.Do("POST", "/Users", map[string]any{"userName": "jane@example.com"})
	if d := bridgetest.Str(r.JSON, "detail"); !strings.HasSuffix(d, "(request id okta-req-42)") {
		t.Errorf("with the client's request id: %q", d)
	}
	if bridgetest.Str(c.Must(200, "GET", "/Users/"+bridgetest.Str(u.JSON, "id"), nil).JSON, "userName") != "jane@example.com" {
		t.Error("the conflicts changed jane")
	}
}

// TestConflictsSpeakSCIMMemory: the same on the in-memory backend, whose
// unique attribute is the LDAP-like uid.
func TestConflictsSpeakSCIMMemory(t *testing.T) {
	_, c, _ := startMemory(t)
	c.Must(201, "POST", "/Users", map[string]any{"userName": "ann"})
	r := c.Do("POST", "/Users", map[string]any{"userName": "ANN"})
	wantRefusal(t, "memory POST", r, 409, "uniqueness", `userName "ANN" is already taken`)
	r = c.Do("POST", "/Groups", map[string]any{"displayName": "g", "members": []any{map[string]any{"value": "ghost-id"}}})
	wantRefusal(t, "unknown member", r, 400, "invalidValue", `members: "ghost-id" is not the id of an existing resource`)
}

// TestPasswordTooLongForBcrypt (finding 6): a password bcrypt cannot hash
// is the client's 400 naming password, without the configuration's file
// and line (which are logged) and without the password.
func TestPasswordTooLongForBcrypt(t *testing.T) {
	logs := &bridgetest.LogBuffer{}
	c := startExampleLogged(t, logs)
	pw := strings.Repeat("p", 73)
	r := c.Do("POST", "/Users", map[string]any{"userName": "long.pw", "password": pw})
	wantRefusal(t, "POST", r, 400, "invalidValue", "password is longer than 72 bytes")
	if bytes.Contains(r.Body, []byte(pw)) || bytes.Contains(r.Body, []byte("config")) {
		t.Errorf("the body shows the password or the configuration: %s", r.Body)
	}
	line := logs.Line(r.Header.Get("X-Request-Id"))
	if cause, _ := line["cause"].(string); !strings.Contains(cause, "scimbridge.hcl:") || strings.Contains(cause, pw) {
		t.Errorf("the log line should name the file and line, not the password: %v", line)
	}
	u := c.Must(201, "POST", "/Users", map[string]any{"userName": "short.pw", "password": "fine"})
	r = c.Do("PATCH", "/Users/"+bridgetest.Str(u.JSON, "id"), map[string]any{"Operations": []any{map[string]any{"op": "replace", "path": "password", "value": pw}}})
	wantRefusal(t, "PATCH", r, 400, "invalidValue", "password is longer than 72 bytes")
}

// TestExpressionFailureNamesAttribute: any other to_native failure names
// the SCIM attribute with a generic reason.
func TestExpressionFailureNamesAttribute(t *testing.T) {
	cfg := strings.Replace(memoryConfig, `attribute "title"           { native = "title" }`,
		`attribute "title" {
      native    = "title"
      to_native = parseint(value, 10)
    }`, 1)
	srv := bridgetest.Start(t, cfg, map[string]config.BackendType{"memory": bridgetest.Static(newMemory())})
	c := bridgetest.NewClient(t, srv.URL+"/scim/v2")
	r := c.Do("POST", "/Users", map[string]any{"userName": "x", "title": "Boss"})
	wantRefusal(t, "POST", r, 400, "invalidValue", "title cannot be converted to what the directory stores")
	if bytes.Contains(r.Body, []byte("parseint")) {
		t.Errorf("the body shows the expression: %s", r.Body)
	}
}

// TestUnmappedRequiredColumnIsAConfigurationError: a NOT NULL column that
// no mapping fills is the admin's to fix: 500, not the client's 400, and
// still without the column's name.
func TestUnmappedRequiredColumnIsAConfigurationError(t *testing.T) {
	text := bridgetest.EditFile(t, "../config.example.hcl", [2]string{
		"login_name    TEXT NOT NULL UNIQUE COLLATE NOCASE,",
		"login_name    TEXT NOT NULL UNIQUE COLLATE NOCASE,\n      tenant_code   TEXT NOT NULL,",
	})
	t.Setenv("SCIMBRIDGE_TOKEN", bridgetest.Token)
	t.Setenv("SCIMBRIDGE_SQLITE_PATH", filepath.Join(t.TempDir(), "example.db"))
	srv := bridgetest.StartWith(t, text, kinds.Types(), bridgetest.Options{Unchecked: true}) // the run-time path, past the start-up check
	c := bridgetest.NewClient(t, srv.URL+"/scim/v2")
	r := c.Do("POST", "/Users", map[string]any{"userName": "x"})
	if r.Status != 500 || bytes.Contains(r.Body, []byte("tenant_code")) || !strings.Contains(bridgetest.Str(r.JSON, "detail"), "(request id ") {
		t.Errorf("a NOT NULL column no mapping writes: %d %s, want 500 with a request id and no column", r.Status, r.Body)
	}
}
