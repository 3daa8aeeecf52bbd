package scim

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	filter "github.com/scim2/filter-parser/v2"
)

// CheckFilter verifies that every attribute a filter names exists.
func CheckFilter(rt *ResourceType, e filter.Expression) error {
	return WalkFilter(rt, e, nil)
}

// WalkFilter checks a filter as CheckFilter does and calls fn, when not
// nil, with every attribute path the filter names: each compared
// attribute, and for a value filter (emails[type eq "work"]) the
// multi-valued attribute and each of its sub-attributes the filter names.
// An error from fn stops the walk and is returned.
func WalkFilter(rt *ResourceType, e filter.Expression, fn func(Path) error) error {
	visit := func(p Path) error {
		if fn == nil {
			return nil
		}
		return fn(p)
	}
	switch x := e.(type) {
	case *filter.AttributeExpression:
		p, err := ResolveFilterPath(rt, x.AttributePath)
		if err != nil {
			return err
		}
		return visit(p)
	case *filter.LogicalExpression:
		if err := WalkFilter(rt, x.Left, fn); err != nil {
			return err
		}
		return WalkFilter(rt, x.Right, fn)
	case *filter.NotExpression:
		return WalkFilter(rt, x.Expression, fn)
	case *filter.ValuePath:
		p, err := ResolveFilterPath(rt, x.AttributePath)
		if err != nil {
			return err
		}
		if !p.Attr.MultiValued && p.Attr.Type != TypeComplex {
			return BadRequest(TypeInvalidFilter, "%q cannot take a value filter", p.Attr.Name)
		}
		if err := CheckValueFilter(p.Attr, x.ValueFilter); err != nil {
			return err
		}
		if err := visit(p); err != nil {
			return err
		}
		return WalkValueFilter(p, x.ValueFilter, fn)
	}
	return BadRequest(TypeInvalidFilter, "invalid filter")
}

// WalkValueFilter calls fn with the path of each sub-attribute a value
// filter of the attribute at p names (the attribute itself for the
// "value" of a multi-valued simple attribute). The filter must have passed
// CheckValueFilter.
func WalkValueFilter(p Path, e filter.Expression, fn func(Path) error) error {
	if fn == nil {
		return nil
	}
	switch x := e.(type) {
	case *filter.AttributeExpression:
		sp := Path{Schema: p.Schema, Attr: p.Attr, Common: p.Common}
		if p.Attr.Type == TypeComplex {
			sp.Sub = p.Attr.Sub(x.AttributePath.AttributeName)
		}
		return fn(sp)
	case *filter.LogicalExpression:
		if err := WalkValueFilter(p, x.Left, fn); err != nil {
			return err
		}
		return WalkValueFilter(p, x.Right, fn)
	case *filter.NotExpression:
		return WalkValueFilter(p, x.Expression, fn)
	}
	return nil
}

// Match evaluates a filter against a resource.
func Match(rt *ResourceType, e filter.Expression, doc Doc) bool {
	switch x := e.(type) {
	case *filter.AttributeExpression:
		p, err := ResolveFilterPath(rt, x.AttributePath)
		if err != nil {
			return false
		}
		a := p.Attr
		vals := asList(GetPath(rt, doc, p))
		if p.Sub != nil {
			a = p.Sub
		} else if a.Type == TypeComplex && a.MultiValued {
			// "emails co x" means emails.value.
			vals = asList(GetPath(rt, doc, Path{Schema: p.Schema, Attr: p.Attr, Sub: a.Sub("value")}))
			if s := a.Sub("value"); s != nil {
				a = s
			}
		}
		return compareAny(a, vals, x.Operator, x.CompareValue)
	case *filter.LogicalExpression:
		if x.Operator == filter.AND {
			return Match(rt, x.Left, doc) && Match(rt, x.Right, doc)
		}
		return Match(rt, x.Left, doc) || Match(rt, x.Right, doc)
	case *filter.NotExpression:
		return !Match(rt, x.Expression, doc)
	case *filter.ValuePath:
		p, err := ResolveFilterPath(rt, x.AttributePath)
		if err != nil {
			return false
		}
		for _, el := range asList(GetPath(rt, doc, Path{Schema: p.Schema, Attr: p.Attr})) {
			if MatchElement(p.Attr, x.ValueFilter, el) {
				return true
			}
		}
	}
	return false
}

// MatchElement evaluates a value filter against one element of a
// multi-valued attribute.
func MatchElement(a *Attribute, e filter.Expression, el any) bool {
	switch x := e.(type) {
	case *filter.AttributeExpression:
		name := x.AttributePath.AttributeName
		if a.Type != TypeComplex {
			if !strings.EqualFold(name, "value") {
				return false
			}
			return compareAny(a, []any{el}, x.Operator, x.CompareValue)
		}
		sub := a.Sub(name)
		m, ok := el.(map[string]any)
		if sub == nil || !ok {
			return false
		}
		return compareAny(sub, asList(m[sub.Name]), x.Operator, x.CompareValue)
	case *filter.LogicalExpression:
		if x.Operator == filter.AND {
			return MatchElement(a, x.Left, el) && MatchElement(a, x.Right, el)
		}
		return MatchElement(a, x.Left, el) || MatchElement(a, x.Right, el)
	case *filter.NotExpression:
		return !MatchElement(a, x.Expression, el)
	}
	return false
}

func compareAny(a *Attribute, vals []any, op filter.CompareOperator, cv any) bool {
	switch op {
	case filter.PR:
		for _, v := range vals {
			if !isEmpty(v) {
				return true
			}
		}
		return false
	case filter.NE:
		return !compareAny(a, vals, filter.EQ, cv)
	}
	for _, v := range vals {
		if CompareValues(a, v, op, cv) {
			return true
		}
	}
	return false
}

// CompareValues compares one attribute value with a filter literal.
func CompareValues(a *Attribute, v any, op filter.CompareOperator, cv any) bool {
	if cv == nil {
		return op == filter.EQ && isEmpty(v)
	}
	switch a.Type {
	case TypeBoolean:
		b, ok1 := toBool(v)
		c, ok2 := toBool(cv)
		if !ok1 || !ok2 {
			return false
		}
		return op == filter.EQ && b == c
	case TypeInteger, TypeDecimal:
		f, ok1 := toFloat(v)
		c, ok2 := toFloat(cv)
		if !ok1 || !ok2 {
			return false
		}
		return ordered(op, cmpFloat(f, c))
	case TypeDateTime:
		t1, err1 := ParseTime(fmt.Sprint(v))
		t2, err2 := ParseTime(fmt.Sprint(cv))
		if err1 != nil || err2 != nil {
			return false
		}
		return ordered(op, t1.Compare(t2))
	}
	s, c := fmt.Sprint(v), fmt.Sprint(cv)
	if !a.CaseExact {
		s, c = strings.ToLower(s), strings.ToLower(c)
	}
	switch op {
	case filter.CO:
		return strings.Contains(s, c)
	case filter.SW:
		return strings.HasPrefix(s, c)
	case filter.EW:
		return strings.HasSuffix(s, c)
	}
	return ordered(op, strings.Compare(s, c))
}

func ordered(op filter.CompareOperator, c int) bool {
	switch op {
	case filter.EQ:
		return c == 0
	case filter.GT:
		return c > 0
	case filter.GE:
		return c >= 0
	case filter.LT:
		return c < 0
	case filter.LE:
		return c <= 0
	}
	return false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func toBool(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case string:
		b, err := strconv.ParseBool(strings.ToLower(x))
		return b, err == nil
	}
	return false, false
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

// FilterValueString renders a filter literal as text.
func FilterValueString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case json.Number:
		return x.String()
	}
	return fmt.Sprint(v)
}
