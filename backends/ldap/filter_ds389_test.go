package ldap

import (
	"context"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/backends"
)

// Filters that 389 DS 2.3 evaluates wrongly are compiled into forms it
// evaluates right; examples/ds389_test.go runs them against the server.
func TestFilterForms389(t *testing.T) {
	be := fuzzBackend(t, true)
	r := be.res[backends.User]
	entry := func(uid string) *goldap.Entry {
		return goldap.NewEntry("uid="+uid+",ou=people,dc=example,dc=org", map[string][]string{"uid": {uid}})
	}
	eq := func(v string) backends.Filter { return backends.Compare{Attr: "uid", Op: backends.Eq, Value: v} }
	for _, tc := range []struct {
		name    string
		f       backends.Filter
		matches map[string]bool // uid -> eval result
	}{
		// (!(|...)) answers nothing on 389 DS 2.3 (389ds/389-ds-base#6307).
		{"not or", backends.Not{Filter: backends.Or{Filters: []backends.Filter{eq("alice"), eq("bob")}}},
			map[string]bool{"alice": false, "bob": false, "carol": true}},
		{"not and", backends.Not{Filter: &backends.And{Filters: []backends.Filter{eq("alice"), backends.Or{Filters: []backends.Filter{eq("alice"), eq("bob")}}}}},
			map[string]bool{"alice": false, "bob": true, "carol": true}},
		{"not empty or", backends.Not{Filter: backends.Or{}}, map[string]bool{"alice": true}},
		{"not empty and", backends.Not{Filter: backends.And{}}, map[string]bool{"alice": false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, _, err := be.compileFilter(ctx, r, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(c.ldap, "(!(|") || strings.Contains(c.ldap, "(!(&") {
				t.Errorf("%s: a negated junction is sent: %s", tc.name, c.ldap)
			}
			if !c.exact {
				t.Errorf("%s: %s is not exact", tc.name, c.ldap)
			}
			for uid, want := range tc.matches {
				if got := c.eval(entry(uid)); got != want {
					t.Errorf("%s: eval(%s) = %v, want %v (ldap %s)", tc.name, uid, got, want, c.ldap)
				}
			}
		})
	}
	// 389 DS ends an assertion value at a NUL: "plain\x00" matched "plain".
	for _, op := range []backends.Op{backends.Eq, backends.Ne, backends.Sw, backends.Co} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, _, err := be.compileFilter(ctx, r, backends.Compare{Attr: "uid", Op: op, Value: "plain\x00"})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if c.exact || strings.Contains(c.ldap, `\00`) {
			t.Errorf("%s with a NUL is pushed down: %s (exact %v)", op, c.ldap, c.exact)
		}
		if got, want := c.eval(entry("plain")), op == backends.Ne; got != want {
			t.Errorf("%s \"plain\\x00\" on plain: %v, want %v", op, got, want)
		}
	}
}
