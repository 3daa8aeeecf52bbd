package bridge_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/kinds"
	"github.com/scimbridge/scimbridge/bridge/bridgetest"
	"github.com/scimbridge/scimbridge/bridge/config"
)

// queryTarget is one backend the query tests run on.
type queryTarget struct {
	name    string
	c       *bridgetest.Client
	backend backends.Backend
}

// queryTargets serves memoryConfig on the in-memory backend and
// config.example.hcl on SQLite, each with the server settings in server
// (HCL attribute lines) and the credential blocks in tokens added.
func queryTargets(t *testing.T, server, tokens string) []queryTarget {
	t.Helper()
	mem := newMemory()
	memCfg := strings.Replace(memoryConfig, "max_body_bytes = 65536\n", "max_body_bytes = 65536\n"+server+"\n", 1)
	memCfg = strings.Replace(memCfg, bridgetest.TokenBlock, `auth {
    token "test" { value = "`+bridgetest.Token+`" }
`+tokens+`
  }`, 1)
	ms := bridgetest.Start(t, memCfg, map[string]config.BackendType{"memory": bridgetest.Static(mem)})

	envToken := "    token \"env\" {\n      value = env(\"SCIMBRIDGE_TOKEN\")\n    }\n"
	sqlCfg := bridgetest.EditFile(t, "../config.example.hcl",
		[2]string{`log_level = "info"` + "\n", `log_level = "info"` + "\n" + server + "\n"},
		[2]string{envToken, envToken + tokens + "\n"})
	t.Setenv("SCIMBRIDGE_TOKEN", bridgetest.Token)
	t.Setenv("SCIMBRIDGE_SQLITE_PATH", filepath.Join(t.TempDir(), "query.db"))
	ss := bridgetest.Start(t, sqlCfg, kinds.Types())
	return []queryTarget{
		{"memory", bridgetest.NewClient(t, ms.URL+"/scim/v2"), mem},
		{"sqlite", bridgetest.NewClient(t, ss.URL+"/scim/v2"), ss.Backends["legacy"]},
	}
}

// queryCase is a request and the error it must get.
type queryCase struct {
	name, method, path string
	body               any
	status             int
	scimType           string
	detail             []string // substrings the detail must hold
}

func (tc queryCase) run(t *testing.T, c *bridgetest.Client) *bridgetest.Response {
	t.Helper()
	cl := *c
	cl.T = t
	r := cl.Do(tc.method, tc.path, tc.body)
	if r.Status != tc.status {
		t.Fatalf("%s %s: status %d, want %d: %s", tc.method, tc.path, r.Status, tc.status, r.Body)
	}
	if tc.status < 400 {
		return r
	}
	if bridgetest.Str(r.JSON, "status") != fmt.Sprint(tc.status) || !strings.Contains(string(r.Body), "urn:ietf:params:scim:api:messages:2.0:Error") {
		t.Fatalf("not an RFC 7644 error body: %s", r.Body)
	}
	if got := bridgetest.Str(r.JSON, "scimType"); got != tc.scimType {
		t.Fatalf("scimType %q, want %q: %s", got, tc.scimType, r.Body)
	}
	for _, d := range tc.detail {
		if !strings.Contains(bridgetest.Str(r.JSON, "detail"), d) {
			t.Fatalf("detail lacks %q: %s", d, r.Body)
		}
	}
	return r
}

// Issue #9 finding 3: a filter the directory cannot evaluate made the SQL
// backend load up to 200,000 records for one request. The bridge now
// reads at most max_filter_scan records for such a query and names, when
// it refuses one, what the directory could not evaluate.
func TestUnpushableQueriesAreCapped(t *testing.T) {
	for _, tg := range queryTargets(t, "  max_filter_scan = 20", "") {
		t.Run(tg.name, func(t *testing.T) {
			cl := *tg.c
			cl.T = t
			c := &cl
			for i := range 25 {
				title := "bulk"
				if i%5 == 0 {
					title = "narrow"
				}
				c.Must(201, "POST", "/Users", map[string]any{"userName": fmt.Sprintf("scan%02d", i), "title": title,
					"emails": []any{map[string]any{"value": fmt.Sprintf("scan%02d@example.com", i), "type": "work"}}})
			}
			for _, tc := range []queryCase{
				{"unpushable filter", "GET", "/Users?filter=" + q(`emails.type eq "work"`), nil, 400, "invalidFilter",
					[]string{`"emails.type"`, "max_filter_scan", "20"}},
				{"unpushable term beside a broad one", "GET", "/Users?filter=" + q(`userName sw "scan" and emails.type eq "work"`), nil, 400, "invalidFilter",
					[]string{`"emails.type"`}},
				{"id is not a directory attribute", "GET", "/Users?filter=" + q(`id ne "0"`), nil, 400, "invalidFilter", []string{`"id"`}},
				{"unsortable sortBy", "GET", "/Users?sortBy=emails.value", nil, 400, "invalidFilter", []string{`sortBy "emails.value"`}},
				{".search", "POST", "/Users/.search", map[string]any{"filter": `emails.type eq "work"`, "count": 1}, 400, "invalidFilter", []string{`"emails.type"`}},
				{"count=0 too", "GET", "/Users?count=0&filter=" + q(`emails.type eq "work"`), nil, 400, "invalidFilter", nil},
			} {
				t.Run(tc.name, func(t *testing.T) { tc.run(t, c) })
			}
			// A condition the directory can evaluate narrows the scan
			// below the limit: 5 candidates, evaluated in memory.
			r := c.Must(200, "GET", "/Users?sortBy=emails.value&sortOrder=descending&filter="+q(`title eq "narrow" and emails.type eq "work"`), nil)
			if got := bridgetest.Str(r.JSON, "totalResults"); got != "5" {
				t.Fatalf("totalResults %s, want 5: %s", got, r.Body)
			}
			res := r.JSON["Resources"].([]any)
			if first := bridgetest.Str(res[0].(map[string]any), "userName"); first != "scan20" {
				t.Errorf("first in descending order: %s, want scan20", first)
			}
			// Pushed-down queries are not capped.
			if r := c.Must(200, "GET", "/Users?filter="+q(`userName sw "scan"`), nil); bridgetest.Str(r.JSON, "totalResults") != "25" {
				t.Errorf("pushed-down filter: %s", r.Body)
			}
			spc := string(c.Must(200, "GET", "/ServiceProviderConfig", nil).Body)
			for _, want := range []string{`"maxFilterScan":20`, `"maxConcurrentScansPerCredential":2`} {
				if !strings.Contains(spc, want) {
					t.Errorf("ServiceProviderConfig lacks %s: %s", want, spc)
				}
			}
		})
	}
}

// recording records the queries the bridge sends.
type recording struct {
	backends.Backend
	mu      sync.Mutex
	queries []backends.Query
}

func (r *recording) Search(ctx context.Context, rt string, q backends.Query) (backends.Page, error) {
	r.mu.Lock()
	r.queries = append(r.queries, q)
	r.mu.Unlock()
	return r.Backend.Search(ctx, rt, q)
}

func (r *recording) take() []backends.Query {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.queries
	r.queries = nil
	return out
}

// An in-memory list reads the backend in bounded pages, one after the
// other, and pages, counts and sorts the matches as a pushed-down query
// would.
func TestInMemoryListsStream(t *testing.T) {
	mem := newMemory()
	rec := &recording{Backend: mem}
	srv := bridgetest.Start(t, memoryConfig, map[string]config.BackendType{"memory": bridgetest.Static(rec)})
	c := bridgetest.NewClient(t, srv.URL+"/scim/v2")
	const n = 1100
	var matches []string // users with a work e-mail, in creation order
	for i := range n {
		attrs := backends.Attrs{"uid": {fmt.Sprintf("u%04d", i)}}
		if i%3 == 0 {
			attrs["mail"] = []string{fmt.Sprintf("u%04d@example.com", i)}
			matches = append(matches, fmt.Sprintf("u%04d", i))
		}
		if _, err := mem.Create(context.Background(), backends.User, attrs); err != nil {
			t.Fatal(err)
		}
	}
	unpushable := "filter=" + q(`emails.type eq "work"`)
	names := func(r *bridgetest.Response) []string {
		var out []string
		res, _ := r.JSON["Resources"].([]any)
		for _, el := range res {
			out = append(out, bridgetest.Str(el.(map[string]any), "userName"))
		}
		return out
	}
	reverse := func(s []string) []string {
		out := make([]string, len(s))
		for i, v := range s {
			out[len(s)-1-i] = v
		}
		return out
	}
	cases := []struct {
		query string
		want  []string
	}{
		{"startIndex=1&count=10", matches[:10]},
		{"startIndex=360&count=100", matches[359:]},
		{"startIndex=368&count=5", nil},
		{"count=0", nil},
		{"sortBy=userName&sortOrder=descending&startIndex=2&count=3", reverse(matches)[1:4]},
		{"sortBy=emails.value&startIndex=300&count=4", matches[299:303]},
		{"sortBy=emails.value&sortOrder=descending&count=1000", reverse(matches)},
	}
	for _, tc := range cases {
		rec.take()
		r := c.Must(200, "GET", "/Users?"+unpushable+"&"+tc.query, nil)
		if got := bridgetest.Str(r.JSON, "totalResults"); got != fmt.Sprint(len(matches)) {
			t.Errorf("%s: totalResults %s, want %d", tc.query, got, len(matches))
		}
		if got := names(r); strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s:\n got %v\nwant %v", tc.query, got, tc.want)
		}
		qs := rec.take()
		if len(qs) != 3 {
			t.Errorf("%s: %d backend searches, want 3 pages of at most 500 for %d records", tc.query, len(qs), n)
		}
		next := 1
		for _, bq := range qs {
			if bq.Count < 1 || bq.Count > 500 || bq.CountOnly || bq.StartIndex != next {
				t.Errorf("%s: backend asked for %d records from %d (count only %v), want at most 500 from %d", tc.query, bq.Count, bq.StartIndex, bq.CountOnly, next)
			}
			next += bq.Count
		}
	}
}

// blocking holds searches without a filter (the in-memory lists of this
// test) until released, and says when one starts.
type blocking struct {
	backends.Backend
	entered chan struct{}
	release chan struct{}
}

func (b *blocking) Search(ctx context.Context, rt string, q backends.Query) (backends.Page, error) {
	if q.Filter == nil {
		select {
		case b.entered <- struct{}{}:
		default: // nobody counts any more
		}
		<-b.release
	}
	return b.Backend.Search(ctx, rt, q)
}

// Each credential runs at most max_concurrent_scans_per_credential
// in-memory lists at once; past it 429 with Retry-After. Other
// credentials and pushed-down queries are not held up.
func TestConcurrentScansPerCredential(t *testing.T) {
	mem := newMemory()
	if _, err := mem.Create(context.Background(), backends.User, backends.Attrs{"uid": {"someone"}, "mail": {"s@example.com"}}); err != nil {
		t.Fatal(err)
	}
	blk := &blocking{Backend: mem, entered: make(chan struct{}, 64), release: make(chan struct{})}
	cfg := strings.Replace(memoryConfig, bridgetest.TokenBlock, `auth {
    token "a" { value = "`+bridgetest.Token+`" }
    token "b" { value = "sb_scan2_Qm7vXe4LpT9wKc2ZrN8bYh5uFs3Dj6Ga" }
  }`, 1)
	srv := bridgetest.Start(t, cfg, map[string]config.BackendType{"memory": bridgetest.Static(blk)})
	a := bridgetest.NewClient(t, srv.URL+"/scim/v2")
	b := bridgetest.NewClient(t, srv.URL+"/scim/v2")
	b.Auth = "Bearer sb_scan2_Qm7vXe4LpT9wKc2ZrN8bYh5uFs3Dj6Ga"
	path := "/Users?filter=" + q(`emails.type eq "work"`)
	released := false
	release := func() {
		if !released {
			released = true
			close(blk.release)
		}
	}
	defer release()

	var wg sync.WaitGroup
	statuses := make(chan int, 8)
	list := func(c *bridgetest.Client) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := *c
			statuses <- cl.Do("GET", path, nil).Status
		}()
	}
	list(a)
	list(a)
	<-blk.entered
	<-blk.entered // a's two slots are taken

	third := make(chan *bridgetest.Response, 1)
	go func() {
		cl := *a
		third <- cl.Do("GET", path, nil)
	}()
	select {
	case r := <-third:
		if r.Status != 429 || r.Header.Get("Retry-After") == "" || bridgetest.Str(r.JSON, "status") != "429" ||
			!strings.Contains(bridgetest.Str(r.JSON, "detail"), "max_concurrent_scans_per_credential") {
			t.Errorf("third concurrent scan of one credential: %d Retry-After %q: %s", r.Status, r.Header.Get("Retry-After"), r.Body)
		}
	case <-blk.entered:
		t.Error("a third concurrent in-memory list of one credential was admitted")
		release()
		<-third
	}
	// Pushed-down queries of the same credential are not limited.
	a.Must(200, "GET", "/Users?filter="+q(`userName eq "someone"`), nil)
	// Another credential has slots of its own.
	list(b)
	<-blk.entered
	release()
	wg.Wait()
	close(statuses)
	for s := range statuses {
		if s != 200 {
			t.Errorf("admitted list answered %d", s)
		}
	}
	// The slots are given back.
	for range 3 {
		a.Must(200, "GET", path, nil)
	}
}
