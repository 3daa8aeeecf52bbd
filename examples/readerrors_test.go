package examples_test

import (
	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/backends/ldap/ds389test"
	"github.com/scimbridge/scimbridge/backends/ldap/ldaptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/bridge/bridgetest"
)

// titleUpper is each SQL example's title mapping with a from_native that
// cannot take NULL.
var titleUpper = regexp.MustCompile(`attribute "title"\s*\{ native = "([A-Za-z_]+)" \}`)

// TestExamplesReadErrors: on PostgreSQL and MariaDB, a from_native that
// fails on an absent value (upper of NULL) neither fails the write that
// stored the row, nor the GET, nor a list holding it (issue #10, item 1).
func TestExamplesReadErrors(t *testing.T) {
	for _, ex := range examples() {
		t.Run(ex.name, func(t *testing.T) {
			b, err := os.ReadFile(ex.config)
			if err != nil {
				t.Fatal(err)
			}
			src := string(b)
			m := titleUpper.FindStringSubmatch(src)
			if m == nil {
				t.Fatalf("%s maps no title as the test expects", ex.config)
			}
			s := startEdited(t, ex, "", [2]string{m[0], `attribute "title" {
      native      = "` + m[1] + `"
      from_native = upper(value)
    }`})
			checkReadErrors(t, s.c)
		})
	}
}

// checkReadErrors creates users with and without a title through a
// mapping whose from_native is upper(value).
func checkReadErrors(t *testing.T, c *bridgetest.Client) {
	t.Helper()
	u := c.Must(201, "POST", "/Users", map[string]any{"userName": "no.title", "name": map[string]any{"givenName": "No", "familyName": "Title"}})
	if _, ok := u.JSON["title"]; ok {
		t.Errorf("a user without a title answers one: %s", u.Body)
	}
	c.Must(200, "GET", "/Users/"+bridgetest.Str(u.JSON, "id"), nil)
	w := c.Must(201, "POST", "/Users", map[string]any{"userName": "with.title", "name": map[string]any{"givenName": "With", "familyName": "Title"}, "title": "Boss"})
	if bridgetest.Str(w.JSON, "title") != "BOSS" {
		t.Errorf("title through upper(): %s", w.Body)
	}
	l := c.Must(200, "GET", "/Users?count=50", nil)
	if n := bridgetest.Str(l.JSON, "totalResults"); n != "2" || !strings.Contains(string(l.Body), `"BOSS"`) {
		t.Errorf("list: %s", l.Body)
	}
}

// TestLDAPReadErrors: the same on examples/389ds.hcl with 389 DS and on
// examples/openldap.hcl with the stock slapd.
func TestLDAPReadErrors(t *testing.T) {
	upper := func(t *testing.T, path string) string {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		m := titleUpper.FindStringSubmatch(string(b))
		if m == nil {
			t.Fatalf("%s maps no title as the test expects", path)
		}
		return strings.Replace(string(b), m[0], `attribute "title" {
      native      = "`+m[1]+`"
      from_native = upper(value)
    }`, 1)
	}
	t.Run("389 DS", func(t *testing.T) {
		srv := ds389test.Shared(t)
		ou := srv.NewOU(t)
		for k, v := range map[string]string{"LDAP_URL": srv.URL, "LDAP_BIND_DN": ds389test.ServiceDN,
			"LDAP_BIND_PASSWORD": ds389test.ServicePassword, "LDAP_BASE_DN": ou.DN} {
			t.Setenv(k, v)
		}
		t.Setenv("SCIMBRIDGE_TOKEN", bridgetest.Token)
		b := bridgetest.Start(t, upper(t, "389ds.hcl"), kinds.Types())
		checkReadErrors(t, bridgetest.NewClient(t, b.URL+"/scim/v2"))
	})
	t.Run("OpenLDAP", func(t *testing.T) {
		srv := ldaptest.Shared(t)
		ou := srv.NewOU(t)
		for k, v := range srv.ExampleEnv(ou) {
			t.Setenv(k, v)
		}
		t.Setenv("SCIMBRIDGE_TOKEN", bridgetest.Token)
		b := bridgetest.Start(t, upper(t, "openldap.hcl"), kinds.Types())
		checkReadErrors(t, bridgetest.NewClient(t, b.URL+"/scim/v2"))
	})
}
