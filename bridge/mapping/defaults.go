package mapping

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/scim"
)

// A `default` fills a native attribute that the directory requires (sn of
// inetOrgPerson) when the client sent no value for the SCIM attribute
// mapped to it:
//
//	attribute "name.familyName" {
//	  native  = "sn"
//	  default = resource.userName
//	}
//
// On a write the expression runs when the value is absent (not sent, null
// or ""), so on a create, and on a PUT or PATCH that removes it; its result
// is the native value, written as is (to_native does not apply). On a read
// a stored value that equals what the default gives for the resource read
// without it is reported as absent: a user created without a familyName
// does not come back with the userName as its familyName. (A client that
// sends exactly that value reads it back as absent too; choose a default
// that real values do not take.) When the attributes the default reads
// change, the stored value follows them, as the general write path
// recomputes it from the whole resource.
//
// A default may read only attributes that clients write and that are read
// back (not id, meta, groups or password), and none that has a default
// itself, so that writes and reads see the same resource.

// readPath is a part of the resource an expression reads: a whole
// extension (attr nil), an attribute (sub nil) or a sub-attribute.
type readPath struct {
	schema    *scim.Schema
	attr, sub *scim.Attribute
}

// overlaps reports whether reading rp reads (part of) the attribute attr
// of schema, or its sub-attribute sub when sub is not nil.
func (rp readPath) overlaps(schema *scim.Schema, attr, sub *scim.Attribute) bool {
	if rp.schema != schema {
		return false
	}
	if rp.attr == nil {
		return true
	}
	return rp.attr == attr && (rp.sub == nil || sub == nil || rp.sub == sub)
}

// resourceReads resolves what expr reads of `resource`; all is set when it
// reads the whole resource or a part that cannot be told statically.
// Unknown names are ignored here: checkExpr reports them.
func (m *Mapping) resourceReads(expr hcl.Expression) (paths []readPath, all bool) {
	for _, tr := range expr.Variables() {
		if tr.RootName() != "resource" {
			continue
		}
		steps := make([]string, 0, 3)
		for _, s := range tr[1:] {
			name, ok := stepName(s)
			if !ok {
				break
			}
			steps = append(steps, name)
		}
		if len(steps) == 0 {
			return nil, true
		}
		rp := readPath{schema: m.RT.Schema}
		for _, e := range m.RT.Extensions {
			if strings.EqualFold(e.Schema.ID, steps[0]) || extAlias(e.Schema) == steps[0] {
				rp.schema = e.Schema
				steps = steps[1:]
				break
			}
		}
		if len(steps) > 0 {
			if rp.attr = rp.schema.Attr(steps[0]); rp.attr == nil && rp.schema == m.RT.Schema {
				rp.attr = scim.Common(steps[0])
			}
			if rp.attr == nil {
				continue
			}
			if len(steps) > 1 && rp.attr.Type == scim.TypeComplex && !rp.attr.MultiValued {
				rp.sub = rp.attr.Sub(steps[1])
			}
		}
		paths = append(paths, rp)
	}
	return paths, false
}

// decodeDefault checks and records the default of a.
func (m *Mapping) decodeDefault(a *Attr, attr *hcl.Attribute) hcl.Diagnostics {
	diags := m.checkExpr(attr.Expr, "default", map[string]bool{"resource": true})
	refuse := func(detail string) hcl.Diagnostics {
		return append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid default", Detail: detail, Subject: attr.Range.Ptr()})
	}
	switch {
	case a.ReadOnly:
		return refuse(fmt.Sprintf("%q is read-only in SCIM and never written; it cannot have a default.", a.Label))
	case a.WriteOnly:
		return refuse(fmt.Sprintf("%q is never read back; a default could not be told from a value the client sent.", a.Label))
	case a.Kind != Single:
		return refuse(fmt.Sprintf("%q is part of a multi-valued attribute; default applies to singular attributes such as name.familyName.", a.Label))
	}
	a.Default = attr.Expr
	a.defaultReads, a.defaultAll = m.resourceReads(attr.Expr)
	a.defaultCopies = m.copiedAttr(attr.Expr)
	a.defaultRange = attr.Range
	return diags
}

// checkDefaults runs once all attributes are known: a default reads only
// what writes and reads both see.
func (m *Mapping) checkDefaults() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, a := range m.Attrs {
		if a.Default == nil {
			continue
		}
		m.defaults = append(m.defaults, a)
		refuse := func(detail string) {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid default", Detail: detail, Subject: a.defaultRange.Ptr()})
		}
		if a.defaultAll {
			refuse(fmt.Sprintf("The default of %q reads the whole resource; name the attributes it uses, like resource.userName.", a.Label))
			continue
		}
		for _, rp := range a.defaultReads {
			if rp.attr == nil {
				refuse(fmt.Sprintf("The default of %q reads a whole extension; name the attributes it uses.", a.Label))
				continue
			}
			name := scim.Path{Schema: rp.schema, Attr: rp.attr, Sub: rp.sub}.String()
			if rp.attr.Mutability == scim.ReadOnly || (rp.sub != nil && rp.sub.Mutability == scim.ReadOnly) {
				refuse(fmt.Sprintf("The default of %q reads %s, which clients do not write.", a.Label, name))
				continue
			}
			if rp.attr.Returned == "never" || (rp.sub != nil && rp.sub.Returned == "never") || m.WriteOnly(scim.Path{Schema: rp.schema, Attr: rp.attr, Sub: rp.sub}) {
				refuse(fmt.Sprintf("The default of %q reads %s, which is never read back.", a.Label, name))
				continue
			}
			for _, o := range m.Attrs {
				if o.Direction == DirectionRead && rp.overlaps(o.Path.Schema, o.Path.Attr, o.Path.Sub) {
					refuse(fmt.Sprintf("The default of %q reads %s, which has direction = \"read\": clients do not write it.", a.Label, o.Label))
					break
				}
				if o.Default != nil && rp.overlaps(o.Path.Schema, o.Path.Attr, o.Path.Sub) {
					refuse(fmt.Sprintf("The default of %q reads %s, which has a default itself; defaults may read only attributes without one.", a.Label, o.Label))
					break
				}
			}
		}
	}
	return diags
}

// absent reports whether a SCIM value counts as not sent for a default.
func absent(v any) bool {
	s, isString := v.(string)
	return v == nil || (isString && s == "")
}

// defaultValue evaluates a's default over resource.
func (m *Mapping) defaultValue(a *Attr, resource cty.Value) ([]string, error) {
	res, diags := a.Default.Value(m.evalCtx(map[string]cty.Value{"resource": resource}))
	if diags.HasErrors() {
		return nil, evalErr(a.Name(), a.Range, diags)
	}
	out := nativeStrings(fromCty(res))
	if out == nil {
		out = []string{}
	}
	return out, nil
}

// hideDefaults removes from doc the values that only a default put there:
// those whose stored value is what the default gives for the resource.
// A default reads no attribute with a default (its own included), so the
// resource it sees is the same with or without such values.
func (m *Mapping) hideDefaults(doc scim.Doc, rec backends.Record) error {
	for _, a := range m.defaults {
		if scim.GetPath(m.RT, doc, a.Path) == nil {
			continue
		}
		stored, _ := lookup(rec.Attrs, a.Native)
		var def []string
		var err error
		if s, ok := copiedValue(a.defaultCopies, doc); ok {
			if s != "" {
				def = []string{s}
			}
		} else {
			def, err = m.defaultValue(a, m.defaultResource(a, doc))
		}
		if err != nil || len(def) == 0 || !slices.Equal(nonEmptyStrings(stored), def) {
			continue
		}
		if err := scim.SetPath(m.RT, doc, a.Path, nil); err != nil {
			return fmt.Errorf("mapping %s: %w", a.Label, err)
		}
	}
	return nil
}

// copiedAttr recognizes a default that is a singular string attribute of
// the resource (resource.userName, resource.name.givenName): what
// evaluating it gives is that attribute's value, or none.
func (m *Mapping) copiedAttr(expr hcl.Expression) *readPath {
	trav, diags := hcl.AbsTraversalForExpr(expr)
	if diags.HasErrors() || trav.RootName() != "resource" || len(trav) < 2 || len(trav) > 3 {
		return nil
	}
	step := func(i int, attrs []*scim.Attribute) *scim.Attribute {
		ta, ok := trav[i].(hcl.TraverseAttr)
		if !ok {
			return nil
		}
		for _, a := range attrs {
			if a.Name == ta.Name && !a.MultiValued {
				return a
			}
		}
		return nil
	}
	rp := &readPath{schema: m.RT.Schema, attr: step(1, m.RT.Schema.Attributes)}
	leaf := rp.attr
	if leaf != nil && len(trav) == 3 {
		if leaf.Type != scim.TypeComplex {
			return nil
		}
		rp.sub = step(2, leaf.SubAttributes)
		leaf = rp.sub
	}
	if leaf == nil || leaf.Type != scim.TypeString {
		return nil
	}
	return rp
}

// copiedValue is the value of the attribute rp names in doc, when it is
// a string or absent ("" for absent); ok is false when rp is nil or the
// value is something else (the default is then evaluated).
func copiedValue(rp *readPath, doc scim.Doc) (string, bool) {
	if rp == nil {
		return "", false
	}
	v := doc[rp.attr.Name]
	if rp.sub != nil && v != nil {
		obj, ok := v.(map[string]any)
		if !ok {
			return "", false
		}
		v = obj[rp.sub.Name]
	}
	if v == nil {
		return "", true
	}
	s, ok := v.(string)
	return s, ok
}

// defaultResource is the `resource` variable with only what a's default
// reads: a read evaluates the default for every record, and the whole
// resource costs ten times the rest of mapping one.
func (m *Mapping) defaultResource(a *Attr, doc scim.Doc) cty.Value {
	attrs := make(map[string]cty.Value, len(a.defaultReads))
	for _, rp := range a.defaultReads {
		if rp.schema == m.RT.Schema {
			attrs[rp.attr.Name] = attrValue(rp.attr, doc[rp.attr.Name])
			continue
		}
		sub, _ := doc[rp.schema.ID].(map[string]any)
		obj := schemaObject(rp.schema, sub)
		attrs[rp.schema.ID], attrs[extAlias(rp.schema)] = obj, obj
	}
	return cty.ObjectVal(attrs)
}

func nonEmptyStrings(vals []string) []string {
	out := make([]string, 0, len(vals))
	for _, v := range vals {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// DefaultDependsOn reports whether writing attr (of schema) may change the
// value of a default: attr has a default itself (a remove or "" falls back
// to it) or a default reads it. Such writes need the whole resource.
func (m *Mapping) DefaultDependsOn(schema *scim.Schema, attr *scim.Attribute) bool {
	for _, a := range m.defaults {
		if a.Path.Schema == schema && a.Path.Attr == attr {
			return true
		}
		for _, rp := range a.defaultReads {
			if rp.overlaps(schema, attr, nil) {
				return true
			}
		}
	}
	return false
}
