package mapping

import (
	"strings"

	filter "github.com/scim2/filter-parser/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/scim"
)

// Compile translates a SCIM filter into a native query. exact reports
// whether the native filter selects exactly the matching resources; when it
// is false, f (possibly nil: everything) selects a superset and the caller
// must evaluate the SCIM filter in memory.
func (m *Mapping) Compile(e filter.Expression) (f backends.Filter, exact bool) {
	f, exact, _ = m.CompileResidual(e)
	return f, exact
}

// CompileResidual is Compile that also names, in canonical form and once
// each, the attribute paths of the terms it could not translate: what the
// caller must evaluate in memory, and what an error telling the client
// that such a query is too broad should name.
func (m *Mapping) CompileResidual(e filter.Expression) (f backends.Filter, exact bool, residual []string) {
	c := compiler{m: m, seen: map[string]bool{}}
	f, exact = c.compile(e)
	return f, exact, c.residual
}

// compiler collects the terms that stay for the bridge to evaluate.
type compiler struct {
	m        *Mapping
	residual []string
	seen     map[string]bool
}

// leftOver records a term that was not translated.
func (c *compiler) leftOver(ap filter.AttributePath) {
	name := ap.String()
	if p, err := scim.ResolveFilterPath(c.m.RT, ap); err == nil {
		name = p.String()
	}
	if !c.seen[name] {
		c.seen[name] = true
		c.residual = append(c.residual, name)
	}
}

func (c *compiler) compile(e filter.Expression) (backends.Filter, bool) {
	switch x := e.(type) {
	case *filter.AttributeExpression:
		f, ok := c.m.compileCompare(x)
		if !ok {
			c.leftOver(x.AttributePath)
		}
		return f, ok
	case *filter.LogicalExpression:
		lf, lx := c.compile(x.Left)
		rf, rx := c.compile(x.Right)
		if x.Operator == filter.AND {
			switch {
			case lf != nil && rf != nil:
				return backends.And{Filters: []backends.Filter{lf, rf}}, lx && rx
			case lf != nil:
				return lf, false
			case rf != nil:
				return rf, false
			}
			return nil, false
		}
		if lf != nil && rf != nil && lx && rx {
			return backends.Or{Filters: []backends.Filter{lf, rf}}, true
		}
		if lf != nil && rf != nil {
			// Both halves select supersets: so does their union.
			return backends.Or{Filters: []backends.Filter{lf, rf}}, false
		}
		return nil, false
	case *filter.NotExpression:
		inner, ok := c.compile(x.Expression)
		if inner != nil && ok {
			return backends.Not{Filter: inner}, true
		}
		return nil, false
	case *filter.ValuePath:
		f, ok := c.m.compileValuePath(x)
		if !ok {
			c.leftOver(x.AttributePath)
		}
		return f, ok
	}
	return nil, false
}

func (m *Mapping) compileCompare(x *filter.AttributeExpression) (backends.Filter, bool) {
	p, err := scim.ResolveFilterPath(m.RT, x.AttributePath)
	if err != nil || (p.Common && p.Attr.Name == "id") {
		return nil, false
	}
	var targets []*Attr
	if p.Attr.MultiValued {
		if p.Sub != nil && p.Sub.Name != "value" {
			return nil, false
		}
		for _, a := range m.Attrs {
			if a.Path.Schema == p.Schema && a.Path.Attr == p.Attr && !a.WriteOnly &&
				(a.Kind == Collection || (a.Kind == Element && a.Path.Sub.Name == "value")) {
				targets = append(targets, a)
			}
		}
	} else {
		sub := p.Sub
		if sub == nil && p.Attr.Type == scim.TypeComplex {
			sub = p.Attr.Sub("value")
		}
		for _, a := range m.Attrs {
			if a.Kind == Single && !a.WriteOnly && a.Path.Schema == p.Schema && a.Path.Attr == p.Attr && a.Path.Sub == sub {
				targets = append(targets, a)
			}
		}
	}
	if len(targets) == 0 {
		return nil, false
	}
	return m.compileOn(targets, x.Operator, x.CompareValue)
}

func (m *Mapping) compileOn(targets []*Attr, op filter.CompareOperator, cv any) (backends.Filter, bool) {
	var parts []backends.Filter
	exact := true
	for _, a := range targets {
		if a.Default != nil {
			// A stored default reads back as no value: the native filter
			// selects a superset, which the caller narrows in memory (and
			// cannot be negated).
			if op == filter.NE {
				return nil, false
			}
			exact = false
		}
		f, ok := m.compileOne(a, op, cv)
		if !ok {
			return nil, false
		}
		parts = append(parts, f)
	}
	if len(parts) == 1 {
		return parts[0], exact
	}
	if op == filter.NE {
		return backends.And{Filters: parts}, exact
	}
	return backends.Or{Filters: parts}, exact
}

// compileOne translates one comparison on one mapped attribute. Filters
// must select exactly what reads say, so the translation follows the read
// direction: a plain mapping (no from_native) reads the native value as it
// is, and the comparison is pushed down on it (to_native shapes writes,
// not reads); a from_native expression cannot be inverted in general (the
// status 'L' that reads as active, a quota in MB that reads in GB), so its
// attribute is compared in memory unless the admin says, with
// filter_values, which native values read as the compared value.
func (m *Mapping) compileOne(a *Attr, op filter.CompareOperator, cv any) (backends.Filter, bool) {
	if a.FromNative != nil {
		return m.compileFilterValues(a, op, cv)
	}
	if op == filter.PR {
		return backends.Present{Attr: a.Native}, true
	}
	if cv == nil {
		return nil, false
	}
	leaf := a.Target
	value, err := scim.CoerceSimple(leaf, cv)
	if err != nil {
		return nil, false
	}
	c := backends.Compare{Attr: a.Native, Op: backends.Op(op), Value: scim.FilterValueString(value)}
	switch leaf.Type {
	case scim.TypeBoolean:
		if op != filter.EQ && op != filter.NE {
			return nil, false
		}
		c.Kind, c.IgnoreCase = backends.KindBool, true
	case scim.TypeInteger, scim.TypeDecimal:
		c.Kind = backends.KindNumber
		if op == filter.CO || op == filter.SW || op == filter.EW {
			return nil, false
		}
	case scim.TypeDateTime:
		c.Kind = backends.KindTime
		if op == filter.CO || op == filter.SW || op == filter.EW {
			return nil, false
		}
	default:
		c.IgnoreCase = !leaf.CaseExact
	}
	return c, true
}

// compileFilterValues pushes eq and ne down through an attribute's
// filter_values: the native values (null: no value) that read as the
// compared value. For a boolean attribute, null instead of a list for one
// side means "every native value the other side does not list".
func (m *Mapping) compileFilterValues(a *Attr, op filter.CompareOperator, cv any) (backends.Filter, bool) {
	if a.FilterValues == nil || (op != filter.EQ && op != filter.NE) || cv == nil {
		return nil, false
	}
	value, err := scim.CoerceSimple(a.Target, cv)
	if err != nil {
		return nil, false
	}
	in, ok := a.filterValuesFor(m, value)
	if !ok && a.Target.Type == scim.TypeBoolean {
		b, _ := value.(bool)
		other, ok2 := a.filterValuesFor(m, !b)
		if !ok2 || other == nil {
			return nil, false
		}
		in, ok = backends.Not{Filter: other}, true
	}
	if !ok || in == nil {
		return nil, false
	}
	if op == filter.NE {
		return backends.Not{Filter: in}, true
	}
	return in, true
}

// filterValuesFor evaluates filter_values for one SCIM value: the filter
// selecting the native values listed; ok is false when the expression
// gives null (or fails).
func (a *Attr) filterValuesFor(m *Mapping, value any) (backends.Filter, bool) {
	res, diags := a.FilterValues.Value(m.evalCtx(map[string]cty.Value{"value": toCty(value)}))
	if diags.HasErrors() || res.IsNull() || !res.IsKnown() {
		return nil, false
	}
	var elems []cty.Value
	if res.Type().IsListType() || res.Type().IsTupleType() || res.Type().IsSetType() {
		elems = res.AsValueSlice()
	} else {
		elems = []cty.Value{res}
	}
	var parts []backends.Filter
	for _, el := range elems {
		if el.IsNull() {
			parts = append(parts, backends.Not{Filter: backends.Present{Attr: a.Native}})
			continue
		}
		s := nativeStrings(fromCty(el))
		if len(s) != 1 {
			return nil, false
		}
		parts = append(parts, backends.Compare{Attr: a.Native, Op: backends.Eq, Value: s[0]})
	}
	switch len(parts) {
	case 0:
		// No native value reads as value (a name no lookup table has):
		// nothing matches, which the directory can say without a scan.
		return backends.And{Filters: []backends.Filter{backends.Present{Attr: a.Native}, backends.Not{Filter: backends.Present{Attr: a.Native}}}}, true
	case 1:
		return parts[0], true
	}
	return backends.Or{Filters: parts}, true
}

// compileValuePath handles emails[type eq "work" and value co "x"] and
// members[value eq "id"].
func (m *Mapping) compileValuePath(x *filter.ValuePath) (backends.Filter, bool) {
	p, err := scim.ResolveFilterPath(m.RT, x.AttributePath)
	if err != nil || !p.Attr.MultiValued {
		return nil, false
	}
	var valueTerm *filter.AttributeExpression
	others := map[string]any{}
	var walk func(e filter.Expression) bool
	walk = func(e filter.Expression) bool {
		switch t := e.(type) {
		case *filter.AttributeExpression:
			if strings.EqualFold(t.AttributePath.AttributeName, "value") && valueTerm == nil {
				valueTerm = t
				return true
			}
			if t.Operator != filter.EQ {
				return false
			}
			others[strings.ToLower(t.AttributePath.AttributeName)] = t.CompareValue
			return true
		case *filter.LogicalExpression:
			return t.Operator == filter.AND && walk(t.Left) && walk(t.Right)
		}
		return false
	}
	if !walk(x.ValueFilter) || valueTerm == nil {
		return nil, false
	}
	var targets []*Attr
	for _, a := range m.Attrs {
		if a.Path.Schema != p.Schema || a.Path.Attr != p.Attr || a.WriteOnly {
			continue
		}
		switch {
		case a.Kind == Collection && len(others) == 0:
			targets = append(targets, a)
		case a.Kind == Element && a.Path.Sub.Name == "value" && selectorEquals(a.Selector, others):
			targets = append(targets, a)
		}
	}
	if len(targets) == 0 {
		return nil, false
	}
	return m.compileOn(targets, valueTerm.Operator, valueTerm.CompareValue)
}

func selectorEquals(sel map[string]any, terms map[string]any) bool {
	if len(sel) != len(terms) {
		return false
	}
	for k, v := range sel {
		tv, ok := terms[strings.ToLower(k)]
		if !ok || !strings.EqualFold(scim.FilterValueString(v), scim.FilterValueString(tv)) {
			return false
		}
	}
	return true
}

// SortKey returns the native attribute to sort by for a SCIM path. A
// write-only attribute (a password) is never a sort key: the order of the
// answers would reveal the stored values.
func (m *Mapping) SortKey(path string) (string, bool) {
	rt := m.RT
	p, err := scim.ResolvePath(rt, path)
	if err != nil || p.Filter != nil {
		return "", false
	}
	for _, a := range m.Attrs {
		if a.Kind == Single && a.FromNative == nil && a.Default == nil && !a.WriteOnly && a.Path.Schema == p.Schema && a.Path.Attr == p.Attr && a.Path.Sub == p.Sub {
			return a.Native, true
		}
	}
	return "", false
}
