package rest_test

import (
	"testing"

	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/backends/rest/pbtest"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
)

// TestMappingCheckAtStartPocketBase: the start-up check reads the
// collections' schema (describe) and stops on a mapping that names an
// attribute the backend does not declare, writes one the API sets, or
// leaves a field the API requires unwritten.
func TestMappingCheckAtStartPocketBase(t *testing.T) {
	srv := pbtest.Shared(t)
	for k, v := range srv.Env(srv.NewCollections(t)) {
		t.Setenv(k, v)
	}
	t.Setenv("SCIMBRIDGE_TOKEN", bridgetest.Token)
	path := example("pocketbase.hcl")
	if diags := bridgetest.Check(t, bridgetest.EditFile(t, path), kinds.Types()); diags.HasErrors() {
		t.Fatalf("the example itself: %s", diags.Error())
	}
	text := bridgetest.EditFile(t, path,
		[2]string{`attribute "name.givenName"                 { native = "givenName" }`, `attribute "name.givenName"                 { native = "givenNmae" }`},
		[2]string{`attribute "title"                          { native = "title" }`, `attribute "title"                          { native = "created" }`},
		[2]string{`attribute "userName"                       { native = "userName" }`, `attribute "nickName"                       { native = "displayName" }`},
		[2]string{`attribute "displayName"                    { native = "displayName" }`, ``},
	)
	diags := bridgetest.Check(t, text, kinds.Types())
	bridgetest.ExpectDiagnostics(t, text, diags,
		bridgetest.WantDiagnostic{Summary: "Native attribute not in the store", At: `native = "givenNmae"`, Detail: `Did you mean "givenName"?`},
		bridgetest.WantDiagnostic{Summary: "Mapping writes a read-only native attribute", At: `native = "created"`, Detail: "read_only"},
		bridgetest.WantDiagnostic{Summary: "Required native attribute not mapped", At: `  mapping "User" {`, Detail: `"userName" (the API requires it)`},
	)
}
