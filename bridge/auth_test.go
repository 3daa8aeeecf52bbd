package bridge

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/scimbridge/scimbridge/bridge/config"
)

func basicHeader(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// countBcrypt replaces bcryptCompare for the test with one that counts its
// calls (and records the cost of each hash it compares).
func countBcrypt(t *testing.T) (calls *atomic.Int64, costs func() []int) {
	t.Helper()
	calls = new(atomic.Int64)
	var mu sync.Mutex
	var seen []int
	bcryptCompare = func(h, p []byte) error {
		calls.Add(1)
		c, _ := bcrypt.Cost(h)
		mu.Lock()
		seen = append(seen, c)
		mu.Unlock()
		return bcrypt.CompareHashAndPassword(h, p)
	}
	t.Cleanup(func() { bcryptCompare = bcrypt.CompareHashAndPassword })
	return calls, func() []int { mu.Lock(); defer mu.Unlock(); return append([]int(nil), seen...) }
}

func bcryptHash(t *testing.T, pass string, cost int) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pass), cost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

// A Basic credential that passed bcrypt is not checked again for a while;
// a wrong password, another user or an expired entry is.
func TestBasicReusesVerification(t *testing.T) {
	hash := bcryptHash(t, "s3cret", bcrypt.MinCost)
	calls, _ := countBcrypt(t)
	a := NewAuthenticator(nil, []config.Basic{{Username: "onelogin", PasswordHash: hash, Scopes: []string{"get:users"}}})
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a.now = func() time.Time { return now }
	check := func(h string, ok bool, wantCalls int64) {
		t.Helper()
		p, err := a.Authenticate(h, "192.0.2.1")
		if (err == nil) != ok {
			t.Fatalf("Authenticate: %v, want ok=%v", err, ok)
		}
		if ok && (p.Name != "onelogin" || !p.Scopes["get:users"] || p.Scopes["post:users"]) {
			t.Fatalf("principal %+v", p)
		}
		if calls.Load() != wantCalls {
			t.Fatalf("%d bcrypt checks, want %d", calls.Load(), wantCalls)
		}
	}
	check(basicHeader("onelogin", "s3cret"), true, 1)
	check(basicHeader("onelogin", "s3cret"), true, 1) // remembered
	check(basicHeader("onelogin", "wrong"), false, 2)
	check(basicHeader("other", "s3cret"), false, 3) // no such user: a dummy check all the same
	now = now.Add(basicReuse + time.Second)
	check(basicHeader("onelogin", "s3cret"), true, 4) // expired: checked again
}

// Issue #9, finding 4: an unknown user name costs one bcrypt of the cost
// of the configured hashes, as a known one with a wrong password does, so
// that the answer's timing does not tell which names exist. With several
// costs, each unknown name is checked at one of them.
func TestUnknownUserCostsWhatAKnownOneDoes(t *testing.T) {
	calls, costs := countBcrypt(t)
	a := NewAuthenticator(nil, []config.Basic{
		{Username: "onelogin", PasswordHash: bcryptHash(t, "first-password", 4)},
		{Username: "okta", PasswordHash: bcryptHash(t, "second-password", 5)},
	})
	a.LimitFailures(1000, time.Minute)
	for _, user := range []string{"onelogin", "okta"} {
		before := calls.Load()
		if _, err := a.Authenticate(basicHeader(user, "guess"), "192.0.2.1"); err == nil {
			t.Fatal("a wrong password was accepted")
		}
		if n := calls.Load() - before; n != 1 {
			t.Fatalf("known user %s: %d bcrypt checks, want 1", user, n)
		}
	}
	seenCost := map[int]int{}
	for i := range 64 {
		before := calls.Load()
		_, err := a.Authenticate(basicHeader(fmt.Sprintf("nobody-%d", i), "guess"), "192.0.2.1")
		if e, ok := err.(*AuthError); !ok || e.Reason != ReasonUnknownUser {
			t.Fatalf("unknown user: %v", err)
		}
		if n := calls.Load() - before; n != 1 {
			t.Fatalf("unknown user: %d bcrypt checks, want 1 (as for a known one)", n)
		}
		all := costs()
		seenCost[all[len(all)-1]]++
	}
	if len(seenCost) != 2 || seenCost[4] == 0 || seenCost[5] == 0 {
		t.Errorf("unknown names were checked at costs %v, want both 4 and 5", seenCost)
	}

	// With sha256 hashes only, neither costs a bcrypt.
	a = NewAuthenticator(nil, []config.Basic{{Username: "plain", PasswordHash: "sha256:" + fmt.Sprintf("%064x", 1)}})
	before := calls.Load()
	_, _ = a.Authenticate(basicHeader("plain", "guess"), "192.0.2.1")
	_, _ = a.Authenticate(basicHeader("nobody", "guess"), "192.0.2.1")
	if calls.Load() != before {
		t.Errorf("sha256 credentials ran bcrypt")
	}
}

// limitedTest is an Authenticator with one bcrypt user, a bearer token, a
// limit of 3 failures a minute and a clock the test moves.
type limitedTest struct {
	t     *testing.T
	a     *Authenticator
	now   time.Time
	calls *atomic.Int64
}

const limitedToken = "sb_Qm3vX9kT2pL7wZ4nB8cR1yF6hJ0dG5sA-eU_tK3oV"

func newLimitedTest(t *testing.T) *limitedTest {
	calls, _ := countBcrypt(t)
	lt := &limitedTest{t: t, now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), calls: calls}
	tok := config.Token{Name: "okta", Scopes: config.AllScopes}
	tok.Hash = sha256.Sum256([]byte(limitedToken))
	lt.a = NewAuthenticator([]config.Token{tok}, []config.Basic{{Username: "onelogin", PasswordHash: bcryptHash(t, "right-password", bcrypt.MinCost), Scopes: config.AllScopes}})
	lt.a.LimitFailures(3, time.Minute)
	lt.a.now = func() time.Time { return lt.now }
	return lt
}

// try authenticates and checks the outcome: status 0 for success, else 401
// or 429; bcrypt is how many checks it may run.
func (lt *limitedTest) try(header, addr string, status int, bcrypt int64) *AuthError {
	lt.t.Helper()
	before := lt.calls.Load()
	_, err := lt.a.Authenticate(header, addr)
	got := 0
	var e *AuthError
	if err != nil {
		e = err.(*AuthError)
		got = e.err.Status
	}
	scheme, _, _ := strings.Cut(header, " ")
	if got != status {
		lt.t.Fatalf("%s from %s: status %d (%v), want %d", scheme, addr, got, err, status)
	}
	if n := lt.calls.Load() - before; n != bcrypt {
		lt.t.Fatalf("%s from %s: %d bcrypt checks, want %d", scheme, addr, n, bcrypt)
	}
	if status == 429 && (e.err.RetryAfter < 1 || e.err.RetryAfter > 60 || e.Reason != ReasonLimited) {
		lt.t.Fatalf("429 with Retry-After %d, reason %s", e.err.RetryAfter, e.Reason)
	}
	return e
}

// Issue #9, finding 4: failures are limited per address and per user name;
// while limited, attempts get 429 with Retry-After and run no bcrypt.
func TestFailedAuthenticationsAreLimited(t *testing.T) {
	lt := newLimitedTest(t)
	right, wrong := basicHeader("onelogin", "right-password"), basicHeader("onelogin", "wrong-password")

	// Per address and user name: the third failure engages both limits.
	lt.try(wrong, "192.0.2.1", 401, 1)
	lt.try(wrong, "192.0.2.1", 401, 1)
	if e := lt.try(wrong, "192.0.2.1", 401, 1); fmt.Sprint(e.Engaged) != "[address user name]" {
		t.Fatalf("engaged %v", e.Engaged)
	}
	lt.try(wrong, "192.0.2.1", 429, 0)
	lt.try(right, "192.0.2.1", 429, 0) // not remembered: no bcrypt while limited
	lt.try(wrong, "198.51.100.7", 429, 0)
	lt.try(basicHeader("someone-else", "x"), "198.51.100.7", 401, 1)
	// A configured bearer token costs no bcrypt: it gets in from a limited
	// address; a wrong one does not.
	lt.try("Bearer "+limitedToken, "192.0.2.1", 0, 0)
	lt.try("Bearer wrong-"+limitedToken, "192.0.2.1", 429, 0)
	// A request without credentials is not limited (clients that wait for
	// the challenge).
	lt.try("", "192.0.2.1", 401, 0)

	lt.now = lt.now.Add(time.Minute)
	lt.try(right, "192.0.2.1", 0, 1)

	// Verified credentials still get in while their user name is limited,
	// from an address they succeeded from, without bcrypt; from another
	// address they wait like everyone.
	lt.try(wrong, "203.0.113.1", 401, 1)
	lt.try(wrong, "203.0.113.2", 401, 1)
	lt.try(wrong, "203.0.113.3", 401, 1)
	lt.try(wrong, "203.0.113.4", 429, 0)
	lt.try(right, "192.0.2.1", 0, 0)
	lt.try(right, "203.0.113.9", 429, 0)

	// Per address across user names, and bearer failures count there too.
	lt.now = lt.now.Add(time.Minute)
	for i := range 3 {
		lt.try(basicHeader(fmt.Sprintf("name-%d", i), "x"), "198.51.100.20", 401, 1)
	}
	lt.try(basicHeader("name-3", "x"), "198.51.100.20", 429, 0)
	for range 3 {
		lt.try("Bearer not-a-configured-token-at-all", "198.51.100.30", 401, 0)
	}
	lt.try(wrong, "198.51.100.30", 429, 0)
	lt.try("Basic %%%", "198.51.100.30", 429, 0)
	// IPv6 addresses count by /64; IPv4-mapped ones as IPv4.
	for i := range 3 {
		lt.try("Bearer not-a-configured-token-at-all", fmt.Sprintf("2001:db8:1:2::%d", i+1), 401, 0)
	}
	lt.try("Bearer not-a-configured-token-at-all", "2001:db8:1:2:ffff::1", 429, 0)
	lt.try("Bearer not-a-configured-token-at-all", "::ffff:198.51.100.30", 429, 0)
	lt.try("Bearer not-a-configured-token-at-all", "2001:db8:1:3::1", 401, 0)
}

// Concurrent attempts from one address run at most limit bcrypt checks:
// checks under way count against the limit.
func TestConcurrentFailuresRunAtMostLimitChecks(t *testing.T) {
	lt := newLimitedTest(t)
	release := make(chan struct{})
	var inside atomic.Int64
	bcryptCompare = func(h, p []byte) error {
		inside.Add(1)
		<-release
		return bcrypt.ErrMismatchedHashAndPassword
	}
	results := make(chan *AuthError, 9)
	for i := range 9 {
		go func() {
			_, err := lt.a.Authenticate(basicHeader("onelogin", fmt.Sprintf("guess-%d", i)), "192.0.2.1")
			results <- err.(*AuthError)
		}()
	}
	timeout := time.After(20 * time.Second)
	for range 6 {
		select {
		case e := <-results:
			// The checks under way will end soon: retry in a second.
			if e.err.Status != 429 || e.err.RetryAfter != 1 {
				t.Fatalf("status %d, Retry-After %d before any check ended, want 429 and 1", e.err.Status, e.err.RetryAfter)
			}
		case <-timeout:
			t.Fatalf("%d checks started; the others are not refused", inside.Load())
		}
	}
	close(release)
	for range 3 {
		if e := <-results; e.err.Status != 401 {
			t.Fatalf("status %d, want 401", e.err.Status)
		}
	}
	if n := inside.Load(); n != 3 {
		t.Fatalf("%d bcrypt checks, want 3", n)
	}
}

// Concurrent requests with the same credentials wait for one bcrypt.
func TestConcurrentSameCredentialsShareOneCheck(t *testing.T) {
	lt := newLimitedTest(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := lt.a.Authenticate(basicHeader("onelogin", "right-password"), "192.0.2.1"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := lt.calls.Load(); n != 1 {
		t.Fatalf("%d bcrypt checks, want 1", n)
	}
}

// Rotating addresses and user names does not grow the limiter beyond its
// bound.
func TestLimiterMemoryIsBounded(t *testing.T) {
	l := newFailureLimiter(3, time.Minute)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 * maxLimiterKeys {
		l.fail(now, l.keys(fmt.Sprintf("10.%d.%d.%d", i>>16, i>>8&255, i&255), fmt.Sprintf("user-%d", i), true))
	}
	if a, u := l.size(); a > maxLimiterKeys || u > maxLimiterKeys {
		t.Fatalf("%d addresses and %d user names held, bound %d", a, u, maxLimiterKeys)
	}
	// Past the window, expired keys make room first.
	now = now.Add(time.Minute)
	k := l.keys("192.0.2.1", "target", true)
	for range 3 {
		l.fail(now, k)
	}
	if _, limited := l.check(now, k); !limited {
		t.Fatal("not limited after 3 failures")
	}
}
