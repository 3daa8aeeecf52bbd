package sql

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"

	"github.com/scimbridge/scimbridge/backends"
)

// Config is the body of a `backend "sql" "<name>" { ... }` block. Decode it
// with DecodeConfig; a Config built in Go is validated again by New.
type Config struct {
	// Driver names the database: "sqlite", "postgres" (also "postgresql",
	// "pgx") or "mysql" (also "mariadb"). Required.
	Driver string `hcl:"driver"`
	// DSN is the data source name. Required.
	//   - sqlite: a file path or a file: URI; the backend adds
	//     foreign_keys=on, journal_mode=WAL, a 5s busy_timeout and
	//     immediate write transactions unless the DSN sets them.
	//   - postgres: a URL (postgres://user:pass@host:5432/db?sslmode=...)
	//     or key=value settings; the backend adds connect_timeout,
	//     timezone=UTC and application_name unless set. Tables are looked
	//     up in current_schema() (set search_path in the DSN for another).
	//   - mysql: a URL (mysql://user:pass@host:3306/db) or the driver's
	//     form (user:pass@tcp(host:3306)/db); the backend sets parseTime,
	//     UTC, utf8mb4, strict mode and the connect timeout unless set.
	DSN string `hcl:"dsn"`
	// BootstrapSQL runs once at start, in one transaction, before the
	// tables are inspected (CREATE TABLE IF NOT EXISTS ...). MySQL commits
	// DDL statements implicitly, so there it is not all or nothing.
	// Default: none.
	BootstrapSQL string `hcl:"bootstrap_sql,optional"`
	// MaxOpenConns caps the connection pool. Default: 8.
	MaxOpenConns *int `hcl:"max_open_conns,optional"`
	// MaxIdleConns caps the idle connections kept. Default: 4 (at most MaxOpenConns).
	MaxIdleConns *int `hcl:"max_idle_conns,optional"`
	// ConnMaxLifetime closes connections older than this; "0s" keeps them. Default: "5m".
	ConnMaxLifetime string `hcl:"conn_max_lifetime,optional"`
	// ConnMaxIdleTime closes connections idle for longer; "0s" keeps them. Default: "1m".
	ConnMaxIdleTime string `hcl:"conn_max_idle_time,optional"`
	// ConnectTimeout bounds establishing one connection (postgres, mysql).
	// Default: "5s".
	ConnectTimeout string `hcl:"connect_timeout,optional"`
	// QueryTimeout bounds every backend operation (all its statements);
	// "0s" disables it. Default: "10s".
	QueryTimeout string `hcl:"query_timeout,optional"`
	// CursorCacheSize is how many paging cursors (and totals) are kept so
	// that sequential pages continue where the last one stopped. Default: 128.
	CursorCacheSize *int `hcl:"cursor_cache_size,optional"`
	// CursorTTL is how long an unused paging cursor is kept. Default: "2m".
	CursorTTL string `hcl:"cursor_ttl,optional"`
	// TotalTTL is how long a cached Total is trusted when the rows may have
	// been changed by someone else (writes through this backend invalidate
	// it at once). Default: "10s".
	TotalTTL string `hcl:"total_ttl,optional"`
	// TimeZone is the IANA zone ("Europe/Berlin") of columns that hold
	// times without a zone: PostgreSQL timestamp without time zone,
	// MySQL/MariaDB DATETIME, SQLite text without an offset in a column
	// declared as a date or time (or the created / modified column). They
	// are read as instants in it and written as its wall-clock time, and
	// filters compare in it. Columns with a zone are not affected.
	// Default: "UTC".
	TimeZone string `hcl:"time_zone,optional"`
	// Resources maps resource types ("User", "Group") to tables. At least one.
	Resources []*ResourceConfig `hcl:"resource,block"`
	// Lookups are tables of key/value pairs the mapping reads through its
	// lookup functions (see lookup.go). Default: none.
	Lookups []*LookupConfig `hcl:"lookup,block"`

	// Source ranges, filled by DecodeConfig for diagnostics.
	DriverRange          hcl.Range `hcl:"driver,attr_range"`
	DSNRange             hcl.Range `hcl:"dsn,attr_range"`
	MaxOpenConnsRange    hcl.Range `hcl:"max_open_conns,attr_range"`
	MaxIdleConnsRange    hcl.Range `hcl:"max_idle_conns,attr_range"`
	ConnMaxLifetimeRange hcl.Range `hcl:"conn_max_lifetime,attr_range"`
	ConnMaxIdleTimeRange hcl.Range `hcl:"conn_max_idle_time,attr_range"`
	ConnectTimeoutRange  hcl.Range `hcl:"connect_timeout,attr_range"`
	QueryTimeoutRange    hcl.Range `hcl:"query_timeout,attr_range"`
	CursorCacheSizeRange hcl.Range `hcl:"cursor_cache_size,attr_range"`
	CursorTTLRange       hcl.Range `hcl:"cursor_ttl,attr_range"`
	TotalTTLRange        hcl.Range `hcl:"total_ttl,attr_range"`
	TimeZoneRange        hcl.Range `hcl:"time_zone,attr_range"`
}

// ResourceConfig is one `resource "<type>" { ... }` block: a table whose
// rows are the records of one resource type.
type ResourceConfig struct {
	// Type is the resource type, the block label: "User", "Group".
	Type string `hcl:"type,label"`
	// Table holds one row per record. Required.
	Table string `hcl:"table"`
	// IDColumn is the table's key; its value, as a string, is the record
	// id. An integer, UUID or text column. Required.
	IDColumn string `hcl:"id_column"`
	// IDGeneration says who makes new ids: "database" (autoincrement,
	// identity or a column default such as gen_random_uuid(), read back
	// with RETURNING; on MySQL, which has no RETURNING, the column must be
	// AUTO_INCREMENT) or "uuid" (the backend writes a random UUID; the
	// column must be text or uuid). Default: "database".
	IDGeneration string `hcl:"id_generation,optional"`
	// Columns lists the columns exposed as attributes (an allow-list).
	// Default: every column of the table except IDColumn, read from the
	// database at start.
	Columns []string `hcl:"columns,optional"`
	// CreatedColumn, if set, receives an RFC 3339 UTC timestamp when a row
	// is created; it is read-only for clients. Default: none.
	CreatedColumn string `hcl:"created_column,optional"`
	// ModifiedColumn, if set, receives an RFC 3339 UTC timestamp on create
	// and on every modify; read-only for clients. Default: none.
	ModifiedColumn string `hcl:"modified_column,optional"`
	// VersionColumn, if set, is an integer column incremented by every
	// modify (set to 1 on create unless it has a default); read-only for
	// clients. Default: none.
	VersionColumn string `hcl:"version_column,optional"`
	// SoftDelete, if set, makes Delete mark the row instead of removing it;
	// marked rows are invisible to every read. Default: rows are deleted.
	SoftDelete *SoftDeleteConfig `hcl:"soft_delete,block"`
	// References are virtual multi-valued attributes backed by join tables.
	References []*ReferenceConfig `hcl:"reference,block"`
	// MultiValues are virtual multi-valued attributes of plain values
	// (e-mail addresses, phone numbers, roles) kept in child tables.
	MultiValues []*MultiValueConfig `hcl:"multi_value,block"`
	// Create, if set, is the statement that creates a record instead of
	// the backend's INSERT: `create { sql = "CALL app_user_add(:login,
	// :first_name)" returns_id = true }`. Its parameters are the record's
	// column values (NULL for attributes not given); with id_generation =
	// "uuid" also :id, the id the backend made. A value given for a column
	// that is not a parameter is refused (ErrConfig: the mapping writes
	// it). The new record's id is the first column of the first row the
	// statement returns (returns_id), or is looked up by a column after it
	// ran (find_by), or is the :id passed in (id_generation = "uuid"). See
	// StatementConfig.
	// Default: the backend's INSERT.
	Create *StatementConfig `hcl:"create,block"`
	// Update, if set, is the statement that changes a record's columns
	// instead of the backend's UPDATE. It is called once per Modify that
	// changes columns, with the whole row after the change: :id and every
	// column it names (the current value for the columns not changed;
	// NULL for empty ones; modified_column the current time and
	// version_column the current value plus one). Changing a column it
	// does not name is refused (ErrConfig). Reference and multi_value
	// changes do not call it, and with an update statement the backend
	// writes nothing to the row itself (so a membership change leaves
	// modified_column and version_column alone). Default: the backend's
	// UPDATE.
	Update *StatementConfig `hcl:"update,block"`
	// Delete, if set, is the statement that deletes (or marks) a record
	// instead of the backend's DELETE or soft-delete UPDATE: parameters :id
	// and the record's current column values. It must also remove the
	// references that write through statements (its own and those naming
	// the record); references without statements are removed by the
	// backend first, as without a delete statement. A record still live
	// afterwards is an error (configure soft_delete to match what the
	// statement does). Default: the backend's DELETE.
	Delete *StatementConfig `hcl:"delete,block"`

	DefRange            hcl.Range `hcl:",def_range"`
	TypeRange           hcl.Range `hcl:"type,label_range"`
	TableRange          hcl.Range `hcl:"table,attr_range"`
	IDColumnRange       hcl.Range `hcl:"id_column,attr_range"`
	IDGenerationRange   hcl.Range `hcl:"id_generation,attr_range"`
	ColumnsRange        hcl.Range `hcl:"columns,attr_range"`
	CreatedColumnRange  hcl.Range `hcl:"created_column,attr_range"`
	ModifiedColumnRange hcl.Range `hcl:"modified_column,attr_range"`
	VersionColumnRange  hcl.Range `hcl:"version_column,attr_range"`
}

// SoftDeleteConfig is a `soft_delete { ... }` block. Without deleted_value,
// column is a timestamp (or text) column that is NULL on live rows and set
// to the time of deletion; with it, column is e.g. a status code and rows
// holding deleted_value are deleted. Join rows naming a soft-deleted
// record are removed. Whether the same userName can be created again
// depends on the schema: a unique index restricted to live rows (a
// PostgreSQL partial index) allows it, a plain UNIQUE makes it a conflict.
type SoftDeleteConfig struct {
	// Column marks deleted rows. Required.
	Column string `hcl:"column"`
	// DeletedValue is the value that marks a deleted row. Default: none
	// (timestamp mode).
	DeletedValue *string `hcl:"deleted_value,optional"`

	ColumnRange       hcl.Range `hcl:"column,attr_range"`
	DeletedValueRange hcl.Range `hcl:"deleted_value,attr_range"`
}

// ReferenceConfig is one `reference "<attribute>" { ... }` block: an
// attribute holding the ids of records of Target. Exactly one layout:
//
//   - join_table (with this_column and other_column): one row of JoinTable
//     per reference, ThisColumn = this record's key, OtherColumn = the
//     target's key. Membership changes insert or delete only the changed
//     rows.
//   - foreign_key: the referenced records are the rows of Target's table
//     whose column ForeignKey holds this record's key (each target belongs
//     to at most one owner, e.g. a user's department). Adding sets that
//     column on the target rows (a target held by another owner moves),
//     deleting sets it to NULL; the column must be nullable.
//   - local_column: the reverse of foreign_key, read from this record's
//     own column LocalColumn (at most one id); it must be read_only.
//   - column (with separator): the ids are kept in one text column of this
//     record's row, joined by Separator; changes rewrite that column.
type ReferenceConfig struct {
	// Name is the attribute name, the block label: "members", "groups".
	Name string `hcl:"name,label"`
	// JoinTable holds one row per reference.
	JoinTable string `hcl:"join_table,optional"`
	// ThisColumn holds this record's key (join_table layout).
	ThisColumn string `hcl:"this_column,optional"`
	// OtherColumn holds the referenced record's key (join_table layout).
	OtherColumn string `hcl:"other_column,optional"`
	// ForeignKey is the column of Target's table holding this record's key.
	ForeignKey string `hcl:"foreign_key,optional"`
	// LocalColumn is the column of this record's table holding the key of
	// the one referenced record.
	LocalColumn string `hcl:"local_column,optional"`
	// Column is the text column of this record's table holding the ids,
	// joined by Separator.
	Column string `hcl:"column,optional"`
	// Separator joins the ids in Column (required with column): one or
	// more characters, none of them a letter, digit, '-' or NUL.
	Separator string `hcl:"separator,optional"`
	// Target is the resource type referenced ("User"). Required.
	Target string `hcl:"target"`
	// ReadOnly refuses writes through this attribute (use it for the
	// reverse side, e.g. a user's "groups"). Default: false.
	ReadOnly bool `hcl:"read_only,optional"`
	// Add and Remove, if set (both or neither; join_table and foreign_key
	// layouts only), are the statements that add or remove one reference
	// instead of the backend's writes: `add { sql = "CALL grp_add(:id,
	// :target_id)" }`, with :id this record's id and :target_id the
	// referenced record's id. They are called once per added or removed
	// id, only for ids that are not (or are) there already, after
	// checking that added ids exist; reading still uses the layout.
	// Deleting a record calls Remove for each reference it holds or that
	// names it, unless its resource has a delete statement, which must
	// then remove them. Default: the backend's INSERT / DELETE / UPDATE of
	// the layout.
	Add    *StatementConfig `hcl:"add,block"`
	Remove *StatementConfig `hcl:"remove,block"`

	DefRange         hcl.Range `hcl:",def_range"`
	NameRange        hcl.Range `hcl:"name,label_range"`
	JoinTableRange   hcl.Range `hcl:"join_table,attr_range"`
	ThisColumnRange  hcl.Range `hcl:"this_column,attr_range"`
	OtherColumnRange hcl.Range `hcl:"other_column,attr_range"`
	ForeignKeyRange  hcl.Range `hcl:"foreign_key,attr_range"`
	LocalColumnRange hcl.Range `hcl:"local_column,attr_range"`
	ColumnRange      hcl.Range `hcl:"column,attr_range"`
	SeparatorRange   hcl.Range `hcl:"separator,attr_range"`
	TargetRange      hcl.Range `hcl:"target,attr_range"`
	ReadOnlyRange    hcl.Range `hcl:"read_only,attr_range"`
}

// MultiValueConfig is one `multi_value "<attribute>" { ... }` block: an
// attribute holding plain values, one row of Table per value, ThisColumn =
// this record's key, ValueColumn = the value. Changes insert or delete only
// the changed rows; deleting the record deletes its rows (all of them, also
// those of other where values). Values are read in the order of the value
// (the lookup's value with lookup), so a SCIM element mapped to the
// attribute (`phoneNumbers[type eq "work"].value`) reads the first one in
// that order; writing that element replaces all of the attribute's rows,
// so a second row (a second work phone) goes when the element is written.
type MultiValueConfig struct {
	// Name is the attribute name, the block label: "mail", "phone".
	Name string `hcl:"name,label"`
	// Table is the child table. Required.
	Table string `hcl:"table"`
	// ThisColumn holds this record's key. Required.
	ThisColumn string `hcl:"this_column"`
	// ValueColumn holds one value, or with Lookup the key of the lookup
	// row whose name is the value. Required.
	ValueColumn string `hcl:"value_column"`
	// Where selects the rows of Table that belong to this attribute by
	// fixed column values, a map of column to literal: `where = { kind =
	// "W" }`. Reads, filters, deletes and replaces see only the rows that
	// hold all of them, and inserts write them, so that several
	// multi_values share one table (phone_work with kind W, phone_mobile
	// with kind M). A where column must be a column of Table other than
	// ThisColumn and ValueColumn. Default: every row of the record.
	Where map[string]string `hcl:"where,optional"`
	// Lookup, if set, makes ValueColumn a key of a lookup table whose
	// rows name the values: roles through person_roles(person, role_id)
	// joined to roles(role_id, role_name). See ValueLookupConfig. Default:
	// ValueColumn holds the values.
	Lookup *ValueLookupConfig `hcl:"lookup,block"`
	// Add and Remove, if set (both or neither), are the statements that
	// add or remove one value instead of the backend's INSERT / DELETE of
	// child rows, with parameters :id (this record's id) and :value. They
	// are called once per value added or removed, only for values that are
	// not (or are) there already; with where, "there" means among the rows
	// the where values select, and the statements must write those values
	// themselves. Not with lookup. Default: the backend's writes.
	Add    *StatementConfig `hcl:"add,block"`
	Remove *StatementConfig `hcl:"remove,block"`

	DefRange         hcl.Range `hcl:",def_range"`
	NameRange        hcl.Range `hcl:"name,label_range"`
	TableRange       hcl.Range `hcl:"table,attr_range"`
	ThisColumnRange  hcl.Range `hcl:"this_column,attr_range"`
	ValueColumnRange hcl.Range `hcl:"value_column,attr_range"`
	WhereRange       hcl.Range `hcl:"where,attr_range"`
}

// ValueLookupConfig is the `lookup { ... }` block of a multi_value: the child
// rows hold keys of Table, and the values are the names in its
// ValueColumn. Reads join the lookup table (a key without a lookup row is
// not read). Writes translate the names to keys with one query per batch
// of values: a name matches a row whose value equals it, or, when none
// does, the one row whose value equals it ignoring case (so "admin" finds
// "Admin"; a name that matches several rows only that way is refused). A
// name that no row has is refused with ErrInvalid naming the value, and
// nothing is written; the lookup table is never written. Removing a name
// that no row has removes nothing. Filters compare the names, in the
// database, through the join.
type ValueLookupConfig struct {
	// Table is the lookup table. Required.
	Table string `hcl:"table"`
	// KeyColumn is the column of Table that ValueColumn of the child table
	// holds; it should be unique. Required.
	KeyColumn string `hcl:"key_column"`
	// ValueColumn is the column of Table holding the names, a text column;
	// it should be unique. Required.
	ValueColumn string `hcl:"value_column"`

	DefRange         hcl.Range `hcl:",def_range"`
	TableRange       hcl.Range `hcl:"table,attr_range"`
	KeyColumnRange   hcl.Range `hcl:"key_column,attr_range"`
	ValueColumnRange hcl.Range `hcl:"value_column,attr_range"`
}

// StatementConfig is a create, update or delete block of a resource, or an
// add or remove block of a reference or multi_value: a write done by a
// statement of the configuration (typically a stored-procedure call)
// instead of the backend's own SQL, for schemas whose application writes
// only through procedures (which also write audit rows and the like).
//
// SQL is one statement: `CALL proc(:login, :first_name)`, `SELECT
// fn(:id)` or a plain INSERT / UPDATE / DELETE. Parameters are written
// :name, where name is a column of the resource (matched
// case-insensitively) or one of the names the block offers (:id,
// :target_id, :value); "::" (a PostgreSQL cast) and ":=" are not
// parameters, and nothing inside string literals, quoted identifiers or
// comments is. Each parameter becomes a placeholder of the database ($1
// on PostgreSQL, ? elsewhere) when the configuration is loaded, and every
// value is bound, never written into the SQL text. An unknown name, a
// placeholder of the database's own (?, $1), an unterminated literal or a
// second statement is a configuration error with its file:line.
//
// The statement runs in the transaction of the SCIM write it is part of,
// together with everything else that write does: if it fails, nothing is
// written, and its error is mapped as the backend's own statements' are
// (unique violation: ErrAlreadyExists; constraint, RAISE EXCEPTION or
// SIGNAL: ErrInvalid with the database's message; connection:
// ErrUnavailable). It must not COMMIT or ROLLBACK itself.
//
// When every write of a table goes through statements, the database
// account needs only to read the tables and to run the statements (e.g.
// SECURITY DEFINER procedures): the backend then does not write them.
// In a Modify of a resource with an update statement, and in a Delete
// that runs statements, the backend first locks the record's row with
// SELECT ... FOR UPDATE. On PostgreSQL that needs the UPDATE privilege;
// where the account lacks it, the backend takes a transaction-level
// advisory lock on the record instead, which serialises the bridge's own
// writers but not the application's (a change the application makes
// between the bridge's read and its update statement is then
// overwritten by the row the statement gets).
type StatementConfig struct {
	// SQL is the statement. Required.
	SQL string `hcl:"sql"`
	// ReturnsID (create only): the statement returns a row whose first
	// column is the new record's id (SELECT fn(...), a procedure's INOUT
	// parameter on PostgreSQL, a procedure's result set on MySQL /
	// MariaDB, INSERT ... RETURNING). Default: false.
	ReturnsID bool `hcl:"returns_id,optional"`
	// FindBy (create only) is a unique column, also a parameter of the
	// statement, by which the new row is looked up after the statement
	// ran, when the statement returns nothing. Default: none.
	FindBy string `hcl:"find_by,optional"`

	DefRange       hcl.Range `hcl:",def_range"`
	SQLRange       hcl.Range `hcl:"sql,attr_range"`
	ReturnsIDRange hcl.Range `hcl:"returns_id,attr_range"`
	FindByRange    hcl.Range `hcl:"find_by,attr_range"`
}

// Defaults applied by New for unset settings.
const (
	defaultMaxOpenConns    = 8
	defaultMaxIdleConns    = 4
	defaultConnMaxLifetime = 5 * time.Minute
	defaultConnMaxIdleTime = time.Minute
	defaultConnectTimeout  = 5 * time.Second
	defaultQueryTimeout    = 10 * time.Second
	defaultCursorCacheSize = 128
	defaultCursorTTL       = 2 * time.Minute
	defaultTotalTTL        = 10 * time.Second
)

// identRE is the only shape an identifier from the configuration may
// have; it is what makes quoting them into SQL safe.
var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// DecodeConfig decodes and validates the body of a backend "sql" block. It
// collects every problem, each with its source range.
func DecodeConfig(body hcl.Body, ectx *hcl.EvalContext) (*Config, hcl.Diagnostics) {
	cfg := &Config{}
	diags := gohcl.DecodeBody(body, ectx, cfg)
	diags = append(diags, cfg.validate()...)
	return cfg, diags
}

// settings are the parsed, defaulted values of a Config.
type settings struct {
	maxOpen, maxIdle, cursorCacheSize             int
	connMaxLifetime, queryTimeout, cursorTTL, ttl time.Duration
	connMaxIdleTime, connectTimeout               time.Duration
}

func (c *Config) settings() settings {
	s := settings{
		maxOpen:         deref(c.MaxOpenConns, defaultMaxOpenConns),
		cursorCacheSize: deref(c.CursorCacheSize, defaultCursorCacheSize),
		connMaxLifetime: duration(c.ConnMaxLifetime, defaultConnMaxLifetime),
		connMaxIdleTime: duration(c.ConnMaxIdleTime, defaultConnMaxIdleTime),
		connectTimeout:  duration(c.ConnectTimeout, defaultConnectTimeout),
		queryTimeout:    duration(c.QueryTimeout, defaultQueryTimeout),
		cursorTTL:       duration(c.CursorTTL, defaultCursorTTL),
		ttl:             duration(c.TotalTTL, defaultTotalTTL),
	}
	s.maxIdle = deref(c.MaxIdleConns, min(defaultMaxIdleConns, s.maxOpen))
	return s
}

func deref(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

func duration(s string, def time.Duration) time.Duration {
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return def
	}
	return d
}

// validate checks everything that can be checked without a database.
// Missing required attributes are left to gohcl, which reports them.
func (c *Config) validate() hcl.Diagnostics {
	var diags hcl.Diagnostics
	add := func(rng hcl.Range, summary, detail string) {
		diags = append(diags, backends.ConfigDiag(rng, summary, detail))
	}
	if c.Driver != "" {
		if _, ok := lookupDialect(c.Driver); !ok {
			add(c.DriverRange, "Unsupported SQL driver",
				fmt.Sprintf("driver %q is not supported; use one of: %s.", c.Driver, strings.Join(dialectNames(), ", ")))
		}
	}
	for _, n := range []struct {
		name string
		v    *int
		rng  hcl.Range
	}{
		{"max_open_conns", c.MaxOpenConns, c.MaxOpenConnsRange},
		{"max_idle_conns", c.MaxIdleConns, c.MaxIdleConnsRange},
		{"cursor_cache_size", c.CursorCacheSize, c.CursorCacheSizeRange},
	} {
		if n.v != nil && *n.v < 0 {
			add(n.rng, "Invalid "+n.name, fmt.Sprintf("%s must not be negative, got %d.", n.name, *n.v))
		}
	}
	diags = append(diags, c.validateLookups()...)
	diags = append(diags, c.validateTimeZone()...)
	if c.MaxOpenConns != nil && *c.MaxOpenConns == 0 {
		add(c.MaxOpenConnsRange, "Invalid max_open_conns", "max_open_conns must be at least 1.")
	}
	for _, d := range []struct {
		name, v string
		rng     hcl.Range
	}{
		{"conn_max_lifetime", c.ConnMaxLifetime, c.ConnMaxLifetimeRange},
		{"conn_max_idle_time", c.ConnMaxIdleTime, c.ConnMaxIdleTimeRange},
		{"connect_timeout", c.ConnectTimeout, c.ConnectTimeoutRange},
		{"query_timeout", c.QueryTimeout, c.QueryTimeoutRange},
		{"cursor_ttl", c.CursorTTL, c.CursorTTLRange},
		{"total_ttl", c.TotalTTL, c.TotalTTLRange},
	} {
		if d.v == "" {
			continue
		}
		if v, err := time.ParseDuration(d.v); err != nil || v < 0 {
			add(d.rng, "Invalid "+d.name, fmt.Sprintf("%s = %q is not a duration such as \"10s\" or \"5m\".", d.name, d.v))
		}
	}
	ident := func(rng hcl.Range, what, v string) {
		if v != "" && !identRE.MatchString(v) {
			add(rng, "Invalid SQL identifier",
				fmt.Sprintf("%s %q must match %s (letters, digits, underscore; no quotes, dots or spaces).", what, v, identRE))
		}
	}
	types := map[string]*ResourceConfig{}
	for _, r := range c.Resources {
		if prev, ok := types[r.Type]; ok {
			add(r.TypeRange, "Duplicate resource", fmt.Sprintf("resource %q is already defined at %s.", r.Type, prev.DefRange))
		}
		types[r.Type] = r
	}
	if len(c.Resources) == 0 && c.Driver != "" {
		add(hcl.Range{}, "No resources", `the sql backend needs at least one resource block, e.g. resource "User" { ... }.`)
	}
	for _, r := range c.Resources {
		if r.Type == "" {
			add(r.TypeRange, "Invalid resource type", "the resource type label must not be empty.")
		}
		ident(r.TableRange, "table", r.Table)
		ident(r.IDColumnRange, "id_column", r.IDColumn)
		ident(r.CreatedColumnRange, "created_column", r.CreatedColumn)
		ident(r.ModifiedColumnRange, "modified_column", r.ModifiedColumn)
		ident(r.VersionColumnRange, "version_column", r.VersionColumn)
		if sd := r.SoftDelete; sd != nil {
			ident(sd.ColumnRange, "soft_delete column", sd.Column)
			if strings.EqualFold(sd.Column, r.IDColumn) && sd.Column != "" {
				add(sd.ColumnRange, "Invalid soft_delete column", "the soft_delete column cannot be the id_column.")
			}
			if sd.DeletedValue != nil && *sd.DeletedValue == "" {
				add(sd.DeletedValueRange, "Invalid deleted_value", "deleted_value must not be empty; omit it to mark deletions with a timestamp.")
			}
		}
		switch r.IDGeneration {
		case "", idGenDatabase, idGenUUID:
		default:
			add(r.IDGenerationRange, "Invalid id_generation",
				fmt.Sprintf("id_generation = %q; use %q or %q.", r.IDGeneration, idGenDatabase, idGenUUID))
		}
		seen := map[string]bool{}
		for _, col := range r.Columns {
			ident(r.ColumnsRange, "column", col)
			if seen[strings.ToLower(col)] {
				add(r.ColumnsRange, "Duplicate column", fmt.Sprintf("column %q is listed twice.", col))
			}
			seen[strings.ToLower(col)] = true
			if strings.EqualFold(col, r.IDColumn) {
				add(r.ColumnsRange, "Invalid column", fmt.Sprintf("column %q is the id_column; the id is the record id, not an attribute.", col))
			}
		}
		refs := map[string]bool{}
		for _, ref := range r.References {
			if !identRE.MatchString(ref.Name) {
				add(ref.NameRange, "Invalid reference name",
					fmt.Sprintf("reference %q must match %s.", ref.Name, identRE))
			}
			if refs[strings.ToLower(ref.Name)] {
				add(ref.NameRange, "Duplicate reference", fmt.Sprintf("reference %q is defined twice in resource %q.", ref.Name, r.Type))
			}
			refs[strings.ToLower(ref.Name)] = true
			if seen[strings.ToLower(ref.Name)] {
				add(ref.NameRange, "Reference shadows a column", fmt.Sprintf("reference %q has the name of a listed column.", ref.Name))
			}
			ident(ref.JoinTableRange, "join_table", ref.JoinTable)
			ident(ref.ThisColumnRange, "this_column", ref.ThisColumn)
			ident(ref.OtherColumnRange, "other_column", ref.OtherColumn)
			ident(ref.ForeignKeyRange, "foreign_key", ref.ForeignKey)
			ident(ref.LocalColumnRange, "local_column", ref.LocalColumn)
			ident(ref.ColumnRange, "column", ref.Column)
			diags = append(diags, ref.validateLayout(r)...)
			if ref.Target != "" {
				if _, ok := types[ref.Target]; !ok {
					add(ref.TargetRange, "Unknown reference target",
						fmt.Sprintf("target %q is not a resource of this backend; defined: %s.", ref.Target, strings.Join(resourceNames(c.Resources), ", ")))
				}
			}
		}
		mvs := map[string]bool{}
		for _, mv := range r.MultiValues {
			lname := strings.ToLower(mv.Name)
			switch {
			case !identRE.MatchString(mv.Name):
				add(mv.NameRange, "Invalid multi_value name", fmt.Sprintf("multi_value %q must match %s.", mv.Name, identRE))
			case mvs[lname]:
				add(mv.NameRange, "Duplicate multi_value", fmt.Sprintf("multi_value %q is defined twice in resource %q.", mv.Name, r.Type))
			case refs[lname]:
				add(mv.NameRange, "multi_value shadows a reference", fmt.Sprintf("multi_value %q has the name of a reference of resource %q.", mv.Name, r.Type))
			case seen[lname]:
				add(mv.NameRange, "multi_value shadows a column", fmt.Sprintf("multi_value %q has the name of a listed column.", mv.Name))
			}
			mvs[lname] = true
			ident(mv.TableRange, "multi_value table", mv.Table)
			ident(mv.ThisColumnRange, "this_column", mv.ThisColumn)
			ident(mv.ValueColumnRange, "value_column", mv.ValueColumn)
			if mv.ThisColumn != "" && strings.EqualFold(mv.ThisColumn, mv.ValueColumn) {
				add(mv.ValueColumnRange, "Invalid multi_value", "this_column and value_column must differ.")
			}
			diags = append(diags, mv.validateChild()...)
		}
		diags = append(diags, c.validateStatements(r)...)
	}
	return diags
}

const (
	idGenDatabase = "database"
	idGenUUID     = "uuid"
)

func resourceNames(rs []*ResourceConfig) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, fmt.Sprintf("%q", r.Type))
	}
	return out
}

// Reference layouts.
const (
	layoutJoin  = "join_table"
	layoutFK    = "foreign_key"
	layoutLocal = "local_column"
	layoutDelim = "column"
	// layoutValues is a multi_value block: plain values in a child table.
	layoutValues = "multi_value"
)

// layout is the layout the block names ("" when it names none or several).
func (ref *ReferenceConfig) layout() string {
	var named []string
	for _, l := range []struct{ name, v string }{
		{layoutJoin, ref.JoinTable}, {layoutFK, ref.ForeignKey}, {layoutLocal, ref.LocalColumn}, {layoutDelim, ref.Column},
	} {
		if l.v != "" {
			named = append(named, l.name)
		}
	}
	if len(named) != 1 {
		return ""
	}
	return named[0]
}

// validateLayout checks that ref names exactly one layout and only the
// settings that layout uses.
func (ref *ReferenceConfig) validateLayout(r *ResourceConfig) hcl.Diagnostics {
	var diags hcl.Diagnostics
	add := func(rng hcl.Range, summary, detail string) {
		diags = append(diags, backends.ConfigDiag(rng, summary, detail))
	}
	l := ref.layout()
	if l == "" {
		add(ref.DefRange, "Invalid reference layout",
			fmt.Sprintf("reference %q must set exactly one of join_table (with this_column and other_column), foreign_key, local_column or column (with separator).", ref.Name))
		return diags
	}
	if l == layoutJoin {
		if ref.ThisColumn == "" {
			add(ref.DefRange, "Missing this_column", fmt.Sprintf("reference %q: join_table needs this_column.", ref.Name))
		}
		if ref.OtherColumn == "" {
			add(ref.DefRange, "Missing other_column", fmt.Sprintf("reference %q: join_table needs other_column.", ref.Name))
		}
		if ref.ThisColumn != "" && strings.EqualFold(ref.ThisColumn, ref.OtherColumn) {
			add(ref.OtherColumnRange, "Invalid reference", "this_column and other_column must differ.")
		}
	} else {
		if ref.ThisColumn != "" {
			add(ref.ThisColumnRange, "Invalid reference", fmt.Sprintf("this_column only goes with join_table, not with %s.", l))
		}
		if ref.OtherColumn != "" {
			add(ref.OtherColumnRange, "Invalid reference", fmt.Sprintf("other_column only goes with join_table, not with %s.", l))
		}
	}
	if l == layoutDelim {
		switch {
		case ref.Separator == "":
			add(ref.DefRange, "Missing separator", fmt.Sprintf("reference %q: column needs a separator, e.g. separator = \",\".", ref.Name))
		case strings.ContainsFunc(ref.Separator, func(c rune) bool {
			return c == 0 || c == '-' || c == utf8.RuneError || unicode.IsLetter(c) || unicode.IsDigit(c)
		}):
			add(ref.SeparatorRange, "Invalid separator", fmt.Sprintf("separator %q must not contain letters, digits, '-' or NUL: ids contain those.", ref.Separator))
		}
	} else if ref.Separator != "" {
		add(ref.SeparatorRange, "Invalid reference", fmt.Sprintf("separator only goes with column, not with %s.", l))
	}
	if l == layoutLocal && !ref.ReadOnly {
		add(ref.LocalColumnRange, "Reference must be read_only",
			fmt.Sprintf("reference %q: a local_column reference is the reverse of a foreign_key one; set read_only = true and change it through the owner's reference.", ref.Name))
	}
	for _, c := range []struct {
		what, v string
		rng     hcl.Range
	}{{layoutLocal, ref.LocalColumn, ref.LocalColumnRange}, {layoutDelim, ref.Column, ref.ColumnRange}} {
		if c.v != "" && strings.EqualFold(c.v, r.IDColumn) {
			add(c.rng, "Invalid reference", fmt.Sprintf("%s %q is the id_column of resource %q.", c.what, c.v, r.Type))
		}
		for _, col := range r.Columns {
			if c.v != "" && strings.EqualFold(c.v, col) {
				add(c.rng, "Invalid reference", fmt.Sprintf("%s %q is also listed in columns; a column backs one attribute only.", c.what, c.v))
			}
		}
	}
	return diags
}

// validateChild checks the where and lookup settings of a multi_value.
func (mv *MultiValueConfig) validateChild() hcl.Diagnostics {
	var diags hcl.Diagnostics
	add := func(rng hcl.Range, summary, detail string) {
		diags = append(diags, backends.ConfigDiag(rng, summary, detail))
	}
	for _, col := range slices.Sorted(maps.Keys(mv.Where)) {
		switch {
		case !identRE.MatchString(col):
			add(mv.WhereRange, "Invalid SQL identifier",
				fmt.Sprintf("multi_value %q: where column %q must match %s (letters, digits, underscore; no quotes, dots or spaces).", mv.Name, col, identRE))
		case strings.EqualFold(col, mv.ThisColumn):
			add(mv.WhereRange, "Invalid multi_value where", fmt.Sprintf("multi_value %q: where column %q is the this_column.", mv.Name, col))
		case strings.EqualFold(col, mv.ValueColumn):
			add(mv.WhereRange, "Invalid multi_value where", fmt.Sprintf("multi_value %q: where column %q is the value_column.", mv.Name, col))
		}
		for _, other := range slices.Sorted(maps.Keys(mv.Where)) {
			if other < col && strings.EqualFold(other, col) {
				add(mv.WhereRange, "Invalid multi_value where", fmt.Sprintf("multi_value %q: where names column %q twice (%q).", mv.Name, col, other))
			}
		}
	}
	if l := mv.Lookup; l != nil {
		for _, c := range []struct {
			what, v string
			rng     hcl.Range
		}{{"lookup table", l.Table, l.TableRange}, {"key_column", l.KeyColumn, l.KeyColumnRange}, {"lookup value_column", l.ValueColumn, l.ValueColumnRange}} {
			if c.v != "" && !identRE.MatchString(c.v) {
				add(c.rng, "Invalid SQL identifier",
					fmt.Sprintf("%s %q must match %s (letters, digits, underscore; no quotes, dots or spaces).", c.what, c.v, identRE))
			}
		}
		if l.KeyColumn != "" && strings.EqualFold(l.KeyColumn, l.ValueColumn) {
			add(l.ValueColumnRange, "Invalid multi_value lookup", fmt.Sprintf("multi_value %q: the lookup's key_column and value_column must differ.", mv.Name))
		}
		if l.Table != "" && strings.EqualFold(l.Table, mv.Table) {
			add(l.TableRange, "Invalid multi_value lookup", fmt.Sprintf("multi_value %q: the lookup table must not be the multi_value's own table.", mv.Name))
		}
		if mv.Add != nil || mv.Remove != nil {
			rng := l.DefRange
			add(rng, "Invalid multi_value lookup",
				fmt.Sprintf("multi_value %q: lookup does not go with add and remove statements, which would get names, not keys; leave out one or the other.", mv.Name))
		}
	}
	return diags
}
