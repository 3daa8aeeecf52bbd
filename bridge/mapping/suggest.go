package mapping

import (
	"fmt"
	"sort"
	"strings"

	"github.com/scimbridge/scimbridge/bridge/scim"
)

// "Did you mean" for names a mapping gets wrong: SCIM attributes and
// sub-attributes (in labels and resource.x), functions and variables.

// closest returns the candidates spelled most like name, compared
// case-insensitively, when they are close: at most a third of name's
// length (plus one) edits away. A candidate equal to name but for case
// is the only answer.
func closest(name string, candidates []string) []string {
	lower := strings.ToLower(name)
	var best []string
	bestDist := len(lower)/3 + 1
	seen := map[string]bool{}
	for _, c := range candidates {
		if c == name || seen[c] {
			continue
		}
		seen[c] = true
		dist := editDistance(lower, strings.ToLower(c))
		if dist > bestDist {
			continue
		}
		if dist < bestDist {
			best, bestDist = nil, dist
		}
		best = append(best, c)
	}
	sort.Strings(best)
	return best
}

// didYouMean is " Did you mean "a" or "b"?" for the closest candidates,
// "" when none is close.
func didYouMean(name string, candidates []string) string {
	best := closest(name, candidates)
	if len(best) == 0 {
		return ""
	}
	return fmt.Sprintf(" Did you mean %q?", strings.Join(best, `" or "`))
}

// suggestLabel corrects a mapping label that names no attribute of rt:
// the closest schema URN, attribute and sub-attribute, each replaced only
// when it is unknown. "" when no correction resolves.
func suggestLabel(rt *scim.ResourceType, label string) string {
	base, rest := label, ""
	if i := strings.IndexByte(label, '['); i >= 0 {
		base, rest = label[:i], label[i:]
	}
	uri, attrPart := "", base
	if i := strings.LastIndexByte(base, ':'); i >= 0 {
		uri, attrPart = base[:i], base[i+1:]
	}
	schema := rt.Schema
	if uri != "" {
		schema = rt.SchemaFor(uri)
		if schema == nil {
			ids := []string{rt.Schema.ID}
			for _, e := range rt.Extensions {
				ids = append(ids, e.Schema.ID)
			}
			best := closest(uri, ids)
			if len(best) != 1 {
				return ""
			}
			uri, schema = best[0], rt.SchemaFor(best[0])
		}
	}
	name, sub := attrPart, ""
	if i := strings.IndexByte(attrPart, '.'); i >= 0 {
		name, sub = attrPart[:i], attrPart[i+1:]
	}
	a := schema.Attr(name)
	if a == nil && uri == "" {
		a = scim.Common(name)
	}
	if a == nil {
		var names []string
		for _, x := range schema.Attributes {
			names = append(names, x.Name)
		}
		if uri == "" {
			for _, x := range scim.CommonAttributes() {
				names = append(names, x.Name)
			}
		}
		best := closest(name, names)
		if len(best) != 1 {
			return ""
		}
		name = best[0]
		if a = schema.Attr(name); a == nil {
			a = scim.Common(name)
		}
	}
	// The sub-attribute is after the dot, or after the element filter.
	subAt := func(s string) string {
		if s == "" || a.Type != scim.TypeComplex || a.Sub(s) != nil {
			return s
		}
		if best := closest(s, subNames(a)); len(best) == 1 {
			return best[0]
		}
		return s
	}
	sub = subAt(sub)
	if j := strings.LastIndex(rest, "]."); j >= 0 {
		rest = rest[:j+2] + subAt(rest[j+2:])
	}
	out := name
	if sub != "" {
		out += "." + sub
	}
	if uri != "" {
		out = uri + ":" + out
	}
	out += rest
	if out == label {
		return ""
	}
	if _, err := scim.ResolvePath(rt, out); err != nil {
		return ""
	}
	return out
}

func subNames(a *scim.Attribute) []string {
	names := make([]string, len(a.SubAttributes))
	for i, s := range a.SubAttributes {
		names[i] = s.Name
	}
	return names
}

// resourceNames are the names resource.x may start with: the core
// schema's attributes, the common ones, and each extension's URN and
// short alias.
func resourceNames(rt *scim.ResourceType) []string {
	var names []string
	for _, a := range rt.Schema.Attributes {
		names = append(names, a.Name)
	}
	for _, a := range scim.CommonAttributes() {
		names = append(names, a.Name)
	}
	for _, e := range rt.Extensions {
		names = append(names, extAlias(e.Schema))
	}
	return names
}

func schemaNames(s *scim.Schema) []string {
	names := make([]string, len(s.Attributes))
	for i, a := range s.Attributes {
		names[i] = a.Name
	}
	return names
}

func (m *Mapping) funcNames() []string {
	names := make([]string, 0, len(m.funcs))
	for n := range m.funcs {
		names = append(names, n)
	}
	return names
}
