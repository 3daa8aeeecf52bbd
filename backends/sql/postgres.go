package sql

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/scimbridge/scimbridge/backends"
)

// postgresDialect speaks PostgreSQL through pgx's database/sql driver.
// Statements use the extended protocol: every value is a bound parameter,
// sent as text and converted by the server to the column's type.
type postgresDialect struct{}

func (postgresDialect) driverName() string { return "pgx" }

// dsn accepts a URL (postgres://...) or key=value settings and adds a
// connect timeout, the UTC session time zone (timestamps in filters and
// text casts) and an application name, unless the admin set them.
func (postgresDialect) dsn(dsn string, o connOptions) (string, error) {
	if strings.TrimSpace(dsn) == "" {
		return "", errors.New("empty dsn")
	}
	set := map[string]string{
		"connect_timeout":  strconv.Itoa(max(1, int(o.connectTimeout.Round(time.Second)/time.Second))),
		"timezone":         "UTC",
		"application_name": "scimbridge",
	}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("dsn: %w", redactURLError(err))
		}
		q := u.Query()
		for k, v := range set {
			if !q.Has(k) {
				q.Set(k, v)
			}
		}
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	out := dsn
	for _, k := range []string{"connect_timeout", "timezone", "application_name"} {
		if !strings.Contains(dsn, k+"=") {
			out += " " + k + "=" + set[k]
		}
	}
	return out, nil
}

// redactURLError drops the URL (it may hold a password) from a parse error.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// bootstrapDSN: pgx runs a statement without parameters with the simple
// protocol, which takes several statements at once.
func (postgresDialect) bootstrapDSN(string) (string, error) { return "", nil }

func (postgresDialect) singleConnection(string) bool { return false }

func (d postgresDialect) connected(context.Context, querier) (dialect, error) { return d, nil }

func (postgresDialect) placeholder(n int) string { return "$" + strconv.Itoa(n) }

func (postgresDialect) quote(ident string) string {
	return `"` + strings.ReplaceAll(ident, `"`, `""`) + `"`
}

func (postgresDialect) insertReturning() bool { return true }

func (postgresDialect) updateReturning() bool { return true }

func (postgresDialect) refList(expr, order string) string {
	return "CAST(json_agg(CAST(" + expr + " AS text) ORDER BY " + order + ") AS text)"
}

func (postgresDialect) returningSubqueries() bool { return true }

func (postgresDialect) cteInsert() bool { return true }

func (d postgresDialect) insertDefaults(table string) string {
	return "INSERT INTO " + d.quote(table) + " DEFAULT VALUES"
}

func (postgresDialect) ignoreDuplicate(string) string { return " ON CONFLICT DO NOTHING" }

func (postgresDialect) forUpdate() string { return " FOR UPDATE" }

// tableColumns reads information_schema for a table of the current schema
// (the first of search_path that exists): the exact spelling first, else a
// case-insensitive match (unquoted names are folded to lower case).
func (postgresDialect) tableColumns(ctx context.Context, q querier, table string) (string, []columnInfo, error) {
	const query = `SELECT c.table_name, c.column_name,
  CASE WHEN c.data_type IN ('USER-DEFINED', 'ARRAY') THEN c.udt_name ELSE c.data_type END,
  COALESCE(c.character_maximum_length, 0), c.is_nullable = 'YES',
  c.column_default IS NOT NULL OR c.is_identity = 'YES' OR c.is_generated = 'ALWAYS',
  COALESCE(c.collation_name, '')
FROM information_schema.columns c
WHERE c.table_schema = current_schema() AND c.table_name = (
  SELECT t.table_name FROM information_schema.columns t
  WHERE t.table_schema = current_schema() AND lower(t.table_name) = lower($1)
  ORDER BY t.table_name = $1 DESC, t.table_name LIMIT 1)
ORDER BY c.ordinal_position`
	rows, err := q.QueryContext(ctx, query, table)
	if err != nil {
		return "", nil, err
	}
	defer rows.Close()
	var out []columnInfo
	name := table
	for rows.Next() {
		var c columnInfo
		if err := rows.Scan(&name, &c.name, &c.declType, &c.maxLen, &c.nullable, &c.hasDefault, &c.collation); err != nil {
			return "", nil, err
		}
		c.declType = strings.ToLower(c.declType)
		out = append(out, c)
	}
	return name, out, rows.Err()
}

func (postgresDialect) integerType(c columnInfo) bool {
	switch c.declType {
	case "smallint", "integer", "bigint":
		return true
	}
	return false
}

func (postgresDialect) uuidType(c columnInfo) bool { return c.declType == "uuid" }

func (postgresDialect) timeType(c columnInfo) bool {
	return strings.HasPrefix(c.declType, "timestamp") || c.declType == "date"
}

func pgNumeric(c columnInfo) bool {
	switch c.declType {
	case "smallint", "integer", "bigint", "numeric", "real", "double precision":
		return true
	}
	return false
}

func (d postgresDialect) checkValue(c columnInfo, v string) string {
	if c.declType == "boolean" && !d.integerType(c) && !d.uuidType(c) {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "t", "true", "y", "yes", "on", "1", "f", "false", "n", "no", "off", "0":
			return ""
		}
		return "is not a boolean"
	}
	return checkTyped(d.integerType(c), d.uuidType(c), c, v)
}

// maxParams stays far below the protocol's 65535.
func (postgresDialect) maxParams() int { return 10000 }

func (postgresDialect) limit(b *builder, count, offset int) string {
	s := ""
	if count > 0 {
		s = " LIMIT " + b.arg(count)
	}
	if offset > 0 {
		s += " OFFSET " + b.arg(offset)
	}
	return s
}

func (postgresDialect) text(c colExpr) string { return "CAST(" + c.sql + " AS text)" }

// equal: an exact comparison of the text (a citext column compares as
// text too); the case-insensitive form is lower() = lower(), which an
// index on lower(column) serves.
func (d postgresDialect) equal(b *builder, c colExpr, value string, ignoreCase bool) string {
	if ignoreCase {
		return "lower(" + d.text(c) + ") = lower(" + b.arg(value) + ")"
	}
	return d.text(c) + " = " + b.arg(value)
}

func (d postgresDialect) substring(b *builder, op backends.Op, c colExpr, value string, ignoreCase bool) string {
	if value == "" {
		return c.sql + " IS NOT NULL"
	}
	esc := " ESCAPE '" + string(likeEscapeChar) + "'"
	if ignoreCase {
		return "lower(" + d.text(c) + ") LIKE lower(" + b.arg(likePattern(op, value)) + ")" + esc
	}
	return d.text(c) + " LIKE " + b.arg(likePattern(op, value)) + esc
}

// order compares code points (COLLATE "C"), as the other dialects do,
// whatever the database's collation.
func (d postgresDialect) order(b *builder, op backends.Op, c colExpr, value string, ignoreCase bool) string {
	if ignoreCase {
		return "lower(" + d.text(c) + `) COLLATE "C" ` + sqlOp(op) + " lower(" + b.arg(value) + ")"
	}
	return d.text(c) + ` COLLATE "C" ` + sqlOp(op) + " " + b.arg(value)
}

// pgNumberRE and pgTimeRE admit only text that the casts accept, so that a
// column holding other text compares as NULL instead of failing the query.
const (
	pgNumberRE = `^ *[-+]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][-+]?[0-9]+)? *$`
	pgTimeRE   = `^[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?)?([Zz]|[-+][0-9]{2}(:?[0-9]{2})?)?$`
)

func (d postgresDialect) number(c colExpr) string {
	if pgNumeric(c.info) {
		return "CAST(" + c.sql + " AS numeric)"
	}
	t := d.text(c)
	return "(CASE WHEN " + t + " ~ '" + pgNumberRE + "' THEN CAST(" + t + " AS numeric) END)"
}

func (postgresDialect) numberParam(ph string) string { return "CAST(" + ph + " AS numeric)" }

func (d postgresDialect) time(c colExpr) string {
	if d.timeType(c.info) {
		return "CAST(" + c.sql + " AS timestamptz)"
	}
	t := d.text(c)
	return "(CASE WHEN " + t + " ~ '" + pgTimeRE + "' THEN CAST(" + t + " AS timestamptz) END)"
}

func (postgresDialect) timeParam(b *builder, t time.Time) string {
	return "CAST(" + b.arg(t.UTC().Format(time.RFC3339Nano)) + " AS timestamptz)"
}

func (postgresDialect) nullFalse(pred string) string { return "COALESCE((" + pred + "), FALSE)" }

func (postgresDialect) truth(v bool) string {
	if v {
		return "TRUE"
	}
	return "FALSE"
}

// classify maps SQLSTATE classes: 23 integrity constraints, 22 data
// exceptions, P0001 and P0004 (a procedure's RAISE EXCEPTION or ASSERT, whose message is
// meant for the caller), 08 / 57P0x / 53 connection and server state, 40
// transaction rollback, 42501 / 28 privileges.
func (postgresDialect) classify(err error) (error, refusal) {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		var ce *pgconn.ConnectError
		if errors.As(err, &ce) || isConnError(err) || pgconn.Timeout(err) || errors.Is(err, pgconn.ErrConnClosed) {
			return backends.ErrUnavailable, refusal{}
		}
		return nil, refusal{}
	}
	f := refusal{msg: pe.Message, table: pe.TableName}
	// Only key violations get the detail ("Key (login)=(x) already
	// exists."), in the log: for other constraints it lists the whole row,
	// password hashes included.
	if pe.Detail != "" && (pe.Code == "23505" || pe.Code == "23503") {
		f.msg += " (" + pe.Detail + ")"
		if m := pgKeyRE.FindStringSubmatch(pe.Detail); m != nil {
			f.columns = splitKeyList(m[1])
		}
	}
	if pe.ConstraintName != "" && !strings.Contains(f.msg, pe.ConstraintName) {
		f.msg += fmt.Sprintf(" (constraint %q)", pe.ConstraintName)
	}
	switch {
	case pe.Code == "23505":
		if f.columns == nil {
			f.index = pe.ConstraintName
		}
		return backends.ErrAlreadyExists, f
	case pe.Code == "23503":
		return backends.ErrInvalidReference, f
	case pe.Code == "23502":
		if pe.ColumnName != "" {
			f.columns = []string{pe.ColumnName}
		}
		f.reason = "must have a value"
		return backends.ErrInvalid, f
	case pe.Code == "P0001", pe.Code == "P0004":
		f.admin = pe.Message
		return backends.ErrInvalid, f
	case pe.Code == "22001":
		f.reason = "is too long for the directory"
		if pe.ColumnName != "" {
			f.columns = []string{pe.ColumnName}
		}
		return backends.ErrInvalid, f
	case strings.HasPrefix(pe.Code, "23"), strings.HasPrefix(pe.Code, "22"):
		if pe.ColumnName != "" {
			f.columns = []string{pe.ColumnName}
		}
		return backends.ErrInvalid, f
	case strings.HasPrefix(pe.Code, "08"), strings.HasPrefix(pe.Code, "53"), strings.HasPrefix(pe.Code, "40"),
		pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03", pe.Code == "57014", pe.Code == "55P03":
		return backends.ErrUnavailable, refusal{}
	case pe.Code == "42501", strings.HasPrefix(pe.Code, "28"):
		return backends.ErrPermission, refusal{}
	}
	return nil, refusal{}
}

// pgKeyRE takes the key list of "Key (a, lower(b::text))=(x, y) already
// exists." or "... is not present in table ...".
var pgKeyRE = regexp.MustCompile(`^Key \((.*)\)=\(.*\) (?:already exists|is not present)`)

// splitKeyList splits a key list at top-level commas (an expression may
// hold commas inside parentheses).
func splitKeyList(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

// indexColumns reads the columns of a unique index (a UNIQUE constraint's
// index has the constraint's name) in the current schema.
func (postgresDialect) indexColumns(ctx context.Context, q querier, _, index string) ([]string, error) {
	const query = `SELECT a.attname, i.indexprs IS NOT NULL
FROM pg_class ic
JOIN pg_index i ON i.indexrelid = ic.oid
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
WHERE ic.relname = $1 AND ic.relnamespace = current_schema()::regnamespace
ORDER BY array_position(i.indkey::int2[], a.attnum)`
	rows, err := q.QueryContext(ctx, query, index)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		var exprs bool
		if err := rows.Scan(&name, &exprs); err != nil {
			return nil, err
		}
		if exprs {
			return nil, rows.Err()
		}
		out = append(out, name)
	}
	return out, rows.Err()
}

// retryable: serialization_failure and deadlock_detected roll the
// transaction back; running it again is safe.
func (postgresDialect) retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}
