// Package pgtest starts a real PostgreSQL server (Debian's postgresql
// package: initdb and postgres under /usr/lib/postgresql/<ver>/bin) as a
// child process: a temporary directory holds the cluster and the unix
// socket, the server listens on a free 127.0.0.1 port with trust
// authentication, and durability is switched off for speed. When the
// process runs as root, the server runs as the unprivileged "postgres"
// user (PostgreSQL refuses root).
//
// A test package starts one server lazily and stops it in TestMain; every
// test gets its own database:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
//	func TestX(t *testing.T) {
//		srv := pgtest.Shared(t)    // skips when PostgreSQL is not installed
//		dsn := srv.NewDatabase(t)  // postgres://postgres@127.0.0.1:PORT/t_<n>
//		...
//	}
//
// Programs (benchmarks) use Start and Stop directly; they need no testing.T.
// When PostgreSQL is not installed the tests skip with a clear message,
// unless SCIMBRIDGE_REQUIRE_SERVERS=1, where they fail.
package pgtest

import (
	"context"
	dbsql "database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/scimbridge/scimbridge/backends/servertest"
)

// ErrNotInstalled is returned by Start when initdb or postgres is missing.
var ErrNotInstalled = errors.New("pgtest: PostgreSQL is not installed (apt-get install postgresql: initdb and postgres under /usr/lib/postgresql/<ver>/bin)")

// User is the superuser of the test cluster (trust authentication).
const User = "postgres"

// Server is one running PostgreSQL cluster.
type Server struct {
	// Host and Port are where it listens (127.0.0.1).
	Host string
	Port int
	// Dir is the temporary directory (data, socket, log).
	Dir string

	bin      string
	cred     *syscall.Credential
	proc     servertest.Process
	dbs      atomic.Int64
	stopOnce sync.Once
}

// findBin returns the newest /usr/lib/postgresql/<ver>/bin that has both
// binaries, or the directory of initdb on PATH.
func findBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if isFile(filepath.Join(d, "initdb")) && isFile(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		d := filepath.Dir(p)
		if isFile(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", ErrNotInstalled
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// Start creates a cluster in a temporary directory and starts it.
func Start() (*Server, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	s := &Server{Host: "127.0.0.1", Dir: dir, bin: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("pgtest: running as root needs the unprivileged user \"postgres\" (created by the postgresql package): %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	locale := "C"
	if out, err := exec.Command("locale", "-a").Output(); err == nil {
		for _, l := range strings.Fields(string(out)) {
			if strings.EqualFold(l, "C.utf8") {
				locale = l // lower() folds non-ASCII letters too
			}
		}
	}
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", filepath.Join(dir, "data"), "-U", User,
		"--auth=trust", "--encoding=UTF8", "--locale="+locale, "--no-sync", "--no-instructions")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	initdb.Dir = dir
	initdb.Env = append(os.Environ(), "LC_ALL="+locale)
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pgtest: initdb: %v\n%s", err, out)
	}
	var lastErr error
	for range 5 {
		if s.Port, err = servertest.FreePort(); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		if lastErr = s.start(); lastErr == nil {
			return s, nil
		}
	}
	log, _ := os.ReadFile(filepath.Join(dir, "postgres.log"))
	os.RemoveAll(dir)
	return nil, fmt.Errorf("pgtest: starting postgres: %w\n%s", lastErr, servertest.Tail(log, 4000))
}

func (s *Server) start() error {
	logf, err := os.OpenFile(filepath.Join(s.Dir, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	if s.cred != nil {
		_ = logf.Chown(int(s.cred.Uid), int(s.cred.Gid))
	}
	cmd := exec.Command(filepath.Join(s.bin, "postgres"),
		"-D", filepath.Join(s.Dir, "data"),
		"-k", s.Dir, // unix socket in the temp dir
		"-h", s.Host, "-p", strconv.Itoa(s.Port),
		// fsync off is safe for tests: a killed server leaves its writes in
		// the kernel's page cache. Commits stay synchronous, so a commit
		// that was acknowledged survives a kill (fault tests depend on it).
		"-c", "fsync=off", "-c", "synchronous_commit=on", "-c", "full_page_writes=off",
		"-c", "max_connections=200", "-c", "shared_buffers=64MB",
		"-c", "log_min_messages=warning", "-c", "log_min_error_statement=panic",
	)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	return s.proc.Start(cmd, s.ping, 30*time.Second)
}

func (s *Server) ping() error {
	db, err := dbsql.Open("pgx", s.DSN("postgres")+"&connect_timeout=2")
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return db.PingContext(ctx)
}

// DSN is the URL of database db (superuser, no password).
func (s *Server) DSN(db string) string {
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", User, s.Host, s.Port, db)
}

// CreateDatabase creates database name and returns its DSN.
func (s *Server) CreateDatabase(ctx context.Context, name string) (string, error) {
	stmt := `CREATE DATABASE "` + name + `"`
	if version(s.bin) >= 15 {
		// Copying the template's files is much faster than WAL-logging
		// them for the small databases of tests (fsync is off).
		stmt += " STRATEGY = FILE_COPY"
	}
	if err := s.Exec(ctx, "postgres", stmt); err != nil {
		return "", err
	}
	return s.DSN(name), nil
}

// DropDatabase drops database name, closing its connections.
func (s *Server) DropDatabase(ctx context.Context, name string) error {
	return s.Exec(ctx, "postgres", `DROP DATABASE IF EXISTS "`+name+`" WITH (FORCE)`)
}

// Exec runs script (one or more statements, no parameters) in database db.
func (s *Server) Exec(ctx context.Context, db, script string) error {
	conn, err := dbsql.Open("pgx", s.DSN(db))
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = conn.ExecContext(ctx, script)
	return err
}

// NewDatabase creates a fresh database for t, dropped when t ends, and
// returns its DSN.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	return servertest.NewDatabase(t, "pgtest", s, fmt.Sprintf("t_%d", s.dbs.Add(1)))
}

// Kill stops the server abruptly, as a crash would: an immediate shutdown
// (SIGQUIT) ends the postmaster and every backend without a checkpoint, so
// the next start runs crash recovery. (SIGKILL to the postmaster alone
// would leave its backends running: each is its own process group.)
// Restart brings it back on the same port with the same data.
func (s *Server) Kill() { s.proc.Signal(syscall.SIGQUIT, 20*time.Second) }

// Restart starts the server again after Kill or Shutdown.
func (s *Server) Restart() error { return s.proc.Restart(s.start) }

// Shutdown stops the server cleanly (fast shutdown: sessions get
// admin_shutdown) and waits for it.
func (s *Server) Shutdown() { s.proc.Signal(syscall.SIGINT, 20*time.Second) }

// Stop shuts the server down and removes its directory.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		s.Shutdown()
		os.RemoveAll(s.Dir)
	})
}

// Log returns the end of the server log, for failure messages.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "postgres.log"))
	return string(servertest.Tail(b, 4000))
}

var shared = &servertest.Shared[*Server]{Name: "pgtest", NotInstalled: ErrNotInstalled, Start: Start, Stop: (*Server).Stop}

// Main runs the package's tests and stops the shared server (started by
// the first Shared call) afterwards.
func Main(m *testing.M) { os.Exit(Wrap(m.Run)) }

// Wrap runs run (m.Run, or another harness's Wrap of it) and stops the
// shared server afterwards; it composes harnesses in one TestMain:
//
//	os.Exit(pgtest.Wrap(func() int { return mariadbtest.Wrap(m.Run) }))
func Wrap(run func() int) int { return shared.Wrap(run) }

// Shared returns the package's server, starting it on first use. It skips
// the test when PostgreSQL is not installed (fails under
// SCIMBRIDGE_REQUIRE_SERVERS=1) and fails it when the server cannot start.
func Shared(t testing.TB) *Server {
	t.Helper()
	return shared.Get(t)
}

// PID is the postmaster's process id, 0 when it is not running. The
// postmaster leads a session of its own (setsid), so this is also the
// process group of every PostgreSQL process; it is read from
// postmaster.pid, since the child process may be a wrapper that drops root.
func (s *Server) PID() int {
	if s.proc.PID() == 0 {
		return 0
	}
	data, err := os.ReadFile(filepath.Join(s.Dir, "data", "postmaster.pid"))
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(data), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(first))
	return pid
}
