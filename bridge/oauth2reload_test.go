package bridge_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/config"
)

// TestReloadOAuth2Store: a reload may move an endpoint's oauth2 blocks to
// another store (opened before the swap; the tokens of the previous one
// are unknown there, and honoured again when the blocks move back); a
// store that cannot be opened refuses the whole reload, the running set
// untouched; requests authenticated while reloads happen race with
// nothing (-race).
func TestReloadOAuth2Store(t *testing.T) {
	dir := t.TempDir()
	store1, store2 := "sqlite://"+filepath.Join(dir, "one.db"), "sqlite://"+filepath.Join(dir, "two.db")
	audit := filepath.Join(dir, "audit.log")
	types := map[string]config.BackendType{"memory": bridgetest.Static(newMemory())}
	scopes := `"get:users"`
	// The requests during the first reload fail once their token is
	// gone: no failure limit gets in the way of the test's own.
	conf := func(store string) string {
		return strings.Replace(oauthConfig(store, audit, scopes), "server {\n", "server {\n  auth_failure_limit = 1000000\n", 1)
	}
	srv := bridgetest.StartWith(t, conf(store1), types, bridgetest.Options{})
	okta := newOAuthOkta(t, srv.URL)
	grant := func() string {
		t.Helper()
		v, c := pkce()
		a := okta.exchange(okta.code(authorizeQuery("st", c)), v, true)
		if a.status != 200 || a.Access == "" {
			t.Fatalf("exchange: %+v", a)
		}
		return a.Access
	}
	get := func(access string) int {
		t.Helper()
		st, _ := okta.scim("GET", "/Users", access, nil)
		return st
	}
	reload := func(store string) error {
		t.Helper()
		_, err := srv.Bridge.ReloadCredentials(loadEndpoints(t, conf(store)))
		return err
	}
	access1 := grant()

	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					_, _ = okta.scim("GET", "/Users", access1, nil)
				}
			}
		}()
	}
	err := reload(store2)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("reload to another store: %v", err)
	}
	if got := get(access1); got != 401 {
		t.Errorf("a token of the previous store: %d, want 401", got)
	}
	access2 := grant()
	if got := get(access2); got != 200 {
		t.Errorf("a token issued on the new store: %d", got)
	}

	bad := "sqlite://" + filepath.Join(dir, "no-such-dir", "x.db")
	if err := reload(bad); err == nil || !strings.Contains(err.Error(), "opening the token store") {
		t.Errorf("reload to a store that cannot be opened: %v", err)
	}
	if got := get(access2); got != 200 {
		t.Errorf("after a refused reload: %d, want 200", got)
	}

	if err := reload(store1); err != nil {
		t.Fatal(err)
	}
	if a, b := get(access1), get(access2); a != 200 || b != 401 {
		t.Errorf("back on the first store: its token %d (want 200), the second's %d (want 401)", a, b)
	}

	// The admin's password, the redirect URIs and the lifetimes change.
	const newPassword, newRedirect = "pw_Zq4Wn8Rt1Lx6Vc3Kb9Jd", "https://system-admin.okta-emea.com/admin/app/cpc/scimbridge_1/oauth/callback"
	oldSum, newSum := sha256.Sum256([]byte(oauthPassword)), sha256.Sum256([]byte(newPassword))
	changed := strings.NewReplacer(hex.EncodeToString(oldSum[:]), hex.EncodeToString(newSum[:]),
		`redirect_uris = ["`+oauthRedirect+`"]`, `redirect_uris = ["`+oauthRedirect+`", "`+newRedirect+`"]`,
		`store         =`, `access_token_ttl = "2h"
      store         =`).Replace(conf(store1))
	if _, err := srv.Bridge.ReloadCredentials(loadEndpoints(t, changed)); err != nil {
		t.Fatal(err)
	}
	if resp, _ := okta.authorize(authorizeQuery("st", ""), oauthAdmin, oauthPassword); resp.StatusCode != 401 {
		t.Errorf("consent with the admin's previous password: %d, want 401", resp.StatusCode)
	}
	q := authorizeQuery("st", "")
	q.Set("redirect_uri", newRedirect)
	resp, _ := okta.authorize(q, oauthAdmin, newPassword)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != 302 || loc == nil || !strings.HasPrefix(loc.String(), newRedirect+"?") || loc.Query().Get("code") == "" {
		t.Fatalf("consent with the new password to the added redirect URI: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	a := okta.token(url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {newRedirect}}, true, oauthSecret)
	if a.status != 200 || a.ExpiresIn != 7200 {
		t.Errorf("a token after access_token_ttl = 2h: %d, expires_in %d", a.status, a.ExpiresIn)
	}
}
