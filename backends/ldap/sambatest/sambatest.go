// Package sambatest starts a real Active Directory domain controller
// (Samba's "samba" from Debian's samba and winbind packages) as a child
// process for tests.
//
// The domain is provisioned once per machine and Samba version with
//
//	samba-tool domain provision --realm=EXAMPLE.TEST --domain=EXAMPLE
//	  --host-name=DC1 --server-role=dc --dns-backend=NONE ...
//
// into the test cache (servertest.Installed, about six seconds), with the
// additions below made offline with samba-tool on the new sam.ldb:
//
//   - OU=Services,DC=example,DC=test holding the bridge's service account
//     CN=scimbridge (ServiceDN), an ordinary domain user;
//   - OU=scim,DC=example,DC=test, below which each test gets its own OU,
//     carrying ServiceACEs: the delegated rights the service account needs
//     there (create and delete users and groups, read and write their
//     properties, reset passwords), inherited by everything below;
//   - the domain's password policy as Samba provisions it (complexity on,
//     seven characters at least), unchanged.
//
// Start copies that template into a temporary directory, writes an
// smb.conf with every path below it and runs
//
//	samba -i -M single -s DIR/etc/smb.conf
//
// with the ldap service only, listening on one address of its own in
// 127.0.0.0/8 ("interfaces = 127.a.b.c/8", "bind interfaces only"): Samba
// cannot move its LDAP ports, so each test package's DC gets an address
// instead of a port, and the packages run in parallel. LDAPS (636) uses
// the self-signed certificate Samba generates on its first start, for
// DC1.example.test; clients verify it with CAFile and ServerName (the URL
// names the address). Samba refuses simple binds without TLS.
//
// A test package starts one DC in TestMain and hands every test its own OU:
//
//	func TestMain(m *testing.M) { sambatest.Main(m) }
//
//	func TestX(t *testing.T) {
//		srv := sambatest.Shared(t) // skips when samba is not installed
//		ou := srv.NewOU(t)         // OU=t<N>,OU=scim,DC=example,DC=test with OU=People and OU=Groups
//		...
//	}
//
// When samba is not installed the tests skip with a clear message, unless
// SCIMBRIDGE_REQUIRE_SERVERS=1, where they fail; so do they when the test
// does not run as root (as CI does): Samba's LDAP ports, 389 and 636,
// cannot be moved and binding them needs root. Samba runs as root, with
// every file in its temporary directory.
package sambatest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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

// Fixed names of the test domain.
const (
	Realm      = "EXAMPLE.TEST"
	Domain     = "EXAMPLE"
	HostName   = "DC1"
	BaseDN     = "DC=example,DC=test"
	UPNSuffix  = "example.test"
	ServerName = "dc1.example.test" // in the DC's certificate
	// AdminDN is the domain's Administrator (Domain Admins).
	AdminDN       = "CN=Administrator,CN=Users," + BaseDN
	AdminPassword = "Adm1n-Secret-4-Tests"
	// ServiceDN is the bridge's account: a domain user with the rights
	// ServiceACEs gives it below ScimDN only.
	ServiceDN       = "CN=scimbridge,OU=Services," + BaseDN
	ServicePassword = "Svc-Secret-4-Tests"
	// ScimDN is the OU below which tests get their OUs.
	ScimDN = "OU=scim," + BaseDN
)

// Schema GUIDs of the classes and the extended right ServiceACEs names.
const (
	ClassUser          = "bf967aba-0de6-11d0-a285-00aa003049e2"
	ClassGroup         = "bf967a9c-0de6-11d0-a285-00aa003049e2"
	RightResetPassword = "00299570-246d-11d0-a768-00aa006e0529" // User-Force-Change-Password
)

// ServiceACEs are the ACEs (SDDL) put on ScimDN for the service account's
// SID: create and delete user and group objects (CI: in every OU below),
// read and write every property of users and groups (CIIO: on the objects
// below, not on the OUs), and the Reset Password extended right on users.
// This is what docs/activedirectory.md asks an administrator to delegate.
func ServiceACEs(sid string) string {
	return fmt.Sprintf("(OA;CI;CCDC;%[2]s;;%[1]s)(OA;CI;CCDC;%[3]s;;%[1]s)"+
		"(OA;CIIO;RPWP;;%[2]s;%[1]s)(OA;CIIO;RPWP;;%[3]s;%[1]s)(OA;CIIO;CR;%[4]s;%[2]s;%[1]s)",
		sid, ClassUser, ClassGroup, RightResetPassword)
}

// ErrNotInstalled is returned by Start when samba or samba-tool is missing.
var ErrNotInstalled = errors.New("sambatest: Samba AD DC not installed (apt-get install samba winbind: samba and samba-tool)")

// errNotRoot is why the DC cannot run; it counts as ErrNotInstalled, so
// that tests skip (or fail under SCIMBRIDGE_REQUIRE_SERVERS=1).
type errNotRoot struct{}

func (errNotRoot) Error() string {
	return "sambatest: the Samba AD DC needs root to listen on its LDAP ports (389, 636), which cannot be moved"
}

func (errNotRoot) Is(target error) bool { return target == ErrNotInstalled }

// Server is one running Samba AD DC.
type Server struct {
	// Admin reads the directory as the domain's Administrator.
	ldaptest.Admin
	// URL is ldaps://127.a.b.c:636.
	URL string
	// Addr is the DC's loopback address.
	Addr string
	// CAFile is the PEM CA certificate that signed the DC's certificate.
	CAFile string
	// Dir is the instance's temporary directory.
	Dir string
	// StartTime is how long the start took (copy, start, first answer).
	StartTime time.Duration

	bin      string
	tool     string
	tls      *tls.Config
	proc     servertest.Process
	ous      atomic.Int64
	stopOnce sync.Once
}

var shared = &servertest.Shared[*Server]{Name: "sambatest", NotInstalled: ErrNotInstalled, Start: Start, Stop: (*Server).Stop}

// Main runs the test package with one DC, started on first use, and stops
// it afterwards. Tests get the server with Shared.
func Main(m *testing.M) { os.Exit(Wrap(m.Run)) }

// Wrap runs run (m.Run, or another harness's Wrap of it) with one DC,
// started on first use, and stops it afterwards.
func Wrap(run func() int) int { return shared.Wrap(run) }

// Shared returns the package's DC. It skips the test when Samba is not
// installed (fails under SCIMBRIDGE_REQUIRE_SERVERS=1) and fails it when
// the DC could not be started.
func Shared(t testing.TB) *Server {
	t.Helper()
	return shared.Get(t)
}

func findBinaries() (bin, tool string, err error) {
	bin, err = exec.LookPath("samba")
	if err != nil {
		bin = "/usr/sbin/samba"
	}
	tool, err = exec.LookPath("samba-tool")
	if err != nil {
		tool = "/usr/bin/samba-tool"
	}
	for _, p := range []string{bin, tool} {
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			return "", "", ErrNotInstalled
		} else if err != nil {
			return "", "", fmt.Errorf("sambatest: %w", err)
		}
	}
	return bin, tool, nil
}

var versionRE = regexp.MustCompile(`[^A-Za-z0-9.+-]+`)

// template returns the cached provisioned domain, provisioning it first.
func template(bin, tool string) (string, error) {
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("sambatest: samba --version: %w", err)
	}
	version := versionRE.ReplaceAllString(strings.TrimSpace(string(out)), "-")
	return servertest.Installed("samba-ad-"+version+"-v1", func(tmp string) error { return provision(tool, tmp) })
}

// provision creates the domain in dir and adds what the package comment
// lists, offline.
func provision(tool, dir string) error {
	run := func(args ...string) (string, error) {
		cmd := exec.Command(tool, args...)
		cmd.Env = append(os.Environ(), "HOME="+dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("sambatest: samba-tool %s: %w\n%s", strings.Join(args[:min(3, len(args))], " "), err, servertest.Tail(out, 3000))
		}
		return string(out), nil
	}
	if _, err := run("domain", "provision", "--targetdir="+dir, "--realm="+Realm, "--domain="+Domain,
		"--host-name="+HostName, "--server-role=dc", "--dns-backend=NONE", "--adminpass="+AdminPassword,
		"--option=interfaces=127.0.0.1/8", "--option=bind interfaces only=yes",
		"--option=log file = "+filepath.Join(dir, "log")); err != nil {
		return err
	}
	h := []string{"-H", filepath.Join(dir, "private", "sam.ldb"), "-s", filepath.Join(dir, "etc", "smb.conf")}
	if _, err := run(append([]string{"ou", "create", "OU=Services," + BaseDN}, h...)...); err != nil {
		return err
	}
	if _, err := run(append([]string{"ou", "create", ScimDN}, h...)...); err != nil {
		return err
	}
	if _, err := run(append([]string{"user", "create", "scimbridge", ServicePassword, "--userou=OU=Services"}, h...)...); err != nil {
		return err
	}
	out, err := run(append([]string{"user", "show", "scimbridge", "--attributes=objectSid"}, h...)...)
	if err != nil {
		return err
	}
	m := regexp.MustCompile(`(?m)^objectSid: (S-[0-9-]+)$`).FindStringSubmatch(out)
	if m == nil {
		return fmt.Errorf("sambatest: no objectSid in %q", out)
	}
	if _, err := run(append([]string{"dsacl", "set", "--objectdn=" + ScimDN, "--sddl=" + ServiceACEs(m[1])}, h...)...); err != nil {
		return err
	}
	// The instance's smb.conf is written per start; the provisioned one
	// names this directory.
	return os.Remove(filepath.Join(dir, "etc", "smb.conf"))
}

// Start copies the provisioned domain into a temporary directory and
// starts a DC on it. Stop it with Stop.
func Start() (*Server, error) {
	bin, tool, err := findBinaries()
	if err != nil {
		return nil, err
	}
	if os.Geteuid() != 0 {
		// Samba's LDAP ports (389, 636) cannot be moved, and binding them
		// needs root (or CAP_NET_BIND_SERVICE).
		return nil, errNotRoot{}
	}
	tmpl, err := template(bin, tool)
	if err != nil {
		return nil, err
	}
	begin := time.Now()
	dir, err := os.MkdirTemp("", "sambatest-")
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, bin: bin, tool: tool, CAFile: filepath.Join(dir, "private", "tls", "ca.pem")}
	s.Admin = ldaptest.NewAdmin("sambatest", s.DialAdmin)
	fail := func(err error) (*Server, error) {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := copyTree(tmpl, dir); err != nil {
		return fail(fmt.Errorf("sambatest: copying the provisioned domain: %w", err))
	}
	if err := s.writeCerts(); err != nil {
		return fail(err)
	}
	var lastErr error
	for range 3 {
		if s.Addr, err = freeAddr(); err != nil {
			return fail(err)
		}
		if err := s.writeConf(); err != nil {
			return fail(err)
		}
		if lastErr = s.start(); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		return fail(fmt.Errorf("sambatest: starting samba: %w\n%s", lastErr, s.Log()))
	}
	s.StartTime = time.Since(begin)
	return s, nil
}

// writeCerts makes a CA and a server certificate for ServerName signed by
// it, for LDAPS.
func (s *Server) writeCerts() error {
	dir := s.path("private", "tls")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sambatest CA " + s.Addr},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(7 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: ServerName},
		DNSNames: []string{ServerName}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(7 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		name, typ string
		der       []byte
		mode      os.FileMode
	}{{"ca.pem", "CERTIFICATE", caDER, 0o644}, {"cert.pem", "CERTIFICATE", leafDER, 0o644}, {"key.pem", "PRIVATE KEY", keyDER, 0o600}} {
		if err := os.WriteFile(filepath.Join(dir, f.name), pem.EncodeToMemory(&pem.Block{Type: f.typ, Bytes: f.der}), f.mode); err != nil {
			return err
		}
	}
	return nil
}

// freeAddr picks an address in 127.0.0.0/8 (not 127.0.0.x) whose LDAP
// ports are free.
func freeAddr() (string, error) {
	var last error
	for range 20 {
		var b [3]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", err
		}
		addr := fmt.Sprintf("127.%d.%d.%d", 1+b[0]%250, b[1], 1+b[2]%250)
		free := true
		for _, port := range []string{"389", "636", "3268", "3269"} {
			ln, err := net.Listen("tcp", net.JoinHostPort(addr, port))
			if err != nil {
				free, last = false, err
				break
			}
			ln.Close()
		}
		if free {
			return addr, nil
		}
	}
	return "", fmt.Errorf("sambatest: no free loopback address for LDAP: %v", last)
}

func (s *Server) path(parts ...string) string {
	return filepath.Join(append([]string{s.Dir}, parts...)...)
}

// writeConf writes etc/smb.conf for this directory and address: only the
// ldap service, every file below the directory.
func (s *Server) writeConf() error {
	for _, d := range []string{"etc", "run", "cache", "ncalrpc", "winbindd", "ntp_signd", "state", "bind-dns"} {
		if err := os.MkdirAll(s.path(d), 0o755); err != nil {
			return err
		}
	}
	conf := fmt.Sprintf(`[global]
	netbios name = %[3]s
	workgroup = %[4]s
	realm = %[5]s
	server role = active directory domain controller
	server services = ldap
	interfaces = %[2]s/8
	bind interfaces only = yes
	private dir = %[1]s/private
	state directory = %[1]s/state
	cache directory = %[1]s/cache
	lock directory = %[1]s
	pid directory = %[1]s/run
	binddns dir = %[1]s/bind-dns
	ncalrpc dir = %[1]s/ncalrpc
	winbindd socket directory = %[1]s/winbindd
	ntp signd socket directory = %[1]s/ntp_signd
	log file = %[1]s/log
	tls enabled = yes
	tls keyfile = %[1]s/private/tls/key.pem
	tls certfile = %[1]s/private/tls/cert.pem
	tls cafile = %[1]s/private/tls/ca.pem
	max log size = 10000
	logging = file
	log level = 1
`, s.Dir, s.Addr, HostName, Domain, Realm)
	return os.WriteFile(s.path("etc", "smb.conf"), []byte(conf), 0o644)
}

func (s *Server) start() error {
	logf, err := os.OpenFile(s.path("stderr"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(s.bin, "-i", "-M", "single", "-s", s.path("etc", "smb.conf"))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = s.Dir
	cmd.Env = append(os.Environ(), "HOME="+s.Dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	s.URL = "ldaps://" + net.JoinHostPort(s.Addr, "636")
	return s.proc.Start(cmd, s.ping, 60*time.Second)
}

// TLSConfig verifies the DC's certificate with CAFile for ServerName.
func (s *Server) TLSConfig() (*tls.Config, error) {
	if s.tls != nil {
		return s.tls, nil
	}
	data, err := os.ReadFile(s.CAFile)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("sambatest: %s holds no certificate", s.CAFile)
	}
	s.tls = &tls.Config{RootCAs: roots, ServerName: ServerName, MinVersion: tls.VersionTLS12}
	return s.tls, nil
}

// Dial connects over LDAPS, verifying the certificate, without binding.
// The timeout covers the TLS handshake, which a single-process DC answers
// only between other work: under CI's load (test packages in parallel)
// that took over 5 s.
func (s *Server) Dial() (*ldap.Conn, error) {
	tc, err := s.TLSConfig()
	if err != nil {
		return nil, err
	}
	c, err := ldap.DialURL(s.URL, ldap.DialWithDialer(&net.Dialer{Timeout: 30 * time.Second}), ldap.DialWithTLSConfig(tc))
	if err != nil {
		return nil, err
	}
	c.SetTimeout(time.Minute)
	return c, nil
}

// ping succeeds when the DC answers a root DSE search over LDAPS.
func (s *Server) ping() error {
	c, err := s.Dial()
	if err != nil {
		return err
	}
	defer c.Close()
	res, err := c.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 5, false,
		"(objectClass=*)", []string{"defaultNamingContext"}, nil))
	if err != nil {
		return err
	}
	if len(res.Entries) != 1 || !strings.EqualFold(res.Entries[0].GetAttributeValue("defaultNamingContext"), BaseDN) {
		return errors.New("the root DSE does not name " + BaseDN + " yet")
	}
	return nil
}

// Ping checks that the DC answers.
func (s *Server) Ping() error { return s.ping() }

// DialAdmin returns a new connection bound as the Administrator; the
// caller closes it.
func (s *Server) DialAdmin() (*ldap.Conn, error) { return s.DialAs(AdminDN, AdminPassword) }

// DialAs returns a new connection bound as dn; the caller closes it.
func (s *Server) DialAs(dn, password string) (*ldap.Conn, error) {
	c, err := s.Dial()
	if err != nil {
		return nil, err
	}
	if err := c.Bind(dn, password); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Bind tries a simple bind as dn on a new connection.
func (s *Server) Bind(dn, password string) error {
	c, err := s.DialAs(dn, password)
	if err != nil {
		return err
	}
	return c.Close()
}

// Tool runs samba-tool with args against the running DC's database as
// the local administrator would (-H DIR/private/sam.ldb) and returns its
// output.
func (s *Server) Tool(args ...string) (string, error) {
	cmd := exec.Command(s.tool, append(args, "-H", s.path("private", "sam.ldb"), "-s", s.path("etc", "smb.conf"))...)
	cmd.Env = append(os.Environ(), "HOME="+s.Dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("samba-tool %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// Kill kills the DC with SIGKILL, as a crash would. Restart starts it again.
func (s *Server) Kill() { s.proc.Kill() }

// Restart starts the DC again after Kill, on the same address with the
// same data. Do not call it from parallel tests.
func (s *Server) Restart() error { return s.proc.Restart(s.start) }

// Stop kills the DC and removes its directory.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		s.Kill()
		os.RemoveAll(s.Dir)
	})
}

// Log returns the ends of the DC's log and stderr, for failure messages.
func (s *Server) Log() string {
	return servertest.TailFiles(s.path("log"), s.path("stderr"))
}

// OU is one test's part of the tree: DN is OU=t<N>,OU=scim,DC=example,DC=test,
// People OU=People,<DN> and Groups OU=Groups,<DN>.
type OU = ldaptest.OU

// NewOU creates a fresh OU=t<N> below ScimDN with OU=People and OU=Groups,
// deleted with everything in it when the test ends: sAMAccountName and
// userPrincipalName are unique in the whole domain, so the next test may
// reuse the names.
func (s *Server) NewOU(t testing.TB) OU {
	t.Helper()
	ou, err := s.CreateOU(fmt.Sprintf("t%d", s.ous.Add(1)))
	if err != nil {
		t.Fatalf("sambatest: %v\n%s", err, s.Log())
	}
	t.Cleanup(func() {
		if err := s.DeleteTree(ou.DN); err != nil {
			t.Logf("sambatest: removing %s: %v", ou.DN, err)
		}
	})
	return ou
}

// DeleteTree deletes dn and everything below it (the tree delete control).
func (s *Server) DeleteTree(dn string) error {
	c, err := s.DialAdmin()
	if err != nil {
		return err
	}
	defer c.Close()
	err = c.Del(ldap.NewDelRequest(dn, []ldap.Control{ldap.NewControlSubtreeDelete()}))
	if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
		return nil
	}
	return err
}

// CreateOU creates OU=<name> below ScimDN with OU=People and OU=Groups
// (for programs without a *testing.T; tests use NewOU).
func (s *Server) CreateOU(name string) (OU, error) {
	ou := OU{DN: "OU=" + ldap.EscapeDN(name) + "," + ScimDN}
	ou.People, ou.Groups = "OU=People,"+ou.DN, "OU=Groups,"+ou.DN
	var reqs []*ldap.AddRequest
	for _, dn := range []string{ou.DN, ou.People, ou.Groups} {
		req := ldap.NewAddRequest(dn, nil)
		req.Attribute("objectClass", []string{"organizationalUnit"})
		reqs = append(reqs, req)
	}
	if err := ldaptest.AddEntries(s.DialAdmin, reqs...); err != nil {
		return OU{}, err
	}
	return ou, nil
}

// copyTree copies the regular files, directories and symlinks below src
// to dst, keeping modes (Samba refuses a TLS key others can read).
// Sockets (a left-over ldapi) are skipped.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(target, info.Mode().Perm())
		case info.Mode()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case !info.Mode().IsRegular():
			return nil
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_EXCL, info.Mode().Perm())
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}

// PID is the DC's process id (its process group's), 0 when it is not running.
func (s *Server) PID() int { return s.proc.PID() }
