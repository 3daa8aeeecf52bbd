package sql

import (
	"context"
	dbsql "database/sql"
	"regexp"
	"strings"

	"github.com/scimbridge/scimbridge/backends"
)

// uniqueKey is a unique index or constraint on one column (or one
// expression over one column, such as lower(login)).
type uniqueKey struct {
	index     string
	caseExact bool // values differing only in case are both allowed
}

// foldedRE finds lower(col) / upper(col) in an index expression.
// PostgreSQL writes lower((logon_nm)::text).
var foldedRE = regexp.MustCompile(`(?i)\b(?:lower|upper)\s*\(\s*\(?\s*["` + "`" + `]?([A-Za-z0-9_]+)["` + "`" + `]?`)

// uniqueColumns reads the table's unique indexes and constraints over
// exactly one column, by lower-case column name. Composite keys do not
// make one column unique and are left out.
func uniqueColumns(ctx context.Context, d dialect, q querier, table string, cols []columnInfo) (map[string]uniqueKey, error) {
	type key struct {
		index, col, expr, coll string
	}
	var query string
	switch d.(type) {
	case sqliteDialect:
		query = `SELECT il.name, COALESCE(x.name, ''), COALESCE(m.sql, ''), COALESCE(x.coll, '')
FROM pragma_index_list(?1) il
JOIN pragma_index_xinfo(il.name) x ON x.key = 1
LEFT JOIN sqlite_master m ON m.type = 'index' AND m.name = il.name
WHERE il."unique" = 1 AND (SELECT count(*) FROM pragma_index_xinfo(il.name) k WHERE k.key = 1) = 1`
	case postgresDialect:
		query = `SELECT i.relname, COALESCE(a.attname, ''), pg_get_indexdef(ix.indexrelid), ''
FROM pg_index ix
JOIN pg_class i ON i.oid = ix.indexrelid
LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = ix.indkey[0] AND ix.indkey[0] <> 0
WHERE ix.indisunique AND ix.indnkeyatts = 1 AND ix.indrelid = to_regclass(quote_ident($1))`
	case mysqlDialect:
		query = `SELECT s.INDEX_NAME, s.COLUMN_NAME, '', ''
FROM information_schema.STATISTICS s
WHERE s.TABLE_SCHEMA = DATABASE() AND s.TABLE_NAME = ? AND s.NON_UNIQUE = 0 AND s.SUB_PART IS NULL
  AND (SELECT count(*) FROM information_schema.STATISTICS k
       WHERE k.TABLE_SCHEMA = s.TABLE_SCHEMA AND k.TABLE_NAME = s.TABLE_NAME AND k.INDEX_NAME = s.INDEX_NAME) = 1`
	default:
		return nil, nil
	}
	rows, err := q.QueryContext(ctx, query, table)
	if err != nil {
		return nil, err
	}
	var keys []key
	for rows.Next() {
		var k key
		var col dbsql.NullString
		if err := rows.Scan(&k.index, &col, &k.expr, &k.coll); err != nil {
			rows.Close()
			return nil, err
		}
		k.col = col.String
		keys = append(keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	info := map[string]columnInfo{}
	for _, c := range cols {
		info[strings.ToLower(c.name)] = c
	}
	out := map[string]uniqueKey{}
	for _, k := range keys {
		col, folded := k.col, false
		if col == "" {
			// An expression: only lower(col) / upper(col) makes a column unique.
			m := foldedRE.FindStringSubmatch(k.expr)
			if m == nil {
				continue
			}
			col, folded = m[1], true
		}
		c, ok := info[strings.ToLower(col)]
		if !ok {
			continue
		}
		exact := !folded && caseExactCollation(d, c, k.coll)
		if prev, seen := out[strings.ToLower(col)]; seen && !prev.caseExact {
			continue // a case-insensitive key says more
		}
		out[strings.ToLower(col)] = uniqueKey{index: k.index, caseExact: exact}
	}
	return out, nil
}

// caseExactCollation reports whether a unique key on c compares case.
func caseExactCollation(d dialect, c columnInfo, indexColl string) bool {
	switch d.(type) {
	case sqliteDialect:
		return !strings.EqualFold(indexColl, "NOCASE")
	case postgresDialect:
		return c.declType != "citext"
	case mysqlDialect:
		return !strings.HasSuffix(strings.ToLower(c.collation), "_ci")
	}
	return true
}

// nativeType is the coarse kind of value a column of this declared type
// keeps, as backends.NativeAttr.Type says it.
func nativeType(d dialect, c columnInfo) string {
	t := c.declType
	switch {
	case d.integerType(c):
		return backends.NativeInteger
	case d.timeType(c) || strings.Contains(t, "timestamp") || t == "date" || t == "datetime" || t == "time":
		return backends.NativeTime
	case t == "boolean" || t == "bool":
		return backends.NativeBoolean
	case strings.Contains(t, "numeric") || strings.Contains(t, "decimal") || strings.Contains(t, "real") ||
		strings.Contains(t, "double") || strings.Contains(t, "float"):
		return backends.NativeDecimal
	case strings.Contains(t, "blob") || t == "bytea" || strings.Contains(t, "binary"):
		return backends.NativeBinary
	case t == "tinyint(1)":
		return backends.NativeBoolean
	}
	return backends.NativeText
}
