package bridge

import (
	"crypto/sha256"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/scimbridge/scimbridge/bridge/config"
)

// SetCredentials replaces tokens and Basic users while requests are being
// authenticated: afterwards a removed token and a removed (or re-hashed)
// Basic user are refused, even the Basic credentials verified just before.
func TestSetCredentialsReplacesTokensAndBasic(t *testing.T) {
	oldTok, newTok := "sb_old_Zq8Lm3Vx1Rt6Wc9Np2Kd5Hs7", "sb_new_Fy4Bj8Qe2Ua6Mg1Xo3Ti9Lr5"
	tok := func(name, v string) config.Token {
		return config.Token{Name: name, Hash: sha256.Sum256([]byte(v)), Scopes: config.AllScopes}
	}
	a := NewAuthenticator([]config.Token{tok("old", oldTok)},
		[]config.Basic{{Username: "svc", PasswordHash: bcryptHash(t, "pw-one", bcrypt.MinCost), Scopes: config.AllScopes}})
	if p, err := a.Authenticate("Bearer "+oldTok, "192.0.2.1"); err != nil || p.Name != "old" {
		t.Fatalf("old token before: %v %v", p, err)
	}
	if _, err := a.Authenticate(basicHeader("svc", "pw-one"), "192.0.2.1"); err != nil {
		t.Fatalf("basic before: %v", err)
	}
	// Concurrent authentications during the swap (for -race).
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				_, _ = a.Authenticate("Bearer "+oldTok, "192.0.2.2")
				_, _ = a.Authenticate("Bearer "+newTok, "192.0.2.2")
			}
		}()
	}
	a.SetCredentials([]config.Token{tok("new", newTok)},
		[]config.Basic{{Username: "svc", PasswordHash: bcryptHash(t, "pw-two", bcrypt.MinCost), Scopes: config.AllScopes}})
	wg.Wait()
	if p, err := a.Authenticate("Bearer "+newTok, "192.0.2.1"); err != nil || p.Name != "new" {
		t.Errorf("new token after: %v %v", p, err)
	}
	if _, err := a.Authenticate("Bearer "+oldTok, "192.0.2.1"); err == nil {
		t.Error("the removed token still authenticates")
	}
	if _, err := a.Authenticate(basicHeader("svc", "pw-one"), "192.0.2.1"); err == nil {
		t.Error("the replaced Basic password still authenticates (remembered verification)")
	}
	if _, err := a.Authenticate(basicHeader("svc", "pw-two"), "192.0.2.1"); err != nil {
		t.Errorf("the new Basic password: %v", err)
	}
}
