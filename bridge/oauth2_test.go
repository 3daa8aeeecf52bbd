package bridge_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/backends/sql/mariadbtest"
	"github.com/scimbridge/scimbridge/backends/sql/pgtest"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/config"
)

const (
	oauthClientID = "scimbridge-okta"
	oauthSecret   = "sb_oauth_Wq8vT3kZr6Yp1Lx9Nd2Hs5Jc7Fb4Gm0A"
	oauthAdmin    = "it-admin"
	oauthPassword = "pw_Hk3vZ9qLx2Rt7Nc5Wb8Jd"
	oauthRedirect = "https://system-admin.okta.com/admin/app/cpc/scimbridge_1/oauth/callback"
)

func oauthConfig(store, audit, scopes string) string {
	sum := sha256.Sum256([]byte(oauthPassword))
	return `
server {
  audit_log = "` + audit + `"
}
backend "memory" "mem" {}
endpoint "test" {
  base_path = "/scim/v2"
  backend   = "mem"
  auth {
    oauth2 "okta" {
      client_id     = "` + oauthClientID + `"
      client_secret = "` + oauthSecret + `"
      redirect_uris = ["` + oauthRedirect + `"]
      scopes        = [` + scopes + `]
      store         = "` + store + `"
      admin "` + oauthAdmin + `" { password_hash = "sha256:` + hex.EncodeToString(sum[:]) + `" }
    }
  }
  mapping "User" {
    attribute "userName" { native = "uid" }
  }
  mapping "Group" {
    attribute "displayName" { native = "cn" }
  }
}
`
}

// oauthOkta plays Okta and the admin's browser against a live server.
type oauthOkta struct {
	t    *testing.T
	base string // the server's URL
	hc   *http.Client
}

func newOAuthOkta(t *testing.T, base string) *oauthOkta {
	return &oauthOkta{t: t, base: base, hc: &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (o *oauthOkta) do(req *http.Request) (*http.Response, string) {
	o.t.Helper()
	resp, err := o.hc.Do(req)
	if err != nil {
		o.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (o *oauthOkta) get(path string, q url.Values) (*http.Response, string) {
	o.t.Helper()
	req, _ := http.NewRequest("GET", o.base+path+"?"+q.Encode(), nil)
	return o.do(req)
}

func (o *oauthOkta) postForm(path string, form url.Values, setup func(*http.Request)) (*http.Response, string) {
	o.t.Helper()
	req, _ := http.NewRequest("POST", o.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if setup != nil {
		setup(req)
	}
	return o.do(req)
}

func pkce() (verifier, challenge string) {
	verifier = "v3rif1er-" + strings.Repeat("kQz7", 12)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

var (
	csrfRE   = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// authorize runs the browser's part: the authorization request, the
// consent form, and the admin's post; it returns the redirect.
func (o *oauthOkta) authorize(q url.Values, user, pass string) (*http.Response, string) {
	o.t.Helper()
	return o.decide(q, user, pass, "allow")
}

// decide is authorize with the admin's choice: "allow" or "deny".
func (o *oauthOkta) decide(q url.Values, user, pass, decision string) (*http.Response, string) {
	o.t.Helper()
	resp, page := o.get("/scim/v2/oauth2/authorize", q)
	if resp.StatusCode != 200 {
		o.t.Fatalf("authorize GET: %d %s", resp.StatusCode, page)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "scimbridge_oauth2_csrf" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/scim/v2/oauth2" {
		o.t.Fatalf("consent cookie: %+v", cookie)
	}
	// What the browser posts: the form's hidden fields, and the admin's.
	form := url.Values{}
	for _, h := range hiddenRE.FindAllStringSubmatch(page, -1) {
		form.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	if form.Get("csrf") == "" || form.Get("state") != q.Get("state") {
		o.t.Fatalf("the consent form's hidden fields: %v", form)
	}
	form.Set("username", user)
	form.Set("password", pass)
	form.Set("decision", decision)
	return o.postForm("/scim/v2/oauth2/authorize", form, func(r *http.Request) { r.AddCookie(cookie) })
}

func (o *oauthOkta) code(q url.Values) string {
	o.t.Helper()
	resp, body := o.authorize(q, oauthAdmin, oauthPassword)
	if resp.StatusCode != 302 {
		o.t.Fatalf("consent: %d %s", resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), oauthRedirect+"?") {
		o.t.Fatalf("redirect to %q", resp.Header.Get("Location"))
	}
	if loc.Query().Get("state") != q.Get("state") || loc.Query().Get("code") == "" {
		o.t.Fatalf("redirect without the state or a code: %s", loc)
	}
	return loc.Query().Get("code")
}

type tokenAnswer struct {
	status                          int
	Access, Refresh, Type, Scope    string
	Error                           string
	ExpiresIn                       int
	cacheControl, wwwAuthentication string
}

// token posts to the token endpoint; basic says how the client
// authenticates (client_secret_basic or client_secret_post).
func (o *oauthOkta) token(form url.Values, basic bool, secret string) tokenAnswer {
	o.t.Helper()
	if !basic {
		form.Set("client_id", oauthClientID)
		form.Set("client_secret", secret)
	}
	resp, body := o.postForm("/scim/v2/oauth2/token", form, func(r *http.Request) {
		if basic {
			r.SetBasicAuth(url.QueryEscape(oauthClientID), url.QueryEscape(secret))
		}
	})
	var v struct {
		Access    string `json:"access_token"`
		Refresh   string `json:"refresh_token"`
		Type      string `json:"token_type"`
		Scope     string `json:"scope"`
		ExpiresIn int    `json:"expires_in"`
		Error     string `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		o.t.Fatalf("token answer %d %q: %v", resp.StatusCode, body, err)
	}
	return tokenAnswer{status: resp.StatusCode, Access: v.Access, Refresh: v.Refresh, Type: v.Type, Scope: v.Scope, Error: v.Error,
		ExpiresIn: v.ExpiresIn, cacheControl: resp.Header.Get("Cache-Control"), wwwAuthentication: resp.Header.Get("WWW-Authenticate")}
}

func (o *oauthOkta) exchange(code, verifier string, basic bool) tokenAnswer {
	o.t.Helper()
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {oauthRedirect}}
	if verifier != "" {
		f.Set("code_verifier", verifier)
	}
	return o.token(f, basic, oauthSecret)
}

func (o *oauthOkta) refresh(refresh string, basic bool) tokenAnswer {
	o.t.Helper()
	return o.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, basic, oauthSecret)
}

// scim calls the SCIM endpoint with an access token.
func (o *oauthOkta) scim(method, path, access string, body any) (int, map[string]any) {
	o.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, o.base+"/scim/v2"+path, rd)
	req.Header.Set("Authorization", "Bearer "+access)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, text := o.do(req)
	var m map[string]any
	_ = json.Unmarshal([]byte(text), &m)
	return resp.StatusCode, m
}

func authorizeQuery(state, challenge string) url.Values {
	q := url.Values{"response_type": {"code"}, "client_id": {oauthClientID}, "redirect_uri": {oauthRedirect}, "state": {state}}
	if challenge != "" {
		q.Set("code_challenge", challenge)
		q.Set("code_challenge_method", "S256")
	}
	return q
}

// TestOAuth2Okta runs Okta's "OAuth 2" mode end to end over HTTP: the
// admin's consent, the code exchange with either client authentication,
// SCIM calls within and beyond the scopes, refresh with rotation and
// replay detection, the refusals of RFC 6749, RFC 7009 revocation, a
// restart on the same store, and a store without plaintext tokens.
func TestOAuth2Okta(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "oauth2.db")
		runOAuth2Okta(t, "sqlite://"+path, func() []byte {
			// The files' bytes, the WAL included.
			files, _ := filepath.Glob(path + "*")
			if len(files) == 0 {
				t.Fatal("no store file")
			}
			var raw []byte
			for _, f := range files {
				b, _ := os.ReadFile(f)
				raw = append(raw, b...)
			}
			return raw
		})
	})
	// Replicas share a PostgreSQL or MySQL store: the same run on each.
	t.Run("postgres", func(t *testing.T) {
		srv, err := pgtest.Start()
		if err != nil {
			requireServer(t, "PostgreSQL", err, pgtest.ErrNotInstalled)
		}
		t.Cleanup(srv.Stop)
		dsn, err := srv.CreateDatabase(context.Background(), "oauth2")
		if err != nil {
			t.Fatal(err)
		}
		runOAuth2Okta(t, dsn, func() []byte { return storeRows(t, "pgx", dsn) })
	})
	t.Run("mariadb", func(t *testing.T) {
		srv, err := mariadbtest.Start()
		if err != nil {
			requireServer(t, "MariaDB", err, mariadbtest.ErrNotInstalled)
		}
		t.Cleanup(srv.Stop)
		dsn, err := srv.CreateDatabase(context.Background(), "oauth2")
		if err != nil {
			t.Fatal(err)
		}
		runOAuth2Okta(t, "mysql://"+dsn, func() []byte { return storeRows(t, "mysql", dsn) })
	})
}

func requireServer(t *testing.T, name string, err, notInstalled error) {
	t.Helper()
	if errors.Is(err, notInstalled) && os.Getenv("SCIMBRIDGE_REQUIRE_SERVERS") != "1" {
		t.Skipf("%s is not installed", name)
	}
	t.Fatalf("%s: %v", name, err)
}

// storeRows is every column of every row of the token table, as text.
func storeRows(t *testing.T, driver, dsn string) []byte {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT hash, kind, endpoint, client_id, family, data FROM scimbridge_oauth2_tokens`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []byte
	for rows.Next() {
		var cols [6]string
		if err := rows.Scan(&cols[0], &cols[1], &cols[2], &cols[3], &cols[4], &cols[5]); err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.Join(cols[:], "|")+"\n"...)
	}
	return out
}

func runOAuth2Okta(t *testing.T, store string, storeBytes func() []byte) {
	auditPath := filepath.Join(t.TempDir(), "audit.log")
	types := map[string]config.BackendType{"memory": bridgetest.Static(newMemory())}
	logs := &bridgetest.LogBuffer{}
	srv := bridgetest.StartWith(t, oauthConfig(store, auditPath, `"get:users", "post:users"`), types, bridgetest.Options{Log: logs, InfoJSON: true})
	if l := logs.String(); !strings.Contains(l, "oauth2 authorization server: enter these in the IdP") ||
		!strings.Contains(l, `"authorize_url":"/scim/v2/oauth2/authorize"`) || !strings.Contains(l, `"token_url":"/scim/v2/oauth2/token"`) {
		t.Errorf("no start-up line with the URLs to enter in the IdP:\n%s", l)
	}
	okta := newOAuthOkta(t, srv.URL)
	var issued []string // every code and token, to look for in the store

	verifier, challenge := pkce()

	// The consent page: minimal, its own, with the security headers.
	resp, page := okta.get("/scim/v2/oauth2/authorize", authorizeQuery("st-1", challenge))
	csp := resp.Header.Get("Content-Security-Policy")
	if resp.StatusCode != 200 || !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") ||
		resp.Header.Get("X-Frame-Options") != "DENY" || resp.Header.Get("Cache-Control") != "no-store" ||
		resp.Header.Get("X-Content-Type-Options") != "nosniff" || strings.Contains(page, "http://") || strings.Contains(page, "<script") {
		t.Fatalf("consent page: %d %v\n%s", resp.StatusCode, resp.Header, page)
	}

	// Wrong admin credentials: no code, counted as an auth failure.
	before := authFailures(t, srv.Bridge, "test")["wrong_password"]
	resp, page = okta.authorize(authorizeQuery("st-1", challenge), oauthAdmin, "not-the-password")
	if resp.StatusCode != 401 || resp.Header.Get("Location") != "" || !strings.Contains(page, "Wrong user name or password") {
		t.Fatalf("wrong password: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if got := authFailures(t, srv.Bridge, "test")["wrong_password"]; got != before+1 {
		t.Errorf("wrong_password failures %v, want %v", got, before+1)
	}
	// A post without the CSRF cookie (from another site) is refused.
	form := authorizeQuery("st-1", challenge)
	form.Set("csrf", csrfRE.FindStringSubmatch(page)[1])
	form.Set("username", oauthAdmin)
	form.Set("password", oauthPassword)
	if resp, _ := okta.postForm("/scim/v2/oauth2/authorize", form, nil); resp.StatusCode != 403 || resp.Header.Get("Location") != "" {
		t.Fatalf("consent without the CSRF cookie: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	// The grant, exchanged with client_secret_basic.
	code := okta.code(authorizeQuery("st-1", challenge))
	issued = append(issued, code)
	tok := okta.exchange(code, verifier, true)
	if tok.status != 200 || tok.Type != "Bearer" || tok.Access == "" || tok.Refresh == "" || tok.ExpiresIn != 3600 ||
		tok.Scope != "get:users post:users" || tok.cacheControl != "no-store" {
		t.Fatalf("code exchange: %+v", tok)
	}
	issued = append(issued, tok.Access, tok.Refresh)
	// The code is used once.
	if again := okta.exchange(code, verifier, true); again.status != 400 || again.Error != "invalid_grant" {
		t.Errorf("code replay: %+v, want 400 invalid_grant", again)
	}

	// SCIM calls within the scopes, and beyond.
	if st, body := okta.scim("POST", "/Users", tok.Access, map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "jane"}); st != 201 {
		t.Fatalf("POST /Users with the access token: %d %v", st, body)
	}
	if st, _ := okta.scim("GET", "/Users?filter="+url.QueryEscape(`userName eq "jane"`), tok.Access, nil); st != 200 {
		t.Errorf("GET /Users: %d", st)
	}
	if st, _ := okta.scim("GET", "/Groups", tok.Access, nil); st != 403 {
		t.Errorf("GET /Groups without get:groups: %d, want 403", st)
	}
	if !lastUsed(t, srv, "oauth2:okta") {
		t.Errorf("scimbridge_token_last_used_timestamp_seconds has no series for oauth2:okta")
	}
	audit, _ := os.ReadFile(auditPath)
	if !strings.Contains(string(audit), `"credential":"oauth2:okta"`) {
		t.Errorf("the audit record does not name the OAuth client: %s", audit)
	}

	// Refresh (client_secret_post): a new pair; the old refresh token is
	// refused, and its replay revokes the grant.
	tok2 := okta.refresh(tok.Refresh, false)
	if tok2.status != 200 || tok2.Access == "" || tok2.Refresh == "" || tok2.Access == tok.Access || tok2.Refresh == tok.Refresh {
		t.Fatalf("refresh: %+v", tok2)
	}
	issued = append(issued, tok2.Access, tok2.Refresh)
	if st, _ := okta.scim("GET", "/Users", tok2.Access, nil); st != 200 {
		t.Errorf("the refreshed access token: %d", st)
	}
	if st, _ := okta.scim("GET", "/Users", tok.Access, nil); st != 401 {
		t.Errorf("the access token replaced by the refresh: %d, want 401", st)
	}
	if old := okta.refresh(tok.Refresh, false); old.status != 400 || old.Error != "invalid_grant" {
		t.Errorf("old refresh token: %+v, want 400 invalid_grant", old)
	}
	if st, _ := okta.scim("GET", "/Users", tok2.Access, nil); st != 401 {
		t.Errorf("after the replay of a rotated refresh token, the grant's access token: %d, want 401", st)
	}
	if r := okta.refresh(tok2.Refresh, true); r.status != 400 {
		t.Errorf("after the replay, the grant's refresh token: %+v, want refused", r)
	}

	// Refusals.
	for _, tc := range []struct {
		name string
		q    func(url.Values)
	}{
		{"unknown client", func(q url.Values) { q.Set("client_id", "someone-else") }},
		{"unregistered redirect_uri", func(q url.Values) { q.Set("redirect_uri", oauthRedirect+"x") }},
		{"redirect_uri of another host", func(q url.Values) { q.Set("redirect_uri", "https://evil.example/cb") }},
	} {
		q := authorizeQuery("st-x", challenge)
		tc.q(q)
		if resp, _ := okta.get("/scim/v2/oauth2/authorize", q); resp.StatusCode != 400 || resp.Header.Get("Location") != "" {
			t.Errorf("%s: %d %q, want 400 without redirect", tc.name, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	for _, tc := range []struct {
		name, want string
		q          func(url.Values)
	}{
		{"missing state", "invalid_request", func(q url.Values) { q.Del("state") }},
		{"plain PKCE", "invalid_request", func(q url.Values) { q.Set("code_challenge_method", "plain") }},
		{"implicit grant", "unsupported_response_type", func(q url.Values) { q.Set("response_type", "token") }},
		{"scope beyond the client's", "invalid_scope", func(q url.Values) { q.Set("scope", "get:users delete:users") }},
	} {
		q := authorizeQuery("st-y", challenge)
		tc.q(q)
		resp, _ := okta.get("/scim/v2/oauth2/authorize", q)
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != 302 || loc == nil || loc.Query().Get("error") != tc.want || loc.Query().Get("code") != "" {
			t.Errorf("%s: %d %q, want a redirect with error=%s", tc.name, resp.StatusCode, resp.Header.Get("Location"), tc.want)
		}
	}
	resp, _ = okta.decide(authorizeQuery("st-d", challenge), "", "", "deny")
	if loc, _ := url.Parse(resp.Header.Get("Location")); resp.StatusCode != 302 || loc == nil ||
		loc.Query().Get("error") != "access_denied" || loc.Query().Get("state") != "st-d" || loc.Query().Get("code") != "" {
		t.Errorf("Deny: %d %q, want a redirect with error=access_denied", resp.StatusCode, resp.Header.Get("Location"))
	}
	code = okta.code(authorizeQuery("st-2", challenge))
	issued = append(issued, code)
	if bad := okta.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {oauthRedirect}, "code_verifier": {verifier}},
		true, oauthSecret+"x"); bad.status != 401 || bad.Error != "invalid_client" || !strings.HasPrefix(bad.wwwAuthentication, "Basic") {
		t.Errorf("wrong client secret: %+v, want 401 invalid_client with WWW-Authenticate", bad)
	}
	resp, body := okta.postForm("/scim/v2/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {oauthRedirect}, "client_id": {"someone-else"}, "client_secret": {oauthSecret}}, nil)
	if resp.StatusCode != 401 || !strings.Contains(body, "invalid_client") {
		t.Errorf("unknown client: %d %s", resp.StatusCode, body)
	}
	if bad := okta.exchange(code, verifier[:len(verifier)-1]+"X", false); bad.status != 400 || bad.Error != "invalid_grant" {
		t.Errorf("wrong PKCE verifier: %+v, want invalid_grant", bad)
	}
	code = okta.code(authorizeQuery("st-3", challenge))
	issued = append(issued, code)
	if bad := okta.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {oauthRedirect + "x"}, "code_verifier": {verifier}},
		false, oauthSecret); bad.status != 400 || bad.Error != "invalid_grant" {
		t.Errorf("token request with another redirect_uri: %+v, want invalid_grant", bad)
	}

	// A code exchanged by concurrent requests is used once; so is a
	// refresh token refreshed concurrently.
	code = okta.code(authorizeQuery("st-c", ""))
	issued = append(issued, code)
	wins := concurrently(8, func() tokenAnswer { return okta.exchange(code, "", true) })
	if len(wins) != 1 {
		t.Fatalf("one code exchanged concurrently: %d answers 200, want 1", len(wins))
	}
	issued = append(issued, wins[0].Access, wins[0].Refresh)
	refreshed := concurrently(8, func() tokenAnswer { return okta.refresh(wins[0].Refresh, true) })
	if len(refreshed) > 1 {
		t.Errorf("one refresh token refreshed concurrently: %d answers 200, want at most 1", len(refreshed))
	}
	for _, r := range refreshed {
		issued = append(issued, r.Access, r.Refresh)
	}

	// Two grants without PKCE (Okta sends none), exchanged with
	// client_secret_post; one is revoked (RFC 7009) by its refresh token.
	q4 := authorizeQuery("st-4", "")
	q4.Del("redirect_uri") // the only one registered, as the RFC allows
	keep := okta.token(url.Values{"grant_type": {"authorization_code"}, "code": {okta.code(q4)}}, false, oauthSecret)
	gone := okta.exchange(okta.code(authorizeQuery("st-5", "")), "", true)
	if keep.status != 200 || gone.status != 200 {
		t.Fatalf("grants without PKCE: %+v %+v", keep, gone)
	}
	issued = append(issued, keep.Access, keep.Refresh, gone.Access, gone.Refresh)
	resp, body = okta.postForm("/scim/v2/oauth2/revoke", url.Values{"token": {gone.Refresh}, "token_type_hint": {"refresh_token"}},
		func(r *http.Request) { r.SetBasicAuth(oauthClientID, oauthSecret) })
	if resp.StatusCode != 200 {
		t.Fatalf("revoke: %d %s", resp.StatusCode, body)
	}
	st, errBody := okta.scim("GET", "/Users", gone.Access, nil)
	if st != 401 || errBody["status"] != "401" || !strings.Contains(strings.Join(anyStrings(errBody["schemas"]), " "), "urn:ietf:params:scim:api:messages:2.0:Error") {
		t.Errorf("revoked grant's access token: %d %v, want 401 with an RFC 7644 error", st, errBody)
	}
	if r := okta.refresh(gone.Refresh, false); r.status != 400 {
		t.Errorf("revoked refresh token: %+v", r)
	}
	// An access token revoked alone (client_secret_post): it ends, its
	// grant's refresh token goes on; an unknown token is answered 200; a
	// revocation without client credentials is refused.
	alone := okta.exchange(okta.code(authorizeQuery("st-6", "")), "", false)
	issued = append(issued, alone.Access, alone.Refresh)
	resp, body = okta.postForm("/scim/v2/oauth2/revoke", url.Values{"token": {alone.Access}, "token_type_hint": {"access_token"},
		"client_id": {oauthClientID}, "client_secret": {oauthSecret}}, nil)
	if st, _ := okta.scim("GET", "/Users", alone.Access, nil); resp.StatusCode != 200 || st != 401 {
		t.Errorf("revoked access token: revoke %d %s, then %d", resp.StatusCode, body, st)
	}
	if r := okta.refresh(alone.Refresh, true); r.status != 200 {
		t.Errorf("the refresh token of a revoked access token: %+v", r)
	} else {
		issued = append(issued, r.Access, r.Refresh)
	}
	resp, _ = okta.postForm("/scim/v2/oauth2/revoke", url.Values{"token": {"sboa_unknown"}}, func(r *http.Request) { r.SetBasicAuth(oauthClientID, oauthSecret) })
	if resp.StatusCode != 200 {
		t.Errorf("revoking an unknown token: %d, want 200", resp.StatusCode)
	}
	resp, _ = okta.postForm("/scim/v2/oauth2/revoke", url.Values{"token": {keep.Access}}, nil)
	if st, _ := okta.scim("GET", "/Users", keep.Access, nil); resp.StatusCode != 401 || st != 200 {
		t.Errorf("revocation without client credentials: %d (token then %d), want 401 and the token alive", resp.StatusCode, st)
	}

	// A restart on the same store honours the tokens not revoked, within
	// the client's scopes as configured now.
	_ = srv.Bridge.App.ShutdownWithTimeout(5 * time.Second)
	srv.Bridge.Close()
	srv2 := bridgetest.Start(t, oauthConfig(store, auditPath, `"get:users"`), types)
	okta2 := newOAuthOkta(t, srv2.URL)
	if st, _ := okta2.scim("GET", "/Users", keep.Access, nil); st != 200 {
		t.Errorf("after the restart, a live access token: %d", st)
	}
	if st, _ := okta2.scim("POST", "/Users", keep.Access, map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "joe"}); st != 403 {
		t.Errorf("after the restart, a scope the client lost: %d, want 403", st)
	}
	if st, _ := okta2.scim("GET", "/Users", gone.Access, nil); st != 401 {
		t.Errorf("after the restart, a revoked access token: %d", st)
	}
	again := okta2.refresh(keep.Refresh, true)
	if again.status != 200 {
		t.Errorf("after the restart, refresh: %+v", again)
	}
	issued = append(issued, again.Access, again.Refresh)
	if st, _ := okta2.scim("GET", "/Users", again.Access, nil); st != 200 {
		t.Errorf("after the restart, the refreshed token: %d", st)
	}

	// No code, token or secret is stored in clear.
	raw := storeBytes()
	if !bytes.Contains(raw, []byte(oauthClientID)) {
		t.Fatalf("the store files hold no row (%d bytes)", len(raw))
	}
	for _, v := range append(issued, oauthSecret) {
		if bytes.Contains(raw, []byte(v)) {
			t.Errorf("the store holds %q in clear", v)
		}
	}
	sum := sha256.Sum256([]byte(keep.Refresh))
	if !bytes.Contains(raw, []byte(hex.EncodeToString(sum[:]))) {
		t.Errorf("the store does not key a live refresh token by its SHA-256")
	}

	// scimbridge oauth2 revoke: every token of the client ends at once.
	driver, dsn, err := config.ParseOAuth2Store(store)
	if err != nil {
		t.Fatal(err)
	}
	n, err := bridge.RevokeOAuth2Client(context.Background(), driver, dsn, "test", oauthClientID)
	if err != nil || n < 2 {
		t.Errorf("RevokeOAuth2Client: %d, %v", n, err)
	}
	if st, _ := okta2.scim("GET", "/Users", again.Access, nil); st != 401 {
		t.Errorf("after revoking the client, its access token: %d, want 401", st)
	}
}

// concurrently runs f n times at once and returns the answers 200.
func concurrently(n int, f func() tokenAnswer) []tokenAnswer {
	var mu sync.Mutex
	var wg sync.WaitGroup
	var ok []tokenAnswer
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if a := f(); a.status == 200 {
				mu.Lock()
				ok = append(ok, a)
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	return ok
}

// lastUsed reports whether the last-used gauge has a series for credential.
func lastUsed(t *testing.T, srv *bridgetest.Server, credential string) bool {
	t.Helper()
	mfs, err := srv.Bridge.Metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "scimbridge_token_last_used_timestamp_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "credential" && l.GetValue() == credential && m.GetGauge().GetValue() > 0 {
					return true
				}
			}
		}
	}
	return false
}

func anyStrings(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, x := range l {
			s, _ := x.(string)
			out = append(out, s)
		}
	}
	return out
}

// TestOAuth2ClientLimit: wrong client secrets count toward
// auth_failure_limit; past it they get 429 unchecked, while the right
// secret still gets through to the grant's own check.
func TestOAuth2ClientLimit(t *testing.T) {
	dir := t.TempDir()
	cfg := strings.Replace(oauthConfig("sqlite://"+filepath.Join(dir, "o.db"), filepath.Join(dir, "audit.log"), `"get:users"`),
		"server {", "server {\n  auth_failure_limit = 2", 1)
	srv := bridgetest.Start(t, cfg, map[string]config.BackendType{"memory": bridgetest.Static(newMemory())})
	okta := newOAuthOkta(t, srv.URL)
	form := func() url.Values {
		return url.Values{"grant_type": {"authorization_code"}, "code": {"sboc_not-a-code"}, "redirect_uri": {oauthRedirect}}
	}
	for i, want := range []int{401, 401, 429} {
		if got := okta.token(form(), true, oauthSecret+"x"); got.status != want {
			t.Errorf("wrong secret %d: %+v, want %d", i+1, got, want)
		}
	}
	if got := okta.token(form(), false, oauthSecret); got.status != 400 || got.Error != "invalid_grant" {
		t.Errorf("the right secret while the address is limited: %+v, want it checked (invalid_grant)", got)
	}
	if got := authFailures(t, srv.Bridge, "test"); got["invalid_client"] != 2 || got["limited"] != 1 {
		t.Errorf("failures counted: %v", got)
	}
}
