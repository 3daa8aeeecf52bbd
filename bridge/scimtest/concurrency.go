package scimtest

import (
	"fmt"
	"sort"
	"sync"
	"testing"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
)

// RunConcurrency checks that concurrent clients lose nothing: 16 clients
// PATCH the membership of one group at once (adds and removes of distinct
// members) and the stored membership is exactly the expected set; 8
// concurrent creates of one userName give exactly one 201 and 409s; 8
// concurrent PUTs with the same If-Match give exactly one 200 and 412s.
func RunConcurrency(t *testing.T, c *bridgetest.Client, b backends.Backend, membersAttr string) {
	t.Helper()
	const n = 16
	ids := make([]string, 2*n)
	for i := range ids {
		r := c.Must(201, "POST", "/Users", map[string]any{"userName": fmt.Sprintf("conc.%02d@example.com", i),
			"name": map[string]any{"givenName": "C", "familyName": fmt.Sprint(i)}, "active": true})
		ids[i] = id(r)
	}
	// The group starts with the second half; client i adds ids[i] and
	// removes ids[n+i].
	initial := make([]any, 0, n)
	for _, x := range ids[n:] {
		initial = append(initial, map[string]any{"value": x})
	}
	gid := id(c.Must(201, "POST", "/Groups", map[string]any{"displayName": "concurrent", "members": initial}))
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := *c
			r := cl.Do("PATCH", "/Groups/"+gid, map[string]any{"schemas": []string{patchOp}, "Operations": []any{
				map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": ids[i]}}},
				map[string]any{"op": "remove", "path": `members[value eq "` + ids[n+i] + `"]`},
			}})
			if r.Status != 204 && r.Status != 200 {
				errs <- fmt.Sprintf("client %d: %d %s", i, r.Status, r.Body)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	want := append([]string(nil), ids[:n]...)
	sort.Strings(want)
	tg := &Target{Backend: b, Members: membersAttr}
	tg.expectMembers(t, gid, want...)

	// Concurrent creates of the same userName.
	statuses := make(chan int, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := *c
			statuses <- cl.Do("POST", "/Users", map[string]any{"userName": "same.name@example.com",
				"name": map[string]any{"givenName": "S", "familyName": "N"}}).Status
		}()
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[201] != 1 || count[409] != 7 {
		t.Errorf("8 concurrent creates of one userName answered %v, want one 201 and seven 409", count)
	}
	page := c.Must(200, "GET", "/Users?filter="+q(`userName eq "same.name@example.com"`), nil)
	if Str(page, "totalResults") != "1" {
		t.Errorf("after concurrent creates: %s", page.Body)
	}

	// Concurrent PUTs with one If-Match.
	u := c.Must(200, "GET", "/Users/"+ids[0], nil)
	etag := u.Header.Get("ETag")
	statuses = make(chan int, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := *c
			cl.Headers = map[string]string{"If-Match": etag}
			body := u.JSON
			cp := map[string]any{}
			for k, v := range body {
				cp[k] = v
			}
			cp["title"] = fmt.Sprintf("writer %d", i)
			statuses <- cl.Do("PUT", "/Users/"+ids[0], cp).Status
		}()
	}
	wg.Wait()
	close(statuses)
	count = map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[200] != 1 || count[412] != 7 {
		t.Errorf("8 concurrent PUTs with one If-Match answered %v, want one 200 and seven 412", count)
	}
	// Clean up.
	c.Must(204, "DELETE", "/Groups/"+gid, nil)
	for _, x := range ids {
		c.Must(204, "DELETE", "/Users/"+x, nil)
	}
	if x := Str(page, "Resources[0].id"); x != "" {
		c.Do("DELETE", "/Users/"+x, nil)
	}
}

// Str reads a property path such as Resources[0].id from a response.
func Str(r *bridgetest.Response, path string) string {
	v, ok := property(map[string]any(r.JSON), path)
	if !ok {
		return ""
	}
	return scalarString(v)
}
