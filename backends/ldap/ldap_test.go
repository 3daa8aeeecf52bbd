package ldap

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/conformance"
	"github.com/scimbridge/scimbridge/backends/ldap/ldaptest"
	"github.com/scimbridge/scimbridge/backends/ldap/sambatest"
)

// TestMain runs the package's tests with one slapd and, for the tests that
// ask for it, one Samba DC (started on first use).
func TestMain(m *testing.M) {
	os.Exit(sambatest.Wrap(func() int { return ldaptest.Wrap(m.Run, ldaptest.Options{TLS: true}) }))
}

// evalContext provides env(name[, default]) and file(path) as the bridge does.
func evalContext() *hcl.EvalContext {
	env := function.New(&function.Spec{
		Params:   []function.Parameter{{Name: "name", Type: cty.String}},
		VarParam: &function.Parameter{Name: "default", Type: cty.String},
		Type:     function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if v, ok := os.LookupEnv(args[0].AsString()); ok {
				return cty.StringVal(v), nil
			}
			if len(args) > 1 {
				return args[1], nil
			}
			return cty.StringVal(""), nil
		},
	})
	file := function.New(&function.Spec{
		Params: []function.Parameter{{Name: "path", Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			b, err := os.ReadFile(args[0].AsString())
			if err != nil {
				return cty.NilVal, err
			}
			return cty.StringVal(string(b)), nil
		},
	})
	return &hcl.EvalContext{Functions: map[string]function.Function{"env": env, "file": file}}
}

// decode parses src as a backend body.
func decode(t *testing.T, src string) (*Config, hcl.Diagnostics) {
	t.Helper()
	f, diags := hclparse.NewParser().ParseHCL([]byte(src), "test.hcl")
	if diags.HasErrors() {
		t.Fatalf("parse: %v", diags)
	}
	return DecodeConfig(f.Body, evalContext())
}

type setup struct {
	srv *ldaptest.Server
	ou  ldaptest.OU
	// extra HCL inside the backend body and the group block
	top, group, user string
	timeout          string
	groupClasses     string
}

// configHCL renders the backend body for one test OU.
func (s setup) hcl() string {
	groupClasses := s.groupClasses
	if groupClasses == "" {
		groupClasses = `["groupOfNames"]`
	}
	group := s.group
	if group == "" {
		group = `reference "member" {
      target = "User"
      empty_placeholder = "cn=nobody,dc=example,dc=org"
    }`
	}
	timeout := s.timeout
	if timeout == "" {
		timeout = "20s"
	}
	user := s.user
	if user == "" {
		user = `reference "memberOf" {
      target = "Group"
      read_only = true
    }
    reference "manager" {
      target = "User"
    }`
	}
	return fmt.Sprintf(`
urls          = [env("TEST_LDAP_URL")]
bind_dn       = env("TEST_LDAP_BIND_DN")
bind_password = env("TEST_LDAP_BIND_PASSWORD", "")
pool_size     = 4
timeout       = %q
%s
cache {
  size = 10000
  ttl  = "1m"
}
resource "User" {
  base_dn            = "%s"
  rdn_attribute      = "uid"
  object_classes     = ["inetOrgPerson"]
  filter             = "(objectClass=inetOrgPerson)"
  password_attribute = "userPassword"
  %s
}
resource "Group" {
  base_dn        = "%s"
  rdn_attribute  = "cn"
  object_classes = %s
  %s
}
`, timeout, s.top, s.ou.People, user, s.ou.Groups, groupClasses, group)
}

func init() {
	// The decoded configs read these through env().
	os.Setenv("TEST_LDAP_BIND_DN", ldaptest.AdminDN)
	os.Setenv("TEST_LDAP_BIND_PASSWORD", ldaptest.AdminPassword)
}

// newBackend decodes the setup's HCL and starts a backend on it.
func newBackend(t *testing.T, s setup) *Backend {
	t.Helper()
	os.Setenv("TEST_LDAP_URL", s.srv.URL) // the same for every test
	cfg, diags := decode(t, s.hcl())
	if diags.HasErrors() {
		t.Fatalf("config: %v", diags)
	}
	return startBackend(t, cfg)
}

func startBackend(t *testing.T, cfg *Config) *Backend {
	t.Helper()
	log := hclog.New(&hclog.LoggerOptions{Name: t.Name(), Level: hclog.Warn, Output: testWriter{t}})
	b, err := New(context.Background(), cfg, log)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestConformance(t *testing.T) {
	t.Run("attribute", func(t *testing.T) { conformanceLDAP(t, false) })
	t.Run("disabled container", func(t *testing.T) { conformanceLDAP(t, true) })
}

// conformanceLDAP runs the conformance suite with active stored in an
// attribute (employeeType) or, with disabled, as the place of the entry
// (disabled_base_dn).
func conformanceLDAP(t *testing.T, disabled bool) {
	srv := ldaptest.Shared(t)
	active, activeTrue, activeFalse := "employeeType", "active", "inactive"
	if disabled {
		active, activeTrue, activeFalse = activeAttr, "TRUE", "FALSE"
	}
	conformance.Run(t, conformance.Fixture{
		New: func(t *testing.T) backends.Backend {
			s := setup{ou: srv.NewOU(t)}
			if disabled {
				dn := "ou=disabled," + s.ou.People
				srv.AddOU(t, dn)
				s.user = `disabled_base_dn = "` + dn + `"
    reference "memberOf" {
      target = "Group"
      read_only = true
    }
    reference "manager" {
      target = "User"
    }`
			}
			// t.Setenv is not allowed in parallel subtests: build the config directly.
			cfg, diags := decode(t, strings.Replace(s.hcl(), `env("TEST_LDAP_URL")`, fmt.Sprintf("%q", srv.URL), 1))
			if diags.HasErrors() {
				t.Fatalf("config: %v", diags)
			}
			return startBackend(t, cfg)
		},
		UserName: "uid", GivenName: "givenName", FamilyName: "sn", DisplayName: "displayName", Email: "mail",
		Active: active, ActiveTrue: activeTrue, ActiveFalse: activeFalse,
		Ordered: "employeeNumber", OrderedKind: backends.KindNumber,
		UserGroups: "memberOf", Manager: "manager", MultiValued: "telephoneNumber",
		GroupName: "cn", GroupMembers: "member",
		ExtraUserAttrs: func(i int) backends.Attrs {
			return backends.Attrs{"cn": {fmt.Sprintf("User %d", i)}, "sn": {"Family"}}
		},
	})
}
