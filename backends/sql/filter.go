package sql

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/backends"
)

// tableAlias is the alias of the resource's table in searches.
const tableAlias = "t"

// compiler turns a backends.Filter into a parameterised WHERE expression.
type compiler struct {
	b   *builder
	r   *resource
	neg int // how many NOTs enclose the current node
}

// where compiles f; the SQL text may only be appended to b after any
// earlier placeholders, which is how callers use it.
func where(b *builder, r *resource, f backends.Filter) (string, error) {
	if err := backends.ValidateFilter(f); err != nil {
		return "", fmt.Errorf("sql: %w", err)
	}
	c := &compiler{b: b, r: r}
	return c.compile(f)
}

func (c *compiler) col(col *column) colExpr {
	return colExpr{sql: tableAlias + "." + c.b.q(col.name), info: col.info, naive: col.naive}
}

func (c *compiler) compile(f backends.Filter) (string, error) {
	switch f := f.(type) {
	case backends.And:
		return c.join(f.Filters, " AND ", true)
	case backends.Or:
		return c.join(f.Filters, " OR ", false)
	case backends.Not:
		c.neg++
		inner, err := c.compile(f.Filter)
		c.neg--
		if err != nil {
			return "", err
		}
		return "NOT (" + inner + ")", nil
	case backends.Present:
		col, ref := c.r.readAttr(f.Attr)
		switch {
		case col != nil:
			cn := c.col(col)
			return "(" + cn.sql + " IS NOT NULL AND " + c.b.d.text(cn) + " <> '')", nil
		case ref != nil && ref.layout == layoutValues:
			return c.valuesFilter(ref, nil)
		case ref != nil:
			return c.exists(ref, nil), nil
		}
		return "", unknownAttr(c.r, f.Attr)
	case backends.Compare:
		return c.compare(f)
	case nil:
		return c.b.d.truth(true), nil
	}
	return "", fmt.Errorf("sql: filter %T: %w", f, backends.ErrUnsupported)
}

func (c *compiler) join(fs []backends.Filter, sep string, empty bool) (string, error) {
	if len(fs) == 0 {
		return c.b.d.truth(empty), nil
	}
	parts := make([]string, len(fs))
	for i, f := range fs {
		p, err := c.compile(f)
		if err != nil {
			return "", err
		}
		parts[i] = "(" + p + ")"
	}
	return strings.Join(parts, sep), nil
}

func unknownAttr(r *resource, attr string) error {
	return fmt.Errorf("sql: %s has no attribute %q to filter on: %w", r.name, attr, backends.ErrUnsupported)
}

// exists is the EXISTS subquery over a reference's join table, optionally
// for one target key.
func (c *compiler) exists(ref *reference, key any) string {
	b := c.b
	if ref.layout == layoutDelim {
		return c.delimHas(ref, key)
	}
	s := "EXISTS (SELECT 1 FROM " + b.q(ref.joinTable) + " j WHERE j." + b.q(ref.this) + " = " + tableAlias + "." + b.q(c.r.idCol)
	if key != nil {
		s += " AND j." + b.q(ref.other) + " = " + b.arg(key)
	} else if ref.layout == layoutLocal {
		s += " AND j." + b.q(ref.other) + " IS NOT NULL"
	}
	return s + ")"
}

func (c *compiler) compare(f backends.Compare) (string, error) {
	if p := textProblem(f.Value); p != "" {
		return "", fmt.Errorf("sql: filter values for %s must %s: %w", f.Attr, p, backends.ErrInvalid)
	}
	col, ref := c.r.readAttr(f.Attr)
	if ref != nil && ref.layout == layoutValues {
		return c.valuesFilter(ref, &f)
	}
	if ref != nil {
		return c.compareRef(ref, f)
	}
	if col == nil {
		return "", unknownAttr(c.r, f.Attr)
	}
	if f.Op == backends.Ne {
		eq := f
		eq.Op = backends.Eq
		c.neg++
		p, err := c.compare(eq)
		c.neg--
		if err != nil {
			return "", err
		}
		return "NOT (" + p + ")", nil
	}
	p, err := c.predicate(c.col(col), f)
	if err != nil {
		return "", err
	}
	if c.neg > 0 {
		// Under NOT a NULL column must read as "no match", not unknown.
		return c.b.d.nullFalse(p), nil
	}
	return p, nil
}

// predicate compares the column expression cn (a column of the record or
// the value column of a multi_value) with f.
func (c *compiler) predicate(cn colExpr, f backends.Compare) (string, error) {
	d, b := c.b.d, c.b
	switch f.Op {
	case backends.Co, backends.Sw, backends.Ew:
		return d.substring(b, f.Op, cn, f.Value, f.IgnoreCase), nil
	case backends.Eq, backends.Gt, backends.Ge, backends.Lt, backends.Le:
	default:
		return "", fmt.Errorf("sql: filter operator %q: %w", f.Op, backends.ErrUnsupported)
	}
	switch f.Kind {
	case backends.KindNumber:
		v := strings.TrimSpace(f.Value)
		n, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsInf(n, 0) || math.IsNaN(n) {
			return "", fmt.Errorf("sql: filter value %q for %s is not a number: %w", f.Value, f.Attr, backends.ErrInvalid)
		}
		// Bound as decimal text: exact where the database compares decimals.
		return d.number(cn) + " " + sqlOp(f.Op) + " " + d.numberParam(b.arg(strconv.FormatFloat(n, 'f', -1, 64))), nil
	case backends.KindTime:
		t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(f.Value))
		if err != nil {
			return "", fmt.Errorf("sql: filter value %q for %s is not an RFC 3339 time: %w", f.Value, f.Attr, backends.ErrInvalid)
		}
		return c.timeCompare(cn, sqlOp(f.Op), t), nil
	case backends.KindBool:
		if f.Op != backends.Eq {
			return "", fmt.Errorf("sql: ordering booleans: %w", backends.ErrUnsupported)
		}
		var vals []any
		switch strings.ToLower(strings.TrimSpace(f.Value)) {
		case "true":
			vals = []any{"true", "1"}
		case "false":
			vals = []any{"false", "0"}
		default:
			return "", fmt.Errorf("sql: filter value %q for %s is not a boolean: %w", f.Value, f.Attr, backends.ErrInvalid)
		}
		return "lower(" + d.text(cn) + ") IN (" + b.list(vals) + ")", nil
	}
	if f.Op == backends.Eq {
		return d.equal(b, cn, f.Value, f.IgnoreCase), nil
	}
	return d.order(b, f.Op, cn, f.Value, f.IgnoreCase), nil
}

// compareRef supports eq and ne on reference attributes (membership).
func (c *compiler) compareRef(ref *reference, f backends.Compare) (string, error) {
	switch f.Op {
	case backends.Eq, backends.Ne:
	default:
		return "", fmt.Errorf("sql: operator %q on reference %s: %w", f.Op, ref.attr, backends.ErrUnsupported)
	}
	key, ok := ref.target.parseID(f.Value)
	var p string
	if ok {
		p = c.exists(ref, key)
	} else {
		p = c.b.d.truth(false) // no record has that id
	}
	if f.Op == backends.Ne {
		return "NOT (" + p + ")", nil
	}
	return p, nil
}
