package sql

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/scimbridge/scimbridge/backends"
)

// dialect is everything that differs between databases. Identifiers passed
// to it come from the validated configuration; values never appear in SQL
// text, only as placeholders.
type dialect interface {
	// driverName is the database/sql driver to open.
	driverName() string
	// dsn adds the connection settings the backend relies on.
	dsn(dsn string, o connOptions) (string, error)
	// bootstrapDSN is the DSN for running bootstrap_sql (a script of
	// several statements), or "" to run it on the backend's own pool.
	bootstrapDSN(dsn string) (string, error)
	// singleConnection reports that dsn names a database that lives in one
	// connection (SQLite :memory:), so the pool must hold exactly one, forever.
	singleConnection(dsn string) bool
	// connected returns the dialect adjusted to the server it talks to
	// (version-dependent features); called once after the first ping.
	connected(ctx context.Context, q querier) (dialect, error)
	// placeholder is the n-th (1-based) bind parameter.
	placeholder(n int) string
	// quote quotes an identifier.
	quote(ident string) string
	// insertReturning reports whether INSERT ... RETURNING col works; when
	// not, the id is read with LastInsertId (integer keys only).
	insertReturning() bool
	// updateReturning reports whether UPDATE ... RETURNING works, so that a
	// modification and the read of its result are one statement.
	updateReturning() bool
	// refList is an aggregate over the rows of a reference subquery that
	// yields the text of expr, ordered by order, as a JSON array of strings
	// (NULL or "[]" when there are none); "" when the dialect cannot, and
	// the references are read with a query of their own.
	refList(expr, order string) string
	// returningSubqueries reports whether the RETURNING list of an INSERT may
	// hold subqueries that name the new row's columns (as table.column).
	returningSubqueries() bool
	// cteInsert reports whether a WITH may hold an INSERT (PostgreSQL), so
	// that checking referenced ids and inserting join rows is one statement.
	cteInsert() bool
	// insertDefaults inserts a row with every column at its default.
	insertDefaults(table string) string
	// ignoreDuplicate is appended to a join-row INSERT so that a row that a
	// concurrent transaction inserted first is skipped, not an error; this
	// is the name of the first inserted column. "" when writers are serialised.
	ignoreDuplicate(this string) string
	// forUpdate is appended to a SELECT that reads a row about to be
	// changed, to lock it until the transaction ends ("" where writers are
	// serialised anyway).
	forUpdate() string
	// tableColumns introspects a table: its spelling in the database and
	// its columns; no columns means no such table.
	tableColumns(ctx context.Context, q querier, table string) (string, []columnInfo, error)
	// integerType, uuidType and timeType classify a column's declared type.
	integerType(c columnInfo) bool
	uuidType(c columnInfo) bool
	timeType(c columnInfo) bool
	// checkValue returns why v cannot be stored in c ("" when it can, or
	// when only the database can tell), so that the client gets a clear
	// message before the statement is sent. The reason completes "<the
	// value> ..." and names neither the column nor its type.
	checkValue(c columnInfo, v string) string
	// maxParams bounds the bind parameters of one statement.
	maxParams() int
	// limit renders LIMIT/OFFSET; count 0 means no limit.
	limit(b *builder, count, offset int) string

	// Predicates. c is a qualified, quoted column and what the database
	// says about it; each returns SQL that may be NULL only where the
	// column is NULL.

	// equal compares c with the bound value, folding case or not.
	equal(b *builder, c colExpr, value string, ignoreCase bool) string
	// substring matches co / sw / ew.
	substring(b *builder, op backends.Op, c colExpr, value string, ignoreCase bool) string
	// order compares c with the bound value as text for gt/ge/lt/le.
	order(b *builder, op backends.Op, c colExpr, value string, ignoreCase bool) string
	// number turns c into a number (NULL when it does not hold one), and
	// numberParam does the same for a bound decimal string.
	number(c colExpr) string
	numberParam(ph string) string
	// time turns c (RFC 3339 text or a timestamp) into a comparable value
	// (NULL when it holds neither), and timeParam binds t comparably.
	time(c colExpr) string
	timeParam(b *builder, t time.Time) string
	// text casts c to text.
	text(c colExpr) string
	// nullFalse turns a predicate that may be NULL into one that is false
	// instead, so that NOT over it keeps SCIM's meaning.
	nullFalse(pred string) string
	// truth is the literal for an always-true / always-false predicate.
	truth(v bool) string

	// classify maps a driver error to a sentinel (ErrAlreadyExists,
	// ErrInvalid, ErrInvalidReference, ErrUnavailable, ErrPermission) and
	// what the error says about the refused values, or returns nil.
	classify(err error) (sentinel error, f refusal)
	// indexColumns lists the columns of a unique index or constraint by
	// name (table may be ""), for violations that name only the index;
	// nil when it has expressions or is not found.
	indexColumns(ctx context.Context, q querier, table, index string) ([]string, error)
	// retryable reports an error after which the whole transaction may be
	// run again (deadlock, serialisation failure).
	retryable(err error) bool
}

// refusal is what a database's error says about the values it refused,
// beyond the sentinel: which column (or index) and why, in words that
// become a backends.AttrError, or a message a procedure raised for
// clients.
type refusal struct {
	// table and columns name where a violation happened as the database
	// spells them; columns may also be key expressions (lower(login)).
	// Both empty when the error did not say.
	table   string
	columns []string
	// index is a unique index or constraint whose columns the error does
	// not list (resolved with indexColumns).
	index string
	// reason completes "<attribute> ..." for the client ("" for the
	// sentinel's default); never names tables or columns.
	reason string
	// msg is the database's message, for the log.
	msg string
	// admin is a message a stored procedure raised for the client.
	admin string
}

// connOptions are the connection settings from the configuration that go
// into the DSN.
type connOptions struct {
	connectTimeout time.Duration
}

// columnInfo is what the database says about one column.
type columnInfo struct {
	name     string
	declType string // the declared / data type, lower case
	// maxLen is the limit in characters of a char/varchar column, 0 if none.
	maxLen int
	// collation of a text column ("" if unknown or not text).
	collation  string
	nullable   bool
	hasDefault bool
}

// colExpr is a column as it appears in a query.
type colExpr struct {
	sql   string
	info  columnInfo
	naive bool // a zone-less time in the backend's time_zone (timezone.go)
}

// dialects maps the config's driver names to dialects.
var dialects = map[string]func() dialect{
	"sqlite":   func() dialect { return sqliteDialect{} },
	"postgres": func() dialect { return postgresDialect{} },
	"mysql":    func() dialect { return mysqlDialect{} },
}

// driverAliases are other names the configuration accepts for a driver.
var driverAliases = map[string]string{
	"postgresql": "postgres",
	"pgx":        "postgres",
	"mariadb":    "mysql",
}

func lookupDialect(name string) (func() dialect, bool) {
	if a, ok := driverAliases[name]; ok {
		name = a
	}
	d, ok := dialects[name]
	return d, ok
}

func dialectNames() []string {
	var out []string
	for n := range dialects {
		out = append(out, `"`+n+`"`)
	}
	for n := range driverAliases {
		out = append(out, `"`+n+`"`)
	}
	slices.Sort(out)
	return out
}

// isConnError reports errors that mean the server could not be reached or
// went away: refused or reset connections, timeouts while connecting, a
// connection closed under a statement.
func isConnError(err error) bool {
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var oe *net.OpError
	return errors.As(err, &oe)
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

// checkTyped checks a value against an integer, UUID or length-limited
// column before a statement runs, so the client gets a message naming the
// problem instead of the database's.
func checkTyped(isInteger, isUUID bool, c columnInfo, v string) string {
	switch {
	case isInteger:
		if _, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err != nil {
			return "is not an integer"
		}
	case isUUID:
		if _, err := uuid.Parse(v); err != nil {
			return "is not a UUID"
		}
	case c.maxLen > 0:
		if n := utf8.RuneCountInString(v); n > c.maxLen {
			return fmt.Sprintf("has %d characters; at most %d fit", n, c.maxLen)
		}
	}
	return ""
}
