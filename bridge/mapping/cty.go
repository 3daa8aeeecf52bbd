package mapping

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/scimbridge/scimbridge/bridge/scim"
)

// toCty converts a JSON-like Go value to cty.
func toCty(v any) cty.Value {
	switch x := v.(type) {
	case nil:
		return cty.NullVal(cty.DynamicPseudoType)
	case string:
		return cty.StringVal(x)
	case bool:
		return cty.BoolVal(x)
	case int64:
		return cty.NumberIntVal(x)
	case int:
		return cty.NumberIntVal(int64(x))
	case float64:
		return cty.NumberFloatVal(x)
	case json.Number:
		if f, ok := new(big.Float).SetString(x.String()); ok {
			return cty.NumberVal(f)
		}
		return cty.StringVal(x.String())
	case map[string]any:
		if len(x) == 0 {
			return cty.EmptyObjectVal
		}
		m := make(map[string]cty.Value, len(x))
		for k, vv := range x {
			m[k] = toCty(vv)
		}
		return cty.ObjectVal(m)
	case []any:
		if len(x) == 0 {
			return cty.EmptyTupleVal
		}
		l := make([]cty.Value, len(x))
		for i, vv := range x {
			l[i] = toCty(vv)
		}
		return cty.TupleVal(l)
	case []string:
		if len(x) == 0 {
			return cty.ListValEmpty(cty.String)
		}
		l := make([]cty.Value, len(x))
		for i, s := range x {
			l[i] = cty.StringVal(s)
		}
		return cty.ListVal(l)
	}
	return cty.StringVal(fmt.Sprint(v))
}

// fromCty converts a cty value back to a JSON-like Go value.
func fromCty(v cty.Value) any {
	if v.IsNull() || !v.IsKnown() {
		return nil
	}
	t := v.Type()
	switch {
	case t == cty.String:
		return v.AsString()
	case t == cty.Bool:
		return v.True()
	case t == cty.Number:
		bf := v.AsBigFloat()
		if bf.IsInt() {
			if i, acc := bf.Int64(); acc == big.Exact {
				return i
			}
		}
		f, _ := bf.Float64()
		return f
	case t.IsListType() || t.IsTupleType() || t.IsSetType():
		var out []any
		for it := v.ElementIterator(); it.Next(); {
			_, ev := it.Element()
			if x := fromCty(ev); x != nil {
				out = append(out, x)
			}
		}
		return out
	case t.IsMapType() || t.IsObjectType():
		out := map[string]any{}
		for it := v.ElementIterator(); it.Next(); {
			k, ev := it.Element()
			if x := fromCty(ev); x != nil {
				out[k.AsString()] = x
			}
		}
		return out
	}
	return nil
}

// nativeStrings turns an expression result (or a plain SCIM value) into
// native string values.
func nativeStrings(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		if x == "" {
			return nil
		}
		return []string{x}
	case bool:
		if x {
			return []string{"true"}
		}
		return []string{"false"}
	case []any:
		var out []string
		for _, el := range x {
			out = append(out, nativeStrings(el)...)
		}
		return out
	case map[string]any:
		if vv, ok := x["value"]; ok {
			return nativeStrings(vv)
		}
		b, _ := json.Marshal(x)
		return []string{string(b)}
	}
	return []string{scim.FilterValueString(v)}
}

// resourceObject builds the `resource` variable: every attribute of the
// resource type's schemas is present (null when absent) so that mapping
// expressions can reference any of them, and complex attributes are
// objects whose sub-attributes are all present.
func resourceObject(rt *scim.ResourceType, doc scim.Doc) cty.Value {
	top := schemaObject(rt.Schema, doc)
	attrs := top.AsValueMap()
	if attrs == nil {
		attrs = map[string]cty.Value{}
	}
	for _, c := range scim.CommonAttributes() {
		attrs[c.Name] = attrValue(c, doc[c.Name])
	}
	for _, e := range rt.Extensions {
		sub, _ := doc[e.Schema.ID].(map[string]any)
		ov := schemaObject(e.Schema, sub)
		attrs[e.Schema.ID] = ov
		attrs[extAlias(e.Schema)] = ov
	}
	return cty.ObjectVal(attrs)
}

// extAlias is the short name of an extension in expressions:
// resource.enterprise.department.
func extAlias(s *scim.Schema) string {
	if s.ID == scim.EnterpriseSchema {
		return "enterprise"
	}
	n := s.Name
	if n == "" {
		parts := strings.Split(s.ID, ":")
		n = parts[len(parts)-1]
	}
	return strings.ToLower(n[:1]) + n[1:]
}

func schemaObject(s *scim.Schema, m map[string]any) cty.Value {
	attrs := map[string]cty.Value{}
	for _, a := range s.Attributes {
		var v any
		if m != nil {
			v = m[a.Name]
		}
		attrs[a.Name] = attrValue(a, v)
	}
	return cty.ObjectVal(attrs)
}

func attrValue(a *scim.Attribute, v any) cty.Value {
	if a.MultiValued {
		if v == nil {
			return cty.EmptyTupleVal
		}
		return toCty(v)
	}
	if a.Type == scim.TypeComplex {
		m, _ := v.(map[string]any)
		subs := map[string]cty.Value{}
		for _, s := range a.SubAttributes {
			subs[s.Name] = toCty(m[s.Name])
		}
		return cty.ObjectVal(subs)
	}
	return toCty(v)
}

func convertTo(v cty.Value, t cty.Type) (cty.Value, error) {
	if v.IsNull() {
		return cty.NullVal(t), nil
	}
	return convert.Convert(v, t)
}
