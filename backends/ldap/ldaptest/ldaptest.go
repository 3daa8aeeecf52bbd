// Package ldaptest starts a real OpenLDAP slapd as a child process for
// tests: a temporary directory, cn=config loaded with slapadd -n0 from
// a generated LDIF, one mdb database (dc=example,dc=org) with the core, cosine,
// inetorgperson and nis schemas and the memberof, refint and ppolicy
// overlays (a default password policy at PolicyDN, so that
// pwdAccountLockedTime locks accounts), a monitor database, and listeners
// on free loopback ports (plain LDAP and, with Options.TLS, LDAPS with a
// throw-away CA).
//
// Options.Stock starts slapd as a directory is usually found instead: the
// database Debian's slapd package sets up (its schemas, indexes and access
// rules, see /usr/share/slapd/slapd.init.ldif) plus the memberof and refint
// overlays, and no ppolicy: pwdAccountLockedTime is an undefined attribute
// there.
//
// A test package starts one server in TestMain with Main and hands every
// test its own OU with NewOU:
//
//	func TestMain(m *testing.M) { ldaptest.Main(m, ldaptest.Options{TLS: true}) }
//
//	func TestX(t *testing.T) {
//		srv := ldaptest.Shared(t) // skips when slapd is not installed
//		ou := srv.NewOU(t)        // ou=t<N>,dc=example,dc=org with ou=people and ou=groups
//		...
//	}
//
// When slapd is not installed the tests skip with a clear message, unless
// SCIMBRIDGE_REQUIRE_SERVERS=1, where they fail.
//
// Programs that are not tests (benchmarks) use Start, CreateOU and
// DialAdmin, which need no *testing.T, and Stop.
package ldaptest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/scimbridge/scimbridge/backends/servertest"
)

// Fixed names of the test directory.
const (
	BaseDN         = "dc=example,dc=org"
	AdminDN        = "cn=admin," + BaseDN
	AdminPassword  = "admin-secret"
	ReaderDN       = "cn=reader," + BaseDN
	ReaderPassword = "reader-secret"
	// ServiceDN is an account with no rights of its own; GrantService
	// gives it write access to one test's OUs with the olcAccess rules
	// examples/openldap.hcl documents.
	ServiceDN       = "cn=scimbridge,ou=services," + BaseDN
	ServicePassword = "service-secret"
	// PolicyDN is the default password policy of the ppolicy overlay. It
	// sets no quality or expiry rules: it exists so that binds honour
	// pwdAccountLockedTime (000001010000Z locks an account for good).
	PolicyDN = "cn=default,ou=policies," + BaseDN
	// PermanentLock is the pwdAccountLockedTime value that locks an
	// account until an administrator removes it.
	PermanentLock = "000001010000Z"
)

// ErrNoSlapd is returned by Start when the slapd binary is not installed.
var ErrNoSlapd = errors.New("ldaptest: slapd not installed (apt-get install slapd ldap-utils)")

// Options select optional parts of the server.
type Options struct {
	// TLS adds an ldaps:// listener and StartTLS support with a generated CA,
	// server certificate (for 127.0.0.1) and client certificate.
	TLS bool
	// NoMemberOf leaves the memberof overlay out (refint and ppolicy stay),
	// for comparing the cost of membership changes without it. Users then
	// have no memberOf attribute.
	NoMemberOf bool
	// Stock configures the database as Debian's slapd package does
	// (modules back_mdb only; schemas core, cosine, nis, inetorgperson; its
	// indexes and its three access rules) and adds only the memberof and
	// refint overlays that most sites enable: no ppolicy overlay, no
	// password policy, no entryUUID or mail index. The seeded tree is the
	// same (base entry, ReaderDN, ou=services with ServiceDN) without
	// ou=policies.
	Stock bool
}

// Server is one running slapd.
type Server struct {
	// Admin reads the directory as the root DN (Conn, Search, Entry).
	Admin
	// URL is ldap://127.0.0.1:PORT.
	URL string
	// TLSURL is ldaps://127.0.0.1:PORT (only with Options.TLS).
	TLSURL string
	// CAFile, ClientCertFile and ClientKeyFile are PEM files (only with Options.TLS).
	CAFile, ClientCertFile, ClientKeyFile string
	// Dir is the server's temporary directory (config, data, log).
	Dir string

	opts    Options
	port    int
	tlsPort int
	proc    servertest.Process
	ous     atomic.Int64
}

var shared = &servertest.Shared[*Server]{Name: "ldaptest", NotInstalled: ErrNoSlapd, Stop: (*Server).Stop}

// Main runs the test package with one server, started on first use with
// opts, and stops it afterwards. Tests get the server with Shared.
func Main(m *testing.M, opts Options) {
	os.Exit(Wrap(m.Run, opts))
}

// Wrap is Main for a TestMain that composes harnesses:
// os.Exit(pgtest.Wrap(func() int { return ldaptest.Wrap(m.Run, opts) })).
func Wrap(run func() int, opts Options) int {
	shared.Start = func() (*Server, error) { return Start(opts) }
	return shared.Wrap(run)
}

// Shared returns the package's server. It skips the test when slapd is not
// installed (fails under SCIMBRIDGE_REQUIRE_SERVERS=1) and fails it when
// the server could not be started.
func Shared(t testing.TB) *Server {
	t.Helper()
	return shared.Get(t)
}

// Own starts a server of t's own with opts, stopped when t ends. Like
// Shared, it skips t when slapd is not installed (fails it under
// SCIMBRIDGE_REQUIRE_SERVERS=1).
func Own(t testing.TB, opts Options) *Server {
	t.Helper()
	srv, err := Start(opts)
	if errors.Is(err, ErrNoSlapd) && !servertest.Required() {
		t.Skip(err)
	}
	if err != nil {
		t.Fatalf("ldaptest: %v", err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

func lookBinary(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/usr/local/libexec"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", ErrNoSlapd
}

// Start creates and starts a server. Stop it with Stop.
func Start(opts Options) (*Server, error) {
	slapd, err := lookBinary("slapd")
	if err != nil {
		return nil, err
	}
	slapadd, err := lookBinary("slapadd")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "ldaptest-")
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, opts: opts}
	s.Admin = NewAdmin("ldaptest", s.dialAdmin)
	if opts.TLS {
		if err := s.writeCerts(); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	for _, sub := range []string{"data", "slapd.d"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o700); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	conf := filepath.Join(dir, "config.ldif")
	if err := os.WriteFile(conf, []byte(s.configLDIF()), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	out, err := exec.Command(slapadd, "-n0", "-F", filepath.Join(dir, "slapd.d"), "-l", conf).CombinedOutput()
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("slapadd -n0: %v: %s", err, out)
	}
	var lastErr error
	for range 5 {
		if s.port, err = servertest.FreePort(); err != nil {
			return nil, err
		}
		if opts.TLS {
			if s.tlsPort, err = servertest.FreePort(); err != nil {
				return nil, err
			}
		}
		if lastErr = s.start(slapd); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "slapd.log"))
		os.RemoveAll(dir)
		return nil, fmt.Errorf("starting slapd: %w\n%s", lastErr, servertest.Tail(log, 4000))
	}
	if err := s.seed(); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// configLDIF is the cn=config tree, loaded with slapadd -n0 as a packaged
// slapd is set up.
func (s *Server) configLDIF() string {
	d := s.Dir
	var b strings.Builder
	fmt.Fprintf(&b, `dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: %[1]s/slapd.pid
olcArgsFile: %[1]s/slapd.args
olcSizeLimit: 500
`, d)
	if s.opts.TLS {
		fmt.Fprintf(&b, `olcTLSCACertificateFile: %[1]s/ca.pem
olcTLSCertificateFile: %[1]s/server.pem
olcTLSCertificateKeyFile: %[1]s/server.key
olcTLSVerifyClient: try
`, d)
	}
	b.WriteString(`
dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: {0}back_mdb
olcModuleLoad: {1}memberof
olcModuleLoad: {2}refint
`)
	if !s.opts.Stock {
		b.WriteString("olcModuleLoad: {3}ppolicy\n")
	}
	b.WriteString(`
dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

`)
	for _, schema := range []string{"core", "cosine", "inetorgperson", "nis"} {
		fmt.Fprintf(&b, "include: file:///etc/ldap/schema/%s.ldif\n\n", schema)
	}
	fmt.Fprintf(&b, `dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcRootDN: cn=admin,cn=config
olcRootPW: %[2]s

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcDbDirectory: %[1]s/data
olcDbMaxSize: 4294967296
olcDbNoSync: TRUE
olcSuffix: %[3]s
olcRootDN: %[4]s
olcRootPW: %[2]s
%[5]s
%[6]sdn: olcDatabase={2}monitor,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {2}monitor
olcAccess: {0}to * by dn.exact="%[4]s" read by * none
`, d, AdminPassword, BaseDN, AdminDN, s.indexAccessLDIF(), s.overlayLDIF())
	return b.String()
}

// indexAccessLDIF is the mdb database's indexes and access rules.
func (s *Server) indexAccessLDIF() string {
	if s.opts.Stock {
		// As Debian's slapd.init.ldif has them.
		return `olcDbIndex: objectClass eq
olcDbIndex: cn,uid eq
olcDbIndex: uidNumber,gidNumber eq
olcDbIndex: member,memberUid eq
olcAccess: {0}to attrs=userPassword by self write by anonymous auth by * none
olcAccess: {1}to attrs=shadowLastChange by self write by * read
olcAccess: {2}to * by * read
`
	}
	return fmt.Sprintf(`olcDbIndex: objectClass eq
olcDbIndex: entryUUID eq
olcDbIndex: uid,cn,mail eq,sub
olcDbIndex: member,uniqueMember,memberUid,memberOf,manager eq
olcAccess: {0}to attrs=userPassword by self write by anonymous auth by * none
olcAccess: {1}to * by dn.exact="%s" read by * read
`, ReaderDN)
}

// overlayLDIF configures the overlays of the mdb database, in order.
func (s *Server) overlayLDIF() string {
	var b strings.Builder
	n := 0
	if !s.opts.NoMemberOf {
		fmt.Fprintf(&b, `dn: olcOverlay={%d}memberof,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcMemberOfConfig
olcOverlay: {%d}memberof
olcMemberOfRefInt: TRUE
olcMemberOfDangling: ignore

`, n, n)
		n++
	}
	fmt.Fprintf(&b, `dn: olcOverlay={%d}refint,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcRefintConfig
olcOverlay: {%d}refint
olcRefintAttribute: member
olcRefintAttribute: uniqueMember

`, n, n)
	n++
	if s.opts.Stock {
		return b.String()
	}
	fmt.Fprintf(&b, `dn: olcOverlay={%d}ppolicy,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcPPolicyConfig
olcOverlay: {%d}ppolicy
olcPPolicyDefault: %s

`, n, n, PolicyDN)
	return b.String()
}

func (s *Server) start(slapd string) error {
	urls := fmt.Sprintf("ldap://127.0.0.1:%d/", s.port)
	if s.opts.TLS {
		urls += fmt.Sprintf(" ldaps://127.0.0.1:%d/", s.tlsPort)
	}
	logf, err := os.OpenFile(filepath.Join(s.Dir, "slapd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close() // slapd has its own copy
	// -d keeps slapd in the foreground; level 0 logs only startup problems.
	cmd := exec.Command(slapd, "-d", "0", "-F", filepath.Join(s.Dir, "slapd.d"), "-h", urls)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	s.URL = fmt.Sprintf("ldap://127.0.0.1:%d", s.port)
	if s.opts.TLS {
		s.TLSURL = fmt.Sprintf("ldaps://127.0.0.1:%d", s.tlsPort)
	}
	return s.proc.Start(cmd, func() error {
		c, err := ldap.DialURL(s.URL)
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 5, false,
			"(objectClass=*)", []string{"namingContexts"}, nil))
		return err
	}, 15*time.Second)
}

// Stop stops the server and removes its directory.
func (s *Server) Stop() {
	s.proc.Signal(syscall.SIGTERM, 10*time.Second)
	os.RemoveAll(s.Dir)
}

// Crash kills the server with SIGKILL, as a crash would: no shutdown, open
// connections dropped. Resume starts it again.
func (s *Server) Crash() { s.proc.Kill() }

// Resume starts the server again after Crash, on the same ports with the
// same data.
func (s *Server) Resume() error {
	slapd, err := lookBinary("slapd")
	if err != nil {
		return err
	}
	return s.proc.Restart(func() error { return s.start(slapd) })
}

// Restart stops the server and starts it again on the same ports with the
// same data, as a directory restart does; open connections are dropped.
// Do not call it from parallel tests.
func (s *Server) Restart() error {
	s.proc.Signal(syscall.SIGTERM, 10*time.Second)
	return s.Resume()
}

// Load adds the entries of an LDIF file the fast way a directory is
// bulk-loaded: the server is stopped, slapadd -q writes them into the
// database, and the server starts again on the same ports (freshly
// loaded: open connections are dropped). Parents must exist.
func (s *Server) Load(ldifPath string) error {
	slapd, err := lookBinary("slapd")
	if err != nil {
		return err
	}
	slapadd, err := lookBinary("slapadd")
	if err != nil {
		return err
	}
	s.proc.Signal(syscall.SIGTERM, 30*time.Second)
	out, err := exec.Command(slapadd, "-q", "-n1", "-F", filepath.Join(s.Dir, "slapd.d"), "-l", ldifPath).CombinedOutput()
	if rerr := s.proc.Restart(func() error { return s.start(slapd) }); rerr != nil && err == nil {
		return rerr
	}
	if err != nil {
		return fmt.Errorf("slapadd: %v: %s", err, servertest.Tail(out, 2000))
	}
	return nil
}

// seed adds the base entry and the read-only account.
func (s *Server) seed() error {
	c, err := s.dialAdmin()
	if err != nil {
		return err
	}
	defer c.Close()
	type attrs = map[string][]string
	account := func(cn, password string) attrs {
		return attrs{"objectClass": {"person"}, "cn": {cn}, "sn": {cn}, "userPassword": {password}}
	}
	ou := func(name string) attrs { return attrs{"objectClass": {"organizationalUnit"}, "ou": {name}} }
	type entry struct {
		dn    string
		attrs attrs
	}
	entries := []entry{
		{BaseDN, attrs{"objectClass": {"dcObject", "organization"}, "dc": {"example"}, "o": {"Example"}}},
		{ReaderDN, account("reader", ReaderPassword)},
		{"ou=services," + BaseDN, ou("services")},
		{ServiceDN, account("scimbridge", ServicePassword)},
	}
	if !s.opts.Stock {
		entries = append(entries,
			entry{"ou=policies," + BaseDN, ou("policies")},
			// Lockout on, but pwdMaxFailure 0: failed binds never lock an
			// account; only an administrator's pwdAccountLockedTime does.
			entry{PolicyDN, attrs{"objectClass": {"organizationalRole", "pwdPolicy"}, "cn": {"default"},
				"pwdAttribute": {"userPassword"}, "pwdLockout": {"TRUE"}, "pwdMaxFailure": {"0"}}})
	}
	for _, e := range entries {
		req := ldap.NewAddRequest(e.dn, nil)
		for _, name := range slices.Sorted(maps.Keys(e.attrs)) {
			req.Attribute(name, e.attrs[name])
		}
		if err := c.Add(req); err != nil {
			return fmt.Errorf("adding %s: %w", e.dn, err)
		}
	}
	return nil
}

// DialAdmin returns a new connection bound as the rootdn; the caller closes it.
func (s *Server) DialAdmin() (*ldap.Conn, error) { return s.dialAdmin() }

func (s *Server) dialAdmin() (*ldap.Conn, error) { return s.DialAs(AdminDN, AdminPassword) }

// DialAs returns a new connection bound as dn; the caller closes it.
func (s *Server) DialAs(dn, password string) (*ldap.Conn, error) {
	c, err := ldap.DialURL(s.URL)
	if err != nil {
		return nil, err
	}
	if err := c.Bind(dn, password); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// GrantService gives ServiceDN write access to ou's people and groups,
// with the rules examples/openldap.hcl documents, put first:
//
//	olcAccess: to dn.subtree="<ou>" by dn.exact="<ServiceDN>" write by * break
func (s *Server) GrantService(t testing.TB, ou OU) {
	t.Helper()
	c, err := s.DialAs("cn=admin,cn=config", AdminPassword)
	if err != nil {
		t.Fatalf("ldaptest: bind to cn=config: %v", err)
	}
	defer c.Close()
	mod := ldap.NewModifyRequest("olcDatabase={1}mdb,cn=config", nil)
	var rules []string
	for _, dn := range []string{ou.People, ou.Groups} {
		rules = append(rules, fmt.Sprintf(`{0}to dn.subtree="%s" by dn.exact="%s" write by * break`, dn, ServiceDN))
	}
	mod.Add("olcAccess", rules)
	if err := c.Modify(mod); err != nil {
		t.Fatalf("ldaptest: adding olcAccess rules: %v", err)
	}
}

// LiftServiceLimits adds the limits rule examples/openldap.hcl documents
// for the bridge's account, so that slapd's size limit (olcSizeLimit:
// 500, which also bounds paged searches) does not stop its listings:
//
//	olcLimits: dn.exact="<ServiceDN>" size=unlimited
//
// A second call finds the rule in place and adds nothing.
func (s *Server) LiftServiceLimits(t testing.TB) {
	t.Helper()
	c, err := s.DialAs("cn=admin,cn=config", AdminPassword)
	if err != nil {
		t.Fatalf("ldaptest: bind to cn=config: %v", err)
	}
	defer c.Close()
	rule := fmt.Sprintf(`dn.exact="%s" size=unlimited`, ServiceDN)
	res, err := c.Search(ldap.NewSearchRequest("olcDatabase={1}mdb,cn=config", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"olcLimits"}, nil))
	if err != nil {
		t.Fatalf("ldaptest: reading olcLimits: %v", err)
	}
	for _, v := range res.Entries[0].GetAttributeValues("olcLimits") {
		if strings.HasSuffix(v, rule) { // slapd prefixes {N}
			return
		}
	}
	mod := ldap.NewModifyRequest("olcDatabase={1}mdb,cn=config", nil)
	mod.Add("olcLimits", []string{rule})
	if err := c.Modify(mod); err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultAttributeOrValueExists) {
		t.Fatalf("ldaptest: adding the olcLimits rule: %v", err)
	}
}

// DenyBindsBelow adds, first, the access rule examples/openldap.hcl
// documents for its disabled container, so that no entry below dn can
// bind (its userPassword is not even usable for authentication):
//
//	olcAccess: to dn.subtree="<dn>" attrs=userPassword by * none
//
// Call it before GrantService, whose rules (which let the bridge's
// account write there and break for everyone else) must come first.
func (s *Server) DenyBindsBelow(t testing.TB, dn string) {
	t.Helper()
	c, err := s.DialAs("cn=admin,cn=config", AdminPassword)
	if err != nil {
		t.Fatalf("ldaptest: bind to cn=config: %v", err)
	}
	defer c.Close()
	mod := ldap.NewModifyRequest("olcDatabase={1}mdb,cn=config", nil)
	mod.Add("olcAccess", []string{fmt.Sprintf(`{0}to dn.subtree="%s" attrs=userPassword by * none`, dn)})
	if err := c.Modify(mod); err != nil {
		t.Fatalf("ldaptest: adding the olcAccess rule: %v", err)
	}
}

// OU is one test's part of the tree.
type OU struct {
	DN     string // ou=t<N>,dc=example,dc=org
	People string // ou=people,<DN>
	Groups string // ou=groups,<DN>
}

// NewOU creates a fresh ou=t<N> with ou=people and ou=groups below it.
func (s *Server) NewOU(t testing.TB) OU {
	t.Helper()
	ou, err := s.CreateOU(fmt.Sprintf("t%d", s.ous.Add(1)))
	if err != nil {
		t.Fatalf("ldaptest: %v", err)
	}
	return ou
}

// CreateOU creates ou=<name>,dc=example,dc=org with ou=people and ou=groups
// below it (for programs without a *testing.T; tests use NewOU).
func (s *Server) CreateOU(name string) (OU, error) {
	ou := OU{DN: "ou=" + ldap.EscapeDN(name) + "," + BaseDN}
	ou.People, ou.Groups = "ou=people,"+ou.DN, "ou=groups,"+ou.DN
	var reqs []*ldap.AddRequest
	for i, dn := range []string{ou.DN, ou.People, ou.Groups} {
		req := ldap.NewAddRequest(dn, nil)
		req.Attribute("objectClass", []string{"organizationalUnit"})
		req.Attribute("ou", []string{[]string{name, "people", "groups"}[i]})
		reqs = append(reqs, req)
	}
	if err := AddEntries(s.dialAdmin, reqs...); err != nil {
		return OU{}, err
	}
	return ou, nil
}

// MonitorCounter reads a monitorCounter from cn=Monitor, e.g.
// "cn=Entries,cn=Statistics" (entries sent to clients) or
// "cn=Search,cn=Operations" (with attr monitorOpCompleted).
func (s *Server) MonitorCounter(t testing.TB, rdns, attr string) int64 {
	t.Helper()
	e := s.Entry(t, rdns+",cn=Monitor", attr)
	if e == nil {
		t.Fatalf("ldaptest: %s,cn=Monitor not found", rdns)
	}
	n, err := strconv.ParseInt(e.GetAttributeValue(attr), 10, 64)
	if err != nil {
		t.Fatalf("ldaptest: %s of %s: %v", attr, rdns, err)
	}
	return n
}

// Ping checks that the server answers.
func (s *Server) Ping(ctx context.Context) error {
	c, err := ldap.DialURL(s.URL, ldap.DialWithDialer(&net.Dialer{Timeout: time.Second}))
	if err != nil {
		return err
	}
	defer c.Close()
	return c.UnauthenticatedBind("")
}

// writeCerts creates ca.pem, server.pem/key (for 127.0.0.1) and
// client.pem/key in the server directory.
func (s *Server) writeCerts() error {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "ldaptest CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return err
	}
	write := func(name, typ string, der []byte) error {
		var buf bytes.Buffer
		pem.Encode(&buf, &pem.Block{Type: typ, Bytes: der})
		return os.WriteFile(filepath.Join(s.Dir, name), buf.Bytes(), 0o600)
	}
	if err := write("ca.pem", "CERTIFICATE", caDER); err != nil {
		return err
	}
	leaf := func(name string, serial int64, usage x509.ExtKeyUsage, ips []net.IP) error {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: name},
			NotBefore:    now.Add(-time.Hour),
			NotAfter:     now.Add(24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
			IPAddresses:  ips,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			return err
		}
		keyDER, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			return err
		}
		if err := write(name+".pem", "CERTIFICATE", der); err != nil {
			return err
		}
		return write(name+".key", "EC PRIVATE KEY", keyDER)
	}
	if err := leaf("server", 2, x509.ExtKeyUsageServerAuth, []net.IP{net.ParseIP("127.0.0.1")}); err != nil {
		return err
	}
	if err := leaf("client", 3, x509.ExtKeyUsageClientAuth, nil); err != nil {
		return err
	}
	s.CAFile = filepath.Join(s.Dir, "ca.pem")
	s.ClientCertFile = filepath.Join(s.Dir, "client.pem")
	s.ClientKeyFile = filepath.Join(s.Dir, "client.key")
	return nil
}

// PID is slapd's process id (also its process group id). Benchmarks read
// its CPU time from /proc.
func (s *Server) PID() int { return s.proc.PID() }
