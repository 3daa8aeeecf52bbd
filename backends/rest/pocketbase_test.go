package rest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/conformance"
	"github.com/scimbridge/scimbridge/backends/rest/pbtest"
)

func TestMain(m *testing.M) { pbtest.Main(m) }

// pbBackend opens examples/pocketbase.hcl's backend on fresh collections.
func pbBackend(t *testing.T) (*pbtest.Server, pbtest.Collections, backends.Backend) {
	t.Helper()
	srv := pbtest.Shared(t)
	c := srv.NewCollections(t)
	return srv, c, openExample(t, example("pocketbase.hcl"), srv.Env(c))
}

func TestPocketBaseConformance(t *testing.T) {
	conformance.Run(t, conformance.Fixture{
		New: func(t *testing.T) backends.Backend {
			_, _, b := pbBackend(t)
			return b
		},
		UserName: "userName", GivenName: "givenName", FamilyName: "familyName",
		DisplayName: "displayName",
		// PocketBase keeps the e-mail address of auth records unique (a
		// system index), and the suite gives a renamed user's old name,
		// with its old address, to a new user: its e-mail values go to a
		// free text field.
		Email:  "title",
		Active: "active", ActiveTrue: "true", ActiveFalse: "false",
		Ordered: "employeeNumber", OrderedKind: backends.KindNumber,
		UserGroups:  "groups",
		Manager:     "manager",
		MultiValued: "phones",
		GroupName:   "displayName", GroupMembers: "members",
	})
}

// TestPocketBaseFilterWildcards: values PocketBase's ~ would read as
// patterns of its own are not sent; the answers stay exact.
func TestPocketBaseFilterWildcards(t *testing.T) {
	_, _, b := pbBackend(t)
	ctx := context.Background()
	want := map[string]bool{}
	for _, name := range []string{"x100% sure", "100% y", "100 z", "a_b", "axb", `back\slash`, "it's"} {
		rec, err := b.Create(ctx, backends.Group, backends.Attrs{"displayName": {name}})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(name, "100%") {
			want[rec.ID] = true
		}
	}
	for _, tc := range []struct {
		op    backends.Op
		value string
		n     int
	}{{backends.Co, "100%", 2}, {backends.Sw, "100%", 1}, {backends.Eq, "a_b", 1}, {backends.Co, `\`, 1}, {backends.Eq, "it's", 1}, {backends.Co, "%", 2}} {
		p, err := b.Search(ctx, backends.Group, backends.Query{Filter: backends.Compare{Attr: "displayName", Op: tc.op, Value: tc.value, IgnoreCase: true}})
		if err != nil || p.Total != tc.n || len(p.Records) != tc.n {
			t.Errorf("displayName %s %q: %d records, total %d (%v), want %d", tc.op, tc.value, len(p.Records), p.Total, err, tc.n)
		}
	}
}
