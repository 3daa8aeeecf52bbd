// Package jsontest starts a real json-server (0.17.4, the npm package: a
// plain REST API over one JSON file) as a child process on 127.0.0.1, for
// the tests of the REST backend.
//
// json-server is installed once with npm into the user's cache directory,
//
//	npm install --prefix <tmp> --ignore-scripts json-server@0.17.4
//
// and the result moved to os.UserCacheDir()/scimbridge/json-server-0.17.4
// (on Linux $XDG_CACHE_HOME or ~/.cache), under a file lock so that test
// packages starting at the same time wait for one install. It needs node
// and npm (Debian: apt-get install nodejs npm). When they are missing or
// the npm registry cannot be reached the tests skip, or fail under
// SCIMBRIDGE_REQUIRE_SERVERS=1.
//
// json-server reads its resources (the top-level keys of the file) at
// start and cannot add one later, so every Start is a fresh process with a
// fresh file, {"users": [], "groups": []}, stopped when the test ends:
//
//	func TestX(t *testing.T) {
//		srv := jsontest.Start(t)  // skips when node/npm are missing
//		env := srv.Env()          // REST_BASE_URL for examples/json-server.hcl
//		...
//	}
//
// Clients reach json-server through a TCP relay on Port (the gate). Kill
// closes the gate, so that no request reaches json-server any more, waits
// until the file holds every write it made, then crashes the server with
// SIGKILL; Restart starts it again and opens the gate on the same port,
// with the same file. KillNow crashes it at once, which may lose the last writes
// (see Durability).
//
// # What json-server 0.17.4 does (from its source; the self-test checks what a backend relies on)
//
// Routes, for a resource such as users: GET /users, GET /users/{id},
// POST /users, PUT /users/{id}, PATCH /users/{id}, DELETE /users/{id};
// GET /db answers the whole file. A resource that is not in the file
// answers 404 {}.
//
// Ids. POST keeps an id the client sends (any JSON value but 0, "", false
// or null, compared as strings: 2 and "2" are the same id). Without one,
// json-server makes one: 1 in an empty resource; else it takes the largest
// id (lodash maxBy: JavaScript > over the records in file order, so with
// numbers and strings mixed the result depends on the order) and answers
// that number plus one when it is a number, a random nanoid(7) such as
// "V1StGXR" when it is a string. Numeric ids are JSON numbers in answers and
// in the file. A POST with an id that exists answers 500 with an HTML stack
// trace (not 409), and writes nothing. Nothing else is checked: no unique
// fields, no schema; even a JSON array as a POST body answers 201.
//
// Answers. POST: 201 with the stored record and a Location header.
// PUT: replaces the record but keeps its id (an id in the body is ignored),
// 200 with the record. PATCH: a shallow merge (a nested object such as
// name is replaced whole, not merged), id kept, 200 with the record.
// DELETE: 200 {}. PUT, PATCH, DELETE and GET of a missing id: 404 {}.
// Malformed JSON: 400 with an HTML page. GET answers carry a weak ETag
// (express) and honour If-None-Match (304); If-Match is ignored, so
// concurrency control is the client's (a version field). DELETE also
// removes, in every resource, records with a field named <singular>Id
// (foreignKeySuffix "Id": postId for posts) that points at a record which
// no longer exists; memberIds (ending in "Ids") is not such a field.
//
// Durability. The json-server command keeps the data in memory and, after
// every POST, PUT, PATCH and DELETE, rewrites the whole file — but
// asynchronously, after the answer is on its way: lowdb's FileAsync adapter
// through steno, which writes a temporary file (.~db.json) and renames it
// over db.json, and coalesces writes that arrive while one is running. The
// file is therefore never torn, but a SIGKILL a few milliseconds after an
// answer can lose that write (seen while writing this harness). Kill and WaitFile
// wait until the file equals GET /db, and Kill first closes the gate (under
// load, writes kept coming while the file caught up), so a test's Kill then
// Restart keeps every answered write. (Used as a library, jsonServer.router("db.json")
// writes synchronously with FileSync instead; the harness runs the
// command.) The file is read only at start (no --watch).
//
// Filters on GET /users, all combined with AND:
//
//	field=value        the field's value, converted to a string, equals value (case-sensitive):
//	                   active=true, employeeNumber=42, id=2
//	a.b=value          a nested field (lodash path): name.givenName=Ann, emails.0.value=a@x
//	field=v1&field=v2  either value (OR)
//	field_ne=value     not equal; several _ne are all required (AND)
//	field_like=regex   case-insensitive JavaScript regular expression on the string value
//	                   (userName_like=^ann$; regex metacharacters must be escaped)
//	field_gte, _lte    value <= field, value >= field with JavaScript comparison
//	                   (numeric when the field is a number, else string order)
//	q=text             full text: any field containing text, case-insensitive
//
// An array field converts to its elements joined by commas, so
// memberIds=u1 matches only ["u1"]; use memberIds_like. A record without
// the field never matches a filter on it (not even _ne). Pitfall: a plain
// field=value parameter whose path is in NO record of the resource is
// dropped, and the answer is unfiltered — externalId=x on users that have
// no externalId answers every user (the _ne/_like/_gte/_lte forms are never
// dropped). A client has to check the records it gets back.
//
// Sorting: _sort=userName (several: _sort=a,b) and _order=asc|desc (one per
// sort field), lodash orderBy. Paging: _page=N (1-based) with _limit=M
// (default 10 when _page is given); _start/_end and _start/_limit slice.
// With _page, _limit or _end the answer has X-Total-Count (the number of
// records matching before paging) and, with _page, a Link header
// (first/prev/next/last).
package jsontest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/backends/servertest"
)

// Version is the json-server release the harness installs.
const Version = "0.17.4"

// ErrNotInstalled is returned when json-server cannot be installed.
var ErrNotInstalled = errors.New("jsontest: json-server " + Version + " cannot be installed (needs node and npm, e.g. apt-get install nodejs npm, and the npm registry)")

// Server is one running json-server.
type Server struct {
	// URL is the base URL, http://127.0.0.1:PORT (no trailing slash).
	URL string
	// DBPath is the JSON file json-server serves and rewrites.
	DBPath string
	// Port is the TCP port on 127.0.0.1.
	Port int

	node, script string
	dir          string
	proc         servertest.Process
	// json-server listens on backPort; Port is the gate in front of it.
	backPort int
	backURL  string
	gate     *gate
}

// Script returns the path of json-server's command (lib/cli/bin.js),
// installing the package first when the cache does not have it.
func Script() (string, error) {
	dir, err := servertest.Installed("json-server-"+Version, install)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "node_modules", "json-server", "lib", "cli", "bin.js"), nil
}

func install(tmp string) error {
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNotInstalled, err)
	}
	cmd := exec.Command(npm, "install", "--prefix", tmp, "--ignore-scripts", "--no-audit", "--no-fund",
		"--no-update-notifier", "json-server@"+Version)
	cmd.Dir = tmp
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: npm install: %v\n%s", ErrNotInstalled, err, servertest.Tail(out, 4000))
	}
	if _, err := os.Stat(filepath.Join(tmp, "node_modules", "json-server", "lib", "cli", "bin.js")); err != nil {
		return fmt.Errorf("%w: npm install made no json-server: %v", ErrNotInstalled, err)
	}
	return nil
}

// Start starts a fresh json-server for t with the file
// {"users": [], "groups": []}, stopped (and its directory removed) when t
// ends. It skips t when node, npm or the package are missing (fails it
// under SCIMBRIDGE_REQUIRE_SERVERS=1).
func Start(t testing.TB) *Server {
	t.Helper()
	return StartDB(t, map[string]any{"users": []any{}, "groups": []any{}})
}

// StartDB is Start with another initial file: db marshalled as JSON, an
// object whose keys are the resources (arrays of records).
func StartDB(t testing.TB, db any) *Server {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		err = fmt.Errorf("%w: %v", ErrNotInstalled, err)
	} else {
		var script string
		if script, err = Script(); err == nil {
			var s *Server
			if s, err = start(t, node, script, db); err == nil {
				return s
			}
		}
	}
	if errors.Is(err, ErrNotInstalled) && !servertest.Required() {
		t.Skip(err.Error())
	}
	if errors.Is(err, ErrNotInstalled) {
		t.Fatalf("%v (SCIMBRIDGE_REQUIRE_SERVERS=1)", err)
	}
	t.Fatalf("jsontest: %v", err)
	return nil
}

func start(t testing.TB, node, script string, db any) (*Server, error) {
	data, err := json.MarshalIndent(db, "", "  ")
	if err != nil {
		return nil, err
	}
	dir := t.TempDir()
	s := &Server{node: node, script: script, dir: dir, DBPath: filepath.Join(dir, "db.json")}
	if err := os.WriteFile(s.DBPath, data, 0o644); err != nil {
		return nil, err
	}
	var lastErr error
	for range 5 {
		if s.backPort, err = servertest.FreePort(); err != nil {
			return nil, err
		}
		s.backURL = "http://127.0.0.1:" + strconv.Itoa(s.backPort)
		if lastErr = s.start(); lastErr != nil {
			continue
		}
		if s.Port, err = servertest.FreePort(); err != nil {
			s.proc.Kill()
			return nil, err
		}
		s.URL = "http://127.0.0.1:" + strconv.Itoa(s.Port)
		s.gate = &gate{front: "127.0.0.1:" + strconv.Itoa(s.Port), back: "127.0.0.1:" + strconv.Itoa(s.backPort)}
		if lastErr = s.gate.open(); lastErr != nil {
			s.proc.Kill()
			continue
		}
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("jsontest: json-server log:\n%s", s.Log())
			}
			s.gate.cut()
			s.proc.Signal(syscall.SIGTERM, 10*time.Second)
		})
		return s, nil
	}
	return nil, fmt.Errorf("starting json-server: %w\n%s", lastErr, s.Log())
}

func (s *Server) start() error {
	logf, err := os.OpenFile(filepath.Join(s.dir, "json-server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	// The working directory is the test's own: json-server reads
	// ./json-server.json (options) and ./public (static files) from it.
	cmd := exec.Command(s.node, s.script, "--host", "127.0.0.1", "--port", strconv.Itoa(s.backPort), s.DBPath)
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	return s.proc.Start(cmd, s.ping, 30*time.Second)
}

func (s *Server) ping() error { return servertest.HTTPReady(s.backURL + "/db")() }

// Env is the environment examples/json-server.hcl reads: REST_BASE_URL.
func (s *Server) Env() map[string]string {
	return map[string]string{"REST_BASE_URL": s.URL}
}

// Records returns the records of resource as GET /<resource> answers them,
// in the file's order.
func (s *Server) Records(t testing.TB, resource string) []map[string]any {
	t.Helper()
	c := &http.Client{Timeout: time.Minute}
	resp, err := c.Get(s.URL + "/" + url.PathEscape(resource))
	if err != nil {
		t.Fatalf("jsontest: GET /%s: %v\nserver log:\n%s", resource, err, s.Log())
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("jsontest: GET /%s: %s %v: %s\nserver log:\n%s", resource, resp.Status, err, b, s.Log())
	}
	var out []map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("jsontest: GET /%s: %v in %s", resource, err, b)
	}
	return out
}

// File returns the database file as it is on disk, decoded (call
// WaitFile first to see the writes answered so far).
func (s *Server) File(t testing.TB) map[string]any {
	t.Helper()
	b, err := os.ReadFile(s.DBPath)
	if err != nil {
		t.Fatalf("jsontest: %v", err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("jsontest: %s: %v", s.DBPath, err)
	}
	return out
}

// Kill crashes the server keeping every write it answered: it closes the
// gate (every connection cut, new ones refused, as a crashed server's
// are), so that nothing reaches json-server any more, waits (up to 10 s)
// until the file holds every write json-server made, then crashes it
// (SIGKILL to its process group) and waits for it to exit. Without the
// gate, writes answered while the file caught up under load were lost.
func (s *Server) Kill() {
	s.gate.cut()
	_ = s.waitFile(10 * time.Second)
	s.proc.Kill()
}

// KillNow crashes the server at once; writes answered in the last
// milliseconds may be missing from the file.
func (s *Server) KillNow() {
	s.gate.cut()
	s.proc.Kill()
}

// WaitFile waits until the file on disk equals GET /db, that is holds
// every write answered so far, and fails t after 10 s.
func (s *Server) WaitFile(t testing.TB) {
	t.Helper()
	if err := s.waitFile(10 * time.Second); err != nil {
		t.Fatalf("jsontest: %v\nserver log:\n%s", err, s.Log())
	}
}

func (s *Server) waitFile(timeout time.Duration) error {
	c := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(timeout)
	for {
		err := s.fileCurrent(c)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the file did not catch up with the server: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *Server) fileCurrent(c *http.Client) error {
	resp, err := c.Get(s.backURL + "/db")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	served, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	disk, err := os.ReadFile(s.DBPath)
	if err != nil {
		return err
	}
	var a, b any
	if err := json.Unmarshal(served, &a); err != nil {
		return fmt.Errorf("GET /db: %w", err)
	}
	if err := json.Unmarshal(disk, &b); err != nil {
		return fmt.Errorf("%s: %w", s.DBPath, err)
	}
	if !reflect.DeepEqual(a, b) {
		return errors.New("file differs from GET /db")
	}
	return nil
}

// Restart starts the server again after Kill, on the same port with the
// same file.
func (s *Server) Restart() error {
	if err := s.proc.Restart(s.start); err != nil {
		return err
	}
	return s.gate.open()
}

// gate is the server's port as clients see it: a TCP relay to
// json-server's own port that Kill closes before the crash.
type gate struct {
	front, back string
	mu          sync.Mutex
	ln          net.Listener
	conns       map[net.Conn]struct{}
}

// open listens on the front address (again, after cut).
func (g *gate) open() error {
	var ln net.Listener
	var err error
	for range 50 { // the port of a cut gate may take a moment to free
		if ln, err = net.Listen("tcp", g.front); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("jsontest gate: %w", err)
	}
	g.mu.Lock()
	g.ln = ln
	if g.conns == nil {
		g.conns = map[net.Conn]struct{}{}
	}
	g.mu.Unlock()
	go g.serve(ln)
	return nil
}

func (g *gate) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go g.relay(c)
	}
}

// track adds c to the connections cut closes; false when the gate is
// closed (c is closed then).
func (g *gate) track(c net.Conn) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ln == nil {
		c.Close()
		return false
	}
	g.conns[c] = struct{}{}
	return true
}

func (g *gate) relay(c net.Conn) {
	if !g.track(c) {
		return
	}
	defer g.untrack(c)
	b, err := net.Dial("tcp", g.back)
	if err != nil || !g.track(b) {
		c.Close()
		return
	}
	defer g.untrack(b)
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(b, c)
		b.Close()
		close(done)
	}()
	_, _ = io.Copy(c, b)
	c.Close()
	<-done
}

func (g *gate) untrack(c net.Conn) {
	g.mu.Lock()
	delete(g.conns, c)
	g.mu.Unlock()
}

// cut stops listening and closes every relayed connection.
func (g *gate) cut() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ln != nil {
		g.ln.Close()
		g.ln = nil
	}
	for c := range g.conns {
		c.Close()
	}
	clear(g.conns)
}

// PID is the server's process id, 0 when it is not running.
func (s *Server) PID() int { return s.proc.PID() }

// Log returns the end of the server's output (one line per request), for
// failure messages.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "json-server.log"))
	return string(servertest.Tail(b, 4000))
}
