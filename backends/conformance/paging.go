package conformance

import (
	"fmt"
	"slices"
	"testing"

	"github.com/scimbridge/scimbridge/backends"
)

func pagingCases() []testCase {
	return []testCase{
		{"Paging", testPaging},
		{"Sort", testSort},
	}
}

const pagingUsers = 27

// pagingData creates pagingUsers users named page-user-NN in a shuffled
// order, so that creation order and name order differ, and returns the
// ids in name order.
func pagingData(t *testing.T, s *suite) (byName []string, names map[string]string) {
	t.Helper()
	byName = make([]string, pagingUsers)
	names = map[string]string{}
	for k := range pagingUsers {
		i := (k * 10) % pagingUsers // 27 and 10 are coprime: a permutation
		name := fmt.Sprintf("page-user-%02d", i)
		rec := s.createUser(t, s.simpleUser(name))
		byName[i] = rec.ID
		names[rec.ID] = name
	}
	return byName, names
}

// collect reads all pages of q (q.Count per page, sequentially) and checks
// Total and page sizes on the way.
func collect(t *testing.T, s *suite, q backends.Query, wantTotal int) []string {
	t.Helper()
	var out []string
	for start := 1; ; start += q.Count {
		q.StartIndex = start
		p := s.search(t, backends.User, q)
		if p.Total != wantTotal {
			t.Fatalf("page at %d (%s): Total %d, want %d", start, describeQuery(q), p.Total, wantTotal)
		}
		want := min(q.Count, max(0, wantTotal-start+1))
		if len(p.Records) != want {
			t.Fatalf("page at %d (%s): %d records, want %d", start, describeQuery(q), len(p.Records), want)
		}
		if len(p.Records) == 0 {
			return out
		}
		out = append(out, ids(p.Records)...)
	}
}

func checkOnce(t *testing.T, what string, got, want []string) {
	t.Helper()
	seen := map[string]int{}
	for _, id := range got {
		seen[id]++
	}
	for id, n := range seen {
		if n > 1 {
			t.Fatalf("%s: id %q returned %d times", what, id, n)
		}
	}
	if !slices.Equal(sorted(got), sorted(want)) {
		t.Fatalf("%s: got %d ids %q, want %d ids %q", what, len(got), sorted(got), len(want), sorted(want))
	}
}

func testPaging(t *testing.T, s *suite) {
	byName, _ := pagingData(t, s)

	// Default order: every record once, the same order every time.
	first := collect(t, s, backends.Query{Count: 5}, pagingUsers)
	checkOnce(t, "default order, count 5", first, byName)
	again := collect(t, s, backends.Query{Count: 5}, pagingUsers)
	if !slices.Equal(first, again) {
		t.Fatalf("default order is not stable:\n first %q\n again %q", first, again)
	}
	// Other page sizes give the same order.
	if got := collect(t, s, backends.Query{Count: 4}, pagingUsers); !slices.Equal(got, first) {
		t.Fatalf("count 4 order %q differs from count 5 order %q", got, first)
	}
	all := s.search(t, backends.User, backends.Query{})
	if !slices.Equal(ids(all.Records), first) || all.Total != pagingUsers {
		t.Fatalf("unpaged search: %d ids (total %d), want the paged order %q", len(all.Records), all.Total, first)
	}

	// Random access into the middle.
	p := s.search(t, backends.User, backends.Query{StartIndex: 11, Count: 5})
	if !slices.Equal(ids(p.Records), first[10:15]) || p.Total != pagingUsers {
		t.Fatalf("StartIndex 11 Count 5: %q total %d, want %q total %d", ids(p.Records), p.Total, first[10:15], pagingUsers)
	}
	// A page read twice is the same page.
	p2 := s.search(t, backends.User, backends.Query{StartIndex: 11, Count: 5})
	if !slices.Equal(ids(p2.Records), ids(p.Records)) {
		t.Fatalf("StartIndex 11 read twice: %q then %q", ids(p.Records), ids(p2.Records))
	}
	// StartIndex below 1 is 1.
	for _, start := range []int{0, -3} {
		p = s.search(t, backends.User, backends.Query{StartIndex: start, Count: 3})
		if !slices.Equal(ids(p.Records), first[:3]) || p.Total != pagingUsers {
			t.Fatalf("StartIndex %d: %q total %d, want %q", start, ids(p.Records), p.Total, first[:3])
		}
	}
	// Last partial page, beyond the end, CountOnly.
	p = s.search(t, backends.User, backends.Query{StartIndex: 26, Count: 5})
	if !slices.Equal(ids(p.Records), first[25:]) || p.Total != pagingUsers {
		t.Fatalf("StartIndex 26: %q total %d, want %q", ids(p.Records), p.Total, first[25:])
	}
	for _, start := range []int{pagingUsers + 1, 100} {
		p = s.search(t, backends.User, backends.Query{StartIndex: start, Count: 5})
		if len(p.Records) != 0 || p.Total != pagingUsers {
			t.Fatalf("StartIndex %d: %d records total %d, want 0 records total %d", start, len(p.Records), p.Total, pagingUsers)
		}
	}
	p = s.search(t, backends.User, backends.Query{CountOnly: true})
	if len(p.Records) != 0 || p.Total != pagingUsers {
		t.Fatalf("CountOnly: %d records total %d, want 0 records total %d", len(p.Records), p.Total, pagingUsers)
	}

	// With a filter: page-user-10 .. page-user-19.
	f := backends.Compare{Attr: s.f.UserName, Op: backends.Sw, Value: "page-user-1"}
	got := collect(t, s, backends.Query{Filter: f, Count: 3}, 10)
	checkOnce(t, "filtered, count 3", got, byName[10:20])
	p = s.search(t, backends.User, backends.Query{Filter: f, CountOnly: true})
	if p.Total != 10 || len(p.Records) != 0 {
		t.Fatalf("filtered CountOnly: %d records total %d, want 0 records total 10", len(p.Records), p.Total)
	}

	// Writes between pages: Total follows.
	s.createUser(t, s.simpleUser("page-user-99"))
	p = s.search(t, backends.User, backends.Query{StartIndex: 6, Count: 5})
	if p.Total != pagingUsers+1 {
		t.Fatalf("after a create: Total %d, want %d", p.Total, pagingUsers+1)
	}
	if err := s.b.Delete(s.ctx, backends.User, byName[0]); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	p = s.search(t, backends.User, backends.Query{StartIndex: 11, Count: 5})
	if p.Total != pagingUsers {
		t.Fatalf("after a delete: Total %d, want %d", p.Total, pagingUsers)
	}
}

func testSort(t *testing.T, s *suite) {
	byName, names := pagingData(t, s)
	desc := slices.Clone(byName)
	slices.Reverse(desc)
	for _, tc := range []struct {
		desc bool
		want []string
	}{{false, byName}, {true, desc}} {
		q := backends.Query{SortBy: s.f.UserName, Descending: tc.desc}
		all := s.search(t, backends.User, q)
		if got := ids(all.Records); !slices.Equal(got, tc.want) {
			t.Fatalf("sort by %s descending=%v:\n got  %q\n want %q", s.f.UserName, tc.desc, userNames(got, names), userNames(tc.want, names))
		}
		q.Count = 4
		if got := collect(t, s, q, pagingUsers); !slices.Equal(got, tc.want) {
			t.Fatalf("sort by %s descending=%v, pages of 4:\n got  %q\n want %q", s.f.UserName, tc.desc, userNames(got, names), userNames(tc.want, names))
		}
		q.StartIndex, q.Count = 7, 3
		p := s.search(t, backends.User, q)
		if got := ids(p.Records); !slices.Equal(got, tc.want[6:9]) || p.Total != pagingUsers {
			t.Fatalf("sort descending=%v StartIndex 7 Count 3: %q total %d, want %q", tc.desc, userNames(got, names), p.Total, userNames(tc.want[6:9], names))
		}
	}
	// Sort with a filter.
	f := backends.Compare{Attr: s.f.UserName, Op: backends.Sw, Value: "page-user-2"}
	p := s.search(t, backends.User, backends.Query{Filter: f, SortBy: s.f.UserName, Descending: true, Count: 3})
	want := []string{byName[26], byName[25], byName[24]}
	if got := ids(p.Records); !slices.Equal(got, want) || p.Total != 7 {
		t.Fatalf("filtered descending sort: %q total %d, want %q total 7", userNames(got, names), p.Total, userNames(want, names))
	}
}

func userNames(idList []string, names map[string]string) []string {
	out := make([]string, len(idList))
	for i, id := range idList {
		out[i] = names[id]
	}
	return out
}
