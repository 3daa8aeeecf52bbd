package bridge

import (
	"encoding/base64"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/scimbridge/scimbridge/bridge/config"
)

// A Basic credential that passed bcrypt is not checked again for a while;
// a wrong password, another user or an expired entry is.
func TestBasicReusesVerification(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	bcryptCompare = func(h, p []byte) error { calls++; return bcrypt.CompareHashAndPassword(h, p) }
	t.Cleanup(func() { bcryptCompare = bcrypt.CompareHashAndPassword })

	a := NewAuthenticator(nil, []config.Basic{{Username: "onelogin", PasswordHash: string(hash), Scopes: []string{"get:users"}}})
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a.now = func() time.Time { return now }
	header := func(user, pass string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	check := func(h string, ok bool, wantCalls int) {
		t.Helper()
		p, err := a.Authenticate(h)
		if (err == nil) != ok {
			t.Fatalf("Authenticate: %v, want ok=%v", err, ok)
		}
		if ok && (p.Name != "onelogin" || !p.Scopes["get:users"] || p.Scopes["post:users"]) {
			t.Fatalf("principal %+v", p)
		}
		if calls != wantCalls {
			t.Fatalf("%d bcrypt checks, want %d", calls, wantCalls)
		}
	}
	check(header("onelogin", "s3cret"), true, 1)
	check(header("onelogin", "s3cret"), true, 1) // remembered
	check(header("onelogin", "wrong"), false, 2)
	check(header("other", "s3cret"), false, 2) // no such user: no bcrypt at all
	now = now.Add(basicReuse + time.Second)
	check(header("onelogin", "s3cret"), true, 3) // expired: checked again
}
