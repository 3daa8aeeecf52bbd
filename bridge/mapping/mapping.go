// Package mapping turns SCIM resources into native backend records and
// back, as the admin's HCL mapping says, and compiles SCIM filters into
// backend-neutral queries over native attributes.
//
// A mapping block lists SCIM attribute paths and the native attribute each
// one is stored in, optionally through HCL expressions in both directions:
//
//	mapping "User" {
//	  attribute "userName"                        { native = "login" }
//	  attribute "name.givenName"                  { native = "first_name" }
//	  attribute "name.familyName" {
//	    native  = "last_name"
//	    default = resource.userName         # written when no familyName is sent; reads back as none
//	  }
//	  attribute "emails[type eq \"work\"].value"  { native = "email" }
//	  attribute "active" {
//	    native      = "status"
//	    to_native   = value ? "A" : "D"     # value: the SCIM value; resource: the whole resource; record: the stored one
//	    from_native = value == "A"          # value: first native value; values: all; record: the native record
//	  }
//	  attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber" {
//	    native    = "user_id"                # the table key, shown as employeeNumber too
//	    direction = "read"                   # read only: "read", "write" (never read back) or "both"
//	  }
//	  computed "full_name" {                # a native attribute derived from the resource
//	    value = join(" ", compact([resource.name.givenName, resource.name.familyName]))
//	  }
//	}
package mapping

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/scim"
)

// Kind says how a SCIM path maps onto a native attribute.
type Kind int

const (
	// Single: a singular value (userName, name.givenName, manager.value).
	Single Kind = iota
	// Element: one element of a multi-valued attribute picked by a filter
	// (emails[type eq "work"].value ↔ a single-valued "email" column).
	Element
	// Collection: all values of a multi-valued attribute (emails.value,
	// members.value) ↔ a multi-valued native attribute.
	Collection
)

// Attr is one mapped attribute.
type Attr struct {
	Label      string
	Path       scim.Path
	Target     *scim.Attribute // the leaf: Path.Sub, or Path.Attr
	Kind       Kind
	Selector   map[string]any
	Native     string
	ToNative   hcl.Expression
	FromNative hcl.Expression
	// FilterValues, over value (a SCIM value in a filter), lists the
	// native values that read as it, so that eq and ne filters on an
	// attribute read through from_native can be pushed down.
	FilterValues hcl.Expression
	Range        hcl.Range
	ReadOnly     bool // never written (meta.*, groups)
	// toNativeUsesResource: the to_native expression reads `resource`,
	// which is costly to build; most expressions only read `value`.
	toNativeUsesResource bool
	// toNativeUsesRecord: the to_native expression reads `record`, the
	// stored native record, which a write must read first (record.go).
	toNativeUsesRecord bool
	// fromNativeUsesRecord: the from_native expression reads `record`.
	fromNativeUsesRecord bool
	// Results of expressions that read only their value; nil for others.
	toMemo, fromMemo *memo
	// For Element mappings, derived once at load: the selector as a key,
	// whether other element mappings of the same attribute exist, and
	// whether this one is declared first among them.
	selectorKey        string
	hasSiblings, first bool
	WriteOnly          bool // never read back (password)
	// Direction is the direction argument ("read", "write", "both"; ""
	// when absent); ReadOnly and WriteOnly already say what it means.
	Direction                                         string
	toNativeRange, fromNativeRange, filterValuesRange hcl.Range
	// readsID: a read-only mapping of the store's id (see Check).
	readsID bool
	// Default gives the native value written when the resource has no
	// value for the attribute; see defaults.go. What it reads of the
	// resource is resolved at load.
	Default      hcl.Expression
	defaultReads []readPath
	defaultAll   bool
	defaultRange hcl.Range
	// defaultCopies: the default is a string attribute of the resource
	// itself (resource.userName), read from the document without an
	// evaluation.
	defaultCopies *readPath
}

// Computed is a native attribute derived from the whole resource.
type Computed struct {
	Native string
	Value  hcl.Expression
	Range  hcl.Range
	// Reads names the resource attributes (or extension URNs and aliases)
	// the expression reads; "*" when it cannot be told.
	Reads map[string]bool
}

// DependsOn reports whether a computed attribute may change when the
// named attribute (of the given schema) changes.
func (c *Computed) DependsOn(schema *scim.Schema, attr string) bool {
	if c.Reads["*"] || c.Reads[attr] {
		return true
	}
	return schema != nil && (c.Reads[schema.ID] || c.Reads[extAlias(schema)])
}

// Mapping is the compiled mapping of one resource type.
type Mapping struct {
	RT       *scim.ResourceType
	Attrs    []*Attr
	Computed []*Computed
	// Lists maps SCIM list attributes handled incrementally (members) to
	// their Collection mapping.
	Lists map[string]*Attr
	// Range is the mapping block's, for diagnostics about the mapping as a
	// whole; set by the configuration loader.
	Range hcl.Range
	funcs map[string]bool
	// fns are the functions expressions call: functions, with the lookup
	// tables of the backend once bound (lookup.go); nil: functions.
	fns map[string]function.Function
	// defaults are the attributes with a default, in declaration order.
	defaults []*Attr
	// nativeAttrs[0] without list attributes, [1] with them.
	nativeAttrs [2][]string
	// required lists what the store needs of new records (see Check).
	required []*requirement
	// NativeTime reads the backend's own timestamp forms (its
	// backends.Kind's NativeTime); set by the configuration loader, nil:
	// RFC 3339 only.
	NativeTime func(string) (time.Time, bool)
}

var attrSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "native", Required: true},
		{Name: "to_native"},
		{Name: "from_native"},
		{Name: "filter_values"},
		{Name: "default"},
		{Name: "direction"},
	},
}

var computedSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "value", Required: true}},
}

// BodySchema is the schema of a mapping block's body.
var BodySchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "attribute", LabelNames: []string{"path"}},
		{Type: "computed", LabelNames: []string{"native"}},
	},
}

// Decode compiles the body of a `mapping "<ResourceType>"` block.
func Decode(body hcl.Body, rt *scim.ResourceType) (*Mapping, hcl.Diagnostics) {
	m := &Mapping{RT: rt, Lists: map[string]*Attr{}, funcs: map[string]bool{}}
	for name := range functions {
		m.funcs[name] = true
	}
	content, diags := body.Content(BodySchema)
	labels := map[string]hcl.Range{}
	natives := map[string]hcl.Range{}
	claim := func(native string, rng hcl.Range) {
		key := strings.ToLower(native)
		if prev, ok := natives[key]; ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError, Summary: "Native attribute mapped twice",
				Detail:  fmt.Sprintf("%q is already written by the mapping at %s; each native attribute may be written by one mapping only.", native, prev),
				Subject: rng.Ptr(),
			})
			return
		}
		natives[key] = rng
	}
	for _, blk := range content.Blocks {
		switch blk.Type {
		case "attribute":
			a, d := m.decodeAttr(blk)
			diags = append(diags, d...)
			if a == nil {
				continue
			}
			key := strings.ToLower(a.Label)
			if prev, ok := labels[key]; ok {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate attribute mapping",
					Detail: fmt.Sprintf("%q is already mapped at %s.", a.Label, prev), Subject: blk.LabelRanges[0].Ptr()})
				continue
			}
			labels[key] = blk.DefRange
			if !a.ReadOnly {
				claim(a.Native, blk.DefRange)
			}
			m.Attrs = append(m.Attrs, a)
			if a.Kind == Collection && a.Path.IsCore(rt) && a.Path.Attr.Name == "members" {
				m.Lists["members"] = a
			}
		case "computed":
			c, d := m.decodeComputed(blk)
			diags = append(diags, d...)
			if c != nil {
				claim(c.Native, blk.DefRange)
				m.Computed = append(m.Computed, c)
			}
		}
	}
	diags = append(diags, m.checkDefaults()...)
	diags = append(diags, m.checkReadOnlyReads()...)
	m.prepare()
	return m, diags
}

// prepare derives, once, what reads and writes would otherwise work out
// for every resource.
func (m *Mapping) prepare() {
	for _, a := range m.Attrs {
		if a.Kind == Element {
			a.selectorKey = fmt.Sprint(a.Selector) // fmt prints map keys in order
		}
	}
	for i, a := range m.Attrs {
		if a.Kind != Element {
			continue
		}
		a.first = true
		for j, o := range m.Attrs {
			if o.Kind == Element && o.Path.Attr == a.Path.Attr && o.Path.Schema == a.Path.Schema && o.selectorKey != a.selectorKey {
				a.hasSiblings = true
				if j < i {
					a.first = false
				}
			}
		}
	}
	for i, withLists := range []bool{false, true} {
		seen := map[string]bool{}
		var out []string
		for _, a := range m.Attrs {
			if a.WriteOnly || (!withLists && m.Lists[a.Path.Attr.Name] == a) {
				continue
			}
			if k := strings.ToLower(a.Native); !seen[k] {
				seen[k] = true
				out = append(out, a.Native)
			}
		}
		m.nativeAttrs[i] = out
	}
}

func (m *Mapping) decodeAttr(blk *hcl.Block) (*Attr, hcl.Diagnostics) {
	label := blk.Labels[0]
	labelRange := blk.LabelRanges[0].Ptr()
	content, diags := blk.Body.Content(attrSchema)
	if diags.HasErrors() {
		return nil, diags
	}
	path, err := scim.ResolvePath(m.RT, label)
	if err != nil {
		hint := ""
		if s := suggestLabel(m.RT, label); s != "" {
			hint = fmt.Sprintf(" Did you mean %q?", s)
		}
		return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown SCIM attribute path",
			Detail: fmt.Sprintf("%q is not an attribute of the %s resource: %s.%s", label, m.RT.Name, detail(err), hint), Subject: labelRange})
	}
	if path.Attr == nil {
		return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot map a whole extension",
			Detail: "Map the extension's attributes one by one.", Subject: labelRange})
	}
	a := &Attr{Label: label, Path: path, Range: blk.DefRange}
	a.Target = path.Attr
	if path.Sub != nil {
		a.Target = path.Sub
	}
	switch {
	case path.Common && path.Attr.Name == "id":
		return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "The id cannot be mapped",
			Detail: "SCIM ids come from the backend's stable key (entryUUID, the table key); they are never mapped.", Subject: labelRange})
	case path.Filter != nil:
		sel, ok := selector(path)
		if !ok || path.Sub == nil {
			return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unsupported element filter",
				Detail:  `An element mapping needs equality terms joined by "and" and a sub-attribute, like emails[type eq "work"].value.`,
				Subject: labelRange})
		}
		a.Kind, a.Selector = Element, sel
	case path.Attr.MultiValued:
		if path.Sub != nil && path.Sub.Name != "value" {
			return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Ambiguous multi-valued path",
				Detail:  fmt.Sprintf("Map %q as %s.value (all values) or pick one element with a filter, like %s[type eq \"work\"].%s.", label, path.Attr.Name, path.Attr.Name, path.Sub.Name),
				Subject: labelRange})
		}
		a.Kind = Collection
		if path.Attr.Type == scim.TypeComplex {
			a.Target = path.Attr.Sub("value")
		}
	case path.Attr.Type == scim.TypeComplex && path.Sub == nil:
		if v := path.Attr.Sub("value"); v != nil {
			a.Path.Sub, a.Target = v, v // manager means manager.value
		} else {
			return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Map sub-attributes",
				Detail: fmt.Sprintf("%q is complex: map its sub-attributes, like %s.%s.", label, path.Attr.Name, path.Attr.SubAttributes[0].Name), Subject: labelRange})
		}
	}
	a.ReadOnly = path.Attr.Mutability == scim.ReadOnly || (a.Target != nil && a.Target.Mutability == scim.ReadOnly && a.Kind != Collection)
	a.WriteOnly = path.Attr.Returned == "never" || a.Target.Returned == "never"

	native, d := literalString(content.Attributes["native"])
	diags = append(diags, d...)
	a.Native = native
	if attr, ok := content.Attributes["to_native"]; ok {
		a.ToNative, a.toNativeRange = attr.Expr, attr.Range
		a.toNativeUsesResource = usesVariable(attr.Expr, "resource")
		a.toNativeUsesRecord = usesVariable(attr.Expr, "record")
		a.toMemo = memoFor(attr.Expr, "value")
		diags = append(diags, m.checkExpr(attr.Expr, "to_native", map[string]bool{"value": true, "resource": true, "record": true})...)
		if a.ReadOnly {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "to_native on a read-only attribute",
				Detail: fmt.Sprintf("%q is read-only in SCIM and never written; to_native is ignored.", label), Subject: attr.Range.Ptr()})
		}
	}
	if attr, ok := content.Attributes["from_native"]; ok {
		a.FromNative, a.fromNativeRange = attr.Expr, attr.Range
		a.fromNativeUsesRecord = usesVariable(attr.Expr, "record")
		a.fromMemo = memoFor(attr.Expr, "value", "values")
		diags = append(diags, m.checkExpr(attr.Expr, "from_native", map[string]bool{"value": true, "values": true, "record": true})...)
	}
	if attr, ok := content.Attributes["filter_values"]; ok {
		a.FilterValues, a.filterValuesRange = attr.Expr, attr.Range
		diags = append(diags, m.checkExpr(attr.Expr, "filter_values", map[string]bool{"value": true})...)
		if a.FromNative == nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "filter_values without from_native",
				Detail: fmt.Sprintf("%q reads its native value as it is, and filters on it compare the native value directly; filter_values is ignored.", label), Subject: attr.Range.Ptr()})
		}
	}
	if attr, ok := content.Attributes["default"]; ok {
		diags = append(diags, m.decodeDefault(a, attr)...)
	}
	if attr, ok := content.Attributes["direction"]; ok {
		diags = append(diags, m.decodeDirection(a, attr)...)
	}
	return a, diags
}

func (m *Mapping) decodeComputed(blk *hcl.Block) (*Computed, hcl.Diagnostics) {
	content, diags := blk.Body.Content(computedSchema)
	if diags.HasErrors() {
		return nil, diags
	}
	c := &Computed{Native: blk.Labels[0], Range: blk.DefRange, Value: content.Attributes["value"].Expr, Reads: map[string]bool{}}
	for _, tr := range c.Value.Variables() {
		if tr.RootName() != "resource" {
			continue
		}
		if len(tr) < 2 {
			c.Reads["*"] = true
			continue
		}
		if name, ok := stepName(tr[1]); ok {
			c.Reads[name] = true
		} else {
			c.Reads["*"] = true
		}
	}
	if c.Native == "" {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Empty native attribute name", Subject: blk.LabelRanges[0].Ptr()})
	}
	diags = append(diags, m.checkExpr(c.Value, "value", map[string]bool{"resource": true})...)
	return c, diags
}

func usesVariable(expr hcl.Expression, root string) bool {
	for _, tr := range expr.Variables() {
		if tr.RootName() == root {
			return true
		}
	}
	return false
}

func detail(err error) string {
	if e, ok := scim.AsError(err); ok {
		return e.Detail
	}
	return err.Error()
}

func literalString(attr *hcl.Attribute) (string, hcl.Diagnostics) {
	if attr == nil {
		return "", nil
	}
	v, diags := attr.Expr.Value(nil)
	if diags.HasErrors() {
		return "", diags
	}
	if v.IsNull() || v.Type() != cty.String || v.AsString() == "" {
		return "", hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid native attribute name",
			Detail: "native must be a non-empty string.", Subject: attr.Expr.Range().Ptr()}}
	}
	return v.AsString(), nil
}

func selector(p scim.Path) (map[string]any, bool) {
	terms, ok := scim.EqualityTerms(p.Filter)
	if !ok {
		return nil, false
	}
	out := map[string]any{}
	for k, v := range terms {
		sub := p.Attr.Sub(k)
		if sub == nil {
			return nil, false
		}
		cv, err := scim.CoerceSimple(sub, v)
		if err != nil {
			return nil, false
		}
		out[sub.Name] = cv
	}
	return out, true
}

// checkExpr reports unknown variables, unknown resource attributes and
// functions outside the allow-list, each with its source range.
func (m *Mapping) checkExpr(expr hcl.Expression, where string, roots map[string]bool) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, tr := range expr.Variables() {
		root := tr.RootName()
		if !roots[root] {
			names := make([]string, 0, len(roots))
			for r := range roots {
				names = append(names, r)
			}
			sort.Strings(names)
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown variable",
				Detail:  fmt.Sprintf("There is no variable named %q in %s; available: %s.%s", root, where, strings.Join(names, ", "), didYouMean(root, names)),
				Subject: tr.SourceRange().Ptr()})
			continue
		}
		if root == "resource" {
			if d := m.checkResourceTraversal(tr); d != nil {
				diags = append(diags, d)
			}
		}
	}
	if sx, ok := expr.(hclsyntax.Expression); ok {
		diags = append(diags, hclsyntax.VisitAll(sx, func(n hclsyntax.Node) hcl.Diagnostics {
			fc, ok := n.(*hclsyntax.FunctionCallExpr)
			if !ok || m.funcs[fc.Name] {
				return nil
			}
			return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Call to unknown function",
				Detail: fmt.Sprintf("There is no function named %q in mapping expressions.%s", fc.Name, didYouMean(fc.Name, m.funcNames())), Subject: fc.NameRange.Ptr()}}
		})...)
	}
	return diags
}

func stepName(s hcl.Traverser) (string, bool) {
	switch x := s.(type) {
	case hcl.TraverseAttr:
		return x.Name, true
	case hcl.TraverseIndex:
		if x.Key.Type() == cty.String {
			return x.Key.AsString(), true
		}
	}
	return "", false
}

func (m *Mapping) checkResourceTraversal(tr hcl.Traversal) *hcl.Diagnostic {
	if len(tr) < 2 {
		return nil
	}
	unknown := func(name string, rng hcl.Range, hint string) *hcl.Diagnostic {
		return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown SCIM attribute",
			Detail: fmt.Sprintf("The %s resource has no attribute %q.%s", m.RT.Name, name, hint), Subject: rng.Ptr()}
	}
	name, ok := stepName(tr[1])
	if !ok {
		return nil
	}
	var a *scim.Attribute
	var ext *scim.Schema
	for _, e := range m.RT.Extensions {
		if strings.EqualFold(e.Schema.ID, name) || extAlias(e.Schema) == name {
			ext = e.Schema
		}
	}
	if ext == nil {
		a = m.RT.Schema.Attr(name)
		if a == nil {
			a = scim.Common(name)
		}
		if a == nil || a.Name != name {
			return unknown(name, tr[1].SourceRange(), didYouMean(name, resourceNames(m.RT)))
		}
	} else if len(tr) > 2 {
		n2, ok := stepName(tr[2])
		if !ok {
			return nil
		}
		a = ext.Attr(n2)
		if a == nil || a.Name != n2 {
			return unknown(ext.ID+":"+n2, tr[2].SourceRange(), didYouMean(n2, schemaNames(ext)))
		}
		tr = tr[1:]
	} else {
		return nil
	}
	if len(tr) > 2 && a.Type == scim.TypeComplex && !a.MultiValued {
		n, ok := stepName(tr[2])
		if ok && (a.Sub(n) == nil || a.Sub(n).Name != n) {
			return unknown(a.Name+"."+n, tr[2].SourceRange(), didYouMean(n, subNames(a)))
		}
	}
	return nil
}

func (m *Mapping) evalCtx(vars map[string]cty.Value) *hcl.EvalContext {
	fns := m.fns
	if fns == nil {
		fns = functions
	}
	return &hcl.EvalContext{Variables: vars, Functions: fns}
}

// ToNative maps a resource to native attributes. Every writable mapped
// native attribute is present in the result; an empty slice means "no
// value". List attributes (members) are left out: the caller writes them
// incrementally. Write-only attributes (password) are present only when
// the resource carries them.
func (m *Mapping) ToNative(doc scim.Doc) (backends.Attrs, error) {
	return m.toNative(doc, nil, nil)
}

// ToNativeOnly maps only the attributes that only says yes to, and no
// computed attributes: for writes that touch a known few attributes.
func (m *Mapping) ToNativeOnly(doc scim.Doc, only func(*Attr) bool) (backends.Attrs, error) {
	return m.toNative(doc, only, nil)
}

// toNative maps doc; stored is the record as stored, which to_native
// expressions see as `record` (nil: none, as on create).
func (m *Mapping) toNative(doc scim.Doc, only func(*Attr) bool, stored *backends.Record) (backends.Attrs, error) {
	out := backends.Attrs{}
	var resource cty.Value
	resourceVal := func() cty.Value {
		if resource == cty.NilVal {
			resource = resourceObject(m.RT, doc)
		}
		return resource
	}
	for _, a := range m.Attrs {
		if a.ReadOnly || m.Lists[a.Path.Attr.Name] == a || (only != nil && !only(a)) {
			continue
		}
		v := m.scimValue(a, doc)
		if v == nil && a.WriteOnly {
			continue
		}
		if a.Default != nil && absent(v) {
			vals, err := m.defaultValue(a, resourceVal())
			if err != nil {
				return nil, err
			}
			out[a.Native] = vals
			continue
		}
		if a.ToNative == nil || v == nil {
			out[a.Native] = formatNative(a.Target, v)
			continue
		}
		key, memoable := memoKey(v)
		if cached, ok := a.toMemo.get(key); ok && memoable {
			out[a.Native] = slices.Clone(cached.([]string))
			continue
		}
		vars := map[string]cty.Value{"value": toCty(v)}
		if a.toNativeUsesResource {
			vars["resource"] = resourceVal()
		}
		if a.toNativeUsesRecord {
			vars["record"] = storedRecord(stored)
		}
		res, diags := a.ToNative.Value(m.evalCtx(vars))
		if diags.HasErrors() {
			return nil, evalErr(a.Name(), a.Range, diags)
		}
		out[a.Native] = nativeStrings(fromCty(res))
		if memoable {
			a.toMemo.put(key, slices.Clone(out[a.Native]))
		}
	}
	for _, c := range m.Computed {
		if only != nil {
			break
		}
		res, diags := c.Value.Value(m.evalCtx(map[string]cty.Value{"resource": resourceVal()}))
		if diags.HasErrors() {
			return nil, evalErr(m.NameOfNative(c.Native), c.Range, diags)
		}
		out[c.Native] = nativeStrings(fromCty(res))
	}
	return out, nil
}

// scimValue extracts the value a mapping reads from the resource.
func (m *Mapping) scimValue(a *Attr, doc scim.Doc) any {
	switch a.Kind {
	case Element:
		el := m.pickElement(a, doc)
		if el == nil {
			return nil
		}
		return el[a.Path.Sub.Name]
	case Collection:
		list, _ := scim.GetPath(m.RT, doc, scim.Path{Schema: a.Path.Schema, Attr: a.Path.Attr}).([]any)
		var out []any
		for _, el := range list {
			if mm, ok := el.(map[string]any); ok {
				if v := mm["value"]; v != nil {
					out = append(out, v)
				}
			} else if el != nil {
				out = append(out, el)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	return scim.GetPath(m.RT, doc, a.Path)
}

// pickElement finds the element an Element mapping reads. When the
// resource type maps a single element of this attribute, a lone element,
// or the primary one, is taken even if its type differs: clients disagree
// on whether to send "type" at all.
func (m *Mapping) pickElement(a *Attr, doc scim.Doc) map[string]any {
	list, _ := scim.GetPath(m.RT, doc, scim.Path{Schema: a.Path.Schema, Attr: a.Path.Attr}).([]any)
	for _, el := range list {
		if mm, ok := el.(map[string]any); ok && selectorMatches(a.Selector, mm) {
			return mm
		}
	}
	if len(list) == 0 {
		return nil
	}
	if a.hasSiblings {
		// Elements without the selector's keys (an e-mail without a
		// type) belong to the first declared mapping of the attribute.
		if !a.first {
			return nil
		}
		var pick map[string]any
		for _, el := range list {
			mm, ok := el.(map[string]any)
			if !ok || hasAnyKey(mm, a.Selector) {
				continue
			}
			if pick == nil || mm["primary"] == true {
				pick = mm
			}
		}
		return pick
	}
	for _, el := range list {
		if mm, ok := el.(map[string]any); ok && mm["primary"] == true {
			return mm
		}
	}
	mm, _ := list[0].(map[string]any)
	return mm
}

func hasAnyKey(el map[string]any, sel map[string]any) bool {
	for k := range sel {
		if _, ok := el[k]; ok {
			return true
		}
	}
	return false
}

func selectorMatches(sel map[string]any, el map[string]any) bool {
	for k, v := range sel {
		ev, ok := el[k]
		if !ok {
			return false
		}
		if s, ok := v.(string); ok {
			es, ok := ev.(string)
			if !ok || !strings.EqualFold(s, es) {
				return false
			}
			continue
		}
		if ev != v {
			return false
		}
	}
	return true
}

// formatNative renders a SCIM value as native strings when there is no
// to_native expression.
func formatNative(a *scim.Attribute, v any) []string {
	if v == nil {
		return []string{}
	}
	out := nativeStrings(v)
	if out == nil {
		return []string{}
	}
	return out
}

// ReadProblem is an attribute left out of a resource because its native
// value did not map: its from_native failed on a value, or the value does
// not fit the SCIM attribute.
type ReadProblem struct {
	Attr  string // the mapping's label
	Range hcl.Range
	Err   string
}

// ReadProblems are the attributes left out of one resource. FromNative
// returns them as its error, with the resource itself: a read never fails
// for one attribute that does not map.
type ReadProblems []ReadProblem

func (p ReadProblems) Error() string {
	parts := make([]string, len(p))
	for i, x := range p {
		parts[i] = fmt.Sprintf("%s (%s): %s", x.Attr, x.Range, x.Err)
	}
	return "attributes left out: " + strings.Join(parts, "; ")
}

// FromNative maps a native record to a resource (without meta and
// schemas, which the caller adds). An attribute whose native value does
// not map is left out and reported in the ReadProblems error, which comes
// with the resource; no other error is returned. A native attribute that
// is absent (or NULL) reaches from_native as a null value; an expression
// that cannot take null (upper(value)) leaves the attribute out without a
// problem, one that can (value != "D", coalesce(value, "x")) gives it a
// value.
func (m *Mapping) FromNative(rec backends.Record) (scim.Doc, error) {
	var problems ReadProblems
	problem := func(a *Attr, err string) {
		problems = append(problems, ReadProblem{Attr: a.Label, Range: a.Range, Err: err})
	}
	doc := scim.Doc{"id": rec.ID}
	// A stored value that is not blank but does not parse as the SCIM
	// attribute's type ("lots" in an integer column) is left out and
	// reported, not dropped in silence.
	unparsed := func(a *Attr, v any) {
		if s, ok := v.(string); ok && strings.TrimSpace(s) != "" {
			problem(a, fmt.Sprintf("the stored value %q is not a valid %s", s, a.Target.Type))
		}
	}
	type elemKey struct {
		schema *scim.Schema
		attr   *scim.Attribute
		sel    string
	}
	var order []elemKey
	elems := map[elemKey]map[string]any{}
	var record cty.Value
	recordVal := func() cty.Value {
		if record == cty.NilVal {
			obj := map[string]cty.Value{}
			for k, v := range rec.Attrs {
				if len(v) > 0 {
					obj[k] = cty.StringVal(v[0])
				} else {
					obj[k] = cty.NullVal(cty.String)
				}
			}
			record = cty.ObjectVal(obj)
		}
		return record
	}
	// Attribute names are matched as lookup does, case-insensitively; the
	// record's names are folded once, on the first that is not spelled as
	// mapped (most mapped attributes an entry lacks).
	var folded map[string][]string
	find := func(name string) ([]string, bool) {
		if v, ok := rec.Attrs[name]; ok {
			return v, true
		}
		if folded == nil {
			folded = make(map[string][]string, len(rec.Attrs))
			for k, v := range rec.Attrs {
				if _, dup := folded[strings.ToLower(k)]; !dup {
					folded[strings.ToLower(k)] = v
				}
			}
		}
		v, ok := folded[strings.ToLower(name)]
		return v, ok
	}
	for _, a := range m.Attrs {
		if a.WriteOnly {
			continue
		}
		vals, present := find(a.Native)
		if a.readsID && rec.ID != "" {
			vals, present = []string{rec.ID}, true
		}
		if !present && a.FromNative == nil {
			continue
		}
		var v any
		if a.FromNative != nil {
			// One value or none determines both value and values.
			var key any = fromNativeAbsent{}
			if len(vals) == 1 {
				key = vals[0]
			}
			if cached, ok := a.fromMemo.get(key); ok && len(vals) <= 1 {
				v = cached
			} else {
				first := cty.NullVal(cty.String)
				if len(vals) > 0 {
					first = cty.StringVal(vals[0])
				}
				vars := map[string]cty.Value{"value": first, "values": toCty(vals)}
				if a.fromNativeUsesRecord {
					vars["record"] = recordVal()
				}
				res, diags := a.FromNative.Value(m.evalCtx(vars))
				switch {
				case diags.HasErrors() && len(vals) == 0:
					// No value, and an expression that needs one.
					a.fromMemo.put(key, nil)
					continue
				case diags.HasErrors():
					problem(a, "from_native: "+diagSummary(diags))
					continue
				}
				v = fromCty(res)
				if _, ok := memoKey(v); (ok || v == nil) && len(vals) <= 1 {
					a.fromMemo.put(key, v) // scalars only: callers may change lists and maps
				}
			}
		} else if a.Kind == Collection {
			var list []any
			for _, s := range vals {
				list = append(list, s)
			}
			if list != nil {
				v = list
			}
		} else if len(vals) > 0 {
			v = vals[0]
		}
		if v == nil {
			continue
		}
		switch a.Kind {
		case Single:
			cv := m.parseNative(a.Target, v)
			if cv == nil {
				unparsed(a, v)
				continue
			}
			if err := scim.SetPath(m.RT, doc, a.Path, cv); err != nil {
				problem(a, detail(err))
			}
		case Element:
			cv := m.parseNative(a.Target, v)
			if cv == nil {
				unparsed(a, v)
				continue
			}
			k := elemKey{a.Path.Schema, a.Path.Attr, a.selectorKey}
			el := elems[k]
			if el == nil {
				el = map[string]any{}
				for sk, sv := range a.Selector {
					el[sk] = sv
				}
				elems[k] = el
				order = append(order, k)
			}
			el[a.Path.Sub.Name] = cv
		case Collection:
			c := scim.Container(m.RT, doc, a.Path.Schema, true)
			list, _ := c[a.Path.Attr.Name].([]any)
			for _, x := range asSlice(v) {
				cv := m.parseNative(a.Target, x)
				if cv == nil {
					unparsed(a, x)
					continue
				}
				if a.Path.Attr.Type == scim.TypeComplex {
					list = append(list, map[string]any{"value": cv})
				} else {
					list = append(list, cv)
				}
			}
			if len(list) > 0 {
				c[a.Path.Attr.Name] = list
			}
		}
	}
	for _, k := range order {
		c := scim.Container(m.RT, doc, k.schema, true)
		list, _ := c[k.attr.Name].([]any)
		c[k.attr.Name] = append(list, elems[k])
	}
	if len(m.defaults) > 0 {
		if err := m.hideDefaults(doc, rec); err != nil {
			problems = append(problems, ReadProblem{Attr: "default", Err: err.Error()})
		}
	}
	if problems != nil {
		return doc, problems
	}
	return doc, nil
}

// diagSummary is the first error of diags, without its source position
// (the problem carries the mapping's range).
func diagSummary(diags hcl.Diagnostics) string {
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			if d.Detail != "" {
				return d.Summary + ": " + d.Detail
			}
			return d.Summary
		}
	}
	return diags.Error()
}

func lookup(attrs backends.Attrs, name string) ([]string, bool) {
	if v, ok := attrs[name]; ok {
		return v, true
	}
	for k, v := range attrs {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

func asSlice(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// parseNative converts a native string (or an expression result) to the
// Go form of a SCIM attribute; nil when it does not parse.
func (m *Mapping) parseNative(a *scim.Attribute, v any) any {
	s, isString := v.(string)
	if !isString {
		cv, err := scim.CoerceValue(a, v)
		if err != nil {
			return nil
		}
		return cv
	}
	switch a.Type {
	case scim.TypeBoolean:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true", "1", "yes", "y", "t", "on":
			return true
		case "false", "0", "no", "n", "f", "off":
			return false
		}
		return nil
	case scim.TypeInteger:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil
		}
		return n
	case scim.TypeDecimal:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil
		}
		return f
	case scim.TypeDateTime:
		return NormalizeTime(s, m.NativeTime)
	}
	if s == "" {
		return nil
	}
	return s
}

// NormalizeTime renders a native timestamp as RFC 3339 UTC: s in RFC 3339,
// as an xsd:dateTime without a zone (read as UTC), or in a form native
// (the backend's NativeTime, may be nil) reads; nil when it is none.
func NormalizeTime(s string, native func(string) (time.Time, bool)) any {
	trimmed := strings.TrimSpace(s)
	if len(trimmed) < 5 || trimmed[4] != '-' {
		// Neither layout below can match (both begin "2006-"): LDAP's
		// 20261206012345Z goes straight to the native reader.
		trimmed = ""
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if trimmed == "" {
			break
		}
		if t, err := time.Parse(layout, trimmed); err == nil {
			// Fractions of a second are kept: a filter on the value read
			// must find the stored one (PostgreSQL keeps microseconds).
			return t.UTC().Format(time.RFC3339Nano)
		}
	}
	if native != nil {
		if t, ok := native(s); ok {
			return t.UTC().Format(time.RFC3339Nano)
		}
	}
	return nil
}

// NativeAttrs lists the native attributes to read for resources; list
// attributes (members) are included only when withLists is set.
func (m *Mapping) NativeAttrs(withLists bool) []string {
	if withLists {
		return slices.Clip(m.nativeAttrs[1])
	}
	return slices.Clip(m.nativeAttrs[0])
}

// WriteOnly reports whether the attribute p names (with its sub-attribute,
// if any) is never read back: its schema says returned "never" (password,
// a custom attribute or sub-attribute declared writeOnly) or its mapping is
// write-only. Such values are never read from the directory, never in a
// rendered resource, never pushed down into a filter or a sort; clients may
// not filter, sort or project on them either (see the bridge).
func (m *Mapping) WriteOnly(p scim.Path) bool {
	if p.Attr == nil {
		return false
	}
	if p.Attr.Returned == "never" || (p.Sub != nil && p.Sub.Returned == "never") {
		return true
	}
	for _, a := range m.Attrs {
		if a.WriteOnly && a.Path.Schema == p.Schema && a.Path.Attr == p.Attr && a.Path.Sub == p.Sub {
			return true
		}
	}
	return false
}

// ToNativeUsesResource reports whether to_native reads the whole resource.
func (a *Attr) ToNativeUsesResource() bool { return a.toNativeUsesResource }

// Find returns the mapping of a SCIM path (without filter), if any.
func (m *Mapping) Find(p scim.Path) *Attr {
	for _, a := range m.Attrs {
		if a.Kind != Element && a.Path.Schema == p.Schema && a.Path.Attr == p.Attr && (a.Path.Sub == p.Sub || (a.Kind == Collection && (p.Sub == nil || p.Sub.Name == "value"))) {
			return a
		}
	}
	return nil
}

// Mapped reports whether any mapping reads or writes the attribute (or
// one of its sub-attributes).
func (m *Mapping) Mapped(schema *scim.Schema, attr *scim.Attribute, sub *scim.Attribute) bool {
	for _, a := range m.Attrs {
		if a.Path.Schema == schema && a.Path.Attr == attr && (sub == nil || a.Path.Sub == sub || (a.Kind == Collection && sub.Name == "value") || (a.Kind == Element && a.Selector[sub.Name] != nil)) {
			return true
		}
	}
	return false
}
