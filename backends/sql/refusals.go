package sql

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode"
)

// A database that refuses values names them its own way: SQLite and
// PostgreSQL name the table and column (or a key expression), MariaDB and
// a PostgreSQL without key details only the unique index. The functions
// here find the attribute behind that name, so that the bridge can tell
// the client which of its attributes was refused without showing the
// database's words.

// refusedAttr is the attribute of r that a refusal is about: the one
// column (or key expression over one column, such as lower(login)) the
// database named, or the one column of the unique index it named. "" when
// it named several, none, or one that is not an attribute of r.
func (b *Backend) refusedAttr(ctx context.Context, r *resource, f refusal) string {
	if r == nil {
		return ""
	}
	cols := f.columns
	if len(cols) == 0 && f.index != "" {
		// The failed statement or transaction is over; ask on a fresh,
		// short context (the operation's may have run out).
		qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		var err error
		if cols, err = b.d.indexColumns(qctx, b.db, f.table, f.index); err != nil {
			b.log.Debug("cannot read the columns of a unique index", "index", f.index, "error", err)
			return ""
		}
	}
	if len(cols) != 1 {
		return ""
	}
	return r.attrOfColumn(f.table, cols[0])
}

// attrOfColumn returns the attribute stored in column col (or in the one
// column of r's a key expression names) of table ("": r's table or any
// of its child tables).
func (r *resource) attrOfColumn(table, col string) string {
	type place struct{ attr, table, col string }
	var places []place
	for _, c := range r.columns {
		places = append(places, place{c.attr, r.table, c.name})
	}
	for _, ref := range r.refs {
		if ref.joinTable != "" && ref.other != "" {
			places = append(places, place{ref.attr, ref.joinTable, ref.other})
		}
		if ref.layout == layoutDelim && ref.col != nil {
			places = append(places, place{ref.attr, r.table, ref.col.name})
		}
	}
	var exact, found []string
	for _, p := range places {
		if table != "" && !sameTable(table, p.table) {
			continue
		}
		if strings.EqualFold(unquoteIdent(col), p.col) {
			// Two multi_values over one table (where kind = W, kind = M)
			// share a column: then it is not known which was refused.
			if !slices.Contains(exact, p.attr) {
				exact = append(exact, p.attr)
			}
			continue
		}
		if slices.ContainsFunc(identifiers(col), func(s string) bool { return strings.EqualFold(s, p.col) }) && !slices.Contains(found, p.attr) {
			found = append(found, p.attr)
		}
	}
	if len(exact) > 0 {
		if len(exact) == 1 {
			return exact[0]
		}
		return ""
	}
	if len(found) == 1 {
		return found[0]
	}
	return ""
}

// sameTable compares table names, ignoring a schema qualifier on either.
func sameTable(a, b string) bool {
	last := func(s string) string {
		if i := strings.LastIndexByte(s, '.'); i >= 0 {
			return s[i+1:]
		}
		return s
	}
	return strings.EqualFold(unquoteIdent(last(a)), unquoteIdent(last(b)))
}

func unquoteIdent(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '`' && s[len(s)-1] == '`') {
		return s[1 : len(s)-1]
	}
	return s
}

// identifiers lists the names in a key expression: lower(login::text)
// holds lower, login and text.
func identifiers(expr string) []string {
	var out []string
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '"' || c == '`':
			j := strings.IndexByte(expr[i+1:], c)
			if j < 0 {
				return out
			}
			out = append(out, expr[i+1:i+1+j])
			i += j + 2
		case c == '_' || unicode.IsLetter(rune(c)):
			j := i
			for j < len(expr) && (expr[j] == '_' || expr[j] == '$' || unicode.IsLetter(rune(expr[j])) || unicode.IsDigit(rune(expr[j]))) {
				j++
			}
			out = append(out, expr[i:j])
			i = j
		case c == '\'':
			// A string literal is not a name.
			j := strings.IndexByte(expr[i+1:], '\'')
			if j < 0 {
				return out
			}
			i += j + 2
		default:
			i++
		}
	}
	return out
}
