package bridge_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/config"
)

// floodConfig is memoryConfig with small limits, so that a flood is quick
// to send: 1 MiB bodies, 8 MiB for all the bodies in flight.
func floodConfig(extra string) string {
	return strings.Replace(memoryConfig, "max_body_bytes = 65536",
		"max_body_bytes = 1048576\n  max_body_memory = 8388608\n"+extra, 1)
}

// heapWatch samples the heap while a flood runs and reports its peak
// growth over the heap before it.
type heapWatch struct {
	base, peak uint64
	stop       chan struct{}
	done       sync.WaitGroup
}

func watchHeap() *heapWatch {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	w := &heapWatch{base: ms.HeapInuse, peak: ms.HeapInuse, stop: make(chan struct{})}
	w.done.Add(1)
	go func() {
		defer w.done.Done()
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-t.C:
				runtime.ReadMemStats(&ms)
				w.peak = max(w.peak, ms.HeapInuse)
			}
		}
	}()
	return w
}

func (w *heapWatch) growth() uint64 {
	close(w.stop)
	w.done.Wait()
	return w.peak - w.base
}

// flood sends n requests at once, each on its own connection, and counts
// the answers by status.
func flood(t *testing.T, url string, n int, header map[string]string, body []byte) map[int]int {
	t.Helper()
	var mu sync.Mutex
	statuses := map[int]int{}
	var retryAfter atomic.Bool
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, DisableCompression: true}}
			req, _ := http.NewRequestWithContext(context.Background(), "POST", url, bytes.NewReader(body))
			for k, v := range header {
				req.Header.Set(k, v)
			}
			<-start
			resp, err := cl.Do(req)
			status := -1
			if err == nil {
				status = resp.StatusCode
				if status == 503 && resp.Header.Get("Retry-After") != "" {
					retryAfter.Store(true)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			mu.Lock()
			statuses[status]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	if statuses[503] > 0 && !retryAfter.Load() {
		t.Errorf("503 answers without Retry-After")
	}
	return statuses
}

// TestFloodsStayWithinMemory: the credentials are checked before a body is
// read or decoded, so a flood of gzip bombs and large bodies without
// credentials costs no memory; with credentials, the bodies in flight stay
// within max_body_memory and the rest are told to retry (503). The bounds
// are generous (several times what the fix holds, a tenth of what the
// server held before it); nothing is stored by a refused request.
func TestFloodsStayWithinMemory(t *testing.T) {
	srv := bridgetest.Start(t, floodConfig(""), map[string]config.BackendType{"memory": bridgetest.Static(newMemory())})
	url := srv.URL + "/scim/v2/Users"
	c := bridgetest.NewClient(t, srv.URL+"/scim/v2")

	bomb := gzipped(t, `{"userName":"bomb","title":"`+strings.Repeat("0", 1<<20-40)+`"}`)
	large := []byte(`{"userName":"large","title":"` + strings.Repeat("x", 1<<20-40) + `"}`)
	many := []byte(`{"userName":"many","emails":[` + strings.Repeat(`{},`, (1<<20-40)/3) + `{}]}`)

	// Without credentials: 401 for each, whatever the body.
	for _, tc := range []struct {
		name   string
		header map[string]string
		body   []byte
	}{
		{"gzip bombs", map[string]string{"Content-Encoding": "gzip", "Content-Type": "application/scim+json"}, bomb},
		{"large bodies", map[string]string{"Content-Type": "application/scim+json"}, large},
	} {
		w := watchHeap()
		st := flood(t, url, 50, tc.header, tc.body)
		g := w.growth()
		t.Logf("%s without credentials: %v, heap growth %d KiB", tc.name, st, g>>10)
		if st[401] != 50 {
			t.Errorf("%s without credentials: %v, want 50 × 401", tc.name, st)
		}
		if g > 12<<20 {
			t.Errorf("%s without credentials: the heap grew by %d MiB", tc.name, g>>20)
		}
	}

	// With credentials: up to 8 MiB of bodies in flight, the others 503.
	for _, tc := range []struct {
		name   string
		header map[string]string
		body   []byte
	}{
		{"gzip bombs", map[string]string{"Content-Encoding": "gzip"}, bomb},
		{"large bodies", nil, large},
		{"many values", nil, many},
	} {
		h := map[string]string{"Authorization": "Bearer " + bridgetest.Token, "Content-Type": "application/scim+json"}
		for k, v := range tc.header {
			h[k] = v
		}
		w := watchHeap()
		st := flood(t, url, 200, h, tc.body)
		g := w.growth()
		t.Logf("%s with credentials: %v, heap growth %d KiB", tc.name, st, g>>10)
		for status, n := range st {
			if status != 201 && status != 400 && status != 409 && status != 413 && status != 503 {
				t.Errorf("%s with credentials: %d answers %d", tc.name, n, status)
			}
		}
		if st[503] == 0 {
			t.Errorf("%s with credentials: %v, want some 503 (200 bodies of 1 MiB, 8 MiB allowed)", tc.name, st)
		}
		if g > 64<<20 {
			t.Errorf("%s with credentials: the heap grew by %d MiB", tc.name, g>>20)
		}
	}
	if got := gauge(t, srv, "scimbridge_body_memory_bytes"); got != 0 {
		t.Errorf("body memory after the floods: %v, want 0", got)
	}
	if got := gauge(t, srv, "scimbridge_body_budget_refusals_total"); got == 0 {
		t.Errorf("no budget refusal counted")
	}
	// The server still serves.
	c.Must(201, "POST", "/Users", map[string]any{"userName": "after-the-flood"})
}

func gauge(t *testing.T, srv *bridgetest.Server, name string) float64 {
	t.Helper()
	v, ok := srv.Metric(t, name, nil)
	if !ok {
		t.Fatalf("no metric %s", name)
	}
	return v
}

// TestBodyReadAfterAuthentication: a refused request's body is never
// read into memory: without credentials or scope the answer is 401/403
// (not 413, not a decoding error), and the keep-alive connection carries
// the next request.
func TestBodyReadAfterAuthentication(t *testing.T) {
	srv := bridgetest.Start(t, floodConfig(""), map[string]config.BackendType{"memory": bridgetest.Static(newMemory())})
	c := bridgetest.NewClient(t, srv.URL+"/scim/v2")
	// Over max_body_bytes, within what is read and dropped to keep the
	// connection (twice the limit).
	tooBig := `{"userName":"x","title":"` + strings.Repeat("x", 3<<19) + `"}`
	for _, tc := range []struct {
		name, auth string
		header     map[string]string
		body       any
		status     int
	}{
		{"oversized, no credentials", "-", nil, tooBig, 401},
		{"broken gzip, no credentials", "-", map[string]string{"Content-Encoding": "gzip"}, "not gzip", 401},
		{"unknown encoding, wrong token", "Bearer 9f2c5e7a1b3d4f6e8a0c2e4f6a8b0d1e", map[string]string{"Content-Encoding": "br"}, "x", 401},
		{"oversized, with credentials", "", nil, tooBig, 413},
		{"broken gzip, with credentials", "", map[string]string{"Content-Encoding": "gzip"}, "not gzip", 400},
	} {
		cl := *c
		cl.T = t
		cl.Headers = tc.header
		if tc.auth == "-" {
			cl.Auth = ""
		} else if tc.auth != "" {
			cl.Auth = tc.auth
		}
		for i := 0; i < 3; i++ { // on one keep-alive connection
			if r := cl.Do("POST", "/Users", tc.body); r.Status != tc.status {
				t.Fatalf("%s: %d %s, want %d", tc.name, r.Status, r.Body, tc.status)
			}
		}
		c.Must(200, "GET", "/Users?count=1", nil)
	}
}

// TestSlowHeadersAreCut: a client that sends its headers slowly loses its
// connection after header_timeout; a client may hold at most
// max_connections connections.
func TestSlowHeadersAreCut(t *testing.T) {
	srv := bridgetest.Start(t, floodConfig("  header_timeout = \"300ms\"\n"),
		map[string]config.BackendType{"memory": bridgetest.Static(newMemory())})
	addr := strings.TrimPrefix(srv.URL, "http://")

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /scim/v2/Users HTTP/1.1\r\nHost: x\r\n")
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.ReadAll(conn); err != nil {
		t.Fatalf("the server kept a connection with unfinished headers: %v", err)
	}

	// Four connections busy with unfinished headers; a fifth is refused.
	srv = bridgetest.Start(t, floodConfig("  header_timeout = \"1m\"\n  max_connections = 4\n"),
		map[string]config.BackendType{"memory": bridgetest.Static(newMemory())})
	addr = strings.TrimPrefix(srv.URL, "http://")
	var held []net.Conn
	for i := 0; i < 4; i++ {
		h, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		fmt.Fprintf(h, "GET /healthz HTTP/1.1\r\n")
		held = append(held, h)
	}
	time.Sleep(50 * time.Millisecond)
	extra, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	fmt.Fprintf(extra, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	_ = extra.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(extra), nil)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != 503 {
			t.Fatalf("a connection past max_connections: %d", resp.StatusCode)
		}
	}
	for _, h := range held {
		h.Close()
	}
}
