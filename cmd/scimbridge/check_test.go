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

// Issue #10 item 4: serve checks the mapping against the database before
// serving. A native name the table does not have, a writable mapping of
// the id and a NOT NULL column no mapping writes stop it with exit 1, each
// printed at its file:line; validate, which does not connect, still
// passes such a file.
func TestServeRefusesMappingThatDoesNotFit(t *testing.T) {
	src, err := os.ReadFile("../../config.example.hcl")
	if err != nil {
		t.Fatal(err)
	}
	edits := []struct{ from, to string }{
		{`{ native = "fname" }`, `{ native = "frist_nm" }`},
		{`attribute "externalId"                     { native = "ext_ref" }`, `attribute "externalId"                     { native = "usr_id" }`},
		{`      lname         TEXT,`, `      lname         TEXT NOT NULL,`},
		{`    attribute "name.familyName"                { native = "lname" }`, ``},
	}
	bad := src
	for _, e := range edits {
		if !bytes.Contains(bad, []byte(e.from)) {
			t.Fatalf("config.example.hcl no longer contains %q", e.from)
		}
		bad = bytes.Replace(bad, []byte(e.from), []byte(e.to), 1)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.hcl")
	if err := os.WriteFile(path, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SCIMBRIDGE_TOKEN", "sb_check_Fq6wNz2KtP9xLm4VcR7yBs3Hd8Jg5Ue")
	t.Setenv("SCIMBRIDGE_SQLITE_PATH", filepath.Join(dir, "x.db"))
	line := func(s string) int { return 1 + bytes.Count(bad[:bytes.Index(bad, []byte(s))], []byte("\n")) }

	code, _, errs := runCmd(t, "", "validate", "--config", path)
	if code != 0 {
		t.Fatalf("validate (offline): exit %d\n%s", code, errs)
	}
	code, _, errs = runCmd(t, "", "serve", "--config", path, "--listen", "127.0.0.1:0")
	if code != 1 {
		t.Fatalf("serve: exit %d, want 1\n%s", code, errs)
	}
	for _, want := range []struct {
		at, summary, detail string
	}{
		{`native = "frist_nm"`, "Native attribute not in the store", `table "acct_users"`},
		{`native = "usr_id"`, "Mapping writes the id", "SCIM id"},
		{`mapping "User"`, "Required native attribute not mapped", `"lname" (a NOT NULL column without a default)`},
	} {
		loc := regexp.MustCompile(regexp.QuoteMeta(path) + `:` + strconv.Itoa(line(want.at)) + `:\d+: error: ` + regexp.QuoteMeta(want.summary))
		if !loc.MatchString(errs) {
			t.Errorf("no %q at %s:%d:\n%s", want.summary, path, line(want.at), errs)
		}
		if !strings.Contains(strings.Join(strings.Fields(errs), " "), want.detail) {
			t.Errorf("output lacks %q:\n%s", want.detail, errs)
		}
	}
	if !strings.Contains(errs, "3 problem(s)") || !strings.Contains(errs, "not serving") {
		t.Errorf("want 3 problems and a refusal to serve:\n%s", errs)
	}
}
