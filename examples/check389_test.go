package examples_test

// Issue #10 item 4 on 389 DS: examples/389ds.hcl with mapping mistakes
// stops serve with their lines; at run time an error of the configuration
// is a 500 with the reason in the log, a MUST value the client left out a
// 400 naming the SCIM attribute.

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/backends/ldap/ds389test"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
)

// ds389Env sets 389ds.hcl's variables for a fresh OU, bound as the
// service account.
func ds389Env(t *testing.T) {
	srv := ds389test.Shared(t)
	ou := srv.NewOU(t)
	for k, v := range map[string]string{"LDAP_URL": srv.URL, "LDAP_BIND_DN": ds389test.ServiceDN,
		"LDAP_BIND_PASSWORD": ds389test.ServicePassword, "LDAP_BASE_DN": ou.DN, "SCIMBRIDGE_TOKEN": bridgetest.Token} {
		t.Setenv(k, v)
	}
}

func lineOf(text, s string) int {
	i := strings.Index(text, s)
	if i < 0 {
		return -1
	}
	return strings.Count(text[:i], "\n") + 1
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
	got := map[string]*hcl.Diagnostic{}
	for _, d := range diags {
		got[d.Summary] = d
	}
	for _, want := range []struct{ summary, at, detail string }{
		{"Native attribute not in the store", `native = "givenNmae"`, `Did you mean "givenName"?`},
		{"Mapping writes a read-only native attribute", `native = "loginShell"`, "no object class of new entries (inetOrgPerson) allows it"},
		{"Mapping writes the id", `native = "nsUniqueId"`, "SCIM id"},
		{"Required native attribute not mapped", `  mapping "User" {`, `"cn" (a MUST attribute of object class person)`},
	} {
		d := got[want.summary]
		switch {
		case d == nil:
			t.Errorf("no %q in %v", want.summary, diags)
		case d.Severity != hcl.DiagError || d.Subject == nil || d.Subject.Start.Line != lineOf(text, want.at):
			t.Errorf("%q at %v, want an error at line %d", want.summary, d.Subject, lineOf(text, want.at))
		case !strings.Contains(d.Detail, want.detail):
			t.Errorf("%q: detail %q lacks %q", want.summary, d.Detail, want.detail)
		}
	}
	if len(diags) != 4 {
		t.Errorf("want 4 problems, got %v", diags)
	}
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
