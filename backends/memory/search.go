package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/scimbridge/scimbridge/backends"
)

// Search returns one page of the matching records, in creation order
// unless q.SortBy says otherwise.
func (b *Backend) Search(ctx context.Context, resourceType string, q backends.Query) (backends.Page, error) {
	if err := ctx.Err(); err != nil {
		return backends.Page{}, err
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	st, err := b.store(resourceType)
	if err != nil {
		return backends.Page{}, err
	}
	if err := backends.ValidateFilter(q.Filter); err != nil {
		return backends.Page{}, fmt.Errorf("memory: %w", err)
	}
	type match struct {
		id string
		e  *entry
		a  backends.Attrs // attributes including reverse references
	}
	var matches []match
	for id, e := range st.records {
		a := b.view(st, id, e, nil)
		if backends.Match(q.Filter, a) {
			matches = append(matches, match{id, e, a})
		}
	}
	slices.SortFunc(matches, func(x, y match) int {
		if q.SortBy != "" {
			c := compareSortKey(x.a.Get(q.SortBy), y.a.Get(q.SortBy))
			if q.Descending {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return cmp.Compare(x.e.seq, y.e.seq)
	})
	page := backends.Page{Total: len(matches)}
	if q.CountOnly {
		return page, nil
	}
	start := max(q.StartIndex, 1) - 1
	if start >= len(matches) {
		return page, nil
	}
	end := len(matches)
	if q.Count > 0 {
		end = min(end, start+q.Count)
	}
	for _, m := range matches[start:end] {
		page.Records = append(page.Records, backends.Record{ID: m.id, Attrs: b.view(st, m.id, m.e, q.Attrs)})
	}
	return page, nil
}

// compareSortKey orders by the first value, case-insensitively; records
// without a value sort last.
func compareSortKey(a, b []string) int {
	switch {
	case len(a) == 0 && len(b) == 0:
		return 0
	case len(a) == 0:
		return 1
	case len(b) == 0:
		return -1
	}
	return cmp.Compare(strings.ToLower(a[0]), strings.ToLower(b[0]))
}
