package sql

import (
	"context"
	"fmt"
	"strings"

	"github.com/scimbridge/scimbridge/backends"
)

var _ backends.Describer = (*Backend)(nil)

// DescribeNative says which attributes a resource type has, from the catalog read
// at New: its attribute columns (all columns of the table but the id and a
// soft-delete marker, or the configured columns), references and
// multi_values. The id column is the id; created, modified and version
// columns and read-only references cannot be written, nor can columns a
// create or update statement does not take. A NOT NULL column without a
// default is required, unless the backend fills it (id, managed columns) or
// a create statement writes the rows.
func (b *Backend) DescribeNative(ctx context.Context, resourceType string) (*backends.Description, error) {
	r, err := b.resource(resourceType)
	if err != nil {
		return nil, err
	}
	d := &backends.Description{
		Where: fmt.Sprintf("the %s rows of table %q", r.name, r.table),
		Attrs: map[string]*backends.NativeAttr{},
	}
	put := func(name string) *backends.NativeAttr {
		key := strings.ToLower(name)
		if n := d.Attrs[key]; n != nil {
			return n
		}
		n := &backends.NativeAttr{Name: name}
		d.Attrs[key] = n
		return n
	}
	create, update := r.createStmt(), r.updateStmt()
	// Unique keys, for validate --live (is userName unique in the store?).
	// A catalog that cannot be read leaves them unknown.
	uniq, err := uniqueColumns(ctx, b.d, b.db, r.table, r.tableCols)
	if err != nil {
		b.log.Debug("cannot read the unique indexes", "table", r.table, "error", err)
	}
	d.UniqueKnown = err == nil && uniq != nil
	for _, c := range r.columns {
		n := put(c.attr)
		n.Type = nativeType(b.d, c.info)
		if u, ok := uniq[strings.ToLower(c.name)]; ok {
			n.Unique, n.CaseExactUnique = fmt.Sprintf("unique index or constraint %q", u.index), u.caseExact
		}
		switch {
		case c == r.created || c == r.updated || c == r.version:
			n.ReadOnly = "the backend sets it: created_column, modified_column or version_column"
		case create != nil && !create.cols[c] && update != nil && !update.cols[c]:
			n.ReadOnly = fmt.Sprintf("neither the create nor the update statement has a parameter :%s", c.attr)
		case create != nil && !create.cols[c]:
			n.ReadOnly = fmt.Sprintf("the create statement has no parameter :%s", c.attr)
		case update != nil && !update.cols[c]:
			n.ReadOnly = fmt.Sprintf("the update statement has no parameter :%s", c.attr)
		}
		if create != nil && create.findBy == c {
			n.Required = "the create statement's new record is found by it (find_by)"
		}
	}
	for _, ref := range r.refs {
		n := put(ref.attr)
		if ref.readOnly {
			n.ReadOnly = "a read_only reference"
		}
	}
	id := put(r.idCol)
	id.ID = true
	if create != nil {
		return d, nil // the statement decides what a new row holds
	}
	own := map[string]bool{strings.ToLower(r.idCol): true}
	for _, c := range []*column{r.created, r.updated, r.version} {
		if c != nil {
			own[strings.ToLower(c.name)] = true
		}
	}
	for _, ref := range r.refs {
		if ref.col != nil && (ref.layout == layoutLocal || ref.layout == layoutDelim) {
			own[strings.ToLower(ref.col.name)] = true // the backend writes it (or it is read-only)
		}
	}
	for _, c := range r.tableCols {
		if c.nullable || c.hasDefault || own[strings.ToLower(c.name)] {
			continue
		}
		col, _ := r.attr(c.name)
		if col == nil {
			// Not an attribute (not in columns, or the soft-delete
			// marker): no mapping can give it a value.
			n := put(c.name)
			if n.ReadOnly == "" {
				n.ReadOnly = fmt.Sprintf("not an attribute of the resource: list it in columns of resource %q", r.name)
			}
			n.Required = "a NOT NULL column without a default"
			continue
		}
		put(col.attr).Required = "a NOT NULL column without a default"
	}
	return d, nil
}

// configf is an error that no client request can avoid: the mapping writes
// what the resource does not let it write (an unknown attribute, a managed
// column, a column a statement does not take). DescribeNative lets the bridge
// refuse such a mapping at start; this is the run-time answer when it did
// not (a store that could not be described, a caller without the check).
func configf(format string, args ...any) error {
	return fmt.Errorf("sql: "+format+": %w", append(args, backends.ErrConfig)...)
}
