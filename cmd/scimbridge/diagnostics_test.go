package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// badMapping has three problems in a mapping, and a warning.
const badMapping = `
backend "sql" "db" {
  driver = "sqlite"
  dsn    = "DSN"
  resource "User" {
    table     = "users"
    id_column = "id"
  }
}
endpoint "e" {
  base_path = "/scim/v2"
  backend   = "db"
  auth {
    token "ci" { value = "sb_validate_tKV2bssDwWMSjsdRNNTsDfi4_bLFlYlY" }
  }
  mapping "User" {
    attribute "userNme"       { native = "login" }
    attribute "name.givnName" { native = "first_name" }
    attribute "displayName" {
      native    = "display"
      to_native = uper(value)
    }
    attribute "meta.created" {
      native    = "created_at"
      to_native = value
    }
  }
}
`

// Each problem is printed once: one "file:line:col: severity: summary"
// line, then the snippet and the detail, never HCL's own heading that
// repeats the summary.
func TestValidatePrintsEachProblemOnce(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.hcl")
	src := strings.Replace(badMapping, "DSN", filepath.Join(dir, "x.db"), 1)
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runCmd(t, "", "validate", "--config", path)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, errs)
	}
	for summary, want := range map[string]int{
		"Unknown SCIM attribute path":        2,
		"Call to unknown function":           1,
		"to_native on a read-only attribute": 1,
	} {
		if got := strings.Count(errs, summary); got != want {
			t.Errorf("%q appears %d times, want %d:\n%s", summary, got, want, errs)
		}
	}
	for _, want := range []string{`Did you mean "userName"?`, `Did you mean "name.givenName"?`, `Did you mean "upper"?`} {
		if strings.Count(strings.Join(strings.Fields(errs), " "), want) != 1 {
			t.Errorf("diagnostics lack %s once:\n%s", want, errs)
		}
	}
	headings := 0
	for _, line := range strings.Split(errs, "\n") {
		if strings.HasPrefix(line, path+":") {
			headings++
		}
		if strings.HasPrefix(line, "Error:") || strings.HasPrefix(line, "Warning:") {
			t.Errorf("HCL's heading repeats a summary: %q", line)
		}
	}
	if headings != 4 {
		t.Errorf("%d problem lines, want 4:\n%s", headings, errs)
	}
	if !strings.Contains(errs, "4 problem(s)") {
		t.Errorf("no count of problems:\n%s", errs)
	}
}
