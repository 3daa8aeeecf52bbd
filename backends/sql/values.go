package sql

import (
	"context"
	dbsql "database/sql"
	"fmt"
	"slices"

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
			return refused(ref.attr, v, p, invalidf("%s.%s: %q %s (column %s.%s, type %s)", ref.owner.name, ref.attr, v, p, ref.joinTable, ref.other, ref.col.info.declType))
		}
	}
	return nil
}

// insertValues inserts one child row per value (the caller has left out
// the values already there).
func (b *Backend) insertValues(ctx context.Context, tx *dbsql.Tx, ref *reference, key any, vals []string) error {
	for chunk := range slices.Chunk(vals, b.chunkSize(2)) {
		sb := newBuilder(b.d)
		sb.write("INSERT INTO ", sb.q(ref.joinTable), " (", sb.q(ref.this), ", ", sb.q(ref.other), ") VALUES ")
		for i, v := range chunk {
			if i > 0 {
				sb.write(", ")
			}
			sb.write("(", sb.arg(key), ", ", sb.arg(b.bind(ref.col, v)), ")")
		}
		sb.write(b.d.ignoreDuplicate(ref.this))
		if _, err := tx.ExecContext(ctx, sb.String(), sb.args...); err != nil {
			return err
		}
	}
	return nil
}

// deleteValues deletes the child rows holding vals (all of them when vals
// is nil).
func (b *Backend) deleteValues(ctx context.Context, tx *dbsql.Tx, ref *reference, key any, vals []string) error {
	if vals == nil {
		return b.deleteRefs(ctx, tx, ref, key, nil)
	}
	for chunk := range slices.Chunk(vals, b.chunkSize(1)) {
		bound := make([]any, len(chunk))
		for i, v := range chunk {
			bound[i] = b.bind(ref.col, v)
		}
		sb := newBuilder(b.d)
		sb.write("DELETE FROM ", sb.q(ref.joinTable), " WHERE ", sb.q(ref.this), " = ", sb.arg(key),
			" AND ", sb.q(ref.other), " IN (", sb.list(bound), ")")
		if _, err := tx.ExecContext(ctx, sb.String(), sb.args...); err != nil {
			return err
		}
	}
	return nil
}

// modifyValues applies one modification to a multi_value attribute, in
// the caller's transaction (which has locked the owner's row): ModAdd
// inserts the values not there yet, ModDelete deletes the given values
// (all without values), ModReplace deletes those not given and inserts
// the missing ones. Values compare exactly as read back.
func (b *Backend) modifyValues(ctx context.Context, tx *dbsql.Tx, ref *reference, key any, m backends.Modification) error {
	vals := dedupe(m.Values)
	if m.Op == backends.ModDelete {
		if len(m.Values) == 0 {
			return b.deleteValues(ctx, tx, ref, key, nil)
		}
		if len(vals) == 0 {
			return nil
		}
		return b.deleteValues(ctx, tx, ref, key, vals)
	}
	cur, err := b.refValues(ctx, tx, ref, key)
	if err != nil {
		return err
	}
	if m.Op == backends.ModReplace {
		if remove := without(cur, vals); len(remove) > 0 {
			if err := b.deleteValues(ctx, tx, ref, key, remove); err != nil {
				return err
			}
		}
	}
	return b.insertValues(ctx, tx, ref, key, without(vals, cur))
}

// valuesFilter is a filter on a multi_value attribute: an EXISTS over the
// child rows of the record whose value matches f as a column would (same
// case handling and LIKE escaping); ne is NOT of eq; pr when f is nil.
func (c *compiler) valuesFilter(ref *reference, f *backends.Compare) (string, error) {
	b := c.b
	cn := colExpr{sql: "j." + b.q(ref.other), info: ref.col.info}
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
	return "EXISTS (SELECT 1 FROM " + b.q(ref.joinTable) + " j WHERE j." + b.q(ref.this) + " = " + tableAlias + "." + b.q(c.r.idCol) +
		" AND " + p + ")", nil
}
