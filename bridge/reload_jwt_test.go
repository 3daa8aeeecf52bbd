package bridge_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/config"
)

// loadEndpoints loads configText as a reload reads the file again.
func loadEndpoints(t *testing.T, configText string) []*config.Endpoint {
	t.Helper()
	path := filepath.Join(t.TempDir(), "scimbridge.hcl")
	if err := os.WriteFile(path, []byte(configText), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, diags := config.Load(path, map[string]config.BackendType{"memory": bridgetest.Static(newMemory())}, nil)
	if diags.HasErrors() {
		t.Fatalf("config: %s", diags.Error())
	}
	return cfg.Endpoints
}

// TestReloadJWTBlocks: a reload puts jwt blocks in force with the tokens
// (a changed jwks_url, an added and a removed block), keeps an unchanged
// block's verifier and keys, stops fetching the keys of blocks it drops,
// and changes nothing when a block's keys cannot be read.
func TestReloadJWTBlocks(t *testing.T) {
	js1, js2 := newJWKSServer(t), newJWKSServer(t)
	key1, key2 := newRSAKey(t), newRSAKey(t)
	js1.publish("k1", &key1.PublicKey)
	js2.publish("k2", &key2.PublicKey)
	first := jwtConfig(`jwks_url = "`+js1.srv.URL+`"`, "")
	srv, _ := startLogged(t, first)
	defer srv.Close()
	ep := srv.Endpoints[0]
	tok1 := sign(t, jwt.SigningMethodRS256, "k1", entraClaims(nil), key1)
	tok2 := sign(t, jwt.SigningMethodRS256, "k2", entraClaims(nil), key2)
	status := func(tok string) int {
		st, _ := bearer(t, srv, "GET", tok)
		return st
	}
	if status(tok1) != 200 || status(tok2) != 401 {
		t.Fatalf("before the reload: key 1 %d, key 2 %d", status(tok1), status(tok2))
	}
	_, before := bridge.JWTFetchers(ep)

	// The block's keys move to another URL; a second block is added;
	// requests are authenticated while the reload happens (-race).
	second := strings.Replace(jwtConfig(`jwks_url = "`+js2.srv.URL+`"`, ""), "  auth {\n", `  auth {
    jwt "other" {
      jwks_url = "`+js1.srv.URL+`"
      issuer   = "https://issuer.example.com/"
      audience = ["scim"]
    }
`, 1)
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				_, _ = bearer(t, srv, "GET", tok1)
				_, _ = bearer(t, srv, "GET", bridgetest.Token)
			}
		}()
	}
	applied, err := srv.ReloadCredentials(loadEndpoints(t, second))
	wg.Wait()
	if err != nil || len(applied) != 1 || !strings.Contains(applied[0], "2 jwt") {
		t.Fatalf("reload: %v %v", applied, err)
	}
	if st := status(tok2); st != 200 {
		t.Errorf("a token of the new keys after the reload: %d", st)
	}
	if st := status(tok1); st != 401 {
		t.Errorf("a token of the old keys after the reload: %d", st)
	}
	if st := status(bridgetest.Token); st != 200 {
		t.Errorf("the static token after the reload: %d", st)
	}
	if bridge.JWTFetching(before["entra"]) {
		t.Error("the replaced block's keys are still fetched")
	}
	fetching, kept := bridge.JWTFetchers(ep)
	if !fetching["entra"] || !fetching["other"] {
		t.Errorf("the blocks in force do not fetch their keys: %v", fetching)
	}

	// The same file again: the verifiers stay, their keys are not fetched again.
	hits := func() int { js2.mu.Lock(); defer js2.mu.Unlock(); return js2.hits }
	h := hits()
	if _, err := srv.ReloadCredentials(loadEndpoints(t, second)); err != nil {
		t.Fatal(err)
	}
	if _, again := bridge.JWTFetchers(ep); again["entra"] != kept["entra"] || again["other"] != kept["other"] {
		t.Error("an unchanged jwt block was built again")
	}
	if hits() != h {
		t.Errorf("an unchanged jwt block fetched its keys again (%d fetches, were %d)", hits(), h)
	}

	// A block whose keys cannot be read: nothing changes.
	broken := strings.Replace(second, `jwks_url = "`+js1.srv.URL+`"`, `jwks_file = "`+filepath.Join(t.TempDir(), "missing.json")+`"`, 1)
	broken = strings.Replace(broken, bridgetest.Token, "sb_never_Lq2Wm7Xc4Vb9Nz1Kp6Hd3Rt8", 1)
	if _, err := srv.ReloadCredentials(loadEndpoints(t, broken)); err == nil || !strings.Contains(err.Error(), `jwt "other"`) {
		t.Fatalf("a reload with unreadable keys: %v", err)
	}
	if status(tok2) != 200 || status(bridgetest.Token) != 200 {
		t.Errorf("after a refused reload: jwt %d, token %d", status(tok2), status(bridgetest.Token))
	}
	if fetching, _ := bridge.JWTFetchers(ep); !fetching["entra"] || !fetching["other"] {
		t.Errorf("a refused reload stopped the blocks in force: %v", fetching)
	}

	// Every jwt block removed: JWTs are refused, the fetching stops.
	if _, err := srv.ReloadCredentials(loadEndpoints(t, memoryConfig)); err != nil {
		t.Fatal(err)
	}
	if st := status(tok2); st != 401 {
		t.Errorf("a JWT after its block was removed: %d", st)
	}
	if bridge.JWTFetching(kept["entra"]) || bridge.JWTFetching(kept["other"]) {
		t.Error("the removed blocks' keys are still fetched")
	}
}
