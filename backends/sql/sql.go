// Package sql is the backend for SQL databases: records are rows of
// existing ("legacy") tables, reference attributes such as group members
// are rows of join tables. Every value is a bound parameter; identifiers
// come only from the configuration, which admits nothing but plain
// identifiers. The database dialect is pluggable: SQLite (modernc.org/sqlite,
// pure Go), PostgreSQL (jackc/pgx through database/sql) and MySQL / MariaDB
// (go-sql-driver/mysql, server-side prepared statements).
//
// Configuration, the body of a backend "sql" block:
//
//	backend "sql" "app" {
//	  driver = "sqlite"                 # required
//	  dsn    = "file:/var/lib/scimbridge/app.db"  # required
//
//	  # Optional, run at start in one transaction.
//	  bootstrap_sql = <<-SQL
//	    CREATE TABLE IF NOT EXISTS app_users (
//	      user_id    INTEGER PRIMARY KEY AUTOINCREMENT,
//	      login      TEXT NOT NULL UNIQUE COLLATE NOCASE,
//	      first_name TEXT, last_name TEXT, email TEXT,
//	      active     INTEGER NOT NULL DEFAULT 1,
//	      created_at TEXT, updated_at TEXT);
//	    CREATE TABLE IF NOT EXISTS app_groups (
//	      group_id INTEGER PRIMARY KEY AUTOINCREMENT,
//	      name     TEXT NOT NULL UNIQUE COLLATE NOCASE);
//	    CREATE TABLE IF NOT EXISTS app_group_members (
//	      group_id INTEGER NOT NULL REFERENCES app_groups(group_id) ON DELETE CASCADE,
//	      user_id  INTEGER NOT NULL REFERENCES app_users(user_id) ON DELETE CASCADE,
//	      PRIMARY KEY (group_id, user_id));
//	  SQL
//
//	  max_open_conns    = 8      # default 8
//	  max_idle_conns    = 4      # default 4
//	  conn_max_lifetime = "5m"   # default "5m"
//	  query_timeout     = "10s"  # default "10s", per backend operation
//	  cursor_cache_size = 128    # default 128 paging cursors
//	  cursor_ttl        = "2m"   # default "2m"
//	  total_ttl         = "10s"  # default "10s"
//	  time_zone         = "Europe/Berlin"  # default "UTC": the zone of times stored without one
//
//	  resource "User" {
//	    table           = "app_users"
//	    id_column       = "user_id"
//	    id_generation   = "database"   # default; or "uuid" for a text key
//	    columns         = ["login", "first_name", "last_name", "email", "active"]  # default: all
//	    created_column  = "created_at"  # optional, RFC 3339 UTC, read-only
//	    modified_column = "updated_at"  # optional, RFC 3339 UTC, read-only
//	    reference "groups" {
//	      join_table   = "app_group_members"
//	      this_column  = "user_id"
//	      other_column = "group_id"
//	      target       = "Group"
//	      read_only    = true
//	    }
//	  }
//	  resource "Group" {
//	    table     = "app_groups"
//	    id_column = "group_id"
//	    reference "members" {
//	      join_table   = "app_group_members"
//	      this_column  = "group_id"
//	      other_column = "user_id"
//	      target       = "User"
//	    }
//	  }
//	}
//
// PostgreSQL and MySQL / MariaDB take the same block with another driver
// and a DSN, usually from the environment:
//
//	driver = "postgres"             # or "mysql" (MySQL 8, MariaDB 10.5+)
//	dsn    = env("DATABASE_URL")    # postgres://..., mysql://... or user:pw@tcp(host:3306)/db
//	connect_timeout    = "5s"       # default "5s"
//	conn_max_idle_time = "1m"       # default "1m"
//
// and a resource block can also say:
//
//	version_column = "rec_ver"      # integer, +1 on every modify, read-only
//	soft_delete {                   # Delete marks the row instead of removing it
//	  column        = "del_ts"      # NULL on live rows, set to the deletion time;
//	  deleted_value = "D"           # or, when set, the value marking deleted rows
//	}
//
// A reference block names exactly one of four layouts (checked by
// DecodeConfig and New, each problem with its file:line):
//
//	reference "members" {           # join table (above): any number of groups per user
//	  target       = "User"
//	  join_table   = "app_group_members"
//	  this_column  = "group_id"
//	  other_column = "user_id"
//	}
//	reference "members" {           # foreign key on the member row: one group per user
//	  target      = "User"
//	  foreign_key = "dept_id"       # column of the User table, nullable
//	}
//	reference "groups" {            # its reverse, on the User resource
//	  target       = "Group"
//	  local_column = "dept_id"      # column of this table; must be read_only
//	  read_only    = true
//	}
//	reference "members" {           # delimited ids in a text column of this row
//	  target    = "User"
//	  column    = "member_ids"
//	  separator = ","               # no letters, digits or '-'
//	}
//
// foreign_key: the members are the target rows whose column holds this
// record's key. ModAdd sets that column on the given rows (after checking
// that they all exist: ErrInvalidReference otherwise), so a user already
// in another group moves to this one; ModDelete sets it to NULL where it
// names this group (a user in another group is left alone); ModReplace
// does both for the difference. Deleting the group, or the user, sets the
// column to NULL; the user rows are otherwise untouched (their modified
// and version columns are not changed). A local_column or a delimited
// column must not also be an attribute of its resource (list columns
// explicitly to hide it).
//
// column: the ids are kept, in order, in one text column of the owner's
// row. A change reads the column under the row lock (SELECT ... FOR
// UPDATE on PostgreSQL and MySQL; SQLite write transactions are
// serialised), checks that added ids exist (ErrInvalidReference, nothing
// changed), appends the new ones, drops repeats and writes the column
// back (NULL when empty, an empty string for a NOT NULL column;
// ErrInvalid if the list outgrows a varchar(n)). Reading ignores blanks
// around ids and empty items. Deleting a target removes its id from every list holding
// it. Filters eq / ne on such a reference match whole items only (the
// column equals the id, starts with id+separator, ends with
// separator+id or contains separator+id+separator: "1" never matches
// "11"), which assumes lists without blanks around the separators, as
// this backend writes them; pr means a non-empty column.
//
// A multi_value block is a multi-valued attribute of plain values (e-mail
// addresses, phone numbers, roles), one row of a child table per value:
//
//	multi_value "mail" {            # the attribute name, e.g. native = "mail"
//	  table        = "user_email"   # child table
//	  this_column  = "user_id"      # this record's key
//	  value_column = "address"      # one value per row
//	}
//
// Its name must not be that of a column or reference of the resource, and
// the table and columns must exist (DecodeConfig and New check, with
// file:line). Reads list the values, ordered by the value column and
// without repeats or NULLs, when the attribute is asked for (inline or one
// query more, as references). Create inserts a row per value; ModAdd
// inserts the values not there yet, ModDelete deletes the given values (all
// without values), ModReplace deletes those not given and inserts the
// missing ones; values compare exactly (as the database returns them) and
// are checked against the value column like column values. All of it is in
// the record's write transaction. Delete, also a soft delete, deletes the
// record's rows. Filters eq, ne, co, sw, ew, gt, ge, lt, le and pr become
// EXISTS subqueries over the child rows with the value column compared as a
// column would be (case handling, LIKE escaping); ne matches records
// without such a value. Sorting by a multi_value is ErrUnsupported.
//
// One child table may hold several attributes, told apart by fixed column
// values (where), and a child table may hold keys of a lookup table whose
// names are the values (lookup; see ValueLookupConfig):
//
//	multi_value "phone_work" {
//	  table        = "phones"
//	  this_column  = "owner"
//	  value_column = "number"
//	  where        = { kind = "W" }  # read, filtered, deleted: kind = 'W'; inserted with it
//	}
//	multi_value "roles" {
//	  table        = "person_roles"
//	  this_column  = "person"
//	  value_column = "role_id"       # a key of roles
//	  lookup {
//	    table        = "roles"
//	    key_column   = "role_id"
//	    value_column = "role_name"   # the values read, written and filtered on
//	  }
//	}
//
// Where the application lets nobody write its tables directly (writes go
// through stored procedures that also write audit rows, say), the writes
// can be statements of the configuration instead; reads still come from
// the tables (or views):
//
//	resource "User" {
//	  table     = "app_users"
//	  id_column = "user_id"
//	  create {                      # or CALL ..., or INSERT ... RETURNING
//	    sql        = "SELECT app_user_add(:login, :first_name, :active)"
//	    returns_id = true           # first column of the first row: the new id
//	  }                             # (or find_by = "login", or :id with id_generation = "uuid")
//	  update { sql = "CALL app_user_set(:id, :login, :first_name, :active)" }  # the row after the change
//	  delete { sql = "CALL app_user_remove(:id)" }
//	}
//	resource "Group" {
//	  ...
//	  reference "members" {         # join_table etc. as above, for reading
//	    add    { sql = "CALL app_member_add(:id, :target_id)" }     # one call per added member
//	    remove { sql = "CALL app_member_remove(:id, :target_id)" }  # one call per removed member
//	  }
//	}
//
// Parameters are :name (a column of the record; :id, :target_id, :value
// where the block offers them), turned into the dialect's placeholders
// when the configuration is loaded; values are always bound, and an
// unknown name is reported with its file:line. Each statement runs in the
// transaction of its SCIM write, so a failing procedure leaves nothing
// behind, and its errors map as the backend's own do (a RAISE EXCEPTION or
// SIGNAL is ErrInvalid with its message). StatementConfig and the create,
// update, delete, add and remove fields of the configuration types say
// exactly what each block is called with.
//
// Soft-deleted rows are invisible to every read and their join rows are
// removed; whether a deleted userName can be created again is the
// schema's choice (a unique index over live rows only allows it). Ids may
// be integers, UUIDs or text, made by the database (serial, identity,
// AUTO_INCREMENT, a DEFAULT read back with RETURNING) or by the backend
// (id_generation = "uuid"); ids that cannot be keys of the table (not a
// number, not a UUID) are ErrNotFound without a query.
//
// Filters become parameterised WHERE clauses on every dialect. Case-exact
// comparisons are exact whatever the column's collation (PostgreSQL
// compares text, citext included, as text; MySQL compares the bytes of the
// utf8mb4 text), case-insensitive ones compare lower-cased text, and
// ordering (gt/ge/lt/le) is by code point. Where a MySQL column's
// collation is case-insensitive, the plain comparison is added so that its
// index narrows the rows. LIKE patterns escape %, _ and the escape
// character. Values are checked against what the database said about the
// column (integer, UUID, length of varchar(n)) so that the client gets a
// clear 400; what only the database can check (CHECK, NOT NULL, ranges,
// foreign keys, unique keys) is mapped from its error codes: unique →
// ErrAlreadyExists, foreign key → ErrInvalidReference, other constraint and
// data errors → ErrInvalid; a refused or lost connection, a shutdown, too
// many connections → ErrUnavailable. A transaction the database aborted to
// break a deadlock runs again (a few times); database/sql drops dead
// connections, so the pool recovers by itself when the server is back.
//
// Attribute names are the column names (matched case-insensitively) and the
// reference names. Columns are single-valued: a ModAdd on a column that has
// a value replaces it (as a SCIM "add" on a single-valued attribute does),
// more than one value is ErrInvalid. Text values must not contain NUL.
// Writing a name that is no attribute, a managed column, a read-only
// reference or a column a statement does not take is ErrConfig: only the
// configuration names attributes (DescribeNative lets serve find these in
// the mapping before it serves). Uniqueness is the database's: declare UNIQUE (COLLATE NOCASE for
// userName-like columns) and the backend reports ErrAlreadyExists.
//
// Each Create, Modify and Delete is atomic, with as few round trips as
// the dialect allows. A Create without references is one INSERT ...
// RETURNING (no transaction: one statement is atomic); with references,
// the INSERT and the join rows are one transaction. A Modify of columns
// that needs no current value is one UPDATE ... RETURNING on PostgreSQL
// and SQLite (the version and modified columns are set by the same
// statement; no row means ErrNotFound), an UPDATE and then a SELECT on
// MySQL / MariaDB, which have no UPDATE ... RETURNING (the returned row may
// then show a later write by another client). A Modify that deletes a
// given value, or changes references, is one transaction in which the
// UPDATE locks the row. Membership changes insert or delete only the
// changed join rows, after checking in batches that the referenced ids
// exist (on PostgreSQL the check and the insert are one statement).
// Modify returns what Get with the same attributes returns: on PostgreSQL
// and SQLite the references and multi_value attributes it does not change
// come back with the UPDATE ... RETURNING, those it changes are read after
// the change in its transaction. Reads list reference attributes in the
// same statement on PostgreSQL and SQLite (an aggregate subquery per
// reference), with one more query per record (Get) or page (Search) on
// MySQL / MariaDB; references not asked for are not read. Sequential paging (StartIndex = previous StartIndex + page
// size, same filter and sort) continues from a cached keyset cursor
// instead of an OFFSET, and reuses the Total for a short while; the first
// page counts the matching rows in the same statement.
package sql

import (
	"context"
	dbsql "database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/scimbridge/scimbridge/backends"
)

// Backend is the SQL backend.
type Backend struct {
	db        *dbsql.DB
	d         dialect
	log       hclog.Logger
	resources map[string]*resource
	set       settings
	cursors   *cursorCache
	// gen counts writes; cached totals from an older generation are stale.
	gen atomic.Uint64
	// keysetPages and offsetPages count how pages were read (for tests and
	// debugging of the paging path).
	keysetPages, offsetPages atomic.Int64

	stats prometheus.Collector // the connection pool's metrics
	// lookups holds the statement of each lookup table, by name.
	lookups map[string]string
	loc     *time.Location // time_zone of zone-less columns; nil: UTC
}

var (
	_ backends.Backend  = (*Backend)(nil)
	_ backends.Pinger   = (*Backend)(nil)
	_ backends.Lookuper = (*Backend)(nil)
)

// New opens the database, runs bootstrap_sql and checks the configuration
// against the tables. Configuration mistakes (unknown table or column) are
// reported together, each with its place in the configuration file.
func New(ctx context.Context, cfg *Config, log hclog.Logger) (*Backend, error) {
	if cfg == nil {
		return nil, errors.New("sql: nil config")
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	if diags := cfg.validate(); diags.HasErrors() {
		return nil, fmt.Errorf("sql: invalid configuration: %w", diags)
	}
	if cfg.Driver == "" || cfg.DSN == "" {
		return nil, errors.New("sql: driver and dsn are required")
	}
	newDialect, _ := lookupDialect(cfg.Driver)
	d := newDialect()
	set := cfg.settings()
	dsn, err := d.dsn(cfg.DSN, connOptions{connectTimeout: set.connectTimeout})
	if err != nil {
		return nil, fmt.Errorf("sql: %w", err)
	}
	if _, ok := d.(sqliteDialect); ok && cfg.location() != nil {
		if err := registerSQLiteZone(); err != nil {
			return nil, fmt.Errorf("sql: time_zone: %w", err)
		}
	}
	db, err := dbsql.Open(d.driverName(), dsn)
	if err != nil {
		return nil, fmt.Errorf("sql: open: %w", err)
	}
	if d.singleConnection(cfg.DSN) {
		set.maxOpen, set.maxIdle, set.connMaxLifetime, set.connMaxIdleTime = 1, 1, 0, 0
		log.Named("sql").Info("in-memory database: using a single connection")
	}
	db.SetMaxOpenConns(set.maxOpen)
	db.SetMaxIdleConns(set.maxIdle)
	db.SetConnMaxLifetime(set.connMaxLifetime)
	db.SetConnMaxIdleTime(set.connMaxIdleTime)
	b := &Backend{db: db, d: d, log: log.Named("sql"), set: set, cursors: newCursorCache(set.cursorCacheSize, set.cursorTTL), loc: cfg.location()}
	b.stats = newPoolCollector(b)
	b.lookups = cfg.lookupStatements()
	if err := b.init(ctx, cfg); err != nil {
		_ = db.Close()
		return nil, err
	}
	return b, nil
}

func (b *Backend) init(ctx context.Context, cfg *Config) error {
	ctx, cancel := b.opContext(ctx)
	defer cancel()
	if err := b.db.PingContext(ctx); err != nil {
		return b.wrap(ctx, nil, "connect", err)
	}
	d, err := b.d.connected(ctx, b.db)
	if err != nil {
		return b.wrap(ctx, nil, "connect", err)
	}
	b.d = d
	if strings.TrimSpace(cfg.BootstrapSQL) != "" {
		if err := b.bootstrap(ctx, cfg); err != nil {
			return fmt.Errorf("sql: bootstrap_sql: %w", err)
		}
	}
	res, err := loadSchema(ctx, b.d, b.db, cfg)
	if err != nil {
		return fmt.Errorf("sql: %w", err)
	}
	if err := compileStatements(b.d, cfg, res); err != nil {
		return fmt.Errorf("sql: %w", err)
	}
	if err := b.checkLookups(ctx, cfg); err != nil {
		return fmt.Errorf("sql: %w", err)
	}
	if err := chooseLocks(ctx, b.d, b.db, res); err != nil {
		return b.wrap(ctx, nil, "connect", err)
	}
	b.useTimeZone(res)
	b.resources = res
	return nil
}

// bootstrap runs bootstrap_sql in one transaction, on a connection that
// accepts several statements at once.
func (b *Backend) bootstrap(ctx context.Context, cfg *Config) error {
	bdsn, err := b.d.bootstrapDSN(cfg.DSN)
	if err != nil {
		return err
	}
	db := b.db
	if bdsn != "" {
		if db, err = dbsql.Open(b.d.driverName(), bdsn); err != nil {
			return err
		}
		defer db.Close()
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, cfg.BootstrapSQL); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Close closes the connection pool.
func (b *Backend) Close() error { return b.db.Close() }

// Ping checks the connection.
func (b *Backend) Ping(ctx context.Context) error {
	ctx, cancel := b.opContext(ctx)
	defer cancel()
	if err := b.db.PingContext(ctx); err != nil {
		return b.wrap(ctx, nil, "ping", err)
	}
	return nil
}

func (b *Backend) opContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if b.set.queryTimeout > 0 {
		return context.WithTimeout(ctx, b.set.queryTimeout)
	}
	return context.WithCancel(ctx)
}

func (b *Backend) resource(name string) (*resource, error) {
	r, ok := b.resources[name]
	if !ok {
		return nil, fmt.Errorf("sql: resource type %q is not configured: %w", name, backends.ErrUnsupported)
	}
	return r, nil
}

// maxTxAttempts bounds how often a transaction that the database rolled
// back (deadlock, serialisation failure) is run again.
const maxTxAttempts = 4

// inTx runs fn in one transaction, committing when it returns nil. A
// transaction the database aborted to break a deadlock runs again.
func (b *Backend) inTx(ctx context.Context, fn func(tx *dbsql.Tx) error) error {
	if tx := b.outer(ctx); tx != nil {
		return fn(tx) // part of InTransaction's
	}
	return b.retry(ctx, func() error { return b.tryTx(ctx, fn) })
}

// retry runs fn, which is one transaction or one statement outside of
// any, again when the database aborted it to break a deadlock: after
// 5-10 ms, 10-20 ms, 20-40 ms, or until ctx ends.
func (b *Backend) retry(ctx context.Context, fn func() error) error {
	if b.outer(ctx) != nil {
		return fn() // an aborted outer transaction cannot go on
	}
	r := backends.Retry{Attempts: maxTxAttempts, Backoff: backends.Backoff{Base: 10 * time.Millisecond, Max: time.Second},
		OnRetry: func(attempt int, err error, _ time.Duration) {
			b.log.Debug("transaction aborted by the database, retrying", "attempt", attempt, "error", err)
		}}
	return r.Do(ctx, func(int) (bool, error) {
		err := fn()
		return err != nil && b.d.retryable(err), err
	})
}

func (b *Backend) tryTx(ctx context.Context, fn func(tx *dbsql.Tx) error) error {
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// live is the condition that a row of r (alias: "" or "t.") is not
// soft-deleted, or "" without soft delete.
func (b *Backend) live(sb *builder, r *resource, alias string) string {
	sd := r.softDel
	if sd == nil {
		return ""
	}
	col := alias + sb.q(sd.col.name)
	if sd.value == nil {
		return col + " IS NULL"
	}
	return "(" + col + " IS NULL OR " + col + " <> " + sb.arg(*sd.value) + ")"
}

// andLive appends " AND <live>" when r has soft delete.
func (b *Backend) andLive(sb *builder, r *resource, alias string) {
	if l := b.live(sb, r, alias); l != "" {
		sb.write(" AND ", l)
	}
}

// checkColumn refuses, with a clear message, values the column cannot
// hold: NUL bytes, wrong types the dialect can recognise, the soft-delete
// marker.
func (b *Backend) checkColumn(r *resource, col *column, attr, v string) error {
	if err := checkText(r.name, attr, v); err != nil {
		return err
	}
	if p := b.d.checkValue(col.info, v); p != "" {
		return refused(attr, v, p, invalidf("%s.%s: %q %s (column %s, type %s)", r.name, attr, v, p, col.name, col.info.declType))
	}
	if sd := r.softDel; sd != nil && sd.col == col && sd.value != nil && v == *sd.value {
		return refused(attr, v, "is the value that marks deleted records", invalidf("%s.%s: %q marks deleted records; delete the record instead", r.name, attr, v))
	}
	return nil
}

// refused is the ErrInvalid refusal of value v of attribute attr, for
// reason (client-safe); cause says the same with native names, for the log.
func refused(attr, v, reason string, cause error) error {
	return backends.Invalid(attr, v, reason, cause)
}

// bind is the value to bind for v in col: RFC 3339 text for a date/time
// column becomes a UTC time (MySQL does not parse offsets, PostgreSQL's
// timestamp without time zone would drop them); anything else is bound as
// text and converted by the database.
func (b *Backend) bind(col *column, v string) any {
	if col.isTime || col.naive {
		if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(v)); err == nil {
			return b.timeValue(col, t)
		}
	}
	return v
}

// bindText is bind for callers without a Backend (the fixed values of a
// multi_value's where): a date/time value as a UTC time.
func bindText(col *column, v string) any {
	if col.isTime {
		if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(v)); err == nil {
			return t.UTC()
		}
	}
	return v
}

// stamp is the value of a managed timestamp column: a time for date/time
// columns, RFC 3339 UTC text otherwise.
func (b *Backend) stamp(c *column, now time.Time) any {
	if c.naive {
		return b.timeValue(c, now.Truncate(time.Microsecond))
	}
	if c.isTime {
		return now.UTC().Truncate(time.Microsecond)
	}
	return now.UTC().Format(time.RFC3339)
}

// Create inserts a row and its join rows. Without references it is one
// INSERT ... RETURNING (a single statement is atomic, so no transaction);
// with references, the INSERT and the join rows are one transaction.
func (b *Backend) Create(ctx context.Context, resourceType string, attrs backends.Attrs) (backends.Record, error) {
	r, err := b.resource(resourceType)
	if err != nil {
		return backends.Record{}, err
	}
	ctx, cancel := b.opContext(ctx)
	defer cancel()

	colVals := map[*column]any{}
	refVals := map[*reference][]string{}
	for name, vals := range attrs {
		col, ref := r.attr(name)
		vals = dedupe(vals)
		switch {
		case col != nil:
			if col.managed {
				return backends.Record{}, configf("%s.%s is set by the backend", resourceType, name)
			}
			if len(vals) > 1 {
				return backends.Record{}, invalidf("%s.%s is single-valued, got %d values", resourceType, name, len(vals))
			}
			if len(vals) == 1 {
				if err := b.checkColumn(r, col, name, vals[0]); err != nil {
					return backends.Record{}, err
				}
				colVals[col] = b.bind(col, vals[0])
			}
		case ref != nil:
			if ref.readOnly && len(vals) > 0 {
				return backends.Record{}, configf("%s.%s is read-only", resourceType, name)
			}
			if ref.layout == layoutValues {
				if err := b.checkValues(ref, vals); err != nil {
					return backends.Record{}, err
				}
			}
			refVals[ref] = append(refVals[ref], vals...)
		default:
			return backends.Record{}, configf("%s has no attribute %q", resourceType, name)
		}
	}
	now := time.Now()
	for _, c := range []*column{r.created, r.updated} {
		if c != nil {
			colVals[c] = b.stamp(c, now)
		}
	}
	if v := r.version; v != nil && !v.info.hasDefault {
		colVals[v] = int64(1)
	}
	var given []*reference // references with values, in configuration order
	for _, ref := range r.refs {
		if len(refVals[ref]) > 0 {
			given = append(given, ref)
		}
	}
	if r.createStmt() != nil {
		return b.createByStatement(ctx, r, colVals, given, refVals)
	}

	var rec backends.Record
	switch {
	case !b.d.insertReturning():
		// MySQL: the key comes from LastInsertId, the row from a SELECT.
		err = b.inTx(ctx, func(tx *dbsql.Tx) error {
			key, err := b.insertRow(ctx, tx, r, colVals)
			if err != nil {
				return err
			}
			for _, ref := range given {
				if err := b.addRefs(ctx, tx, ref, key, refVals[ref]); err != nil {
					return err
				}
			}
			rec, err = b.read(ctx, tx, r, key, nil)
			return err
		})
	case len(given) == 0:
		// One statement: the row as stored, with the references that
		// name the new key (none, unless rows were left behind for it).
		s := b.returningSelection(b.selectionFor(r, nil))
		var key any
		err = b.retry(ctx, func() error {
			var err error
			rec, key, err = b.insertReturning(ctx, b.conn(ctx), r, colVals, s)
			return err
		})
		if err == nil {
			err = b.readLater(ctx, b.conn(ctx), key, s, &rec)
		}
	default:
		// The references given are written after the INSERT and read back
		// from the join table; the others come with the INSERT.
		s := b.returningSelection(b.selectionFor(r, nil))
		var inline []*reference
		for _, ref := range s.inline {
			if !containsPtr(given, ref) {
				inline = append(inline, ref)
			}
		}
		s.inline = inline
		later := given
		for _, ref := range s.later {
			if !containsPtr(given, ref) {
				later = append(later, ref)
			}
		}
		s.later = later
		err = b.inTx(ctx, func(tx *dbsql.Tx) error {
			var key any
			var err error
			rec, key, err = b.insertReturning(ctx, tx, r, colVals, s)
			if err != nil {
				return err
			}
			for _, ref := range given {
				if err := b.addRefs(ctx, tx, ref, key, refVals[ref]); err != nil {
					return err
				}
			}
			return b.readLater(ctx, tx, key, s, &rec)
		})
	}
	if err != nil {
		return backends.Record{}, b.wrap(ctx, r, "create "+resourceType, err)
	}
	b.gen.Add(1)
	return rec, nil
}

// insertSQL writes the INSERT of vals (and of a new UUID key when the
// backend makes the keys) and returns that key, or nil.
func (b *Backend) insertSQL(q *builder, r *resource, vals map[*column]any) any {
	var key any
	var names, phs []string
	if r.idGen == idGenUUID {
		key = newUUID()
		names = append(names, q.q(r.idCol))
		phs = append(phs, q.arg(key))
	}
	for _, c := range r.columns { // configuration order: deterministic SQL
		if v, ok := vals[c]; ok {
			names = append(names, q.q(c.name))
			phs = append(phs, q.arg(v))
		}
	}
	if len(names) == 0 {
		q.write(b.d.insertDefaults(r.table))
	} else {
		q.write("INSERT INTO ", q.q(r.table), " (", strings.Join(names, ", "), ") VALUES (", strings.Join(phs, ", "), ")")
	}
	return key
}

// returningSelection is s for an INSERT ... RETURNING: where the dialect
// cannot name the new row in a subquery, references are read afterwards.
func (b *Backend) returningSelection(s selection) selection {
	if !b.d.returningSubqueries() {
		s.later = append(append([]*reference(nil), s.inline...), s.later...)
		s.inline = nil
	}
	return s
}

// insertReturning inserts a row and returns it as stored, laid out by s
// (see returningSelection), with its key in the form parseID gives.
func (b *Backend) insertReturning(ctx context.Context, q querier, r *resource, vals map[*column]any, s selection) (backends.Record, any, error) {
	sb := newBuilder(b.d)
	b.insertSQL(sb, r, vals)
	sb.write(" RETURNING ")
	qual := "" // MariaDB: unqualified, and no inline references
	if len(s.inline) > 0 {
		qual = sb.q(r.table) // the new row, in the subqueries too
	}
	b.writeSelect(sb, r, qual, s)
	dest, ptrs := scanDest(s.width())
	if err := q.QueryRowContext(ctx, sb.String(), sb.args...).Scan(ptrs...); err != nil {
		return backends.Record{}, nil, err
	}
	key, err := normalizeKey(r, dest[0])
	if err != nil {
		return backends.Record{}, nil, err
	}
	rec, err := b.record(s, dest)
	return rec, key, err
}

// insertRow inserts a row and returns its key (dialects without RETURNING).
func (b *Backend) insertRow(ctx context.Context, tx *dbsql.Tx, r *resource, vals map[*column]any) (any, error) {
	q := newBuilder(b.d)
	if key := b.insertSQL(q, r, vals); key != nil {
		_, err := tx.ExecContext(ctx, q.String(), q.args...)
		return key, err
	}
	res, err := tx.ExecContext(ctx, q.String(), q.args...)
	if err != nil {
		return nil, err
	}
	return res.LastInsertId()
}

// normalizeKey turns a key read from the database into the form parseID
// gives, so that it can be bound again.
func normalizeKey(r *resource, raw any) (any, error) {
	s, ok := format(raw)
	if !ok {
		return nil, fmt.Errorf("table %q returned a NULL key", r.table)
	}
	if k, ok := r.parseID(s); ok {
		return k, nil
	}
	return nil, fmt.Errorf("table %q returned key %q that does not parse as an id", r.table, s)
}

// Get reads one record.
func (b *Backend) Get(ctx context.Context, resourceType, id string, attrs []string) (backends.Record, error) {
	r, err := b.resource(resourceType)
	if err != nil {
		return backends.Record{}, err
	}
	key, ok := r.parseID(id)
	if !ok {
		return backends.Record{}, notFound(resourceType, id)
	}
	ctx, cancel := b.opContext(ctx)
	defer cancel()
	rec, err := b.read(ctx, b.conn(ctx), r, key, attrs)
	if err != nil {
		return backends.Record{}, b.wrap(ctx, r, "get "+resourceType, err)
	}
	return rec, nil
}

// project resolves Query.Attrs: nil means every column and reference;
// unknown names are ignored.
func project(r *resource, attrs []string) ([]*column, []*reference) {
	if attrs == nil {
		return r.columns, r.refs
	}
	var cols []*column
	var refs []*reference
	for _, a := range attrs {
		c, ref := r.readAttr(a)
		switch {
		case c != nil && !containsPtr(cols, c):
			cols = append(cols, c)
		case ref != nil && !containsPtr(refs, ref):
			refs = append(refs, ref)
		}
	}
	return cols, refs
}

func containsPtr[T any](s []*T, p *T) bool {
	for _, x := range s {
		if x == p {
			return true
		}
	}
	return false
}

// Modify applies mods atomically and returns the record as Get with attrs
// returns it.
//
// Changes to columns that need no current value (replace, add, delete of
// the whole value) are one UPDATE ... RETURNING where the dialect has it
// (PostgreSQL, SQLite), which also lists the references asked for: no
// transaction, no read before or after; on MySQL / MariaDB an UPDATE and
// then a SELECT (and a query per reference asked for). Changes that need
// current values (deleting a given value) or touch references run in one
// transaction; there the UPDATE itself locks the row and proves that it
// exists, and reads it back where the dialect can, with the references
// the transaction changes read after the change.
func (b *Backend) Modify(ctx context.Context, resourceType, id string, mods []backends.Modification, attrs []string) (backends.Record, error) {
	r, err := b.resource(resourceType)
	if err != nil {
		return backends.Record{}, err
	}
	key, ok := r.parseID(id)
	if !ok {
		return backends.Record{}, notFound(resourceType, id)
	}
	// Check every modification before touching the database.
	var colMods []backends.Modification
	var needCur []*column
	refMods := false
	for _, m := range mods {
		col, ref := r.attr(m.Attr)
		switch {
		case col != nil:
			if col.managed {
				return backends.Record{}, configf("%s.%s is set by the backend", resourceType, m.Attr)
			}
			for _, v := range m.Values {
				if err := b.checkColumn(r, col, m.Attr, v); err != nil {
					return backends.Record{}, err
				}
			}
			if m.Op == backends.ModDelete && len(m.Values) > 0 && !containsPtr(needCur, col) {
				needCur = append(needCur, col)
			}
			colMods = append(colMods, m)
		case ref != nil:
			if ref.readOnly {
				return backends.Record{}, configf("%s.%s is read-only", resourceType, m.Attr)
			}
			if ref.layout == layoutValues {
				if err := b.checkValues(ref, m.Values); err != nil {
					return backends.Record{}, err
				}
			}
			refMods = true
		default:
			return backends.Record{}, configf("%s has no attribute %q", resourceType, m.Attr)
		}
		switch m.Op {
		case backends.ModAdd, backends.ModDelete, backends.ModReplace:
		default:
			return backends.Record{}, invalidf("unknown modification %d", m.Op)
		}
	}
	if r.updateStmt() != nil {
		return b.modifyByStatement(ctx, r, key, mods, colMods, attrs)
	}
	// changes computes the columns to set (nil: NULL) from the current
	// values of the needCur columns.
	changes := func(cur map[*column]*string) (map[*column]any, error) {
		next, err := applyColumns(r, cur, colMods)
		if err != nil {
			return nil, err
		}
		set := map[*column]any{}
		for c, v := range next {
			if v == nil {
				set[c] = nil
			} else {
				set[c] = b.bind(c, *v)
			}
		}
		if r.updated != nil {
			set[r.updated] = b.stamp(r.updated, time.Now())
		}
		return set, nil
	}
	// What Modify returns, laid out for an UPDATE ... RETURNING: the
	// references that mods change are read after the change.
	ret := b.returningSelection(b.modifiedLater(b.selectionFor(r, attrs), r, mods))
	ctx, cancel := b.opContext(ctx)
	defer cancel()

	var rec backends.Record
	if !refMods && len(needCur) == 0 {
		set, err := changes(nil)
		if err != nil {
			return backends.Record{}, err
		}
		switch {
		case len(set) == 0 && r.version == nil:
			// Nothing to write.
			rec, err = b.read(ctx, b.conn(ctx), r, key, attrs)
		case b.d.updateReturning():
			err = b.retry(ctx, func() error {
				var err error
				usb := b.updateSQL(r, key, set, &ret)
				rec, err = b.queryRecord(ctx, b.conn(ctx), r, key, ret, usb.String(), usb.args)
				return err
			})
			if err == nil {
				err = b.readLater(ctx, b.conn(ctx), key, ret, &rec)
			}
		default:
			// No UPDATE ... RETURNING (MySQL, MariaDB): the UPDATE alone is
			// atomic; the row is read after it.
			err = b.retry(ctx, func() error { return b.updateRow(ctx, b.conn(ctx), r, key, set) })
			if err == nil {
				rec, err = b.read(ctx, b.conn(ctx), r, key, attrs)
			}
		}
		if err != nil {
			return backends.Record{}, b.wrap(ctx, r, "modify "+resourceType, err)
		}
		b.gen.Add(1)
		return rec, nil
	}

	err = b.inTx(ctx, func(tx *dbsql.Tx) error {
		var cur map[*column]*string
		if len(needCur) > 0 {
			var err error
			if cur, err = b.rowValues(ctx, tx, r, key, needCur, b.d.forUpdate()); err != nil {
				return err
			}
		}
		set, err := changes(cur)
		if err != nil {
			return err
		}
		haveRec := false
		switch {
		case len(set) == 0 && r.version == nil:
			// Nothing to update: lock the row (and prove it exists).
			if cur == nil {
				_, err = b.rowValues(ctx, tx, r, key, nil, b.d.forUpdate())
			}
		case b.d.updateReturning():
			usb := b.updateSQL(r, key, set, &ret)
			rec, err = b.queryRecord(ctx, tx, r, key, ret, usb.String(), usb.args)
			haveRec = true
		default:
			err = b.updateRow(ctx, tx, r, key, set)
		}
		if err != nil {
			return err
		}
		for _, m := range mods {
			if _, ref := r.attr(m.Attr); ref != nil {
				if err := b.modifyRefs(ctx, tx, ref, key, m); err != nil {
					return err
				}
			}
		}
		if !haveRec {
			rec, err = b.read(ctx, tx, r, key, attrs)
			return err
		}
		return b.readLater(ctx, tx, key, ret, &rec)
	})
	if err != nil {
		return backends.Record{}, b.wrap(ctx, r, "modify "+resourceType, err)
	}
	b.gen.Add(1)
	return rec, nil
}

// applyColumns computes the values of the columns that colMods change
// (nil is NULL), in order, from the current values cur.
func applyColumns(r *resource, cur map[*column]*string, colMods []backends.Modification) (map[*column]*string, error) {
	next := map[*column]*string{}
	for _, m := range colMods {
		col, _ := r.attr(m.Attr)
		v, set, err := applyColumn(r.name, col, cur, next, m)
		if err != nil {
			return nil, err
		}
		if set {
			next[col] = v
		}
	}
	return next, nil
}

// applyColumn computes a column's value after m (nil is NULL); set is
// false when m leaves the column as it is.
func applyColumn(resourceType string, col *column, cur, next map[*column]*string, m backends.Modification) (v *string, set bool, err error) {
	v, changed := next[col]
	if !changed {
		v = cur[col]
	}
	vals := dedupe(m.Values)
	switch m.Op {
	case backends.ModAdd, backends.ModReplace:
		switch len(vals) {
		case 0:
			if m.Op == backends.ModAdd {
				return v, changed, nil // adds nothing
			}
			return nil, true, nil
		case 1:
			return &vals[0], true, nil
		}
		return nil, false, invalidf("%s.%s is single-valued, got %d values", resourceType, m.Attr, len(vals))
	default: // ModDelete
		if len(m.Values) == 0 {
			return nil, true, nil
		}
		if v != nil {
			for _, x := range vals {
				if x == *v {
					return nil, true, nil
				}
			}
		}
		return v, changed, nil
	}
}

// modifiedLater moves the references of s that mods change from inline to
// later: an UPDATE ... RETURNING runs before the reference changes of its
// transaction, and would list them as they were.
func (b *Backend) modifiedLater(s selection, r *resource, mods []backends.Modification) selection {
	var inline []*reference
	for _, ref := range s.inline {
		if slices.ContainsFunc(mods, func(m backends.Modification) bool { _, mr := r.attr(m.Attr); return mr == ref }) {
			s.later = append(s.later, ref)
		} else {
			inline = append(inline, ref)
		}
	}
	s.inline = inline
	return s
}

// updateSQL is the UPDATE of the live row with key that sets the columns
// in next (nil: NULL) and bumps the version column, RETURNING ret when
// it is not nil (with its inline references as subqueries over the
// updated row).
func (b *Backend) updateSQL(r *resource, key any, next map[*column]any, ret *selection) *builder {
	q := newBuilder(b.d)
	q.write("UPDATE ", q.q(r.table), " SET ")
	first := true
	for _, c := range r.columns { // configuration order: deterministic SQL
		v, ok := next[c]
		if !ok || c == r.version {
			continue
		}
		if !first {
			q.write(", ")
		}
		first = false
		q.write(q.q(c.name), " = ", q.arg(v))
	}
	if v := r.version; v != nil {
		if !first {
			q.write(", ")
		}
		q.write(q.q(v.name), " = COALESCE(", q.q(v.name), ", 0) + 1")
	}
	q.write(" WHERE ", q.q(r.idCol), " = ", q.arg(key))
	b.andLive(q, r, "")
	if ret != nil {
		q.write(" RETURNING ")
		qual := ""
		if len(ret.inline) > 0 {
			qual = q.q(r.table) // the updated row, in the subqueries too
		}
		b.writeSelect(q, r, qual, *ret)
	}
	return q
}

// updateRow runs updateSQL without RETURNING; no matching live row is
// ErrNotFound (MySQL counts matched rows: the DSN sets clientFoundRows).
func (b *Backend) updateRow(ctx context.Context, q querier, r *resource, key any, next map[*column]any) error {
	sb := b.updateSQL(r, key, next, nil)
	res, err := q.ExecContext(ctx, sb.String(), sb.args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return notFound(r.name, fmt.Sprint(key))
	}
	return nil
}

// Delete removes a row and every join row that names it.
func (b *Backend) Delete(ctx context.Context, resourceType, id string) error {
	r, err := b.resource(resourceType)
	if err != nil {
		return err
	}
	key, ok := r.parseID(id)
	if !ok {
		return notFound(resourceType, id)
	}
	ctx, cancel := b.opContext(ctx)
	defer cancel()
	err = b.inTx(ctx, func(tx *dbsql.Tx) error {
		if b.deletesByStatement(r) {
			return b.deleteWithStatements(ctx, tx, r, key, id)
		}
		done := map[string]bool{}
		for _, ref := range r.refsOn {
			if err := b.dropRef(ctx, tx, r, ref, key, done); err != nil {
				return err
			}
		}
		return b.deleteRow(ctx, tx, r, key, id)
	})
	if err != nil {
		return b.wrap(ctx, r, "delete "+resourceType, err)
	}
	b.gen.Add(1)
	return nil
}

// dropRef removes what ref holds of the record of r with key that is being
// deleted: the join rows naming it, the foreign keys pointing at it, its
// id in delimited lists. done holds the join table columns handled already.
func (b *Backend) dropRef(ctx context.Context, tx *dbsql.Tx, r *resource, ref *reference, key any, done map[string]bool) error {
	if ref.layout == layoutDelim {
		// The owner's row keeps its list; a deleted target
		// leaves every list that holds it.
		if ref.target == r {
			return b.dropDelim(ctx, tx, ref, key)
		}
		return nil
	}
	// A reference between records of one type (groups in groups) names
	// the deleted record from both columns.
	var cols []string
	if ref.owner == r {
		cols = append(cols, ref.this)
	}
	if ref.target == r {
		cols = append(cols, ref.other)
	}
	for _, col := range cols {
		k := strings.ToLower(ref.joinTable + "." + col)
		if done[k] {
			continue
		}
		done[k] = true
		q := newBuilder(b.d)
		if ref.layout == layoutJoin || ref.layout == layoutValues {
			q.write("DELETE FROM ", q.q(ref.joinTable), " WHERE ", q.q(col), " = ", q.arg(key))
		} else {
			// foreign_key / local_column: the "join row" is a row of
			// the target's (owner's) table; only its key is cleared.
			q.write("UPDATE ", q.q(ref.joinTable), " SET ", q.q(ref.fkColumn()), " = NULL WHERE ", q.q(col), " = ", q.arg(key),
				" AND ", q.q(ref.fkColumn()), " IS NOT NULL")
		}
		if _, err := tx.ExecContext(ctx, q.String(), q.args...); err != nil {
			return err
		}
	}
	return nil
}

// deleteRow deletes (or marks, with soft delete) the live row of r with
// key; none is ErrNotFound for id.
func (b *Backend) deleteRow(ctx context.Context, tx *dbsql.Tx, r *resource, key any, id string) error {
	q := newBuilder(b.d)
	if sd := r.softDel; sd != nil {
		var mark any
		if sd.value != nil {
			mark = *sd.value
		} else {
			mark = b.stamp(sd.col, time.Now())
		}
		q.write("UPDATE ", q.q(r.table), " SET ", q.q(sd.col.name), " = ", q.arg(mark))
		if r.updated != nil && r.updated != sd.col {
			q.write(", ", q.q(r.updated.name), " = ", q.arg(b.stamp(r.updated, time.Now())))
		}
		q.write(" WHERE ", q.q(r.idCol), " = ", q.arg(key))
		b.andLive(q, r, "")
	} else {
		q.write("DELETE FROM ", q.q(r.table), " WHERE ", q.q(r.idCol), " = ", q.arg(key))
	}
	res, err := tx.ExecContext(ctx, q.String(), q.args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return notFound(r.name, id)
	}
	return nil
}

// format renders a value read from the database; false means NULL.
func format(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", false
	case string:
		return v, true
	case []byte:
		return string(v), true
	case int64:
		return strconv.FormatInt(v, 10), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(v), true
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano), true
	}
	return fmt.Sprint(v), true
}

// dedupe drops empty and repeated values, keeping order.
func dedupe(vals []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range vals {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func checkText(resourceType, attr, v string) error {
	if p := textProblem(v); p != "" {
		return refused(attr, "", "must "+p, invalidf("%s.%s: values must %s", resourceType, attr, p))
	}
	return nil
}

// textProblem says what keeps v from being stored or compared as text:
// the databases stop at NUL or refuse it, and compare characters, not
// bytes (SQLite counts a lone UTF-8 lead byte as one character). "" when
// nothing does.
func textProblem(v string) string {
	switch {
	case strings.IndexByte(v, 0) >= 0:
		return "not contain NUL"
	case !utf8.ValidString(v):
		return "be valid UTF-8"
	}
	return ""
}

// Errors.

// dbError carries a sentinel and a client-safe message, and keeps the
// driver's error for the logs (errors.Is / As see both).
type dbError struct {
	sentinel error
	msg      string
	cause    error
}

func (e *dbError) Error() string   { return e.msg }
func (e *dbError) Unwrap() []error { return []error{e.sentinel, e.cause} }

func invalidf(format string, args ...any) error {
	return fmt.Errorf("sql: "+format+": %w", append(args, backends.ErrInvalid)...)
}

func notFound(resourceType, id string) error {
	return fmt.Errorf("sql: %s %q: %w", resourceType, id, backends.ErrNotFound)
}

// wrap turns a driver error into one that wraps a sentinel where one fits:
// a refusal of values becomes a backends.AttrError naming the attribute of
// r (nil when the operation is not about one resource type) the database
// named, a procedure's message a backends.AdminMessage. Errors that already
// carry a sentinel pass through.
func (b *Backend) wrap(ctx context.Context, r *resource, op string, err error) error {
	for _, s := range []error{backends.ErrNotFound, backends.ErrAlreadyExists, backends.ErrInvalid,
		backends.ErrInvalidReference, backends.ErrUnsupported, backends.ErrUnavailable, backends.ErrPermission, backends.ErrConfig,
		backends.ErrPrecondition} {
		if errors.Is(err, s) {
			return err
		}
	}
	if s, f := b.d.classify(err); s != nil {
		msg := fmt.Sprintf("sql: %s: %s", op, s)
		if s == backends.ErrUnavailable || s == backends.ErrPermission {
			b.log.Warn("database unavailable or refused access", "op", op, "error", err)
			return &dbError{sentinel: s, msg: msg, cause: err}
		}
		b.log.Debug("database refused the operation", "op", op, "error", err)
		if f.msg != "" {
			msg += ": " + f.msg // constraint names and messages, no addresses; for the log
		}
		dbErr := &dbError{sentinel: s, msg: msg, cause: err}
		if f.admin != "" {
			return &backends.AdminMessage{Kind: s, Msg: f.admin, Err: dbErr}
		}
		return &backends.AttrError{Kind: s, Attr: b.refusedAttr(ctx, r, f), Reason: f.reason, Err: dbErr}
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, dbsql.ErrConnDone) || isConnError(err) ||
		(errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil) {
		b.log.Warn("database unavailable", "op", op, "error", err)
		return &dbError{sentinel: backends.ErrUnavailable, msg: fmt.Sprintf("sql: %s: %s", op, backends.ErrUnavailable), cause: err}
	}
	return fmt.Errorf("sql: %s: %w", op, err)
}
