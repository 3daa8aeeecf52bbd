package bridge_test

import (
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
	srv := bridgetest.StartWith(t, oauthConfig(store1, audit, scopes), types, bridgetest.Options{})
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
		_, err := srv.Bridge.ReloadCredentials(loadEndpoints(t, oauthConfig(store, audit, scopes)))
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
}
