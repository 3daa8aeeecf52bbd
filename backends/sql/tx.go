package sql

import (
	"context"
	dbsql "database/sql"
	"fmt"
)

// InTransaction runs fn with a context in which every call of this
// backend (reads included) is part of one database transaction, committed
// when fn returns nil and rolled back otherwise: a /Bulk request with
// bulk_transaction = true. Inside it, an operation's own transaction is
// the outer one, and a transaction the database aborts (a deadlock) is
// not run again: the whole of fn fails. Totals of lists are not cached
// from inside it.
func (b *Backend) InTransaction(ctx context.Context, fn func(ctx context.Context) error) error {
	if b.outer(ctx) != nil {
		return fn(ctx)
	}
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return b.wrap(ctx, nil, "begin a transaction", err)
	}
	err = fn(context.WithValue(ctx, txKey{}, &outerTx{b: b, tx: tx}))
	// What the transaction wrote (or no longer wrote) changes totals.
	defer b.gen.Add(1)
	if err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return b.wrap(ctx, nil, "commit a transaction", fmt.Errorf("commit: %w", err))
	}
	return nil
}

type txKey struct{}

// outerTx is the transaction InTransaction holds for one backend.
type outerTx struct {
	b  *Backend
	tx *dbsql.Tx
}

// outer returns the transaction of InTransaction that ctx carries for b.
func (b *Backend) outer(ctx context.Context) *dbsql.Tx {
	if ot, ok := ctx.Value(txKey{}).(*outerTx); ok && ot.b == b {
		return ot.tx
	}
	return nil
}

// conn is what a call runs its statements on: the outer transaction, or
// the pool.
func (b *Backend) conn(ctx context.Context) querier {
	if tx := b.outer(ctx); tx != nil {
		return tx
	}
	return b.db
}
