package scim

import (
	"encoding/json"
	"strings"
)

// CheckValueSizes refuses a request body value of resource type rt (a
// resource, or a PATCH operation's value at path) that holds a string or
// number longer than max bytes, or an attribute name that long, naming
// the attribute it belongs to (emails.value, urn:...:User:department).
// max < 1 allows any size. It runs before the body is interpreted, so it
// holds for every attribute, known or not.
func CheckValueSizes(rt *ResourceType, v any, path string, max int) error {
	if max < 1 {
		return nil
	}
	s := sizeCheck{rt: rt, max: max}
	if s.isSchema(path) {
		return s.walk(v, s.prefix(path), true)
	}
	return s.walk(v, path, false)
}

type sizeCheck struct {
	rt  *ResourceType
	max int
}

// isSchema reports the URN of the core schema or of an extension, whose
// object holds attributes.
func (s sizeCheck) isSchema(name string) bool {
	return s.rt != nil && (strings.EqualFold(name, s.rt.Schema.ID) || s.rt.Extension(name) != nil)
}

// prefix is how the attributes of schema are named: bare for the core
// schema, after the URN for an extension.
func (s sizeCheck) prefix(schema string) string {
	if strings.EqualFold(schema, s.rt.Schema.ID) {
		return ""
	}
	return schema
}

// walk checks v; name is the attribute it belongs to, and inSchema says
// that name is a schema's URN (or "" for the core schema), whose
// attributes follow a ":".
func (s sizeCheck) walk(v any, name string, inSchema bool) error {
	max := s.max
	switch x := v.(type) {
	case string:
		if len(x) > max {
			return tooLong(name, len(x), max)
		}
	case json.Number:
		if len(x) > max {
			return tooLong(name, len(x), max)
		}
	case []any:
		for _, el := range x {
			if err := s.walk(el, name, inSchema); err != nil {
				return err
			}
		}
	case map[string]any:
		for k, el := range x {
			if len(k) > max {
				return BadRequest(TypeInvalidValue, "an attribute name in the request has %d bytes, more than the %d this server accepts (max_value_bytes)", len(k), max)
			}
			child, schema := k, false
			switch {
			case name == "" && s.isSchema(k):
				child, schema = s.prefix(k), true
			case inSchema && name != "":
				child = name + ":" + k
			case name != "" && !inSchema:
				child = name + "." + k
			}
			if err := s.walk(el, child, schema); err != nil {
				return err
			}
		}
	}
	return nil
}

func tooLong(name string, n, max int) error {
	if name == "" {
		name = "a value"
	}
	if len(name) > 200 {
		name = name[:200] + "..."
	}
	return BadRequest(TypeInvalidValue, "%s: a value has %d bytes, more than the %d this server accepts (max_value_bytes)", name, n, max)
}
