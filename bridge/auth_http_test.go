package bridge_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/crypto/bcrypt"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/config"
)

// startLogged builds a server for configText over a fresh in-memory
// backend, logging at info into the returned buffer; requests go through
// App.Test (client address 0.0.0.0).
func startLogged(t *testing.T, configText string) (*bridge.Server, *bridgetest.LogBuffer) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "scimbridge.hcl")
	if err := os.WriteFile(path, []byte(configText), 0o600); err != nil {
		t.Fatal(err)
	}
	types := map[string]config.BackendType{"memory": bridgetest.Static(newMemory())}
	cfg, diags := config.Load(path, types, nil)
	if diags.HasErrors() {
		t.Fatalf("config: %s", diags.Error())
	}
	logs := &bridgetest.LogBuffer{}
	log := hclog.New(&hclog.LoggerOptions{Name: "test", Level: hclog.Info, Output: logs})
	opened := map[string]backends.Backend{}
	for name, b := range cfg.Backends {
		be, err := types[b.Type].Open(context.Background(), b.Config, log)
		if err != nil {
			t.Fatal(err)
		}
		opened[name] = be
	}
	srv, err := bridge.New(cfg, opened, log)
	if err != nil {
		t.Fatal(err)
	}
	return srv, logs
}

func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// authFailures reads scimbridge_auth_failures_total by reason.
func authFailures(t *testing.T, srv *bridge.Server, endpoint string) map[string]float64 {
	t.Helper()
	mfs, err := srv.Metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "scimbridge_auth_failures_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["endpoint"] == endpoint {
				out[labels["reason"]] += m.GetCounter().GetValue()
			}
		}
	}
	return out
}

// Issue #9, finding 4, over HTTP: past auth_failure_limit an address gets
// 429 with Retry-After and an RFC 7644 body, even with the right Basic
// password (no bcrypt), while a configured token still gets in; every
// failure is logged at info with address, credential name and reason but
// never the secret, and counted by reason.
func TestFailedAuthenticationsOverHTTP(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("onelogin-Right-Pa55word"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(memoryConfig, bridgetest.TokenBlock, `auth {
    token "test" { value = "`+bridgetest.Token+`" }
    basic "onelogin" { password_hash = "`+string(hash)+`" }
  }`, 1)
	srv, logs := startLogged(t, cfg)
	do := func(srv *bridge.Server, auth string, want int) *http.Response {
		t.Helper()
		req := httptest.NewRequest("GET", "/scim/v2/Users", nil)
		req.Header.Set("Authorization", auth)
		resp, err := srv.App.Test(req, 10000)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != want {
			body, _ := io.ReadAll(resp.Body)
			t.Fatalf("%s: status %d, want %d: %s", strings.Fields(auth)[0], resp.StatusCode, want, body)
		}
		return resp
	}
	// The default auth_failure_limit is 10 failures a minute.
	const guess = "Guessed-pw-Kx81"
	do(srv, "Bearer not-a-configured-token-Zq1", 401)
	for range 9 {
		do(srv, basicAuth("onelogin", guess), 401)
	}
	for _, auth := range []string{basicAuth("onelogin", guess), basicAuth("onelogin", "onelogin-Right-Pa55word"), "Bearer not-a-configured-token-Zq1"} {
		resp := do(srv, auth, 429)
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
			t.Errorf("429 with Retry-After %q, want seconds up to the window", resp.Header.Get("Retry-After"))
		}
		var body map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body["status"] != "429" || body["detail"] == "" ||
			len(body["schemas"].([]any)) != 1 || body["schemas"].([]any)[0] != "urn:ietf:params:scim:api:messages:2.0:Error" {
			t.Errorf("429 body %v (%v), want an RFC 7644 error", body, err)
		}
	}
	do(srv, "Bearer "+bridgetest.Token, 200)

	text := logs.String()
	for _, want := range [][2]string{
		{"[INFO]", "authentication failed: request_id="},
		{"[INFO]", "endpoint=test address=0.0.0.0 scheme=basic credential=onelogin reason=wrong_password"},
		{"[INFO]", `endpoint=test address=0.0.0.0 scheme=bearer credential="(matched no configured token)" reason=unknown_token`},
		{"[WARN]", "too many failed authentications"},
	} {
		found := false
		for _, line := range strings.Split(text, "\n") {
			found = found || strings.Contains(line, want[0]) && strings.Contains(line, want[1])
		}
		if !found {
			t.Errorf("the log lacks a %s line with %q:\n%s", want[0], want[1], text)
		}
	}
	for _, secret := range []string{guess, "onelogin-Right-Pa55word", "not-a-configured-token-Zq1", bridgetest.Token,
		strings.TrimPrefix(basicAuth("onelogin", guess), "Basic ")} {
		if strings.Contains(text, secret) {
			t.Errorf("the log holds a secret (%q):\n%s", secret, text)
		}
	}
	got := authFailures(t, srv, "test")
	if got["unknown_token"] != 1 || got["wrong_password"] != 9 || got["limited"] != 3 {
		t.Errorf("scimbridge_auth_failures_total by reason: %v, want unknown_token 1, wrong_password 9, limited 3", got)
	}

	// The settings apply.
	cfg = strings.Replace(cfg, "max_body_bytes = 65536", "max_body_bytes = 65536\n  auth_failure_limit = 2\n  auth_failure_window = \"10m\"", 1)
	srv, _ = startLogged(t, cfg)
	do(srv, basicAuth("onelogin", guess), 401)
	do(srv, basicAuth("onelogin", guess), 401)
	resp := do(srv, basicAuth("onelogin", guess), 429)
	if s, _ := strconv.Atoi(resp.Header.Get("Retry-After")); s < 590 || s > 600 {
		t.Errorf("Retry-After %q with a 10m window, want the rest of it", resp.Header.Get("Retry-After"))
	}
}
