package main

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/bridge/config"
)

func oauth2Config(t *testing.T, server string) (path, store string) {
	t.Helper()
	store = filepath.Join(t.TempDir(), "oauth2.db")
	auth := `    oauth2 "okta" {
      client_id     = "scimbridge-okta"
      client_secret = env("OKTA_OAUTH2_SECRET")
      redirect_uris = ["https://system-admin.okta.com/admin/app/cpc/x/oauth/callback"]
      store         = "sqlite://` + store + `"
      admin "it-admin" { password_hash = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" }
    }
`
	path = filepath.Join(t.TempDir(), "c.hcl")
	if err := os.WriteFile(path, []byte(exampleWithAuth(t, server, auth)), 0o640); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SCIMBRIDGE_SQLITE_PATH", filepath.Join(t.TempDir(), "x.db"))
	return path, store
}

// TestOAuth2URLs: `oauth2 urls` prints what to enter in Okta, from
// public_url and the base path, without the secret being set; without
// public_url, paths and a note.
func TestOAuth2URLs(t *testing.T) {
	path, _ := oauth2Config(t, "server {\n  public_url = \"https://scim.example.com\"\n}")
	code, out, errs := runCmd(t, "", "oauth2", "urls", "--config", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, w := range []string{
		`endpoint "default", oauth2 "okta":`,
		"Authorize endpoint     https://scim.example.com/scim/v2/oauth2/authorize",
		"Token endpoint         https://scim.example.com/scim/v2/oauth2/token",
		"Client ID              scimbridge-okta",
		"https://scim.example.com/scim/v2/oauth2/revoke",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("%q not in\n%s", w, out)
		}
	}
	path, _ = oauth2Config(t, "server {\n  listen = \"127.0.0.1:0\"\n}")
	code, out, errs = runCmd(t, "", "oauth2", "urls", "--config", path)
	if code != 0 || !strings.Contains(out, "Authorize endpoint     /scim/v2/oauth2/authorize") || !strings.Contains(errs, "public_url is not set") {
		t.Errorf("without public_url: exit %d\n%s\n%s", code, out, errs)
	}
	if code, _, _ := runCmd(t, "", "oauth2", "urls"); code != 2 {
		t.Errorf("no --config: exit %d", code)
	}
	if code, out, _ := runCmd(t, "", "token", "list", "--config", path); code != 0 || !strings.Contains(out, "oauth2 (client_id \"scimbridge-okta\"") {
		t.Errorf("token list: exit %d\n%s", code, out)
	}
}

// TestOAuth2Revoke: `oauth2 revoke NAME` deletes the codes and tokens of
// that client from its store, and no other client's.
func TestOAuth2Revoke(t *testing.T) {
	path, store := oauth2Config(t, "server {\n  listen = \"127.0.0.1:0\"\n}")
	t.Setenv("OKTA_OAUTH2_SECRET", "sb_oauth_Wq8vT3kZr6Yp1Lx9Nd2Hs5Jc7Fb4Gm0A")
	if code, out, errs := runCmd(t, "", "oauth2", "revoke", "--config", path, "okta"); code != 0 || !strings.Contains(out, "revoked 0 code(s) and token(s)") {
		t.Fatalf("empty store: exit %d\n%s\n%s", code, out, errs)
	}
	db, err := sql.Open("sqlite", store)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, r := range [][3]string{{"h1", "access", "scimbridge-okta"}, {"h2", "refresh", "scimbridge-okta"}, {"h3", "access", "other"}} {
		if _, err := db.Exec(`INSERT INTO scimbridge_oauth2_tokens (hash, kind, endpoint, client_id, family, expires_at, used, data) VALUES (?, ?, 'default', ?, 'f', 4102444800, 0, '{}')`,
			r[0], r[1], r[2]); err != nil {
			t.Fatal(err)
		}
	}
	if code, out, errs := runCmd(t, "", "oauth2", "revoke", "--config", path, "okta"); code != 0 || !strings.Contains(out, "revoked 2 code(s) and token(s) of oauth2 \"okta\"") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	var left int
	if err := db.QueryRow(`SELECT COUNT(*) FROM scimbridge_oauth2_tokens`).Scan(&left); err != nil || left != 1 {
		t.Errorf("rows left %d (%v), want the other client's 1", left, err)
	}
	if code, _, _ := runCmd(t, "", "oauth2", "revoke", "--config", path, "nobody"); code != 1 {
		t.Errorf("unknown block: exit %d", code)
	}
	if code, _, _ := runCmd(t, "", "oauth2", "revoke", "--config", path); code != 2 {
		t.Errorf("no name: exit %d", code)
	}
	if code, _, errs := runCmd(t, "", "token", "revoke", "--config", path, "okta"); code != 1 || !strings.Contains(errs, "scimbridge oauth2 revoke") {
		t.Errorf("token revoke of an oauth2 block: exit %d %s, want 1 and a pointer to oauth2 revoke", code, errs)
	}
}

// TestOAuth2ReloadNoRestart: a change to an oauth2 block is applied by a
// reload (TestServeReloadsOAuth2); it is not reported as needing a restart.
func TestOAuth2ReloadNoRestart(t *testing.T) {
	t.Setenv("OKTA_OAUTH2_SECRET", "sb_oauth_Wq8vT3kZr6Yp1Lx9Nd2Hs5Jc7Fb4Gm0A")
	path, _ := oauth2Config(t, "server {\n  listen = \"127.0.0.1:0\"\n}")
	load := func() *config.Config {
		cfg, diags := config.LoadWith(path, kinds.Types(), nil, config.LoadOptions{})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		return cfg
	}
	old := load()
	src, _ := os.ReadFile(path)
	if err := os.WriteFile(path, []byte(strings.Replace(string(src), `client_id     = "scimbridge-okta"`, `client_id     = "scimbridge-okta-2"`, 1)), 0o640); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(restartNeeded(old, load()), "; "); got != "" {
		t.Errorf("restartNeeded after an oauth2 change: %q, want none", got)
	}
}
