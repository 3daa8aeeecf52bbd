package memory_test

import (
	"testing"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/conformance"
	"github.com/scimbridge/scimbridge/backends/memory"
)

func testConfig() memory.Config {
	return memory.Config{Types: map[string]memory.TypeConfig{
		backends.User: {
			Unique:     []string{"uid"},
			References: []memory.Reference{{Attr: "manager", Target: backends.User}},
		},
		backends.Group: {
			Unique: []string{"cn"},
			References: []memory.Reference{
				{Attr: "member", Target: backends.User, Reverse: "memberOf"},
			},
		},
	}}
}

func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Fixture{
		New: func(t *testing.T) backends.Backend {
			b := memory.New(testConfig())
			t.Cleanup(func() { _ = b.Close() })
			return b
		},
		UserName:     "uid",
		GivenName:    "givenName",
		FamilyName:   "sn",
		DisplayName:  "displayName",
		Email:        "mail",
		Active:       "active",
		ActiveTrue:   "TRUE",
		ActiveFalse:  "FALSE",
		Ordered:      "employeeNumber",
		OrderedKind:  backends.KindNumber,
		UserGroups:   "memberOf",
		Manager:      "manager",
		MultiValued:  "telephoneNumber",
		GroupName:    "cn",
		GroupMembers: "member",
	})
}

// TestConformanceTime runs the suite again with a time-ordered attribute.
func TestConformanceTime(t *testing.T) {
	conformance.Run(t, conformance.Fixture{
		New:          func(t *testing.T) backends.Backend { return memory.New(testConfig()) },
		UserName:     "uid",
		GivenName:    "givenName",
		FamilyName:   "sn",
		DisplayName:  "displayName",
		Email:        "mail",
		Ordered:      "hireDate",
		OrderedKind:  backends.KindTime,
		GroupName:    "cn",
		GroupMembers: "member",
	})
}
