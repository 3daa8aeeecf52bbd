package rest_test

import (
	"os"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/conformance"
	"github.com/scimbridge/scimbridge/backends/rest/jsontest"
)

// membershipGroups keeps group members as records of their own,
// {"id": "<group>.<user>", "groupId": ..., "userId": ...}, added with
// POST /memberships and removed with DELETE /memberships/<id>: the
// sub-resource layout, one request per member (json-server embeds them
// in the group with _embed and deletes them with the group or the user).
const membershipGroups = `  resource "Group" {
    id_pattern = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

    attribute "displayName" { unique = true }
    attribute "members" {
      multi     = true
      reference = "User"
      integrity = "bridge"
      read      = [for m in record.memberships : m.userId]
      add_request {
        path = "/memberships"
        body = { id = "${id}.${value}", groupId = id, userId = value }
      }
      remove_request {
        path = "/memberships/${id}.${path_value}"
      }
    }
    version = record.version

    create {
      path = "/groups"
      body = { id = uuid, displayName = attrs.displayName, version = 1 }
    }
    get {
      path  = "/groups/${id}"
      query = { _embed = "memberships" }
    }
    update {
      method = "PUT"
      path   = "/groups/${id}"
      body   = { displayName = attrs.displayName, version = coalesce(version, 0) + 1 }
    }
    delete {
      path = "/groups/${id}"
    }
    list {
      path      = "/groups"
      query     = { _page = page, _limit = per_page, _embed = "memberships" }
      total     = headers["x-total-count"]
      paging    = "page"
      page_size = 50
    }
  }
}
`

func membershipConfig(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(example("json-server.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	from, to := strings.Index(text, `  resource "Group" {`), strings.Index(text, "\nendpoint \"default\"")
	if from < 0 || to < 0 {
		t.Fatal("json-server.hcl changed shape")
	}
	text = text[:from] + membershipGroups + text[to:]
	text = strings.Replace(text, `inverse_of = "memberIds"`, `inverse_of = "members"`, 1)
	return strings.Replace(text, `{ native = "memberIds" }`, `{ native = "members" }`, 1)
}

func TestSubResourceMembershipConformance(t *testing.T) {
	text := membershipConfig(t)
	conformance.Run(t, conformance.Fixture{
		New: func(t *testing.T) backends.Backend {
			srv := jsontest.StartDB(t, map[string]any{"users": []any{}, "groups": []any{}, "memberships": []any{}})
			t.Setenv("REST_BASE_URL", srv.URL)
			return openText(t, text)
		},
		UserName: "userName", GivenName: "givenName", FamilyName: "familyName",
		DisplayName: "displayName", Email: "email",
		UserGroups: "groups", Manager: "managerId", MultiValued: "phones",
		GroupName: "displayName", GroupMembers: "members",
	})
}
