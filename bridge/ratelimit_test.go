package bridge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/config"
)

const otherToken = "sb_other_Wq4Zt8Lm1Xc6Vb3Nk9Pd2Hs7Jf5Rg0Ay"

// counter returns the value of a counter with the given labels, 0 when
// the series does not exist.
func counter(t *testing.T, srv *bridgetest.Server, name string, labels map[string]string) float64 {
	t.Helper()
	v, _ := srv.Metric(t, name, labels)
	return v
}

// frozenClock is a clock the test moves.
type frozenClock struct{ ns atomic.Int64 }

func (c *frozenClock) now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *frozenClock) add(d time.Duration) { c.ns.Add(int64(d)) }
func newFrozenClock() *frozenClock         { c := &frozenClock{}; c.ns.Store(time.Now().UnixNano()); return c }
func isErrorBody(r *bridgetest.Response) bool {
	return bridgetest.Str(r.JSON, "schemas") == "[urn:ietf:params:scim:api:messages:2.0:Error]"
}

// TestRateLimitPerCredential: a credential's burst beyond rate_limit_burst
// is answered 429 with Retry-After and an Error body, counted but not as
// an authentication failure; another credential of the endpoint (with its
// own rate_limit) is not affected; once Retry-After has passed the
// credential works again; a /Bulk request counts once.
func TestRateLimitPerCredential(t *testing.T) {
	cfg := strings.Replace(memoryConfig, "max_body_bytes = 65536", "max_body_bytes = 65536\n  rate_limit = 10\n  rate_limit_burst = 3", 1)
	cfg = strings.Replace(cfg, bridgetest.TokenBlock, `auth {
    token "test" { value = "`+bridgetest.Token+`" }
    token "other" {
      value            = "`+otherToken+`"
      rate_limit       = 1
      rate_limit_burst = 2
    }
  }`, 1)
	logs := &bridgetest.LogBuffer{}
	srv := bridgetest.StartLogged(t, cfg, map[string]config.BackendType{"memory": bridgetest.Static(newMemory())}, logs)
	clock := newFrozenClock()
	bridge.SetRateClock(srv.Bridge, clock.now)
	c := bridgetest.NewClient(t, srv.URL+"/scim/v2")
	other := bridgetest.NewClient(t, srv.URL+"/scim/v2")
	other.Auth = "Bearer " + otherToken
	wrong := bridgetest.NewClient(t, srv.URL+"/scim/v2")
	wrong.Auth = "Bearer sb_wrong_Ht5Kq9Zm2Lx7Vc4Nb8Pw1Dr3"

	// Refused credentials take nothing from a bucket (they are the
	// business of auth_failure_limit).
	for range 3 {
		wrong.Must(401, "GET", "/Users", nil)
	}
	for i := range 3 {
		c.Must(200, "GET", fmt.Sprintf("/Users?startIndex=%d", i+1), nil)
	}
	r := c.Do("GET", "/Users", nil)
	if r.Status != 429 {
		t.Fatalf("request 4 of a burst of 3: status %d: %s", r.Status, r.Body)
	}
	if ra := r.Header.Get("Retry-After"); ra != "1" {
		t.Errorf("Retry-After %q, want 1 (a request every 100 ms)", ra)
	}
	if !isErrorBody(r) || bridgetest.Str(r.JSON, "status") != "429" || !strings.Contains(bridgetest.Str(r.JSON, "detail"), "10 a second") {
		t.Errorf("the 429's body: %s", r.Body)
	}
	// The other credential on the same endpoint has its own bucket.
	other.Must(200, "GET", "/Users", nil)
	other.Must(200, "GET", "/Users", nil)
	r = other.Do("GET", "/Users", nil)
	if r.Status != 429 || r.Header.Get("Retry-After") != "1" || !strings.Contains(bridgetest.Str(r.JSON, "detail"), "1 a second") {
		t.Errorf("the other credential's third request: %d Retry-After %q: %s", r.Status, r.Header.Get("Retry-After"), r.Body)
	}
	// Refusals do not drain the bucket further: after Retry-After it works.
	for range 5 {
		c.Must(429, "GET", "/Users", nil)
	}
	clock.add(time.Second)
	c.Must(200, "GET", "/Users", nil)
	other.Must(200, "GET", "/Users", nil)

	// /Bulk counts once, however many operations it has.
	clock.add(time.Second)
	r = c.Must(200, "POST", "/Bulk", bulkBody(bulkPost(1, ""), bulkPost(2, ""), bulkPost(3, ""), bulkPost(4, "")))
	if strings.Count(string(r.Body), `"status":"201"`) != 4 {
		t.Errorf("bulk: %s", r.Body)
	}
	c.Must(200, "GET", "/Users", nil)
	c.Must(200, "GET", "/Users", nil)
	c.Must(429, "POST", "/Bulk", bulkBody(bulkPost(5, "")))

	if got := counter(t, srv, "scimbridge_rate_limited_total", map[string]string{"endpoint": "test", "credential": "test"}); got != 7 {
		t.Errorf("scimbridge_rate_limited_total for test: %v, want 7", got)
	}
	if got := counter(t, srv, "scimbridge_rate_limited_total", map[string]string{"credential": "other"}); got != 1 {
		t.Errorf("scimbridge_rate_limited_total for other: %v, want 1", got)
	}
	if got := counter(t, srv, "scimbridge_auth_failures_total", nil); got != 3 {
		t.Errorf("scimbridge_auth_failures_total: %v, want the 3 wrong tokens only", got)
	}
	// One warning a credential a minute; the other refusals at debug.
	if n := strings.Count(logs.String(), "rate limit reached"); n != 2 {
		t.Errorf("%d rate-limit lines at info or above, want 2 (one per credential):\n%s", n, logs.String())
	}
}

// TestRateLimitOff: with rate_limit = 0 (the default) a credential makes
// any number of requests, and one with its own rate_limit is limited
// (burst: twice its rate).
func TestRateLimitOff(t *testing.T) {
	cfg := strings.Replace(memoryConfig, bridgetest.TokenBlock, `auth {
    token "test" { value = "`+bridgetest.Token+`" }
    token "other" {
      value      = "`+otherToken+`"
      rate_limit = 1
    }
  }`, 1)
	srv := bridgetest.Start(t, cfg, map[string]config.BackendType{"memory": bridgetest.Static(newMemory())})
	bridge.SetRateClock(srv.Bridge, newFrozenClock().now)
	c := bridgetest.NewClient(t, srv.URL+"/scim/v2")
	for range 20 {
		c.Must(200, "GET", "/Users", nil)
	}
	other := bridgetest.NewClient(t, srv.URL+"/scim/v2")
	other.Auth = "Bearer " + otherToken
	other.Must(200, "GET", "/Users", nil)
	other.Must(200, "GET", "/Users", nil)
	other.Must(429, "GET", "/Users", nil)
}

// gated holds every Create until release is closed (or gets a value),
// telling entered when one arrives.
type gated struct {
	backends.Backend
	entered chan struct{}
	release chan struct{}
	inside  atomic.Int32
	most    atomic.Int32
}

func (g *gated) Create(ctx context.Context, rt string, attrs backends.Attrs) (backends.Record, error) {
	n := g.inside.Add(1)
	defer g.inside.Add(-1)
	for {
		m := g.most.Load()
		if n <= m || g.most.CompareAndSwap(m, n) {
			break
		}
	}
	g.entered <- struct{}{}
	<-g.release
	return g.Backend.Create(ctx, rt, attrs)
}

func limitConfig(max int, wait string) string {
	return strings.Replace(memoryConfig, "max_body_bytes = 65536",
		fmt.Sprintf("max_body_bytes = 65536\n  rate_limit = 0\n  backend_max_concurrency = %d\n  backend_queue_timeout = %q", max, wait), 1)
}

// TestBackendConcurrencyLimit: with backend_max_concurrency operations
// held inside the backend, another request waits; it gets 503 with
// Retry-After and an Error body after backend_queue_timeout, or goes on
// when a slot frees.
func TestBackendConcurrencyLimit(t *testing.T) {
	for _, wait := range []string{"200ms", "60s"} {
		t.Run(wait, func(t *testing.T) {
			g := &gated{Backend: newMemory(), entered: make(chan struct{}, 8), release: make(chan struct{}, 8)}
			srv := bridgetest.Start(t, limitConfig(2, wait), map[string]config.BackendType{"memory": bridgetest.Static(g)})
			c := bridgetest.NewClient(t, srv.URL+"/scim/v2")
			var wg sync.WaitGroup
			statuses := make(chan int, 8)
			post := func(name string) {
				defer wg.Done()
				cl := *c
				statuses <- cl.Do("POST", "/Users", map[string]any{"userName": name}).Status
			}
			wg.Add(2)
			go post("held.1")
			go post("held.2")
			<-g.entered
			<-g.entered
			if wait == "200ms" {
				r := c.Do("GET", "/Users", nil)
				if r.Status != 503 || r.Header.Get("Retry-After") != "2" || !isErrorBody(r) || bridgetest.Str(r.JSON, "status") != "503" {
					t.Errorf("a third operation while 2 are held: %d Retry-After %q: %s", r.Status, r.Header.Get("Retry-After"), r.Body)
				}
				if got := counter(t, srv, "scimbridge_backend_busy_total", map[string]string{"backend": "mem"}); got != 1 {
					t.Errorf("scimbridge_backend_busy_total: %v", got)
				}
			} else {
				third := make(chan *bridgetest.Response, 1)
				go func() { cl := *c; third <- cl.Do("POST", "/Users", map[string]any{"userName": "waiting"}) }()
				select {
				case r := <-third:
					t.Fatalf("a third operation ran while 2 slots were held: %d %s", r.Status, r.Body)
				case <-g.entered:
					t.Fatal("a third operation reached the backend while 2 slots were held")
				case <-time.After(300 * time.Millisecond):
				}
				g.release <- struct{}{} // one held create ends: its slot frees
				<-g.entered             // the waiting one is let in
				close(g.release)
				if r := <-third; r.Status != 201 {
					t.Errorf("the waiting operation: %d %s", r.Status, r.Body)
				}
			}
			if wait == "200ms" {
				close(g.release)
			}
			wg.Wait()
			close(statuses)
			for s := range statuses {
				if s != 201 {
					t.Errorf("a held create answered %d", s)
				}
			}
			if got := g.most.Load(); got > 2 {
				t.Errorf("%d operations were inside the backend at once, want at most 2", got)
			}
		})
	}
}

// TestBackendConcurrencyLimitBulk: a /Bulk request holds one slot and
// runs its operations in it, so with backend_max_concurrency = 1 it does
// not wait on itself.
func TestBackendConcurrencyLimitBulk(t *testing.T) {
	srv := bridgetest.Start(t, limitConfig(1, "200ms"), map[string]config.BackendType{"memory": bridgetest.Static(newMemory())})
	c := bridgetest.NewClient(t, srv.URL+"/scim/v2")
	r := c.Must(200, "POST", "/Bulk", bulkBody(bulkPost(1, ""), bulkPost(2, ""),
		map[string]any{"method": "POST", "path": "/Groups", "bulkId": "g", "data": map[string]any{
			"displayName": "bulk.group", "members": []any{map[string]any{"value": "bulkId:b1"}, map[string]any{"value": "bulkId:b2"}}}}))
	var out struct{ Operations []struct{ Status string } }
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Operations) != 3 {
		t.Fatalf("bulk answered %d operations: %s", len(out.Operations), r.Body)
	}
	for _, op := range out.Operations {
		if op.Status != "201" {
			t.Errorf("bulk operation: status %s: %s", op.Status, r.Body)
		}
	}
	// The slot is free again.
	c.Must(200, "GET", "/Users", nil)
}
