package examples_test

import (
	"testing"

	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/backends/ldap/ds389test"
	"github.com/scimbridge/scimbridge/backends/ldap/ldaptest"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/scimtest"
)

// The SCIM 1.1 sequence of Okta's on-premises Provisioning Agent on each
// example, served beside its 2.0 endpoint (scimtest.Edit11) with
// max_filter_scan = 0, so that the existence check and the incremental
// import are run by the directory. Okta's custom attribute
// (urn:okta:onprem_app:1.0:user:custom:costCenter) takes the native
// attribute the example maps title to.

func golden11Options(custom string) scimtest.Options11 {
	return scimtest.Options11{Custom: custom, NoScan: true}
}

func TestExamplesGolden11(t *testing.T) {
	for _, tc := range []struct {
		ex     example
		custom string
	}{
		{postgresExample, "job_ttl"},
		{mysqlExample, "USR_TITLE"},
		{proceduresExample, "job_title"},
		{staffExample, "job_title"},
	} {
		t.Run(tc.ex.name, func(t *testing.T) {
			s := startEdited(t, tc.ex, "", scimtest.Edit11(t, tc.ex.config, golden11Options(tc.custom)))
			tg := tc.ex.target
			tg.Client, tg.Backend = bridgetest.NewClient(t, s.srv.URL+scimtest.Base11), s.srv.Backends[tc.ex.backend]
			scimtest.RunGolden11(t, &scimtest.Target11{Target: &tg, Custom: tc.custom, NoScan: true})
		})
	}
}

// startFile11 serves the example at path, edited by Edit11, with env.
func startFile11(t *testing.T, path string, env map[string]string) *bridgetest.Server {
	t.Helper()
	text := bridgetest.EditFile(t, path, scimtest.Edit11(t, path, golden11Options("title")))
	for k, v := range env {
		t.Setenv(k, v)
	}
	t.Setenv("SCIMBRIDGE_TOKEN", bridgetest.Token)
	return bridgetest.Start(t, text, kinds.Types())
}

func TestOpenLDAPStockGolden11(t *testing.T) {
	srv := ldaptest.Shared(t)
	ou := srv.NewOU(t)
	srv.DenyBindsBelow(t, "ou=disabled,"+ou.People)
	srv.GrantService(t, ou)
	srv.LiftServiceLimits(t)
	env := srv.ExampleEnv(ou)
	env["LDAP_BIND_DN"], env["LDAP_BIND_PASSWORD"] = ldaptest.ServiceDN, ldaptest.ServicePassword
	b := startFile11(t, "openldap.hcl", env)
	scimtest.RunGolden11(t, &scimtest.Target11{Target: &scimtest.Target{
		Client: bridgetest.NewClient(t, b.URL+scimtest.Base11), Backend: b.Backends[openldapBackend],
		UserName: "uid", GivenName: "givenName", FamilyName: "sn", Email: "mail",
		Active: "scimbridgeActive", ActiveTrue: "TRUE", ActiveFalse: "FALSE",
		GroupName: "cn", Members: "member",
	}, Custom: "title", NoScan: true})
}

func TestDS389Golden11(t *testing.T) {
	srv := ds389test.Shared(t)
	ou := srv.NewOU(t)
	b := startFile11(t, "389ds.hcl", ds389ExampleEnv(srv, ou))
	tg := ds389Target(&ds389{srv: srv, dirExample: dirExample{admin: srv.Admin, ou: ou, bridge: b,
		c: bridgetest.NewClient(t, b.URL+scimtest.Base11), backend: ds389Backend}})
	scimtest.RunGolden11(t, &scimtest.Target11{Target: tg, Custom: "title", NoScan: true})
}
