package scimtest

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/scimbridge/scimbridge/bridge/bridgetest"
)

// AnswerMapping says which attributes that RunAnswers writes the
// endpoint's mapping holds, so that the sequence checks that its
// comparisons cover them (an attribute missing from both the answer and
// the GET would compare equal).
type AnswerMapping struct {
	Groups  bool // groups.value
	Manager bool // the enterprise extension's manager
	Roles   bool // roles.value: a multi-valued attribute
}

// RunAnswers checks that the answer to every write is what a GET right
// after it returns, body and ETag: POST, PUT and PATCH of users (blind
// PATCHes, PATCHes that read first, a manager, the user's groups, a
// multi-valued attribute) and groups (whose PUT and PATCH answers leave
// the member list out, and whose PATCH answers 204 with the ETag only).
// Each answer's ETag is then sent in If-Match, which must succeed.
func RunAnswers(t *testing.T, c *bridgetest.Client, m AnswerMapping) {
	t.Helper()
	boss := c.Must(201, "POST", "/Users", map[string]any{
		"schemas": []string{coreUser}, "userName": "answer.boss@example.com",
		"name":   map[string]any{"givenName": "Ada", "familyName": "Boss"},
		"active": true,
	})
	bossID := id(boss)
	boss2ID := id(c.Must(201, "POST", "/Users", map[string]any{
		"schemas": []string{coreUser}, "userName": "answer.boss2@example.com",
		"name":   map[string]any{"givenName": "Bea", "familyName": "Boss"},
		"active": true,
	}))
	created := c.Must(201, "POST", "/Users", map[string]any{
		"schemas": []string{coreUser, entUser}, "userName": "answer.user@example.com",
		"name":         map[string]any{"givenName": "Ann", "familyName": "Swer"},
		"displayName":  "Ann Swer",
		"emails":       []any{map[string]any{"type": "work", "value": "answer.user@example.com", "primary": true}},
		"phoneNumbers": []any{map[string]any{"type": "work", "value": "+1 555 0100"}},
		"title":        "Analyst",
		"roles":        []any{map[string]any{"value": "reader"}, map[string]any{"value": "writer"}},
		"active":       true,
		entUser:        map[string]any{"employeeNumber": "4711", "manager": map[string]any{"value": bossID}},
	})
	uid := id(created)
	user := "/Users/" + uid
	sameAsGet(t, c, "POST /Users", created, user)

	group := c.Must(201, "POST", "/Groups", map[string]any{
		"schemas": []string{coreGroup}, "displayName": "Answer Team",
		"members": []any{map[string]any{"value": uid}, map[string]any{"value": bossID}},
	})
	gid := id(group)
	team := "/Groups/" + gid
	sameAsGet(t, c, "POST /Groups", group, team)

	// What the comparisons below cover.
	got := c.Must(200, "GET", user, nil)
	if m.Groups {
		if l, _ := got.JSON["groups"].([]any); len(l) != 1 {
			t.Errorf("GET %s: groups %v, want the one group", user, got.JSON["groups"])
		}
	}
	if m.Manager && bridgetest.Str(got.JSON, entUser, "manager", "value") != bossID {
		t.Errorf("GET %s: manager %v, want %s", user, got.JSON[entUser], bossID)
	}
	if m.Roles {
		if l, _ := got.JSON["roles"].([]any); len(l) != 2 {
			t.Errorf("GET %s: roles %v, want two", user, got.JSON["roles"])
		}
	}

	patch := func(ops ...map[string]any) map[string]any {
		list := make([]any, len(ops))
		for i, op := range ops {
			list[i] = op
		}
		return map[string]any{"schemas": []string{patchOp}, "Operations": list}
	}
	// Okta's deactivation: written without reading the user first.
	r := c.Must(200, "PATCH", user, patch(map[string]any{"op": "replace", "value": map[string]any{"active": false}}))
	sameAsGet(t, c, "PATCH active=false", r, user)
	// Its ETag is the version to send back.
	r = ifMatch(c, r, 200, "PATCH", user, patch(map[string]any{"op": "replace", "path": "title", "value": "Lead"}))
	sameAsGet(t, c, "PATCH with If-Match", r, user)
	r = ifMatch(c, r, 200, "PATCH", user, patch(map[string]any{"op": "replace",
		"path": entUser + ":manager", "value": map[string]any{"value": boss2ID}}))
	sameAsGet(t, c, "PATCH manager", r, user)
	if m.Roles {
		r = ifMatch(c, r, 200, "PATCH", user, patch(map[string]any{"op": "add", "path": "roles", "value": []any{map[string]any{"value": "auditor"}}}))
		sameAsGet(t, c, "PATCH add roles", r, user)
		r = ifMatch(c, r, 200, "PATCH", user, patch(map[string]any{"op": "remove", "path": `roles[value eq "reader"]`}))
		sameAsGet(t, c, "PATCH remove a role", r, user)
	}
	// A blind PATCH again, then a PUT with its answer's ETag.
	r = c.Must(200, "PATCH", user, patch(map[string]any{"op": "replace", "path": "name.givenName", "value": "Anna"}))
	sameAsGet(t, c, "PATCH name.givenName", r, user)

	// PUT: the user as GET shows it, with a change.
	body := c.Must(200, "GET", user, nil).JSON
	body["displayName"] = "Anna Swer"
	delete(body, "meta")
	r = ifMatch(c, r, 200, "PUT", user, body)
	sameAsGet(t, c, "PUT /Users", r, user)
	r = ifMatch(c, r, 200, "PATCH", user, patch(map[string]any{"op": "replace", "value": map[string]any{"active": true}}))
	sameAsGet(t, c, "PATCH after PUT", r, user)

	// Groups: PATCH answers 204 with the ETag; PUT and PATCH answers leave
	// the member list out.
	r = c.Must(204, "PATCH", team, patch(map[string]any{"op": "remove", "path": `members[value eq "` + bossID + `"]`}))
	sameAsGet(t, c, "PATCH remove a member", r, team)
	r = ifMatch(c, r, 204, "PATCH", team, patch(map[string]any{"op": "replace", "path": "displayName", "value": "Answer Team 2"}))
	sameAsGet(t, c, "PATCH /Groups with If-Match", r, team)
	r = ifMatch(c, r, 200, "PUT", team, map[string]any{"schemas": []string{coreGroup}, "displayName": "Answer Team 3"})
	sameAsGet(t, c, "PUT /Groups", r, team+"?excludedAttributes=members")
	r = ifMatch(c, r, 204, "PATCH", team, patch(map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": boss2ID}}}))
	sameAsGet(t, c, "PATCH add a member", r, team)
	// The user's groups follow, in the answer as in GET.
	r = c.Must(200, "PATCH", user, patch(map[string]any{"op": "replace", "path": "title", "value": "Head"}))
	sameAsGet(t, c, "PATCH after a group rename", r, user)

	for _, p := range []string{team, user, "/Users/" + bossID, "/Users/" + boss2ID} {
		c.Must(204, "DELETE", p, nil)
	}
}

// ifMatch sends a write with the ETag of the previous answer in If-Match
// and fails unless its status is want (412 would mean the answer's ETag
// was not the stored version).
func ifMatch(c *bridgetest.Client, prev *bridgetest.Response, want int, method, path string, body any) *bridgetest.Response {
	c.T.Helper()
	etag := prev.Header.Get("ETag")
	if etag == "" {
		c.T.Fatalf("%s %s: the previous answer has no ETag", method, path)
	}
	saved := c.Headers
	c.Headers = map[string]string{"If-Match": etag}
	for k, v := range saved {
		c.Headers[k] = v
	}
	defer func() { c.Headers = saved }()
	return c.Must(want, method, path, body)
}

// sameAsGet fails unless answer is what a GET of path returns now: the
// same ETag and, when the answer has a body, the same body.
func sameAsGet(t *testing.T, c *bridgetest.Client, what string, answer *bridgetest.Response, path string) {
	t.Helper()
	get := c.Must(200, "GET", path, nil)
	if a, g := answer.Header.Get("ETag"), get.Header.Get("ETag"); a == "" || a != g {
		t.Errorf("%s: ETag %q, a GET right after says %q\nanswer: %s\nGET:    %s", what, a, g, answer.Body, get.Body)
	}
	if answer.Status == 204 {
		return
	}
	if !reflect.DeepEqual(answer.JSON, get.JSON) {
		t.Errorf("%s: the answer differs from a GET right after it\nanswer: %s\nGET:    %s", what, canonical(answer.JSON), canonical(get.JSON))
	}
}

// canonical is v as JSON with keys in order, for messages.
func canonical(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
