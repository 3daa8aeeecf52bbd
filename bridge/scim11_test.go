package bridge_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/config"
	"github.com/scimbridge/scimbridge/bridge/scimtest"
)

func config11(t *testing.T, src string, o scimtest.Options11) string {
	t.Helper()
	out, err := scimtest.Config11([]byte(src), o)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// startMemory11 serves memoryConfig at /scim/v2 and, on the same backend,
// in SCIM 1.1 at /scim/v1.1.
func startMemory11(t *testing.T, o scimtest.Options11) (*bridgetest.Server, *bridgetest.Client, *bridgetest.Client) {
	t.Helper()
	mem := newMemory()
	srv := bridgetest.Start(t, config11(t, memoryConfig, o), map[string]config.BackendType{"memory": bridgetest.Static(mem)})
	return srv, bridgetest.NewClient(t, srv.URL+"/scim/v2"), bridgetest.NewClient(t, srv.URL+scimtest.Base11)
}

func memoryTarget(c *bridgetest.Client, srv *bridgetest.Server) *scimtest.Target {
	return &scimtest.Target{
		Client: c, Backend: srv.Backends["mem"],
		UserName: "uid", GivenName: "givenName", FamilyName: "sn", Email: "mail",
		Active: "status", ActiveTrue: "enabled", ActiveFalse: "disabled", Password: "userPassword",
		EmployeeNumber: "employeeNumber", Manager: "manager", Mobile: "mobile",
		GroupName: "cn", Members: "member",
	}
}

// TestGolden11Memory: the 2.0 sequences and the 1.1 one, side by side on
// one process and one backend.
func TestGolden11Memory(t *testing.T) {
	srv, c2, c11 := startMemory11(t, scimtest.Options11{Custom: "costCenter"})
	t.Run("SCIM2", func(t *testing.T) { scimtest.RunGolden(t, memoryTarget(c2, srv)) })
	t.Run("SCIM11", func(t *testing.T) {
		c11.T = t
		scimtest.RunGolden11(t, &scimtest.Target11{Target: memoryTarget(c11, srv), Custom: "costCenter"})
	})
}

// startExample11 serves config.example.hcl with its endpoint also in 1.1,
// max_filter_scan = 0: a filter the database cannot run is refused.
func startExample11(t *testing.T) (*bridgetest.Server, *bridgetest.Client, *bridgetest.Client) {
	t.Helper()
	src, err := os.ReadFile("../config.example.hcl")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("SCIMBRIDGE_TOKEN", bridgetest.Token)
	t.Setenv("SCIMBRIDGE_SQLITE_PATH", filepath.Join(t.TempDir(), "example.db"))
	srv := bridgetest.Start(t, config11(t, string(src), scimtest.Options11{Custom: "app_role", NoScan: true}), kinds.Types())
	return srv, bridgetest.NewClient(t, srv.URL+"/scim/v2"), bridgetest.NewClient(t, srv.URL+scimtest.Base11)
}

func exampleTarget(c *bridgetest.Client, srv *bridgetest.Server) *scimtest.Target {
	return &scimtest.Target{
		Client: c, Backend: srv.Backends["legacy"],
		UserName: "login_name", GivenName: "fname", FamilyName: "lname", Email: "email_addr",
		Active: "acct_status", ActiveTrue: "A", ActiveFalse: "D", Password: "pw_hash",
		EmployeeNumber: "emp_no", Manager: "mgr_ref",
		GroupName: "grp_name", Members: "members",
	}
}

// TestGolden11SQLiteExample: both versions on one process, the 1.1
// incremental import pushed down to SQL (max_filter_scan = 0).
func TestGolden11SQLiteExample(t *testing.T) {
	srv, c2, c11 := startExample11(t)
	t.Run("SCIM2", func(t *testing.T) { scimtest.RunGolden(t, exampleTarget(c2, srv)) })
	t.Run("SCIM11", func(t *testing.T) {
		c11.T = t
		scimtest.RunGolden11(t, &scimtest.Target11{Target: exampleTarget(c11, srv), Custom: "app_role"})
	})
}
