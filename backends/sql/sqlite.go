package sql

import (
	"context"
	dbsql "database/sql"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/scimbridge/scimbridge/backends"
)

// sqliteDialect speaks SQLite through modernc.org/sqlite (pure Go).
type sqliteDialect struct {
	// returning: SQLite 3.35 or later (UPDATE / INSERT ... RETURNING).
	returning bool
	// aggOrder: SQLite 3.44 or later (ORDER BY inside an aggregate).
	aggOrder bool
}

func (sqliteDialect) driverName() string { return "sqlite" }

// dsn adds foreign keys, WAL, a busy timeout and immediate transactions
// (so that concurrent writers queue on the busy timeout instead of failing
// on a lock upgrade), unless the admin set them.
func (sqliteDialect) dsn(dsn string, _ connOptions) (string, error) {
	if dsn == "" {
		return "", errors.New("empty dsn")
	}
	base, query, _ := strings.Cut(dsn, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", fmt.Errorf("dsn query: %w", err)
	}
	has := func(keys ...string) bool {
		for _, k := range keys {
			if _, ok := q[k]; ok {
				return true
			}
		}
		for _, p := range q["_pragma"] {
			for _, k := range keys {
				if strings.HasPrefix(strings.ToLower(p), strings.TrimPrefix(k, "_")) {
					return true
				}
			}
		}
		return false
	}
	if !has("_foreign_keys", "_fk") {
		q.Set("_foreign_keys", "1")
	}
	if !has("_busy_timeout", "_timeout") {
		q.Set("_busy_timeout", "5000")
	}
	if !has("_journal_mode", "_journal") && !(sqliteDialect{}).singleConnection(dsn) {
		q.Set("_journal_mode", "WAL")
	}
	if !has("_txlock") {
		q.Set("_txlock", "immediate")
	}
	return base + "?" + q.Encode(), nil
}

func (sqliteDialect) bootstrapDSN(string) (string, error) { return "", nil }

// connected turns on the features of the linked SQLite library's version.
func (d sqliteDialect) connected(ctx context.Context, q querier) (dialect, error) {
	var v string
	if err := q.QueryRowContext(ctx, "SELECT sqlite_version()").Scan(&v); err != nil {
		return nil, err
	}
	var major, minor int
	if _, err := fmt.Sscanf(v, "%d.%d", &major, &minor); err == nil && major == 3 {
		d.returning = minor >= 35
		d.aggOrder = minor >= 44
	}
	return d, nil
}

// ignoreDuplicate: writers are serialised (immediate transactions), so the
// existence check before the insert is enough.
func (sqliteDialect) ignoreDuplicate(string) string { return "" }

func (sqliteDialect) forUpdate() string { return "" }

func (sqliteDialect) singleConnection(dsn string) bool {
	return strings.Contains(dsn, ":memory:") || strings.Contains(dsn, "mode=memory")
}

func (sqliteDialect) placeholder(int) string { return "?" }

func (sqliteDialect) quote(ident string) string {
	return `"` + strings.ReplaceAll(ident, `"`, `""`) + `"`
}

func (d sqliteDialect) insertReturning() bool { return d.returning }

func (d sqliteDialect) updateReturning() bool { return d.returning }

// refList: json_group_array with the ORDER BY that SQLite 3.44 allows
// inside aggregates; it yields "[]" over no rows.
func (d sqliteDialect) refList(expr, order string) string {
	if !d.aggOrder {
		return ""
	}
	return "json_group_array(CAST(" + expr + " AS TEXT) ORDER BY " + order + ")"
}

func (d sqliteDialect) returningSubqueries() bool { return d.returning }

func (sqliteDialect) cteInsert() bool { return false }

func (d sqliteDialect) insertDefaults(table string) string {
	return "INSERT INTO " + d.quote(table) + " DEFAULT VALUES"
}

func (sqliteDialect) tableColumns(ctx context.Context, q querier, table string) (string, []columnInfo, error) {
	rows, err := q.QueryContext(ctx, "SELECT name, type, \"notnull\", dflt_value IS NOT NULL FROM pragma_table_info(?)", table)
	if err != nil {
		return "", nil, err
	}
	defer rows.Close()
	var out []columnInfo
	for rows.Next() {
		var c columnInfo
		var notNull int
		if err := rows.Scan(&c.name, &c.declType, &notNull, &c.hasDefault); err != nil {
			return "", nil, err
		}
		c.declType = strings.ToLower(c.declType)
		c.nullable = notNull == 0
		out = append(out, c)
	}
	return table, out, rows.Err()
}

// integerType follows SQLite's affinity rule: a declared type containing
// "INT" has integer affinity.
func (sqliteDialect) integerType(c columnInfo) bool {
	return strings.Contains(c.declType, "int")
}

// uuidType and timeType: SQLite stores both as text.
func (sqliteDialect) uuidType(columnInfo) bool { return false }
func (sqliteDialect) timeType(columnInfo) bool { return false }

// checkValue: SQLite stores any value in any column (type affinity); CHECK
// constraints are left to the database.
func (sqliteDialect) checkValue(columnInfo, string) string { return "" }

// maxParams stays far below SQLITE_MAX_VARIABLE_NUMBER (32766 since 3.32).
func (sqliteDialect) maxParams() int { return 1000 }

func (sqliteDialect) limit(b *builder, count, offset int) string {
	if count <= 0 {
		count = -1
	}
	return " LIMIT " + b.arg(count) + " OFFSET " + b.arg(offset)
}

// equal: NOCASE folds ASCII exactly as lower() does in SQLite and lets an
// index declared COLLATE NOCASE serve userName lookups; BINARY overrides a
// column's NOCASE collation for case-exact comparisons.
func (sqliteDialect) equal(b *builder, c colExpr, value string, ignoreCase bool) string {
	col := c.sql
	if ignoreCase {
		return col + " = " + b.arg(value) + " COLLATE NOCASE"
	}
	return col + " = " + b.arg(value) + " COLLATE BINARY"
}

// substring: SQLite's LIKE ignores ASCII case, so it serves the
// case-insensitive forms; the case-exact forms compare bytes with instr /
// substr under BINARY.
func (sqliteDialect) substring(b *builder, op backends.Op, c colExpr, value string, ignoreCase bool) string {
	col := c.sql
	if value == "" {
		return col + " IS NOT NULL"
	}
	if ignoreCase {
		return "lower(" + col + ") LIKE lower(" + b.arg(likePattern(op, value)) + ") ESCAPE '" + string(likeEscapeChar) + "'"
	}
	switch op {
	case backends.Co:
		return "instr(" + col + ", " + b.arg(value) + ") > 0"
	case backends.Sw:
		return "substr(" + col + ", 1, length(" + b.arg(value) + ")) = " + b.arg(value) + " COLLATE BINARY"
	default:
		return "substr(" + col + ", -length(" + b.arg(value) + ")) = " + b.arg(value) + " COLLATE BINARY"
	}
}

func (sqliteDialect) order(b *builder, op backends.Op, c colExpr, value string, ignoreCase bool) string {
	col := c.sql
	coll := " COLLATE BINARY"
	if ignoreCase {
		coll = " COLLATE NOCASE"
	}
	return col + " " + sqlOp(op) + " " + b.arg(value) + coll
}

// number admits only text that is a decimal number (as pgNumberRE says;
// SQLite has no regular expressions, so GLOBs check it piece by piece):
// CAST alone reads "abc" and "" as 0 and "12abc" as 12, so that every
// stored non-number would match number filters on 0 or 12 and orderings.
func (sqliteDialect) number(c colExpr) string {
	t := "trim(CAST(" + c.sql + " AS TEXT))"
	conds := []string{
		t + " NOT GLOB '*[^0-9.eE+-]*'",                                  // digits, point, exponent mark and signs only
		t + " GLOB '*[0-9]*'",                                            // a digit
		t + " NOT GLOB '*[^eE][+-]*'",                                    // signs first or right after the exponent mark
		t + " NOT GLOB '*[eE]*[eE]*'",                                    // one exponent mark at most
		t + " NOT GLOB '*.*.*'",                                          // one point at most
		t + " NOT GLOB '*[eE]*.*'",                                       // not in the exponent
		"(" + t + " NOT GLOB '*[eE]*' OR " + t + " GLOB '*[0-9]*[eE]*')", // a digit before the exponent
		t + " NOT GLOB '*[eE]'", t + " NOT GLOB '*[eE][+-]'",             // and one in it
	}
	return "(CASE WHEN " + strings.Join(conds, " AND ") + " THEN CAST(" + t + " AS REAL) END)"
}

func (sqliteDialect) numberParam(ph string) string { return "CAST(" + ph + " AS REAL)" }

// time reads only text that starts like an RFC 3339 date: julianday would
// also take a bare number as a Julian day.
func (sqliteDialect) time(c colExpr) string {
	col := c.sql
	return "julianday(CASE WHEN " + col + " GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*' THEN " + col + " END)"
}

func (sqliteDialect) timeParam(b *builder, t time.Time) string {
	return "julianday(" + b.arg(t.UTC().Format(time.RFC3339Nano)) + ")"
}

func (sqliteDialect) text(c colExpr) string { return "CAST(" + c.sql + " AS TEXT)" }

func (sqliteDialect) nullFalse(pred string) string { return "COALESCE((" + pred + "), 0)" }

func (sqliteDialect) truth(v bool) string {
	if v {
		return "1"
	}
	return "0"
}

// retryable: busy and locked errors already waited for the busy timeout.
func (sqliteDialect) retryable(error) bool { return false }

func (d sqliteDialect) classify(err error) (error, refusal) {
	s := d.sentinel(err)
	if s == nil {
		return nil, refusal{}
	}
	f := refusal{msg: err.Error()}
	// "UNIQUE constraint failed: t.a, t.b", "... failed: index 'i'",
	// "NOT NULL constraint failed: t.a".
	if m := sqliteConstraintRE.FindStringSubmatch(f.msg); m != nil {
		list := m[2]
		if ix := sqliteIndexRE.FindStringSubmatch(list); ix != nil {
			f.index = ix[1]
		} else {
			for _, tc := range strings.Split(list, ", ") {
				table, col, ok := strings.Cut(tc, ".")
				if !ok {
					f.columns = nil
					break
				}
				f.table = table
				f.columns = append(f.columns, col)
			}
		}
		if m[1] == "NOT NULL" {
			f.reason = "must have a value"
		}
	}
	return s, f
}

var (
	sqliteConstraintRE = regexp.MustCompile(`(UNIQUE|NOT NULL) constraint failed: ([^()]+?)(?: \(\d+\))?$`)
	sqliteIndexRE      = regexp.MustCompile(`^index '([^']+)'$`)
)

// indexColumns reads the index's columns. SQLite names an index only
// when it has an expression (lower(mail)): then the one "column" returned
// is the indexed text, from which the backend picks the column it names.
func (sqliteDialect) indexColumns(ctx context.Context, q querier, _, index string) ([]string, error) {
	rows, err := q.QueryContext(ctx, "SELECT name FROM pragma_index_info(?) ORDER BY seqno", index)
	if err != nil {
		return nil, err
	}
	var out []string
	expr := false
	for rows.Next() {
		var name dbsql.NullString
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return nil, err
		}
		expr = expr || !name.Valid
		out = append(out, name.String)
	}
	rows.Close()
	if err := rows.Err(); err != nil || !expr {
		return out, err
	}
	if len(out) != 1 {
		return nil, nil
	}
	var def string
	if err := q.QueryRowContext(ctx, "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", index).Scan(&def); err != nil {
		return nil, err
	}
	if i := strings.IndexByte(def, '('); i >= 0 {
		return []string{def[i:]}, nil
	}
	return nil, nil
}

func (sqliteDialect) sentinel(err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return nil
	}
	code := se.Code()
	switch code {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return backends.ErrAlreadyExists
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return backends.ErrInvalidReference
	}
	switch code & 0xff {
	case sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_MISMATCH, sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_RANGE:
		if strings.Contains(se.Error(), "UNIQUE constraint failed") {
			return backends.ErrAlreadyExists
		}
		return backends.ErrInvalid
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR,
		sqlite3.SQLITE_FULL, sqlite3.SQLITE_PROTOCOL, sqlite3.SQLITE_NOLFS, sqlite3.SQLITE_NOMEM:
		return backends.ErrUnavailable
	case sqlite3.SQLITE_READONLY, sqlite3.SQLITE_AUTH, sqlite3.SQLITE_PERM:
		return backends.ErrPermission
	}
	return nil
}

func sqlOp(op backends.Op) string {
	switch op {
	case backends.Gt:
		return ">"
	case backends.Ge:
		return ">="
	case backends.Lt:
		return "<"
	case backends.Le:
		return "<="
	case backends.Ne:
		return "<>"
	}
	return "="
}
