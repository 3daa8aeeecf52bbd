package rest_test

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/bridge/bridgetest"
)

// TestRetries: 503 and 429 are tried again for every method, honouring
// Retry-After; 502 only for idempotent requests; a lasting 503 reaches the
// IdP as 503 with Retry-After.
func TestRetries(t *testing.T) {
	s := serveJSONServer(t, serveOpts{relay: true})
	c := s.c
	uid := bridgetest.Str(c.Must(201, "POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": "retry"}).JSON, "id")
	// refuse answers status to the first n requests of method, then forwards.
	refuse := func(method string, n int, status int, retryAfter string) {
		var left atomic.Int32
		left.Store(int32(n))
		s.relay.set(func(r *http.Request) (int, http.Header, []byte, bool) {
			if r.Method == method && left.Add(-1) >= 0 {
				h := http.Header{"Content-Type": {"application/json"}}
				if retryAfter != "" {
					h.Set("Retry-After", retryAfter)
				}
				return status, h, []byte(`{}`), true
			}
			return 0, nil, nil, false
		}, nil)
		s.relay.requests()
	}
	count := func(method string) int {
		n := 0
		for _, r := range s.relay.requests() {
			if r.Method == method && !strings.HasPrefix(r.RequestURI, "/groups") {
				n++
			}
		}
		return n
	}
	// A POST answered 503 (Retry-After: 0) and then 429: tried a third time, created once.
	refuse("POST", 2, http.StatusServiceUnavailable, "0")
	c.Must(201, "POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": "retry-post"})
	if n := count("POST"); n != 3 {
		t.Errorf("POST after two 503s: %d attempts, want 3", n)
	}
	// A GET answered 502 once: tried again.
	refuse("GET", 1, http.StatusBadGateway, "")
	c.Must(200, "GET", "/Users/"+uid, nil)
	if n := count("GET"); n != 2 {
		t.Errorf("GET after a 502: %d attempts, want 2", n)
	}
	// A PUT (the rewrite of a PATCH) answered 502 once: tried again.
	refuse("PUT", 1, http.StatusBadGateway, "")
	c.Must(200, "PATCH", "/Users/"+uid, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "replace", "path": "title", "value": "Tester"}}})
	if n := count("PUT"); n != 2 {
		t.Errorf("PUT after a 502: %d attempts, want 2", n)
	}
	// A POST answered 502: not repeated (it may have been carried out);
	// the IdP gets 503 and retries itself.
	refuse("POST", 1, http.StatusBadGateway, "")
	if r := c.Do("POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": "retry-502"}); r.Status != 503 {
		t.Errorf("POST answered 502: %d %s, want 503", r.Status, r.Body)
	}
	if n := count("POST"); n != 1 {
		t.Errorf("POST answered 502: %d attempts, want 1", n)
	}
	// The API stays at 503: the IdP gets 503 with Retry-After after the
	// configured attempts.
	refuse("GET", 100, http.StatusServiceUnavailable, "0")
	r := c.Do("GET", "/Users/"+uid, nil)
	if r.Status != 503 || r.Header.Get("Retry-After") == "" {
		t.Errorf("lasting 503: %d (Retry-After %q) %s, want 503 with Retry-After", r.Status, r.Header.Get("Retry-After"), r.Body)
	}
	if n := count("GET"); n != 3 {
		t.Errorf("lasting 503: %d attempts, want 3 (retry.attempts)", n)
	}
	s.relay.set(nil, nil)
}

// TestConcurrencyLimit: with max_concurrency = 2, never more than two
// requests are at the API at once, over at most two connections, however
// many SCIM requests come in.
func TestConcurrencyLimit(t *testing.T) {
	s := serveJSONServer(t, serveOpts{relay: true, edits: [][2]string{{"max_concurrency = 4", "max_concurrency = 2"}}})
	// Reads (writes of unique names are serialized by the bridge anyway).
	uid := bridgetest.Str(s.c.Must(201, "POST", "/Users", map[string]any{"schemas": []string{coreUser}, "userName": "par"}).JSON, "id")
	var inflight, peak atomic.Int32
	s.relay.set(func(*http.Request) (int, http.Header, []byte, bool) {
		n := inflight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond) // hold the request so that others pile up
		inflight.Add(-1)
		return 0, nil, nil, false
	}, nil)
	s.relay.requests()
	var wg sync.WaitGroup
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := *s.c
			c.T = t
			c.Must(200, "GET", "/Users/"+uid, nil)
		}()
	}
	wg.Wait()
	conns := map[string]bool{}
	for _, r := range s.relay.requests() {
		conns[r.RemoteAddr] = true
	}
	if p := peak.Load(); p > 2 {
		t.Errorf("%d requests at the API at once, max_concurrency is 2", p)
	}
	if len(conns) > 2 {
		t.Errorf("%d connections to the API, want at most 2 (reused)", len(conns))
	}
	t.Logf("peak %d requests at once over %d connections", peak.Load(), len(conns))
	_ = strings.TrimSpace
}
