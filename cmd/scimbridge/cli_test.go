package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHelp: --help exits 0 on every command and lists only that command's
// flags; token lists its subcommands.
func TestHelp(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		want, not []string
	}{
		{[]string{"--help"}, []string{"serve", "validate", "token create"}, nil},
		{[]string{"serve", "--help"}, []string{"-config", "-listen", "-log-level", "-log-format"}, nil},
		{[]string{"validate", "--help"}, []string{"-config", "-live", "-write-probe"}, []string{"-listen", "-log-level", "-endpoint"}},
		{[]string{"map", "--help"}, []string{"-config", "-endpoint", "-resource"}, []string{"-listen", "-log-level"}},
		{[]string{"token", "--help"}, []string{"create", "hash"}, nil},
		{[]string{"token", "create", "--help"}, []string{"-name", "-scopes", "-expires", "-raw"}, []string{"-bcrypt"}},
		{[]string{"fmt", "--help"}, []string{"-check"}, []string{"-config", "-listen"}},
		{[]string{"token", "hash", "--help"}, []string{"-bcrypt"}, []string{"-scopes", "-raw"}},
		{[]string{"token", "--help"}, []string{"list", "revoke"}, nil},
		{[]string{"token", "list", "--help"}, []string{"-config"}, []string{"-endpoint", "-pid", "-raw"}},
		{[]string{"token", "revoke", "--help"}, []string{"-config", "-endpoint", "-pid"}, []string{"-raw", "-bcrypt"}},
		{[]string{"oauth2", "--help"}, []string{"urls", "revoke"}, nil},
		{[]string{"oauth2", "urls", "--help"}, []string{"-config"}, []string{"-endpoint", "-pid"}},
		{[]string{"oauth2", "revoke", "--help"}, []string{"-config", "-endpoint"}, []string{"-pid", "-raw"}},
	} {
		code, out, errs := runCmd(t, "", tc.args...)
		if code != 0 {
			t.Errorf("%v: exit %d\n%s", tc.args, code, errs)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: %q not in\n%s", tc.args, w, out)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(out, n+" ") || strings.Contains(out, n+"\n") {
				t.Errorf("%v: lists %q, a flag of another command\n%s", tc.args, n, out)
			}
		}
	}
}

// TestTokenCreateFlags: scopes and an expiry go into the printed auth
// block; wrong values and flags of another subcommand are errors.
func TestTokenCreateFlags(t *testing.T) {
	code, out, errs := runCmd(t, "", "token", "create", "--name", "entra", "--scopes", "get:users, patch:users", "--expires", "2027-01-31T00:00:00Z")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, w := range []string{`token "entra" {`, `scopes  = ["get:users", "patch:users"]`, `expires = "2027-01-31T00:00:00Z"`, `hash    = "sha256:`} {
		if !strings.Contains(out, w) {
			t.Errorf("%q not in\n%s", w, out)
		}
	}
	if code, out, _ := runCmd(t, "", "token", "create", "--expires", "720h"); code != 0 || !strings.Contains(out, "expires = \"20") {
		t.Errorf("--expires 720h: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{
		{"token", "create", "--bcrypt"},
		{"token", "create", "--scopes", "get:everything"},
		{"token", "create", "--expires", "next week"},
		{"token", "hash", "--raw"},
		{"token", "create", "extra"},
	} {
		if code, _, _ := runCmd(t, "", args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

// TestOfflineCommandsNeedNoSecrets: validate and map check every shipped
// configuration without any of its environment variables (issue #11):
// they exit 0 and name each unset variable with where it is used. serve,
// which needs the values, refuses and names the variable in the error.
func TestOfflineCommandsNeedNoSecrets(t *testing.T) {
	for _, v := range []string{"SCIMBRIDGE_TOKEN", "LDAP_URL", "LDAP_BIND_DN", "LDAP_BIND_PASSWORD", "LDAP_BASE_DN", "DATABASE_URL"} {
		t.Setenv(v, "")
	}
	files, err := filepath.Glob("../../examples/*.hcl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	files = append(files, "../../config.example.hcl")
	for _, f := range files {
		code, out, errs := runCmd(t, "", "validate", "--config", f)
		if code != 0 || !strings.Contains(out, "configuration is valid") {
			t.Errorf("validate %s without its environment: exit %d\n%s%s", f, code, out, errs)
		}
		if !strings.Contains(errs, "SCIMBRIDGE_TOKEN  ("+f+":") {
			t.Errorf("validate %s: the unset SCIMBRIDGE_TOKEN is not named with its line:\n%s", f, errs)
		}
		if strings.Contains(errs, "error:") || strings.Contains(errs, "problem(s)") {
			t.Errorf("validate %s: problems reported for unset values:\n%s", f, errs)
		}
		code, out, errs = runCmd(t, `{"userName": "bjensen", "displayName": "Barbara Jensen"}`, "map", "--config", f)
		if code != 0 || !strings.Contains(out, `"userName": "bjensen"`) {
			t.Errorf("map %s without its environment: exit %d\n%s%s", f, code, out, errs)
		}
	}

	// serve needs the values: the error points at the value and names the variable.
	code, _, errs := runCmd(t, "", "serve", "--config", "../../examples/openldap.hcl", "--listen", "127.0.0.1:0")
	flat := strings.Join(strings.Fields(errs), " ")
	src, err := os.ReadFile("../../examples/openldap.hcl")
	if err != nil {
		t.Fatal(err)
	}
	before, _, _ := strings.Cut(string(src), `urls          = [env("LDAP_URL")]`)
	urlsAt := fmt.Sprintf("examples/openldap.hcl:%d:", strings.Count(before, "\n")+1)
	if code != 1 || !strings.Contains(errs, urlsAt) || !strings.Contains(flat, "The environment variable LDAP_URL is not set") {
		t.Errorf("serve without LDAP_URL: exit %d, want 1 and the variable named at its line:\n%s", code, errs)
	}
	code, _, errs = runCmd(t, "", "serve", "--config", "../../config.example.hcl", "--listen", "127.0.0.1:0")
	flat = strings.Join(strings.Fields(errs), " ")
	if code != 1 || !strings.Contains(flat, "Endpoint without credentials") || !strings.Contains(flat, "The environment variable SCIMBRIDGE_TOKEN is not set") {
		t.Errorf("serve without SCIMBRIDGE_TOKEN: exit %d, want 1 and the variable named:\n%s", code, errs)
	}
}

// TestFmt: fmt rewrites a file in the canonical layout, -check lists an
// unformatted file and exits 1 without changing it, a formatted file
// passes, and a syntax error is reported at its line and the file kept.
func TestFmt(t *testing.T) {
	dir := t.TempDir()
	messy := "endpoint \"e\" {\nbase_path=\"/scim/v2\"\n  backend =   \"b\"\n}\n"
	tidy := "endpoint \"e\" {\n  base_path = \"/scim/v2\"\n  backend   = \"b\"\n}\n"
	path := filepath.Join(dir, "c.hcl")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	read := func() string {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	write(messy)
	if code, out, _ := runCmd(t, "", "fmt", "-check", path); code != 1 || strings.TrimSpace(out) != path || read() != messy {
		t.Errorf("fmt -check on a messy file: exit %d, output %q, file changed: %v", code, out, read() != messy)
	}
	if code, _, errs := runCmd(t, "", "fmt", path); code != 0 || read() != tidy {
		t.Errorf("fmt: exit %d (%s), file now:\n%s", code, errs, read())
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o640 {
		t.Errorf("fmt changed the file mode to %v", info.Mode().Perm())
	}
	if code, out, _ := runCmd(t, "", "fmt", "-check", path); code != 0 || out != "" {
		t.Errorf("fmt -check on a formatted file: exit %d, output %q", code, out)
	}
	broken := "endpoint \"e\" {\n  base_path = \n}\n"
	write(broken)
	if code, _, errs := runCmd(t, "", "fmt", path); code != 1 || !strings.Contains(errs, path+":2:") || read() != broken {
		t.Errorf("fmt on a syntax error: exit %d, file changed: %v\n%s", code, read() != broken, errs)
	}
	if code, _, _ := runCmd(t, "", "fmt"); code != 2 {
		t.Errorf("fmt without files: exit %d, want 2", code)
	}
}

// TestValidateLive: validate --live connects (here: the embedded SQLite
// default), exits 0 with the live line when the file fits, 1 with the
// finding when the mapping names a column the table lacks (which offline
// validate cannot see); --write-probe needs --live.
func TestValidateLive(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SCIMBRIDGE_SQLITE_PATH", filepath.Join(dir, "x.db"))
	t.Setenv("SCIMBRIDGE_TOKEN", "sb_live_Wm4Tq8Zr2Xv6Np3Ks9Bd5Hf7")
	code, out, errs := runCmd(t, "", "validate", "--live", "--write-probe", "--config", "../../config.example.hcl")
	if code != 0 || !strings.Contains(out, "fits the directory") || !strings.Contains(out, "write probe passed") {
		t.Fatalf("validate --live --write-probe: exit %d\n%s%s", code, out, errs)
	}
	// A mapping that does not fit is the same error as at serve.
	bad := filepath.Join(dir, "bad.hcl")
	src, err := os.ReadFile("../../config.example.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(strings.Replace(string(src), `{ native = "fname" }`, `{ native = "frist_nm" }`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCmd(t, "", "validate", "--config", bad); code != 0 {
		t.Errorf("validate (offline) of a mapping that does not fit the table: exit %d\n%s", code, errs)
	}
	code, _, errs = runCmd(t, "", "validate", "--live", "--config", bad)
	if code != 1 || !strings.Contains(errs, "Native attribute not in the store") {
		t.Errorf("validate --live of a mapping that does not fit the table: exit %d\n%s", code, errs)
	}
	if code, _, _ := runCmd(t, "", "validate", "--write-probe", "--config", "../../config.example.hcl"); code != 2 {
		t.Errorf("--write-probe without --live: exit %d, want 2", code)
	}
}
