package sql

import (
	"context"
	"slices"
	"strings"

	"github.com/scimbridge/scimbridge/backends"
)

// dialect is everything that differs between databases. Identifiers passed
// to it come from the validated configuration; values never appear in SQL
// text, only as placeholders.
type dialect interface {
	// driverName is the database/sql driver to open.
	driverName() string
	// dsn adds the connection settings the backend relies on.
	dsn(dsn string) (string, error)
	// singleConnection reports that dsn names a database that lives in one
	// connection (SQLite :memory:), so the pool must hold exactly one, forever.
	singleConnection(dsn string) bool
	// placeholder is the n-th (1-based) bind parameter.
	placeholder(n int) string
	// quote quotes an identifier.
	quote(ident string) string
	// insertReturning reports whether INSERT ... RETURNING col works; when
	// not, the id is read with LastInsertId.
	insertReturning() bool
	// insertDefaults inserts a row with every column at its default.
	insertDefaults(table string) string
	// tableColumns introspects a table; no columns means no such table.
	tableColumns(ctx context.Context, q querier, table string) ([]columnInfo, error)
	// integerType reports whether a declared column type holds integers.
	integerType(declType string) bool
	// maxParams bounds the bind parameters of one statement.
	maxParams() int
	// limit renders LIMIT/OFFSET; count 0 means no limit.
	limit(b *builder, count, offset int) string

	// Predicates. col is a quoted column expression; each returns SQL
	// that may be NULL only where the column is NULL.

	// equal compares col with the bound value, folding case or not.
	equal(b *builder, col, value string, ignoreCase bool) string
	// substring matches co / sw / ew.
	substring(b *builder, op backends.Op, col, value string, ignoreCase bool) string
	// order compares col with the bound value as text for gt/ge/lt/le.
	order(b *builder, op backends.Op, col, value string, ignoreCase bool) string
	// number casts col to a number.
	number(col string) string
	// time turns col (RFC 3339 text or a timestamp) into a comparable value,
	// and timeParam does the same for a bound parameter.
	time(col string) string
	timeParam(ph string) string
	// text casts col to text.
	text(col string) string
	// nullFalse turns a predicate that may be NULL into one that is false
	// instead, so that NOT over it keeps SCIM's meaning.
	nullFalse(pred string) string
	// truth is the literal for an always-true / always-false predicate.
	truth(v bool) string

	// classify maps a driver error to a sentinel (ErrAlreadyExists,
	// ErrInvalid, ErrUnavailable, ErrPermission) or nil.
	classify(err error) error
}

type columnInfo struct {
	name     string
	declType string
}

// dialects maps the config's driver names to dialects.
var dialects = map[string]func() dialect{
	"sqlite": func() dialect { return sqliteDialect{} },
}

func dialectNames() []string {
	var out []string
	for n := range dialects {
		out = append(out, `"`+n+`"`)
	}
	slices.Sort(out)
	return out
}

// likeEscapeChar is the ESCAPE character of every LIKE pattern. Not a
// backslash: MySQL treats that specially inside string literals.
const likeEscapeChar = '!'

// likePattern escapes v for LIKE ... ESCAPE '!' and adds wildcards for op.
func likePattern(op backends.Op, v string) string {
	var sb strings.Builder
	if op == backends.Co || op == backends.Ew {
		sb.WriteByte('%')
	}
	for _, r := range v {
		if r == '%' || r == '_' || r == likeEscapeChar {
			sb.WriteByte(likeEscapeChar)
		}
		sb.WriteRune(r)
	}
	if op == backends.Co || op == backends.Sw {
		sb.WriteByte('%')
	}
	return sb.String()
}

// builder accumulates SQL text and its bind parameters in order.
type builder struct {
	d    dialect
	sb   strings.Builder
	args []any
}

func newBuilder(d dialect) *builder { return &builder{d: d} }

// arg binds v and returns its placeholder.
func (b *builder) arg(v any) string {
	b.args = append(b.args, v)
	return b.d.placeholder(len(b.args))
}

// args binds every value of vs and returns "p1, p2, ...".
func (b *builder) list(vs []any) string {
	ph := make([]string, len(vs))
	for i, v := range vs {
		ph[i] = b.arg(v)
	}
	return strings.Join(ph, ", ")
}

func (b *builder) write(parts ...string) *builder {
	for _, p := range parts {
		b.sb.WriteString(p)
	}
	return b
}

func (b *builder) q(ident string) string { return b.d.quote(ident) }

func (b *builder) String() string { return b.sb.String() }
