// Package mariadbtest starts a real MariaDB server (Debian's mariadb-server
// package: mariadb-install-db and mariadbd) as a child process: a temporary
// data directory, the unix socket in it, a free 127.0.0.1 port, utf8mb4 by
// default and durability switched off for speed. As root the server runs
// with --user=root; otherwise as the current user. Tests connect over TCP
// as User with Password, which has every privilege.
//
// A test package starts one server lazily and stops it in TestMain; every
// test gets its own database:
//
//	func TestMain(m *testing.M) { mariadbtest.Main(m) }
//
//	func TestX(t *testing.T) {
//		srv := mariadbtest.Shared(t)  // skips when MariaDB is not installed
//		dsn := srv.NewDatabase(t)     // go-sql-driver/mysql DSN of t_<n>
//		...
//	}
//
// Programs use Start and Stop directly; they need no testing.T. When
// MariaDB is not installed the tests skip with a clear message, unless
// SCIMBRIDGE_REQUIRE_SERVERS=1, where they fail.
package mariadbtest

import (
	"context"
	dbsql "database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/scimbridge/scimbridge/backends/servertest"
)

// ErrNotInstalled is returned by Start when mariadbd or mariadb-install-db is missing.
var ErrNotInstalled = errors.New("mariadbtest: MariaDB is not installed (apt-get install mariadb-server: mariadbd and mariadb-install-db)")

// Account the tests connect with.
const (
	User     = "scimtest"
	Password = "scimtest-secret"
)

// Server is one running mariadbd.
type Server struct {
	// Host and Port are where it listens (127.0.0.1).
	Host string
	Port int
	// Dir is the temporary directory (data, socket, log).
	Dir string
	// Version is the server's version string.
	Version string

	mariadbd string
	proc     servertest.Process
	dbs      atomic.Int64
	stopOnce sync.Once
}

func lookBinary(names ...string) (string, error) {
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
		for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"} {
			p := filepath.Join(dir, name)
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return p, nil
			}
		}
	}
	return "", ErrNotInstalled
}

// Start initialises a data directory in a temporary directory and starts
// the server.
func Start() (*Server, error) {
	mariadbd, err := lookBinary("mariadbd", "mysqld")
	if err != nil {
		return nil, err
	}
	installDB, err := lookBinary("mariadb-install-db", "mysql_install_db")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "mariadbtest-")
	if err != nil {
		return nil, err
	}
	s := &Server{Host: "127.0.0.1", Dir: dir, mariadbd: mariadbd}
	args := []string{"--no-defaults", "--datadir=" + filepath.Join(dir, "data"),
		"--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve"}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	install := exec.Command(installDB, args...)
	install.Dir = dir
	if out, err := install.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("mariadbtest: mariadb-install-db: %v\n%s", err, servertest.Tail(out, 4000))
	}
	var lastErr error
	for range 5 {
		if s.Port, err = servertest.FreePort(); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		if lastErr = s.start(); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		log := s.Log()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("mariadbtest: starting mariadbd: %w\n%s", lastErr, log)
	}
	if err := s.setup(); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) socket() string { return filepath.Join(s.Dir, "mysqld.sock") }

func (s *Server) start() error {
	args := []string{"--no-defaults",
		"--datadir=" + filepath.Join(s.Dir, "data"),
		"--socket=" + s.socket(),
		"--pid-file=" + filepath.Join(s.Dir, "mysqld.pid"),
		"--log-error=" + filepath.Join(s.Dir, "mysqld.log"),
		"--tmpdir=" + s.Dir,
		"--bind-address=" + s.Host, "--port=" + strconv.Itoa(s.Port),
		"--skip-name-resolve", "--skip-log-bin", "--max-connections=200",
		"--character-set-server=utf8mb4", "--collation-server=utf8mb4_general_ci",
		"--innodb-buffer-pool-size=64M", "--innodb-log-file-size=32M",
		// 2: the log is written to the kernel at every commit (fsynced once
		// a second), so an acknowledged commit survives a killed server.
		"--innodb-flush-log-at-trx-commit=2", "--innodb-doublewrite=0", "--sync-binlog=0",
		"--performance-schema=0",
	}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	cmd := exec.Command(s.mariadbd, args...)
	return s.proc.Start(cmd, s.pingRoot, 60*time.Second)
}

// rootDSN connects as root over the unix socket (no password).
func (s *Server) rootDSN() string {
	c := mysql.NewConfig()
	c.User, c.Net, c.Addr = "root", "unix", s.socket()
	c.MultiStatements = true
	c.Timeout = 2 * time.Second
	return c.FormatDSN()
}

func (s *Server) pingRoot() error {
	db, err := dbsql.Open("mysql", s.rootDSN())
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return db.PingContext(ctx)
}

// setup creates the TCP account the tests use.
func (s *Server) setup() error {
	db, err := dbsql.Open("mysql", s.rootDSN())
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, fmt.Sprintf(
		"CREATE USER IF NOT EXISTS '%s'@'127.0.0.1' IDENTIFIED BY '%s'; GRANT ALL PRIVILEGES ON *.* TO '%s'@'127.0.0.1' WITH GRANT OPTION; FLUSH PRIVILEGES",
		User, Password, User)); err != nil {
		return fmt.Errorf("mariadbtest: creating the test account: %w", err)
	}
	return db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&s.Version)
}

// DSN is the go-sql-driver/mysql DSN of database db over TCP.
func (s *Server) DSN(db string) string {
	c := mysql.NewConfig()
	c.User, c.Passwd = User, Password
	c.Net, c.Addr = "tcp", net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	c.DBName = db
	return c.FormatDSN()
}

// URL is the DSN of database db in URL form (mysql://user:pass@host:port/db),
// which the sql backend also accepts.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("mysql://%s:%s@%s:%d/%s", User, Password, s.Host, s.Port, db)
}

// CreateDatabase creates database name (utf8mb4) and returns its DSN.
func (s *Server) CreateDatabase(ctx context.Context, name string) (string, error) {
	if err := s.Exec(ctx, "", "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"); err != nil {
		return "", err
	}
	return s.DSN(name), nil
}

// DropDatabase drops database name.
func (s *Server) DropDatabase(ctx context.Context, name string) error {
	return s.Exec(ctx, "", "DROP DATABASE IF EXISTS `"+name+"`")
}

// Exec runs script (one or more statements separated by ";", no
// parameters) in database db ("" for none) as root.
func (s *Server) Exec(ctx context.Context, db, script string) error {
	c, err := mysql.ParseDSN(s.rootDSN())
	if err != nil {
		return err
	}
	c.DBName = db
	conn, err := dbsql.Open("mysql", c.FormatDSN())
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
	return servertest.NewDatabase(t, "mariadbtest", s, fmt.Sprintf("t_%d", s.dbs.Add(1)))
}

// Kill stops the server abruptly (SIGKILL), as a crash would.
func (s *Server) Kill() { s.proc.Kill() }

// Shutdown stops the server cleanly (SIGTERM) and waits for it.
func (s *Server) Shutdown() { s.proc.Signal(syscall.SIGTERM, 30*time.Second) }

// Restart starts the server again after Kill or Shutdown, on the same
// port with the same data.
func (s *Server) Restart() error { return s.proc.Restart(s.start) }

// Stop shuts the server down and removes its directory.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		s.Shutdown()
		os.RemoveAll(s.Dir)
	})
}

// Log returns the end of the server's error log, for failure messages.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "mysqld.log"))
	return string(servertest.Tail(b, 4000))
}

var shared = &servertest.Shared[*Server]{Name: "mariadbtest", NotInstalled: ErrNotInstalled, Start: Start, Stop: (*Server).Stop}

// Main runs the package's tests and stops the shared server afterwards.
func Main(m *testing.M) { os.Exit(Wrap(m.Run)) }

// Wrap runs run and stops the shared server (started by the first Shared
// call) afterwards; it composes with other harnesses in one TestMain.
func Wrap(run func() int) int { return shared.Wrap(run) }

// Shared returns the package's server, starting it on first use. It skips
// the test when MariaDB is not installed (fails under
// SCIMBRIDGE_REQUIRE_SERVERS=1) and fails it when the server cannot start.
func Shared(t testing.TB) *Server {
	t.Helper()
	return shared.Get(t)
}
