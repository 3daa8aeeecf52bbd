package bridge_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
)

// jwksServer serves a JWK Set on loopback that a test can change (key
// rotation), as an IdP's keys endpoint does.
type jwksServer struct {
	mu   sync.Mutex
	keys []map[string]any
	hits int
	srv  *httptest.Server
}

func newJWKSServer(t *testing.T) *jwksServer {
	js := &jwksServer{}
	js.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		js.mu.Lock()
		defer js.mu.Unlock()
		js.hits++
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": js.keys})
	}))
	t.Cleanup(js.srv.Close)
	return js
}

func (js *jwksServer) publish(kid string, k *rsa.PublicKey) {
	js.mu.Lock()
	defer js.mu.Unlock()
	js.keys = append(js.keys, rsaJWK(kid, k))
}

func rsaJWK(kid string, k *rsa.PublicKey) map[string]any {
	b64 := base64.RawURLEncoding.EncodeToString
	return map[string]any{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
		"n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
}

func newRSAKey(t *testing.T) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

const (
	jwtIssuer   = "https://sts.windows.net/3f1c6a5e-7d2b-4a7e-9c55-0d8e2a1b4c6f/"
	jwtAudience = "8adf8e6e-67b2-4cf2-a259-e3dc5476c621"
	jwtAppID    = "b1a7c2d4-5e6f-4a8b-9c0d-1e2f3a4b5c6d"
)

// entraClaims are the claims of an Entra app-only token for the bridge.
func entraClaims(mod func(jwt.MapClaims)) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{"iss": jwtIssuer, "aud": jwtAudience, "appid": jwtAppID, "sub": "provisioning",
		"iat": now.Add(-time.Minute).Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix()}
	if mod != nil {
		mod(c)
	}
	return c
}

func sign(t *testing.T, method jwt.SigningMethod, kid string, claims jwt.MapClaims, key any) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func jwtConfig(keys, extra string) string {
	// Every refusal below comes from one address: more than the default
	// auth_failure_limit of 10 a minute.
	cfg := strings.Replace(memoryConfig, "max_body_bytes = 65536", "max_body_bytes = 65536\n  auth_failure_limit = 100", 1)
	return strings.Replace(cfg, bridgetest.TokenBlock, `auth {
    token "test" { value = "`+bridgetest.Token+`" }
    jwt "entra" {
      `+keys+`
      issuer          = "`+jwtIssuer+`"
      audience        = ["`+jwtAudience+`"]
      required_claims = { appid = "`+jwtAppID+`" }
      leeway          = "5s"
      `+extra+`
    }
  }`, 1)
}

func bearer(t *testing.T, srv *bridge.Server, method, token string) (int, string) {
	t.Helper()
	var body io.Reader
	if method == "POST" {
		body = strings.NewReader(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"jwt.user"}`)
	}
	req := httptest.NewRequest(method, "/scim/v2/Users", body)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := srv.App.Test(req, 10000)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestJWTBearerTokens (issue #14, item 2): a token signed by the issuer's
// key passes; expired, not yet valid, without expiry, wrong audience,
// wrong issuer, missing the required claim, bad signature, alg=none, an
// HMAC signed with the public key (HS/RS confusion) and an algorithm not
// listed are all refused with 401, logged with the reason and never the
// token; a key the issuer adds later is fetched on first sight; scopes
// hold for JWTs as for static tokens; the static token still works.
func TestJWTBearerTokens(t *testing.T) {
	js := newJWKSServer(t)
	key := newRSAKey(t)
	js.publish("k1", &key.PublicKey)
	srv, logs := startLogged(t, jwtConfig(`jwks_url = "`+js.srv.URL+`"`, `scopes = ["get:users"]`))
	defer srv.Close()

	good := sign(t, jwt.SigningMethodRS256, "k1", entraClaims(nil), key)
	if st, body := bearer(t, srv, "GET", good); st != 200 {
		t.Fatalf("a valid token: %d %s", st, body)
	}
	if st, _ := bearer(t, srv, "POST", good); st != 403 {
		t.Errorf("a valid token beyond its scopes: %d, want 403", st)
	}
	if st, _ := bearer(t, srv, "GET", bridgetest.Token); st != 200 {
		t.Errorf("the static token next to a jwt block: %d", st)
	}

	other := newRSAKey(t)
	pubPEM, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubPEM})
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	noneTok := sign(t, jwt.SigningMethodNone, "k1", entraClaims(nil), jwt.UnsafeAllowNoneSignatureType)
	for _, tc := range []struct{ name, token, why string }{
		{"expired", sign(t, jwt.SigningMethodRS256, "k1", entraClaims(func(c jwt.MapClaims) {
			c["exp"] = time.Now().Add(-time.Hour).Unix()
		}), key), "expired"},
		{"not yet valid", sign(t, jwt.SigningMethodRS256, "k1", entraClaims(func(c jwt.MapClaims) {
			c["nbf"] = time.Now().Add(time.Hour).Unix()
		}), key), "not valid yet"},
		{"no expiry", sign(t, jwt.SigningMethodRS256, "k1", entraClaims(func(c jwt.MapClaims) { delete(c, "exp") }), key), "no expiry"},
		{"wrong audience", sign(t, jwt.SigningMethodRS256, "k1", entraClaims(func(c jwt.MapClaims) {
			c["aud"] = "https://graph.microsoft.com"
		}), key), "wrong audience"},
		{"wrong issuer", sign(t, jwt.SigningMethodRS256, "k1", entraClaims(func(c jwt.MapClaims) {
			c["iss"] = "https://sts.windows.net/another-tenant/"
		}), key), "wrong issuer"},
		{"required claim missing", sign(t, jwt.SigningMethodRS256, "k1", entraClaims(func(c jwt.MapClaims) { delete(c, "appid") }), key), "a required claim is missing or differs: appid"},
		{"required claim differs", sign(t, jwt.SigningMethodRS256, "k1", entraClaims(func(c jwt.MapClaims) { c["appid"] = "someone-else" }), key), "a required claim is missing or differs: appid"},
		{"bad signature", sign(t, jwt.SigningMethodRS256, "k1", entraClaims(nil), other), "bad signature"},
		{"alg none", noneTok, "algorithm not accepted"},
		{"HS256 with the public key as secret", sign(t, jwt.SigningMethodHS256, "k1", entraClaims(nil), pemBytes), "algorithm not accepted"},
		{"an algorithm not listed", sign(t, jwt.SigningMethodES256, "k1", entraClaims(nil), ec), "algorithm not accepted"},
		{"tampered claims", good[:strings.Index(good, ".")+1] + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"`+jwtIssuer+`","aud":"`+jwtAudience+`","appid":"`+jwtAppID+`","exp":9999999999}`)) + good[strings.LastIndex(good, "."):], "bad signature"},
	} {
		before := logs.String()
		st, body := bearer(t, srv, "GET", tc.token)
		if st != 401 || !strings.Contains(body, "urn:ietf:params:scim:api:messages:2.0:Error") {
			t.Errorf("%s: %d %s, want 401 with an RFC 7644 error", tc.name, st, body)
		}
		logged := strings.TrimPrefix(logs.String(), before)
		if !strings.Contains(logged, "reason="+bridge.ReasonInvalidJWT) || !strings.Contains(logged, "entra: "+tc.why) {
			t.Errorf("%s: log lacks the reason %q:\n%s", tc.name, tc.why, logged)
		}
		if strings.Contains(logs.String(), tc.token) || strings.Contains(logs.String(), tc.token[strings.LastIndex(tc.token, ".")+1:]) && len(tc.token)-strings.LastIndex(tc.token, ".") > 8 {
			t.Errorf("%s: the token is in the log", tc.name)
		}
	}

	// The IdP rotates: a token with a new key id makes the bridge fetch
	// the key set again.
	rotated := newRSAKey(t)
	js.publish("k2", &rotated.PublicKey)
	if st, body := bearer(t, srv, "GET", sign(t, jwt.SigningMethodRS256, "k2", entraClaims(nil), rotated)); st != 200 {
		t.Errorf("a token signed with a key published after start: %d %s", st, body)
	}
	if got := authFailures(t, srv, "test")[bridge.ReasonInvalidJWT]; got != 12 {
		t.Errorf("invalid_jwt failures counted: %v, want 12", got)
	}
}

// TestJWTKeysFromFile: jwks_file serves the same checks without fetching.
func TestJWTKeysFromFile(t *testing.T) {
	key := newRSAKey(t)
	path := filepath.Join(t.TempDir(), "jwks.json")
	raw, _ := json.Marshal(map[string]any{"keys": []any{rsaJWK("f1", &key.PublicKey)}})
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	srv, _ := startLogged(t, jwtConfig(`jwks_file = "`+path+`"`, ""))
	defer srv.Close()
	if st, body := bearer(t, srv, "POST", sign(t, jwt.SigningMethodRS256, "f1", entraClaims(nil), key)); st != 201 {
		t.Errorf("a valid token (all scopes): %d %s", st, body)
	}
	if st, _ := bearer(t, srv, "GET", sign(t, jwt.SigningMethodRS256, "f1", entraClaims(nil), newRSAKey(t))); st != 401 {
		t.Errorf("a token signed by another key: %d, want 401", st)
	}
}
