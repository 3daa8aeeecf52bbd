package scim

import (
	"strings"

	filter "github.com/scim2/filter-parser/v2"
)

// Path is an attribute path resolved against a resource type's schemas.
type Path struct {
	// Schema holds Attr: the core schema or an extension.
	Schema *Schema
	// Attr is the top-level attribute (nil only for a bare extension URN).
	Attr *Attribute
	// Sub is the sub-attribute, if the path names one.
	Sub *Attribute
	// Filter is the value filter of a multi-valued attribute (attr[filter]).
	Filter filter.Expression
	// Common is set for id, externalId and meta.
	Common bool
}

// IsCore reports whether the path is in the resource type's core schema.
func (p Path) IsCore(rt *ResourceType) bool { return p.Schema == rt.Schema }

// String renders the canonical form of the path (without filter).
func (p Path) String() string {
	var b strings.Builder
	if p.Schema != nil && !p.Common && p.Schema.ID != "" && !strings.HasSuffix(p.Schema.ID, ":core:2.0:User") && !strings.HasSuffix(p.Schema.ID, ":core:2.0:Group") {
		b.WriteString(p.Schema.ID)
		if p.Attr != nil {
			b.WriteString(":")
		}
	}
	if p.Attr != nil {
		b.WriteString(p.Attr.Name)
	}
	if p.Sub != nil {
		b.WriteString(".")
		b.WriteString(p.Sub.Name)
	}
	return b.String()
}

// ResolvePath parses and resolves a PATCH path such as
// `emails[type eq "work"].value` or
// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`.
func ResolvePath(rt *ResourceType, raw string) (Path, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return Path{}, BadRequest(TypeInvalidPath, "empty path")
	}
	if len(raw) > MaxFilterLength {
		return Path{}, BadRequest(TypeInvalidPath, "path too long")
	}
	// A bare extension URN addresses the whole extension object.
	if ext := rt.Extension(raw); ext != nil {
		return Path{Schema: ext}, nil
	}
	if !strings.ContainsAny(raw, "[] ") {
		// No value filter: resolve directly (the common case, and every
		// key of a path-less PATCH value).
		ap, ok := fastAttrPath(raw)
		if !ok {
			return Path{}, BadRequest(TypeInvalidPath, "invalid path %q", raw)
		}
		return resolveAttr(rt, ap.URI(), ap.AttributeName, ap.SubAttributeName())
	}
	text := raw
	if i := strings.IndexByte(text, '['); i >= 0 {
		// Apply the same leniency as for filters inside the brackets.
		if j := strings.LastIndexByte(text, ']'); j > i {
			text = text[:i+1] + lenientFilter(text[i+1:j]) + text[j:]
		}
	}
	p, err := parsePathSafely(text)
	if err != nil {
		return Path{}, BadRequest(TypeInvalidPath, "invalid path %q", raw)
	}
	if p.ValueExpression != nil {
		if err := unescapeValues(p.ValueExpression, 0); err != nil {
			return Path{}, err
		}
	}
	sub := p.AttributePath.SubAttributeName()
	if s := p.SubAttributeName(); s != "" {
		if sub != "" {
			return Path{}, BadRequest(TypeInvalidPath, "invalid path %q", raw)
		}
		sub = s
	}
	out, err := resolveAttr(rt, p.AttributePath.URI(), p.AttributePath.AttributeName, sub)
	if err != nil {
		return Path{}, err
	}
	if p.ValueExpression != nil {
		if !out.Attr.MultiValued {
			return Path{}, BadRequest(TypeInvalidPath, "%q is not multi-valued and cannot take a filter", out.Attr.Name)
		}
		if err := CheckValueFilter(out.Attr, p.ValueExpression); err != nil {
			return Path{}, err
		}
		out.Filter = p.ValueExpression
	}
	return out, nil
}

func parsePathSafely(text string) (p filter.Path, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = BadRequest(TypeInvalidPath, "invalid path")
		}
	}()
	return filter.ParsePathNumber([]byte(text))
}

// resolveAttr finds the attribute named by uri, name and sub.
func resolveAttr(rt *ResourceType, uri, name, sub string) (Path, error) {
	var out Path
	if uri != "" {
		out.Schema = rt.SchemaFor(uri)
		if out.Schema == nil {
			return Path{}, BadRequest(TypeInvalidPath, "unknown schema %q", uri)
		}
	} else {
		out.Schema = rt.Schema
	}
	out.Attr = out.Schema.Attr(name)
	if out.Attr == nil && uri == "" {
		if c := Common(name); c != nil {
			out.Attr, out.Common = c, true
		}
	}
	if out.Attr == nil {
		return Path{}, BadRequest(TypeInvalidPath, "unknown attribute %q", joinName(uri, name))
	}
	if sub != "" {
		if out.Attr.Type != TypeComplex {
			return Path{}, BadRequest(TypeInvalidPath, "attribute %q has no sub-attributes", out.Attr.Name)
		}
		out.Sub = out.Attr.Sub(sub)
		if out.Sub == nil {
			return Path{}, BadRequest(TypeInvalidPath, "unknown sub-attribute %q of %q", sub, out.Attr.Name)
		}
	}
	return out, nil
}

func joinName(uri, name string) string {
	if uri == "" {
		return name
	}
	return uri + ":" + name
}

// CheckValueFilter verifies that a value filter only names sub-attributes
// of attr (or "value" for multi-valued simple attributes).
func CheckValueFilter(a *Attribute, e filter.Expression) error {
	switch x := e.(type) {
	case *filter.AttributeExpression:
		name := x.AttributePath.AttributeName
		if x.AttributePath.SubAttribute != nil || x.AttributePath.URIPrefix != nil {
			return BadRequest(TypeInvalidFilter, "invalid attribute %q in value filter", x.AttributePath.String())
		}
		if a.Type == TypeComplex && a.Sub(name) == nil {
			return BadRequest(TypeInvalidFilter, "unknown sub-attribute %q of %q", name, a.Name)
		}
		return nil
	case *filter.LogicalExpression:
		if err := CheckValueFilter(a, x.Left); err != nil {
			return err
		}
		return CheckValueFilter(a, x.Right)
	case *filter.NotExpression:
		return CheckValueFilter(a, x.Expression)
	case *filter.ValuePath:
		return BadRequest(TypeInvalidFilter, "nested value filters are not allowed")
	}
	return BadRequest(TypeInvalidFilter, "invalid value filter")
}

// ResolveFilterPath resolves an attribute path used inside a filter.
func ResolveFilterPath(rt *ResourceType, ap filter.AttributePath) (Path, error) {
	p, err := resolveAttr(rt, ap.URI(), ap.AttributeName, ap.SubAttributeName())
	if err != nil {
		if e, ok := AsError(err); ok {
			e.ScimType = TypeInvalidFilter
		}
		return Path{}, err
	}
	return p, nil
}
