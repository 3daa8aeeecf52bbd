package examples_test

// Issue #10 item 4 on 389 DS: examples/389ds.hcl with mapping mistakes
// stops serve with their lines; at run time an error of the configuration
// is a 500 with the reason in the log, a MUST value the client left out a
// 400 naming the SCIM attribute.

import (
	"fmt"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/backends/ldap/ds389test"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
)

// ds389Env sets 389ds.hcl's variables for a fresh OU, bound as the
// service account.
func ds389Env(t *testing.T) {
	srv := ds389test.Shared(t)
	ou := srv.NewOU(t)
	for k, v := range ds389ExampleEnv(srv, ou) {
		t.Setenv(k, v)
	}
	t.Setenv("SCIMBRIDGE_TOKEN", bridgetest.Token)
}

func TestDS389MappingCheckAtStart(t *testing.T) {
	ds389Env(t)
	text := bridgetest.EditFile(t, "389ds.hcl",
		[2]string{`attribute "name.givenName"  { native = "givenName" }`, `attribute "name.givenName"  { native = "givenNmae" }`},
		[2]string{`computed "cn" {`, `computed "description" {`},
		[2]string{`{ native = "title" }`, `{ native = "loginShell" }`},
		[2]string{`{ native = "preferredLanguage" }`, `{ native = "nsUniqueId" }`},
	)
	diags := bridgetest.Check(t, text, kinds.Types())
	bridgetest.ExpectDiagnostics(t, text, diags,
		bridgetest.WantDiagnostic{Summary: "Native attribute not in the store", At: `native = "givenNmae"`, Detail: `Did you mean "givenName"?`},
		bridgetest.WantDiagnostic{Summary: "Mapping writes a read-only native attribute", At: `native = "loginShell"`, Detail: "no object class of new entries (inetOrgPerson) allows it"},
		bridgetest.WantDiagnostic{Summary: "Mapping writes the id", At: `native = "nsUniqueId"`, Detail: "SCIM id"},
		bridgetest.WantDiagnostic{Summary: "Required native attribute not mapped", At: `  mapping "User" {`, Detail: `"cn" (a MUST attribute of object class person)`},
	)
}

func TestDS389MappingErrorsBlameTheRightParty(t *testing.T) {
	ds389Env(t)
	c := bridgetest.NewClient(t, bridgetest.Start(t, bridgetest.EditFile(t, "389ds.hcl", [2]string{"      native  = \"sn\"\n      default = resource.userName\n", "      native  = \"sn\"\n"}), kinds.Types()).URL+"/scim/v2")
	user := func(name string, family any) map[string]any {
		n := map[string]any{"givenName": "Ada"}
		if family != nil {
			n["familyName"] = family
		}
		return map[string]any{"schemas": []string{coreUser}, "userName": name, "name": n, "title": "Countess"}
	}
	r := c.Do("POST", "/Users", user("ada", nil))
	if d := str(r, "detail"); r.Status != 400 || str(r, "scimType") != "invalidValue" || !strings.Contains(d, `"name.familyName"`) || strings.Contains(d, "sn") {
		t.Fatalf("create without familyName: %d %s, want 400 naming name.familyName, not sn", r.Status, r.Body)
	}
	// 389 refuses an attribute type it does not define as one no class
	// allows: either way the mapping's fault.
	for _, native := range []string{"titel", "loginShell"} {
		t.Run(native, func(t *testing.T) {
			var log bridgetest.LogBuffer
			text := bridgetest.EditFile(t, "389ds.hcl", [2]string{`{ native = "title" }`, `{ native = "` + native + `" }`})
			srv := bridgetest.StartWith(t, text, kinds.Types(), bridgetest.Options{Unchecked: true, Log: &log})
			c := bridgetest.NewClient(t, srv.URL+"/scim/v2")
			c.Headers = map[string]string{"X-Request-Id": "cfgcheck-" + fmt.Sprint(len(native))} // not the native name: the body carries the id
			r := c.Do("POST", "/Users", user("grace-"+native, "Hopper"))
			if r.Status != 500 || !strings.Contains(str(r, "detail"), "mapping does not fit the directory") || strings.Contains(string(r.Body), native) {
				t.Fatalf("write through a mapping the directory refuses: %d %s, want 500 without the native name", r.Status, r.Body)
			}
			if l := log.String(); !strings.Contains(strings.ToLower(l), strings.ToLower(native)) || !strings.Contains(l, "cfgcheck-"+fmt.Sprint(len(native))) {
				t.Fatalf("the log does not tell the administrator (reason, request id):\n%s", l)
			}
		})
	}
}
