package rest_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/backends/rest/jsontest"
)

// TestPagingModes runs every paging mode against json-server, which can
// answer all of them: _page/_limit (page), _start/_limit (offset), the
// Link header's next URL (next_link) or its page number (cursor), and
// one answer with everything (none); with and without a total.
func TestPagingModes(t *testing.T) {
	orig := `      query     = { _page = page, _limit = per_page }
      total     = headers["x-total-count"]
      paging    = "page"
      page_size = 100`
	modes := map[string]string{
		"page": `      query     = { _page = page, _limit = per_page }
      total     = headers["x-total-count"]
      paging    = "page"
      page_size = 4`,
		"page without total": `      query     = { _page = page, _limit = per_page }
      paging    = "page"
      page_size = 4`,
		"offset": `      query     = { _start = offset, _limit = limit }
      total     = headers["x-total-count"]
      paging    = "offset"
      page_size = 4`,
		"next_link": `      query     = { _page = 1, _limit = limit }
      paging    = "next_link"
      next      = try(regex("<([^>]*)>; rel=\"next\"", headers["link"])[0], null)
      page_size = 4`,
		"cursor": `      query     = { _page = coalesce(cursor, "1"), _limit = limit }
      total     = headers["x-total-count"]
      paging    = "cursor"
      next      = try(regex("<[^>]*[?&]_page=([0-9]+)[^>]*>; rel=\"next\"", headers["link"])[0], null)
      page_size = 4`,
		"none": `      paging    = "none"`,
	}
	for name, text := range modes {
		t.Run(name, func(t *testing.T) {
			srv := jsontest.Start(t)
			b := openExample(t, example("json-server.hcl"), srv.Env(), [2]string{orig, text})
			ctx := context.Background()
			var want []string
			for i := range 23 {
				rec, err := b.Create(ctx, backends.User, backends.Attrs{"userName": {fmt.Sprintf("p%02d", i)}})
				if err != nil {
					t.Fatal(err)
				}
				want = append(want, rec.ID)
			}
			// Sequential pages of 5, as an IdP reads them.
			var got []string
			for start := 1; ; start += 5 {
				p, err := b.Search(ctx, backends.User, backends.Query{StartIndex: start, Count: 5})
				if err != nil {
					t.Fatalf("start %d: %v", start, err)
				}
				if p.Total != 23 {
					t.Fatalf("start %d: total %d, want 23", start, p.Total)
				}
				got = append(got, ids(p.Records)...)
				if len(p.Records) < 5 {
					break
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("pages of 5: %q\nwant %q", got, want)
			}
			// Random access, a page read twice, beyond the end, count only.
			for _, q := range []struct{ start, count, from, to int }{{11, 3, 10, 13}, {11, 3, 10, 13}, {22, 5, 21, 23}, {30, 5, 23, 23}, {1, 0, 0, 23}, {2, 9, 1, 10}} {
				p, err := b.Search(ctx, backends.User, backends.Query{StartIndex: q.start, Count: q.count})
				if err != nil || !slices.Equal(ids(p.Records), want[q.from:q.to]) || p.Total != 23 {
					t.Errorf("start %d count %d: %q total %d (%v), want %q", q.start, q.count, ids(p.Records), p.Total, err, want[q.from:q.to])
				}
			}
			p, err := b.Search(ctx, backends.User, backends.Query{CountOnly: true})
			if err != nil || p.Total != 23 || len(p.Records) != 0 {
				t.Errorf("count only: %d records, total %d (%v)", len(p.Records), p.Total, err)
			}
		})
	}
}

func ids(recs []backends.Record) []string {
	out := []string{}
	for _, r := range recs {
		out = append(out, r.ID)
	}
	return out
}

// TestMaxScan: a filter the API cannot narrow reads at most max_scan
// records, then says ErrUnsupported (the bridge applies max_filter_scan);
// one it narrows (a filter rule) is answered.
func TestMaxScan(t *testing.T) {
	srv := jsontest.Start(t)
	b := openExample(t, example("json-server.hcl"), srv.Env(), [2]string{"  max_concurrency = 4\n", "  max_concurrency = 4\n  max_scan = 5\n"})
	ctx := context.Background()
	for i := range 8 {
		if _, err := b.Create(ctx, backends.User, backends.Attrs{"userName": {fmt.Sprintf("scan%d", i)}, "givenName": {"G"}}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := b.Search(ctx, backends.User, backends.Query{Filter: backends.Compare{Attr: "givenName", Op: backends.Eq, Value: "G"}})
	if !errors.Is(err, backends.ErrUnsupported) {
		t.Errorf("a filter over 8 records with max_scan 5: %v, want ErrUnsupported", err)
	}
	p, err := b.Search(ctx, backends.User, backends.Query{Filter: backends.Compare{Attr: "userName", Op: backends.Eq, Value: "SCAN3", IgnoreCase: true}})
	if err != nil || p.Total != 1 {
		t.Errorf("a filter the API narrows: total %d (%v), want 1", p.Total, err)
	}
	if p, err := b.Search(ctx, backends.User, backends.Query{Count: 3}); err != nil || p.Total != 8 || len(p.Records) != 3 {
		t.Errorf("an unfiltered page: %d records, total %d (%v)", len(p.Records), p.Total, err)
	}
}
