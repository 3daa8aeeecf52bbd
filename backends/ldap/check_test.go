package ldap_test

// Issue #10 item 4 on slapd: a mapping that names what the subschema does
// not have, or leaves a MUST attribute unwritten, stops serve with the
// mapping's file:line; at run time an error of the configuration is a 500
// with the reason in the log, and a MUST value the client left out is a
// 400 naming the SCIM attribute.

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/backends/ldap/ldaptest"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
)

const openLDAPExample = "../../examples/openldap.hcl"

// exampleEnv sets the example's variables for a fresh OU.
func exampleEnv(t *testing.T) {
	srv := ldaptest.Shared(t)
	for k, v := range srv.ExampleEnv(srv.NewOU(t)) {
		t.Setenv(k, v)
	}
	t.Setenv("SCIMBRIDGE_TOKEN", bridgetest.Token)
}

func TestMappingCheckAtStartOpenLDAP(t *testing.T) {
	exampleEnv(t)
	text := bridgetest.EditFile(t, openLDAPExample,
		[2]string{`attribute "name.givenName"  { native = "givenName" }`, `attribute "name.givenName"  { native = "givenNmae" }`},
		[2]string{`computed "cn" {`, `computed "description" {`},
		[2]string{`{ native = "title" }`, `{ native = "loginShell" }`},
		[2]string{`{ native = "preferredLanguage" }`, `{ native = "entryUUID" }`},
	)
	diags := bridgetest.Check(t, text, kinds.Types())
	bridgetest.ExpectDiagnostics(t, text, diags,
		bridgetest.WantDiagnostic{Summary: "Native attribute not in the store", At: `native = "givenNmae"`, Detail: `Did you mean "givenName"?`},
		bridgetest.WantDiagnostic{Summary: "Mapping writes a read-only native attribute", At: `native = "loginShell"`, Detail: "no object class of new entries (inetOrgPerson) allows it"},
		bridgetest.WantDiagnostic{Summary: "Mapping writes the id", At: `native = "entryUUID"`, Detail: "SCIM id"},
		bridgetest.WantDiagnostic{Summary: "Required native attribute not mapped", At: `  mapping "User" {`, Detail: `"cn" (a MUST attribute of object class person)`},
	)
}

func TestMappingErrorsBlameTheRightPartyOpenLDAP(t *testing.T) {
	exampleEnv(t)
	c := bridgetest.NewClient(t, bridgetest.Start(t, bridgetest.EditFile(t, openLDAPExample, [2]string{"      native  = \"sn\"\n      default = resource.userName\n", "      native  = \"sn\"\n"}), kinds.Types()).URL+"/scim/v2")
	user := func(name string, family any) map[string]any {
		n := map[string]any{"givenName": "Ada"}
		if family != nil {
			n["familyName"] = family
		}
		return map[string]any{"schemas": []string{coreUser}, "userName": name, "name": n, "title": "Countess"}
	}
	// sn is MUST of person, mapped from the optional name.familyName
	// (without the default the example gives it).
	r := c.Do("POST", "/Users", user("ada", nil))
	if d := str(r, "detail"); r.Status != 400 || str(r, "scimType") != "invalidValue" || !strings.Contains(d, `"name.familyName"`) || strings.Contains(d, "sn") {
		t.Fatalf("create without familyName: %d %s, want 400 naming name.familyName, not sn", r.Status, r.Body)
	}
	id := str(c.Must(201, "POST", "/Users", user("ada", "Lovelace")), "id")
	r = c.Do("PATCH", "/Users/"+id, map[string]any{"schemas": []string{patchOp},
		"Operations": []any{map[string]any{"op": "remove", "path": "name.familyName"}}})
	if r.Status != 400 || !strings.Contains(str(r, "detail"), `"name.familyName"`) {
		t.Fatalf("removing familyName: %d %s, want 400 naming it", r.Status, r.Body)
	}

	// Served unchecked (a directory that could not be described at
	// start), a mapping naming an undefined attribute type, or one no
	// class of the entries allows, fails every write: 500, reason logged.
	for _, native := range []string{"titel", "loginShell"} {
		t.Run(native, func(t *testing.T) {
			var log bridgetest.LogBuffer
			text := bridgetest.EditFile(t, openLDAPExample, [2]string{`{ native = "title" }`, `{ native = "` + native + `" }`})
			srv := bridgetest.StartWith(t, text, kinds.Types(), bridgetest.Options{Unchecked: true, Log: &log})
			c := bridgetest.NewClient(t, srv.URL+"/scim/v2")
			c.Headers = map[string]string{"X-Request-Id": "cfgcheck-" + fmt.Sprint(len(native))} // not the native name: the body carries the id
			r := c.Do("POST", "/Users", user("grace-"+native, "Hopper"))
			if r.Status != 500 || !strings.Contains(str(r, "detail"), "mapping does not fit the directory") || strings.Contains(string(r.Body), native) {
				t.Fatalf("write through a mapping the directory refuses: %d %s, want 500 without the native name", r.Status, r.Body)
			}
			if l := log.String(); !strings.Contains(l, native) || !strings.Contains(l, "cfgcheck-"+fmt.Sprint(len(native))) || !strings.Contains(l, "configuration does not fit") {
				t.Fatalf("the log does not tell the administrator (reason, request id):\n%s", l)
			}
		})
	}
}

// A directory that is down at start cannot be described: serve warns and
// serves the mappings unchecked (as it served before the check existed),
// without waiting long.
func TestMappingCheckDirectoryDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "ldap://" + ln.Addr().String()
	ln.Close() // nothing listens there now
	t.Setenv("LDAP_URL", url)
	t.Setenv("LDAP_BIND_DN", ldaptest.AdminDN)
	t.Setenv("LDAP_BIND_PASSWORD", ldaptest.AdminPassword)
	t.Setenv("LDAP_BASE_DN", ldaptest.BaseDN)
	t.Setenv("SCIMBRIDGE_TOKEN", bridgetest.Token)
	start := time.Now()
	diags := bridgetest.Check(t, bridgetest.EditFile(t, openLDAPExample), kinds.Types())
	if diags.HasErrors() || len(diags) != 2 {
		t.Fatalf("want two warnings (User, Group), got %v", diags)
	}
	for _, d := range diags {
		if d.Summary != "Mapping not checked against the store" || !strings.Contains(d.Detail, "served unchecked") {
			t.Errorf("warning %q: %s", d.Summary, d.Detail)
		}
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("the check took %v with the directory down", took)
	}
}
