package sql

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/backends"
)

// Search returns one page of matching records: ordered by q.SortBy (then
// the key), or by the key. A page that follows the previous one of the
// same query continues from a cached keyset cursor instead of an OFFSET.
func (b *Backend) Search(ctx context.Context, resourceType string, q backends.Query) (backends.Page, error) {
	r, err := b.resource(resourceType)
	if err != nil {
		return backends.Page{}, err
	}
	var sortCol *column
	if q.SortBy != "" {
		col, _ := r.readAttr(q.SortBy)
		if col == nil {
			return backends.Page{}, fmt.Errorf("sql: cannot sort %s by %q: %w", resourceType, q.SortBy, backends.ErrUnsupported)
		}
		sortCol = col
	}
	ctx, cancel := b.opContext(ctx)
	defer cancel()
	page, err := b.search(ctx, r, sortCol, q)
	if err != nil {
		return backends.Page{}, b.wrap(ctx, r, "search "+resourceType, err)
	}
	return page, nil
}

// search reads one page. Where the Total is not cached, a first page
// asks for one row more than it shows: when the rows end within the page
// (a userName lookup, a small group) their number is the Total, with no
// count at all; when they go on, a separate COUNT follows (once per
// listing: later pages take it from the cursor). Other pages whose Total
// is not cached count the matching rows in their own SELECT (a subquery,
// the same snapshot); a separate COUNT also runs for CountOnly and for a
// page that turns out empty past the start.
// References are listed by the same SELECT where the dialect can, else by
// one query per page and reference. Every query compiles the filter before
// it runs, so a filter error comes before any I/O.
func (b *Backend) search(ctx context.Context, r *resource, sortCol *column, q backends.Query) (backends.Page, error) {
	start := max(q.StartIndex, 1)
	gen := b.gen.Load()
	key := cursorKey(r, q, sortCol)
	now := time.Now()
	cur, haveCursor := b.cursors.Get(cursorSlot{key, start}, now)
	inTx := b.outer(ctx) != nil
	if inTx {
		// What a transaction sees is not what others see: no cached
		// totals or cursors in or out.
		cur, haveCursor = cursor{}, false
	}

	var page backends.Page
	total := -1
	if haveCursor && cur.gen == gen && now.Sub(cur.totalAt) < b.set.ttl {
		total = cur.total
	}
	if total < 0 && q.CountOnly {
		n, err := b.count(ctx, r, q.Filter)
		if err != nil {
			return page, err
		}
		total, cur.totalAt, cur.gen = n, now, gen
	}
	if total >= 0 && (q.CountOnly || start > total) {
		page.Total = total
		return page, nil
	}
	counting := total < 0
	offset := start - 1
	keyset := haveCursor && cur.usable
	// probing: a first page that learns its Total from its own rows.
	probing := counting && offset == 0 && !keyset
	limit := q.Count
	if probing && q.Count > 0 {
		limit = q.Count + 1
	}

	s := b.selectionFor(r, q.Attrs)
	sb := newBuilder(b.d)
	sb.write("SELECT ")
	b.writeSelect(sb, r, tableAlias, s)
	if sortCol != nil {
		sb.write(", ", tableAlias, ".", sb.q(sortCol.name))
	}
	if counting && !probing {
		// Uncorrelated: evaluated once. Its alias t hides the outer one.
		sb.write(", (")
		if err := b.countSQL(sb, r, q.Filter); err != nil {
			return page, err
		}
		sb.write(")")
	}
	sb.write(" FROM ", sb.q(r.table), " ", tableAlias)
	conds, err := b.matchConds(sb, r, q.Filter)
	if err != nil {
		return page, err
	}
	if keyset {
		conds = append(conds, "("+b.after(sb, r, sortCol, q.Descending, cur)+")")
		offset = 0
		b.keysetPages.Add(1)
	} else {
		b.offsetPages.Add(1)
	}
	if len(conds) > 0 {
		sb.write(" WHERE ", strings.Join(conds, " AND "))
	}
	sb.write(" ORDER BY ", b.orderBy(sb, r, sortCol, q.Descending))
	sb.write(b.d.limit(sb, limit, offset))

	rows, err := b.conn(ctx).QueryContext(ctx, sb.String(), sb.args...)
	if err != nil {
		return page, err
	}
	width := s.width()
	n := width
	if sortCol != nil {
		n++
	}
	if counting && !probing {
		n++
	}
	var keys []any
	var last []any
	more := false
	for rows.Next() {
		if probing && q.Count > 0 && len(page.Records) == q.Count {
			more = true // the row past the page: not shown
			break
		}
		dest, ptrs := scanDest(n)
		if err := rows.Scan(ptrs...); err != nil {
			rows.Close()
			return page, err
		}
		rec, err := b.record(s, dest)
		if err != nil {
			rows.Close()
			return page, err
		}
		k, err := normalizeKey(r, dest[0])
		if err != nil {
			rows.Close()
			return page, err
		}
		if counting && !probing && total < 0 {
			c, ok := format(dest[n-1])
			if total, err = strconv.Atoi(c); !ok || err != nil {
				rows.Close()
				return page, fmt.Errorf("count of %s: %q", r.name, c)
			}
		}
		keys = append(keys, k)
		page.Records = append(page.Records, rec)
		last = dest
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return page, err
	}
	if probing {
		total = len(page.Records)
		if more {
			n, err := b.count(ctx, r, q.Filter)
			if err != nil {
				return page, err
			}
			// Its own snapshot: never fewer than the rows just seen.
			total = max(n, len(page.Records)+1)
		}
		cur.totalAt, cur.gen = now, gen
	} else if counting {
		if total < 0 && (offset > 0 || keyset) {
			// Past the end (or the rows changed under the cursor): the
			// count did not come with a row.
			if total, err = b.count(ctx, r, q.Filter); err != nil {
				return page, err
			}
		} else if total < 0 {
			total = 0 // from the first row on, nothing matches
		}
		cur.totalAt, cur.gen = now, gen
	}
	page.Total = total
	if len(s.later) > 0 && len(keys) > 0 {
		for _, ref := range s.later {
			vals, err := b.refValuesMany(ctx, b.conn(ctx), ref, keys)
			if err != nil {
				return page, err
			}
			for i := range page.Records {
				if v := vals[page.Records[i].ID]; len(v) > 0 {
					page.Records[i].Attrs[ref.attr] = v
				}
			}
		}
	}
	// Remember where the next page starts.
	if !inTx && q.Count > 0 && len(page.Records) == q.Count && start+q.Count <= total {
		next := cursor{total: total, totalAt: cur.totalAt, gen: cur.gen, lastKey: keys[len(keys)-1], usable: true}
		if sortCol != nil {
			v := last[width]
			switch v.(type) {
			case nil:
				next.lastNull = true
			case string, int64, float64, []byte:
				next.lastSort = v
			default:
				next.usable = false // a driver-converted value (time) cannot be bound back exactly
			}
		}
		b.cursors.Put(cursorSlot{key, start + q.Count}, next, now)
	}
	return page, nil
}

// countSQL writes the COUNT(*) of the live rows that match f.
func (b *Backend) countSQL(sb *builder, r *resource, f backends.Filter) error {
	sb.write("SELECT COUNT(*) FROM ", sb.q(r.table), " ", tableAlias)
	conds, err := b.matchConds(sb, r, f)
	if err != nil {
		return err
	}
	if len(conds) > 0 {
		sb.write(" WHERE ", strings.Join(conds, " AND "))
	}
	return nil
}

// matchConds are the conditions, to be joined with AND, on the rows of r
// (alias t) that are live and match f.
func (b *Backend) matchConds(sb *builder, r *resource, f backends.Filter) ([]string, error) {
	var conds []string
	if l := b.live(sb, r, tableAlias+"."); l != "" {
		conds = append(conds, l)
	}
	if f != nil {
		w, err := where(sb, r, f)
		if err != nil {
			return nil, err
		}
		conds = append(conds, "("+w+")")
	}
	return conds, nil
}

func (b *Backend) count(ctx context.Context, r *resource, f backends.Filter) (int, error) {
	sb := newBuilder(b.d)
	if err := b.countSQL(sb, r, f); err != nil {
		return 0, err
	}
	var n int
	err := b.conn(ctx).QueryRowContext(ctx, sb.String(), sb.args...).Scan(&n)
	return n, err
}

// orderBy sorts by the sort column with NULLs last (first when
// descending), then by the key ascending, so that the order is total.
func (b *Backend) orderBy(sb *builder, r *resource, sortCol *column, desc bool) string {
	id := tableAlias + "." + sb.q(r.idCol)
	if sortCol == nil {
		return id
	}
	sc := tableAlias + "." + sb.q(sortCol.name)
	dir := " ASC"
	if desc {
		dir = " DESC"
	}
	return "(CASE WHEN " + sc + " IS NULL THEN 1 ELSE 0 END)" + dir + ", " + sc + dir + ", " + id + " ASC"
}

// after is the keyset condition "comes after cur" for orderBy's order.
func (b *Backend) after(sb *builder, r *resource, sortCol *column, desc bool, cur cursor) string {
	id := tableAlias + "." + sb.q(r.idCol)
	if sortCol == nil {
		return id + " > " + sb.arg(cur.lastKey)
	}
	sc := tableAlias + "." + sb.q(sortCol.name)
	if cur.lastNull {
		if desc { // NULLs come first, then every non-NULL
			return "(" + sc + " IS NULL AND " + id + " > " + sb.arg(cur.lastKey) + ") OR " + sc + " IS NOT NULL"
		}
		return sc + " IS NULL AND " + id + " > " + sb.arg(cur.lastKey)
	}
	op := " > "
	if desc {
		op = " < "
	}
	cond := sc + " IS NOT NULL AND (" + sc + op + sb.arg(cur.lastSort) + " OR (" + sc + " = " + sb.arg(cur.lastSort) +
		" AND " + id + " > " + sb.arg(cur.lastKey) + "))"
	if !desc {
		cond = "(" + cond + ") OR " + sc + " IS NULL"
	}
	return cond
}

// Cursors.

type cursor struct {
	total    int
	totalAt  time.Time
	gen      uint64
	usable   bool // the keyset fields below are valid
	lastKey  any
	lastSort any
	lastNull bool
}

// cursorSlot is where a cursor is kept: the query and the StartIndex it
// continues at.
type cursorSlot struct {
	key   string
	start int
}

// cursorCache holds the cursors, the least recently used dropped when
// full, each for cursor_ttl after its last use.
type cursorCache = backends.Cache[cursorSlot, cursor]

func newCursorCache(size int, ttl time.Duration) *cursorCache {
	return backends.NewCache[cursorSlot, cursor](size, ttl, nil)
}

// cursorKey identifies a query's row sequence: resource, filter, sort.
func cursorKey(r *resource, q backends.Query, sortCol *column) string {
	var sb strings.Builder
	sb.WriteString(r.name)
	sb.WriteByte(0)
	writeFilterKey(&sb, q.Filter)
	sb.WriteByte(0)
	if sortCol != nil {
		sb.WriteString(sortCol.name)
		if q.Descending {
			sb.WriteString(" desc")
		}
	}
	return sb.String()
}

func writeFilterKey(sb *strings.Builder, f backends.Filter) {
	switch f := f.(type) {
	case nil:
		sb.WriteString("-")
	case backends.And:
		sb.WriteString("and(")
		for _, c := range f.Filters {
			writeFilterKey(sb, c)
			sb.WriteByte(',')
		}
		sb.WriteByte(')')
	case backends.Or:
		sb.WriteString("or(")
		for _, c := range f.Filters {
			writeFilterKey(sb, c)
			sb.WriteByte(',')
		}
		sb.WriteByte(')')
	case backends.Not:
		sb.WriteString("not(")
		writeFilterKey(sb, f.Filter)
		sb.WriteByte(')')
	case backends.Present:
		fmt.Fprintf(sb, "pr(%q)", strings.ToLower(f.Attr))
	case backends.Compare:
		fmt.Fprintf(sb, "cmp(%q,%q,%q,%t,%d)", strings.ToLower(f.Attr), f.Op, f.Value, f.IgnoreCase, f.Kind)
	default:
		fmt.Fprintf(sb, "%#v", f)
	}
}
