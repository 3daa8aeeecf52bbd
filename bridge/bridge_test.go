package bridge_test

import (
	"testing"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/memory"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/config"
)

// memoryConfig maps SCIM onto LDAP-like native names in the in-memory backend.
const memoryConfig = `
schema "urn:ietf:params:scim:schemas:extension:acme:2.0:User" {
  resource = "User"
  attribute "accountSize" { type = "integer" }
  attribute "roles" {
    type = "string"
    multi_valued = true
  }
}
server {
  max_body_bytes = 65536
}
backend "memory" "mem" {}
endpoint "test" {
  base_path = "/scim/v2"
  backend   = "mem"
  ` + bridgetest.TokenBlock + `
  mapping "User" {
    attribute "userName"        { native = "uid" }
    attribute "name.givenName"  { native = "givenName" }
    attribute "name.familyName" { native = "sn" }
    attribute "name.formatted"  { native = "cn" }
    attribute "displayName"     { native = "displayName" }
    attribute "emails[type eq \"work\"].value" { native = "mail" }
    attribute "emails[type eq \"home\"].value" { native = "homeMail" }
    attribute "phoneNumbers[type eq \"work\"].value" { native = "telephoneNumber" }
    attribute "phoneNumbers[type eq \"mobile\"].value" { native = "mobile" }
    attribute "addresses[type eq \"work\"].locality" { native = "l" }
    attribute "addresses[type eq \"work\"].postalCode" { native = "postalCode" }
    attribute "title"           { native = "title" }
    attribute "locale"          { native = "locale" }
    attribute "externalId"      { native = "externalId" }
    attribute "active" {
      native      = "status"
      to_native   = value ? "enabled" : "disabled"
      from_native = value != "disabled"
    }
    attribute "password" {
      native    = "userPassword"
      to_native = sha256(value)
    }
    attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber" { native = "employeeNumber" }
    attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department" { native = "departmentNumber" }
    attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager" { native = "manager" }
    attribute "urn:ietf:params:scim:schemas:extension:acme:2.0:User:accountSize" { native = "quota" }
    attribute "urn:ietf:params:scim:schemas:extension:acme:2.0:User:roles" { native = "appRole" }
    attribute "groups.value" { native = "memberOf" }
  }
  mapping "Group" {
    attribute "displayName"   { native = "cn" }
    attribute "externalId"    { native = "externalId" }
    attribute "members.value" { native = "member" }
  }
}
`

func newMemory() *memory.Backend {
	return memory.New(memory.Config{Types: map[string]memory.TypeConfig{
		backends.User: {Unique: []string{"uid"}},
		backends.Group: {Unique: []string{"cn"}, References: []memory.Reference{
			{Attr: "member", Target: backends.User, Reverse: "memberOf"},
		}},
	}})
}

// startMemory serves memoryConfig over a fresh in-memory backend.
func startMemory(t *testing.T) (*bridgetest.Server, *bridgetest.Client, *memory.Backend) {
	t.Helper()
	mem := newMemory()
	srv := bridgetest.Start(t, memoryConfig, map[string]config.BackendType{"memory": bridgetest.Static(mem)})
	return srv, bridgetest.NewClient(t, srv.URL+"/scim/v2"), mem
}

func startMemoryB(b *testing.B) (*bridgetest.Server, *bridgetest.Client, *memory.Backend) {
	b.Helper()
	mem := newMemory()
	srv := bridgetest.Start(b, memoryConfig, map[string]config.BackendType{"memory": bridgetest.Static(mem)})
	return srv, bridgetest.NewClient(b, srv.URL+"/scim/v2"), mem
}
