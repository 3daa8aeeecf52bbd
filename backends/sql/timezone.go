package sql

import (
	"database/sql/driver"
	"fmt"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // zone names resolve in images without /usr/share/zoneinfo

	"github.com/hashicorp/hcl/v2"
	"modernc.org/sqlite"

	"github.com/scimbridge/scimbridge/backends"
)

// time_zone: columns that hold a time without a zone (PostgreSQL
// timestamp without time zone, MySQL/MariaDB DATETIME, SQLite text
// without an offset in a column declared as a date or time, or the
// created / modified column) hold the wall-clock time of the
// application's zone. The backend reads them as instants in that zone,
// writes instants as that zone's wall-clock time, and compares filter
// values with them in that zone, so that meta.created, meta.lastModified
// and dateTime attributes are right and filters agree with reads. Columns
// with a zone (timestamptz, MySQL TIMESTAMP, RFC 3339 text with an offset)
// are instants already and are left alone. Wall-clock times that a change
// to summer time skips or repeats are read as Go's time.Date does.

// validateTimeZone reports a time_zone that names no zone.
func (c *Config) validateTimeZone() hcl.Diagnostics {
	if c.TimeZone == "" {
		return nil
	}
	detail := ""
	if strings.EqualFold(c.TimeZone, "local") {
		detail = `"Local" is the zone of whatever host the bridge runs on; name the database's zone, such as "Europe/Berlin".`
	} else if _, err := time.LoadLocation(c.TimeZone); err != nil {
		detail = fmt.Sprintf(`%q is not a time zone name: use an IANA name such as "Europe/Berlin", "America/New_York" or "UTC".`, c.TimeZone)
	}
	if detail == "" {
		return nil
	}
	return hcl.Diagnostics{backends.ConfigDiag(c.TimeZoneRange, "Invalid time_zone", detail)}
}

// location is the zone of zone-less columns; nil for UTC, which needs no
// conversion.
func (c *Config) location() *time.Location {
	if c.TimeZone == "" {
		return nil
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil || loc == time.UTC {
		return nil
	}
	return loc
}

// useTimeZone marks the zone-less columns of every resource, once the
// schema is loaded.
func (b *Backend) useTimeZone(res map[string]*resource) {
	if b.loc == nil {
		return
	}
	for _, r := range res {
		r.loc = b.loc
		for _, c := range r.columns {
			c.naive = zoneless(b.d, r, c)
		}
	}
}

// zoneless reports a column whose times carry no zone.
func zoneless(d dialect, r *resource, c *column) bool {
	t := c.info.declType
	switch d.(type) {
	case postgresDialect:
		return t == "timestamp" || strings.HasPrefix(t, "timestamp without")
	case mysqlDialect:
		return t == "datetime" || strings.HasPrefix(t, "datetime(")
	case sqliteDialect:
		return strings.Contains(t, "date") || strings.Contains(t, "time") || c == r.created || c == r.updated
	}
	return false
}

// wallClock is t as the wall-clock time of loc, labelled UTC: what a
// zone-less column stores for the instant t (the drivers write a time's
// fields as they are).
func wallClock(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC)
}

// instant is the instant a zone-less column's t (its fields) means in loc.
func instant(t time.Time, loc *time.Location) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc)
}

// naiveLayouts are the texts of a time without a zone.
var naiveLayouts = []string{"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04", "2006-01-02T15:04"}

// parseNaive reads text without an offset as a time in loc.
func parseNaive(s string, loc *time.Location) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range naiveLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// formatCol is format for a value read from column c.
func (b *Backend) formatCol(c *column, v any) (string, bool) {
	if !c.naive || b.loc == nil {
		return format(v)
	}
	switch x := v.(type) {
	case time.Time:
		return instant(x, b.loc).UTC().Format(time.RFC3339Nano), true
	case string, []byte:
		s, _ := format(x)
		if t, ok := parseNaive(s, b.loc); ok {
			return t.UTC().Format(time.RFC3339Nano), true
		}
		return s, true
	}
	return format(v)
}

// timeValue is the value to bind for the instant t in column c.
func (b *Backend) timeValue(c *column, t time.Time) any {
	switch {
	case !c.naive || b.loc == nil:
		if c.isTime {
			return t.UTC()
		}
		return t.UTC().Format(time.RFC3339Nano)
	case c.isTime:
		return wallClock(t, b.loc)
	}
	return wallClock(t, b.loc).Format("2006-01-02 15:04:05.999999")
}

// timeCompare compares column cn with the instant t.
func (c *compiler) timeCompare(cn colExpr, op string, t time.Time) string {
	d, b, loc := c.b.d, c.b, c.r.loc
	if !cn.naive || loc == nil {
		return d.time(cn) + " " + op + " " + d.timeParam(b, t)
	}
	if _, ok := d.(sqliteDialect); ok {
		// Text: with or without an offset, row by row.
		return sqliteJulianDayIn + "(" + cn.sql + ", " + b.arg(loc.String()) + ") " + op + " " + d.timeParam(b, t)
	}
	// Typed zone-less columns compare as wall-clock times of loc.
	return d.time(cn) + " " + op + " " + d.timeParam(b, wallClock(t, loc))
}

// sqliteJulianDayIn(text, zone) is julianday(text), reading text without
// an offset as a time in zone; NULL for text that is no time.
const sqliteJulianDayIn = "scimbridge_julianday_in"

var registerSQLiteZone = sync.OnceValue(func() error {
	var zones sync.Map
	return sqlite.RegisterDeterministicScalarFunction(sqliteJulianDayIn, 2, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		s, ok := format(args[0])
		name, _ := format(args[1])
		if !ok || s == "" {
			return nil, nil
		}
		var loc *time.Location
		if l, ok := zones.Load(name); ok {
			loc = l.(*time.Location)
		} else {
			l, err := time.LoadLocation(name)
			if err != nil {
				return nil, err
			}
			zones.Store(name, l)
			loc = l
		}
		t, ok := parseNaive(s, loc)
		if !ok {
			var err error
			if t, err = time.Parse(time.RFC3339Nano, strings.Replace(strings.TrimSpace(s), " ", "T", 1)); err != nil {
				return nil, nil
			}
		}
		// As SQLite computes it: milliseconds (rounded) since the epoch
		// of Julian days, over the milliseconds of a day.
		ms := t.Unix()*1000 + int64((t.Nanosecond()+500000)/1000000)
		return float64(ms+210866760000000) / 86400000.0, nil
	})
})

// NativeTime reads the text forms of a timestamp that databases write
// besides RFC 3339: a space between date and time ("2006-01-02
// 15:04:05.999999", PostgreSQL, MySQL, MariaDB and SQLite text), with or
// without an offset; without one it is read as UTC (a column with a
// time_zone is converted when read, see formatCol). The mapping shows such
// values of SCIM dateTime attributes as RFC 3339; see backends.Kind.
func NativeTime(s string) (time.Time, bool) {
	for _, layout := range []string{"2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
