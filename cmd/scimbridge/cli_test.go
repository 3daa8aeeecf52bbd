package main

import (
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
		{[]string{"validate", "--help"}, []string{"-config"}, []string{"-listen", "-log-level", "-endpoint"}},
		{[]string{"map", "--help"}, []string{"-config", "-endpoint", "-resource"}, []string{"-listen", "-log-level"}},
		{[]string{"token", "--help"}, []string{"create", "hash"}, nil},
		{[]string{"token", "create", "--help"}, []string{"-name", "-scopes", "-expires", "-raw"}, []string{"-bcrypt"}},
		{[]string{"token", "hash", "--help"}, []string{"-bcrypt"}, []string{"-scopes", "-raw"}},
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
