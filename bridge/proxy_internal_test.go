package bridge

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/memory"
	"github.com/scimbridge/scimbridge/bridge/config"
)

// serveWithIP serves a bridge built by New with the given server block,
// plus a route answering c.IP(), on 127.0.0.1.
func serveWithIP(t *testing.T, server string) string {
	t.Helper()
	src := `server {
  ` + server + `
}
backend "memory" "m" {}
endpoint "e" {
  base_path = "/scim/v2"
  backend   = "m"
  auth {
    token "t" { value = "sb_proxy_Wd4mKq7ZtR2xNv9LcB5yHs3Fj8Gp6Ue" }
  }
  mapping "User" {
    attribute "userName" { native = "uid" }
  }
}
`
	path := filepath.Join(t.TempDir(), "c.hcl")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	mem := memory.New(memory.Config{Types: map[string]memory.TypeConfig{backends.User: {}}})
	static := config.BackendType{
		Decode: func(hcl.Body, *hcl.EvalContext) (any, hcl.Diagnostics) { return nil, nil },
		Open:   func(context.Context, any, hclog.Logger) (backends.Backend, error) { return mem, nil },
	}
	cfg, diags := config.Load(path, map[string]config.BackendType{"memory": static}, nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	s, err := New(cfg, map[string]backends.Backend{"m": mem}, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	s.App.Get("/ip", func(c *fiber.Ctx) error { return c.SendString(c.IP()) })
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.App.Listener(ln) }()
	t.Cleanup(func() { _ = s.App.ShutdownWithTimeout(5 * time.Second) })
	return "http://" + ln.Addr().String()
}

func getIP(t *testing.T, base string, headers map[string]string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/ip", nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestClientIPBehindTrustedProxies (issue #9, finding 7): c.IP(), which
// rate limits and logs use, is the peer's address unless the peer is a
// trusted proxy; behind one it is the nearest address in X-Forwarded-For
// that is not a trusted proxy, never what a client wrote further left.
func TestClientIPBehindTrustedProxies(t *testing.T) {
	spoof := map[string]string{"X-Forwarded-For": "203.0.113.66", clientIPHeader: "198.51.100.1"}
	untrusted := serveWithIP(t, `trusted_proxies = ["10.0.0.0/8"]`)
	none := serveWithIP(t, ``)
	for _, base := range []string{untrusted, none} {
		if got := getIP(t, base, spoof); got != "127.0.0.1" {
			t.Errorf("from an untrusted peer: c.IP() = %q, want 127.0.0.1", got)
		}
	}
	trusted := serveWithIP(t, `trusted_proxies = ["127.0.0.1", "10.0.0.0/8"]`)
	for _, tc := range []struct {
		headers map[string]string
		want    string
	}{
		{nil, "127.0.0.1"},
		{map[string]string{"X-Forwarded-For": "203.0.113.9"}, "203.0.113.9"},
		{map[string]string{"X-Forwarded-For": "198.51.100.7, 203.0.113.9"}, "203.0.113.9"},
		{map[string]string{"X-Forwarded-For": "203.0.113.9, 10.1.2.3"}, "203.0.113.9"},
		{map[string]string{"X-Forwarded-For": "[2001:db8::5]:4711"}, "2001:db8::5"},
		{map[string]string{"X-Forwarded-For": "garbage"}, "127.0.0.1"},
		{map[string]string{clientIPHeader: "198.51.100.1"}, "127.0.0.1"},
	} {
		if got := getIP(t, trusted, tc.headers); got != tc.want {
			t.Errorf("behind a trusted proxy with %v: c.IP() = %q, want %q", tc.headers, got, tc.want)
		}
	}
}

func TestForwardedForWalk(t *testing.T) {
	ps := parseProxies([]string{"10.0.0.0/8", "192.0.2.1"})
	peer := netip.MustParseAddr("10.0.0.1")
	for _, tc := range []struct {
		xff  []string
		want string
	}{
		{nil, "10.0.0.1"},
		{[]string{"1.1.1.1, 2.2.2.2, 10.9.9.9"}, "2.2.2.2"},
		{[]string{"1.1.1.1", "2.2.2.2, 192.0.2.1"}, "2.2.2.2"},
		{[]string{"10.1.1.1, 10.2.2.2"}, "10.1.1.1"},
		{[]string{"1.1.1.1, unknown, 10.2.2.2"}, "10.2.2.2"},
		{[]string{"::ffff:3.3.3.3"}, "3.3.3.3"},
	} {
		var hs [][]byte
		for _, h := range tc.xff {
			hs = append(hs, []byte(h))
		}
		if got := ps.client(peer, hs).String(); got != tc.want {
			t.Errorf("%q: %s, want %s", strings.Join(tc.xff, " | "), got, tc.want)
		}
	}
}
