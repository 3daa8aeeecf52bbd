package sql

import (
	"context"
	dbsql "database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/scimbridge/scimbridge/backends"
)

// This file holds the multi_value attributes: plain values (e-mail
// addresses, phone numbers, roles) kept one per row of a child table. They
// are references of layout layoutValues without a target, so reading them
// (refValues, refValuesMany, the inline aggregate) and deleting them with
// the record go the way of join tables; writing and filtering are here.

// checkValues refuses values the value column cannot hold.
func (b *Backend) checkValues(ref *reference, vals []string) error {
	for _, v := range vals {
		if err := checkText(ref.owner.name, ref.attr, v); err != nil {
			return err
		}
		if p := b.d.checkValue(ref.col.info, v); p != "" {
			return refused(ref.attr, v, p, invalidf("%s.%s: %q %s (column %s, type %s)", ref.owner.name, ref.attr, v, p, ref.col.name, ref.col.info.declType))
		}
	}
	return nil
}

// insertValues inserts one child row per stored value (bound values of the
// value column: the values themselves, or the lookup keys), with the where
// values; the caller has left out the values already there.
func (b *Backend) insertValues(ctx context.Context, tx *dbsql.Tx, ref *reference, key any, stored []any) error {
	for chunk := range slices.Chunk(stored, b.chunkSize(2+len(ref.fixed))) {
		sb := newBuilder(b.d)
		sb.write("INSERT INTO ", sb.q(ref.joinTable), " (", sb.q(ref.this), ", ", sb.q(ref.other))
		for _, f := range ref.fixed {
			sb.write(", ", sb.q(f.col.name))
		}
		sb.write(") VALUES ")
		for i, v := range chunk {
			if i > 0 {
				sb.write(", ")
			}
			sb.write("(", sb.arg(key), ", ", sb.arg(v))
			for _, f := range ref.fixed {
				sb.write(", ", sb.arg(bindText(f.col, f.value)))
			}
			sb.write(")")
		}
		sb.write(b.d.ignoreDuplicate(ref.this))
		res, err := tx.ExecContext(ctx, sb.String(), sb.args...)
		if err != nil {
			return err
		}
		// MySQL counts a skipped duplicate as a row found (the DSN sets
		// clientFoundRows): there, the rows are always counted back.
		_, foundRows := b.d.(mysqlDialect)
		if n, err := res.RowsAffected(); foundRows || (err == nil && n < int64(len(chunk))) {
			if err := b.checkSkipped(ctx, tx, ref, key, chunk); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkSkipped runs when an insert of values may have skipped rows as
// duplicates (ignoreDuplicate): when it inserted fewer rows than values,
// and always on MySQL, which cannot tell. The owner's row is locked, so no other
// write of this record inserted them; a value the database counts as
// equal to one the record holds (another case, under a case-insensitive
// collation) is fine: it is there. Any other skipped row collided with a
// unique key over other records' rows: a value unique across records that
// another record holds. That must not pass for a write that succeeded.
func (b *Backend) checkSkipped(ctx context.Context, tx *dbsql.Tx, ref *reference, key any, chunk []any) error {
	held := func(vals []any) (int, error) {
		sb := newBuilder(b.d)
		sb.write("SELECT COUNT(*) FROM ", sb.q(ref.joinTable), " j WHERE j.", sb.q(ref.this), " = ", sb.arg(key),
			" AND j.", sb.q(ref.other), " IN (", sb.list(vals), ")", andFixed(sb, ref, "j."))
		var n int
		err := tx.QueryRowContext(ctx, sb.String(), sb.args...).Scan(&n)
		return n, err
	}
	if n, err := held(chunk); err != nil || n >= len(chunk) {
		return err // every value is there (one query in the usual case)
	}
	for _, v := range chunk {
		n, err := held([]any{v})
		if err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		value := "" // a lookup key means nothing to the client
		if ref.lookup == nil {
			value, _ = format(v)
		}
		return backends.Conflict(ref.attr, value, fmt.Errorf("sql: %s.%s: a value was not inserted: it collides with a unique key over other records' rows",
			ref.owner.name, ref.attr))
	}
	return nil
}

// deleteValues deletes the child rows (those with the where values)
// holding the stored values (all of them when stored is nil).
func (b *Backend) deleteValues(ctx context.Context, tx *dbsql.Tx, ref *reference, key any, stored []any) error {
	if stored == nil {
		sb := newBuilder(b.d)
		sb.write("DELETE FROM ", sb.q(ref.joinTable), " WHERE ", sb.q(ref.this), " = ", sb.arg(key))
		sb.write(andFixed(sb, ref, ""))
		_, err := tx.ExecContext(ctx, sb.String(), sb.args...)
		return err
	}
	for chunk := range slices.Chunk(stored, b.chunkSize(1)) {
		sb := newBuilder(b.d)
		sb.write("DELETE FROM ", sb.q(ref.joinTable), " WHERE ", sb.q(ref.this), " = ", sb.arg(key),
			" AND ", sb.q(ref.other), " IN (", sb.list(chunk), ")")
		sb.write(andFixed(sb, ref, ""))
		if _, err := tx.ExecContext(ctx, sb.String(), sb.args...); err != nil {
			return err
		}
	}
	return nil
}

// bindValues binds values for the value column.
func (b *Backend) bindValues(ref *reference, vals []string) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		out[i] = b.bind(ref.col, v)
	}
	return out
}

// addValues inserts the rows of a new record's multi_value.
func (b *Backend) addValues(ctx context.Context, tx *dbsql.Tx, ref *reference, key any, vals []string) error {
	vals = dedupe(vals)
	if ref.lookup == nil {
		return b.insertValues(ctx, tx, ref, key, b.bindValues(ref, vals))
	}
	keys, err := b.lookupKeys(ctx, tx, ref, vals, true)
	if err != nil {
		return err
	}
	return b.insertValues(ctx, tx, ref, key, sortedValues(keys))
}

// sortedValues lists the values of m in the order of their keys, so that
// writes touch rows in a stable order.
func sortedValues(m map[string]any) []any {
	out := make([]any, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[k])
	}
	return out
}

// modifyValues applies one modification to a multi_value attribute, in
// the caller's transaction (which has locked the owner's row): ModAdd
// inserts the values not there yet, ModDelete deletes the given values
// (all without values), ModReplace deletes those not given and inserts
// the missing ones. Values compare exactly as read back; names of a
// lookup as ValueLookupConfig says.
func (b *Backend) modifyValues(ctx context.Context, tx *dbsql.Tx, ref *reference, key any, m backends.Modification) error {
	if ref.lookup != nil {
		return b.modifyLookupValues(ctx, tx, ref, key, m)
	}
	vals := dedupe(m.Values)
	if m.Op == backends.ModDelete {
		if len(m.Values) == 0 {
			return b.deleteValues(ctx, tx, ref, key, nil)
		}
		if len(vals) == 0 {
			return nil
		}
		return b.deleteValues(ctx, tx, ref, key, b.bindValues(ref, vals))
	}
	cur, err := b.refValues(ctx, tx, ref, key)
	if err != nil {
		return err
	}
	if m.Op == backends.ModReplace {
		if remove := without(cur, vals); len(remove) > 0 {
			if err := b.deleteValues(ctx, tx, ref, key, b.bindValues(ref, remove)); err != nil {
				return err
			}
		}
	}
	return b.insertValues(ctx, tx, ref, key, b.bindValues(ref, without(vals, cur)))
}

// modifyLookupValues is modifyValues for a multi_value with a lookup: the
// names are translated to keys first (an unknown name to add is refused,
// one to delete ignored), then the child rows' keys change as the names
// would.
func (b *Backend) modifyLookupValues(ctx context.Context, tx *dbsql.Tx, ref *reference, key any, m backends.Modification) error {
	if m.Op == backends.ModDelete && len(m.Values) == 0 {
		return b.deleteValues(ctx, tx, ref, key, nil)
	}
	want, err := b.lookupKeys(ctx, tx, ref, dedupe(m.Values), m.Op != backends.ModDelete)
	if err != nil {
		return err
	}
	if m.Op == backends.ModDelete {
		if len(want) == 0 {
			return nil
		}
		return b.deleteValues(ctx, tx, ref, key, sortedValues(want))
	}
	cur, err := b.childKeys(ctx, tx, ref, key)
	if err != nil {
		return err
	}
	if m.Op == backends.ModReplace {
		remove := map[string]any{}
		for k, v := range cur {
			if _, ok := want[k]; !ok {
				remove[k] = v
			}
		}
		if len(remove) > 0 {
			if err := b.deleteValues(ctx, tx, ref, key, sortedValues(remove)); err != nil {
				return err
			}
		}
	}
	add := map[string]any{}
	for k, v := range want {
		if _, ok := cur[k]; !ok {
			add[k] = v
		}
	}
	return b.insertValues(ctx, tx, ref, key, sortedValues(add))
}

// lookupKeys finds the lookup keys of names, in batches of one query each:
// the row whose value equals the name, else the one row whose value equals
// it ignoring case. The keys are returned as read (to bind them as they
// are), by their text. A name without a row is refused when strict (an
// AttrError naming the value), left out otherwise.
func (b *Backend) lookupKeys(ctx context.Context, q querier, ref *reference, names []string, strict bool) (map[string]any, error) {
	l := ref.lookup
	out := map[string]any{}
	for chunk := range slices.Chunk(names, b.chunkSize(1)) {
		sb := newBuilder(b.d)
		lower := make([]string, len(chunk))
		for i, n := range chunk {
			lower[i] = "lower(" + sb.arg(n) + ")"
		}
		sb.write("SELECT l.", sb.q(l.keyCol), ", l.", sb.q(l.valueCol), " FROM ", sb.q(l.table), " l WHERE lower(",
			b.d.text(colExpr{sql: "l." + sb.q(l.valueCol), info: ref.col.info}), ") IN (", strings.Join(lower, ", "), ")")
		rows, err := q.QueryContext(ctx, sb.String(), sb.args...)
		if err != nil {
			return nil, err
		}
		type row struct {
			key  any
			name string
		}
		var found []row
		for rows.Next() {
			var k, v any
			if err := rows.Scan(&k, &v); err != nil {
				rows.Close()
				return nil, err
			}
			if name, ok := format(v); ok && k != nil {
				if raw, ok := k.([]byte); ok {
					k = string(raw) // MySQL's text protocol; the driver's buffer is reused
				}
				found = append(found, row{k, name})
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
		for _, n := range chunk {
			var exact, folded []row
			for _, r := range found {
				switch {
				case r.name == n:
					exact = append(exact, r)
				case strings.EqualFold(r.name, n):
					folded = append(folded, r)
				}
			}
			pick := exact
			if len(pick) == 0 {
				pick = folded
			}
			switch {
			case len(pick) == 0 && !strict:
			case len(pick) == 0:
				return nil, refused(ref.attr, n, "is not a known value",
					invalidf("%s.%s: %q is not a value of the lookup table %s", ref.owner.name, ref.attr, n, l.table))
			case len(pick) > 1 && !sameKeys(pick, func(r row) any { return r.key }):
				return nil, refused(ref.attr, n, "matches several known values",
					invalidf("%s.%s: %q matches several rows of the lookup table %s", ref.owner.name, ref.attr, n, l.table))
			default:
				ks, _ := format(pick[0].key)
				out[ks] = pick[0].key
			}
		}
	}
	return out, nil
}

// sameKeys reports whether every item has the same key, as text.
func sameKeys[T any](items []T, key func(T) any) bool {
	first, _ := format(key(items[0]))
	for _, it := range items[1:] {
		if k, _ := format(key(it)); k != first {
			return false
		}
	}
	return true
}

// childKeys lists the keys a multi_value with a lookup holds for the
// record with key (also keys no lookup row has, which reads skip), as
// read, by their text.
func (b *Backend) childKeys(ctx context.Context, q querier, ref *reference, key any) (map[string]any, error) {
	sb := newBuilder(b.d)
	sb.write("SELECT j.", sb.q(ref.other), " FROM ", sb.q(ref.joinTable), " j WHERE j.", sb.q(ref.this), " = ", sb.arg(key),
		" AND j.", sb.q(ref.other), " IS NOT NULL", andFixed(sb, ref, "j."))
	rows, err := q.QueryContext(ctx, sb.String(), sb.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]any{}
	for rows.Next() {
		var v any
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		if raw, ok := v.([]byte); ok {
			v = string(raw)
		}
		if s, ok := format(v); ok {
			out[s] = v
		}
	}
	return out, rows.Err()
}

// valuesFilter is a filter on a multi_value attribute: an EXISTS over the
// child rows of the record whose value matches f as a column would (same
// case handling and LIKE escaping); ne is NOT of eq; pr when f is nil.
func (c *compiler) valuesFilter(ref *reference, f *backends.Compare) (string, error) {
	b := c.b
	cn := colExpr{sql: ref.valueSQL(b), info: ref.col.info}
	var p string
	if f == nil {
		p = cn.sql + " IS NOT NULL AND " + b.d.text(cn) + " <> ''"
	} else {
		switch f.Op {
		case backends.Ne:
			eq := *f
			eq.Op = backends.Eq
			s, err := c.valuesFilter(ref, &eq)
			if err != nil {
				return "", err
			}
			return "NOT (" + s + ")", nil
		case backends.Eq, backends.Co, backends.Sw, backends.Ew, backends.Gt, backends.Ge, backends.Lt, backends.Le:
		default:
			return "", fmt.Errorf("sql: operator %q on %s: %w", f.Op, ref.attr, backends.ErrUnsupported)
		}
		var err error
		if p, err = c.predicate(cn, *f); err != nil {
			return "", err
		}
	}
	from := "FROM " + b.q(ref.joinTable) + " j"
	if l := ref.lookup; l != nil {
		from += " JOIN " + b.q(l.table) + " l ON l." + b.q(l.keyCol) + " = j." + b.q(ref.other)
	}
	// The where values are bound after p's values, so they follow it.
	return "EXISTS (SELECT 1 " + from + " WHERE j." + b.q(ref.this) + " = " + tableAlias + "." + b.q(c.r.idCol) +
		" AND (" + p + ")" + andFixed(b, ref, "j.") + ")", nil
}
