package bridge_test

import (
	"encoding/base64"
	"strings"
	"sync"
	"testing"

	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/config"
)

func TestAuthSchemesAndScopes(t *testing.T) {
	cfg := strings.Replace(memoryConfig, bridgetest.TokenBlock, `auth {
    token "full" { value = "`+bridgetest.Token+`" }
    token "reader" {
      value  = "sb_reader_pmxy9kuUp7DpKnQ2e2EwapzPTUYDR_Ve"
      scopes = ["get:users"]
    }
    token "old" {
      value   = "sb_expired_AtP9HyK2WrPBHTFBKTvI9x5g7dWziTpy"
      expires = "2020-01-01T00:00:00Z"
    }
    token "hashed" { hash = "sha256:ef241eb1af603c53c38e43b7d2603a58768c667abbd9c540d79e17f0f138deeb" }
    basic "onelogin" {
      password_hash = "$2a$10$BeA.nuz/nghKPmj.kpVTvOo10r/8QSyeH8KM2EWV6SaxWg.QEBeMS"
    }
    basic "plain" { password = "correct horse battery staple" }
  }`, 1)
	mem := newMemory()
	srv := bridgetest.Start(t, cfg, map[string]config.BackendType{"memory": bridgetest.Static(mem)})
	c := bridgetest.NewClient(t, srv.URL+"/scim/v2")
	basic := func(u, p string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p)) }
	cases := []struct {
		auth, method, path string
		body               any
		status             int
	}{
		{"Bearer " + bridgetest.Token, "GET", "/Users", nil, 200},
		{"bearer " + bridgetest.Token, "GET", "/Users", nil, 200},
		{bridgetest.Token, "GET", "/Users", nil, 200}, // bare token header
		{"Bearer sb_reader_pmxy9kuUp7DpKnQ2e2EwapzPTUYDR_Ve", "GET", "/Users", nil, 200},
		{"Bearer sb_reader_pmxy9kuUp7DpKnQ2e2EwapzPTUYDR_Ve", "POST", "/Users", map[string]any{"userName": "x"}, 403},
		{"Bearer sb_reader_pmxy9kuUp7DpKnQ2e2EwapzPTUYDR_Ve", "GET", "/Groups", nil, 403},
		{"Bearer sb_expired_AtP9HyK2WrPBHTFBKTvI9x5g7dWziTpy", "GET", "/Users", nil, 401},
		{"Bearer " + bridgetest.Token + "x", "GET", "/Users", nil, 401},
		{basic("plain", "correct horse battery staple"), "GET", "/Users", nil, 200},
		{basic("plain", "wrong"), "GET", "/Users", nil, 401},
		{basic("onelogin", "onelogin-secret"), "GET", "/Users", nil, 200},
		{basic("onelogin", "onelogin-secreT"), "GET", "/Users", nil, 401},
		{"Bearer sb_hashed_lTT05q2hia1S4XfAU_qJ3POk4avFilSn", "GET", "/Users", nil, 200},
		{basic("nobody", "correct horse battery staple"), "GET", "/Users", nil, 401},
		{"", "GET", "/ServiceProviderConfig", nil, 401},
	}
	for _, tc := range cases {
		cl := *c
		cl.T = t
		cl.Auth = tc.auth
		r := cl.Do(tc.method, tc.path, tc.body)
		if r.Status != tc.status {
			t.Errorf("%q %s %s: %d, want %d: %s", tc.auth, tc.method, tc.path, r.Status, tc.status, r.Body)
		}
		if r.Status == 401 && r.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("401 without WWW-Authenticate")
		}
	}
	// Health endpoints need no credentials.
	hc := *c
	hc.Auth, hc.Base = "", srv.URL
	hc.Must(200, "GET", "/healthz", nil)
	hc.Must(200, "GET", "/readyz", nil)
}

func TestETagAndIfMatch(t *testing.T) {
	_, c, _ := startMemory(t)
	u := c.Must(201, "POST", "/Users", map[string]any{"userName": "etag", "title": "A"})
	id := bridgetest.Str(u.JSON, "id")
	etag := u.Header.Get("ETag")
	if etag == "" || etag != bridgetest.Str(u.JSON, "meta", "version") {
		t.Fatalf("ETag %q vs meta.version %q", etag, bridgetest.Str(u.JSON, "meta", "version"))
	}
	patch := map[string]any{"Operations": []any{map[string]any{"op": "replace", "path": "title", "value": "B"}}}
	c.Headers = map[string]string{"If-Match": etag}
	r := c.Must(200, "PATCH", "/Users/"+id, patch)
	if r.Header.Get("ETag") == etag {
		t.Fatal("the version did not change")
	}
	// The old version no longer matches.
	c.Must(412, "PATCH", "/Users/"+id, patch)
	c.Headers = map[string]string{"If-Match": r.Header.Get("ETag")}
	c.Must(200, "PUT", "/Users/"+id, map[string]any{"userName": "etag", "title": "C"})
	c.Headers = nil
}

// Concurrent PUTs with the same If-Match: exactly one wins.
func TestConcurrentIfMatch(t *testing.T) {
	_, c, _ := startMemory(t)
	u := c.Must(201, "POST", "/Users", map[string]any{"userName": "race", "title": "0"})
	id, etag := bridgetest.Str(u.JSON, "id"), u.Header.Get("ETag")
	var wg sync.WaitGroup
	statuses := make(chan int, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := *c
			cl.Headers = map[string]string{"If-Match": etag}
			statuses <- cl.Do("PUT", "/Users/"+id, map[string]any{"userName": "race", "title": string(rune('a' + i))}).Status
		}()
	}
	wg.Wait()
	close(statuses)
	won := 0
	for s := range statuses {
		switch s {
		case 200:
			won++
		case 412:
		default:
			t.Errorf("status %d", s)
		}
	}
	if won != 1 {
		t.Errorf("%d PUTs won, want exactly 1", won)
	}
}

func TestProjectionAndContentType(t *testing.T) {
	_, c, _ := startMemory(t)
	c.Must(201, "POST", "/Users", map[string]any{"userName": "proj", "title": "T", "name": map[string]any{"givenName": "G", "familyName": "F"},
		"emails": []any{map[string]any{"value": "p@x", "type": "work"}}})
	r := c.Must(200, "GET", "/Users?attributes=userName,name.givenName&filter=userName%20eq%20%22proj%22", nil)
	res := r.JSON["Resources"].([]any)[0].(map[string]any)
	if res["title"] != nil || res["userName"] != "proj" || res["id"] == nil || bridgetest.Str(res, "name", "givenName") != "G" || bridgetest.Str(res, "name", "familyName") != "" {
		t.Errorf("attributes projection: %v", res)
	}
	r = c.Must(200, "GET", "/Users?excludedAttributes=emails,title", nil)
	res = r.JSON["Resources"].([]any)[0].(map[string]any)
	if res["emails"] != nil || res["title"] != nil || res["userName"] == nil {
		t.Errorf("excludedAttributes projection: %v", res)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/scim+json") {
		t.Errorf("default content type %q", ct)
	}
	if r.Header.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id")
	}
	c.Headers = map[string]string{"X-Request-Id": "abc-123"}
	if got := c.Do("GET", "/Users", nil).Header.Get("X-Request-Id"); got != "abc-123" {
		t.Errorf("X-Request-Id not echoed: %q", got)
	}
	c.Headers = nil
	// POST /.search takes the same query in a body.
	r = c.Must(200, "POST", "/Users/.search", map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"},
		"filter": `userName sw "pr"`, "attributes": []string{"userName"}, "count": 5})
	if bridgetest.Str(r.JSON, "totalResults") != "1" {
		t.Errorf(".search: %s", r.Body)
	}
}

func TestDiscoveryFollowsTheMapping(t *testing.T) {
	_, c, _ := startMemory(t)
	spc := c.Must(200, "GET", "/ServiceProviderConfig", nil)
	for _, want := range []string{`"patch":{"supported":true}`, `"filter":{"maxResults":1000,"supported":true}`, `"oauthbearertoken"`, `"maxMembersPerRequest"`} {
		if !strings.Contains(string(spc.Body), want) {
			t.Errorf("ServiceProviderConfig lacks %s: %s", want, spc.Body)
		}
	}
	schemas := c.Must(200, "GET", "/Schemas", nil)
	body := string(schemas.Body)
	for _, want := range []string{`"name":"userName"`, `"name":"accountSize"`, `"name":"employeeNumber"`, `"name":"members"`, "urn:ietf:params:scim:schemas:extension:acme:2.0:User"} {
		if !strings.Contains(body, want) {
			t.Errorf("/Schemas lacks %s", want)
		}
	}
	for _, absent := range []string{`"name":"nickName"`, `"name":"x509Certificates"`, `"name":"costCenter"`} {
		if strings.Contains(body, absent) {
			t.Errorf("/Schemas advertises unmapped %s", absent)
		}
	}
	c.Must(200, "GET", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", nil)
	rt := c.Must(200, "GET", "/ResourceTypes", nil)
	if bridgetest.Str(rt.JSON, "totalResults") != "2" || !strings.Contains(string(rt.Body), `"schemaExtensions"`) {
		t.Errorf("/ResourceTypes: %s", rt.Body)
	}
	c.Must(200, "GET", "/ResourceTypes/User", nil)
}

// Two endpoints in one process: each has its own base path, credentials
// and mapping; a token of one does not open the other.
func TestSeveralEndpoints(t *testing.T) {
	second := `
endpoint "second" {
  base_path = "/tenant-b/scim/v2"
  backend   = "mem"
  auth {
    token "b" { value = "sb_second_bRkt0YpSufIjtlmOhh8hKSyeYjXMeSXl" }
  }
  mapping "User" {
    attribute "userName" { native = "uid" }
    attribute "title"    { native = "title" }
  }
}
`
	mem := newMemory()
	srv := bridgetest.Start(t, memoryConfig+second, map[string]config.BackendType{"memory": bridgetest.Static(mem)})
	a := bridgetest.NewClient(t, srv.URL+"/scim/v2")
	b := bridgetest.NewClient(t, srv.URL+"/tenant-b/scim/v2")
	b.Auth = "Bearer sb_second_bRkt0YpSufIjtlmOhh8hKSyeYjXMeSXl"
	a.Must(201, "POST", "/Users", map[string]any{"userName": "shared", "name": map[string]any{"givenName": "S"}})
	r := b.Must(200, "GET", "/Users?filter=userName%20eq%20%22shared%22", nil)
	if strings.Contains(string(r.Body), "givenName") || !strings.Contains(string(r.Body), `"userName":"shared"`) {
		t.Errorf("the second endpoint's mapping was not applied: %s", r.Body)
	}
	b.Must(404, "GET", "/Groups", nil) // no Group mapping on the second endpoint
	wrong := *b
	wrong.Auth = a.Auth
	wrong.Must(401, "GET", "/Users", nil)
	if s := b.Must(200, "GET", "/Schemas", nil); strings.Contains(string(s.Body), "givenName") {
		t.Errorf("the second endpoint advertises attributes it does not map: %s", s.Body)
	}
}
