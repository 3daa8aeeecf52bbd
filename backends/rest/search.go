package rest

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/scimbridge/scimbridge/backends"
)

// errStop ends a scan early without error.
var errStop = errors.New("stop")

// Search answers q. Without a filter or a sort, the API pages. Otherwise
// the backend reads the records the API can narrow the list to (the
// filter rules; all records when none applies), at most max_scan of them,
// and filters, sorts and pages in memory.
func (b *Backend) Search(ctx context.Context, typ string, q backends.Query) (backends.Page, error) {
	r, err := b.resource(typ)
	if err != nil {
		return backends.Page{}, err
	}
	if err := backends.ValidateFilter(q.Filter); err != nil {
		return backends.Page{}, err
	}
	start := max(q.StartIndex, 1)
	if q.Filter == nil && q.SortBy == "" {
		return r.serverPage(ctx, q, start)
	}
	if q.SortBy != "" && r.attrs[strings.ToLower(q.SortBy)] == nil {
		return backends.Page{}, fmt.Errorf("%w: sort by %q, which resource %q does not declare", backends.ErrUnsupported, q.SortBy, typ)
	}
	var all []backends.Record
	inverse := mentionsInverse(r, q.Filter) || r.inverseSort(q.SortBy)
	var batch []*backends.Record
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := r.fillInverse(ctx, batch, nil); err != nil {
			return err
		}
		for _, rec := range batch {
			if match(q.Filter, rec.Attrs) {
				all = append(all, *rec)
			}
		}
		batch = batch[:0]
		return nil
	}
	err = r.scan(ctx, nil, func(rec backends.Record) error {
		if !inverse {
			if match(q.Filter, rec.Attrs) {
				all = append(all, rec)
			}
			return nil
		}
		batch = append(batch, &rec)
		if len(batch) >= 200 {
			return flush()
		}
		return nil
	}, q.Filter)
	if err == nil {
		err = flush()
	}
	if err != nil {
		return backends.Page{}, err
	}
	if q.SortBy != "" {
		r.sortRecords(all, q.SortBy, q.Descending)
	}
	page := backends.Page{Total: len(all)}
	if q.CountOnly {
		return page, nil
	}
	from := min(start-1, len(all))
	to := len(all)
	if q.Count > 0 {
		to = min(from+q.Count, len(all))
	}
	recs := all[from:to]
	if !inverse {
		ptrs := make([]*backends.Record, len(recs))
		for i := range recs {
			ptrs[i] = &recs[i]
		}
		if err := r.fillInverse(ctx, ptrs, q.Attrs); err != nil {
			return backends.Page{}, err
		}
	}
	for _, rec := range recs {
		page.Records = append(page.Records, project(rec, q.Attrs))
	}
	return page, nil
}

func (r *resource) inverseSort(attr string) bool {
	ac := r.attrs[strings.ToLower(attr)]
	return ac != nil && ac.InverseOf != ""
}

func mentionsInverse(r *resource, f backends.Filter) bool {
	switch f := f.(type) {
	case backends.And:
		return slices.ContainsFunc(f.Filters, func(c backends.Filter) bool { return mentionsInverse(r, c) })
	case backends.Or:
		return slices.ContainsFunc(f.Filters, func(c backends.Filter) bool { return mentionsInverse(r, c) })
	case backends.Not:
		return mentionsInverse(r, f.Filter)
	case backends.Present:
		return r.inverseSort(f.Attr)
	case backends.Compare:
		return r.inverseSort(f.Attr)
	}
	return false
}

// sortRecords orders by the first value of attr: numbers numerically,
// text case-insensitively; records without a value last.
func (r *resource) sortRecords(recs []backends.Record, attr string, desc bool) {
	numeric := r.attrs[strings.ToLower(attr)].Type == "number"
	sort.SliceStable(recs, func(i, j int) bool {
		a, b := recs[i].Attrs.First(attr), recs[j].Attrs.First(attr)
		if (a == "") != (b == "") {
			return b == ""
		}
		c := 0
		if numeric {
			x, _ := new(big.Float).SetString(a)
			y, _ := new(big.Float).SetString(b)
			if x != nil && y != nil {
				c = x.Cmp(y)
			}
		}
		if c == 0 {
			c = strings.Compare(strings.ToLower(a), strings.ToLower(b))
		}
		if c == 0 {
			c = strings.Compare(a, b)
		}
		if desc {
			return c > 0
		}
		return c < 0
	})
}

// serverPage answers an unfiltered, unsorted query with the API's paging.
func (r *resource) serverPage(ctx context.Context, q backends.Query, start int) (backends.Page, error) {
	var page backends.Page
	want := q.Count
	if q.CountOnly {
		want = 1
	}
	total, err := r.walk(ctx, nil, start-1, want, func(rec backends.Record, _ int) bool {
		if !q.CountOnly {
			page.Records = append(page.Records, rec)
		}
		return q.Count == 0 || len(page.Records) < q.Count
	})
	if err != nil {
		return backends.Page{}, err
	}
	if total < 0 {
		// The API does not say: count by reading every page.
		n := 0
		if _, err := r.walk(ctx, nil, 0, 0, func(backends.Record, int) bool {
			n++
			return n <= *r.b.cfg.MaxScan
		}); err != nil {
			return backends.Page{}, err
		}
		if n > *r.b.cfg.MaxScan {
			return backends.Page{}, fmt.Errorf("%w: counting %s records would read more than max_scan (%d); configure the list's total", backends.ErrUnsupported, r.Type, *r.b.cfg.MaxScan)
		}
		total = n
	}
	page.Total = total
	ptrs := make([]*backends.Record, len(page.Records))
	for i := range page.Records {
		ptrs[i] = &page.Records[i]
	}
	if err := r.fillInverse(ctx, ptrs, q.Attrs); err != nil {
		return backends.Page{}, err
	}
	for i := range page.Records {
		page.Records[i] = project(page.Records[i], q.Attrs)
	}
	return page, nil
}

// scan calls fn for every record the API lists for f's pushed-down terms
// (all records when none applies), at most max_scan of them; the caller
// filters. It does not filter itself: fn sees a superset. narrow, when
// given, is the filter the pushed-down terms come from instead of f.
func (r *resource) scan(ctx context.Context, f backends.Filter, fn func(backends.Record) error, narrow ...backends.Filter) error {
	src := f
	if len(narrow) > 0 {
		src = narrow[0]
	}
	extra, err := r.pushdown(src)
	if err != nil {
		return err
	}
	limit := *r.b.cfg.MaxScan
	n := 0
	var fnErr error
	_, err = r.walk(ctx, extra, 0, 0, func(rec backends.Record, total int) bool {
		if total > limit || n >= limit {
			fnErr = fmt.Errorf("%w: evaluating this query reads more than max_scan (%d) %s records", backends.ErrUnsupported, limit, r.Type)
			return false
		}
		n++
		if f != nil && len(narrow) == 0 && !match(f, rec.Attrs) {
			return true
		}
		if err := fn(rec); err != nil {
			fnErr = err
			return false
		}
		return true
	})
	if err != nil {
		return err
	}
	if errors.Is(fnErr, errStop) {
		return nil
	}
	return fnErr
}

// pushdown returns the query parameters of the filter rules that apply
// to f's terms (f itself, or the terms of a top-level and). The API may
// answer a superset: every record is matched again in memory.
func (r *resource) pushdown(f backends.Filter) (map[string][]string, error) {
	if r.List == nil || len(r.List.Filters) == 0 || f == nil {
		return nil, nil
	}
	var terms []backends.Compare
	var collect func(backends.Filter)
	collect = func(f backends.Filter) {
		switch f := f.(type) {
		case backends.Compare:
			terms = append(terms, f)
		case backends.And:
			for _, c := range f.Filters {
				collect(c)
			}
		}
	}
	collect(f)
	out := map[string][]string{}
	for _, t := range terms {
		for _, rule := range r.List.Filters {
			if !strings.EqualFold(rule.Attr, t.Attr) || !slices.Contains(rule.Ops, string(t.Op)) {
				continue
			}
			vars := map[string]cty.Value{"value": cty.StringVal(t.Value), "op": cty.StringVal(string(t.Op)), "ignore_case": cty.BoolVal(t.IgnoreCase)}
			if isSet(rule.When) {
				w, err := r.b.cfg.eval(rule.When, vars)
				if err != nil {
					return nil, fmt.Errorf("%w: filter %q: when: %v", backends.ErrConfig, rule.Attr, err)
				}
				if w.IsNull() || w.Type() != cty.Bool || w.False() {
					continue
				}
			}
			qv, err := r.b.cfg.eval(rule.Query, vars)
			if err != nil {
				return nil, fmt.Errorf("%w: filter %q: query: %v", backends.ErrConfig, rule.Attr, err)
			}
			params, err := queryValues(qv)
			if err != nil {
				return nil, fmt.Errorf("%w: filter %q: %v", backends.ErrConfig, rule.Attr, err)
			}
			clash := false
			for k := range params {
				if _, ok := out[k]; ok {
					clash = true
				}
			}
			if clash {
				continue
			}
			for k, v := range params {
				out[k] = v
			}
			break
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// walk lists records from offset off (0-based), at most want of them
// when want > 0, calling fn until it returns false. It returns the total
// the API reported, or -1.
func (r *resource) walk(ctx context.Context, extra map[string][]string, off, want int, fn func(rec backends.Record, total int) bool) (int, error) {
	l := r.List
	size := *l.PageSize
	total := -1
	pos := 0 // index of the next record the API will answer
	vars := map[string]cty.Value{
		"page": cty.NullVal(cty.Number), "per_page": cty.NullVal(cty.Number),
		"offset": cty.NullVal(cty.Number), "limit": cty.NullVal(cty.Number),
		"cursor": cty.NullVal(cty.String),
	}
	var link string // next_link: the next URL
	key := ""
	switch l.Paging {
	case "page":
		if want > 0 && want <= size && off%want == 0 {
			size = want
		}
		pos = off / size * size
	case "offset":
		if want > 0 && want < size {
			size = want
		}
		pos = off
	case "cursor", "next_link":
		key = r.Type + "\x00" + url.Values(extra).Encode()
		// Pages of a walk start at multiples of size: the one holding off.
		if c, at, ok := r.b.cursors.get(key, off/size*size); ok {
			pos = at
			if l.Paging == "cursor" {
				vars["cursor"] = cty.StringVal(c)
			} else {
				link = c
			}
		}
	}
	for {
		switch l.Paging {
		case "page":
			vars["page"] = cty.NumberIntVal(int64(pos/size + 1))
			vars["per_page"] = cty.NumberIntVal(int64(size))
			vars["limit"] = vars["per_page"]
			vars["offset"] = cty.NumberIntVal(int64(pos))
		case "offset", "cursor", "next_link":
			vars["offset"] = cty.NumberIntVal(int64(pos))
			vars["limit"] = cty.NumberIntVal(int64(size))
			vars["per_page"] = vars["limit"]
		}
		var req *request
		var err error
		if link != "" {
			req = &request{op: "list", what: "list " + r.Type, method: l.Method, url: link}
		} else {
			req, err = r.opRequest("list", &OpConfig{Method: l.Method, Path: l.Path, Query: l.Query, Headers: l.Headers}, vars, false)
			if err != nil {
				return 0, err
			}
			if len(extra) > 0 {
				u, _ := url.Parse(req.url)
				qv := u.Query()
				for k, v := range extra {
					qv[k] = v
				}
				u.RawQuery = qv.Encode()
				req.url = u.String()
			}
		}
		resp, err := r.b.c.do(ctx, req)
		if err != nil {
			return 0, err
		}
		if resp.status >= 300 {
			return 0, r.b.statusErr(r, "list", req.what, resp, nil)
		}
		doc, err := resp.json()
		if err != nil {
			return 0, err
		}
		rv := map[string]cty.Value{"response": doc, "headers": headerValue(resp.header)}
		items := doc
		if isSet(l.Items) {
			if items, err = r.b.cfg.eval(l.Items, rv); err != nil {
				return 0, fmt.Errorf("%w: list %s: items: %v", backends.ErrBadUpstream, r.Type, err)
			}
		}
		if items.IsNull() || !(items.Type().IsTupleType() || items.Type().IsListType()) {
			return 0, fmt.Errorf("%w: list %s: the answer holds no list of records where items says", backends.ErrBadUpstream, r.Type)
		}
		if total < 0 && isSet(l.Total) {
			tv, err := r.b.cfg.eval(l.Total, rv)
			if err != nil {
				return 0, fmt.Errorf("%w: list %s: total: %v", backends.ErrBadUpstream, r.Type, err)
			}
			if s, ok := asString(tv); ok {
				var n int
				if _, err := fmt.Sscan(s, &n); err != nil || n < 0 {
					return 0, fmt.Errorf("%w: list %s: total %q is not a count", backends.ErrBadUpstream, r.Type, s)
				}
				total = n
			}
		}
		var recs []backends.Record
		for it := items.ElementIterator(); it.Next(); {
			_, iv := it.Element()
			rec, err := r.parse(iv)
			if err != nil {
				return 0, err
			}
			recs = append(recs, rec)
		}
		n := len(recs)
		for _, rec := range recs {
			if pos >= off {
				if !fn(rec, total) {
					return total, nil
				}
			}
			pos++
		}
		switch l.Paging {
		case "none":
			if total < 0 {
				total = n
			}
			return total, nil
		case "page", "offset":
			if n < size || n == 0 {
				return total, nil
			}
		case "cursor", "next_link":
			nv, err := r.b.cfg.eval(l.Next, rv)
			if err != nil {
				nv = cty.NullVal(cty.String)
			}
			next, ok := asString(nv)
			if !ok || next == "" || n == 0 {
				return total, nil
			}
			if l.Paging == "cursor" {
				vars["cursor"] = cty.StringVal(next)
			} else {
				if link, err = r.b.cfg.sameOrigin(resp.url, next); err != nil {
					return 0, err
				}
				next = link
			}
			r.b.cursors.put(key, pos, next)
		}
		if err := ctx.Err(); err != nil {
			return 0, fmt.Errorf("%w: list %s: %v", backends.ErrUnavailable, r.Type, err)
		}
	}
}

// sameOrigin resolves a next link against the answer's URL and refuses
// one that leaves base_url's scheme, host or path.
func (c *Config) sameOrigin(from, next string) (string, error) {
	base, err := url.Parse(strings.TrimSuffix(from, "?..."))
	if err != nil {
		return "", fmt.Errorf("%w: next link: %v", backends.ErrBadUpstream, err)
	}
	u, err := base.Parse(next)
	if err != nil || u.Scheme != c.base.Scheme || u.Host != c.base.Host || !strings.HasPrefix(u.Path, c.base.Path) || u.User != nil {
		return "", fmt.Errorf("%w: the next link %q leaves %s", backends.ErrBadUpstream, next, c.base.String())
	}
	u.Fragment = ""
	return u.String(), nil
}

// cursorCache keeps, per list query and position, the cursor or next
// link that continues there, so that the pages an IdP reads one after
// the other do not start over.
type cursorCache struct {
	c *backends.Cache[string, string]
}

const cursorTTL = 2 * time.Minute

func newCursorCache(max int) *cursorCache {
	return &cursorCache{c: backends.NewCache[string, string](max, cursorTTL, nil)}
}

func cursorKey(key string, pos int) string { return key + "\x00" + strconv.Itoa(pos) }

// get returns the cursor that continues at off.
func (c *cursorCache) get(key string, off int) (string, int, bool) {
	if off == 0 {
		return "", 0, false
	}
	v, ok := c.c.Get(cursorKey(key, off), time.Now())
	return v, off, ok
}

func (c *cursorCache) put(key string, pos int, next string) {
	c.c.Put(cursorKey(key, pos), next, time.Now())
}
