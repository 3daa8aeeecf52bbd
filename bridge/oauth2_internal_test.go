package bridge

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-oauth2/oauth2/v4/models"
	"github.com/hashicorp/go-hclog"

	"github.com/scimbridge/scimbridge/bridge/config"
)

// TestOAuth2BearerExpiry: an access token past its lifetime, or of a
// client no longer configured, is refused with the reason logged and
// counted; one within it gets the scopes its client still has.
func TestOAuth2BearerExpiry(t *testing.T) {
	d, err := openOAuth2DB(context.Background(), "sqlite", filepath.Join(t.TempDir(), "o.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	cfg := config.OAuth2{Name: "okta", ClientID: "c1", RedirectURIs: []string{"https://x.example/cb"}, Scopes: []string{"get:users"}}
	o := newOAuth2Server("e", []config.OAuth2{cfg}, d, hclog.NewNullLogger())
	st := o.store
	a := NewAuthenticator(nil, nil)
	a.creds.Load().oauth2 = o
	issue := func(client string, created time.Time) string {
		access, _ := randomToken(oauth2AccessPrefix)
		tok := models.NewToken()
		tok.ClientID, tok.Scope, tok.Access = client, "get:users post:users", access
		tok.AccessCreateAt, tok.AccessExpiresIn = created, time.Hour
		if err := st.Create(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
		return access
	}
	now := time.Now()
	live := issue("c1", now)
	p, err := a.Authenticate("Bearer "+live, "192.0.2.1")
	if err != nil || p.Name != "oauth2:okta" || !p.Scopes["get:users"] || p.Scopes["post:users"] {
		t.Fatalf("live token: %+v %v", p, err)
	}
	a.now = func() time.Time { return now.Add(time.Hour + time.Second) }
	var e *AuthError
	if _, err := a.Authenticate("Bearer "+live, "192.0.2.1"); !errors.As(err, &e) || e.Reason != ReasonExpired || e.Credential != "oauth2:okta" || e.err.Status != 401 {
		t.Errorf("expired token: %v", err)
	}
	a.now = time.Now
	if _, err := a.Authenticate("Bearer "+issue("gone", now), "192.0.2.1"); !errors.As(err, &e) || e.Reason != ReasonUnknownToken {
		t.Errorf("token of a client no longer configured: %v", err)
	}
	if _, err := a.Authenticate("Bearer "+oauth2AccessPrefix+"never-issued-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "192.0.2.1"); !errors.As(err, &e) || e.Reason != ReasonUnknownToken {
		t.Errorf("unknown token: %v", err)
	}
}

// TestOAuth2ExpiredCode: a code past code_ttl is refused (invalid_grant),
// and the store keeps rows past their expiry only until a purge.
func TestOAuth2ExpiredCode(t *testing.T) {
	d, err := openOAuth2DB(context.Background(), "sqlite", filepath.Join(t.TempDir(), "o.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	cfg := config.OAuth2{Name: "okta", ClientID: "c1", RedirectURIs: []string{"https://x.example/cb"}, Scopes: []string{"get:users"},
		AccessTTL: time.Hour, RefreshTTL: 2 * time.Hour, CodeTTL: time.Minute}
	cfg.SecretHash = sha256.Sum256([]byte("sb_secret_Wq8vT3kZr6Yp1Lx9Nd2Hs5Jc7"))
	o := newOAuth2Server("e", []config.OAuth2{cfg}, d, hclog.NewNullLogger())
	st := o.store
	exchange := func(created time.Time) (int, string) {
		code, _ := randomToken(oauth2CodePrefix)
		tok := models.NewToken()
		tok.ClientID, tok.Scope, tok.Code, tok.RedirectURI = "c1", "get:users", code, "https://x.example/cb"
		tok.CodeCreateAt, tok.CodeExpiresIn = created, time.Minute
		if err := st.Create(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"https://x.example/cb"}}
		r := httptest.NewRequest("POST", "/scim/v2/oauth2/token", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth("c1", "sb_secret_Wq8vT3kZr6Yp1Lx9Nd2Hs5Jc7")
		if err := r.ParseForm(); err != nil {
			t.Fatal(err)
		}
		w := newBufferedWriter()
		_ = o.clients["c1"].srv.HandleTokenRequest(w, r)
		return w.status, w.body.String()
	}
	if status, body := exchange(time.Now()); status != 200 {
		t.Fatalf("a fresh code: %d %s", status, body)
	}
	if status, body := exchange(time.Now().Add(-2 * time.Minute)); status != 400 || !strings.Contains(body, "invalid_grant") {
		t.Errorf("a code past its lifetime: %d %s, want 400 invalid_grant", status, body)
	}
	count := func() (n int) {
		_ = d.db.QueryRow(`SELECT COUNT(*) FROM ` + oauth2Table).Scan(&n)
		return n
	}
	before := count()
	st.now = func() time.Time { return time.Now().Add(3 * time.Hour) }
	st.purge(context.Background())
	if after := count(); before == 0 || after != 0 {
		t.Errorf("rows before a purge 3h later %d, after %d, want all gone", before, after)
	}
}

// TestOAuth2RefreshOtherClient: a refresh token presented by another
// client of the endpoint (authenticated) is invalid_grant, and stays
// usable by its own client.
func TestOAuth2RefreshOtherClient(t *testing.T) {
	d, err := openOAuth2DB(context.Background(), "sqlite", filepath.Join(t.TempDir(), "o.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var cfgs []config.OAuth2
	for _, id := range []string{"c1", "c2"} {
		c := config.OAuth2{Name: id, ClientID: id, RedirectURIs: []string{"https://x.example/cb"}, Scopes: []string{"get:users"},
			AccessTTL: time.Hour, RefreshTTL: 2 * time.Hour, CodeTTL: time.Minute}
		c.SecretHash = sha256.Sum256([]byte("sb_secret_" + id + "_Wq8vT3kZr6Yp1Lx9Nd2Hs5Jc7"))
		cfgs = append(cfgs, c)
	}
	o := newOAuth2Server("e", cfgs, d, hclog.NewNullLogger())
	st := o.store
	refresh, _ := randomToken(oauth2RefreshPrefix)
	tok := models.NewToken()
	tok.ClientID, tok.Scope, tok.Refresh = "c1", "get:users", refresh
	tok.RefreshCreateAt, tok.RefreshExpiresIn = time.Now(), time.Hour
	if err := st.Create(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	as := func(id string) (int, string) {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}
		r := httptest.NewRequest("POST", "/scim/v2/oauth2/token", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth(id, "sb_secret_"+id+"_Wq8vT3kZr6Yp1Lx9Nd2Hs5Jc7")
		if err := r.ParseForm(); err != nil {
			t.Fatal(err)
		}
		w := newBufferedWriter()
		_ = o.clients[id].srv.HandleTokenRequest(w, r)
		return w.status, w.body.String()
	}
	if status, body := as("c2"); status != 400 || !strings.Contains(body, "invalid_grant") {
		t.Errorf("another client's refresh token: %d %s, want 400 invalid_grant", status, body)
	}
	if status, body := as("c1"); status != 200 {
		t.Errorf("its own client, after: %d %s", status, body)
	}
}
