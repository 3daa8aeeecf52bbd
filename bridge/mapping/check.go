package mapping

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/scim"
)

// requirement is a native attribute the store needs on every new record,
// with the mappings that write it.
type requirement struct {
	native   *backends.NativeAttr
	attrs    []*Attr
	computed []*Computed
	// writes holds the lower-case natives of those mappings (an LDAP
	// alias may differ from native.Name).
	writes map[string]bool
}

// Check compares the mapping with what the store has for its resource
// type, as an opened backend describes it, and reports every mistake that
// would fail requests at run time, each at its block:
//
//   - a native attribute (of an attribute, computed block or a record.x
//     in from_native) the store does not have;
//   - a writable mapping of the id, or of an attribute the store does not
//     let anyone write;
//   - two writable mappings of one attribute under two of its names;
//   - an attribute the store requires of new records that no writable
//     mapping writes (reported at the mapping block).
//
// It also keeps the store's requirements, so that CheckCreate and
// CheckModify can name the SCIM attributes a write lacks.
func (m *Mapping) Check(d *backends.Description) hcl.Diagnostics {
	var diags hcl.Diagnostics
	add := func(rng hcl.Range, summary, detail string) {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: rangePtr(rng)})
	}
	// written: the writable mappings of each store attribute.
	written := map[*backends.NativeAttr][]string{}
	writtenAt := map[*backends.NativeAttr]hcl.Range{}
	check := func(what, native string, writable bool, rng hcl.Range) *backends.NativeAttr {
		n := d.Lookup(native)
		switch {
		case n == nil:
			add(rng, "Native attribute not in the store", fmt.Sprintf("%s names %q, which %s do not have: %s.%s",
				what, native, d.Where, failing(writable), suggest(d, native)))
			return nil
		case n.ID && writable:
			add(rng, "Mapping writes the id", fmt.Sprintf("%s writes %q, which holds the ids of %s. The id is the SCIM id: the store assigns it and no write may change it. To show it as this attribute too, add direction = \"read\" to the mapping; otherwise map another native attribute.",
				what, native, d.Where))
			return nil
		case n.ReadOnly != "" && writable:
			add(rng, "Mapping writes a read-only native attribute", fmt.Sprintf("%s writes %q, which the bridge cannot write: %s. Every write of it would fail; map another native attribute.",
				what, native, n.ReadOnly))
			return nil
		}
		if writable {
			if prev, ok := written[n]; ok && !slices.Contains(prev, strings.ToLower(native)) {
				add(rng, "Native attribute written twice", fmt.Sprintf("%s writes %q, which is another name of %q, already written by the mapping at %s; each native attribute may be written by one mapping only.",
					what, native, prev[0], writtenAt[n]))
			}
			if _, ok := written[n]; !ok {
				writtenAt[n] = rng
			}
			written[n] = append(written[n], strings.ToLower(native))
		}
		return n
	}

	writers := map[*backends.NativeAttr]*requirement{}
	writer := func(n *backends.NativeAttr) *requirement {
		req := writers[n]
		if req == nil {
			req = &requirement{native: n, writes: map[string]bool{}}
			writers[n] = req
		}
		return req
	}
	for _, a := range m.Attrs {
		n := check(fmt.Sprintf("The mapping of %q", a.Label), a.Native, !a.ReadOnly, a.Range)
		// The id read as another attribute: the record's id is its value,
		// whether or not the store lists it among the attributes.
		a.readsID = n != nil && n.ID && a.ReadOnly
		if n != nil && !a.ReadOnly {
			req := writer(n)
			req.attrs = append(req.attrs, a)
			req.writes[strings.ToLower(a.Native)] = true
		}
		for _, e := range []struct {
			where string
			expr  hcl.Expression
		}{{"from_native", a.FromNative}, {"to_native", a.ToNative}} {
			if e.expr == nil {
				continue
			}
			for _, tr := range e.expr.Variables() {
				if tr.RootName() != "record" || len(tr) < 2 {
					continue
				}
				if name, ok := stepName(tr[1]); ok && d.Lookup(name) == nil {
					add(tr.SourceRange(), "Native attribute not in the store", fmt.Sprintf("%s of %q reads record.%s, which %s do not have: it is always null.%s",
						e.where, a.Label, name, d.Where, suggest(d, name)))
				}
			}
		}
	}
	for _, c := range m.Computed {
		if n := check(fmt.Sprintf("computed %q", c.Native), c.Native, true, c.Range); n != nil {
			req := writer(n)
			req.computed = append(req.computed, c)
			req.writes[strings.ToLower(c.Native)] = true
		}
	}

	// Every required attribute, once (names of one attribute share it).
	var required []*backends.NativeAttr
	for _, n := range d.Attrs {
		if n.Required != "" && !slices.Contains(required, n) {
			required = append(required, n)
		}
	}
	sort.Slice(required, func(i, j int) bool { return required[i].Name < required[j].Name })
	m.required = nil
	for _, n := range required {
		req := writers[n]
		if req == nil {
			add(m.Range, "Required native attribute not mapped", fmt.Sprintf("%s need a value of %q (%s), but no attribute or computed block of this %s mapping writes it: every create would be refused. Map a SCIM attribute to it, or add computed %q { value = ... }.",
				upperFirst(d.Where), n.Name, n.Required, m.RT.Name, n.Name))
			continue
		}
		m.required = append(m.required, req)
	}
	return diags
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func failing(writable bool) string {
	if writable {
		return "every write of it would fail"
	}
	return "reads would never find a value"
}

func rangePtr(rng hcl.Range) *hcl.Range {
	if rng.Filename == "" {
		return nil
	}
	return rng.Ptr()
}

// suggest names the attributes of d spelled most like name.
func suggest(d *backends.Description, name string) string {
	lower := strings.ToLower(name)
	best, bestDist := []string(nil), len(lower)/3+1
	seen := map[*backends.NativeAttr]bool{}
	for key, n := range d.Attrs {
		if seen[n] {
			continue
		}
		dist := editDistance(lower, key)
		if dist > bestDist {
			continue
		}
		seen[n] = true
		if dist < bestDist {
			best, bestDist = nil, dist
		}
		best = append(best, n.Name)
	}
	if len(best) == 0 {
		return ""
	}
	sort.Strings(best)
	return fmt.Sprintf(" Did you mean %q?", strings.Join(best, `" or "`))
}

// editDistance is the Levenshtein distance of a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// CheckCreate reports a native attribute the store requires that attrs
// (what a create of doc sends) leaves without a value: a 400 naming the
// SCIM attributes that would give it one or, when doc has them and the
// mapping's to_native gave nothing, an error wrapping backends.ErrConfig.
// Without Check it reports nothing.
func (m *Mapping) CheckCreate(doc scim.Doc, attrs backends.Attrs) error {
	for _, req := range m.required {
		has := false
		for native := range req.writes {
			if hasValue(attrs.Get(native)) {
				has = true
			}
		}
		if !has {
			return m.missing(req, doc)
		}
	}
	return nil
}

// CheckModify is CheckCreate for the modifications of a PUT or PATCH
// (doc: the resource as it will be, or just the values a PATCH sets): a
// replace without values, or a delete of every value, of an attribute the
// store requires.
func (m *Mapping) CheckModify(doc scim.Doc, mods []backends.Modification) error {
	for _, mod := range mods {
		empties := (mod.Op == backends.ModReplace && !hasValue(mod.Values)) || (mod.Op == backends.ModDelete && len(mod.Values) == 0)
		if !empties {
			continue
		}
		for _, req := range m.required {
			if req.writes[strings.ToLower(mod.Attr)] {
				return m.missing(req, doc)
			}
		}
	}
	return nil
}

// present reports whether a SCIM value is more than blank.
func present(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return strings.TrimSpace(x) != ""
	case []any:
		for _, el := range x {
			if present(el) {
				return true
			}
		}
		return false
	}
	return true
}

func hasValue(vals []string) bool {
	for _, v := range vals {
		if v != "" {
			return true
		}
	}
	return false
}

// missing is the error for a required native attribute without a value.
func (m *Mapping) missing(req *requirement, doc scim.Doc) error {
	var labels []string
	for _, a := range req.attrs {
		if present(m.scimValue(a, doc)) {
			// The client gave the value: the mapping made nothing of it.
			return fmt.Errorf("%w: the mapping of %s gives no value for %s, which the store requires (%s)",
				backends.ErrConfig, a.Label, req.native.Name, req.native.Required)
		}
		labels = append(labels, a.Label)
	}
	for _, c := range req.computed {
		var reads []string
		for r := range c.Reads {
			if r != "*" {
				reads = append(reads, r)
			}
		}
		sort.Strings(reads)
		labels = append(labels, reads...)
	}
	switch len(labels) {
	case 0:
		return scim.BadRequest(scim.TypeInvalidValue, "the %s lacks a value the directory requires (the mapping computes it from the resource)", m.RT.Name)
	case 1:
		return scim.BadRequest(scim.TypeInvalidValue, "attribute %q is required: the directory cannot store a %s without it", labels[0], m.RT.Name)
	}
	quoted := make([]string, len(labels))
	for i, l := range labels {
		quoted[i] = fmt.Sprintf("%q", l)
	}
	return scim.BadRequest(scim.TypeInvalidValue, "one of the attributes %s or %s must have a value: the directory cannot store a %s without what the mapping makes of them",
		strings.Join(quoted[:len(quoted)-1], ", "), quoted[len(quoted)-1], m.RT.Name)
}
