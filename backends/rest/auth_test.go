package rest_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/backends/rest/jsontest"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
)

// jsonServerWithAuth serves examples/json-server.hcl with authBlock added
// to its backend, through a relay that refuses (401) every request for
// which allow is false.
func jsonServerWithAuth(t *testing.T, authBlock string, allow func(r *http.Request) bool, env map[string]string) (*bridgetest.Client, *relay) {
	t.Helper()
	srv := jsontest.Start(t)
	rl := startRelay(t, srv.URL)
	rl.set(func(r *http.Request) (int, http.Header, []byte, bool) {
		if allow(r) {
			return 0, nil, nil, false
		}
		return http.StatusUnauthorized, http.Header{"Content-Type": {"application/json"}}, []byte(`{"error":"unauthorized"}`), true
	}, nil)
	if env == nil {
		env = map[string]string{}
	}
	env["REST_BASE_URL"] = rl.URL
	env["SCIMBRIDGE_TOKEN"] = bridgetest.Token
	path := writeTemp(t, bridgetest.EditFile(t, example("json-server.hcl"), [2]string{"  max_concurrency = 4\n", "  max_concurrency = 4\n" + authBlock + "\n"}))
	b := bridgetest.StartFile(t, path, env, kinds.Types())
	return bridgetest.NewClient(t, b.URL+"/scim/v2"), rl
}

// roundTrip creates, reads and lists a user through the bridge.
func roundTrip(t *testing.T, c *bridgetest.Client, name string) {
	t.Helper()
	id := bridgetest.Str(c.Must(201, "POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": name}).JSON, "id")
	c.Must(200, "GET", "/Users/"+id, nil)
	c.Must(200, "GET", "/Users?filter="+`userName%20eq%20%22`+name+`%22`, nil)
}

func TestAuthStatic(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "api-password")
	if err := os.WriteFile(secret, []byte("sb_basic_7QzP2kR9\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, block string
		allow       func(r *http.Request) bool
		env         map[string]string
	}{
		{"bearer", `  auth { bearer_token = env("API_TOKEN") }`,
			func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer sb_api_Xk29dLq0" },
			map[string]string{"API_TOKEN": "sb_api_Xk29dLq0"}},
		{"header", `  auth {
    header {
      name  = "X-API-Key"
      value = env("API_KEY")
    }
  }`,
			func(r *http.Request) bool {
				return r.Header.Get("X-API-Key") == "sb_key_V8mN3c" && r.Header.Get("Authorization") == ""
			},
			map[string]string{"API_KEY": "sb_key_V8mN3c"}},
		{"basic from a file", `  auth {
    basic {
      username = "scim"
      password = file("` + secret + `")
    }
  }`,
			func(r *http.Request) bool {
				u, p, ok := r.BasicAuth()
				return ok && u == "scim" && p == "sb_basic_7QzP2kR9"
			}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, rl := jsonServerWithAuth(t, tc.block, tc.allow, tc.env)
			roundTrip(t, c, "auth-"+strings.ReplaceAll(tc.name, " ", "-"))
			if len(rl.requests()) == 0 {
				t.Fatal("no request reached the API")
			}
			// The API refusing the credentials: 502, the bridge's account.
			rl.set(func(*http.Request) (int, http.Header, []byte, bool) {
				return http.StatusUnauthorized, nil, []byte(`{}`), true
			}, nil)
			if r := c.Do("GET", "/Users", nil); r.Status != 502 {
				t.Errorf("refused credentials: %d %s, want 502", r.Status, r.Body)
			}
		})
	}
}

// tokenEndpoint is an OAuth 2.0 token endpoint (client credentials) on
// loopback: the protocol peer the backend talks to.
type tokenEndpoint struct {
	URL      string
	lifetime int // expires_in of the tokens it issues
	mu       sync.Mutex
	issued   []string
	calls    int
}

func startTokenEndpoint(t *testing.T, lifetime int) *tokenEndpoint {
	t.Helper()
	te := &tokenEndpoint{lifetime: lifetime}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	te.URL = "http://" + ln.Addr().String() + "/oauth2/token"
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		w.Header().Set("Content-Type", "application/json")
		if r.Method != "POST" || r.PostForm.Get("grant_type") != "client_credentials" || id != "scimbridge" || secret != "sb_cs_4Hq8Wm" || r.PostForm.Get("scope") != "users.write groups.write" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
			return
		}
		te.mu.Lock()
		te.calls++
		tok := fmt.Sprintf("sb_at_%d_%x", te.calls, time.Now().UnixNano())
		te.issued = append(te.issued, tok)
		te.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": te.lifetime})
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return te
}

func (te *tokenEndpoint) valid(h string) bool {
	te.mu.Lock()
	defer te.mu.Unlock()
	for _, tok := range te.issued {
		if h == "Bearer "+tok {
			return true
		}
	}
	return false
}

func (te *tokenEndpoint) count() int {
	te.mu.Lock()
	defer te.mu.Unlock()
	return te.calls
}

func oauthBlock(te *tokenEndpoint, secret string) string {
	return `  auth {
    oauth2 {
      token_url     = "` + te.URL + `"
      client_id     = "scimbridge"
      client_secret = "` + secret + `"
      scopes        = ["users.write", "groups.write"]
    }
  }`
}

// TestOAuth2ClientCredentials: the token is fetched once and reused while
// valid; a token about to expire (golang.org/x/oauth2 renews within 10s
// of expiry) is fetched again; refused client credentials are a 502.
func TestOAuth2ClientCredentials(t *testing.T) {
	t.Run("cached", func(t *testing.T) {
		te := startTokenEndpoint(t, 3600)
		c, rl := jsonServerWithAuth(t, oauthBlock(te, "sb_cs_4Hq8Wm"), func(r *http.Request) bool { return te.valid(r.Header.Get("Authorization")) }, nil)
		roundTrip(t, c, "oauth-a")
		roundTrip(t, c, "oauth-b")
		if n, reqs := te.count(), len(rl.requests()); n != 1 || reqs < 6 {
			t.Errorf("%d tokens for %d API requests, want 1 token", n, reqs)
		}
	})
	t.Run("renewed", func(t *testing.T) {
		te := startTokenEndpoint(t, 5)
		c, rl := jsonServerWithAuth(t, oauthBlock(te, "sb_cs_4Hq8Wm"), func(r *http.Request) bool { return te.valid(r.Header.Get("Authorization")) }, nil)
		roundTrip(t, c, "oauth-c")
		if n, reqs := te.count(), len(rl.requests()); n != reqs || n < 3 {
			t.Errorf("%d tokens for %d API requests, want one per request (each token expires within the renewal margin)", n, reqs)
		}
	})
	t.Run("refused", func(t *testing.T) {
		te := startTokenEndpoint(t, 3600)
		c, rl := jsonServerWithAuth(t, oauthBlock(te, "sb_cs_wrong"), func(r *http.Request) bool { return te.valid(r.Header.Get("Authorization")) }, nil)
		if r := c.Do("GET", "/Users", nil); r.Status != 502 {
			t.Errorf("refused client credentials: %d %s, want 502", r.Status, r.Body)
		}
		if reqs := rl.requests(); len(reqs) != 0 {
			t.Errorf("%d requests reached the API without a token", len(reqs))
		}
	})
}

// TestLoginRelogin: examples/pocketbase.hcl logs in once, and again when
// the API answers 401 (an expired session), and the request goes through.
func TestLoginRelogin(t *testing.T) {
	s := servePocketBase(t, serveOpts{relay: true})
	logins := func(reqs []seenRequest) (n int) {
		for _, r := range reqs {
			if strings.HasSuffix(r.RequestURI, "/auth-with-password") {
				n++
			}
		}
		return n
	}
	roundTrip(t, s.c, "login-a")
	roundTrip(t, s.c, "login-b")
	if n := logins(s.relay.requests()); n != 1 {
		t.Fatalf("%d logins for two round trips, want 1", n)
	}
	// The next request's session is refused once: the bridge logs in again
	// and the request succeeds.
	var once sync.Once
	s.relay.set(func(r *http.Request) (int, http.Header, []byte, bool) {
		refuse := false
		if !strings.HasSuffix(r.URL.Path, "/auth-with-password") {
			once.Do(func() { refuse = true })
		}
		if refuse {
			return http.StatusUnauthorized, http.Header{"Content-Type": {"application/json"}}, []byte(`{"status":401,"message":"The request requires valid record authorization token.","data":{}}`), true
		}
		return 0, nil, nil, false
	}, nil)
	roundTrip(t, s.c, "login-c")
	if n := logins(s.relay.requests()); n != 1 {
		t.Errorf("%d logins after a 401, want 1", n)
	}
}

// TestMutualTLS: the API behind TLS that requires a client certificate
// (a loopback TLS relay in front of json-server): with tls { ca_file,
// cert_file, key_file } requests go through; without the client
// certificate the handshake is refused (502); with a CA that did not
// sign the server's certificate, 500 (the configuration).
func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca, caKey := newCert(t, nil, nil, "test CA", true)
	srvCert, srvKey := newCert(t, ca, caKey, "127.0.0.1", false)
	cliCert, cliKey := newCert(t, ca, caKey, "scimbridge", false)
	other, _ := newCert(t, nil, nil, "other CA", true)
	writePEM(t, filepath.Join(dir, "ca.pem"), "CERTIFICATE", ca.Raw)
	writePEM(t, filepath.Join(dir, "other.pem"), "CERTIFICATE", other.Raw)
	writePEM(t, filepath.Join(dir, "client.pem"), "CERTIFICATE", cliCert.Raw)
	writeKey(t, filepath.Join(dir, "client.key"), cliKey)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	tc := &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{srvCert.Raw}, PrivateKey: srvKey}},
		ClientAuth:   tls.RequireAndVerifyClientCert, ClientCAs: pool, MinVersion: tls.VersionTLS12,
	}
	srv := jsontest.Start(t)
	rl := startRelayTLS(t, srv.URL, tc)
	serve := func(block string) *bridgetest.Client {
		t.Helper()
		path := writeTemp(t, bridgetest.EditFile(t, example("json-server.hcl"), [2]string{"  max_concurrency = 4\n", "  max_concurrency = 4\n" + block + "\n"}))
		b := bridgetest.StartFile(t, path, map[string]string{"REST_BASE_URL": rl.URL, "SCIMBRIDGE_TOKEN": bridgetest.Token}, kinds.Types())
		return bridgetest.NewClient(t, b.URL+"/scim/v2")
	}
	t.Run("client certificate", func(t *testing.T) {
		c := serve(fmt.Sprintf("  tls {\n    ca_file = %q\n    cert_file = %q\n    key_file = %q\n  }", filepath.Join(dir, "ca.pem"), filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")))
		roundTrip(t, c, "mtls")
		if len(rl.requests()) == 0 {
			t.Fatal("no request reached the API")
		}
	})
	t.Run("no client certificate", func(t *testing.T) {
		c := serve(fmt.Sprintf("  tls {\n    ca_file = %q\n  }", filepath.Join(dir, "ca.pem")))
		if r := c.Do("GET", "/Users", nil); r.Status != 502 {
			t.Errorf("without a client certificate: %d %s, want 502", r.Status, r.Body)
		}
		if n := len(rl.requests()); n != 0 {
			t.Errorf("%d requests reached the API", n)
		}
	})
	t.Run("wrong CA", func(t *testing.T) {
		c := serve(fmt.Sprintf("  tls {\n    ca_file = %q\n    cert_file = %q\n    key_file = %q\n  }", filepath.Join(dir, "other.pem"), filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")))
		if r := c.Do("GET", "/Users", nil); r.Status != 500 {
			t.Errorf("a server certificate the CA did not sign: %d %s, want 500", r.Status, r.Body)
		}
	})
}

func newCert(t *testing.T, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, cn string, isCA bool) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IsCA:        isCA, BasicConstraintsValid: true,
	}
	if ip := net.ParseIP(cn); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func writeKey(t *testing.T, path string, key *ecdsa.PrivateKey) {
	t.Helper()
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, path, "EC PRIVATE KEY", der)
}
