package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/backends/sql/pgtest"
)

const (
	oaRedirect = "https://system-admin.okta.com/admin/app/cpc/scimbridge_1/oauth/callback"
	oaAdmin    = "it-admin"
	oaPassword = "pw_Rt5kXq2Zw9Lm4Vb7Nc1Hd"
)

// oauth2Block is an oauth2 block of the test's endpoint, on store.
func oauth2Block(name, clientID, secret, store string, scopes ...string) string {
	return fmt.Sprintf(`    oauth2 %q {
      client_id          = %q
      client_secret_hash = %q
      redirect_uris      = [%q]
      scopes             = ["%s"]
      store              = %q
      admin %q { password_hash = %q }
    }
`, name, clientID, tokenHash(secret), oaRedirect, strings.Join(scopes, `", "`), store, oaAdmin, tokenHash(oaPassword))
}

// oauthFlow plays Okta and the admin's browser against the binary.
type oauthFlow struct {
	t    *testing.T
	base string
	hc   *http.Client
}

var oaHiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

func (f *oauthFlow) do(req *http.Request) (*http.Response, string) {
	f.t.Helper()
	resp, err := f.hc.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (f *oauthFlow) post(path string, form url.Values, setup func(*http.Request)) (*http.Response, string) {
	f.t.Helper()
	req, _ := http.NewRequest("POST", f.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if setup != nil {
		setup(req)
	}
	return f.do(req)
}

// code runs the authorization request and the admin's consent for
// clientID; it returns the code.
func (f *oauthFlow) code(clientID string) string {
	f.t.Helper()
	q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {oaRedirect}, "state": {"st-" + clientID}}
	req, _ := http.NewRequest("GET", f.base+"/scim/v2/oauth2/authorize?"+q.Encode(), nil)
	resp, page := f.do(req)
	if resp.StatusCode != 200 {
		f.t.Fatalf("authorize %s: %d %s", clientID, resp.StatusCode, page)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "scimbridge_oauth2_csrf" {
			cookie = c
		}
	}
	form := url.Values{"username": {oaAdmin}, "password": {oaPassword}, "decision": {"allow"}}
	for _, h := range oaHiddenRE.FindAllStringSubmatch(page, -1) {
		form.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	if cookie == nil || form.Get("csrf") == "" {
		f.t.Fatalf("consent page of %s without its cookie or form: %s", clientID, page)
	}
	resp, body := f.post("/scim/v2/oauth2/authorize", form, func(r *http.Request) { r.AddCookie(cookie) })
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != 302 || loc == nil || loc.Query().Get("code") == "" {
		f.t.Fatalf("consent of %s: %d %q %s", clientID, resp.StatusCode, resp.Header.Get("Location"), body)
	}
	return loc.Query().Get("code")
}

type oaTokens struct {
	status               int
	Access, Refresh, Err string
}

// token posts a grant to the token endpoint as clientID with secret
// (client_secret_basic).
func (f *oauthFlow) token(clientID, secret string, form url.Values) oaTokens {
	f.t.Helper()
	resp, body := f.post("/scim/v2/oauth2/token", form, func(r *http.Request) {
		r.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	})
	var v struct {
		Access  string `json:"access_token"`
		Refresh string `json:"refresh_token"`
		Err     string `json:"error"`
	}
	_ = json.Unmarshal([]byte(body), &v)
	return oaTokens{resp.StatusCode, v.Access, v.Refresh, v.Err}
}

// grant runs the whole flow: consent, then the code's exchange.
func (f *oauthFlow) grant(clientID, secret string) oaTokens {
	f.t.Helper()
	tk := f.token(clientID, secret, url.Values{"grant_type": {"authorization_code"}, "code": {f.code(clientID)}, "redirect_uri": {oaRedirect}})
	if tk.status != 200 || tk.Access == "" || tk.Refresh == "" {
		f.t.Fatalf("code exchange of %s: %+v", clientID, tk)
	}
	return tk
}

func (f *oauthFlow) refresh(clientID, secret, refresh string) oaTokens {
	f.t.Helper()
	return f.token(clientID, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
}

// scim calls the endpoint with a bearer token: GET, or POST a user.
func (f *oauthFlow) scim(method, access string) int {
	f.t.Helper()
	var body io.Reader
	if method == "POST" {
		body = strings.NewReader(fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"oa%d@example.com"}`, time.Now().UnixNano()))
	}
	req, _ := http.NewRequest(method, f.base+"/scim/v2/Users?count=1", body)
	req.Header.Set("Authorization", "Bearer "+access)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, _ := f.do(req)
	return resp.StatusCode
}

// TestServeReloadsOAuth2 runs the real binary: SIGHUP puts oauth2 blocks
// in force like the other credentials. An endpoint started without one
// gets its authorization server by a reload; a changed client secret
// refuses the old secret and the tokens issued under it; an added client
// is served; a removed block's tokens get 401 and come back with the
// block; a narrower scopes list limits tokens already issued; a refused
// file changes nothing; and with no block left the paths are the
// endpoint's again.
func TestServeReloadsOAuth2(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "scimbridge")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	const (
		tokA    = "sb_oareloadA_Vb0Qx7LkP2mZ9sT4wYc1NdE8fGhJ3u"
		secret1 = "sb_oasecret1_Kp5Wn2QzX8vL1cM7tR4yH9bD6sF3gJ"
		secret2 = "sb_oasecret2_Hq3Jm8VtB1xN6cZ4wK9pL2rY7dF5gS"
		secret3 = "sb_oasecret3_Zt6Yc1Rm4Pq8Lx2Wv7Bn9Kd3Hs5Gj0"
	)
	addr := freeAddr(t)
	server := fmt.Sprintf("server {\n  listen = %q\n}", addr)
	store := "sqlite://" + filepath.Join(dir, "oauth2.db")
	path := filepath.Join(dir, "config.hcl")
	logs := &syncBuffer{}
	reloads := 0
	var cmd *exec.Cmd
	apply := func(auth string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(exampleWithAuth(t, server, tokenBlock("a", tokA)+auth)), 0o600); err != nil {
			t.Fatal(err)
		}
		if cmd == nil {
			return
		}
		reloads++
		if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		waitFor(t, fmt.Sprintf("reload %d", reloads), logs, func() bool { return strings.Count(logs.String(), "configuration reloaded") == reloads })
	}
	apply("")
	cmd = exec.Command(bin, "serve", "--config", path)
	cmd.Env = append(os.Environ(), "SCIMBRIDGE_SQLITE_PATH="+filepath.Join(dir, "t.db"))
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	f := &oauthFlow{t: t, base: "http://" + addr, hc: &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	waitFor(t, "the server to answer", logs, func() bool {
		resp, err := http.Get(f.base + "/scim/v2/ServiceProviderConfig")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})

	// No oauth2 block: the token path is the endpoint's (authentication
	// first), as on a server that never had one.
	if got := f.token("okta-1", secret1, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}); got.status != 401 || got.Err != "" {
		t.Fatalf("token endpoint before any oauth2 block: %+v, want the endpoint's 401", got)
	}

	// Added by a reload: served, on a store opened then.
	all := []string{"get:users", "post:users"}
	apply(oauth2Block("okta", "okta-1", secret1, store, all...))
	if strings.Contains(logs.String(), "need a restart") {
		t.Fatalf("adding an oauth2 block is reported as needing a restart:\n%s", logs.String())
	}
	g1 := f.grant("okta-1", secret1)
	if got := f.scim("GET", g1.Access); got != 200 {
		t.Fatalf("access token of okta-1: %d", got)
	}

	// The secret changes and a client is added.
	apply(oauth2Block("okta", "okta-1", secret2, store, all...) + oauth2Block("okta2", "okta-2", secret3, store, all...))
	if got := f.refresh("okta-1", secret1, g1.Refresh); got.status != 401 || got.Err != "invalid_client" {
		t.Errorf("the old secret after the reload: %+v, want 401 invalid_client", got)
	}
	if got := f.scim("GET", g1.Access); got != 401 {
		t.Errorf("an access token issued under the old secret: %d, want 401", got)
	}
	if got := f.refresh("okta-1", secret2, g1.Refresh); got.status != 400 || got.Err != "invalid_grant" {
		t.Errorf("a refresh token issued under the old secret, with the new one: %+v, want 400 invalid_grant", got)
	}
	g1 = f.grant("okta-1", secret2)
	g2 := f.grant("okta-2", secret3)
	if a, b := f.scim("GET", g1.Access), f.scim("GET", g2.Access); a != 200 || b != 200 {
		t.Fatalf("after the reload: okta-1 with the new secret %d, added okta-2 %d", a, b)
	}
	if got := f.scim("POST", g1.Access); got != 201 {
		t.Fatalf("okta-1 creating a user: %d", got)
	}

	// A refused file changes nothing.
	if err := os.WriteFile(path, []byte(exampleWithAuth(t, server, tokenBlock("a", tokA)+"    oauth2 \"okta\" {\n      client_id = 1\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the refusal", logs, func() bool { return strings.Contains(logs.String(), "reload refused") })
	if a, b := f.scim("GET", g1.Access), f.scim("GET", g2.Access); a != 200 || b != 200 {
		t.Errorf("after a refused reload: okta-1 %d, okta-2 %d", a, b)
	}

	// Narrower scopes limit the tokens already issued.
	apply(oauth2Block("okta", "okta-1", secret2, store, "get:users") + oauth2Block("okta2", "okta-2", secret3, store, all...))
	if get, post := f.scim("GET", g1.Access), f.scim("POST", g1.Access); get != 200 || post != 403 {
		t.Errorf("okta-1 with scopes narrowed to get:users: GET %d, POST %d, want 200 and 403", get, post)
	}

	// Removed: its tokens get 401, the other client's still work; added
	// back with the same secret, they are honoured again.
	apply(oauth2Block("okta2", "okta-2", secret3, store, all...))
	if a, b := f.scim("GET", g1.Access), f.scim("GET", g2.Access); a != 401 || b != 200 {
		t.Errorf("okta removed: its token %d (want 401), okta-2's %d (want 200)", a, b)
	}
	if got := f.refresh("okta-1", secret2, g1.Refresh); got.status != 401 {
		t.Errorf("the removed client at the token endpoint: %+v, want 401", got)
	}
	apply(oauth2Block("okta", "okta-1", secret2, store, all...) + oauth2Block("okta2", "okta-2", secret3, store, all...))
	if got := f.scim("GET", g1.Access); got != 200 {
		t.Errorf("okta added back with the same secret: its token %d, want 200", got)
	}
	if got := f.refresh("okta-1", secret2, g1.Refresh); got.status != 200 || got.Access == "" {
		t.Errorf("okta added back: refresh %+v", got)
	}

	// No block left: the paths are the endpoint's again; its token works.
	apply("")
	if got := f.scim("GET", g2.Access); got != 401 {
		t.Errorf("okta-2's token with no oauth2 block: %d, want 401", got)
	}
	if got := f.token("okta-2", secret3, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {g2.Refresh}}); got.status != 401 || got.Err != "" {
		t.Errorf("token endpoint with no oauth2 block: %+v, want the endpoint's 401", got)
	}
	if got := f.scim("GET", tokA); got != 200 {
		t.Errorf("token a: %d", got)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
	}
	for _, s := range []string{secret1, secret2, secret3, g1.Access, g1.Refresh, g2.Access} {
		if strings.Contains(logs.String(), s) {
			t.Error("a secret or token appears in the log")
		}
	}
}

// TestValidateLiveOAuth2Store: validate --live opens each oauth2 store as
// serve would: a good one gets its table (and is counted in the live
// line); an unreachable database or an impossible path is an error on the
// block, before serve would fail, without the store's password.
func TestValidateLiveOAuth2Store(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SCIMBRIDGE_SQLITE_PATH", filepath.Join(dir, "x.db"))
	path := filepath.Join(dir, "config.hcl")
	check := func(store string) (int, string, string) {
		t.Helper()
		src := exampleWithAuth(t, "server {\n}", tokenBlock("a", "sb_oalive_Wm4Tq8Zr2Xv6Np3Ks9Bd5Hf7")+
			oauth2Block("okta", "okta-1", "sb_oalive_secret_Kp5Wn2QzX8vL1cM7", store, "get:users"))
		if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		return runCmd(t, "", "validate", "--live", "--config", path)
	}
	good := filepath.Join(dir, "oauth2.db")
	code, out, errs := check("sqlite://" + good)
	if code != 0 || !strings.Contains(out, "1 oauth2 store(s) checked live") {
		t.Fatalf("validate --live with a good store: exit %d\n%s%s", code, out, errs)
	}
	db, err := sql.Open("sqlite", good)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM scimbridge_oauth2_tokens`).Scan(&n); err != nil {
		t.Errorf("the store's table after validate --live: %v", err)
	}
	for _, store := range []string{
		"sqlite://" + filepath.Join(dir, "no-such-dir", "oauth2.db"),
		"postgres://scim:pw_Zr8Kq2Vm5Xt@127.0.0.1:1/scim?connect_timeout=5",
	} {
		code, out, errs := check(store)
		src, _ := os.ReadFile(path)
		at := fmt.Sprintf("%s:%d:", path, strings.Count(string(src[:strings.Index(string(src), `oauth2 "okta"`)]), "\n")+1)
		if code != 1 || !strings.Contains(errs, at+"5: error: OAuth2 token store not usable") || !strings.Contains(errs, `oauth2 "okta"`) {
			t.Errorf("validate --live with store %s: exit %d\n%s%s", store, code, out, errs)
		}
		if strings.Contains(errs, "pw_Zr8Kq2Vm5Xt") {
			t.Errorf("the store's password is printed:\n%s", errs)
		}
	}

	// PostgreSQL: a database that exists, and one that does not.
	srv, err := pgtest.Start()
	if err != nil {
		if errors.Is(err, pgtest.ErrNotInstalled) && os.Getenv("SCIMBRIDGE_REQUIRE_SERVERS") != "1" {
			t.Skip("PostgreSQL is not installed")
		}
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	dsn, err := srv.CreateDatabase(context.Background(), "oauth2")
	if err != nil {
		t.Fatal(err)
	}
	if code, out, errs := check(dsn); code != 0 || !strings.Contains(out, "1 oauth2 store(s) checked live") {
		t.Errorf("validate --live with a PostgreSQL store: exit %d\n%s%s", code, out, errs)
	}
	pg, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	if err := pg.QueryRow(`SELECT COUNT(*) FROM scimbridge_oauth2_tokens`).Scan(&n); err != nil {
		t.Errorf("the PostgreSQL store's table after validate --live: %v", err)
	}
	if code, _, errs := check(srv.DSN("no_such_db")); code != 1 || !strings.Contains(errs, "OAuth2 token store not usable") || !strings.Contains(errs, "no_such_db") {
		t.Errorf("validate --live with a missing PostgreSQL database: exit %d\n%s", code, errs)
	}
}
