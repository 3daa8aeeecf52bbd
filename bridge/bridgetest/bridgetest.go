// Package bridgetest starts a real scimbridge HTTP server on a loopback
// port for tests, and offers a small SCIM client for them.
package bridgetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/bridge/config"
)

// Token is the bearer token test configurations accept (see TokenBlock).
const Token = "sb_test_B7Gq-5TNDk5kBL8Dzhq5NRdxK5FxwdXz"

// TokenBlock is an auth block accepting Token.
const TokenBlock = `auth {
    token "test" { value = "` + Token + `" }
  }`

// Static returns a backend type that hands out an already opened backend,
// so that tests can configure the in-memory backend (or one they started
// themselves) through HCL endpoints and mappings.
func Static(b backends.Backend) backends.Kind {
	return backends.Kind{
		Decode: func(body hcl.Body, _ *hcl.EvalContext) (any, hcl.Diagnostics) {
			_, diags := body.JustAttributes()
			return nil, diags
		},
		Open: func(context.Context, any, hclog.Logger) (backends.Backend, error) { return b, nil },
	}
}

// Server is a live scimbridge.
type Server struct {
	URL      string // scheme://host:port, without base path
	Bridge   *bridge.Server
	Config   *config.Config
	Backends map[string]backends.Backend
}

// StartFile serves the configuration file at path (a shipped example)
// with env set for the test and SCIMBRIDGE_TOKEN set to Token.
func StartFile(t *testing.T, path string, env map[string]string, types map[string]backends.Kind) *Server {
	t.Helper()
	text := EditFile(t, path)
	for k, v := range env {
		t.Setenv(k, v)
	}
	t.Setenv("SCIMBRIDGE_TOKEN", Token)
	return Start(t, text, types)
}

// EditFile returns the text of the file at path with each edit's first
// string replaced by its second, once; the test fails when a first string
// is not in the text (the file changed under the test).
func EditFile(t testing.TB, path string, edits ...[2]string) string {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	for _, e := range edits {
		if !strings.Contains(text, e[0]) {
			t.Fatalf("%s no longer holds %q", path, e[0])
		}
		text = strings.Replace(text, e[0], e[1], 1)
	}
	return text
}

// Start writes configText to a temporary file, loads it with the given
// backend types, opens the backends, checks the mappings against them as
// serve does (config.CheckBackends; an error fails the test) and serves on
// 127.0.0.1. The server and the backends stop when the test ends.
func Start(t testing.TB, configText string, types map[string]backends.Kind) *Server {
	t.Helper()
	return StartWith(t, configText, types, Options{})
}

// Options change what StartWith does.
type Options struct {
	// Unchecked serves without checking the mappings against the stores,
	// as serve does when a directory cannot describe itself at start.
	Unchecked bool
	// Log, when set, receives the server's log (warnings and errors) as
	// well as the test's log.
	Log io.Writer
	// InfoJSON logs from level info on, as JSON lines (one object per
	// line), for tests of what is logged.
	InfoJSON bool
}

// StartLogged is Start with the server's log at level info written to
// logs as JSON lines.
func StartLogged(t testing.TB, configText string, types map[string]backends.Kind, logs io.Writer) *Server {
	t.Helper()
	return StartWith(t, configText, types, Options{Log: logs, InfoJSON: true})
}

// StartWith is Start with options.
func StartWith(t testing.TB, configText string, types map[string]backends.Kind, opts Options) *Server {
	t.Helper()
	var out io.Writer = testWriter{t}
	if opts.Log != nil {
		out = io.MultiWriter(out, opts.Log)
	}
	lo := &hclog.LoggerOptions{Name: "test", Level: hclog.Warn, Output: out}
	if opts.InfoJSON {
		lo.Level, lo.JSONFormat = hclog.Info, true
	}
	log := hclog.New(lo)
	cfg, opened := open(t, configText, types, log)
	if !opts.Unchecked {
		if diags := config.CheckBackends(context.Background(), cfg, opened); diags.HasErrors() {
			t.Fatalf("the configuration does not fit the stores: %s", diags.Error())
		}
	}
	srv, err := bridge.New(cfg, opened, log)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.App.Listener(ln) }()
	t.Cleanup(func() {
		_ = srv.App.ShutdownWithTimeout(5 * time.Second)
		srv.Close()
	})
	return &Server{URL: "http://" + ln.Addr().String(), Bridge: srv, Config: cfg, Backends: opened}
}

// Check loads configText, opens its backends (closed when the test ends)
// and returns what checking the mappings against them finds, as serve
// would print it before refusing to start.
func Check(t testing.TB, configText string, types map[string]backends.Kind) hcl.Diagnostics {
	t.Helper()
	cfg, opened := open(t, configText, types, hclog.New(&hclog.LoggerOptions{Name: "test", Level: hclog.Warn, Output: testWriter{t}}))
	return config.CheckBackends(context.Background(), cfg, opened)
}

// CheckLive is Check as `validate --live` runs it: with the backends'
// own live checks, the store's unique keys and types, and (opts) the
// write probe.
func CheckLive(t testing.TB, configText string, types map[string]config.BackendType, opts config.LiveOptions) hcl.Diagnostics {
	t.Helper()
	cfg, opened := open(t, configText, types, hclog.New(&hclog.LoggerOptions{Name: "test", Level: hclog.Warn, Output: testWriter{t}}))
	return config.CheckLive(context.Background(), cfg, opened, opts)
}

// open writes configText to a temporary file, loads it and opens its
// backends, which close when the test ends.
func open(t testing.TB, configText string, types map[string]backends.Kind, log hclog.Logger) (*config.Config, map[string]backends.Backend) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "scimbridge.hcl")
	if err := os.WriteFile(path, []byte(configText), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, diags := config.Load(path, types, map[string]any{"listen": "127.0.0.1:0"})
	if diags.HasErrors() {
		t.Fatalf("config: %s", diags.Error())
	}
	opened := map[string]backends.Backend{}
	t.Cleanup(func() {
		for _, b := range opened {
			_ = b.Close()
		}
	})
	for name, b := range cfg.Backends {
		be, err := types[b.Type].Open(context.Background(), b.Config, log)
		if err != nil {
			t.Fatalf("open backend %s: %v", name, err)
		}
		opened[name] = be
	}
	return cfg, opened
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// Client is a minimal SCIM client for tests.
type Client struct {
	T       testing.TB
	Base    string // URL including the endpoint's base path
	Auth    string // Authorization header value
	HTTP    *http.Client
	Headers map[string]string
}

// NewClient returns a client for base (server URL + base path) using Token.
func NewClient(t testing.TB, base string) *Client {
	return &Client{T: t, Base: base, Auth: "Bearer " + Token, HTTP: &http.Client{Timeout: 60 * time.Second}}
}

// Response is a decoded answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	JSON   map[string]any
}

// Do sends a request; body may be nil, a string (sent as is) or a value
// (encoded as JSON).
func (c *Client) Do(method, path string, body any) *Response {
	c.T.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			c.T.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, c.Base+path, rd)
	if err != nil {
		c.T.Fatal(err)
	}
	if c.Auth != "" {
		req.Header.Set("Authorization", c.Auth)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	for k, v := range c.Headers {
		req.Header.Set(k, v)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		c.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	r := &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
	if len(data) > 0 {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		_ = dec.Decode(&r.JSON)
	}
	return r
}

// Must fails the test unless the status is want, and returns the response.
func (c *Client) Must(want int, method, path string, body any) *Response {
	c.T.Helper()
	r := c.Do(method, path, body)
	if r.Status != want {
		c.T.Fatalf("%s %s: status %d, want %d; body: %s", method, path, r.Status, want, r.Body)
	}
	return r
}

// Str returns a string property of a JSON object by dotted path ("name.givenName").
func Str(m map[string]any, path ...string) string {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = mm[p]
	}
	if cur == nil {
		return ""
	}
	return fmt.Sprint(cur)
}

// Metric returns the sum over the series of the metric called name in
// the bridge's registry whose labels include labels (counters' and
// gauges' values, histograms' sample counts); found is false when there
// is no such series.
func (s *Server) Metric(t testing.TB, name string, labels map[string]string) (value float64, found bool) {
	t.Helper()
	families, err := s.Bridge.Metrics.Registry.Gather()
	if err != nil {
		t.Fatalf("gathering metrics: %v", err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue series
				}
			}
			found = true
			switch {
			case m.Counter != nil:
				value += m.GetCounter().GetValue()
			case m.Gauge != nil:
				value += m.GetGauge().GetValue()
			case m.Histogram != nil:
				value += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return value, found
}
