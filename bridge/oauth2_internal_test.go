package bridge

import (
	"context"
	"errors"
	"path/filepath"
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
	st := &oauth2Store{d: d, endpoint: "e", log: hclog.NewNullLogger(), now: time.Now}
	cfg := config.OAuth2{Name: "okta", ClientID: "c1", RedirectURIs: []string{"https://x.example/cb"}, Scopes: []string{"get:users"}}
	o := newOAuth2Server("e", []config.OAuth2{cfg}, st, hclog.NewNullLogger())
	a := NewAuthenticator(nil, nil)
	a.oauth2 = o
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
