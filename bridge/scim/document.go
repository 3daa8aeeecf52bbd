package scim

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Doc is a SCIM resource as a JSON object with canonical attribute names:
// core attributes at the top level, extension attributes in an object under
// the extension's URN.
type Doc = map[string]any

// Normalize turns a decoded JSON resource into a Doc: attribute names
// become canonical, JSON nulls are dropped, values are coerced to their
// schema types where clients send them loosely (booleans as "True",
// numbers as strings, a bare manager id), unknown extension URNs are
// ignored and unknown core attributes are rejected.
func Normalize(rt *ResourceType, raw map[string]any) (Doc, error) {
	out := Doc{}
	for k, v := range raw {
		if v == nil {
			continue
		}
		switch {
		case strings.EqualFold(k, "schemas"):
			continue
		case strings.HasPrefix(strings.ToLower(k), "urn:"):
			obj, ok := v.(map[string]any)
			if strings.EqualFold(k, rt.Schema.ID) && ok {
				inner, err := Normalize(rt, obj)
				if err != nil {
					return nil, err
				}
				for ik, iv := range inner {
					out[ik] = iv
				}
				continue
			}
			ext := rt.Extension(k)
			if ext == nil {
				// A path-qualified attribute (urn:...:User:employeeNumber).
				if p, err := ResolvePath(rt, k); err == nil && p.Attr != nil && p.Filter == nil {
					if err := SetPath(rt, out, p, v); err != nil {
						return nil, err
					}
				}
				continue // unknown URN: tolerated and ignored
			}
			if !ok {
				return nil, BadRequest(TypeInvalidValue, "%q must be an object", k)
			}
			sub, err := normalizeAttrs(ext, obj, ext.ID)
			if err != nil {
				return nil, err
			}
			if len(sub) > 0 {
				out[ext.ID] = sub
			}
		default:
			a := rt.Schema.Attr(k)
			if a == nil {
				a = Common(k)
			}
			if a == nil {
				return nil, BadRequest(TypeInvalidValue, "unknown attribute %q", k)
			}
			cv, err := CoerceValue(a, v)
			if err != nil {
				return nil, err
			}
			if cv != nil {
				out[a.Name] = cv
			}
		}
	}
	return out, nil
}

func normalizeAttrs(s *Schema, obj map[string]any, where string) (map[string]any, error) {
	out := map[string]any{}
	for k, v := range obj {
		if v == nil {
			continue
		}
		a := s.Attr(k)
		if a == nil {
			return nil, BadRequest(TypeInvalidValue, "unknown attribute %q in %s", k, where)
		}
		cv, err := CoerceValue(a, v)
		if err != nil {
			return nil, err
		}
		if cv != nil {
			out[a.Name] = cv
		}
	}
	return out, nil
}

// MaxValues bounds the values of one multi-valued attribute (other than a
// group's members, which have their own limit).
const MaxValues = 1000

// CoerceValue checks v against a and returns it in canonical form; nil
// means "no value" (JSON null, empty list).
func CoerceValue(a *Attribute, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if a.MultiValued {
		list, ok := v.([]any)
		if !ok {
			list = []any{v}
		}
		if len(list) > MaxValues && a.Name != "members" {
			return nil, BadRequest(TypeTooMany, "attribute %q has more than %d values", a.Name, MaxValues)
		}
		out := make([]any, 0, len(list))
		for _, el := range list {
			cv, err := coerceSingle(a, el)
			if err != nil {
				return nil, err
			}
			if cv != nil {
				out = append(out, cv)
			}
		}
		return out, nil
	}
	if list, ok := v.([]any); ok {
		if len(list) == 1 {
			return coerceSingle(a, list[0])
		}
		return nil, BadRequest(TypeInvalidValue, "attribute %q is single-valued", a.Name)
	}
	return coerceSingle(a, v)
}

func coerceSingle(a *Attribute, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if a.Type != TypeComplex {
		return CoerceSimple(a, v)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		// A bare string for a complex attribute: Entra's manager id, or a
		// plain list of e-mail addresses.
		if _, isString := v.(string); !isString || a.Sub("value") == nil {
			return nil, BadRequest(TypeInvalidValue, "attribute %q must be an object", a.Name)
		}
		s, err := CoerceSimple(a.Sub("value"), v)
		if err != nil {
			return nil, err
		}
		if s == "" {
			return nil, nil
		}
		return map[string]any{"value": s}, nil
	}
	out := map[string]any{}
	for k, sv := range obj {
		if sv == nil {
			continue
		}
		sub := subFor(a, k)
		if sub == nil {
			return nil, BadRequest(TypeInvalidValue, "unknown sub-attribute %q of %q", k, a.Name)
		}
		cv, err := CoerceSimple(sub, sv)
		if err != nil {
			return nil, err
		}
		if cv != nil {
			out[sub.Name] = cv
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// CoerceSimple converts a JSON value to the Go form of a simple attribute:
// string, bool, int64, float64. Loose client forms are accepted.
func CoerceSimple(a *Attribute, v any) (any, error) {
	switch a.Type {
	case TypeBoolean:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
		}
		return nil, BadRequest(TypeInvalidValue, "attribute %q must be a boolean", a.Name)
	case TypeInteger:
		switch x := v.(type) {
		case json.Number:
			if n, err := x.Int64(); err == nil {
				return n, nil
			}
		case float64:
			if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
				return int64(x), nil
			}
		case int64:
			return x, nil
		case int:
			return int64(x), nil
		case string:
			if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
				return n, nil
			}
		}
		return nil, BadRequest(TypeInvalidValue, "attribute %q must be an integer", a.Name)
	case TypeDecimal:
		switch x := v.(type) {
		case json.Number:
			if f, err := x.Float64(); err == nil {
				return f, nil
			}
		case float64:
			return x, nil
		case int64:
			return float64(x), nil
		case string:
			if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
				return f, nil
			}
		}
		return nil, BadRequest(TypeInvalidValue, "attribute %q must be a number", a.Name)
	case TypeDateTime:
		s, ok := v.(string)
		if !ok {
			return nil, BadRequest(TypeInvalidValue, "attribute %q must be a dateTime string", a.Name)
		}
		if _, err := ParseTime(s); err != nil {
			return nil, BadRequest(TypeInvalidValue, "attribute %q must be an xsd:dateTime, got %q", a.Name, s)
		}
		return s, nil
	case TypeComplex:
		return nil, BadRequest(TypeInvalidValue, "attribute %q must be an object", a.Name)
	default: // string, reference, binary
		switch x := v.(type) {
		case string:
			if err := checkText(a, x); err != nil {
				return nil, err
			}
			return x, nil
		case json.Number:
			return x.String(), nil
		case bool:
			return strconv.FormatBool(x), nil
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64), nil
		case int64:
			return strconv.FormatInt(x, 10), nil
		}
		return nil, BadRequest(TypeInvalidValue, "attribute %q must be a string", a.Name)
	}
}

// ParseTime parses an xsd:dateTime / RFC 3339 value.
func ParseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not a dateTime: %q", s)
}

// Container returns the object that holds the attributes of schema s in
// doc (doc itself for the core schema), creating it when create is set.
func Container(rt *ResourceType, doc Doc, s *Schema, create bool) map[string]any {
	if s == nil || s == rt.Schema {
		return doc
	}
	if m, ok := doc[s.ID].(map[string]any); ok {
		return m
	}
	if !create {
		return nil
	}
	m := map[string]any{}
	doc[s.ID] = m
	return m
}

// GetPath returns the value at p (ignoring p.Filter): for a sub-attribute of
// a multi-valued attribute, the list of the elements' values.
func GetPath(rt *ResourceType, doc Doc, p Path) any {
	c := Container(rt, doc, p.Schema, false)
	if c == nil || p.Attr == nil {
		if p.Attr == nil && c != nil {
			return c
		}
		return nil
	}
	v := c[p.Attr.Name]
	if p.Sub == nil || v == nil {
		return v
	}
	if p.Attr.MultiValued {
		var out []any
		for _, el := range asList(v) {
			if m, ok := el.(map[string]any); ok && m[p.Sub.Name] != nil {
				out = append(out, m[p.Sub.Name])
			}
		}
		return out
	}
	if m, ok := v.(map[string]any); ok {
		return m[p.Sub.Name]
	}
	return nil
}

// SetPath replaces the value at p (no filter) with v, coerced to the schema.
func SetPath(rt *ResourceType, doc Doc, p Path, v any) error {
	if p.Attr == nil {
		obj, ok := v.(map[string]any)
		if !ok {
			return BadRequest(TypeInvalidValue, "value for %q must be an object", p.Schema.ID)
		}
		n, err := normalizeAttrs(p.Schema, obj, p.Schema.ID)
		if err != nil {
			return err
		}
		doc[p.Schema.ID] = n
		return nil
	}
	c := Container(rt, doc, p.Schema, true)
	if p.Sub == nil {
		cv, err := CoerceValue(p.Attr, v)
		if err != nil {
			return err
		}
		if isEmpty(cv) {
			delete(c, p.Attr.Name)
		} else {
			c[p.Attr.Name] = cv
		}
		return nil
	}
	cv, err := CoerceValue(p.Sub, v)
	if err != nil {
		return err
	}
	if p.Attr.MultiValued {
		list := asList(c[p.Attr.Name])
		if len(list) == 0 && !isEmpty(cv) {
			c[p.Attr.Name] = []any{map[string]any{p.Sub.Name: cv}}
			return nil
		}
		for _, el := range list {
			if m, ok := el.(map[string]any); ok {
				setOrDelete(m, p.Sub.Name, cv)
			}
		}
		return nil
	}
	m, _ := c[p.Attr.Name].(map[string]any)
	if m == nil {
		if isEmpty(cv) {
			return nil
		}
		m = map[string]any{}
		c[p.Attr.Name] = m
	}
	setOrDelete(m, p.Sub.Name, cv)
	if len(m) == 0 {
		delete(c, p.Attr.Name)
	}
	return nil
}

func setOrDelete(m map[string]any, k string, v any) {
	if isEmpty(v) {
		delete(m, k)
	} else {
		m[k] = v
	}
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	case string:
		return x == ""
	}
	return false
}

func asList(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	}
	return []any{v}
}

// DeepCopy copies a JSON-like value.
func DeepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, vv := range x {
			m[k] = DeepCopy(vv)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, vv := range x {
			l[i] = DeepCopy(vv)
		}
		return l
	}
	return v
}

// CopyDoc deep-copies a Doc.
func CopyDoc(d Doc) Doc {
	if d == nil {
		return Doc{}
	}
	return DeepCopy(d).(map[string]any)
}

// checkText refuses text no directory can store faithfully: NUL bytes,
// and the replacement character that invalid UTF-8 or a lone surrogate
// escape decodes to.
func checkText(a *Attribute, s string) error {
	if strings.ContainsRune(s, 0) {
		return BadRequest(TypeInvalidValue, "attribute %q contains a NUL character", a.Name)
	}
	if strings.ContainsRune(s, utf8.RuneError) {
		return BadRequest(TypeInvalidValue, "attribute %q is not valid UTF-8 text", a.Name)
	}
	return nil
}
