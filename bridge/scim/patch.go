package scim

import (
	"reflect"
	"strconv"
	"strings"

	filter "github.com/scim2/filter-parser/v2"
)

// PatchOp is one operation of an RFC 7644 §3.5.2 PATCH request.
type PatchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path,omitempty"`
	Value any    `json:"value,omitempty"`
}

// ListDelta is an incremental change to a list of references (a group's
// members): either the list is replaced by Set, or Add and Remove hold only
// the ids that change. A group with 50,000 members gains one member with
// a one-value Add, never a rewrite of the list.
type ListDelta struct {
	Replaced bool
	Set      *OrderedSet
	Add      *OrderedSet
	Remove   *OrderedSet
}

func newDelta() *ListDelta {
	return &ListDelta{Set: NewOrderedSet(), Add: NewOrderedSet(), Remove: NewOrderedSet()}
}

func (d *ListDelta) add(id string) {
	if d.Replaced {
		d.Set.Put(id)
		return
	}
	d.Remove.Delete(id)
	d.Add.Put(id)
}

func (d *ListDelta) remove(id string) {
	if d.Replaced {
		d.Set.Delete(id)
		return
	}
	d.Add.Delete(id)
	d.Remove.Put(id)
}

func (d *ListDelta) replace(ids []string) {
	d.Replaced = true
	d.Set = NewOrderedSet()
	d.Add = NewOrderedSet()
	d.Remove = NewOrderedSet()
	for _, id := range ids {
		d.Set.Put(id)
	}
}

// OrderedSet is a set of strings that remembers insertion order.
type OrderedSet struct {
	idx  map[string]int
	list []string
}

// NewOrderedSet returns an empty set.
func NewOrderedSet() *OrderedSet { return &OrderedSet{idx: map[string]int{}} }

// Put adds s if absent.
func (o *OrderedSet) Put(s string) {
	if _, ok := o.idx[s]; ok {
		return
	}
	o.idx[s] = len(o.list)
	o.list = append(o.list, s)
}

// Delete removes s.
func (o *OrderedSet) Delete(s string) {
	i, ok := o.idx[s]
	if !ok {
		return
	}
	delete(o.idx, s)
	o.list[i] = "\x00"
}

// Has reports membership.
func (o *OrderedSet) Has(s string) bool { _, ok := o.idx[s]; return ok }

// Len is the number of elements.
func (o *OrderedSet) Len() int { return len(o.idx) }

// List returns the elements in insertion order.
func (o *OrderedSet) List() []string {
	out := make([]string, 0, len(o.idx))
	for _, s := range o.list {
		if s != "\x00" {
			out = append(out, s)
		}
	}
	return out
}

// Patcher applies PATCH operations to a resource document.
type Patcher struct {
	RT *ResourceType
	// Lists names core multi-valued reference attributes (members) whose
	// changes are collected as ListDeltas instead of being applied to the
	// document, so that large lists never need to be read.
	Lists map[string]bool
	// LoadList returns the current elements of a list attribute; it is
	// called only for filters that cannot be decided from the ids alone.
	LoadList func(attr string) ([]any, error)
	// MaxListOps bounds the number of list values one request may change.
	MaxListOps int
	deltas     map[string]*ListDelta
	listOps    int
}

// Apply applies ops to doc in order (doc is changed in place: pass a
// copy) and returns the list deltas. Any error means nothing may be
// written.
func (p *Patcher) Apply(doc Doc, ops []PatchOp) (map[string]*ListDelta, error) {
	p.deltas = map[string]*ListDelta{}
	p.listOps = 0
	if len(ops) == 0 {
		return nil, BadRequest(TypeInvalidValue, "PATCH request has no Operations")
	}
	for i, op := range ops {
		if err := p.applyOne(doc, op); err != nil {
			if e, ok := AsError(err); ok && len(ops) > 1 {
				e.Detail = "operation " + strconv.Itoa(i+1) + ": " + e.Detail
			}
			return nil, err
		}
	}
	return p.deltas, nil
}

func (p *Patcher) applyOne(doc Doc, op PatchOp) error {
	kind := strings.ToLower(strings.TrimSpace(op.Op))
	switch kind {
	case "add", "replace", "remove":
	default:
		return BadRequest(TypeInvalidSyntax, "unknown PATCH op %q", op.Op)
	}
	if strings.TrimSpace(op.Path) == "" {
		if kind == "remove" {
			return BadRequest(TypeNoTarget, "remove needs a path")
		}
		obj, ok := op.Value.(map[string]any)
		if !ok {
			if op.Value == nil {
				return BadRequest(TypeInvalidValue, "%s without a path needs an object value", kind)
			}
			return BadRequest(TypeInvalidValue, "%s without a path needs an object value", kind)
		}
		return p.applyObject(doc, kind, obj)
	}
	path, err := ResolvePath(p.RT, op.Path)
	if err != nil {
		return err
	}
	return p.applyPath(doc, kind, path, op.Value, false)
}

// applyObject handles a path-less add/replace: each key may be an
// attribute, a dotted or URN-qualified path, or an extension URN.
func (p *Patcher) applyObject(doc Doc, kind string, obj map[string]any) error {
	for k, v := range obj {
		if strings.EqualFold(k, "schemas") {
			continue
		}
		if ext := p.RT.Extension(k); ext != nil {
			sub, ok := v.(map[string]any)
			if !ok {
				if v == nil {
					continue
				}
				return BadRequest(TypeInvalidValue, "%q must be an object", k)
			}
			for sk, sv := range sub {
				sp, err := resolveAttr(p.RT, ext.ID, sk, "")
				if err != nil {
					return err
				}
				if err := p.applyPath(doc, kind, sp, sv, true); err != nil {
					return err
				}
			}
			continue
		}
		path, err := ResolvePath(p.RT, k)
		if err != nil {
			if strings.HasPrefix(strings.ToLower(k), "urn:") {
				continue // an unknown extension: tolerated
			}
			if e, ok := AsError(err); ok {
				e.ScimType = TypeInvalidValue
			}
			return err
		}
		if err := p.applyPath(doc, kind, path, v, true); err != nil {
			return err
		}
	}
	return nil
}

func (p *Patcher) applyPath(doc Doc, kind string, path Path, value any, pathless bool) error {
	if path.Attr != nil {
		if ro := readOnlyTarget(path); ro != "" {
			if pathless || (kind != "remove" && reflect.DeepEqual(value, GetPath(p.RT, doc, path))) {
				// Clients echo read-only attributes (Okta sends the id with
				// every group rename): a value that changes nothing is fine.
				if path.Attr.Name == "id" && value != nil && value != doc["id"] {
					if s, ok := value.(string); !ok || s != doc["id"] {
						return BadRequest(TypeMutability, "attribute \"id\" is read-only")
					}
				}
				return nil
			}
			return BadRequest(TypeMutability, "attribute %q is read-only", ro)
		}
		if path.IsCore(p.RT) && p.Lists[path.Attr.Name] {
			return p.applyList(path, kind, value)
		}
	}
	if value == nil && kind != "remove" {
		return nil // Entra sends nulls; a null adds or replaces nothing
	}
	switch kind {
	case "add":
		return p.add(doc, path, value)
	case "replace":
		return p.replace(doc, path, value)
	default:
		return p.remove(doc, path, value)
	}
}

func readOnlyTarget(p Path) string {
	if p.Attr.Mutability == ReadOnly {
		return p.Attr.Name
	}
	if p.Sub != nil && p.Sub.Mutability == ReadOnly {
		return p.Attr.Name + "." + p.Sub.Name
	}
	return ""
}

func (p *Patcher) add(doc Doc, path Path, value any) error {
	if path.Attr == nil { // whole extension object
		obj, ok := value.(map[string]any)
		if !ok {
			return BadRequest(TypeInvalidValue, "value for %q must be an object", path.Schema.ID)
		}
		for k, v := range obj {
			sp, err := resolveAttr(p.RT, path.Schema.ID, k, "")
			if err != nil {
				return err
			}
			if err := p.add(doc, sp, v); err != nil {
				return err
			}
		}
		return nil
	}
	if path.Filter != nil {
		return p.setFiltered(doc, path, value, true)
	}
	c := Container(p.RT, doc, path.Schema, true)
	a := path.Attr
	switch {
	case path.Sub != nil:
		return SetPath(p.RT, doc, path, value)
	case a.MultiValued:
		nv, err := CoerceValue(a, value)
		if err != nil {
			return err
		}
		list := asList(c[a.Name])
		for _, el := range asList(nv) {
			if containsDeep(list, el) {
				continue
			}
			if isPrimary(el) {
				clearPrimary(list)
			}
			list = append(list, el)
		}
		if len(list) > 0 {
			c[a.Name] = list
		}
		return nil
	case a.Type == TypeComplex:
		return p.mergeComplex(c, a, value)
	}
	return SetPath(p.RT, doc, path, value)
}

func (p *Patcher) replace(doc Doc, path Path, value any) error {
	if path.Attr == nil {
		return SetPath(p.RT, doc, path, value)
	}
	if path.Filter != nil {
		return p.setFiltered(doc, path, value, false)
	}
	a := path.Attr
	if path.Sub == nil && a.Type == TypeComplex && !a.MultiValued {
		if _, ok := value.(map[string]any); ok {
			return p.mergeComplex(Container(p.RT, doc, path.Schema, true), a, value)
		}
	}
	if path.Sub == nil && a.MultiValued {
		nv, err := CoerceValue(a, value)
		if err != nil {
			return err
		}
		list := asList(nv)
		primaries := 0
		for _, el := range list {
			if isPrimary(el) {
				primaries++
			}
		}
		if primaries > 1 {
			return BadRequest(TypeInvalidValue, "more than one primary value in %q", a.Name)
		}
	}
	return SetPath(p.RT, doc, path, value)
}

func (p *Patcher) remove(doc Doc, path Path, value any) error {
	if path.Attr == nil {
		delete(doc, path.Schema.ID)
		return nil
	}
	c := Container(p.RT, doc, path.Schema, false)
	if c == nil {
		return nil
	}
	a := path.Attr
	if path.Filter != nil {
		list := asList(c[a.Name])
		var kept []any
		for _, el := range list {
			if !MatchElement(a, path.Filter, el) {
				kept = append(kept, el)
				continue
			}
			if path.Sub != nil {
				if m, ok := el.(map[string]any); ok {
					delete(m, path.Sub.Name)
					if len(m) > 0 {
						kept = append(kept, m)
					}
				}
			}
		}
		setList(c, a.Name, kept)
		return nil
	}
	if a.MultiValued && path.Sub == nil && value != nil {
		// Remove the listed values only (Entra's member removal form).
		nv, err := CoerceValue(a, value)
		if err != nil {
			return err
		}
		var kept []any
		for _, el := range asList(c[a.Name]) {
			if !containsValue(asList(nv), el) {
				kept = append(kept, el)
			}
		}
		setList(c, a.Name, kept)
		return nil
	}
	if path.Sub != nil {
		return SetPath(p.RT, doc, path, nil)
	}
	delete(c, a.Name)
	if path.Schema != p.RT.Schema && len(c) == 0 {
		delete(doc, path.Schema.ID)
	}
	return nil
}

func setList(c map[string]any, name string, list []any) {
	if len(list) == 0 {
		delete(c, name)
	} else {
		c[name] = list
	}
}

// setFiltered sets value on the elements that match path.Filter; when
// none match, a new element is made from the filter's equality terms (the
// form Entra uses: emails[type eq "work"].value).
func (p *Patcher) setFiltered(doc Doc, path Path, value any, isAdd bool) error {
	a := path.Attr
	c := Container(p.RT, doc, path.Schema, true)
	list := asList(c[a.Name])
	matched := false
	for i, el := range list {
		if !MatchElement(a, path.Filter, el) {
			continue
		}
		matched = true
		m, ok := el.(map[string]any)
		if !ok {
			continue
		}
		if path.Sub != nil {
			cv, err := CoerceValue(path.Sub, value)
			if err != nil {
				return err
			}
			setOrDelete(m, path.Sub.Name, cv)
			continue
		}
		nv, err := coerceSingle(a, value)
		if err != nil {
			return err
		}
		if isAdd {
			if nm, ok := nv.(map[string]any); ok {
				for k, v := range nm {
					m[k] = v
				}
			}
		} else {
			list[i] = nv
		}
	}
	if matched {
		setList(c, a.Name, compact(list))
		return nil
	}
	seed, ok := EqualityTerms(path.Filter)
	if !ok {
		return BadRequest(TypeNoTarget, "no value of %q matches the filter", a.Name)
	}
	el := map[string]any{}
	for k, v := range seed {
		sub := a.Sub(k)
		if sub == nil {
			return BadRequest(TypeInvalidFilter, "unknown sub-attribute %q", k)
		}
		cv, err := CoerceSimple(sub, v)
		if err != nil {
			return err
		}
		el[sub.Name] = cv
	}
	if path.Sub != nil {
		cv, err := CoerceValue(path.Sub, value)
		if err != nil {
			return err
		}
		if isEmpty(cv) {
			return nil
		}
		el[path.Sub.Name] = cv
	} else {
		nv, err := coerceSingle(a, value)
		if err != nil {
			return err
		}
		if nm, ok := nv.(map[string]any); ok {
			for k, v := range nm {
				el[k] = v
			}
		}
	}
	c[a.Name] = append(list, el)
	return nil
}

func compact(list []any) []any {
	var out []any
	for _, el := range list {
		if !isEmpty(el) {
			out = append(out, el)
		}
	}
	return out
}

// EqualityTerms extracts {sub: value} from a filter made only of "eq"
// terms joined by "and".
func EqualityTerms(e filter.Expression) (map[string]any, bool) {
	switch x := e.(type) {
	case *filter.AttributeExpression:
		if x.Operator != filter.EQ {
			return nil, false
		}
		return map[string]any{x.AttributePath.AttributeName: x.CompareValue}, true
	case *filter.LogicalExpression:
		if x.Operator != filter.AND {
			return nil, false
		}
		l, ok1 := EqualityTerms(x.Left)
		r, ok2 := EqualityTerms(x.Right)
		if !ok1 || !ok2 {
			return nil, false
		}
		for k, v := range r {
			l[k] = v
		}
		return l, true
	}
	return nil, false
}

func (p *Patcher) mergeComplex(c map[string]any, a *Attribute, value any) error {
	nv, err := CoerceValue(a, value)
	if err != nil {
		return err
	}
	nm, _ := nv.(map[string]any)
	if len(nm) == 0 {
		return nil
	}
	m, _ := c[a.Name].(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	for k, v := range nm {
		m[k] = v
	}
	c[a.Name] = m
	return nil
}

func isPrimary(el any) bool {
	m, ok := el.(map[string]any)
	return ok && m["primary"] == true
}

func clearPrimary(list []any) {
	for _, el := range list {
		if m, ok := el.(map[string]any); ok {
			delete(m, "primary")
		}
	}
}

func containsDeep(list []any, el any) bool {
	for _, x := range list {
		if reflect.DeepEqual(x, el) {
			return true
		}
	}
	return false
}

// containsValue matches elements by their "value" sub-attribute when they
// have one (so {"value":"x"} removes {"value":"x","display":"y"}).
func containsValue(list []any, el any) bool {
	ev := elementValue(el)
	for _, x := range list {
		if ev != nil && elementValue(x) != nil {
			if reflect.DeepEqual(elementValue(x), ev) {
				return true
			}
		} else if reflect.DeepEqual(x, el) {
			return true
		}
	}
	return false
}

func elementValue(el any) any {
	if m, ok := el.(map[string]any); ok {
		return m["value"]
	}
	return el
}

// applyList turns an operation on a reference list into delta entries.
func (p *Patcher) applyList(path Path, kind string, value any) error {
	name := path.Attr.Name
	d := p.deltas[name]
	if d == nil {
		d = newDelta()
		p.deltas[name] = d
	}
	if path.Sub != nil && !strings.EqualFold(path.Sub.Name, "value") {
		if path.Sub.Mutability == ReadOnly || strings.EqualFold(path.Sub.Name, "display") {
			return nil // display names are derived; nothing to store
		}
		return BadRequest(TypeMutability, "%s.%s cannot be changed", name, path.Sub.Name)
	}
	switch kind {
	case "add", "replace":
		if path.Filter != nil || path.Sub != nil {
			return BadRequest(TypeMutability, "%s values are immutable: remove and add instead", name)
		}
		ids, err := p.listIDs(path.Attr, value)
		if err != nil {
			return err
		}
		if kind == "replace" {
			d.replace(ids)
			return nil
		}
		for _, id := range ids {
			d.add(id)
		}
		return nil
	}
	// remove
	if path.Filter != nil {
		if ids, ok := valueEqualities(path.Filter); ok {
			if err := p.countListOps(len(ids)); err != nil {
				return err
			}
			for _, id := range ids {
				d.remove(id)
			}
			return nil
		}
		if p.LoadList == nil {
			return BadRequest(TypeInvalidFilter, "unsupported filter on %q", name)
		}
		current, err := p.LoadList(name)
		if err != nil {
			return err
		}
		for _, el := range current {
			if MatchElement(path.Attr, path.Filter, el) {
				if s, ok := elementValue(el).(string); ok {
					d.remove(s)
				}
			}
		}
		return nil
	}
	if value != nil {
		ids, err := p.listIDs(path.Attr, value)
		if err != nil {
			return err
		}
		for _, id := range ids {
			d.remove(id)
		}
		return nil
	}
	d.replace(nil)
	return nil
}

func (p *Patcher) countListOps(n int) error {
	p.listOps += n
	if p.MaxListOps > 0 && p.listOps > p.MaxListOps {
		return Errorf(413, TypeTooMany, "a request may change at most %d members", p.MaxListOps)
	}
	return nil
}

func (p *Patcher) listIDs(a *Attribute, value any) ([]string, error) {
	nv, err := CoerceValue(a, value)
	if err != nil {
		return nil, err
	}
	list := asList(nv)
	if err := p.countListOps(len(list)); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(list))
	for _, el := range list {
		s, ok := elementValue(el).(string)
		if !ok || s == "" {
			return nil, BadRequest(TypeInvalidValue, "every %s element needs a \"value\"", a.Name)
		}
		ids = append(ids, s)
	}
	return ids, nil
}

// valueEqualities extracts ids from `value eq "x"` terms joined by "or".
func valueEqualities(e filter.Expression) ([]string, bool) {
	switch x := e.(type) {
	case *filter.AttributeExpression:
		if x.Operator != filter.EQ || !strings.EqualFold(x.AttributePath.AttributeName, "value") {
			return nil, false
		}
		s, ok := x.CompareValue.(string)
		return []string{s}, ok
	case *filter.LogicalExpression:
		if x.Operator != filter.OR {
			return nil, false
		}
		l, ok1 := valueEqualities(x.Left)
		r, ok2 := valueEqualities(x.Right)
		return append(l, r...), ok1 && ok2
	}
	return nil, false
}
