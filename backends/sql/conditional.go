package sql

import (
	"context"
	"fmt"
	"sort"

	"github.com/scimbridge/scimbridge/backends"
)

// ModifyIf is Modify in one transaction that first locks the row
// (SELECT ... FOR UPDATE, or lockRow's advisory lock for an account that
// may not lock rows; SQLite's immediate transactions hold the database's
// write lock) and compares the values expect names with the
// stored ones, child tables and reference lists included: a bridge on
// another host that wrote the row since this bridge read it makes the
// write fail with backends.ErrPrecondition, and writes to one row are
// ordered by the database. Inside InTransaction (a /Bulk transaction) it
// is part of the outer transaction.
func (b *Backend) ModifyIf(ctx context.Context, resourceType, id string, expect backends.Attrs, mods []backends.Modification, attrs []string) (backends.Record, error) {
	r, err := b.resource(resourceType)
	if err != nil {
		return backends.Record{}, err
	}
	key, ok := r.parseID(id)
	if !ok {
		return backends.Record{}, notFound(resourceType, id)
	}
	names := make([]string, 0, len(expect))
	for n := range expect {
		names = append(names, n)
	}
	sort.Strings(names)
	var rec backends.Record
	err = b.InTransaction(ctx, func(ctx context.Context) error {
		tx := b.outer(ctx)
		if _, err := b.lockRow(ctx, tx, r, key, nil); err != nil {
			return b.wrap(ctx, r, "lock "+resourceType, err)
		}
		cur, err := b.read(ctx, tx, r, key, names)
		if err != nil {
			return b.wrap(ctx, r, "read "+resourceType, err)
		}
		for _, n := range names {
			if !backends.SameValues(cur.Attrs.Get(n), expect[n]) {
				return fmt.Errorf("sql: modify %s %s: %s: %w", resourceType, id, n, backends.ErrPrecondition)
			}
		}
		rec, err = b.Modify(ctx, resourceType, id, mods, attrs)
		return err
	})
	if err != nil {
		return backends.Record{}, err
	}
	return rec, nil
}
