package bridge

import (
	"context"
	"strings"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/mapping"
	"github.com/scimbridge/scimbridge/bridge/scim"
)

// A "blind" PATCH writes without reading the resource first. Most IdP
// PATCHes set a few singular attributes (active, name.familyName, a group's
// displayName) and add or remove members; for those the current values are
// not needed: the new native values follow from the operations alone, and
// membership changes are deltas anyway. Skipping the read halves the
// directory round trips of the most frequent write. Anything that does need
// the current state (If-Match, multi-valued attributes, removes of
// attributes, expressions over the whole resource or the stored record,
// defaults) takes the general path.

// touch is one attribute (or sub-attribute) a PATCH sets.
type touch struct {
	schema    *scim.Schema
	attr, sub *scim.Attribute
}

func (t touch) matches(a *mapping.Attr) bool {
	return a.Path.Schema == t.schema && a.Path.Attr == t.attr && (t.sub == nil || a.Path.Sub == t.sub)
}

// blindTouches returns what ops set, and whether they can be applied
// without reading the resource.
func (r *Resource) blindTouches(ops []scim.PatchOp) ([]touch, bool) {
	var touches []touch
	for _, op := range ops {
		kind := strings.ToLower(strings.TrimSpace(op.Op))
		if strings.TrimSpace(op.Path) == "" {
			obj, ok := op.Value.(map[string]any)
			if !ok || kind == "remove" {
				return nil, false
			}
			for k, v := range obj {
				if strings.EqualFold(k, "schemas") {
					continue
				}
				if r.RT.Extension(k) != nil {
					return nil, false
				}
				p, err := scim.ResolvePath(r.RT, k)
				if err != nil {
					return nil, false
				}
				t, ok := r.touchOf(p, v, kind)
				if !ok {
					return nil, false
				}
				touches = append(touches, t...)
			}
			continue
		}
		p, err := scim.ResolvePath(r.RT, op.Path)
		if err != nil {
			return nil, false
		}
		t, ok := r.touchOf(p, op.Value, kind)
		if !ok {
			return nil, false
		}
		touches = append(touches, t...)
	}
	// Every touched attribute must map to singular native values through
	// expressions that read only the value, and no computed attribute or
	// default may depend on it.
	for _, t := range touches {
		if r.Mapping.DefaultDependsOn(t.schema, t.attr) {
			return nil, false
		}
		for _, a := range r.Mapping.Attrs {
			if a.Path.Schema != t.schema || a.Path.Attr != t.attr {
				continue
			}
			if a.Kind != mapping.Single || a.ToNativeUsesResource() || a.ToNativeUsesRecord() {
				return nil, false
			}
		}
		for _, c := range r.Mapping.Computed {
			if c.DependsOn(t.schema, t.attr.Name) {
				return nil, false
			}
		}
	}
	return touches, true
}

func (r *Resource) touchOf(p scim.Path, v any, kind string) ([]touch, bool) {
	if p.Attr == nil {
		return nil, false
	}
	if p.IsCore(r.RT) && r.Mapping.Lists[p.Attr.Name] != nil {
		return nil, true // a member delta: no read needed
	}
	if kind == "remove" || v == nil || p.Filter != nil || p.Attr.MultiValued {
		return nil, false
	}
	if p.Attr.Mutability == scim.ReadOnly {
		return nil, p.Common && p.Attr.Name == "id" // the echoed id is checked by the PATCH engine
	}
	if p.Sub != nil {
		return []touch{{p.Schema, p.Attr, p.Sub}}, true
	}
	if p.Attr.Type != scim.TypeComplex {
		return []touch{{p.Schema, p.Attr, nil}}, true
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	var out []touch
	for k := range obj {
		sub := p.Attr.Sub(k)
		if sub == nil {
			return nil, false
		}
		out = append(out, touch{p.Schema, p.Attr, sub})
	}
	return out, true
}

// blindPatch applies ops to an empty document and writes the native
// attributes of the touched mappings, plus member deltas.
func (r *Resource) blindPatch(ctx context.Context, id string, ops []scim.PatchOp, touches []touch, p *scim.Patcher) (scim.Doc, error) {
	sparse := scim.Doc{"id": id}
	deltas, err := p.Apply(sparse, ops)
	if err != nil {
		return nil, err
	}
	for _, t := range touches {
		if t.sub == nil && t.attr.Required {
			if s, ok := sparse[t.attr.Name].(string); !ok || strings.TrimSpace(s) == "" {
				return nil, scim.BadRequest(scim.TypeInvalidValue, "attribute %q is required", t.attr.Name)
			}
		}
	}
	if bad, err := r.unknownManager(ctx, nil, sparse); err != nil {
		return nil, err
	} else if bad != "" {
		// The operation is left out: the stored manager stays.
		kept := touches[:0:0]
		for _, t := range touches {
			if !(t.schema.ID == scim.EnterpriseSchema && t.attr.Name == "manager") {
				kept = append(kept, t)
			}
		}
		touches = kept
		setManager(sparse, "")
	}
	attrs, err := r.Mapping.ToNativeOnly(sparse, func(a *mapping.Attr) bool {
		for _, t := range touches {
			if t.matches(a) {
				return true
			}
		}
		return false
	})
	if err != nil {
		return nil, err
	}
	var mods []backends.Modification
	for k, v := range attrs {
		mods = append(mods, backends.Modification{Op: backends.ModReplace, Attr: k, Values: v})
	}
	if err := r.Mapping.CheckModify(sparse, mods); err != nil {
		return nil, err
	}
	for name, d := range deltas {
		lm, err := r.listMods(ctx, id, r.listNative(name), d)
		if err != nil {
			return nil, err
		}
		mods = append(mods, lm...)
	}
	if len(mods) == 0 {
		return r.Get(ctx, id, false) // nothing to write; still 404 for an unknown id
	}
	rec, err := r.Backend.Modify(ctx, r.RT.Name, id, mods, r.answerAttrs())
	if err != nil {
		return nil, r.fromBackend(err, sparse)
	}
	return r.render(rec), nil
}
