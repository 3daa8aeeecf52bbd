// Package ds389test starts a real 389 Directory Server (ns-slapd from
// Debian's 389-ds-base package) as a child process for tests.
//
// No dscreate, no systemd: the instance is built the way dscreate builds
// its first, offline part, but in a temporary directory. dse.ldif is the
// package's own template (/usr/share/dirsrv/data/template-dse.ldif) with
// its %placeholders% filled in, every path below the directory, a listener
// on a free 127.0.0.1 port only, and these changes:
//
//   - the MemberOf plugin is enabled (the template has it off);
//   - one ldbm backend "userRoot" for dc=example,dc=org, with small fixed
//     caches instead of autosizing to the machine's memory;
//   - with Options.ReferentialIntegrity, the Referential Integrity plugin
//     is enabled for member, uniqueMember and manager (no update delay).
//
// ns-slapd then runs in the foreground (-d 0), as the unprivileged user
// dirsrv (created by the package) when the test runs as root, else as the
// test's user, and creates the database on first start in about a second.
// Nothing is read from /etc/dirsrv. After start the harness adds the
// suffix entry and a service account for the bridge,
// ServiceDN, which has no rights of its own: NewOU gives it rights on the
// test's ou=people and ou=groups with ServiceACI, the ACI the
// examples/389ds.hcl header documents.
//
// A test package starts one server in TestMain and hands every test its
// own OU:
//
//	func TestMain(m *testing.M) { ds389test.Main(m, ds389test.Options{}) }
//
//	func TestX(t *testing.T) {
//		srv := ds389test.Shared(t) // skips when 389-ds-base is not installed
//		ou := srv.NewOU(t)         // ou=t<N>,dc=example,dc=org with ou=people and ou=groups
//		...
//	}
//
// When 389-ds-base is not installed the tests skip with a clear message,
// unless SCIMBRIDGE_REQUIRE_SERVERS=1, where they fail.
package ds389test

import (
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/backends/ldap/ldaptest"
	"github.com/scimbridge/scimbridge/backends/servertest"
)

// Fixed names of the test directory.
const (
	BaseDN = "dc=example,dc=org"
	// AdminDN is the root DN (nsslapd-rootdn): no ACI applies to it.
	AdminDN       = "cn=Directory Manager"
	AdminPassword = "admin-secret"
	// ServiceDN is the bridge's account; it may do what ServiceACI allows.
	ServiceDN       = "uid=scimbridge,ou=services," + BaseDN
	ServicePassword = "service-secret"
)

// ServiceACI is the aci value NewOU puts on each test's ou=people and
// ou=groups: everything the bridge does there (renames included), for
// ServiceDN only. In 389 DS 2.3 targetattr="*" also covers the operational
// attributes the bridge reads and writes (nsUniqueId, nsAccountLock,
// createTimestamp, modifyTimestamp).
const ServiceACI = `(targetattr="*")(version 3.0; acl "scimbridge"; ` +
	`allow (read, search, compare, write, add, delete) userdn="ldap:///` + ServiceDN + `";)`

// templateDSE is the dse.ldif template of Debian's 389-ds-base package.
const templateDSE = "/usr/share/dirsrv/data/template-dse.ldif"

// ErrNotInstalled is returned by Start when ns-slapd or its data files are missing.
var ErrNotInstalled = errors.New("ds389test: 389 Directory Server not installed (apt-get install 389-ds-base: ns-slapd and " + templateDSE + ")")

// Options select optional parts of the server.
type Options struct {
	// ReferentialIntegrity enables the Referential Integrity plugin for
	// member, uniqueMember and manager, as a directory set up for
	// referential_integrity = "server" has it.
	ReferentialIntegrity bool
}

// Server is one running ns-slapd.
type Server struct {
	// Admin reads the directory as the root DN (Conn, Search, Entry).
	ldaptest.Admin
	// URL is ldap://127.0.0.1:PORT.
	URL string
	// Dir is the instance's temporary directory (etc, db, log, ...).
	Dir string
	// StartTime is how long the first start took, from an empty directory
	// until the server answered (creating the database included).
	StartTime time.Duration

	opts     Options
	bin      string
	port     int
	cred     *syscall.Credential
	userName string
	proc     servertest.Process
	ous      atomic.Int64
	stopOnce sync.Once
}

var shared = &servertest.Shared[*Server]{Name: "ds389test", NotInstalled: ErrNotInstalled, Stop: (*Server).Stop}

// Main runs the test package with one server, started on first use with
// opts, and stops it afterwards. Tests get the server with Shared.
func Main(m *testing.M, opts Options) { os.Exit(Wrap(m.Run, opts)) }

// Wrap runs run (m.Run, or another harness's Wrap of it) with one server,
// started on first use with opts, and stops it afterwards; it composes
// harnesses in one TestMain:
//
//	os.Exit(pgtest.Wrap(func() int { return ds389test.Wrap(m.Run, ds389test.Options{}) }))
func Wrap(run func() int, opts Options) int {
	shared.Start = func() (*Server, error) { return Start(opts) }
	return shared.Wrap(run)
}

// Shared returns the package's server. It skips the test when 389 DS is
// not installed (fails under SCIMBRIDGE_REQUIRE_SERVERS=1) and fails it
// when the server could not be started.
func Shared(t testing.TB) *Server {
	t.Helper()
	return shared.Get(t)
}

func findBinary() (string, error) {
	bin, err := exec.LookPath("ns-slapd")
	if err != nil {
		bin = "/usr/sbin/ns-slapd"
	}
	for _, p := range []string{bin, templateDSE} {
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			return "", ErrNotInstalled
		} else if err != nil {
			return "", fmt.Errorf("ds389test: %w", err)
		}
	}
	return bin, nil
}

// Start creates an instance in a temporary directory and starts it. Stop
// it with Stop.
func Start(opts Options) (*Server, error) {
	bin, err := findBinary()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "ds389test-")
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, opts: opts, bin: bin}
	s.Admin = ldaptest.NewAdmin("ds389test", s.DialAdmin)
	fail := func(err error) (*Server, error) {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := s.chooseUser(); err != nil {
		return fail(err)
	}
	if err := s.layout(); err != nil {
		return fail(err)
	}
	begin := time.Now()
	var lastErr error
	for range 5 {
		if s.port, err = servertest.FreePort(); err != nil {
			return fail(err)
		}
		if err := s.writeDSE(); err != nil {
			return fail(err)
		}
		if lastErr = s.start(); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		log := s.Log()
		return fail(fmt.Errorf("ds389test: starting ns-slapd: %w\n%s", lastErr, log))
	}
	s.StartTime = time.Since(begin)
	if err := s.seed(); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// chooseUser picks the account ns-slapd runs as: dirsrv when the test runs
// as root (ns-slapd would switch to nsslapd-localuser itself, and the
// parent-death signal would not survive that), else the current user.
func (s *Server) chooseUser() error {
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			return err
		}
		s.userName = u.Username
		return nil
	}
	u, err := user.Lookup("dirsrv")
	if err != nil {
		return fmt.Errorf("ds389test: running as root needs the unprivileged user \"dirsrv\" (created by the 389-ds-base package): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	s.userName = u.Username
	s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	return nil
}

func (s *Server) path(parts ...string) string {
	return filepath.Join(append([]string{s.Dir}, parts...)...)
}

// layout creates the instance directories and the instance's (empty) user
// schema file, owned by the server's user. ns-slapd does not start without
// a file in its schema directory. Nothing is copied from /etc/dirsrv, which
// only root and dirsrv can read: the system schema is read from
// /usr/share/dirsrv/schema, and the collation and certificate mapping files
// are for features the tests do not use.
func (s *Server) layout() error {
	for _, d := range []string{"etc", "etc/schema", "db", "bak", "ldif", "lock", "log", "run", "tmp"} {
		if err := os.MkdirAll(s.path(d), 0o700); err != nil {
			return err
		}
	}
	if err := os.WriteFile(s.path("etc", "schema", "99user.ldif"), []byte("dn: cn=schema\n"), 0o600); err != nil {
		return err
	}
	return s.chown()
}

// chown gives the instance directory to the server's user.
func (s *Server) chown() error {
	if s.cred == nil {
		return nil
	}
	return filepath.WalkDir(s.Dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(s.cred.Uid), int(s.cred.Gid))
	})
}

// writeDSE writes etc/dse.ldif: the package's template, filled in and
// changed as the package comment says.
func (s *Server) writeDSE() error {
	tmpl, err := os.ReadFile(templateDSE)
	if err != nil {
		return err
	}
	rootPW, err := ssha512(AdminPassword)
	if err != nil {
		return err
	}
	vars := map[string]string{
		"schema_dir": s.path("etc", "schema"), "lock_dir": s.path("lock"), "tmp_dir": s.path("tmp"),
		"cert_dir": s.path("etc"), "ldif_dir": s.path("ldif"), "bak_dir": s.path("bak"),
		"run_dir": s.path("run"), "inst_dir": s.Dir, "log_dir": s.path("log"),
		"fqdn": "localhost", "ds_port": strconv.Itoa(s.port), "ds_user": s.userName,
		"rootdn": AdminDN, "ds_passwd": rootPW, "ds_suffix": BaseDN,
		"config_dir": s.path("etc"), "db_dir": s.path("db"), "db_home_dir": s.path("db"), "db_lib": "bdb",
		"ldapi_enabled": "off", "ldapi": s.path("run", "slapd.socket"), "ldapi_autobind": "off",
	}
	var unknown []string
	text := fillPlaceholders(string(tmpl), func(name string) string {
		v, ok := vars[name]
		if !ok {
			unknown = append(unknown, name)
		}
		return v
	})
	if len(unknown) > 0 {
		return fmt.Errorf("ds389test: %s has placeholders this harness does not know: %v", templateDSE, unknown)
	}
	d := newDSE(text)
	edits := []dseEdit{
		{dn: "cn=config", add: []string{"nsslapd-listenhost: 127.0.0.1"}},
		{dn: "cn=MemberOf Plugin,cn=plugins,cn=config", enable: true},
		// Fixed small caches instead of a share of the machine's memory.
		{dn: "cn=config,cn=ldbm database,cn=plugins,cn=config", add: []string{
			"nsslapd-cache-autosize: 0",
			"nsslapd-dbcachesize: 16777216",
		}},
	}
	if s.opts.ReferentialIntegrity {
		edits = append(edits, dseEdit{
			dn: "cn=referential integrity postoperation,cn=plugins,cn=config", enable: true,
			drop: []string{"referint-membership-attr"},
			add:  []string{"referint-membership-attr: member", "referint-membership-attr: uniqueMember", "referint-membership-attr: manager"},
		})
	}
	for _, e := range edits {
		if err := d.edit(e); err != nil {
			return err
		}
	}
	d.append(fmt.Sprintf(`dn: cn=userRoot,cn=ldbm database,cn=plugins,cn=config
objectClass: top
objectClass: extensibleObject
objectClass: nsBackendInstance
cn: userRoot
nsslapd-suffix: %[1]s
nsslapd-directory: %[2]s
nsslapd-cachememsize: 33554432
nsslapd-dncachememsize: 16777216`, BaseDN, s.path("db", "userRoot")))
	d.append(fmt.Sprintf(`dn: cn="%[1]s",cn=mapping tree,cn=config
objectClass: top
objectClass: extensibleObject
objectClass: nsMappingTree
cn: %[1]s
cn: "%[1]s"
nsslapd-state: backend
nsslapd-backend: userRoot`, BaseDN))
	p := s.path("etc", "dse.ldif")
	if err := os.WriteFile(p, []byte(d.String()), 0o600); err != nil {
		return err
	}
	if s.cred != nil {
		return os.Chown(p, int(s.cred.Uid), int(s.cred.Gid))
	}
	return nil
}

// ssha512 hashes a password as 389 DS accepts it in nsslapd-rootpw (a clear
// text root password is refused at start-up).
func ssha512(pw string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	sum := sha512.Sum512(append([]byte(pw), salt...))
	return "{SSHA512}" + base64.StdEncoding.EncodeToString(append(sum[:], salt...)), nil
}

// fillPlaceholders replaces each %name% (lower-case letters and _) by f(name).
func fillPlaceholders(s string, f func(string) string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '%')
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.IndexByte(s[i+1:], '%')
		name := ""
		if j >= 0 {
			name = s[i+1 : i+1+j]
		}
		if j < 0 || name == "" || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz_") != "" {
			b.WriteString(s[:i+1])
			s = s[i+1:]
			continue
		}
		b.WriteString(s[:i])
		b.WriteString(f(name))
		s = s[i+j+2:]
	}
}

// dse is an LDIF file as entries (blank-line separated blocks of lines).
type dse struct{ entries [][]string }

func newDSE(text string) *dse {
	d := &dse{}
	for _, block := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		if strings.TrimSpace(block) == "" {
			continue
		}
		d.entries = append(d.entries, strings.Split(strings.Trim(block, "\n"), "\n"))
	}
	return d
}

func (d *dse) append(entry string) { d.entries = append(d.entries, strings.Split(entry, "\n")) }

// dseEdit is a change to one entry of dse.ldif.
type dseEdit struct {
	dn     string
	enable bool     // nsslapd-pluginenabled: on
	drop   []string // attributes removed
	add    []string // attribute lines appended
}

func (d *dse) edit(e dseEdit) error {
	for i, entry := range d.entries {
		if !strings.EqualFold(strings.TrimSpace(strings.TrimPrefix(entry[0], "dn:")), e.dn) {
			continue
		}
		var out []string
		enabled := false
		for _, line := range entry {
			name, _, _ := strings.Cut(line, ":")
			switch {
			case e.enable && strings.EqualFold(name, "nsslapd-pluginenabled"):
				line, enabled = name+": on", true
			case containsFold(e.drop, name):
				continue
			}
			out = append(out, line)
		}
		if e.enable && !enabled {
			return fmt.Errorf("ds389test: %s in %s has no nsslapd-pluginenabled", e.dn, templateDSE)
		}
		d.entries[i] = append(out, e.add...)
		return nil
	}
	return fmt.Errorf("ds389test: %s has no entry %s", templateDSE, e.dn)
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func (d *dse) String() string {
	var b strings.Builder
	for _, e := range d.entries {
		b.WriteString(strings.Join(e, "\n"))
		b.WriteString("\n\n")
	}
	return b.String()
}

func (s *Server) start() error {
	logf, err := os.OpenFile(s.path("log", "stderr"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	// -d 0 keeps ns-slapd in the foreground without debug output; its
	// errors log is log/errors, start-up failures go to stderr.
	cmd := exec.Command(s.bin, "-D", s.path("etc"), "-i", s.path("run", "ns-slapd.pid"), "-d", "0")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = s.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Pdeathsig: syscall.SIGKILL}
	s.URL = fmt.Sprintf("ldap://127.0.0.1:%d", s.port)
	return s.proc.Start(cmd, s.ping, 60*time.Second)
}

// ping succeeds when the server answers a root DSE search naming the suffix.
func (s *Server) ping() error {
	c, err := ldap.DialURL(s.URL, ldap.DialWithDialer(&net.Dialer{Timeout: time.Second}))
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetTimeout(5 * time.Second)
	res, err := c.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 5, false,
		"(objectClass=*)", []string{"namingContexts"}, nil))
	if err != nil {
		return err
	}
	if len(res.Entries) != 1 || !containsFold(res.Entries[0].GetAttributeValues("namingContexts"), BaseDN) {
		return errors.New("the root DSE does not name " + BaseDN + " yet")
	}
	return nil
}

// Ping checks that the server answers.
func (s *Server) Ping() error { return s.ping() }

// seed adds the suffix entry and the service account.
func (s *Server) seed() error {
	err := ldaptest.AddEntries(s.DialAdmin,
		addReq(BaseDN, attr("objectClass", "top", "domain"), attr("dc", "example")),
		addReq("ou=services,"+BaseDN, attr("objectClass", "top", "organizationalUnit"), attr("ou", "services")),
		addReq(ServiceDN, attr("objectClass", "top", "account", "simpleSecurityObject"), attr("uid", "scimbridge"),
			attr("userPassword", ServicePassword)))
	if err != nil {
		return fmt.Errorf("ds389test: %w", err)
	}
	return nil
}

func addReq(dn string, attrs ...ldap.Attribute) *ldap.AddRequest {
	req := ldap.NewAddRequest(dn, nil)
	req.Attributes = attrs
	return req
}

func attr(name string, values ...string) ldap.Attribute {
	return ldap.Attribute{Type: name, Vals: values}
}

// DialAdmin returns a new connection bound as the root DN; the caller closes it.
func (s *Server) DialAdmin() (*ldap.Conn, error) {
	c, err := ldap.DialURL(s.URL, ldap.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}))
	if err != nil {
		return nil, err
	}
	c.SetTimeout(time.Minute)
	if err := c.Bind(AdminDN, AdminPassword); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Kill kills the server with SIGKILL, as a crash would: no shutdown, open
// connections dropped. Restart starts it again.
func (s *Server) Kill() { s.proc.Kill() }

// Shutdown stops the server cleanly (SIGTERM) and waits for it.
func (s *Server) Shutdown() { s.proc.Signal(syscall.SIGTERM, 30*time.Second) }

// Restart starts the server again after Kill or Shutdown, on the same port
// with the same data. Do not call it from parallel tests.
func (s *Server) Restart() error { return s.proc.Restart(s.start) }

// Stop kills the server and removes its directory. (A clean shutdown
// takes ns-slapd over two seconds, for data that is removed anyway.)
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		s.Kill()
		os.RemoveAll(s.Dir)
	})
}

// Log returns the ends of the server's error log and stderr, for failure
// messages.
func (s *Server) Log() string {
	return servertest.TailFiles(s.path("log", "errors"), s.path("log", "stderr"))
}

// OU is one test's part of the tree, as in ldaptest: ou=t<N>,dc=example,dc=org
// with ou=people and ou=groups below it.
type OU = ldaptest.OU

// NewOU creates a fresh ou=t<N> with ou=people and ou=groups below it,
// both carrying ServiceACI.
func (s *Server) NewOU(t testing.TB) OU {
	t.Helper()
	ou, err := s.CreateOU(fmt.Sprintf("t%d", s.ous.Add(1)))
	if err != nil {
		t.Fatalf("ds389test: %v\n%s", err, s.Log())
	}
	return ou
}

// CreateOU creates ou=<name>,dc=example,dc=org with ou=people and ou=groups
// below it (for programs without a *testing.T; tests use NewOU).
func (s *Server) CreateOU(name string) (OU, error) {
	ou := OU{DN: "ou=" + ldap.EscapeDN(name) + "," + BaseDN}
	ou.People, ou.Groups = "ou=people,"+ou.DN, "ou=groups,"+ou.DN
	err := ldaptest.AddEntries(s.DialAdmin,
		addReq(ou.DN, attr("objectClass", "top", "organizationalUnit"), attr("ou", name)),
		addReq(ou.People, attr("objectClass", "top", "organizationalUnit"), attr("ou", "people"), attr("aci", ServiceACI)),
		addReq(ou.Groups, attr("objectClass", "top", "organizationalUnit"), attr("ou", "groups"), attr("aci", ServiceACI)))
	if err != nil {
		return OU{}, err
	}
	return ou, nil
}

// Bind tries a simple bind as dn on a new connection.
func (s *Server) Bind(dn, password string) error {
	c, err := ldap.DialURL(s.URL, ldap.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}))
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Bind(dn, password)
}
