package rest_test

import (
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
