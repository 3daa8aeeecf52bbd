package rest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// functions are what request and answer expressions may call, besides
// the configuration's own (env, file).
var functions = map[string]function.Function{
	"try":         tryfunc.TryFunc,
	"can":         tryfunc.CanFunc,
	"coalesce":    stdlib.CoalesceFunc,
	"concat":      stdlib.ConcatFunc,
	"contains":    stdlib.ContainsFunc,
	"element":     stdlib.ElementFunc,
	"flatten":     stdlib.FlattenFunc,
	"format":      stdlib.FormatFunc,
	"join":        stdlib.JoinFunc,
	"jsonencode":  stdlib.JSONEncodeFunc,
	"keys":        stdlib.KeysFunc,
	"length":      stdlib.LengthFunc,
	"lookup":      stdlib.LookupFunc,
	"lower":       stdlib.LowerFunc,
	"merge":       stdlib.MergeFunc,
	"regex":       stdlib.RegexFunc,
	"replace":     stdlib.ReplaceFunc,
	"split":       stdlib.SplitFunc,
	"upper":       stdlib.UpperFunc,
	"values":      stdlib.ValuesFunc,
	"tostring":    stdlib.MakeToFunc(cty.String),
	"tonumber":    stdlib.MakeToFunc(cty.Number),
	"tobool":      stdlib.MakeToFunc(cty.Bool),
	"regexescape": regexEscapeFunc,
}

// funcs adds env(), reading the environment as it was when the
// configuration was decoded, so that expressions evaluated per request
// see the same values as the rest of the file.
func (c *Config) funcs() map[string]function.Function {
	c.funcsOnce.Do(func() {
		env := c.env
		if env == nil {
			env = snapshotEnv()
		}
		m := maps.Clone(functions)
		m["env"] = function.New(&function.Spec{
			Params:   []function.Parameter{{Name: "name", Type: cty.String}},
			VarParam: &function.Parameter{Name: "default", Type: cty.String},
			Type:     function.StaticReturnType(cty.String),
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				if v := env[args[0].AsString()]; v != "" {
					return cty.StringVal(v), nil
				}
				if len(args) > 1 {
					return args[1], nil
				}
				return cty.StringVal(""), nil
			},
		})
		c.fns = m
	})
	return c.fns
}

func snapshotEnv() map[string]string {
	m := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// regexEscapeFunc quotes every regular-expression metacharacter (for APIs
// that take a pattern, as json-server's _like does).
var regexEscapeFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "s", Type: cty.String}},
	Type:   function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		return cty.StringVal(regexp.QuoteMeta(args[0].AsString())), nil
	},
})

// evalCtx returns a child of the configuration's context with vars and
// the request functions.
func (c *Config) evalCtx(vars map[string]cty.Value) *hcl.EvalContext {
	var ctx *hcl.EvalContext
	if c.ectx != nil {
		ctx = c.ectx.NewChild()
	} else {
		ctx = &hcl.EvalContext{}
	}
	ctx.Variables = vars
	ctx.Functions = c.funcs()
	return ctx
}

// eval evaluates e; an error names the expression's place in the file.
func (c *Config) eval(e hcl.Expression, vars map[string]cty.Value) (cty.Value, error) {
	v, diags := e.Value(c.evalCtx(vars))
	if diags.HasErrors() {
		return cty.NilVal, diagError(diags)
	}
	return v, nil
}

func diagError(diags hcl.Diagnostics) error {
	var parts []string
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		s := d.Summary
		if d.Detail != "" {
			s += ": " + d.Detail
		}
		if d.Subject != nil {
			s = d.Subject.String() + ": " + s
		}
		parts = append(parts, s)
	}
	return fmt.Errorf("%s", strings.Join(parts, "; "))
}

// decodeJSON decodes an answer's body to cty (numbers keep their text).
func decodeJSON(b []byte) (cty.Value, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return cty.NilVal, err
	}
	if d.More() {
		return cty.NilVal, fmt.Errorf("more than one JSON value")
	}
	return toCty(v)
}

func toCty(v any) (cty.Value, error) {
	switch v := v.(type) {
	case nil:
		return cty.NullVal(cty.DynamicPseudoType), nil
	case string:
		return cty.StringVal(v), nil
	case bool:
		return cty.BoolVal(v), nil
	case json.Number:
		n, err := cty.ParseNumberVal(string(v))
		if err != nil {
			return cty.NilVal, err
		}
		return n, nil
	case []any:
		if len(v) == 0 {
			return cty.EmptyTupleVal, nil
		}
		out := make([]cty.Value, len(v))
		for i, e := range v {
			c, err := toCty(e)
			if err != nil {
				return cty.NilVal, err
			}
			out[i] = c
		}
		return cty.TupleVal(out), nil
	case map[string]any:
		if len(v) == 0 {
			return cty.EmptyObjectVal, nil
		}
		out := make(map[string]cty.Value, len(v))
		for k, e := range v {
			c, err := toCty(e)
			if err != nil {
				return cty.NilVal, err
			}
			out[k] = c
		}
		return cty.ObjectVal(out), nil
	}
	return cty.NilVal, fmt.Errorf("unexpected JSON value %T", v)
}

// toJSON encodes a body value.
func toJSON(v cty.Value) ([]byte, error) {
	if !v.IsWhollyKnown() {
		return nil, fmt.Errorf("the body has unknown values")
	}
	return ctyjson.Marshal(v, v.Type())
}

// strings returns a record field's values as native attribute values:
// text as it is, numbers in decimal, booleans as true/false, arrays
// element by element, objects as JSON. null and "" are no value.
func ctyStrings(v cty.Value) []string {
	if v == cty.NilVal || v.IsNull() || !v.IsKnown() {
		return nil
	}
	t := v.Type()
	switch {
	case t == cty.String:
		if s := v.AsString(); s != "" {
			return []string{s}
		}
		return nil
	case t == cty.Number:
		return []string{numberText(v.AsBigFloat())}
	case t == cty.Bool:
		if v.True() {
			return []string{"true"}
		}
		return []string{"false"}
	case t.IsTupleType() || t.IsListType() || t.IsSetType():
		var out []string
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			out = append(out, ctyStrings(e)...)
		}
		return out
	case t.IsObjectType() || t.IsMapType():
		b, err := toJSON(v)
		if err != nil {
			return nil
		}
		return []string{string(b)}
	}
	return nil
}

func numberText(f *big.Float) string {
	if f.IsInt() {
		i, _ := f.Int(nil)
		return i.String()
	}
	return f.Text('g', -1)
}

// getAttr reads key from an object value, or null.
func getAttr(v cty.Value, key string) cty.Value {
	if v == cty.NilVal || v.IsNull() || !v.IsKnown() {
		return cty.NullVal(cty.DynamicPseudoType)
	}
	t := v.Type()
	if t.IsObjectType() {
		if t.HasAttribute(key) {
			return v.GetAttr(key)
		}
		return cty.NullVal(cty.DynamicPseudoType)
	}
	if t.IsMapType() {
		if v.HasIndex(cty.StringVal(key)).True() {
			return v.Index(cty.StringVal(key))
		}
	}
	return cty.NullVal(cty.DynamicPseudoType)
}

// headerValue returns the answer's headers as an object of lower-case
// names to the first value.
func headerValue(h map[string][]string) cty.Value {
	m := map[string]cty.Value{}
	for k, v := range h {
		if len(v) > 0 {
			m[strings.ToLower(k)] = cty.StringVal(v[0])
		}
	}
	if len(m) == 0 {
		return cty.EmptyObjectVal
	}
	return cty.ObjectVal(m)
}

// queryValues turns an object value into query parameters: null is left
// out, lists repeat the parameter, numbers and booleans are written as
// JSON writes them.
func queryValues(v cty.Value) (map[string][]string, error) {
	out := map[string][]string{}
	if v == cty.NilVal || v.IsNull() {
		return out, nil
	}
	t := v.Type()
	if !t.IsObjectType() && !t.IsMapType() {
		return nil, fmt.Errorf("query must be an object, not %s", t.FriendlyName())
	}
	keys := []string{}
	m := v.AsValueMap()
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		e := m[k]
		if e.IsNull() {
			continue
		}
		et := e.Type()
		if et.IsTupleType() || et.IsListType() || et.IsSetType() {
			for it := e.ElementIterator(); it.Next(); {
				_, x := it.Element()
				s, err := scalarText(x)
				if err != nil {
					return nil, fmt.Errorf("query %q: %w", k, err)
				}
				out[k] = append(out[k], s)
			}
			continue
		}
		s, err := scalarText(e)
		if err != nil {
			return nil, fmt.Errorf("query %q: %w", k, err)
		}
		out[k] = append(out[k], s)
	}
	return out, nil
}

func scalarText(v cty.Value) (string, error) {
	if !v.IsKnown() {
		return "", fmt.Errorf("unknown value")
	}
	switch v.Type() {
	case cty.String:
		return v.AsString(), nil
	case cty.Number:
		return numberText(v.AsBigFloat()), nil
	case cty.Bool:
		if v.True() {
			return "true", nil
		}
		return "false", nil
	}
	return "", fmt.Errorf("a %s is not a query value", v.Type().FriendlyName())
}

// stringValue evaluates to a string or an error.
func asString(v cty.Value) (string, bool) {
	if v == cty.NilVal || v.IsNull() || !v.IsKnown() {
		return "", false
	}
	s, err := scalarText(v)
	if err != nil {
		return "", false
	}
	return s, true
}
