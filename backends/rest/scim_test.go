package rest_test

import (
	"testing"

	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/backends/rest/jsontest"
	"github.com/scimbridge/scimbridge/backends/rest/pbtest"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/config"
	"github.com/scimbridge/scimbridge/bridge/scimtest"
)

// served is an example served by a real bridge in front of a real API.
type served struct {
	bridge *bridgetest.Server
	c      *bridgetest.Client
	name   string // the backend's name in the example
	// records reads a resource's records directly through the API.
	records func(t testing.TB, resourceType string) []map[string]any
	dir     scimtest.Directory
	relay   *relay // nil without serveOpts.relay
	target  scimtest.Target
	fault   scimtest.FaultOptions
}

// serveOpts: edits to the example; relay: put a relay between the bridge
// and the API.
type serveOpts struct {
	edits [][2]string
	relay bool
}

func servePocketBase(t *testing.T, o serveOpts) *served {
	t.Helper()
	srv := pbtest.Shared(t)
	cols := srv.NewCollections(t)
	env := srv.Env(cols)
	env["SCIMBRIDGE_TOKEN"] = bridgetest.Token
	var rl *relay
	if o.relay {
		rl = startRelay(t, env["REST_BASE_URL"])
		env["REST_BASE_URL"] = rl.URL
	}
	edits := o.edits
	path := example("pocketbase.hcl")
	if len(edits) > 0 {
		path = writeTemp(t, bridgetest.EditFile(t, path, edits...))
	}
	b := bridgetest.StartFile(t, path, env, kinds.Types())
	return &served{
		bridge: b, c: bridgetest.NewClient(t, b.URL+"/scim/v2"), name: "pocketbase", relay: rl,
		records: func(t testing.TB, rt string) []map[string]any {
			if rt == "User" {
				return srv.Records(t, cols.Users)
			}
			return srv.Records(t, cols.Groups)
		},
		dir: pbDirectory{srv},
		target: scimtest.Target{
			UserName: "userName", GivenName: "givenName", FamilyName: "familyName", Email: "email",
			Active: "active", ActiveTrue: "true", ActiveFalse: "false",
			EmployeeNumber: "employeeNumber", Manager: "manager", Mobile: "phones",
			GroupName: "displayName", Members: "members",
		},
		fault: scimtest.FaultOptions{UserName: "userName", Active: "active", ActiveTrue: "true", ActiveFalse: "false", Members: "members"},
	}
}

func serveJSONServer(t *testing.T, o serveOpts) *served {
	t.Helper()
	srv := jsontest.Start(t)
	env := srv.Env()
	env["SCIMBRIDGE_TOKEN"] = bridgetest.Token
	var rl *relay
	if o.relay {
		rl = startRelay(t, env["REST_BASE_URL"])
		env["REST_BASE_URL"] = rl.URL
	}
	edits := o.edits
	path := example("json-server.hcl")
	if len(edits) > 0 {
		path = writeTemp(t, bridgetest.EditFile(t, path, edits...))
	}
	b := bridgetest.StartFile(t, path, env, kinds.Types())
	return &served{
		bridge: b, c: bridgetest.NewClient(t, b.URL+"/scim/v2"), name: "jsonserver", relay: rl,
		records: func(t testing.TB, rt string) []map[string]any {
			if rt == "User" {
				return srv.Records(t, "users")
			}
			return srv.Records(t, "groups")
		},
		dir: jsDirectory{srv},
		target: scimtest.Target{
			UserName: "userName", GivenName: "givenName", FamilyName: "familyName", Email: "email",
			Active: "active", ActiveTrue: "true", ActiveFalse: "false",
			EmployeeNumber: "employeeNumber", Manager: "managerId", Mobile: "phones",
			GroupName: "displayName", Members: "memberIds",
		},
		fault: scimtest.FaultOptions{UserName: "userName", Active: "active", ActiveTrue: "true", ActiveFalse: "false", Members: "memberIds"},
	}
}

type pbDirectory struct{ *pbtest.Server }

func (d pbDirectory) Kill() error  { d.Server.Kill(); return nil }
func (d pbDirectory) Start() error { return d.Restart() }

type jsDirectory struct{ *jsontest.Server }

func (d jsDirectory) Kill() error  { d.Server.Kill(); return nil }
func (d jsDirectory) Start() error { return d.Restart() }

var examplesServed = []struct {
	name  string
	serve func(t *testing.T, o serveOpts) *served
}{
	{"PocketBase", servePocketBase},
	{"JSONServer", serveJSONServer},
}

func TestExamplesGolden(t *testing.T) {
	for _, ex := range examplesServed {
		t.Run(ex.name, func(t *testing.T) {
			s := ex.serve(t, serveOpts{})
			tg := s.target
			tg.Client, tg.Backend = s.c, s.bridge.Backends[s.name]
			scimtest.RunGolden(t, &tg)
		})
	}
}

func TestExamplesOktaSpec(t *testing.T) {
	for _, ex := range examplesServed {
		t.Run(ex.name, func(t *testing.T) {
			s := ex.serve(t, serveOpts{})
			scimtest.SeedForOktaSpec(t, s.c)
			if res := scimtest.RunOktaSpec(t, s.c.Base, s.c.Auth); res.Assertions == 0 {
				t.Fatal("the SPEC test ran no assertion")
			}
		})
	}
}

func TestExamplesHostile(t *testing.T) {
	for _, ex := range examplesServed {
		t.Run(ex.name, func(t *testing.T) {
			s := ex.serve(t, serveOpts{})
			if res := scimtest.RunHostile(t, s.c, s.bridge.Backends[s.name]); res.Cases < 150 {
				t.Fatalf("only %d cases", res.Cases)
			}
		})
	}
}

// TestExamplesFault kills the API server under a steady mixed load and
// starts it again: 503 with Retry-After while it is down, every
// acknowledged write there afterwards, no duplicates.
func TestExamplesFault(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts the API servers")
	}
	for _, ex := range examplesServed {
		t.Run(ex.name, func(t *testing.T) {
			s := ex.serve(t, serveOpts{})
			scimtest.RunFault(t, s.c, s.bridge.Backends[s.name], s.dir, s.fault)
		})
	}
}

// TestExamplesValidate loads both examples as `scimbridge validate` does.
func TestExamplesValidate(t *testing.T) {
	for _, f := range []string{"pocketbase.hcl", "json-server.hcl"} {
		t.Run(f, func(t *testing.T) {
			t.Setenv("REST_BASE_URL", "https://api.example.org")
			t.Setenv("REST_ADMIN_EMAIL", "admin@example.org")
			t.Setenv("REST_ADMIN_PASSWORD", "sb_pw_3kd93kd0")
			t.Setenv("PB_USERS", "users")
			t.Setenv("PB_GROUPS", "groups")
			t.Setenv("SCIMBRIDGE_TOKEN", bridgetest.Token)
			cfg, diags := config.Load(example(f), kinds.Types(), nil)
			if diags.HasErrors() {
				t.Fatalf("%s: %s", f, diags.Error())
			}
			for _, d := range diags {
				t.Errorf("%s: warning: %s", f, d.Error())
			}
			if len(cfg.Endpoints) != 1 || len(cfg.Backends) != 1 {
				t.Errorf("%s: %d endpoints, %d backends", f, len(cfg.Endpoints), len(cfg.Backends))
			}
		})
	}
}

// TestExamplesConcurrency: 16 clients on one group's members, racing
// creates and PUTs (json-server: the bridge's per-group serialization).
func TestExamplesConcurrency(t *testing.T) {
	for _, ex := range examplesServed {
		t.Run(ex.name, func(t *testing.T) {
			s := ex.serve(t, serveOpts{})
			scimtest.RunConcurrency(t, s.c, s.bridge.Backends[s.name], s.target.Members)
		})
	}
}
