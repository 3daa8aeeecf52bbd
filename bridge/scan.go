package bridge

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/scim"
)

// A query whose filter or sort the backend cannot run is evaluated here:
// the backend's superset is read page by page, each page rendered and
// matched, and only what the answer needs is kept. Memory is bounded by
// one backend page plus the answer's page (with a sort: startIndex+count
// resources); the records read are bounded by max_filter_scan, and each
// credential runs at most max_concurrent_scans_per_credential such lists
// at once.

// Backend page sizes for in-memory lists. Backends keep a cursor per query
// (LDAP paged results or a snapshot of ids, SQL keysets), so reading a
// superset page by page is linear. Groups with member lists come in
// smaller pages: one group's list can hold 100,000 ids.
const (
	scanPage          = 500
	scanPageWithLists = 50
)

// scanRetryAfter is the Retry-After, in seconds, of a list refused because
// its credential already runs as many in-memory lists as it may.
const scanRetryAfter = 2

// inMemory says what of a query the backend cannot evaluate, for the error
// that refuses a query too broad to evaluate in memory.
type inMemory struct {
	filter []string // attribute paths of the filter terms
	sortBy string
}

func (w inMemory) String() string {
	var parts []string
	if len(w.filter) > 0 {
		q := make([]string, len(w.filter))
		for i, f := range w.filter {
			q[i] = fmt.Sprintf("%q", f)
		}
		parts = append(parts, "the filter on "+strings.Join(q, ", "))
	}
	if w.sortBy != "" {
		parts = append(parts, fmt.Sprintf("sortBy %q", w.sortBy))
	}
	if len(parts) == 0 {
		return "the query"
	}
	return strings.Join(parts, " and ")
}

func (r *Resource) tooBroad(why inMemory) error {
	return scim.BadRequest(scim.TypeInvalidFilter,
		"the directory cannot evaluate %s, and evaluating it in scimbridge would read more than %d records (max_filter_scan); add a condition on an attribute the directory can search",
		why, r.Limits.MaxFilterScan)
}

func (r *Resource) listInMemory(ctx context.Context, nf backends.Filter, q ListQuery, attrs []string, why inMemory) (*ListResult, error) {
	release, err := r.scans.acquire(q.Credential)
	if err != nil {
		return nil, err
	}
	defer release()
	// Filters on members need the lists even when they are not returned.
	withLists := q.WithLists || (q.Filter != nil && mentions(q.Filter, "members"))
	size := scanPage
	if withLists {
		attrs = r.Mapping.NativeAttrs(true)
		if len(r.Mapping.Lists) > 0 {
			size = scanPageWithLists
		}
	}
	limit := r.Limits.MaxFilterScan
	w := newWindow(r.RT, q, limit)
	scanned := 0
	for next := 1; ; {
		page, err := r.Backend.Search(ctx, r.RT.Name, backends.Query{Filter: nf, Attrs: attrs, StartIndex: next, Count: size})
		if errors.Is(err, backends.ErrUnsupported) && nf != nil && next == 1 {
			// The backend refused the filter itself, not only the sort.
			nf = nil
			why.filter = filterPaths(r.RT, q.Filter)
			continue
		}
		if err != nil {
			return nil, r.fromBackend(err, nil)
		}
		// Total is known from the first page: a superset over the limit
		// is refused before more than one page is read.
		if page.Total > limit || scanned+len(page.Records) > limit {
			return nil, r.tooBroad(why)
		}
		for _, rec := range page.Records {
			d := r.render(rec)
			if q.Filter != nil && !scim.Match(r.RT, q.Filter, d) {
				continue
			}
			if !q.WithLists && withLists {
				delete(d, "members")
			}
			w.add(d)
		}
		scanned += len(page.Records)
		next += len(page.Records)
		if len(page.Records) < size || next > page.Total {
			break
		}
	}
	return &ListResult{Resources: w.page(), TotalResults: w.matched, StartIndex: q.StartIndex}, nil
}

// filterPaths names the attributes a filter compares.
func filterPaths(rt *scim.ResourceType, e filter.Expression) []string {
	var out []string
	seen := map[string]bool{}
	_ = scim.WalkFilter(rt, e, func(p scim.Path) error {
		if s := p.String(); !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
		return nil
	})
	return out
}

// window keeps, of the matches a scan yields in the backend's order, what
// one page of the answer needs, and counts all of them. Without a sort
// that is the page itself; with one, the first startIndex+count matches in
// sort order so far (a heap whose top is the one to drop next).
type window struct {
	rt      *scim.ResourceType
	start   int // 0-based index of the page's first match
	count   int
	matched int
	docs    []scim.Doc // unsorted: the page
	sorted  *sortHeap  // sorted: nil when there is no sort
	keep    int        // sorted: how many entries the heap keeps
}

func newWindow(rt *scim.ResourceType, q ListQuery, limit int) *window {
	w := &window{rt: rt, start: q.StartIndex - 1, count: q.Count}
	if q.SortBy == "" {
		return w
	}
	p, err := scim.ResolvePath(rt, q.SortBy)
	if err != nil {
		return w
	}
	w.sorted = &sortHeap{path: p, desc: q.Descending}
	// At most limit records match; a page past them keeps nothing.
	if w.start < limit {
		w.keep = w.start + min(w.count, limit)
	}
	return w
}

func (w *window) add(d scim.Doc) {
	i := w.matched
	w.matched++
	if w.sorted == nil {
		if i >= w.start && i-w.start < w.count {
			w.docs = append(w.docs, d)
		}
		return
	}
	if w.keep == 0 {
		return
	}
	heap.Push(w.sorted, sortEntry{key: sortKey(w.rt, d, w.sorted.path), seq: i, doc: d})
	if w.sorted.Len() > w.keep {
		heap.Pop(w.sorted)
	}
}

// page returns the answer's resources.
func (w *window) page() []scim.Doc {
	if w.sorted == nil {
		return w.docs
	}
	entries := w.sorted.entries
	sort.Slice(entries, func(i, j int) bool { return w.sorted.before(entries[i], entries[j]) })
	if w.start >= len(entries) {
		return nil
	}
	end := min(len(entries), w.start+w.count)
	out := make([]scim.Doc, 0, end-w.start)
	for _, e := range entries[w.start:end] {
		out = append(out, e.doc)
	}
	return out
}

type sortEntry struct {
	key string
	seq int // order of arrival: equal keys keep the backend's order
	doc scim.Doc
}

// sortHeap is a max-heap in answer order: its top is the entry that comes
// last, the one to drop when the heap holds more than the page needs.
type sortHeap struct {
	path    scim.Path
	desc    bool
	entries []sortEntry
}

func (h *sortHeap) before(a, b sortEntry) bool {
	if a.key != b.key {
		if h.desc {
			return a.key > b.key
		}
		return a.key < b.key
	}
	return a.seq < b.seq
}

func (h *sortHeap) Len() int           { return len(h.entries) }
func (h *sortHeap) Less(i, j int) bool { return h.before(h.entries[j], h.entries[i]) }
func (h *sortHeap) Swap(i, j int)      { h.entries[i], h.entries[j] = h.entries[j], h.entries[i] }
func (h *sortHeap) Push(x any)         { h.entries = append(h.entries, x.(sortEntry)) }
func (h *sortHeap) Pop() any {
	last := h.entries[len(h.entries)-1]
	h.entries = h.entries[:len(h.entries)-1]
	return last
}

// sortKey is the value a resource sorts by: the attribute's value, or a
// multi-valued attribute's first value, compared case-insensitively.
func sortKey(rt *scim.ResourceType, d scim.Doc, p scim.Path) string {
	v := scim.GetPath(rt, d, p)
	if l, ok := v.([]any); ok {
		if len(l) == 0 {
			return ""
		}
		v = l[0]
		if m, ok := v.(map[string]any); ok {
			v = m["value"]
		}
	}
	return strings.ToLower(scim.FilterValueString(v))
}

// scanLimiter bounds the in-memory lists each credential runs at once, so
// that one read-only token cannot occupy the server with them.
type scanLimiter struct {
	max     int
	mu      sync.Mutex
	running map[*Principal]int
}

func newScanLimiter(max int) *scanLimiter {
	return &scanLimiter{max: max, running: map[*Principal]int{}}
}

// acquire takes one of who's slots, or answers 429 when none is free.
func (l *scanLimiter) acquire(who *Principal) (release func(), err error) {
	if l == nil || who == nil {
		return func() {}, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.running[who] >= l.max {
		return nil, &scim.Error{Status: 429, RetryAfter: scanRetryAfter, Detail: fmt.Sprintf(
			"this credential already runs %d list requests whose filter or sort the directory cannot evaluate (max_concurrent_scans_per_credential); retry when they finish", l.max)}
	}
	l.running[who]++
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.running[who]--; l.running[who] <= 0 {
			delete(l.running, who)
		}
	}, nil
}
