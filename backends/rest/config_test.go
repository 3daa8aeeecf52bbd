package rest_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/rest/jsontest"
)

const minimal = `
backend "rest" "x" {
  base_url = "%BASE%"
  %EXTRA%
  resource "User" {
    attribute "userName" {}
    create {
      path = "%CREATE%"
      body = { userName = attrs.userName }
    }
    get    { path = "/users/${id}" }
    update { path = "/users/${id}" }
    delete { path = "/users/${id}" }
    list   { path = "/users" }
  }
}
`

func minimalConfig(base, extra, create string) string {
	r := strings.NewReplacer("%BASE%", base, "%EXTRA%", extra, "%CREATE%", create)
	return r.Replace(minimal)
}

// TestConfigErrors: mistakes in the backend block are diagnostics at load.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{minimalConfig("ftp://api.example.org", "", "/users"), "Invalid base_url"},
		{minimalConfig("https://user:pw@api.example.org", "", "/users"), "Invalid base_url"},
		{minimalConfig("https://api.example.org?x=1", "", "/users"), "Invalid base_url"},
		{minimalConfig("https://api.example.org", `timeout = "soon"`, "/users"), "Invalid timeout"},
		{minimalConfig("https://api.example.org", `auth {
    bearer_token = "a"
    basic {
      username = "u"
      password = "p"
    }
  }`, "/users"), "exactly one of"},
		{minimalConfig("https://api.example.org", `error {
    when = true
    kind = "teapot"
  }`, "/users"), "Unknown error kind"},
		{strings.Replace(minimalConfig("https://api.example.org", "", "/users"), `list   { path = "/users" }`, `list {
      path   = "/users"
      paging = "cursor"
    }`, 1), "Missing next"},
		{strings.Replace(minimalConfig("https://api.example.org", "", "/users"), `attribute "userName" {}`, `attribute "manager" { reference = "Person" }`, 1), "Unknown reference"},
		{strings.Replace(minimalConfig("https://api.example.org", "", "/users"), `delete { path = "/users/${id}" }`, ``, 1), "needs a delete block"},
		{strings.Replace(minimalConfig("https://api.example.org", "", "/users"), `attribute "userName" {}`, `attribute "userName" { type = "date" }`, 1), "Invalid type"},
	} {
		_, diags := tryDecode(tc.text)
		if !diags.HasErrors() || !strings.Contains(diags.Error(), tc.want) {
			t.Errorf("want a diagnostic %q, got %v for\n%s", tc.want, diags, tc.text)
		}
	}
}

// TestPathTemplates: a template may change the path under base_url, never
// the host; the path prefix of base_url is kept.
func TestPathTemplates(t *testing.T) {
	srv := jsontest.Start(t)
	ctx := context.Background()
	for _, bad := range []string{"//evil.example/users", "users", "/users?x=1", "/users#x", `/users\\x`} {
		b := openText(t, minimalConfig(srv.URL, "", bad))
		_, err := b.Create(ctx, backends.User, backends.Attrs{"userName": {"x"}})
		if !errors.Is(err, backends.ErrConfig) {
			t.Errorf("create path %q: %v, want ErrConfig", bad, err)
		}
	}
	// A prefix: the requests go to <prefix>/users, which json-server does
	// not have: 404 on create is a configuration error.
	b := openText(t, minimalConfig(srv.URL+"/v1", "", "/users"))
	if _, err := b.Create(ctx, backends.User, backends.Attrs{"userName": {"x"}}); !errors.Is(err, backends.ErrConfig) || !strings.Contains(err.Error(), "/v1/users") {
		t.Errorf("create under /v1: %v, want ErrConfig naming /v1/users", err)
	}
	if n := len(srv.Records(t, "users")); n != 0 {
		t.Errorf("%d users written", n)
	}
	// Ping: up, then down.
	good := openText(t, minimalConfig(srv.URL, "", "/users"))
	if err := good.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
	srv.Kill()
	if err := good.Ping(ctx); !errors.Is(err, backends.ErrUnavailable) {
		t.Errorf("Ping with the server down: %v, want ErrUnavailable", err)
	}
}

// TestStaticHeadersAndPing: headers go with every request; the ping
// block's request answers the readiness check.
func TestStaticHeadersAndPing(t *testing.T) {
	srv := jsontest.Start(t)
	rl := startRelay(t, srv.URL)
	b := openText(t, minimalConfig(rl.URL, `headers = { "X-Tenant" = "acme" }
  ping { path = "/users" }`, "/users"))
	ctx := context.Background()
	if _, err := b.Create(ctx, backends.User, backends.Attrs{"userName": {"h"}}); err != nil {
		t.Fatal(err)
	}
	if err := b.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	reqs := rl.requests()
	if len(reqs) != 2 || reqs[1].RequestURI != "/users" || reqs[1].Method != "GET" {
		t.Errorf("requests %v, want the create and GET /users", reqs)
	}
	for _, r := range reqs {
		if r.Header.Get("X-Tenant") != "acme" {
			t.Errorf("%s %s without the X-Tenant header", r.Method, r.RequestURI)
		}
	}
	rl.set(func(*http.Request) (int, http.Header, []byte, bool) {
		return http.StatusForbidden, nil, []byte(`{}`), true
	}, nil)
	if err := b.Ping(ctx); !errors.Is(err, backends.ErrPermission) {
		t.Errorf("Ping answered 403: %v, want ErrPermission", err)
	}
}
