package scim

import "strings"

// The endpoint setting unknown_attributes = "ignore" has a body's
// attributes that the resource type does not define (misspelled or never
// defined names) dropped before the body is read, instead of refused with
// 400. DropUnknown and DropUnknownOps do the dropping and name what they
// dropped, for the bridge to log; everything else about the body is
// checked as usual.

// subFor finds the sub-attribute of a that a client's key k names,
// including the spellings clients use instead of the schema's.
func subFor(a *Attribute, k string) *Attribute {
	if s := a.Sub(k); s != nil {
		return s
	}
	switch {
	case strings.EqualFold(a.Name, "manager") && strings.EqualFold(k, "managerId"):
		// OneLogin templates send the manager as {"managerId": ...}.
		return a.Sub("value")
	case strings.EqualFold(k, "displayName"):
		// Some clients name a member's display "displayName".
		return a.Sub("display")
	}
	return nil
}

// DropUnknown removes from a POST or PUT body (in place) the attributes
// and sub-attributes that rt does not define, and returns their names.
// Unknown extension URNs are left alone: Normalize tolerates them.
func DropUnknown(rt *ResourceType, raw map[string]any) []string {
	var dropped []string
	dropIn(rt, rt.Schema, raw, "", true, &dropped)
	return dropped
}

func dropIn(rt *ResourceType, s *Schema, obj map[string]any, prefix string, top bool, dropped *[]string) {
	for k, v := range obj {
		if top {
			if strings.EqualFold(k, "schemas") {
				continue
			}
			if strings.HasPrefix(strings.ToLower(k), "urn:") {
				inner, ok := v.(map[string]any)
				switch {
				case !ok:
				case strings.EqualFold(k, rt.Schema.ID):
					dropIn(rt, rt.Schema, inner, "", true, dropped)
				case rt.Extension(k) != nil:
					ext := rt.Extension(k)
					dropIn(rt, ext, inner, ext.ID+":", false, dropped)
				}
				continue
			}
		}
		a := s.Attr(k)
		if a == nil && top {
			a = Common(k)
		}
		if a == nil {
			delete(obj, k)
			*dropped = append(*dropped, prefix+k)
			continue
		}
		dropSubs(a, v, prefix, dropped)
	}
}

func dropSubs(a *Attribute, v any, prefix string, dropped *[]string) {
	if a.Type != TypeComplex {
		return
	}
	for _, el := range asList(v) {
		m, ok := el.(map[string]any)
		if !ok {
			continue
		}
		for k := range m {
			if subFor(a, k) == nil {
				delete(m, k)
				*dropped = append(*dropped, prefix+a.Name+"."+k)
			}
		}
	}
}

// unknownName reports whether err is ResolvePath's refusal of a name rt
// does not define.
func unknownName(err error) bool {
	e, ok := AsError(err)
	return ok && e.ScimType == TypeInvalidPath && strings.HasPrefix(e.Detail, "unknown ")
}

// DropUnknownOps removes from PATCH operations what DropUnknown removes
// from a body: operations whose path names an attribute rt does not
// define, keys of path-less values that do, and unknown sub-attributes of
// values. It returns the operations left and the names dropped.
func DropUnknownOps(rt *ResourceType, ops []PatchOp) ([]PatchOp, []string) {
	var dropped []string
	out := make([]PatchOp, 0, len(ops))
	for _, op := range ops {
		if strings.TrimSpace(op.Path) == "" {
			if obj, ok := op.Value.(map[string]any); ok {
				for k, v := range obj {
					if strings.EqualFold(k, "schemas") {
						continue
					}
					if ext := rt.Extension(k); ext != nil {
						if inner, ok := v.(map[string]any); ok {
							dropIn(rt, ext, inner, ext.ID+":", false, &dropped)
						}
						continue
					}
					p, err := ResolvePath(rt, k)
					if err != nil {
						if unknownName(err) && !strings.HasPrefix(strings.ToLower(k), "urn:") {
							delete(obj, k)
							dropped = append(dropped, k)
						}
						continue
					}
					if p.Attr != nil && p.Sub == nil {
						dropSubs(p.Attr, v, "", &dropped)
					}
				}
			}
			out = append(out, op)
			continue
		}
		p, err := ResolvePath(rt, op.Path)
		switch {
		case err != nil && unknownName(err):
			dropped = append(dropped, strings.TrimSpace(op.Path))
			continue
		case err != nil:
		case p.Attr == nil:
			if inner, ok := op.Value.(map[string]any); ok {
				dropIn(rt, p.Schema, inner, p.Schema.ID+":", false, &dropped)
			}
		case p.Sub == nil:
			dropSubs(p.Attr, op.Value, "", &dropped)
		}
		out = append(out, op)
	}
	return out, dropped
}
