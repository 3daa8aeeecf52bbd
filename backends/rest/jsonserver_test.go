package rest_test

import (
	"testing"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/conformance"
	"github.com/scimbridge/scimbridge/backends/rest/jsontest"
)

// jsBackend opens examples/json-server.hcl's backend on a fresh json-server.
func jsBackend(t *testing.T) (*jsontest.Server, backends.Backend) {
	t.Helper()
	srv := jsontest.Start(t)
	return srv, openExample(t, example("json-server.hcl"), srv.Env())
}

func TestJSONServerConformance(t *testing.T) {
	conformance.Run(t, conformance.Fixture{
		New: func(t *testing.T) backends.Backend {
			_, b := jsBackend(t)
			return b
		},
		UserName: "userName", GivenName: "givenName", FamilyName: "familyName",
		DisplayName: "displayName", Email: "email",
		Active: "active", ActiveTrue: "true", ActiveFalse: "false",
		Ordered: "employeeNumber", OrderedKind: backends.KindNumber,
		UserGroups:  "groups",
		Manager:     "managerId",
		MultiValued: "phones",
		GroupName:   "displayName", GroupMembers: "memberIds",
	})
}
