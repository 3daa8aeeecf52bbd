package bridge_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/scimtest"
)

// startExample serves config.example.hcl as shipped, on a fresh SQLite file.
func startExample(t *testing.T) (*bridgetest.Server, *bridgetest.Client) {
	t.Helper()
	src, err := os.ReadFile("../config.example.hcl")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("SCIMBRIDGE_TOKEN", bridgetest.Token)
	t.Setenv("SCIMBRIDGE_SQLITE_PATH", filepath.Join(t.TempDir(), "example.db"))
	srv := bridgetest.Start(t, string(src), kinds.Types())
	return srv, bridgetest.NewClient(t, srv.URL+"/scim/v2")
}

func TestOktaSpecSQLiteExample(t *testing.T) {
	_, c := startExample(t)
	scimtest.SeedForOktaSpec(t, c)
	if res := scimtest.RunOktaSpec(t, c.Base, c.Auth); res.Assertions == 0 {
		t.Fatal("the SPEC test ran no assertion")
	}
}

func TestGoldenSQLiteExample(t *testing.T) {
	srv, c := startExample(t)
	scimtest.RunGolden(t, &scimtest.Target{
		Client: c, Backend: srv.Backends["legacy"],
		UserName: "login_name", GivenName: "fname", FamilyName: "lname", Email: "email_addr",
		Active: "acct_status", ActiveTrue: "A", ActiveFalse: "D", Password: "pw_hash",
		EmployeeNumber: "emp_no", Manager: "mgr_ref",
		GroupName: "grp_name", Members: "members",
	})
}

// TestFiltersAgreeSQLiteExample: config.example.hcl as shipped, every
// filter over the stored resources returns what their reads say.
func TestFiltersAgreeSQLiteExample(t *testing.T) {
	srv, c := startExample(t)
	scimtest.SeedVaried(t, c)
	t.Logf("%d filters checked", scimtest.CheckFiltersAgree(t, srv, c))
}
