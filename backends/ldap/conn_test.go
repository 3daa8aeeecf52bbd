package ldap

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/ldap/ldaptest"
)

func deadURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "ldap://" + addr
}

// TestFailoverAndRestart: the first URL is dead, the second serves; then
// the server restarts under an idle pool and the next call reconnects.
func TestFailoverAndRestart(t *testing.T) {
	srv := ldaptest.Shared(t)
	s := setup{srv: srv, ou: srv.NewOU(t)}
	src := strings.Replace(s.hcl(), `[env("TEST_LDAP_URL")]`, fmt.Sprintf("[%q, %q]", deadURL(t), srv.URL), 1)
	cfg, diags := decode(t, src)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	b := startBackend(t, cfg)
	ctx := ctxT(t)
	u := mustCreate(t, b, "User", user("failover"))
	if err := b.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := srv.Restart(); err != nil {
		t.Fatalf("restart: %v", err)
	}
	if got := mustGet(t, b, "User", u.ID).Attrs.First("uid"); got != "failover" {
		t.Fatalf("after restart uid = %q", got)
	}
	// Only a dead server: ErrUnavailable, quickly, and again at once
	// while it backs off.
	cfg2, diags := decode(t, strings.Replace(s.hcl(), `[env("TEST_LDAP_URL")]`, fmt.Sprintf("[%q]", deadURL(t)), 1))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	dead := startBackend(t, cfg2)
	for range 2 {
		start := time.Now()
		_, err := dead.Get(ctx, "User", u.ID, nil)
		if !errors.Is(err, backends.ErrUnavailable) || time.Since(start) > 3*time.Second {
			t.Fatalf("dead server: %v after %v", err, time.Since(start))
		}
	}
	if err := dead.Ping(ctx); !errors.Is(err, backends.ErrUnavailable) {
		t.Fatalf("Ping on a dead server: %v", err)
	}
}

// TestContextCancel: an expired context ends the call at once.
func TestContextCancel(t *testing.T) {
	t.Parallel()
	srv := ldaptest.Shared(t)
	s := setup{srv: srv, ou: srv.NewOU(t)}
	b := newBackend(t, s)
	u := mustCreate(t, b, "User", user("ctx"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.Get(ctx, "User", u.ID, nil); err == nil {
		t.Fatal("Get with a cancelled context succeeded")
	}
	ctx, cancel = context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	time.Sleep(time.Millisecond)
	_, err := b.Search(ctx, "User", backends.Query{})
	if !errors.Is(err, backends.ErrUnavailable) {
		t.Fatalf("Search past its deadline: %v, want ErrUnavailable", err)
	}
	// The backend still works afterwards.
	mustGet(t, b, "User", u.ID)
}

// TestTLS connects with ldaps://, with StartTLS, and with a client
// certificate, trusting the test CA from ca_file.
func TestTLS(t *testing.T) {
	t.Parallel()
	srv := ldaptest.Shared(t)
	if srv.TLSURL == "" {
		t.Skip("server started without TLS")
	}
	s := setup{srv: srv, ou: srv.NewOU(t)}
	for _, tc := range []struct{ name, url, extra string }{
		{"ldaps", srv.TLSURL, fmt.Sprintf("ca_file = %q", srv.CAFile)},
		{"starttls", srv.URL, fmt.Sprintf("start_tls = true\nca_file = %q", srv.CAFile)},
		{"client-cert", srv.TLSURL, fmt.Sprintf("ca_file = %q\nclient_cert_file = %q\nclient_key_file = %q", srv.CAFile, srv.ClientCertFile, srv.ClientKeyFile)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := s
			s.top = tc.extra
			cfg, diags := decode(t, strings.Replace(s.hcl(), `env("TEST_LDAP_URL")`, fmt.Sprintf("%q", tc.url), 1))
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			b := startBackend(t, cfg)
			if err := b.Ping(ctxT(t)); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			mustCreate(t, b, "User", user("tls-"+tc.name))
		})
	}
	// Without the CA the certificate is refused.
	cfg, diags := decode(t, strings.Replace(s.hcl(), `env("TEST_LDAP_URL")`, fmt.Sprintf("%q", srv.TLSURL), 1))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	b := startBackend(t, cfg)
	if err := b.Ping(ctxT(t)); !errors.Is(err, backends.ErrUnavailable) {
		t.Fatalf("Ping without the CA: %v, want ErrUnavailable", err)
	}
}

func TestDecodeConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("defaults", func(t *testing.T) {
		cfg, diags := decode(t, `
urls = ["ldap://localhost"]
bind_password = file("`+pwFile+`")
resource "User" {
  base_dn = "ou=people,dc=example,dc=org"
  object_classes = ["inetOrgPerson", "posixAccount"]
}
resource "Group" {
  base_dn = "ou=groups,dc=example,dc=org"
  object_classes = ["posixGroup"]
  reference "memberUid" {
    target = "User"
    value_kind = "rdn"
  }
}`)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		if cfg.PoolSize != 8 || cfg.Timeout != "10s" || cfg.IDAttribute != "entryUUID" || cfg.Cache.Size != 100000 ||
			cfg.Cache.TTL != "10m" || cfg.ReferentialIntegrity != "bridge" || cfg.BindPassword != "from-file\n" {
			t.Fatalf("defaults: %+v %+v", cfg, cfg.Cache)
		}
		u := cfg.Resources[0]
		if u.RDNAttribute != "cn" || u.Filter != "(&(objectClass=inetOrgPerson)(objectClass=posixAccount))" || u.Scope != "sub" {
			t.Fatalf("resource defaults: %+v", u)
		}
		if ref := cfg.Resources[1].References[0]; ref.ValueAttribute != "cn" || ref.UnknownIDs != "reject" {
			t.Fatalf("value_attribute default: %+v", ref)
		}
	})
	t.Run("errors", func(t *testing.T) {
		_, diags := decode(t, `
urls = ["http://x", "ldaps://ok"]
start_tls = true
timeout = "soon"
pool_size = -1
ca_file = "/nonexistent/ca.pem"
client_cert_file = "`+pwFile+`"
cache {
  ttl = "-1s"
}
resource "User" {
  base_dn = "not a dn"
  rdn_attribute = "u id"
  object_classes = ["inetOrgPerson"]
  filter = "(uid="
  reference "manager" {
    target = "Nobody"
  }
}
resource "Group" {
  base_dn = "ou=groups,dc=example,dc=org"
  disabled_base_dn = "ou=disabled,dc=example,dc=org"
  object_classes = ["groupOfNames"]
  reference "member" {
    target = "User"
    value_kind = "guid"
    unknown_ids = "drop"
  }
}`)
		want := []string{"Invalid LDAP URL", "StartTLS with ldaps://", "Invalid duration", "Invalid pool size",
			"File not readable", "Incomplete client certificate", "Invalid base DN", "Invalid attribute name",
			"Invalid LDAP filter", "Unknown reference target", "Invalid value_kind", "Invalid unknown_ids", "Disabled container outside the base"}
		var got []string
		for _, d := range diags {
			got = append(got, d.Summary)
			if d.Subject == nil || d.Subject.Start.Line == 0 {
				t.Errorf("diagnostic %q has no source range", d.Summary)
			}
		}
		for _, w := range want {
			found := false
			for _, g := range got {
				found = found || g == w
			}
			if !found {
				t.Errorf("missing diagnostic %q in %q", w, got)
			}
		}
		// The first diagnostic points at the urls line.
		for _, d := range diags {
			if d.Summary == "Invalid LDAP URL" && d.Subject.Start.Line != 2 {
				t.Errorf("urls diagnostic on line %d, want 2", d.Subject.Start.Line)
			}
		}
	})
}

func TestCreateDisabledContainerConfig(t *testing.T) {
	for body, want := range map[string]string{
		`disabled_base_dn = "cn=disabled,ou=people,dc=example,dc=org"
  create_disabled_container = true`: "Container the bridge cannot create",
		`create_disabled_container = true`: "create_disabled_container without disabled_base_dn",
	} {
		_, diags := decode(t, `
urls = ["ldap://x"]
resource "User" {
  base_dn = "ou=people,dc=example,dc=org"
  object_classes = ["inetOrgPerson"]
  `+body+`
}`)
		found := false
		for _, d := range diags {
			found = found || (d.Summary == want && d.Subject != nil && d.Subject.Start.Line >= 6)
		}
		if !found {
			t.Errorf("%s: want %q on its line, got %v", body, want, diags)
		}
	}
}
