package sql

import "strings"

// A mapping may read the id column as an attribute too (an
// employeeNumber that is the table key, mapped with direction = "read"):
// reads, filters and sorts find it under its column name. Writes never do:
// r.attr does not know it, and the start-up check refuses a writable
// mapping of it.

// readAttr is r.attr for reads, filters and sorts, which also find the id
// column.
func (r *resource) readAttr(name string) (*column, *reference) {
	if col, ref := r.attr(name); col != nil || ref != nil {
		return col, ref
	}
	if r.idAsCol != nil && strings.EqualFold(name, r.idCol) {
		return r.idAsCol, nil
	}
	return nil, nil
}
