package sql

import (
	"context"
	dbsql "database/sql"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/scimbridge/scimbridge/backends"
)

// rowsCond is the condition on the rows of ref (alias j, and l for a
// lookup table) beyond the owner's key: it skips rows of a local_column
// reference whose column is NULL (no target) and NULL values of a
// multi_value, and keeps only a multi_value's rows with its where values.
// "" for other layouts.
func (b *Backend) rowsCond(sb *builder, ref *reference) string {
	if ref.layout != layoutLocal && ref.layout != layoutValues {
		return ""
	}
	return " AND " + ref.valueSQL(sb) + " IS NOT NULL" + andFixed(sb, ref, "j.")
}

// valueSQL is the expression of ref's values (or target keys) in a query
// over its rows written by fromRows.
func (ref *reference) valueSQL(sb *builder) string {
	if l := ref.lookup; l != nil {
		return "l." + sb.q(l.valueCol)
	}
	return "j." + sb.q(ref.other)
}

// fromRows writes the FROM clause of a query over ref's rows: the join
// table as j, joined with the lookup table as l, or with the live rows of
// the target.
func (b *Backend) fromRows(sb *builder, ref *reference) {
	sb.write(" FROM ", sb.q(ref.joinTable), " j")
	if l := ref.lookup; l != nil {
		sb.write(" JOIN ", sb.q(l.table), " l ON l.", sb.q(l.keyCol), " = j.", sb.q(ref.other))
	}
	b.joinLiveTarget(sb, ref)
}

// andFixed is the condition that a multi_value's child row (p: its alias
// and a dot, or "") holds the where values; "" without them.
func andFixed(sb *builder, ref *reference, p string) string {
	var s strings.Builder
	for _, f := range ref.fixed {
		s.WriteString(" AND " + p + sb.q(f.col.name) + " = " + sb.arg(bindText(f.col, f.value)))
	}
	return s.String()
}

// fkColumn is the column that a foreign_key or local_column reference
// sets to NULL to drop a reference.
func (ref *reference) fkColumn() string {
	if ref.layout == layoutLocal {
		return ref.other
	}
	return ref.this
}

// splitIDs splits a delimited column into its ids: blanks around them
// are ignored, empty items and repeats dropped, the order kept.
func splitIDs(s, sep string) []string {
	var out []string
	for _, p := range strings.Split(s, sep) {
		if p = strings.TrimSpace(p); p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// canonID is id as the target's key renders it (so "007" and "7" of an
// integer key are the same id); ids no record can have are kept as they are.
func canonID(t *resource, id string) string {
	if k, ok := t.parseID(strings.TrimSpace(id)); ok {
		return fmt.Sprint(k)
	}
	return id
}

// addFK points the foreign key of the target rows ids at key, after
// checking they all exist. A target that belonged to another owner moves.
func (b *Backend) addFK(ctx context.Context, tx *dbsql.Tx, ref *reference, key any, ids []string) error {
	keys, err := b.targetKeys(ctx, tx, ref, ids)
	if err != nil {
		return err
	}
	t := ref.target
	for chunk := range slices.Chunk(keys, b.chunkSize(1)) {
		sb := newBuilder(b.d)
		sb.write("UPDATE ", sb.q(t.table), " SET ", sb.q(ref.this), " = ", sb.arg(key), " WHERE ", sb.q(t.idCol), " IN (", sb.list(chunk), ")")
		b.andLive(sb, t, "")
		sb.write(" AND (", sb.q(ref.this), " IS NULL OR ", sb.q(ref.this), " <> ", sb.arg(key), ")")
		if _, err := tx.ExecContext(ctx, sb.String(), sb.args...); err != nil {
			return err
		}
	}
	return nil
}

// deleteFK sets the foreign key of the target rows ids (all, when ids is
// nil) to NULL where it names key.
func (b *Backend) deleteFK(ctx context.Context, tx *dbsql.Tx, ref *reference, key any, ids []string) error {
	t := ref.target
	if ids == nil {
		sb := newBuilder(b.d)
		sb.write("UPDATE ", sb.q(t.table), " SET ", sb.q(ref.this), " = NULL WHERE ", sb.q(ref.this), " = ", sb.arg(key))
		_, err := tx.ExecContext(ctx, sb.String(), sb.args...)
		return err
	}
	for chunk := range slices.Chunk(possibleKeys(t, ids), b.chunkSize(1)) {
		sb := newBuilder(b.d)
		sb.write("UPDATE ", sb.q(t.table), " SET ", sb.q(ref.this), " = NULL WHERE ", sb.q(ref.this), " = ", sb.arg(key),
			" AND ", sb.q(t.idCol), " IN (", sb.list(chunk), ")")
		if _, err := tx.ExecContext(ctx, sb.String(), sb.args...); err != nil {
			return err
		}
	}
	return nil
}

// delimCurrent reads (and locks, FOR UPDATE where writers are not
// serialised anyway) the delimited column of the owner row with key.
func (b *Backend) delimCurrent(ctx context.Context, tx *dbsql.Tx, ref *reference, key any) ([]string, error) {
	cur, err := b.rowValues(ctx, tx, ref.owner, key, []*column{ref.col}, b.d.forUpdate())
	if err != nil {
		return nil, err
	}
	if v := cur[ref.col]; v != nil {
		return splitIDs(*v, ref.sep), nil
	}
	return nil, nil
}

// writeDelim stores ids in the delimited column of the owner row with key;
// an empty list is NULL (or ” when the column is NOT NULL).
func (b *Backend) writeDelim(ctx context.Context, tx *dbsql.Tx, ref *reference, key any, ids []string) error {
	r := ref.owner
	var v any
	if len(ids) > 0 || !ref.col.info.nullable {
		s := strings.Join(ids, ref.sep)
		if n := ref.col.info.maxLen; n > 0 && utf8.RuneCountInString(s) > n {
			return refused(ref.attr, "", fmt.Sprintf("holds more ids than the directory can store (%d)", len(ids)),
				invalidf("%s.%s: %d ids do not fit in column %s (at most %d characters)", r.name, ref.attr, len(ids), ref.col.name, n))
		}
		v = s
	}
	sb := newBuilder(b.d)
	sb.write("UPDATE ", sb.q(r.table), " SET ", sb.q(ref.col.name), " = ", sb.arg(v), " WHERE ", sb.q(r.idCol), " = ", sb.arg(key))
	b.andLive(sb, r, "")
	_, err := tx.ExecContext(ctx, sb.String(), sb.args...)
	return err
}

// modifyDelim applies m to a delimited reference: read the column under
// the row lock, change the list, write it back if it changed. Added ids
// must name live targets (ErrInvalidReference); the order is kept, new
// ids go last, repeats are dropped.
func (b *Backend) modifyDelim(ctx context.Context, tx *dbsql.Tx, ref *reference, key any, m backends.Modification) error {
	cur, err := b.delimCurrent(ctx, tx, ref, key)
	if err != nil {
		return err
	}
	var next []string
	switch m.Op {
	case backends.ModDelete:
		if len(m.Values) > 0 {
			drop := map[string]bool{}
			for _, id := range m.Values {
				drop[canonID(ref.target, id)] = true
			}
			for _, id := range cur {
				if !drop[canonID(ref.target, id)] {
					next = append(next, id)
				}
			}
		}
	default: // ModAdd, ModReplace
		keys, err := b.targetKeys(ctx, tx, ref, m.Values)
		if err != nil {
			return err
		}
		have := map[string]bool{}
		if m.Op == backends.ModAdd {
			next = slices.Clone(cur)
			for _, id := range cur {
				have[canonID(ref.target, id)] = true
			}
		}
		for _, k := range keys {
			id := fmt.Sprint(k)
			if strings.Contains(id, ref.sep) || strings.TrimSpace(id) != id {
				return refused(ref.attr, id, "cannot be stored in the directory's list of ids",
					invalidf("%s.%s: id %q cannot be stored in a list separated by %q", ref.owner.name, ref.attr, id, ref.sep))
			}
			if !have[id] {
				have[id] = true
				next = append(next, id)
			}
		}
	}
	if slices.Equal(cur, next) {
		return nil
	}
	return b.writeDelim(ctx, tx, ref, key, next)
}

// delimMatch is the predicate "the delimited column c holds id": exact,
// never a substring of another id. It assumes the list is stored as this
// backend writes it (no blanks around the separators).
func delimMatch(sb *builder, c colExpr, id, sep string) string {
	d := sb.d
	return "(" + d.equal(sb, c, id, false) +
		" OR " + d.substring(sb, backends.Sw, c, id+sep, false) +
		" OR " + d.substring(sb, backends.Ew, c, sep+id, false) +
		" OR " + d.substring(sb, backends.Co, c, sep+id+sep, false) + ")"
}

// delimHas is the filter on a delimited reference: present (key nil) or
// holding key. NULL columns read as false, also under NOT.
func (c *compiler) delimHas(ref *reference, key any) string {
	cn := colExpr{sql: tableAlias + "." + c.b.q(ref.col.name), info: ref.col.info}
	if key == nil {
		return "(" + cn.sql + " IS NOT NULL AND " + c.b.d.text(cn) + " <> '')"
	}
	return c.b.d.nullFalse(delimMatch(c.b, cn, fmt.Sprint(key), ref.sep))
}

// dropDelim removes key, a record of ref's target being deleted, from
// every delimited list of ref that holds it.
func (b *Backend) dropDelim(ctx context.Context, tx *dbsql.Tx, ref *reference, key any) error {
	r := ref.owner
	id := fmt.Sprint(key)
	sb := newBuilder(b.d)
	cn := colExpr{sql: tableAlias + "." + sb.q(ref.col.name), info: ref.col.info}
	sb.write("SELECT ", tableAlias, ".", sb.q(r.idCol), ", ", cn.sql, " FROM ", sb.q(r.table), " ", tableAlias, " WHERE ")
	sb.write(delimMatch(sb, cn, id, ref.sep), b.d.forUpdate())
	type row struct {
		key any
		ids []string
	}
	var rows []row
	err := func() error {
		rs, err := tx.QueryContext(ctx, sb.String(), sb.args...)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var k, v any
			if err := rs.Scan(&k, &v); err != nil {
				return err
			}
			ks, ok1 := format(k)
			s, ok2 := format(v)
			pk, ok3 := r.parseID(ks)
			if ok1 && ok2 && ok3 {
				rows = append(rows, row{pk, splitIDs(s, ref.sep)})
			}
		}
		return rs.Err()
	}()
	if err != nil {
		return err
	}
	for _, rw := range rows {
		next := slices.DeleteFunc(slices.Clone(rw.ids), func(s string) bool { return canonID(ref.target, s) == id })
		if len(next) == len(rw.ids) {
			continue
		}
		sb := newBuilder(b.d)
		var v any
		if len(next) > 0 || !ref.col.info.nullable {
			v = strings.Join(next, ref.sep)
		}
		sb.write("UPDATE ", sb.q(r.table), " SET ", sb.q(ref.col.name), " = ", sb.arg(v), " WHERE ", sb.q(r.idCol), " = ", sb.arg(rw.key))
		if _, err := tx.ExecContext(ctx, sb.String(), sb.args...); err != nil {
			return err
		}
	}
	return nil
}
