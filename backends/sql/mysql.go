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

	"github.com/go-sql-driver/mysql"

	"github.com/scimbridge/scimbridge/backends"
)

// mysqlDialect speaks MySQL and MariaDB through go-sql-driver/mysql, with
// server-side prepared statements (no client-side interpolation). Text
// columns usually have a case-insensitive collation, so case-exact
// comparisons compare bytes (CAST ... AS BINARY) and case-insensitive ones
// compare lower-cased bytes; where the column's collation is already
// case-insensitive the plain comparison is added in front so that an index
// on the column still narrows the rows.
type mysqlDialect struct {
	// returning: the server is MariaDB 10.5 or later, which has INSERT ...
	// RETURNING (database-generated keys that are not AUTO_INCREMENT).
	returning bool
}

func (mysqlDialect) driverName() string { return "mysql" }

// parseMySQLDSN accepts the driver's form (user:pass@tcp(host:3306)/db?...)
// and the URL form (mysql://user:pass@host:3306/db?...).
func parseMySQLDSN(dsn string) (*mysql.Config, error) {
	if strings.TrimSpace(dsn) == "" {
		return nil, errors.New("empty dsn")
	}
	if !strings.HasPrefix(dsn, "mysql://") && !strings.HasPrefix(dsn, "mariadb://") {
		c, err := mysql.ParseDSN(dsn)
		if err != nil {
			return nil, fmt.Errorf("dsn: %w", err)
		}
		return c, nil
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, fmt.Errorf("dsn: %w", redactURLError(err))
	}
	host := u.Host
	if u.Port() == "" {
		host += ":3306"
	}
	// Parameters (and the database name) through the driver's own parser;
	// user and password straight from the URL, so that any character in
	// them survives.
	c, err := mysql.ParseDSN("/" + strings.TrimPrefix(u.Path, "/") + "?" + u.RawQuery)
	if err != nil {
		return nil, errors.New("dsn: not a valid mysql:// URL")
	}
	c.Net, c.Addr = "tcp", host
	if u.User != nil {
		c.User = u.User.Username()
		c.Passwd, _ = u.User.Password()
	}
	return c, nil
}

// dsn sets what the backend relies on: time values as time.Time in UTC
// (session time zone too), utf8mb4, matched-row counts, strict mode (so a
// value too long for its column is an error, not silently cut) and the
// connect timeout, unless the admin set them.
func (mysqlDialect) dsn(dsn string, o connOptions) (string, error) {
	c, err := parseMySQLDSN(dsn)
	if err != nil {
		return "", err
	}
	c.ParseTime = true
	c.ClientFoundRows = true
	c.InterpolateParams = false
	c.MultiStatements = false
	if c.Loc == nil || c.Loc == time.Local {
		c.Loc = time.UTC
	}
	if c.Timeout == 0 {
		c.Timeout = o.connectTimeout
	}
	if c.Collation == "" {
		c.Collation = "utf8mb4_general_ci"
	}
	if c.Params == nil {
		c.Params = map[string]string{}
	}
	if _, ok := c.Params["time_zone"]; !ok {
		c.Params["time_zone"] = "'+00:00'"
	}
	if _, ok := c.Params["sql_mode"]; !ok {
		c.Params["sql_mode"] = "CONCAT(@@sql_mode,',STRICT_ALL_TABLES')"
	}
	return c.FormatDSN(), nil
}

// bootstrapDSN allows several statements in one call, only for the
// bootstrap script.
func (d mysqlDialect) bootstrapDSN(dsn string) (string, error) {
	s, err := d.dsn(dsn, connOptions{connectTimeout: 10 * time.Second})
	if err != nil {
		return "", err
	}
	c, err := mysql.ParseDSN(s)
	if err != nil {
		return "", err
	}
	c.MultiStatements = true
	return c.FormatDSN(), nil
}

func (mysqlDialect) singleConnection(string) bool { return false }

// connected turns on RETURNING for MariaDB 10.5 and later.
func (d mysqlDialect) connected(ctx context.Context, q querier) (dialect, error) {
	var v string
	if err := q.QueryRowContext(ctx, "SELECT VERSION()").Scan(&v); err != nil {
		return nil, err
	}
	if strings.Contains(strings.ToLower(v), "mariadb") {
		var major, minor int
		if _, err := fmt.Sscanf(v, "%d.%d", &major, &minor); err == nil && (major > 10 || (major == 10 && minor >= 5)) {
			d.returning = true
		}
	}
	return d, nil
}

func (mysqlDialect) placeholder(int) string { return "?" }

func (mysqlDialect) quote(ident string) string {
	return "`" + strings.ReplaceAll(ident, "`", "``") + "`"
}

func (d mysqlDialect) insertReturning() bool { return d.returning }

// updateReturning: neither MySQL nor MariaDB has UPDATE ... RETURNING.
func (mysqlDialect) updateReturning() bool { return false }

// refList: GROUP_CONCAT is cut at group_concat_max_len (1024 bytes by
// default on MySQL), so references are read with a query of their own.
func (mysqlDialect) refList(string, string) string { return "" }

// returningSubqueries: MariaDB's RETURNING takes no subqueries that read
// other tables.
func (mysqlDialect) returningSubqueries() bool { return false }

func (mysqlDialect) cteInsert() bool { return false }

func (d mysqlDialect) insertDefaults(table string) string {
	return "INSERT INTO " + d.quote(table) + " () VALUES ()"
}

// ignoreDuplicate is a no-op update on a duplicate key; unlike INSERT
// IGNORE it does not turn other errors (foreign keys, NOT NULL) into warnings.
func (d mysqlDialect) ignoreDuplicate(this string) string {
	return " ON DUPLICATE KEY UPDATE " + d.quote(this) + " = " + d.quote(this)
}

func (mysqlDialect) forUpdate() string { return " FOR UPDATE" }

// tableColumns reads information_schema for a table of the connection's
// database: the exact spelling first, else a case-insensitive match.
func (mysqlDialect) tableColumns(ctx context.Context, q querier, table string) (string, []columnInfo, error) {
	const query = `SELECT c.TABLE_NAME, c.COLUMN_NAME, LOWER(c.DATA_TYPE),
  CASE WHEN LOWER(c.DATA_TYPE) IN ('char', 'varchar') THEN COALESCE(c.CHARACTER_MAXIMUM_LENGTH, 0) ELSE 0 END,
  c.IS_NULLABLE = 'YES',
  (c.COLUMN_DEFAULT IS NOT NULL AND c.COLUMN_DEFAULT <> 'NULL') OR c.EXTRA LIKE '%auto_increment%' OR c.EXTRA LIKE '%GENERATED%',
  COALESCE(c.COLLATION_NAME, '')
FROM information_schema.COLUMNS c
WHERE c.TABLE_SCHEMA = DATABASE() AND c.TABLE_NAME = (
  SELECT t.TABLE_NAME FROM information_schema.TABLES t
  WHERE t.TABLE_SCHEMA = DATABASE() AND LOWER(t.TABLE_NAME) = LOWER(?)
  ORDER BY CAST(t.TABLE_NAME AS BINARY) = CAST(? AS BINARY) DESC, t.TABLE_NAME LIMIT 1)
ORDER BY c.ORDINAL_POSITION`
	rows, err := q.QueryContext(ctx, query, table, table)
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
		out = append(out, c)
	}
	return name, out, rows.Err()
}

func (mysqlDialect) integerType(c columnInfo) bool {
	switch c.declType {
	case "tinyint", "smallint", "mediumint", "int", "integer", "bigint":
		return true
	}
	return false
}

func (mysqlDialect) uuidType(c columnInfo) bool { return c.declType == "uuid" }

func (mysqlDialect) timeType(c columnInfo) bool {
	switch c.declType {
	case "datetime", "timestamp", "date":
		return true
	}
	return false
}

func mysqlNumeric(c columnInfo) bool {
	switch c.declType {
	case "tinyint", "smallint", "mediumint", "int", "integer", "bigint", "decimal", "float", "double":
		return true
	}
	return false
}

func (d mysqlDialect) checkValue(c columnInfo, v string) string {
	return checkTyped(d.integerType(c), d.uuidType(c), c, v)
}

func (mysqlDialect) maxParams() int { return 10000 }

func (mysqlDialect) limit(b *builder, count, offset int) string {
	if count <= 0 {
		if offset == 0 {
			return ""
		}
		return " LIMIT 18446744073709551615 OFFSET " + b.arg(offset)
	}
	return " LIMIT " + b.arg(count) + " OFFSET " + b.arg(offset)
}

func (mysqlDialect) text(c colExpr) string { return "CAST(" + c.sql + " AS CHAR)" }

// bin is the column's text as utf8mb4 bytes, compared byte for byte.
func mysqlBin(col string) string { return "CAST(CONVERT(" + col + " USING utf8mb4) AS BINARY)" }

// lowerBin is the lower-cased text as bytes.
func mysqlLowerBin(col string) string {
	return "CAST(LOWER(CONVERT(" + col + " USING utf8mb4)) AS BINARY)"
}

func mysqlCaseInsensitive(c columnInfo) bool {
	return strings.HasSuffix(c.collation, "_ci")
}

func (mysqlDialect) equal(b *builder, c colExpr, value string, ignoreCase bool) string {
	if ignoreCase {
		exact := mysqlLowerBin(c.sql) + " = " + mysqlLowerBin(b.arg(value))
		if mysqlCaseInsensitive(c.info) {
			// The collation's equality is coarser: it narrows by index,
			// the byte comparison decides.
			return "(" + c.sql + " = " + b.arg(value) + " AND " + exact + ")"
		}
		return exact
	}
	exact := mysqlBin(c.sql) + " = " + mysqlBin(b.arg(value))
	if c.info.collation != "" {
		return "(" + c.sql + " = " + b.arg(value) + " AND " + exact + ")"
	}
	return exact
}

func (mysqlDialect) substring(b *builder, op backends.Op, c colExpr, value string, ignoreCase bool) string {
	if value == "" {
		return c.sql + " IS NOT NULL"
	}
	esc := " ESCAPE '" + string(likeEscapeChar) + "'"
	if ignoreCase {
		return mysqlLowerBin(c.sql) + " LIKE " + mysqlLowerBin(b.arg(likePattern(op, value))) + esc
	}
	return mysqlBin(c.sql) + " LIKE " + mysqlBin(b.arg(likePattern(op, value))) + esc
}

// order compares bytes of UTF-8, which is code point order.
func (mysqlDialect) order(b *builder, op backends.Op, c colExpr, value string, ignoreCase bool) string {
	if ignoreCase {
		return mysqlLowerBin(c.sql) + " " + sqlOp(op) + " " + mysqlLowerBin(b.arg(value))
	}
	return mysqlBin(c.sql) + " " + sqlOp(op) + " " + mysqlBin(b.arg(value))
}

const (
	mysqlNumberRE = `^ *[-+]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][-+]?[0-9]+)? *$`
	mysqlTimeRE   = `^[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?)?([Zz]|[-+][0-9]{2}:[0-9]{2})?$`
	mysqlStampRE  = `^[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,6})?)?`
	mysqlOffsetRE = `[-+][0-9]{2}:[0-9]{2}$`
)

func (d mysqlDialect) number(c colExpr) string {
	if mysqlNumeric(c.info) {
		return c.sql
	}
	t := d.text(c)
	return "(CASE WHEN " + t + " REGEXP '" + mysqlNumberRE + "' THEN CAST(" + t + " AS DECIMAL(65,30)) END)"
}

func (mysqlDialect) numberParam(ph string) string { return "CAST(" + ph + " AS DECIMAL(65,30))" }

// time: DATETIME and TIMESTAMP columns hold UTC (the session time zone is
// UTC); text columns are parsed as RFC 3339, offset included.
func (d mysqlDialect) time(c colExpr) string {
	if d.timeType(c.info) {
		return "CAST(" + c.sql + " AS DATETIME(6))"
	}
	t := d.text(c)
	return "(CASE WHEN " + t + " REGEXP '" + mysqlTimeRE + "' THEN CONVERT_TZ(CAST(REGEXP_SUBSTR(" + t + ", '" + mysqlStampRE +
		"') AS DATETIME(6)), CASE WHEN " + t + " REGEXP '" + mysqlOffsetRE + "' THEN RIGHT(" + t + ", 6) ELSE '+00:00' END, '+00:00') END)"
}

func (mysqlDialect) timeParam(b *builder, t time.Time) string {
	return "CAST(" + b.arg(t.UTC().Format("2006-01-02 15:04:05.999999")) + " AS DATETIME(6))"
}

func (mysqlDialect) nullFalse(pred string) string { return "COALESCE((" + pred + "), 0)" }

func (mysqlDialect) truth(v bool) string {
	if v {
		return "1"
	}
	return "0"
}

func (mysqlDialect) classify(err error) (error, refusal) {
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		if errors.Is(err, mysql.ErrInvalidConn) || isConnError(err) {
			return backends.ErrUnavailable, refusal{}
		}
		return nil, refusal{}
	}
	f := refusal{msg: me.Message}
	column := func() {
		for _, re := range []*regexp.Regexp{mysqlColumnRE, mysqlFieldRE, mysqlForeignKeyRE} {
			if m := re.FindStringSubmatch(me.Message); m != nil {
				f.columns = []string{m[1] + m[2]}
				return
			}
		}
	}
	switch me.Number {
	case 1062, 1586:
		// "Duplicate entry 'x' for key 'login'"; MySQL 8 says 'app_users.login'.
		if m := mysqlKeyRE.FindStringSubmatch(me.Message); m != nil {
			f.index = m[1]
			if i := strings.LastIndexByte(f.index, '.'); i > 0 {
				f.table, f.index = f.index[:i], f.index[i+1:]
			}
		}
		return backends.ErrAlreadyExists, f
	case 1169:
		return backends.ErrAlreadyExists, f
	case 1452, 1216:
		column()
		return backends.ErrInvalidReference, f
	case 1644: // a procedure's SIGNAL (SQLSTATE '45000'), whose message is meant for the caller
		f.admin = me.Message
		return backends.ErrInvalid, f
	case 1048, 1364:
		column()
		f.reason = "must have a value"
		return backends.ErrInvalid, f
	case 1406:
		column()
		f.reason = "is too long for the directory"
		return backends.ErrInvalid, f
	case 1264, 1690:
		column()
		f.reason = "is out of the range the directory stores"
		return backends.ErrInvalid, f
	case 1366, 1265, 1292, 1367, 1411, 1451, 1217, 3819, 4025, 1525, 3140, 1136:
		column()
		return backends.ErrInvalid, f
	case 1040, 1203, 1053, 1205, 1213, 1927, 1317, 3024, 1969, 2006, 2013, 1158, 1159, 1160, 1161, 1081, 1152, 1184, 4031, 1290, 1836:
		return backends.ErrUnavailable, refusal{}
	case 1044, 1045, 1142, 1143, 1227, 1370:
		return backends.ErrPermission, refusal{}
	}
	return nil, refusal{}
}

var (
	mysqlKeyRE = regexp.MustCompile(`for key '([^']+)'$`)
	// "for column 'c'" (MySQL) or "for column `db`.`t`.`c`" (MariaDB).
	mysqlColumnRE     = regexp.MustCompile("[Cc]olumn (?:'([^']+)'|(?:`[^`]*`\\.)*`([^`]+)`)")
	mysqlFieldRE      = regexp.MustCompile("Field '([^']+)'()")
	mysqlForeignKeyRE = regexp.MustCompile("FOREIGN KEY \\(`([^`]+)`\\)()")
)

// indexColumns reads a unique index's columns from the catalog (index
// names are unique per table only: table "" takes the one index of that
// name if there is exactly one). A functional key part has no column.
func (mysqlDialect) indexColumns(ctx context.Context, q querier, table, index string) ([]string, error) {
	const query = `SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME = ? AND NON_UNIQUE = 0 AND (? = '' OR LOWER(TABLE_NAME) = LOWER(?))
ORDER BY TABLE_NAME, SEQ_IN_INDEX`
	rows, err := q.QueryContext(ctx, query, index, table, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	first := ""
	for rows.Next() {
		var t string
		var col dbsql.NullString
		if err := rows.Scan(&t, &col); err != nil {
			return nil, err
		}
		if first == "" {
			first = t
		}
		if t != first || !col.Valid {
			return nil, rows.Err() // several tables, or an expression
		}
		out = append(out, col.String)
	}
	return out, rows.Err()
}

// retryable: a deadlock rolls the transaction back; run it again.
func (mysqlDialect) retryable(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1213
}
