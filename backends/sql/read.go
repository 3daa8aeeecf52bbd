package sql

import (
	"context"
	dbsql "database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/scimbridge/scimbridge/backends"
)

// selection is what a statement returns for one record: the key, the
// columns, and the references, each either listed by the same statement
// (inline, where the dialect can aggregate them) or read afterwards by a
// query of its own (later).
type selection struct {
	cols   []*column
	inline []*reference
	later  []*reference
	// idAttr, when set, names the id column to list among the attributes
	// too: a read of every attribute includes it (see readAttr).
	idAttr string
}

// selectionFor resolves Query.Attrs (nil: every column and reference;
// unknown names are ignored).
func (b *Backend) selectionFor(r *resource, attrs []string) selection {
	cols, refs := project(r, attrs)
	s := selection{cols: cols}
	if attrs == nil {
		s.idAttr = r.idCol
	}
	if b.d.refList("x", "x") == "" { // the dialect cannot aggregate them
		s.later = refs
	} else {
		s.inline = refs
	}
	return s
}

// width is the number of values a row of s has.
func (s selection) width() int { return 1 + len(s.cols) + len(s.inline) }

// writeSelect writes the select (or RETURNING) list of s: the key, the
// columns, then one subquery per inline reference. alias qualifies the
// columns: a table alias or name ("" leaves them unqualified; then s must
// have no inline references).
func (b *Backend) writeSelect(sb *builder, r *resource, alias string, s selection) {
	p := ""
	if alias != "" {
		p = alias + "."
	}
	sb.write(p, sb.q(r.idCol))
	for _, c := range s.cols {
		sb.write(", ", p, sb.q(c.name))
	}
	for _, ref := range s.inline {
		sb.write(", ")
		if ref.layout == layoutDelim {
			sb.write(p, sb.q(ref.col.name))
			continue
		}
		b.writeRefList(sb, ref, p+sb.q(r.idCol))
	}
}

// writeRefList writes a scalar subquery listing ref's ids for the record
// whose key is ownerKey, as the dialect's refList aggregate renders them.
func (b *Backend) writeRefList(sb *builder, ref *reference, ownerKey string) {
	v := ref.valueSQL(sb)
	sb.write("(SELECT ", b.d.refList(v, v))
	b.fromRows(sb, ref)
	sb.write(" WHERE j.", sb.q(ref.this), " = ", ownerKey, b.rowsCond(sb, ref), ")")
}

// scanDest returns n values and pointers to them for Scan.
func scanDest(n int) ([]any, []any) {
	dest := make([]any, n)
	ptrs := make([]any, n)
	for i := range dest {
		ptrs[i] = &dest[i]
	}
	return dest, ptrs
}

// record builds a record from a row laid out as writeSelect wrote it.
func (b *Backend) record(s selection, dest []any) (backends.Record, error) {
	id, _ := format(dest[0])
	rec := backends.Record{ID: id, Attrs: backends.Attrs{}}
	if s.idAttr != "" && id != "" {
		rec.Attrs[s.idAttr] = []string{id}
	}
	for i, c := range s.cols {
		if v, ok := b.formatCol(c, dest[i+1]); ok && v != "" {
			rec.Attrs[c.attr] = []string{v}
		}
	}
	for i, ref := range s.inline {
		v := dest[1+len(s.cols)+i]
		if ref.layout == layoutDelim {
			if str, ok := format(v); ok {
				if ids := splitIDs(str, ref.sep); len(ids) > 0 {
					rec.Attrs[ref.attr] = ids
				}
			}
			continue
		}
		vals, err := parseRefList(v)
		if err != nil {
			return backends.Record{}, fmt.Errorf("reading %s.%s: %w", ref.owner.name, ref.attr, err)
		}
		if ref.layout == layoutValues {
			vals = dedupe(vals)
		}
		if len(vals) > 0 {
			rec.Attrs[ref.attr] = vals
		}
	}
	return rec, nil
}

// parseRefList decodes a refList aggregate: a JSON array of strings, or NULL.
func parseRefList(v any) ([]string, error) {
	var raw []byte
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		raw = []byte(v)
	case []byte:
		raw = v
	default:
		return nil, fmt.Errorf("unexpected reference list of type %T", v)
	}
	var out []string
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("reference list: %w", err)
	}
	return out, nil
}

// queryRecord runs a statement that returns at most one row laid out by
// s; no row is ErrNotFound.
func (b *Backend) queryRecord(ctx context.Context, q querier, r *resource, key any, s selection, query string, args []any) (backends.Record, error) {
	dest, ptrs := scanDest(s.width())
	if err := q.QueryRowContext(ctx, query, args...).Scan(ptrs...); err != nil {
		if errors.Is(err, dbsql.ErrNoRows) {
			return backends.Record{}, notFound(r.name, fmt.Sprint(key))
		}
		return backends.Record{}, err
	}
	return b.record(s, dest)
}

// readLater reads the references of s that the statement did not list.
func (b *Backend) readLater(ctx context.Context, q querier, key any, s selection, rec *backends.Record) error {
	for _, ref := range s.later {
		vals, err := b.refValues(ctx, q, ref, key)
		if err != nil {
			return err
		}
		if len(vals) > 0 {
			rec.Attrs[ref.attr] = vals
		}
	}
	return nil
}

// read loads one live row with the columns and references attrs names
// (nil: all): one statement where the dialect lists references inline.
func (b *Backend) read(ctx context.Context, q querier, r *resource, key any, attrs []string) (backends.Record, error) {
	st := b.readStatement(r, attrs)
	args := slices.Clone(st.args)
	args[st.keyAt] = key
	rec, err := b.queryRecord(ctx, q, r, key, st.s, st.sql, args)
	if err != nil {
		return backends.Record{}, err
	}
	if err := b.readLater(ctx, q, key, st.s, &rec); err != nil {
		return backends.Record{}, err
	}
	return rec, nil
}

// readStmt is the statement read runs for one attribute list, written
// once per distinct list (callers pass the same few: the mapping's
// attributes with or without member lists) rather than on every read;
// each read binds its key at keyAt.
type readStmt struct {
	s     selection
	sql   string
	args  []any
	keyAt int
}

// keySlot stands for the key while a read statement is written.
type keySlot struct{}

func (b *Backend) readStatement(r *resource, attrs []string) *readStmt {
	k := "\x00all"
	if attrs != nil {
		k = strings.Join(attrs, "\x00")
	}
	if st, ok := r.reads.Load(k); ok {
		return st.(*readStmt)
	}
	s := b.selectionFor(r, attrs)
	sb := newBuilder(b.d)
	sb.write("SELECT ")
	b.writeSelect(sb, r, tableAlias, s)
	sb.write(" FROM ", sb.q(r.table), " ", tableAlias, " WHERE ", tableAlias, ".", sb.q(r.idCol), " = ", sb.arg(keySlot{}))
	b.andLive(sb, r, tableAlias+".")
	st := &readStmt{s: s, sql: sb.String(), args: sb.args, keyAt: slices.Index(sb.args, any(keySlot{}))}
	if r.readsN.Add(1) <= 256 { // a bound on odd attribute lists
		r.reads.Store(k, st)
	}
	return st
}
