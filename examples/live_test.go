package examples_test

// validate --live (issue #11) on the shipped examples, each on its real
// server, with deliberate mistakes: the exact findings, at their lines.

import (
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/backends/ldap/ldaptest"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/config"
)

const (
	atUserName       = `attribute "userName"`
	atEmployeeNumber = `User:employeeNumber"`
)

// TestLiveSQL: on PostgreSQL and MariaDB, the shipped example passes as
// shipped (the write probe included); with its userName index dropped and
// the employee-number column turned into a number, validate --live warns
// about both at the mapping lines.
func TestLiveSQL(t *testing.T) {
	for _, tc := range []struct {
		ex      example
		planted string
	}{
		{postgresExample, `
DROP INDEX hr_person_logon_uk;
ALTER TABLE hr_person ALTER COLUMN emp_nbr TYPE integer USING NULL;`},
		{mysqlExample, `
ALTER TABLE TBL_USR DROP INDEX UK_USR_LOGIN;
ALTER TABLE TBL_USR MODIFY USR_EMPNO INT NULL;`},
	} {
		t.Run(tc.ex.name, func(t *testing.T) {
			t.Run("as shipped", func(t *testing.T) {
				s := start(t, tc.ex)
				text := bridgetest.EditFile(t, tc.ex.config)
				diags := bridgetest.CheckLive(t, text, kinds.Types(), config.LiveOptions{WriteProbe: true})
				bridgetest.ExpectDiagnostics(t, text, diags)
				// The examples soft-delete: the probe's row stays, marked deleted.
				var n int
				live := map[bool]string{true: "hr_person WHERE del_ts IS NULL", false: "TBL_USR WHERE USR_STATUS <> 'D'"}[tc.ex.postgres()]
				if err := s.db.QueryRow("SELECT COUNT(*) FROM " + live).Scan(&n); err != nil || n != 0 {
					t.Errorf("the write probe left %d live rows (%v)", n, err)
				}
			})
			t.Run("planted mistakes", func(t *testing.T) {
				startEdited(t, tc.ex, tc.planted)
				text := bridgetest.EditFile(t, tc.ex.config)
				diags := bridgetest.CheckLive(t, text, kinds.Types(), config.LiveOptions{})
				bridgetest.ExpectDiagnostics(t, text, diags,
					bridgetest.WantDiagnostic{Summary: "userName not unique in the store", At: atUserName, Detail: "uniqueness is enforced only by the bridge", Warning: true},
					bridgetest.WantDiagnostic{Summary: "Native type does not fit", At: atEmployeeNumber, Detail: "holds integer values", Warning: true},
				)
			})
		})
	}
}

// TestLiveSQLiteCaseExactUnique: the embedded default with its login
// column unique but case-sensitive gets the case warning.
func TestLiveSQLiteCaseExactUnique(t *testing.T) {
	t.Setenv("SCIMBRIDGE_SQLITE_PATH", t.TempDir()+"/x.db")
	t.Setenv("SCIMBRIDGE_TOKEN", bridgetest.Token)
	text := bridgetest.EditFile(t, "../config.example.hcl",
		[2]string{`login_name    TEXT NOT NULL UNIQUE COLLATE NOCASE,`, `login_name    TEXT NOT NULL UNIQUE,`})
	diags := bridgetest.CheckLive(t, text, kinds.Types(), config.LiveOptions{WriteProbe: true})
	bridgetest.ExpectDiagnostics(t, text, diags,
		bridgetest.WantDiagnostic{Summary: "userName unique only case-exactly", At: atUserName, Detail: `tells "Bob" from "bob"`, Warning: true})
}

// TestLiveOpenLDAP: on a stock slapd, the example passes with its
// service account's write rights; a Group base DN that does not exist is
// an error at its resource block; without write rights the probe fails
// naming the refusal.
func TestLiveOpenLDAP(t *testing.T) {
	srv := ldaptest.Shared(t)
	setup := func(t *testing.T, grant bool) {
		ou := srv.NewOU(t)
		if grant {
			srv.GrantService(t, ou)
			srv.LiftServiceLimits(t)
		} else {
			srv.AddOU(t, "ou=disabled,"+ou.People) // the account may not create it
		}
		env := srv.ExampleEnv(ou)
		env["LDAP_BIND_DN"], env["LDAP_BIND_PASSWORD"] = ldaptest.ServiceDN, ldaptest.ServicePassword
		env["SCIMBRIDGE_TOKEN"] = bridgetest.Token
		for k, v := range env {
			t.Setenv(k, v)
		}
	}
	t.Run("as shipped", func(t *testing.T) {
		setup(t, true)
		text := bridgetest.EditFile(t, "openldap.hcl")
		bridgetest.ExpectDiagnostics(t, text, bridgetest.CheckLive(t, text, kinds.Types(), config.LiveOptions{WriteProbe: true}))
	})
	t.Run("planted mistakes", func(t *testing.T) {
		setup(t, false)
		text := bridgetest.EditFile(t, "openldap.hcl",
			[2]string{`base_dn        = "ou=groups,${env("LDAP_BASE_DN")}"`, `base_dn        = "ou=teams,${env("LDAP_BASE_DN")}"`})
		diags := bridgetest.CheckLive(t, text, kinds.Types(), config.LiveOptions{WriteProbe: true})
		bridgetest.ExpectDiagnostics(t, text, diags,
			bridgetest.WantDiagnostic{Summary: "Container not found", At: `resource "Group"`, Detail: `base_dn "ou=teams,`},
			bridgetest.WantDiagnostic{Summary: "Bridge account may not write", At: `  mapping "User" {`, Detail: "create of probe user"},
		)
	})
}

// noAssertion: 389 DS does not list the assertion control in its root
// DSE, and the bridge falls back to reading before writing.
var noAssertion = bridgetest.WantDiagnostic{Summary: "Directory lacks the assertion control", At: `backend "ldap" "389ds"`, Detail: "1.3.6.1.1.12", Warning: true}

// TestLiveOpenLDAPWithoutPPolicy: the example's ppolicy opt-in on a
// stock slapd (no ppolicy overlay, so no pwdAccountLockedTime) is refused
// at the attribute that needs it.
func TestLiveOpenLDAPWithoutPPolicy(t *testing.T) {
	srv := ldaptest.Shared(t)
	ou := srv.NewOU(t)
	srv.GrantService(t, ou)
	srv.LiftServiceLimits(t)
	for k, v := range srv.ExampleEnv(ou) {
		t.Setenv(k, v)
	}
	t.Setenv("SCIMBRIDGE_TOKEN", bridgetest.Token)
	text := ldaptest.PPolicyExample(t, "openldap.hcl")
	diags := bridgetest.CheckLive(t, text, kinds.Types(), config.LiveOptions{})
	// At the opt-in's attribute "active" block (the first one not commented out).
	at := text[strings.Index(text, "\n    attribute \"active\" {")+1:]
	at = at[:strings.Index(at, "\n")]
	bridgetest.ExpectDiagnostics(t, text, diags,
		bridgetest.WantDiagnostic{Summary: "Native attribute not in the store", At: at, Detail: "pwdAccountLockedTime"})
}

// TestLiveDS389: 389 DS as its least-privilege service account passes
// with the write probe (with a warning: no assertion control); a users container that does not exist is an
// error at its resource block.
func TestLiveDS389(t *testing.T) {
	t.Run("as shipped", func(t *testing.T) {
		ds389Env(t)
		text := bridgetest.EditFile(t, "389ds.hcl")
		bridgetest.ExpectDiagnostics(t, text, bridgetest.CheckLive(t, text, kinds.Types(), config.LiveOptions{WriteProbe: true}), noAssertion)
	})
	t.Run("planted mistakes", func(t *testing.T) {
		ds389Env(t)
		text := bridgetest.EditFile(t, "389ds.hcl",
			[2]string{`base_dn            = "ou=people,${env("LDAP_BASE_DN")}"`, `base_dn            = "ou=staff,${env("LDAP_BASE_DN")}"`})
		diags := bridgetest.CheckLive(t, text, kinds.Types(), config.LiveOptions{})
		bridgetest.ExpectDiagnostics(t, text, diags,
			bridgetest.WantDiagnostic{Summary: "Container not found", At: `resource "User"`, Detail: `base_dn "ou=staff,`}, noAssertion)
	})
}
