package sql

import (
	"context"
	dbsql "database/sql"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge/backends"
)

func newUUID() string { return uuid.NewString() }

// chunkSize is how many ids go into one IN (...) list or multi-row insert.
func (b *Backend) chunkSize(paramsPerItem int) int {
	return max(1, min(500, (b.d.maxParams()-2)/paramsPerItem))
}

// refValues lists the ids held by ref for the record with key.
func (b *Backend) refValues(ctx context.Context, q querier, ref *reference, key any) ([]string, error) {
	if ref.layout == layoutDelim {
		m, err := b.refValuesMany(ctx, q, ref, []any{key})
		return m[fmt.Sprint(key)], err
	}
	sb := newBuilder(b.d)
	v := ref.valueSQL(sb)
	sb.write("SELECT ", v)
	b.fromRows(sb, ref)
	sb.write(" WHERE j.", sb.q(ref.this), " = ", sb.arg(key), b.rowsCond(sb, ref), " ORDER BY ", v)
	rows, err := q.QueryContext(ctx, sb.String(), sb.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v any
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		if s, ok := format(v); ok {
			out = append(out, s)
		}
	}
	if ref.layout == layoutValues {
		out = dedupe(out)
	}
	return out, rows.Err()
}

// refValuesMany lists the ids held by ref for many records at once, keyed
// by the record id.
func (b *Backend) refValuesMany(ctx context.Context, q querier, ref *reference, keys []any) (map[string][]string, error) {
	out := map[string][]string{}
	for chunk := range slices.Chunk(keys, b.chunkSize(1)) {
		sb := newBuilder(b.d)
		if ref.layout == layoutDelim {
			r := ref.owner
			sb.write("SELECT ", sb.q(r.idCol), ", ", sb.q(ref.col.name), " FROM ", sb.q(r.table), " WHERE ", sb.q(r.idCol), " IN (", sb.list(chunk), ")")
		} else {
			v := ref.valueSQL(sb)
			sb.write("SELECT j.", sb.q(ref.this), ", ", v)
			b.fromRows(sb, ref)
			sb.write(" WHERE j.", sb.q(ref.this), " IN (", sb.list(chunk), ")", b.rowsCond(sb, ref), " ORDER BY j.", sb.q(ref.this), ", ", v)
		}
		rows, err := q.QueryContext(ctx, sb.String(), sb.args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var this, other any
			if err := rows.Scan(&this, &other); err != nil {
				rows.Close()
				return nil, err
			}
			t, ok1 := format(this)
			o, ok2 := format(other)
			switch {
			case !ok1 || !ok2:
			case ref.layout == layoutDelim:
				if ids := splitIDs(o, ref.sep); len(ids) > 0 {
					out[t] = ids
				}
			default:
				out[t] = append(out[t], o)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	if ref.layout == layoutValues {
		for k, v := range out {
			out[k] = dedupe(v)
		}
	}
	return out, nil
}

// targetKeys parses ids of ref's target and checks, in batches, that they
// exist; any that does not is ErrInvalidReference. The result is deduped.
func (b *Backend) targetKeys(ctx context.Context, tx *dbsql.Tx, ref *reference, ids []string) ([]any, error) {
	t := ref.target
	keys, err := parseTargets(ref, ids)
	if err != nil {
		return nil, err
	}
	for chunk := range slices.Chunk(keys, b.chunkSize(1)) {
		sb := newBuilder(b.d)
		sb.write("SELECT ", sb.q(t.idCol), " FROM ", sb.q(t.table), " WHERE ", sb.q(t.idCol), " IN (", sb.list(chunk), ")")
		b.andLive(sb, t, "")
		found, err := b.keySet(ctx, tx, t, sb)
		if err != nil {
			return nil, err
		}
		if len(found) != len(chunk) {
			for _, k := range chunk {
				if !found[fmt.Sprint(k)] {
					return nil, badRef(ref, fmt.Sprint(k))
				}
			}
		}
	}
	return keys, nil
}

// keySet runs a query returning one key column and collects the keys,
// rendered as ids.
func (b *Backend) keySet(ctx context.Context, q querier, r *resource, sb *builder) (map[string]bool, error) {
	rows, err := q.QueryContext(ctx, sb.String(), sb.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var v any
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		if s, ok := format(v); ok {
			if k, ok := r.parseID(s); ok {
				out[fmt.Sprint(k)] = true
			}
		}
	}
	return out, rows.Err()
}

// joinLiveTarget joins the join table (alias j) with the target's table
// when the target has soft delete, so that rows left behind for
// soft-deleted targets (by the application itself) are not listed.
func (b *Backend) joinLiveTarget(sb *builder, ref *reference) {
	t := ref.target
	if t == nil || t.softDel == nil {
		return
	}
	sb.write(" JOIN ", sb.q(t.table), " o ON o.", sb.q(t.idCol), " = j.", sb.q(ref.other), " AND ", b.live(sb, t, "o."))
}

func badRef(ref *reference, id string) error {
	return &backends.AttrError{Kind: backends.ErrInvalidReference, Attr: ref.attr, Value: id,
		Err: fmt.Errorf("sql: %s.%s: no %s with id %q", ref.owner.name, ref.attr, ref.target.name, id)}
}

// addRefs inserts the join rows for ids that are not there yet; existing
// rows are left alone, so adding a present member is not an error and
// adding one member to a huge group writes one row. Every id must name a
// live record of the target (ErrInvalidReference otherwise; the caller's
// transaction then rolls back what was inserted). Per chunk of ids this is
// one statement on PostgreSQL (a WITH that checks and inserts) and two
// elsewhere (check and find the present rows, then insert).
func (b *Backend) addRefs(ctx context.Context, tx *dbsql.Tx, ref *reference, key any, ids []string) error {
	if ref.stmts != nil {
		return b.modifyRefsByStatement(ctx, tx, ref, key, backends.Modification{Op: backends.ModAdd, Values: ids})
	}
	switch ref.layout {
	case layoutValues:
		return b.addValues(ctx, tx, ref, key, ids)
	case layoutFK:
		return b.addFK(ctx, tx, ref, key, ids)
	case layoutDelim:
		return b.modifyDelim(ctx, tx, ref, key, backends.Modification{Op: backends.ModAdd, Values: ids})
	}
	keys, err := parseTargets(ref, ids)
	if err != nil {
		return err
	}
	t := ref.target
	for chunk := range slices.Chunk(keys, b.chunkSize(1)) {
		sb := newBuilder(b.d)
		if b.d.cteInsert() {
			// found: the live targets; the INSERT skips present rows (and
			// rows a concurrent transaction inserted first).
			sb.write("WITH found AS (SELECT o.", sb.q(t.idCol), " AS k FROM ", sb.q(t.table), " o WHERE o.", sb.q(t.idCol), " IN (", sb.list(chunk), ")")
			b.andLive(sb, t, "o.")
			sb.write("), ins AS (INSERT INTO ", sb.q(ref.joinTable), " (", sb.q(ref.this), ", ", sb.q(ref.other), ") SELECT ", sb.arg(key),
				", found.k FROM found WHERE NOT EXISTS (SELECT 1 FROM ", sb.q(ref.joinTable), " j WHERE j.", sb.q(ref.this), " = ", sb.arg(key),
				" AND j.", sb.q(ref.other), " = found.k)", b.d.ignoreDuplicate(ref.this), ") SELECT k FROM found")
			found, err := b.keySet(ctx, tx, t, sb)
			if err != nil {
				return err
			}
			if err := missingRef(ref, chunk, found); err != nil {
				return err
			}
			continue
		}
		have, err := b.presentTargets(ctx, tx, ref, key, chunk)
		if err != nil {
			return err
		}
		ins := newBuilder(b.d)
		ins.write("INSERT INTO ", ins.q(ref.joinTable), " (", ins.q(ref.this), ", ", ins.q(ref.other), ") VALUES ")
		n := 0
		for _, k := range chunk {
			if have[fmt.Sprint(k)] {
				continue
			}
			if n > 0 {
				ins.write(", ")
			}
			ins.write("(", ins.arg(key), ", ", ins.arg(k), ")")
			n++
		}
		if n == 0 {
			continue
		}
		ins.write(b.d.ignoreDuplicate(ref.this))
		if _, err := tx.ExecContext(ctx, ins.String(), ins.args...); err != nil {
			return err
		}
	}
	return nil
}

// possibleKeys parses ids of t, deduped, leaving out those that no record
// can have (and so cannot be referenced either).
func possibleKeys(t *resource, ids []string) []any {
	var keys []any
	for _, id := range dedupe(ids) {
		if k, ok := t.parseID(id); ok {
			keys = append(keys, k)
		}
	}
	return keys
}

// parseTargets parses ids of ref's target, deduped; an id that no record
// can have is ErrInvalidReference.
func parseTargets(ref *reference, ids []string) ([]any, error) {
	var keys []any
	seen := map[string]bool{}
	for _, id := range dedupe(ids) {
		k, ok := ref.target.parseID(id)
		if !ok {
			return nil, badRef(ref, id)
		}
		ks := fmt.Sprint(k)
		if !seen[ks] {
			seen[ks] = true
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// missingRef is ErrInvalidReference for the first key of chunk that is
// not in found.
func missingRef(ref *reference, chunk []any, found map[string]bool) error {
	if len(found) == len(chunk) {
		return nil
	}
	for _, k := range chunk {
		if !found[fmt.Sprint(k)] {
			return badRef(ref, fmt.Sprint(k))
		}
	}
	return nil
}

// presentTargets checks in one query that the keys of chunk name live
// records of ref's target (ErrInvalidReference otherwise) and returns
// those that the record with key references already, rendered as ids.
func (b *Backend) presentTargets(ctx context.Context, tx *dbsql.Tx, ref *reference, key any, chunk []any) (map[string]bool, error) {
	t := ref.target
	sb := newBuilder(b.d)
	sb.write("SELECT o.", sb.q(t.idCol), ", j.", sb.q(ref.other), " FROM ", sb.q(t.table), " o LEFT JOIN ", sb.q(ref.joinTable),
		" j ON j.", sb.q(ref.this), " = ", sb.arg(key), " AND j.", sb.q(ref.other), " = o.", sb.q(t.idCol),
		" WHERE o.", sb.q(t.idCol), " IN (", sb.list(chunk), ")")
	b.andLive(sb, t, "o.")
	found, have, err := b.foundAndPresent(ctx, tx, t, sb)
	if err != nil {
		return nil, err
	}
	if err := missingRef(ref, chunk, found); err != nil {
		return nil, err
	}
	return have, nil
}

// foundAndPresent runs a query returning a target key and, where a join
// row has it, that key again; it returns both sets, rendered as ids.
func (b *Backend) foundAndPresent(ctx context.Context, q querier, t *resource, sb *builder) (found, have map[string]bool, err error) {
	rows, err := q.QueryContext(ctx, sb.String(), sb.args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	found, have = map[string]bool{}, map[string]bool{}
	for rows.Next() {
		var k, j any
		if err := rows.Scan(&k, &j); err != nil {
			return nil, nil, err
		}
		s, ok := format(k)
		if !ok {
			continue
		}
		if key, ok := t.parseID(s); ok {
			found[fmt.Sprint(key)] = true
			if j != nil {
				have[fmt.Sprint(key)] = true
			}
		}
	}
	return found, have, rows.Err()
}

// deleteRefs deletes the join rows for ids (all of them when ids is nil).
func (b *Backend) deleteRefs(ctx context.Context, tx *dbsql.Tx, ref *reference, key any, ids []string) error {
	if ref.layout == layoutFK {
		return b.deleteFK(ctx, tx, ref, key, ids)
	}
	if ids == nil {
		sb := newBuilder(b.d)
		sb.write("DELETE FROM ", sb.q(ref.joinTable), " WHERE ", sb.q(ref.this), " = ", sb.arg(key))
		_, err := tx.ExecContext(ctx, sb.String(), sb.args...)
		return err
	}
	for chunk := range slices.Chunk(possibleKeys(ref.target, ids), b.chunkSize(1)) {
		sb := newBuilder(b.d)
		sb.write("DELETE FROM ", sb.q(ref.joinTable), " WHERE ", sb.q(ref.this), " = ", sb.arg(key),
			" AND ", sb.q(ref.other), " IN (", sb.list(chunk), ")")
		if _, err := tx.ExecContext(ctx, sb.String(), sb.args...); err != nil {
			return err
		}
	}
	return nil
}

// modifyRefs applies one modification to a reference attribute.
func (b *Backend) modifyRefs(ctx context.Context, tx *dbsql.Tx, ref *reference, key any, m backends.Modification) error {
	if ref.stmts != nil {
		return b.modifyRefsByStatement(ctx, tx, ref, key, m)
	}
	if ref.layout == layoutValues {
		return b.modifyValues(ctx, tx, ref, key, m)
	}
	if ref.layout == layoutDelim {
		return b.modifyDelim(ctx, tx, ref, key, m)
	}
	switch m.Op {
	case backends.ModAdd:
		return b.addRefs(ctx, tx, ref, key, m.Values)
	case backends.ModDelete:
		if len(m.Values) == 0 {
			return b.deleteRefs(ctx, tx, ref, key, nil)
		}
		return b.deleteRefs(ctx, tx, ref, key, m.Values)
	}
	// ModReplace: validate the new list, then change only the difference.
	remove, add, err := b.replaceDiff(ctx, tx, ref, key, m.Values)
	if err != nil {
		return err
	}
	if len(remove) > 0 {
		if err := b.deleteRefs(ctx, tx, ref, key, remove); err != nil {
			return err
		}
	}
	if len(add) > 0 {
		return b.addRefs(ctx, tx, ref, key, add)
	}
	return nil
}

// replaceDiff checks that ids, the new list of ref for the record with
// key, name live targets (ErrInvalidReference otherwise) and returns the
// ids to remove from the current list and those to add to it.
func (b *Backend) replaceDiff(ctx context.Context, tx *dbsql.Tx, ref *reference, key any, ids []string) (remove, add []string, err error) {
	keys, err := b.targetKeys(ctx, tx, ref, ids)
	if err != nil {
		return nil, nil, err
	}
	want := make([]string, len(keys))
	for i, k := range keys {
		want[i] = fmt.Sprint(k)
	}
	cur, err := b.refValues(ctx, tx, ref, key)
	if err != nil {
		return nil, nil, err
	}
	return without(cur, want), without(want, cur), nil
}

// without returns the values of a that are not in b, in a's order.
func without(a, b []string) []string {
	drop := make(map[string]bool, len(b))
	for _, v := range b {
		drop[v] = true
	}
	var out []string
	for _, v := range a {
		if !drop[v] {
			out = append(out, v)
		}
	}
	return out
}
