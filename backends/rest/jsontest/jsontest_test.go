package jsontest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"

	"github.com/scimbridge/scimbridge/backends/rest/jsontest"
)

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) record(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("%v in %s", err, a.body)
	}
	return m
}

func (a answer) list(t *testing.T) []map[string]any {
	t.Helper()
	var l []map[string]any
	if err := json.Unmarshal(a.body, &l); err != nil {
		t.Fatalf("%v in %s", err, a.body)
	}
	return l
}

func do(t *testing.T, srv *jsontest.Server, method, path string, body any, want int) answer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	return answer{resp.StatusCode, resp.Header, b}
}

// userNames lists the userName of every record, sorted.
func userNames(l []map[string]any) []string {
	var out []string
	for _, r := range l {
		out = append(out, r["userName"].(string))
	}
	slices.Sort(out)
	return out
}

func TestRecords(t *testing.T) {
	srv := jsontest.Start(t)
	if env := srv.Env(); env["REST_BASE_URL"] != srv.URL {
		t.Fatalf("Env: %v", env)
	}
	// Generated ids: 1, then the largest number plus one.
	ann := do(t, srv, http.MethodPost, "/users", map[string]any{
		"userName": "ann", "name": map[string]any{"givenName": "Ann", "familyName": "Lee"},
		"active": true, "employeeNumber": 42, "emails": []any{map[string]any{"value": "ann@example.com"}}, "version": 1,
	}, http.StatusCreated)
	if a := ann.record(t); a["id"] != float64(1) || ann.header.Get("Location") == "" {
		t.Fatalf("ann: %v %v", a, ann.header)
	}
	if a := do(t, srv, http.MethodPost, "/users", map[string]any{"userName": "bob", "active": false}, http.StatusCreated).record(t); a["id"] != float64(2) {
		t.Fatalf("bob: %v", a)
	}
	// A client id is kept; a duplicate id is a 500 that stores nothing.
	if c := do(t, srv, http.MethodPost, "/users", map[string]any{"id": "zed", "userName": "cid", "active": true}, http.StatusCreated).record(t); c["id"] != "zed" {
		t.Fatalf("client id: %v", c)
	}
	do(t, srv, http.MethodPost, "/users", map[string]any{"id": "zed", "userName": "dup"}, http.StatusInternalServerError)
	// The largest id is found with JavaScript's > in file order, which is
	// false between "zed" and 2: the next id is still 3.
	if d := do(t, srv, http.MethodPost, "/users", map[string]any{"userName": "dee"}, http.StatusCreated).record(t); d["id"] != float64(3) {
		t.Fatalf("generated id after a string id: %v", d)
	}
	// Every write reaches the file.
	srv.WaitFile(t)
	if f := srv.File(t); len(f["users"].([]any)) != 4 {
		t.Fatalf("file after 4 creates: %v", f)
	}

	// GET by id; 2 and "2" are the same id.
	if b := do(t, srv, http.MethodGet, "/users/2", nil, http.StatusOK).record(t); b["userName"] != "bob" {
		t.Fatalf("get 2: %v", b)
	}
	do(t, srv, http.MethodGet, "/users/99", nil, http.StatusNotFound)

	// Filters.
	filter := func(q string) []string {
		return userNames(do(t, srv, http.MethodGet, "/users?"+q, nil, http.StatusOK).list(t))
	}
	for q, want := range map[string][]string{
		"userName=ann":                    {"ann"},
		"userName=ANN":                    nil, // case-sensitive
		"userName=ann&userName=bob":       {"ann", "bob"},
		"active=true":                     {"ann", "cid"},
		"name.givenName=Ann":              {"ann"},
		"emails.0.value=ann@example.com":  {"ann"},
		"userName_like=^A":                {"ann"},
		"userName_ne=ann&userName_ne=bob": {"cid", "dee"},
		"employeeNumber_gte=40":           {"ann"},
		"employeeNumber_gte=43":           nil,
		"active_ne=true":                  {"bob"}, // dee has no active: never matches
		// The pitfall: a path no record has is dropped, unfiltered.
		"externalId=x": {"ann", "bob", "cid", "dee"},
	} {
		if got := filter(q); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", q, got, want)
		}
	}

	// Paging and sorting.
	var seen []string
	for page := 1; page <= 2; page++ {
		p := do(t, srv, http.MethodGet, "/users?"+url.Values{
			"_page": {itoa(page)}, "_limit": {"3"}, "_sort": {"userName"}, "_order": {"desc"},
		}.Encode(), nil, http.StatusOK)
		if p.header.Get("X-Total-Count") != "4" || p.header.Get("Link") == "" {
			t.Fatalf("page %d headers: %v", page, p.header)
		}
		for _, r := range p.list(t) {
			seen = append(seen, r["userName"].(string))
		}
	}
	if !slices.Equal(seen, []string{"dee", "cid", "bob", "ann"}) {
		t.Fatalf("pages: %v", seen)
	}
	if p := do(t, srv, http.MethodGet, "/users?active=true&_page=1&_limit=1", nil, http.StatusOK); p.header.Get("X-Total-Count") != "2" || len(p.list(t)) != 1 {
		t.Fatalf("filtered page: %v %s", p.header, p.body)
	}

	// PATCH merges shallowly and keeps the id; PUT replaces and keeps it.
	pa := do(t, srv, http.MethodPatch, "/users/1", map[string]any{"id": 7, "name": map[string]any{"givenName": "Anne"}, "version": 2}, http.StatusOK).record(t)
	if pa["id"] != float64(1) || pa["userName"] != "ann" || pa["version"] != float64(2) {
		t.Fatalf("patch: %v", pa)
	}
	if n := pa["name"].(map[string]any); n["familyName"] != nil || n["givenName"] != "Anne" {
		t.Fatalf("patch merged the nested object: %v", pa)
	}
	pu := do(t, srv, http.MethodPut, "/users/2", map[string]any{"id": "other", "userName": "bobby"}, http.StatusOK).record(t)
	if pu["id"] != float64(2) || pu["userName"] != "bobby" || pu["active"] != nil {
		t.Fatalf("put: %v", pu)
	}
	do(t, srv, http.MethodPatch, "/users/99", map[string]any{"x": 1}, http.StatusNotFound)
	do(t, srv, http.MethodPut, "/users/99", map[string]any{"x": 1}, http.StatusNotFound)

	// DELETE answers 200 {}, then 404.
	if d := do(t, srv, http.MethodDelete, "/users/zed", nil, http.StatusOK); string(bytes.TrimSpace(d.body)) != "{}" {
		t.Fatalf("delete: %s", d.body)
	}
	do(t, srv, http.MethodDelete, "/users/zed", nil, http.StatusNotFound)

	// Groups with memberIds; array fields filter by _like.
	do(t, srv, http.MethodPost, "/groups", map[string]any{"displayName": "Admins", "memberIds": []any{"1", "2"}}, http.StatusCreated)
	if l := do(t, srv, http.MethodGet, "/groups?memberIds=1", nil, http.StatusOK).list(t); len(l) != 0 {
		t.Fatalf("memberIds=1 matched %v", l)
	}
	if l := do(t, srv, http.MethodGet, "/groups?memberIds_like=(^|,)2(,|$)", nil, http.StatusOK).list(t); len(l) != 1 {
		t.Fatalf("memberIds_like: %v", l)
	}
	// Resources are fixed at start.
	do(t, srv, http.MethodGet, "/widgets", nil, http.StatusNotFound)

	if got := userNames(srv.Records(t, "users")); !slices.Equal(got, []string{"ann", "bobby", "dee"}) {
		t.Fatalf("Records: %v", got)
	}
}

func TestKillRestart(t *testing.T) {
	srv := jsontest.Start(t)
	do(t, srv, http.MethodPost, "/users", map[string]any{"userName": "survivor"}, http.StatusCreated)
	do(t, srv, http.MethodPatch, "/users/1", map[string]any{"title": "boss"}, http.StatusOK)
	u, pid := srv.URL, srv.PID()
	srv.Kill()
	if _, err := http.Get(u + "/db"); err == nil {
		t.Fatal("server answers after Kill")
	}
	if err := srv.Restart(); err != nil {
		t.Fatalf("restart: %v\n%s", err, srv.Log())
	}
	if srv.URL != u || srv.PID() == pid || srv.PID() == 0 {
		t.Fatalf("after restart: url %s (was %s), pid %d (was %d)", srv.URL, u, srv.PID(), pid)
	}
	r := srv.Records(t, "users")
	if len(r) != 1 || r[0]["userName"] != "survivor" || r[0]["title"] != "boss" {
		t.Fatalf("after restart: %v", r)
	}
	// Two servers are separate.
	other := jsontest.Start(t)
	if other.URL == srv.URL || other.DBPath == srv.DBPath || len(other.Records(t, "users")) != 0 {
		t.Fatalf("second server %s %s: %v", other.URL, other.DBPath, other.Records(t, "users"))
	}
}

func TestStartDB(t *testing.T) {
	srv := jsontest.StartDB(t, map[string]any{"accounts": []any{map[string]any{"id": "a1", "login": "x"}}})
	if r := srv.Records(t, "accounts"); len(r) != 1 || r[0]["login"] != "x" {
		t.Fatalf("accounts: %v", r)
	}
	do(t, srv, http.MethodGet, "/users", nil, http.StatusNotFound)
	// With a string as the largest id, generated ids are nanoid(7).
	if a := do(t, srv, http.MethodPost, "/accounts", map[string]any{"login": "y"}, http.StatusCreated).record(t); len(a["id"].(string)) != 7 {
		t.Fatalf("generated string id: %v", a)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
