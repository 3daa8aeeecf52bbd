// Package pbtest starts a real PocketBase server (v0.36.8, a Go backend
// with a REST admin API over SQLite) as a child process on 127.0.0.1, for
// the tests of the REST backend.
//
// PocketBase is not a requirement of this module. It is built once, from
// the Go module proxy, into the user's cache directory:
//
//	GOBIN=<tmp> GOFLAGS=-mod=mod go install github.com/pocketbase/pocketbase/examples/base@v0.36.8
//
// run in a temporary directory, and the result moved to
// os.UserCacheDir()/scimbridge/pocketbase-v0.36.8/base (on Linux
// $XDG_CACHE_HOME or ~/.cache). A file lock next to it makes test packages
// that start at the same time wait for one build. A cold build (empty Go
// build cache) takes minutes; .ci/run builds it before the tests. When the
// build fails (no go command, no module proxy) the tests skip, or fail
// under SCIMBRIDGE_REQUIRE_SERVERS=1.
//
// A test package starts one server lazily and stops it in TestMain; every
// test gets its own pair of collections:
//
//	func TestMain(m *testing.M) { pbtest.Main(m) }
//
//	func TestX(t *testing.T) {
//		srv := pbtest.Shared(t)       // skips when PocketBase cannot be built
//		c := srv.NewCollections(t)    // c.Users, c.Groups, deleted when t ends
//		env := srv.Env(c)             // REST_BASE_URL, REST_ADMIN_EMAIL, ... for examples/pocketbase.hcl
//		...
//	}
//
// The server has its own data directory (a temporary directory, removed by
// Stop) and one superuser, AdminEmail/AdminPassword, made with
// `base superuser upsert` before the first start. Kill crashes the server
// with SIGKILL; Restart brings it back on the same port with the same data
// (PocketBase commits every write to SQLite in WAL mode before it answers,
// so an answered write survives the kill).
//
// # Collections
//
// NewCollections creates, through the collections API, an auth collection
// for users and a base collection for groups; every API rule is null, so
// only a superuser token (AdminToken) may list, view, create, update or
// delete records, or authenticate as a user.
//
// Users (auth collection) has PocketBase's system fields id (15 characters
// [a-z0-9], generated; a client may send its own), password, tokenKey
// (hidden), email, emailVisibility and verified. A create must carry
// password (at least 8 characters) and an equal passwordConfirm, even with
// the superuser token; answers never show the password. The password is
// hashed with bcrypt cost PasswordCost (4) instead of PocketBase's 10. email is made optional (required: false, which PocketBase
// allows for auth collections); its unique index ignores empty values.
// The custom fields are
//
//	userName       text, required, UNIQUE index with COLLATE NOCASE
//	givenName      text
//	familyName     text
//	displayName    text
//	active         bool
//	title          text
//	employeeNumber number
//	phones         json (an array of strings)
//	manager        relation to the same collection, maxSelect 1 (a single id)
//	created        autodate (on create)
//	updated        autodate (on create and update)
//
// The manager relation is added by a second update of the collection,
// since a relation needs the id of an existing collection.
//
// Groups (base collection) has
//
//	displayName text, required, UNIQUE index (COLLATE NOCASE)
//	members     relation to the users collection, maxSelect 100000 (an array of ids), cascadeDelete false
//	created     autodate (on create)
//	updated     autodate (on create and update)
//
// Deleting a user removes its id from every group's members and clears
// every manager that points at it (PocketBase unsets references of a
// deleted record in non-required relation fields, cascadeDelete false, and
// saves the referring records again, so their updated time moves). The
// self-test checks both.
//
// A duplicate userName (in any case) or displayName answers 400 with
// data.<field>.code "validation_not_unique". In a filter, userName = "x"
// compares case-sensitively (the column itself is BINARY; only the unique
// index is NOCASE); userName:lower = "x" (x in lower case) compares
// without case, and ~ is LIKE with % added around the operand (contains).
package pbtest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/backends/servertest"
)

// Version is the PocketBase release the harness builds.
const Version = "v0.36.8"

// Module is the main package built (PocketBase's example app with the
// JS hooks and migrations plugins, as the release binaries are).
const Module = "github.com/pocketbase/pocketbase/examples/base"

// ErrNotInstalled is returned by Start when PocketBase cannot be built.
var ErrNotInstalled = errors.New("pbtest: PocketBase " + Version + " cannot be built (needs the go command and the Go module proxy: go install " + Module + "@" + Version + ")")

// PasswordCost is the bcrypt cost of the users' password field: the
// minimum, 4. With PocketBase's default, 10, every user create spends about
// 0.1 s of CPU hashing the password, which would dominate tests and
// benchmarks.
const PasswordCost = 4

// MaxMembers is the maxSelect of the groups' members relation.
const MaxMembers = 100000

// Server is one running PocketBase.
type Server struct {
	// URL is the base URL, http://127.0.0.1:PORT (no trailing slash).
	URL string
	// AdminEmail and AdminPassword are the superuser's credentials.
	AdminEmail, AdminPassword string
	// Port is the TCP port on 127.0.0.1.
	Port int
	// Dir is the temporary directory: pb_data (the SQLite databases) and
	// pocketbase.log.
	Dir string

	bin      string
	client   *http.Client
	proc     servertest.Process
	cols     atomic.Int64
	stopOnce sync.Once

	mu    sync.Mutex
	token string
}

// Binary returns the path of the PocketBase executable, building it first
// when the cache does not have it.
func Binary() (string, error) {
	dir, err := servertest.Installed("pocketbase-"+Version, build)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "base"), nil
}

func build(tmp string) error {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNotInstalled, err)
	}
	work, err := os.MkdirTemp("", "pbtest-build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	cmd := exec.Command(gobin, "install", "-trimpath", Module+"@"+Version)
	cmd.Dir = work // no go.mod around: the module's own requirements are used
	cmd.Env = append(os.Environ(),
		"GOBIN="+tmp,
		"GOFLAGS=-mod=mod",
		"GOWORK=off",
		"GOTOOLCHAIN=local",
		"CGO_ENABLED=0", // pure Go SQLite (modernc.org/sqlite)
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %v\n%s", ErrNotInstalled, err, servertest.Tail(out, 4000))
	}
	if _, err := os.Stat(filepath.Join(tmp, "base")); err != nil {
		return fmt.Errorf("%w: go install made no %s: %v", ErrNotInstalled, filepath.Join(tmp, "base"), err)
	}
	return nil
}

// Start builds PocketBase if needed, creates a data directory with a
// superuser and starts the server on a free loopback port.
func Start() (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pbtest-")
	if err != nil {
		return nil, err
	}
	s := &Server{
		Dir:           dir,
		bin:           bin,
		client:        &http.Client{Timeout: time.Minute},
		AdminEmail:    "admin@scimbridge.test",
		AdminPassword: "sb_" + randomHex(12),
	}
	upsert := exec.Command(bin, "superuser", "upsert", s.AdminEmail, s.AdminPassword, "--dir", s.dataDir())
	upsert.Dir = dir
	if out, err := upsert.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pbtest: superuser upsert: %v\n%s", err, servertest.Tail(out, 4000))
	}
	var lastErr error
	for range 5 {
		if s.Port, err = servertest.FreePort(); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		s.URL = "http://127.0.0.1:" + strconv.Itoa(s.Port)
		if lastErr = s.start(); lastErr == nil {
			return s, nil
		}
	}
	log := s.Log()
	os.RemoveAll(dir)
	return nil, fmt.Errorf("pbtest: starting PocketBase: %w\n%s", lastErr, log)
}

func (s *Server) dataDir() string { return filepath.Join(s.Dir, "pb_data") }

func (s *Server) start() error {
	logf, err := os.OpenFile(filepath.Join(s.Dir, "pocketbase.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(s.bin, "serve",
		"--http", "127.0.0.1:"+strconv.Itoa(s.Port),
		"--dir", s.dataDir(),
		// Everything else the app may read or write stays in s.Dir,
		// not next to the shared binary.
		"--hooksDir", filepath.Join(s.Dir, "pb_hooks"),
		"--hooksWatch=false",
		"--migrationsDir", filepath.Join(s.Dir, "pb_migrations"),
		"--automigrate=false",
		"--publicDir", filepath.Join(s.Dir, "pb_public"),
	)
	cmd.Dir = s.Dir
	cmd.Stdout, cmd.Stderr = logf, logf
	return s.proc.Start(cmd, s.ping, 30*time.Second)
}

func (s *Server) ping() error { return servertest.HTTPReady(s.URL + "/api/health")() }

// Kill crashes the server (SIGKILL to its process group) and waits for it.
func (s *Server) Kill() { s.proc.Kill() }

// Restart starts the server again after Kill or Shutdown, on the same port
// with the same data directory.
func (s *Server) Restart() error { return s.proc.Restart(s.start) }

// Shutdown stops the server gracefully (SIGTERM) and waits for it.
func (s *Server) Shutdown() { s.proc.Signal(syscall.SIGTERM, 20*time.Second) }

// Stop shuts the server down and removes its directory.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		s.Shutdown()
		os.RemoveAll(s.Dir)
	})
}

// PID is the server's process id, 0 when it is not running.
func (s *Server) PID() int { return s.proc.PID() }

// Log returns the end of the server log, for failure messages.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "pocketbase.log"))
	return string(servertest.Tail(b, 4000))
}

var shared = &servertest.Shared[*Server]{Name: "pbtest", NotInstalled: ErrNotInstalled, Start: Start, Stop: (*Server).Stop}

// Main runs the package's tests and stops the shared server (started by
// the first Shared call) afterwards.
func Main(m *testing.M) { os.Exit(Wrap(m.Run)) }

// Wrap runs run (m.Run, or another harness's Wrap of it) and stops the
// shared server afterwards; it composes harnesses in one TestMain:
//
//	os.Exit(pbtest.Wrap(func() int { return jsontest.Wrap(m.Run) }))
func Wrap(run func() int) int { return shared.Wrap(run) }

// Shared returns the package's server, starting it on first use. It skips
// the test when PocketBase cannot be built (fails under
// SCIMBRIDGE_REQUIRE_SERVERS=1) and fails it when the server cannot start.
func Shared(t testing.TB) *Server {
	t.Helper()
	return shared.Get(t)
}

// Collections names the pair of collections of one test.
type Collections struct{ Users, Groups string }

// Env is the environment examples/pocketbase.hcl reads: REST_BASE_URL,
// REST_ADMIN_EMAIL, REST_ADMIN_PASSWORD, PB_USERS and PB_GROUPS.
func (s *Server) Env(c Collections) map[string]string {
	return map[string]string{
		"REST_BASE_URL":       s.URL,
		"REST_ADMIN_EMAIL":    s.AdminEmail,
		"REST_ADMIN_PASSWORD": s.AdminPassword,
		"PB_USERS":            c.Users,
		"PB_GROUPS":           c.Groups,
	}
}

// AdminToken returns a superuser auth token for the Authorization header,
// where PocketBase takes it bare or after "Bearer ". The token is fetched
// once and stays valid across Kill and Restart.
func (s *Server) AdminToken(t testing.TB) string {
	t.Helper()
	tok, err := s.Token()
	if err != nil {
		t.Fatalf("pbtest: %v\nserver log:\n%s", err, s.Log())
	}
	return tok
}

// Token is AdminToken for programs (benchmarks).
func (s *Server) Token() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != "" {
		return s.token, nil
	}
	var out struct {
		Token string `json:"token"`
	}
	status, body, err := s.do("", http.MethodPost, "/api/collections/_superusers/auth-with-password",
		map[string]string{"identity": s.AdminEmail, "password": s.AdminPassword})
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return "", fmt.Errorf("superuser auth-with-password: %d %s", status, body)
	}
	if err := json.Unmarshal(body, &out); err != nil || out.Token == "" {
		return "", fmt.Errorf("superuser auth-with-password: no token in %s (%v)", body, err)
	}
	s.token = out.Token
	return s.token, nil
}

// do sends one request with token (if any) and a JSON body (if not nil).
func (s *Server) do(token, method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	return resp.StatusCode, b, nil
}

// Request sends method path (starting with /api/) with the superuser token
// and body marshalled as JSON (nil: no body), and returns the status and
// the answer's body. It fails t only when no answer arrives.
func (s *Server) Request(t testing.TB, method, path string, body any) (int, []byte) {
	t.Helper()
	status, b, err := s.do(s.AdminToken(t), method, path, body)
	if err != nil {
		t.Fatalf("pbtest: %v\nserver log:\n%s", err, s.Log())
	}
	return status, b
}

// mustRequest is Request that fails t unless the status is want, and
// decodes the answer into out (if not nil).
func (s *Server) mustRequest(t testing.TB, method, path string, body any, want int, out any) {
	t.Helper()
	status, b := s.Request(t, method, path, body)
	if status != want {
		t.Fatalf("pbtest: %s %s: status %d, want %d: %s\nserver log:\n%s", method, path, status, want, b, s.Log())
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("pbtest: %s %s: %v in %s", method, path, err, b)
		}
	}
}

// NewCollections creates a fresh, empty pair of collections (the schema is
// in the package doc) with names unique on this server, deleted when t
// ends.
func (s *Server) NewCollections(t testing.TB) Collections {
	t.Helper()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pbtest: PocketBase log:\n%s", s.Log())
		}
	})
	c, err := s.CreateCollections()
	if err != nil {
		t.Fatalf("pbtest: %v\nserver log:\n%s", err, s.Log())
	}
	t.Cleanup(func() {
		if err := s.DropCollections(c); err != nil {
			t.Logf("pbtest: %v", err)
		}
	})
	return c
}

// CreateCollections is NewCollections for programs (benchmarks): the
// caller drops the collections with DropCollections.
func (s *Server) CreateCollections() (Collections, error) {
	n := s.cols.Add(1)
	c := Collections{Users: fmt.Sprintf("users_%d", n), Groups: fmt.Sprintf("groups_%d", n)}
	text := func(name string, required bool) map[string]any {
		return map[string]any{"name": name, "type": "text", "required": required}
	}
	autodates := []any{
		map[string]any{"name": "created", "type": "autodate", "onCreate": true, "onUpdate": false},
		map[string]any{"name": "updated", "type": "autodate", "onCreate": true, "onUpdate": true},
	}
	rules := func(m map[string]any) map[string]any {
		for _, r := range []string{"listRule", "viewRule", "createRule", "updateRule", "deleteRule"} {
			m[r] = nil
		}
		return m
	}
	users := rules(map[string]any{
		"name": c.Users,
		"type": "auth",
		"fields": append([]any{
			map[string]any{"name": "email", "type": "email", "system": true, "required": false},
			map[string]any{"name": "password", "type": "password", "system": true, "hidden": true, "required": true,
				"min": 8, "cost": PasswordCost},
			text("userName", true),
			text("givenName", false),
			text("familyName", false),
			text("displayName", false),
			map[string]any{"name": "active", "type": "bool"},
			text("title", false),
			map[string]any{"name": "employeeNumber", "type": "number"},
			map[string]any{"name": "phones", "type": "json"},
		}, autodates...),
		"indexes": []string{
			fmt.Sprintf("CREATE UNIQUE INDEX `idx_%s_userName` ON `%s` (`userName` COLLATE NOCASE)", c.Users, c.Users),
		},
		"authRule":   nil,
		"manageRule": nil,
	})
	var created struct {
		ID     string           `json:"id"`
		Fields []map[string]any `json:"fields"`
	}
	if err := s.call(http.MethodPost, "/api/collections", users, &created); err != nil {
		return c, err
	}
	// The self-relation needs the collection's id: a second step. The
	// update replaces the whole field list, so the created one (with the
	// system fields and their ids) is sent back with manager appended.
	fields := append(created.Fields, map[string]any{
		"name": "manager", "type": "relation", "collectionId": created.ID, "maxSelect": 1, "cascadeDelete": false,
	})
	if err := s.call(http.MethodPatch, "/api/collections/"+c.Users, map[string]any{"fields": fields}, nil); err != nil {
		s.dropCollection(c.Users)
		return c, err
	}
	groups := rules(map[string]any{
		"name": c.Groups,
		"type": "base",
		"fields": append([]any{
			text("displayName", true),
			map[string]any{"name": "members", "type": "relation", "collectionId": created.ID, "maxSelect": MaxMembers, "cascadeDelete": false},
		}, autodates...),
		"indexes": []string{
			fmt.Sprintf("CREATE UNIQUE INDEX `idx_%s_displayName` ON `%s` (`displayName` COLLATE NOCASE)", c.Groups, c.Groups),
		},
	})
	if err := s.call(http.MethodPost, "/api/collections", groups, nil); err != nil {
		s.dropCollection(c.Users)
		return c, err
	}
	return c, nil
}

// DropCollections deletes both collections (groups first: they refer to
// the users).
func (s *Server) DropCollections(c Collections) error {
	return errors.Join(s.dropCollection(c.Groups), s.dropCollection(c.Users))
}

func (s *Server) dropCollection(name string) error {
	if err := s.call(http.MethodDelete, "/api/collections/"+url.PathEscape(name), nil, nil); err != nil {
		return fmt.Errorf("delete collection %s: %w", name, err)
	}
	return nil
}

// call sends a request with the superuser token, wants a 2xx answer and
// decodes it into out (when not nil).
func (s *Server) call(method, path string, body, out any) error {
	tok, err := s.Token()
	if err != nil {
		return err
	}
	status, b, err := s.do(tok, method, path, body)
	if err != nil {
		return err
	}
	if status/100 != 2 {
		return fmt.Errorf("%s %s: status %d: %s", method, path, status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: %w in %s", method, path, err, b)
		}
	}
	return nil
}

// Records returns every record of collection, read directly through the
// records API with the superuser token, sorted by id.
func (s *Server) Records(t testing.TB, collection string) []map[string]any {
	t.Helper()
	var all []map[string]any
	for page := 1; ; page++ {
		var list struct {
			Items      []map[string]any `json:"items"`
			TotalPages int              `json:"totalPages"`
		}
		q := url.Values{"page": {strconv.Itoa(page)}, "perPage": {"1000"}, "sort": {"id"}}
		s.mustRequest(t, http.MethodGet, "/api/collections/"+url.PathEscape(collection)+"/records?"+q.Encode(), nil, http.StatusOK, &list)
		all = append(all, list.Items...)
		if page >= list.TotalPages {
			return all
		}
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
