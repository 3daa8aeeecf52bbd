package sql

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/scimbridge/scimbridge/backends"
)

// fuzzSchema is the table the filters run against: text columns with a
// NOCASE and a BINARY collation, an INTEGER column holding numbers and
// text that is not one, text columns holding times and booleans, and a
// join table behind the read-only reference "teams".
const fuzzSchema = `
CREATE TABLE people (id INTEGER PRIMARY KEY, login TEXT NOT NULL UNIQUE COLLATE NOCASE,
  nick TEXT, rank INTEGER, hired TEXT, active TEXT);
CREATE TABLE teams (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE team_people (team INTEGER NOT NULL, person INTEGER NOT NULL, PRIMARY KEY (team, person));`

// fuzzRows are inserted as they are (NULL where nil), through SQL, so that
// empty strings and values the backend would refuse to write are there too.
var fuzzRows = [][]any{
	// login, nick, rank, hired, active
	{"alice", "Alice", 42, "2021-02-03T04:05:06Z", "true"},
	{"Bob", "bob", 7, "2021-02-03T05:05:06+01:00", "FALSE"},
	{"%", "_", -3, "2020-12-31T23:59:59.999Z", "1"},
	{"_", "!", "abc", "yesterday", "yes"},
	{"!", "a%b_c!d", "", "", "0"},
	{"a'b", `it's "q"`, "1e3", "2021-02-03", nil},
	{`back\slash`, `C:\path\`, " 12 ", "2021-02-03T04:05:06.5Z", "True "},
	{"MiXeD", "mixed", "3.5", "2021-02-03T04:05:06.123Z", "false"},
	{"ünï", "ÜNÏ", "0x10", "9999-12-31T23:59:59Z", "TRUE"},
	{"", "", nil, nil, ""},
	{"ÉCOLE", "école", "042", "2021-02-03T04:05:06Z", "0"},
	{"x)(uid=*", "' OR '1'='1", "+5", "1999-01-01T00:00:00-05:00", "1"},
	{"null", nil, "12abc", "2021-02-03T04:05:06-05:00", "t"},
	{"a!%_b", "A!%_B", 0, "2021-02-03T04:05:06.001Z", "1"},
}

// fuzzTeams: team id -> member row ids (people.id is the row's 1-based index).
var fuzzTeams = map[int][]int{1: {1, 2, 3}, 2: {3, 12}, 3: {}}

var (
	fuzzOnce sync.Once
	fuzzB    *Backend
	fuzzTab  []fuzzRow
	fuzzErr  error
)

// fuzzRow is a row as the database returns it (text, or nil for NULL).
type fuzzRow struct {
	id    string
	cols  map[string]*string
	teams []string
}

// fuzzColumns are the attribute columns; rank has INTEGER affinity.
var fuzzColumns = []string{"login", "nick", "rank", "hired", "active"}

func fuzzBackend(tb testing.TB) (*Backend, []fuzzRow) {
	fuzzOnce.Do(func() {
		ctx := context.Background()
		cfg := &Config{
			Driver:       "sqlite",
			DSN:          "file:fuzzwhere?mode=memory",
			BootstrapSQL: fuzzSchema,
			Resources: []*ResourceConfig{
				{Type: backends.User, Table: "people", IDColumn: "id", References: []*ReferenceConfig{
					{Name: "teams", JoinTable: "team_people", ThisColumn: "person", OtherColumn: "team", Target: backends.Group, ReadOnly: true},
				}},
				{Type: backends.Group, Table: "teams", IDColumn: "id"},
			},
		}
		b, err := New(ctx, cfg, nil)
		if err != nil {
			fuzzErr = err
			return
		}
		for _, row := range fuzzRows {
			if _, err := b.db.ExecContext(ctx, "INSERT INTO people (login, nick, rank, hired, active) VALUES (?, ?, ?, ?, ?)", row...); err != nil {
				fuzzErr = err
				return
			}
		}
		for team, members := range fuzzTeams {
			if _, err := b.db.ExecContext(ctx, "INSERT INTO teams (id, name) VALUES (?, ?)", team, fmt.Sprint("team", team)); err != nil {
				fuzzErr = err
				return
			}
			for _, m := range members {
				if _, err := b.db.ExecContext(ctx, "INSERT INTO team_people (team, person) VALUES (?, ?)", team, m); err != nil {
					fuzzErr = err
					return
				}
			}
		}
		// Read the table back as text: that is what the filter sees.
		rows, err := b.db.QueryContext(ctx, `SELECT CAST(id AS TEXT), CAST(login AS TEXT), CAST(nick AS TEXT), CAST(rank AS TEXT),
			CAST(hired AS TEXT), CAST(active AS TEXT), (SELECT group_concat(team) FROM team_people WHERE person = people.id) FROM people ORDER BY id`)
		if err != nil {
			fuzzErr = err
			return
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var vals [5]*string
			var teams *string
			if err := rows.Scan(&id, &vals[0], &vals[1], &vals[2], &vals[3], &vals[4], &teams); err != nil {
				fuzzErr = err
				return
			}
			r := fuzzRow{id: id, cols: map[string]*string{}}
			for i, c := range fuzzColumns {
				r.cols[c] = vals[i]
			}
			// The id column reads as an attribute too (readAttr).
			idv := id
			r.cols["id"] = &idv
			if teams != nil {
				r.teams = strings.Split(*teams, ",")
			}
			fuzzTab = append(fuzzTab, r)
		}
		fuzzB, fuzzErr = b, rows.Err()
	})
	if fuzzErr != nil {
		tb.Fatalf("fuzz backend: %v", fuzzErr)
	}
	return fuzzB, fuzzTab
}

var fuzzOps = []backends.Op{backends.Eq, backends.Ne, backends.Co, backends.Sw, backends.Ew,
	backends.Gt, backends.Ge, backends.Lt, backends.Le, "regex"}

// fuzzAttrs are the names leaves pick from; the fuzzed name is one more.
var fuzzAttrs = []string{"login", "nick", "rank", "hired", "active", "teams", "LOGIN", "id", "nope"}

// fuzzPayloads are the hostile values every seed shape is tried with.
var fuzzPayloads = []string{"*", ")(uid=*", `\00`, ",cn=admin", "' OR '1'='1", "%", "_", "!", "a!%_b", `\`, "\x00", "É"}

// fuzzDict are values leaves may take besides the two fuzzed ones: the
// stored values and the characters LIKE, quoting and casts care about.
var fuzzDict = func() []string {
	out := []string{"%", "_", "!", "!%", "%_", "'", `\`, "", "a", "A", "0", "3", "12", "-3", "42.0", "1e3", "true", "FALSE", "1",
		"2021-02-03T04:05:06Z", "2021-02-03T04:05:06.001Z", "2021-02-03T00:00:00Z", "é", "É"}
	for _, row := range fuzzRows {
		for _, v := range row {
			if s, ok := v.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}()

// treeGen decodes bytes into a small filter tree; running out of bytes
// reads zeros, which close every open junction.
type treeGen struct {
	shape  []byte
	pos    int
	nodes  int
	attrs  []string
	values []string
}

func (g *treeGen) next() byte {
	if g.pos >= len(g.shape) {
		return 0
	}
	g.pos++
	return g.shape[g.pos-1]
}

func (g *treeGen) node(depth int) backends.Filter {
	g.nodes++
	c := g.next()
	if depth >= 4 || g.nodes > 16 {
		c = 3 + c%5
	}
	switch c % 8 {
	case 0, 1:
		fs := []backends.Filter{}
		for n := int(g.next() % 4); n > 0; n-- {
			fs = append(fs, g.node(depth+1))
		}
		if c%8 == 0 {
			return backends.And{Filters: fs}
		}
		return backends.Or{Filters: fs}
	case 2:
		return backends.Not{Filter: g.node(depth + 1)}
	case 3:
		return backends.Present{Attr: g.attrs[int(g.next())%len(g.attrs)]}
	}
	cmp := backends.Compare{Attr: g.attrs[int(g.next())%len(g.attrs)], Op: fuzzOps[int(g.next())%len(fuzzOps)]}
	flags := g.next()
	cmp.IgnoreCase = flags&1 != 0
	cmp.Kind = backends.ValueKind(flags >> 1 & 3)
	switch flags >> 3 & 3 {
	case 0, 1:
		cmp.Value = g.values[flags>>3&1]
	case 2:
		cmp.Value = fuzzDict[int(g.next())%len(fuzzDict)]
	default:
		cmp.Value = g.values[0] + fuzzDict[int(g.next())%len(fuzzDict)] + g.values[1]
	}
	return cmp
}

// FuzzWhere compiles generated filter trees over a SQLite table and runs
// them with Search. Invariants:
//   - no panic; the SQL text is ASCII, its only string literals are the
//     compiler's own, and it has exactly one placeholder per bound value;
//   - values are only ever bound: the same tree with a marker added to
//     every text value compiles to exactly the same SQL text, which does
//     not contain the marker;
//   - a refusal wraps ErrInvalid or ErrUnsupported, and happens exactly
//     when the reference evaluator says the filter is malformed (never an
//     SQL error from the database);
//   - the rows Search returns are exactly the rows the reference evaluator
//     selects from the table's contents (ids compared in order), and Total
//     counts them.
func FuzzWhere(f *testing.F) {
	type seed struct {
		shape      []byte
		a, b, name string
	}
	for _, s := range []seed{
		{[]byte{4, 0, 0, 0}, "alice", "x", "login"},
		{[]byte{4, 0, 0, 1}, "ALICE", "x", "login"},
		{[]byte{0, 2, 4, 0, 2, 1, 4, 1, 3, 8}, "%", "_", "nick"},
		{[]byte{1, 3, 4, 1, 4, 9, 4, 0, 2, 0, 5, 1, 1}, "!", "a!%_b", ""},
		{[]byte{4, 2, 5, 2, 4, 2, 0, 10}, "0", "42", "rank"},
		{[]byte{4, 2, 6, 2, 2, 4, 2, 0, 10}, "abc", "1e3", ""},
		{[]byte{4, 3, 7, 6, 4, 3, 0, 14}, "2021-02-03T04:05:06Z", "2021-02-03T05:05:06+01:00", ""},
		{[]byte{4, 4, 0, 4, 4, 4, 1, 12}, "true", "FALSE", ""},
		{[]byte{4, 5, 0, 0, 4, 5, 1, 8, 3, 5}, "3", "1", "teams"},
		{[]byte{2, 4, 1, 1, 0}, "' OR '1'='1", ")(uid=*", "nick"},
		{[]byte{4, 9, 0, 0}, "*", `\00`, "nick) OR 1=1 --"},
		{[]byte{4, 1, 2, 1, 4, 1, 3, 9, 4, 1, 4, 0}, ",cn=admin", "ÜNÏ", ""},
		{[]byte{4, 0, 5, 1, 4, 0, 8, 8}, "MIXED", "É", ""},
		{[]byte{4, 2, 0, 2}, "0x1p3", "", ""},
		{[]byte{4, 0, 0, 0}, "a\x00b", "", ""},
	} {
		f.Add(s.shape, s.a, s.b, s.name)
	}
	// Every payload through every string operator, both case behaviours,
	// on both collations (login is NOCASE, nick BINARY), and under NOT.
	leaf := func(attr, op, flags byte) []byte { return []byte{4, attr, op, flags} }
	or := func(kids ...[]byte) []byte { return slices.Concat(append([][]byte{{1, byte(len(kids))}}, kids...)...) }
	not := func(kid []byte) []byte { return append([]byte{2}, kid...) }
	for _, p := range fuzzPayloads {
		for _, shape := range [][]byte{
			or(leaf(1, 2, 1), leaf(0, 3, 0), leaf(0, 4, 1)),
			or(leaf(1, 2, 0), not(leaf(1, 3, 1)), leaf(1, 4, 0)),
			or(leaf(0, 0, 1), leaf(1, 0, 0), leaf(0, 8, 1)),
			or(leaf(2, 0, 2), leaf(3, 5, 4), leaf(4, 0, 6)),
		} {
			f.Add(shape, p, "", "nick")
		}
	}
	f.Fuzz(func(t *testing.T, shape []byte, a, b, name string) {
		be, table := fuzzBackend(t)
		r := be.resources[backends.User]
		g := &treeGen{shape: shape, attrs: append(fuzzAttrs[:len(fuzzAttrs):len(fuzzAttrs)], name), values: []string{a, b}}
		filter := g.node(0)

		text, args, err := compileWhere(be, r, filter)
		if err == nil {
			checkSQLText(t, filter, text, args)
			// Values are bound, never spliced: marking every text value
			// changes nothing in the SQL text.
			marked := markValues(r, filter)
			mtext, _, merr := compileWhere(be, r, marked)
			if merr != nil {
				t.Fatalf("%#v compiles but with marked values fails: %v", filter, merr)
			}
			if mtext != text {
				t.Fatalf("SQL text depends on the values:\n%s\n%s", text, mtext)
			}
		}

		// SQLite's GLOB-built number test agrees with the regular
		// expression on the fuzzed values (but for NUL, where SQLite's
		// text functions stop; the backend stores and filters no NULs).
		for _, v := range []string{a, b} {
			if strings.ContainsRune(v, 0) {
				continue
			}
			var n *float64
			if err := be.db.QueryRow("SELECT "+be.d.number(colExpr{sql: "v"})+" FROM (SELECT ? AS v)", v).Scan(&n); err != nil {
				t.Fatalf("number test on %q: %v", v, err)
			}
			if (n != nil) != numberRE.MatchString(v) {
				t.Fatalf("SQLite reads %q as a number: %v; pgNumberRE: %v", v, n != nil, numberRE.MatchString(v))
			}
		}

		want, ok, verr := sqliteEval(r, filter, table)
		page, serr := be.Search(context.Background(), backends.User, backends.Query{Filter: filter})
		if serr != nil {
			if !errors.Is(serr, backends.ErrInvalid) && !errors.Is(serr, backends.ErrUnsupported) {
				t.Fatalf("%#v: search failed with %v, which wraps neither ErrInvalid nor ErrUnsupported", filter, serr)
			}
			if verr == nil {
				t.Fatalf("%#v: search refused a well-formed filter: %v", filter, serr)
			}
			return
		}
		if verr != nil {
			t.Fatalf("%#v: search accepted a filter the reference refuses (%v)", filter, verr)
		}
		if err != nil {
			t.Fatalf("%#v: where failed (%v) but search did not", filter, err)
		}
		var got []string
		for _, rec := range page.Records {
			got = append(got, rec.ID)
		}
		if page.Total != len(got) {
			t.Fatalf("%#v: Total %d for %d records", filter, page.Total, len(got))
		}
		if ok && !slices.Equal(got, want) {
			t.Fatalf("%#v\nSQL: %s %q\nrows %v, reference evaluator selects %v", filter, text, args, got, want)
		}
	})
}

func compileWhere(b *Backend, r *resource, f backends.Filter) (string, []any, error) {
	sb := newBuilder(b.d)
	text, err := where(sb, r, f)
	return text, sb.args, err
}

// allowedLiterals are the string literals the SQLite dialect writes.
var allowedLiterals = map[string]bool{}

func init() {
	for _, l := range []string{"", string(likeEscapeChar), "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*",
		"*[^0-9.eE+-]*", "*[0-9]*", "*[^eE][+-]*", "*[eE]*[eE]*", "*.*.*", "*[eE]*.*", "*[eE]*", "*[0-9]*[eE]*", "*[eE]", "*[eE][+-]"} {
		allowedLiterals["'"+l+"'"] = true
	}
}

// checkSQLText: ASCII only, string literals only from the compiler's own
// set, identifiers double-quoted, and one ? per argument.
func checkSQLText(t *testing.T, f backends.Filter, text string, args []any) {
	t.Helper()
	placeholders := 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c >= 0x80 || c < 0x20:
			t.Fatalf("%#v: byte %#x in SQL %s", f, c, text)
		case c == '?':
			placeholders++
		case c == '\'' || c == '"':
			j := strings.IndexByte(text[i+1:], c)
			if j < 0 {
				t.Fatalf("%#v: unterminated quote in SQL %s", f, text)
			}
			lit := text[i : i+j+2]
			if c == '\'' && !allowedLiterals[lit] {
				t.Fatalf("%#v: string literal %s in SQL %s", f, lit, text)
			}
			if c == '"' && !identRE.MatchString(lit[1:len(lit)-1]) {
				t.Fatalf("%#v: identifier %s in SQL %s", f, lit, text)
			}
			i += j + 1
		case c == ';' || c == '-' && strings.HasPrefix(text[i:], "--") || c == '/' && strings.HasPrefix(text[i:], "/*"):
			t.Fatalf("%#v: statement separator or comment in SQL %s", f, text)
		}
	}
	if placeholders != len(args) {
		t.Fatalf("%#v: %d placeholders, %d arguments in SQL %s", f, placeholders, len(args), text)
	}
}

// fuzzMarker is added around text values; it must never reach the SQL text.
const fuzzMarker = "\u2603"

// markValues returns f with a marker around the value of every string
// comparison on a column whose value does not change the SQL's shape
// (non-empty; number, time, boolean and reference values are parsed).
func markValues(r *resource, f backends.Filter) backends.Filter {
	switch f := f.(type) {
	case backends.And:
		out := backends.And{}
		for _, c := range f.Filters {
			out.Filters = append(out.Filters, markValues(r, c))
		}
		return out
	case backends.Or:
		out := backends.Or{}
		for _, c := range f.Filters {
			out.Filters = append(out.Filters, markValues(r, c))
		}
		return out
	case backends.Not:
		return backends.Not{Filter: markValues(r, f.Filter)}
	case backends.Compare:
		col, _ := r.attr(f.Attr)
		numeric := f.Kind != backends.KindString && f.Op != backends.Co && f.Op != backends.Sw && f.Op != backends.Ew
		if col != nil && f.Value != "" && !numeric {
			f.Value = fuzzMarker + f.Value + fuzzMarker
		}
		return f
	}
	return f
}

// The reference evaluator: backends.Filter semantics over the table's text,
// with the SQLite dialect's documented choices: case folding is ASCII only
// (NOCASE, LIKE, lower()), numbers compare as float64, times to the
// millisecond, and booleans are true/1 and false/0.

// numberRE is what the PostgreSQL dialect reads as a number; the SQLite
// dialect must agree.
var numberRE = regexp.MustCompile(pgNumberRE)

// asciiLower folds A-Z byte by byte, as SQLite does (strings.Map would
// turn bytes that are not UTF-8 into U+FFFD).
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// sqliteEval returns the ids of the rows f selects; ok is false when the
// reference cannot tell exactly (comparisons SQLite makes by its own
// affinity rules, sub-millisecond times); err is set when f is malformed.
// The filter's meaning is backends.Match's; the dialect's choices enter
// only through the comparison of one stored value.
func sqliteEval(r *resource, f backends.Filter, table []fuzzRow) (ids []string, ok bool, err error) {
	ev := &evaluator{r: r, ok: true}
	if err := backends.ValidateFilter(f); err != nil {
		return nil, false, err
	}
	if err := ev.check(f); err != nil {
		return nil, false, err
	}
	for _, row := range table {
		if backends.MatchFunc(f, row.attrs(), ev.compare) {
			ids = append(ids, row.id)
		}
	}
	return ids, ev.ok, nil
}

// attrs is the row as the filter sees it: a column's text (none for NULL)
// and the reference "teams".
func (row fuzzRow) attrs() backends.Attrs {
	a := backends.Attrs{"teams": row.teams}
	for c, v := range row.cols {
		if v != nil {
			a[c] = []string{*v}
		}
	}
	return a
}

type evaluator struct {
	r  *resource
	ok bool
}

// check refuses what the SQL backend refuses beyond
// backends.ValidateFilter: attributes it does not have, NUL bytes, orderings
// on references and booleans, numbers beyond float64.
func (ev *evaluator) check(f backends.Filter) error {
	switch f := f.(type) {
	case nil:
		return nil
	case backends.And:
		for _, c := range f.Filters {
			if err := ev.check(c); err != nil {
				return err
			}
		}
	case backends.Or:
		for _, c := range f.Filters {
			if err := ev.check(c); err != nil {
				return err
			}
		}
	case backends.Not:
		return ev.check(f.Filter)
	case backends.Present:
		if col, ref := ev.r.readAttr(f.Attr); col == nil && ref == nil {
			return backends.ErrUnsupported
		}
	case backends.Compare:
		if strings.ContainsRune(f.Value, 0) || !utf8.ValidString(f.Value) {
			return backends.ErrInvalid
		}
		col, ref := ev.r.readAttr(f.Attr)
		switch {
		case col == nil && ref == nil:
			return backends.ErrUnsupported
		case ref != nil:
			if f.Op != backends.Eq && f.Op != backends.Ne {
				return backends.ErrUnsupported
			}
			return nil
		}
		switch f.Op {
		case backends.Co, backends.Sw, backends.Ew:
			return nil
		}
		switch f.Kind {
		case backends.KindNumber:
			if n, err := strconv.ParseFloat(strings.TrimSpace(f.Value), 64); err != nil || math.IsInf(n, 0) {
				return backends.ErrInvalid
			}
		case backends.KindBool:
			if f.Op != backends.Eq && f.Op != backends.Ne {
				return backends.ErrUnsupported
			}
		}
	default:
		return backends.ErrUnsupported
	}
	return nil
}

// compare is the SQLite dialect's comparison of one stored value (Op is
// never Ne): ASCII-only case folding, numbers as float64, times to the
// millisecond, booleans true/1 and false/0, references by exact id.
func (ev *evaluator) compare(f backends.Compare, v string) bool {
	col, _ := ev.r.readAttr(f.Attr)
	if col == nil {
		return v == f.Value // a team id
	}
	want := f.Value
	switch f.Op {
	case backends.Co, backends.Sw, backends.Ew:
		if f.IgnoreCase {
			v, want = asciiLower(v), asciiLower(want)
		}
		switch f.Op {
		case backends.Co:
			return strings.Contains(v, want)
		case backends.Sw:
			return strings.HasPrefix(v, want)
		}
		return strings.HasSuffix(v, want)
	}
	var c int
	switch f.Kind {
	case backends.KindNumber:
		if !numberRE.MatchString(v) {
			return false // not a number: matches nothing
		}
		x, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
		y, _ := strconv.ParseFloat(strings.TrimSpace(want), 64)
		c = cmpFloat(x, y)
	case backends.KindTime:
		x, okX := parseStoredTime(v)
		y, _ := time.Parse(time.RFC3339Nano, strings.TrimSpace(want))
		y = y.UTC()
		if y.Nanosecond()%int(time.Millisecond) != 0 || y.Year() < 0 || y.Year() > 9999 {
			ev.ok = false // SQLite's julianday resolves milliseconds, years 0-9999
		}
		if !okX {
			return false
		}
		c = x.Compare(y)
	case backends.KindBool:
		b := asciiLower(v)
		if strings.ToLower(strings.TrimSpace(want)) == "true" {
			return b == "true" || b == "1"
		}
		return b == "false" || b == "0"
	default:
		if strings.Contains(col.info.declType, "int") {
			ev.ok = false // text against an INTEGER column: SQLite's affinity rules decide
		}
		if f.IgnoreCase {
			v, want = asciiLower(v), asciiLower(want)
		}
		c = strings.Compare(v, want)
	}
	switch f.Op {
	case backends.Eq:
		return c == 0
	case backends.Gt:
		return c > 0
	case backends.Ge:
		return c >= 0
	case backends.Lt:
		return c < 0
	case backends.Le:
		return c <= 0
	}
	return false
}

func cmpFloat(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// parseStoredTime reads the stored forms the rows use: RFC 3339 and plain dates.
func parseStoredTime(v string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, time.DateOnly} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
