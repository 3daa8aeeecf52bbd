// Package servertest holds what the real-server test harnesses (ldaptest,
// pgtest, mariadbtest) share: free loopback ports, log tails, and one
// server per test package, started on first use, that skips the tests
// when the server is not installed — or fails them under
// SCIMBRIDGE_REQUIRE_SERVERS=1, as CI sets.
package servertest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Required reports whether a missing server fails tests instead of
// skipping them.
func Required() bool { return os.Getenv("SCIMBRIDGE_REQUIRE_SERVERS") == "1" }

// FreePort returns a TCP port free on 127.0.0.1 at the time of the call.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Tail returns at most the last n bytes of b (the end of a server log).
func Tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// TailFiles returns the ends (at most 4000 bytes each) of the files that
// exist and are not empty, each under a "--- <base name>:" line: a
// server's logs for a failure message.
func TailFiles(paths ...string) string {
	var b bytes.Buffer
	for _, p := range paths {
		if data, err := os.ReadFile(p); err == nil && len(data) > 0 {
			fmt.Fprintf(&b, "--- %s:\n%s\n", filepath.Base(p), Tail(data, 4000))
		}
	}
	return b.String()
}

// Shared is the one server of a test package.
type Shared[T any] struct {
	// Name prefixes messages ("pgtest").
	Name string
	// NotInstalled is the error Start wraps when the server's binaries are
	// missing.
	NotInstalled error
	// Start starts the server; Stop stops it and removes its files.
	Start func() (T, error)
	Stop  func(T)

	once    sync.Once
	srv     T
	err     error
	started bool
	wrapped bool
}

// Wrap runs run (m.Run, or another harness's Wrap of it) and stops the
// server afterwards, if a test started it. Harnesses compose in one
// TestMain: os.Exit(pgtest.Wrap(func() int { return mariadbtest.Wrap(m.Run) })).
func (s *Shared[T]) Wrap(run func() int) int {
	s.wrapped = true
	code := run()
	if s.started {
		s.Stop(s.srv)
	}
	return code
}

// Get returns the server, starting it on first use.
func (s *Shared[T]) Get(t testing.TB) T {
	t.Helper()
	if !s.wrapped {
		t.Fatalf("%s: the shared server is used without %s.Main or %s.Wrap in TestMain", s.Name, s.Name, s.Name)
	}
	s.once.Do(func() {
		s.srv, s.err = s.Start()
		s.started = s.err == nil
	})
	switch {
	case s.err != nil && errors.Is(s.err, s.NotInstalled):
		if Required() {
			t.Fatalf("%v (SCIMBRIDGE_REQUIRE_SERVERS=1)", s.err)
		}
		t.Skip(s.err.Error())
	case s.err != nil:
		t.Fatalf("%s: %v", s.Name, s.err)
	}
	return s.srv
}

// HTTPReady returns a readiness check for Process.Start: a GET of url
// answers 200 within 2 seconds.
func HTTPReady(url string) func() error {
	return func() error {
		c := &http.Client{Timeout: 2 * time.Second}
		resp, err := c.Get(url)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		return nil
	}
}
