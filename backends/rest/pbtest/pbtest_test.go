package pbtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/backends/rest/pbtest"
)

func TestMain(m *testing.M) { pbtest.Main(m) }

// req sends a request with the superuser token, fails t unless the status
// is want, and decodes the answer.
func req(t *testing.T, srv *pbtest.Server, method, path string, body any, want int) map[string]any {
	t.Helper()
	status, b := srv.Request(t, method, path, body)
	if status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, status, want, b)
	}
	out := map[string]any{}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return out
}

func records(c string) string { return "/api/collections/" + c + "/records" }

func newUser(userName string, extra map[string]any) map[string]any {
	u := map[string]any{"userName": userName, "password": "sb_password_" + userName, "passwordConfirm": "sb_password_" + userName}
	for k, v := range extra {
		u[k] = v
	}
	return u
}

func ids(items []map[string]any) []string {
	var out []string
	for _, it := range items {
		out = append(out, it["id"].(string))
	}
	slices.Sort(out)
	return out
}

func TestRecords(t *testing.T) {
	srv := pbtest.Shared(t)
	c := srv.NewCollections(t)
	if c.Users == c.Groups || c.Users == "" {
		t.Fatalf("collections %+v", c)
	}
	// The schema as PocketBase reports it.
	col := req(t, srv, http.MethodGet, "/api/collections/"+c.Users, nil, http.StatusOK)
	fields := map[string]map[string]any{}
	for _, f := range col["fields"].([]any) {
		fields[f.(map[string]any)["name"].(string)] = f.(map[string]any)
	}
	if col["type"] != "auth" || fields["password"]["cost"] != float64(pbtest.PasswordCost) ||
		fields["email"]["required"] != false || fields["userName"]["required"] != true ||
		fields["manager"]["maxSelect"] != float64(1) || col["listRule"] != nil {
		t.Fatalf("users collection: %v", col)
	}
	// A client-chosen id is kept; email is optional.
	alice := req(t, srv, http.MethodPost, records(c.Users), newUser("alice", map[string]any{
		"id": "alice0000000001", "givenName": "Alice", "active": true, "employeeNumber": 42,
		"phones": []string{"+1 555 0100"},
	}), http.StatusOK)
	if alice["id"] != "alice0000000001" || alice["userName"] != "alice" || alice["active"] != true ||
		alice["employeeNumber"] != float64(42) || alice["created"] == "" || alice["updated"] == "" {
		t.Fatalf("created alice: %v", alice)
	}
	if _, ok := alice["password"]; ok {
		t.Fatalf("password in the answer: %v", alice)
	}
	bob := req(t, srv, http.MethodPost, records(c.Users), newUser("bob", map[string]any{
		"email": "bob@example.com", "active": false, "manager": "alice0000000001",
	}), http.StatusOK)
	if len(bob["id"].(string)) != 15 || bob["manager"] != "alice0000000001" {
		t.Fatalf("created bob: %v", bob)
	}
	carol := req(t, srv, http.MethodPost, records(c.Users), newUser("carol", map[string]any{"active": true}), http.StatusOK)

	// userName is unique regardless of case; the password is required.
	dup := req(t, srv, http.MethodPost, records(c.Users), newUser("ALICE", nil), http.StatusBadRequest)
	if code := dig(dup, "data", "userName", "code"); code != "validation_not_unique" {
		t.Fatalf("duplicate userName: %v", dup)
	}
	nopw := req(t, srv, http.MethodPost, records(c.Users), map[string]any{"userName": "dave"}, http.StatusBadRequest)
	if dig(nopw, "data", "password", "code") == nil {
		t.Fatalf("user without password: %v", nopw)
	}

	// Read back by id.
	got := req(t, srv, http.MethodGet, records(c.Users)+"/"+bob["id"].(string), nil, http.StatusOK)
	if got["userName"] != "bob" || got["updated"] != bob["updated"] {
		t.Fatalf("get bob: %v, created %v", got, bob)
	}
	// Filters.
	list := func(q url.Values) map[string]any {
		return req(t, srv, http.MethodGet, records(c.Users)+"?"+q.Encode(), nil, http.StatusOK)
	}
	items := func(m map[string]any) []map[string]any {
		var out []map[string]any
		for _, it := range m["items"].([]any) {
			out = append(out, it.(map[string]any))
		}
		return out
	}
	if l := items(list(url.Values{"filter": {`userName = "bob"`}})); len(l) != 1 || l[0]["id"] != bob["id"] {
		t.Fatalf("filter userName: %v", l)
	}
	if l := items(list(url.Values{"filter": {`active = true`}})); !slices.Equal(ids(l), ids([]map[string]any{alice, carol})) {
		t.Fatalf("filter active: %v", l)
	}
	if l := items(list(url.Values{"filter": {`manager = "alice0000000001" && userName ~ "BO"`}})); len(l) != 1 || l[0]["id"] != bob["id"] {
		t.Fatalf("filter manager: %v", l)
	}
	// Paging: page/perPage, totalItems.
	var seen []map[string]any
	for page := 1; page <= 3; page++ {
		p := list(url.Values{"page": {itoa(page)}, "perPage": {"1"}, "sort": {"userName"}})
		if p["totalItems"] != float64(3) || p["totalPages"] != float64(3) || p["page"] != float64(page) {
			t.Fatalf("page %d: %v", page, p)
		}
		seen = append(seen, items(p)...)
	}
	if len(seen) != 3 || seen[0]["userName"] != "alice" || seen[2]["userName"] != "carol" {
		t.Fatalf("pages: %v", seen)
	}

	// PATCH changes one field and the updated time.
	patched := req(t, srv, http.MethodPatch, records(c.Users)+"/"+carol["id"].(string), map[string]any{"active": false}, http.StatusOK)
	if patched["active"] != false || patched["userName"] != "carol" {
		t.Fatalf("patched carol: %v", patched)
	}
	// = compares case-sensitively (the column is BINARY; only the unique
	// index is NOCASE); the :lower modifier compares in lower case.
	req(t, srv, http.MethodPatch, records(c.Users)+"/"+carol["id"].(string), map[string]any{"userName": "Carol"}, http.StatusOK)
	if l := items(list(url.Values{"filter": {`userName = "carol"`}})); len(l) != 0 {
		t.Fatalf("userName = \"carol\" found %v", l)
	}
	if l := items(list(url.Values{"filter": {`userName:lower = "carol"`}})); len(l) != 1 || l[0]["id"] != carol["id"] {
		t.Fatalf("userName:lower = \"carol\": %v", l)
	}

	// Groups: unique displayName, members.
	g := req(t, srv, http.MethodPost, records(c.Groups), map[string]any{
		"displayName": "Admins", "members": []string{"alice0000000001", bob["id"].(string)},
	}, http.StatusOK)
	dupg := req(t, srv, http.MethodPost, records(c.Groups), map[string]any{"displayName": "admins"}, http.StatusBadRequest)
	if dig(dupg, "data", "displayName", "code") != "validation_not_unique" {
		t.Fatalf("duplicate displayName: %v", dupg)
	}
	// Deleting a user removes it from members and clears the managers
	// that point at it.
	req(t, srv, http.MethodDelete, records(c.Users)+"/alice0000000001", nil, http.StatusNoContent)
	req(t, srv, http.MethodGet, records(c.Users)+"/alice0000000001", nil, http.StatusNotFound)
	g2 := req(t, srv, http.MethodGet, records(c.Groups)+"/"+g["id"].(string), nil, http.StatusOK)
	if m := g2["members"].([]any); len(m) != 1 || m[0] != bob["id"] {
		t.Fatalf("members after deleting alice: %v", g2)
	}
	if b := req(t, srv, http.MethodGet, records(c.Users)+"/"+bob["id"].(string), nil, http.StatusOK); b["manager"] != "" {
		t.Fatalf("bob's manager after deleting alice: %v", b)
	}

	// Records reads everything back.
	if r := srv.Records(t, c.Users); !slices.Equal(ids(r), ids([]map[string]any{bob, carol})) {
		t.Fatalf("Records(users): %v", r)
	}
	if r := srv.Records(t, c.Groups); len(r) != 1 || r[0]["displayName"] != "Admins" {
		t.Fatalf("Records(groups): %v", r)
	}
	// The rules are superuser-only: no token, no records.
	status, _, _ := get(srv.URL + records(c.Users))
	if status != http.StatusForbidden {
		t.Fatalf("list without a token: %d", status)
	}
}

func TestCollectionsSeparate(t *testing.T) {
	srv := pbtest.Shared(t)
	a, b := srv.NewCollections(t), srv.NewCollections(t)
	if a == b {
		t.Fatalf("same collections twice: %v", a)
	}
	req(t, srv, http.MethodPost, records(a.Users), newUser("x", nil), http.StatusOK)
	req(t, srv, http.MethodPost, records(b.Users), newUser("x", nil), http.StatusOK)
	if n := len(srv.Records(t, b.Users)); n != 1 {
		t.Fatalf("%d records in %s", n, b.Users)
	}
	env := srv.Env(a)
	if env["REST_BASE_URL"] != srv.URL || env["PB_USERS"] != a.Users || env["PB_GROUPS"] != a.Groups ||
		env["REST_ADMIN_EMAIL"] != srv.AdminEmail || env["REST_ADMIN_PASSWORD"] != srv.AdminPassword {
		t.Fatalf("Env: %v", env)
	}
}

func TestKillRestart(t *testing.T) {
	srv := pbtest.Shared(t)
	c := srv.NewCollections(t)
	u := req(t, srv, http.MethodPost, records(c.Users), newUser("survivor", nil), http.StatusOK)
	url, pid := srv.URL, srv.PID()
	srv.Kill()
	if srv.PID() != pid {
		t.Logf("pid after kill: %d", srv.PID())
	}
	if _, _, err := get(url + "/api/health"); err == nil {
		t.Fatal("server answers after Kill")
	}
	if err := srv.Restart(); err != nil {
		t.Fatalf("restart: %v\n%s", err, srv.Log())
	}
	if srv.URL != url || srv.PID() == pid {
		t.Fatalf("after restart: url %s (was %s), pid %d (was %d)", srv.URL, url, srv.PID(), pid)
	}
	got := req(t, srv, http.MethodGet, records(c.Users)+"/"+u["id"].(string), nil, http.StatusOK)
	if got["userName"] != "survivor" {
		t.Fatalf("after restart: %v", got)
	}
}

func dig(m map[string]any, path ...string) any {
	var v any = m
	for _, p := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[p]
	}
	return v
}

func get(u string) (int, string, error) {
	resp, err := http.Get(u)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var sb strings.Builder
	_, _ = io.Copy(&sb, resp.Body)
	return resp.StatusCode, sb.String(), nil
}

func itoa(i int) string { return strconv.Itoa(i) }
