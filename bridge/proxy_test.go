package bridge_test

import (
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/config"
)

var forged = map[string]string{"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https", "X-Forwarded-Ssl": "on", "X-Url-Scheme": "https"}

// urlsOf returns every URL the bridge writes for one user and one group:
// Location of the creates, meta.location, members' and groups' $ref, and
// the locations of the discovery documents.
func urlsOf(t *testing.T, c *bridgetest.Client, headers map[string]string) []string {
	t.Helper()
	cl := *c
	cl.Headers = headers
	var out []string
	u := cl.Must(201, "POST", "/Users", map[string]any{"userName": "u" + strings.ReplaceAll(t.Name(), "/", "") + headers["X-Forwarded-Host"]})
	uid := bridgetest.Str(u.JSON, "id")
	out = append(out, u.Header.Get("Location"), bridgetest.Str(u.JSON, "meta", "location"))
	g := cl.Must(201, "POST", "/Groups", map[string]any{"displayName": "g" + strings.ReplaceAll(t.Name(), "/", "") + headers["X-Forwarded-Host"],
		"members": []any{map[string]any{"value": uid}}})
	gid := bridgetest.Str(g.JSON, "id")
	out = append(out, g.Header.Get("Location"))
	g = cl.Must(200, "GET", "/Groups/"+gid, nil)
	for _, m := range g.JSON["members"].([]any) {
		out = append(out, m.(map[string]any)["$ref"].(string))
	}
	u = cl.Must(200, "GET", "/Users/"+uid, nil)
	for _, m := range u.JSON["groups"].([]any) {
		out = append(out, m.(map[string]any)["$ref"].(string))
	}
	out = append(out, bridgetest.Str(cl.Must(200, "GET", "/ServiceProviderConfig", nil).JSON, "meta", "location"))
	for _, p := range []string{"/Schemas", "/ResourceTypes"} {
		for _, r := range cl.Must(200, "GET", p, nil).JSON["Resources"].([]any) {
			out = append(out, bridgetest.Str(r.(map[string]any), "meta", "location"))
		}
	}
	out = append(out, bridgetest.Str(cl.Must(200, "GET", "/ResourceTypes/User", nil).JSON, "meta", "location"))
	cl.Must(204, "DELETE", "/Groups/"+gid, nil)
	cl.Must(204, "DELETE", "/Users/"+uid, nil)
	return out
}

func wantPrefix(t *testing.T, what string, urls []string, prefix string) {
	t.Helper()
	for _, u := range urls {
		if !strings.HasPrefix(u, prefix) {
			t.Errorf("%s: %q does not start with %q", what, u, prefix)
		}
	}
}

// TestForwardedHeadersIgnoredFromUntrustedPeers (issue #9, finding 7): a
// client's X-Forwarded-Host and -Proto do not move any URL the bridge
// writes to another host or scheme.
func TestForwardedHeadersIgnoredFromUntrustedPeers(t *testing.T) {
	for _, server := range []string{"", `trusted_proxies = ["10.0.0.0/8"]`} {
		cfg := strings.Replace(memoryConfig, "max_body_bytes = 65536", "max_body_bytes = 65536\n  "+server, 1)
		srv := bridgetest.Start(t, cfg, map[string]config.BackendType{"memory": bridgetest.Static(newMemory())})
		c := bridgetest.NewClient(t, srv.URL+"/scim/v2")
		wantPrefix(t, "forged headers, "+server, urlsOf(t, c, forged), srv.URL+"/scim/v2/")
	}
}

// TestForwardedHeadersFromTrustedProxy: the same headers from a trusted
// proxy (the test's own address) are the client's scheme and host.
func TestForwardedHeadersFromTrustedProxy(t *testing.T) {
	cfg := strings.Replace(memoryConfig, "max_body_bytes = 65536", `max_body_bytes = 65536
  trusted_proxies = ["127.0.0.0/8"]`, 1)
	srv := bridgetest.Start(t, cfg, map[string]config.BackendType{"memory": bridgetest.Static(newMemory())})
	c := bridgetest.NewClient(t, srv.URL+"/scim/v2")
	wantPrefix(t, "from a trusted proxy", urlsOf(t, c, map[string]string{"X-Forwarded-Host": "scim.example.com", "X-Forwarded-Proto": "https"}),
		"https://scim.example.com/scim/v2/")
	wantPrefix(t, "from a trusted proxy, no headers", urlsOf(t, c, nil), srv.URL+"/scim/v2/")
	// A forwarded host that cannot be part of a URL is not used.
	wantPrefix(t, "from a trusted proxy, bad host", urlsOf(t, c, map[string]string{"X-Forwarded-Host": "evil.example/path?x="}), "http://127.0.0.1:")
}

// TestPublicURL: public_url is the base of every URL, whatever the
// request's headers say.
func TestPublicURL(t *testing.T) {
	cfg := strings.Replace(memoryConfig, "max_body_bytes = 65536", `max_body_bytes = 65536
  trusted_proxies = ["127.0.0.1"]
  public_url      = "https://scim.example.com/idp/"`, 1)
	srv := bridgetest.Start(t, cfg, map[string]config.BackendType{"memory": bridgetest.Static(newMemory())})
	c := bridgetest.NewClient(t, srv.URL+"/scim/v2")
	wantPrefix(t, "public_url", urlsOf(t, c, nil), "https://scim.example.com/idp/scim/v2/")
	wantPrefix(t, "public_url with forwarded headers", urlsOf(t, c, forged), "https://scim.example.com/idp/scim/v2/")
}
