package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// credsConfig is config.example.hcl with, besides its env token, a hashed
// token with scopes and an expiry, a literal-valued token, a Basic user
// and a second endpoint with a token of the same name.
func credsConfig(t *testing.T) (path, src string) {
	t.Helper()
	auth := `    token "env" {
      value = env("SCIMBRIDGE_TOKEN")
    }
    # Okta, made 2026-01-05.
    token "okta" {
      hash    = "sha256:5d41402abc4b2a76b9719d911017c592aa5d41402abc4b2a76b9719d911017c5"
      scopes  = ["get:users", "patch:users"]
      expires = "2020-01-31T00:00:00Z"
    }
    token "inline" {
      value = "sb_inline_Tq7Wm2Xc9Lp4Rv8Kz1Nb6Hd3"
    }
    basic "onelogin" {
      password_hash = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    }
`
	s := exampleWithAuth(t, "server {\n  listen = \"127.0.0.1:0\"\n}", auth)
	s += `
endpoint "second" {
  base_path = "/scim/second"
  backend   = "legacy"
  auth {
    token "okta" {
      hash = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
    }
  }
  mapping "User" {
    attribute "userName" { native = "login_name" }
  }
}
`
	path = filepath.Join(t.TempDir(), "c.hcl")
	if err := os.WriteFile(path, []byte(s), 0o640); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SCIMBRIDGE_SQLITE_PATH", filepath.Join(t.TempDir(), "x.db"))
	return path, s
}

// TestTokenList: every credential with its kind, scopes and expiry; never
// a secret, hash or value.
func TestTokenList(t *testing.T) {
	path, _ := credsConfig(t)
	code, out, errs := runCmd(t, "", "token", "list", "--config", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, w := range []string{
		"default   env       token (value from the environment)",
		`okta      token (sha256 hash in the file)     ["get:users", "patch:users"]  2020-01-31T00:00:00Z (expired)`,
		"inline    token (value written in the file)",
		"onelogin  basic (sha256 hash in the file)",
		"second    okta      token (sha256 hash in the file)     all",
		"scimbridge_token_last_used_timestamp_seconds",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("%q not in\n%s", w, out)
		}
	}
	for _, secret := range []string{"sb_inline", "5d41402abc", "2cf24dba", "1111111111"} {
		if strings.Contains(out, secret) {
			t.Errorf("list shows %q\n%s", secret, out)
		}
	}
	if code, _, _ := runCmd(t, "", "token", "list", "--config", filepath.Join(t.TempDir(), "none.hcl")); code != 1 {
		t.Errorf("missing file: exit %d", code)
	}
	if code, _, _ := runCmd(t, "", "token", "list"); code != 2 {
		t.Errorf("no --config: exit %d", code)
	}
}

// TestTokenRevoke removes one block and leaves every other byte as it was;
// a name in two endpoints needs --endpoint; a missing one is exit 1; a
// removal that would leave the file unloadable changes nothing.
func TestTokenRevoke(t *testing.T) {
	path, src := credsConfig(t)
	code, _, errs := runCmd(t, "", "token", "revoke", "--config", path, "okta")
	if code != 2 || !strings.Contains(errs, "--endpoint") {
		t.Errorf("ambiguous name: exit %d, %s", code, errs)
	}
	code, out, errs := runCmd(t, "", "token", "revoke", "--config", path, "okta", "--endpoint", "default")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, `token "okta" {`) || !strings.Contains(out, "SIGHUP") {
		t.Errorf("output:\n%s", out)
	}
	got, _ := os.ReadFile(path)
	block := `    token "okta" {
      hash    = "sha256:5d41402abc4b2a76b9719d911017c592aa5d41402abc4b2a76b9719d911017c5"
      scopes  = ["get:users", "patch:users"]
      expires = "2020-01-31T00:00:00Z"
    }
`
	if want := strings.Replace(src, block, "", 1); string(got) != want {
		t.Errorf("the file is not the original less the block:\n%s", got)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
	if code, _, errs := runCmd(t, "", "token", "revoke", "--config", path, "okta", "--endpoint", "default"); code != 1 {
		t.Errorf("already removed: exit %d %s", code, errs)
	}
	// The second endpoint's only credential: refused, file unchanged.
	code, _, errs = runCmd(t, "", "token", "revoke", "--config", path, "okta")
	if code != 1 || !strings.Contains(errs, "Endpoint without credentials") || !strings.Contains(errs, path+":") {
		t.Errorf("last credential: exit %d, %s", code, errs)
	}
	if after, _ := os.ReadFile(path); string(after) != string(got) {
		t.Error("a refused revoke changed the file")
	}
	if code, _, _ := runCmd(t, "", "token", "revoke", "--config", path); code != 2 {
		t.Errorf("no name: exit %d", code)
	}
	if code, _, _ := runCmd(t, "", "token", "revoke", "--config", path, "a", "b"); code != 2 {
		t.Errorf("two names: exit %d", code)
	}
	if code, _, _ := runCmd(t, "", "token", "revoke", "--bogus", "x"); code != 2 {
		t.Errorf("wrong flag: exit %d", code)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("left files behind: %v", entries)
	}
}
