package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func runCmd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestValidateExampleConfig(t *testing.T) {
	t.Setenv("SCIMBRIDGE_TOKEN", "sb_validate_tKV2bssDwWMSjsdRNNTsDfi4_bLFlYlY")
	t.Setenv("SCIMBRIDGE_SQLITE_PATH", filepath.Join(t.TempDir(), "x.db"))
	code, out, errs := runCmd(t, "", "validate", "--config", "../../config.example.hcl")
	if code != 0 {
		t.Fatalf("validate config.example.hcl: exit %d\n%s", code, errs)
	}
	if !strings.Contains(out, "configuration is valid") {
		t.Fatalf("unexpected output: %s", out)
	}
}

// A typo in a mapping expression is reported with file, line and the
// unknown reference, and validate exits 1.
func TestValidateReportsTypos(t *testing.T) {
	src, err := os.ReadFile("../../config.example.hcl")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		from, to string
		want     []string
	}{
		{`to_native   = value ? "A" : "D"`, `to_native   = valeu ? "A" : "D"`, []string{`There is no variable named "valeu"`}},
		{`attribute "name.givenName"`, `attribute "name.givenNmae"`, []string{`unknown sub-attribute "givenNmae"`}},
		{`to_native = bcrypt(value)`, `to_native = bcrypt(resource.nmae.givenName)`, []string{`has no attribute "nmae"`}},
		{`to_native = bcrypt(value)`, `to_native = bcrpyt(value)`, []string{`no function named "bcrpyt"`}},
		{`backend   = "legacy"`, `backend   = "legacyy"`, []string{`uses backend "legacyy"`}},
	}
	for _, tc := range cases {
		t.Run(tc.to, func(t *testing.T) {
			if !bytes.Contains(src, []byte(tc.from)) {
				t.Fatalf("config.example.hcl no longer contains %q", tc.from)
			}
			bad := bytes.Replace(src, []byte(tc.from), []byte(tc.to), 1)
			path := filepath.Join(t.TempDir(), "bad.hcl")
			if err := os.WriteFile(path, bad, 0o600); err != nil {
				t.Fatal(err)
			}
			line := 1 + bytes.Count(bad[:bytes.Index(bad, []byte(tc.to))], []byte("\n"))
			t.Setenv("SCIMBRIDGE_TOKEN", "sb_validate_tKV2bssDwWMSjsdRNNTsDfi4_bLFlYlY")
			code, _, errs := runCmd(t, "", "validate", "--config", path)
			if code != 1 {
				t.Fatalf("exit %d, want 1\n%s", code, errs)
			}
			loc := regexp.MustCompile(regexp.QuoteMeta(path) + `:` + strconv.Itoa(line) + `:\d+: error`)
			if !loc.MatchString(errs) {
				t.Errorf("diagnostics do not point at %s line %d:\n%s", path, line, errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(errs, w) {
					t.Errorf("diagnostics lack %q:\n%s", w, errs)
				}
			}
		})
	}
}

func TestTokenCreateAndHash(t *testing.T) {
	code, out, _ := runCmd(t, "", "token", "create", "--raw")
	tok := strings.TrimSpace(out)
	if code != 0 || len(tok) < 40 {
		t.Fatalf("token create: %d %q", code, out)
	}
	code, out, _ = runCmd(t, tok+"\n", "token", "hash")
	if code != 0 || strings.TrimSpace(out) != tokenHash(tok) {
		t.Fatalf("token hash: %d %q", code, out)
	}
	code, out, _ = runCmd(t, "", "token", "create", "--name", "okta")
	if code != 0 || !strings.Contains(out, `token "okta"`) || !strings.Contains(out, "sha256:") {
		t.Fatalf("token create: %d %s", code, out)
	}
}

func TestMapShowsNativeRecord(t *testing.T) {
	t.Setenv("SCIMBRIDGE_TOKEN", "sb_validate_tKV2bssDwWMSjsdRNNTsDfi4_bLFlYlY")
	in := `{"userName":"jane@example.com","name":{"givenName":"Jane","familyName":"Doe"},"active":false,
	  "emails":[{"value":"jane@example.com","type":"work","primary":true}],
	  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"42"}}`
	code, out, errs := runCmd(t, in, "map", "--config", "../../config.example.hcl")
	if code != 0 {
		t.Fatalf("map: exit %d: %s", code, errs)
	}
	for _, want := range []string{`login_name               ["jane@example.com"]`, `acct_status              ["D"]`, `emp_no                   ["42"]`, `"active": false`, `"familyName": "Doe"`} {
		if !strings.Contains(out, want) {
			t.Errorf("map output lacks %q:\n%s", want, out)
		}
	}
}

func TestVersionAndUsage(t *testing.T) {
	if code, out, _ := runCmd(t, "", "version"); code != 0 || !strings.HasPrefix(out, "scimbridge ") {
		t.Fatalf("version: %d %q", code, out)
	}
	if code, _, _ := runCmd(t, "", "frobnicate"); code != 2 {
		t.Fatalf("unknown command: exit %d, want 2", code)
	}
}
