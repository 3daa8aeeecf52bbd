// Package memory is an in-memory backend for the bridge's unit tests. It
// keeps records in maps behind one RWMutex, implements the whole backend
// contract (filters, paging, sorting, atomic modify, referential integrity)
// and runs the conformance suite.
//
// It has no schema: any attribute name can be written and every attribute
// is multi-valued, except what Config declares. A typical configuration:
//
//	b := memory.New(memory.Config{Types: map[string]memory.TypeConfig{
//		backends.User: {Unique: []string{"uid"}},
//		backends.Group: {
//			Unique: []string{"cn"},
//			References: []memory.Reference{
//				{Attr: "member", Target: backends.User, Reverse: "memberOf"},
//			},
//		},
//	}})
package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge/backends"
)

// Config declares the resource types the backend stores.
type Config struct {
	// Types by resource type name ("User", "Group"). A resource type that
	// is not listed is refused with ErrUnsupported.
	Types map[string]TypeConfig
}

// TypeConfig describes one resource type.
type TypeConfig struct {
	// Unique lists attributes whose values must be unique among the
	// records of this type, compared case-insensitively (like userName).
	// Default: none.
	Unique []string
	// References lists attributes that hold ids of other records.
	// Default: none.
	References []Reference
}

// Reference is an attribute whose values are ids of records of Target.
type Reference struct {
	// Attr is the attribute name, e.g. "member".
	Attr string
	// Target is the resource type the ids point to, e.g. "User".
	Target string
	// Reverse, if set, is a virtual read-only attribute on Target records
	// listing the ids of the records that refer to them, e.g. "memberOf".
	Reverse string
	// ReadOnly refuses writes to Attr with ErrInvalid.
	ReadOnly bool
}

// Backend is the in-memory backend.
type Backend struct {
	mu    sync.RWMutex
	types map[string]*store
	seq   uint64
}

var (
	_ backends.Backend = (*Backend)(nil)
	_ backends.Pinger  = (*Backend)(nil)
)

// store holds the records of one resource type.
type store struct {
	name    string
	cfg     TypeConfig
	records map[string]*entry
	// reverse lists the references (on any type) whose Target is this type
	// and that declare a Reverse attribute.
	reverse []reverseRef
	// refsIn lists every reference whose Target is this type, for deletes.
	refsIn []reverseRef
}

type reverseRef struct {
	from *store
	ref  Reference
}

type entry struct {
	seq   uint64 // creation order: the default, stable sort order
	attrs backends.Attrs
}

// New returns an empty backend. It panics on a Config that names an
// unknown Target, since configurations are written by tests.
func New(cfg Config) *Backend {
	b := &Backend{types: map[string]*store{}}
	for name, tc := range cfg.Types {
		b.types[name] = &store{name: name, cfg: tc, records: map[string]*entry{}}
	}
	for _, st := range b.types {
		for _, ref := range st.cfg.References {
			target, ok := b.types[ref.Target]
			if !ok {
				panic(fmt.Sprintf("memory: reference %s.%s names unknown resource type %q", st.name, ref.Attr, ref.Target))
			}
			target.refsIn = append(target.refsIn, reverseRef{from: st, ref: ref})
			if ref.Reverse != "" {
				target.reverse = append(target.reverse, reverseRef{from: st, ref: ref})
			}
		}
	}
	return b
}

// Close does nothing.
func (b *Backend) Close() error { return nil }

// Ping always succeeds.
func (b *Backend) Ping(ctx context.Context) error { return ctx.Err() }

func (b *Backend) store(resourceType string) (*store, error) {
	st, ok := b.types[resourceType]
	if !ok {
		return nil, fmt.Errorf("memory: resource type %q: %w", resourceType, backends.ErrUnsupported)
	}
	return st, nil
}

func (st *store) reference(attr string) (Reference, bool) {
	for _, r := range st.cfg.References {
		if strings.EqualFold(r.Attr, attr) {
			return r, true
		}
	}
	return Reference{}, false
}

func (st *store) isReverse(attr string) bool {
	for _, r := range st.reverse {
		if strings.EqualFold(r.ref.Reverse, attr) {
			return true
		}
	}
	return false
}

// Create stores a new record.
func (b *Backend) Create(ctx context.Context, resourceType string, attrs backends.Attrs) (backends.Record, error) {
	if err := ctx.Err(); err != nil {
		return backends.Record{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	st, err := b.store(resourceType)
	if err != nil {
		return backends.Record{}, err
	}
	clean := backends.Attrs{}
	for k, v := range attrs {
		if st.isReverse(k) {
			return backends.Record{}, fmt.Errorf("memory: %s.%s is read-only: %w", resourceType, k, backends.ErrInvalid)
		}
		if ref, ok := st.reference(k); ok && ref.ReadOnly {
			return backends.Record{}, fmt.Errorf("memory: %s.%s is read-only: %w", resourceType, k, backends.ErrInvalid)
		}
		if vals := dedupe(v); len(vals) > 0 {
			setAttr(clean, k, vals)
		}
	}
	id := uuid.NewString()
	if err := b.check(st, id, clean); err != nil {
		return backends.Record{}, err
	}
	b.seq++
	st.records[id] = &entry{seq: b.seq, attrs: clean}
	return backends.Record{ID: id, Attrs: b.view(st, id, st.records[id], nil)}, nil
}

// Get returns one record.
func (b *Backend) Get(ctx context.Context, resourceType, id string, attrs []string) (backends.Record, error) {
	if err := ctx.Err(); err != nil {
		return backends.Record{}, err
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	st, err := b.store(resourceType)
	if err != nil {
		return backends.Record{}, err
	}
	e, ok := st.records[id]
	if !ok {
		return backends.Record{}, notFound(resourceType, id)
	}
	return backends.Record{ID: id, Attrs: b.view(st, id, e, attrs)}, nil
}

// Modify applies mods atomically and returns the record as Get with attrs
// returns it.
func (b *Backend) Modify(ctx context.Context, resourceType, id string, mods []backends.Modification, attrs []string) (backends.Record, error) {
	if err := ctx.Err(); err != nil {
		return backends.Record{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	st, err := b.store(resourceType)
	if err != nil {
		return backends.Record{}, err
	}
	e, ok := st.records[id]
	if !ok {
		return backends.Record{}, notFound(resourceType, id)
	}
	next := e.attrs.Clone()
	for _, m := range mods {
		if st.isReverse(m.Attr) {
			return backends.Record{}, fmt.Errorf("memory: %s.%s is read-only: %w", resourceType, m.Attr, backends.ErrInvalid)
		}
		if ref, ok := st.reference(m.Attr); ok && ref.ReadOnly {
			return backends.Record{}, fmt.Errorf("memory: %s.%s is read-only: %w", resourceType, m.Attr, backends.ErrInvalid)
		}
		if err := apply(next, m); err != nil {
			return backends.Record{}, fmt.Errorf("memory: %s %s: %w", resourceType, m.Attr, err)
		}
	}
	if err := b.check(st, id, next); err != nil {
		return backends.Record{}, err
	}
	e.attrs = next
	return backends.Record{ID: id, Attrs: b.view(st, id, e, attrs)}, nil
}

// Delete removes a record and every reference to it.
func (b *Backend) Delete(ctx context.Context, resourceType, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	st, err := b.store(resourceType)
	if err != nil {
		return err
	}
	if _, ok := st.records[id]; !ok {
		return notFound(resourceType, id)
	}
	delete(st.records, id)
	for _, in := range st.refsIn {
		for _, e := range in.from.records {
			name, vals := lookup(e.attrs, in.ref.Attr)
			if name == "" || !slices.Contains(vals, id) {
				continue
			}
			vals = slices.DeleteFunc(slices.Clone(vals), func(v string) bool { return v == id })
			if len(vals) == 0 {
				delete(e.attrs, name)
			} else {
				e.attrs[name] = vals
			}
		}
	}
	return nil
}

// check validates a record about to be stored: unique attributes and
// references. Callers hold the write lock.
func (b *Backend) check(st *store, id string, attrs backends.Attrs) error {
	for _, u := range st.cfg.Unique {
		_, mine := lookup(attrs, u)
		if len(mine) == 0 {
			continue
		}
		for otherID, other := range st.records {
			if otherID == id {
				continue
			}
			_, theirs := lookup(other.attrs, u)
			for _, v := range mine {
				if slices.ContainsFunc(theirs, func(w string) bool { return strings.EqualFold(v, w) }) {
					return backends.Conflict(u, v, fmt.Errorf("memory: %s %s %q is taken by %s", st.name, u, v, otherID))
				}
			}
		}
	}
	for _, ref := range st.cfg.References {
		_, vals := lookup(attrs, ref.Attr)
		target := b.types[ref.Target]
		for _, v := range vals {
			if _, ok := target.records[v]; !ok {
				return &backends.AttrError{Kind: backends.ErrInvalidReference, Attr: ref.Attr, Value: v,
					Err: fmt.Errorf("memory: %s %s: no %s with id %q", st.name, ref.Attr, ref.Target, v)}
			}
		}
	}
	return nil
}

// apply makes one modification on attrs.
func apply(attrs backends.Attrs, m backends.Modification) error {
	name, cur := lookup(attrs, m.Attr)
	if name == "" {
		name = m.Attr
	}
	vals := dedupe(m.Values)
	switch m.Op {
	case backends.ModAdd:
		next := slices.Clone(cur)
		for _, v := range vals {
			if !slices.Contains(next, v) {
				next = append(next, v)
			}
		}
		setAttr(attrs, name, next)
	case backends.ModDelete:
		if len(m.Values) == 0 {
			delete(attrs, name)
			return nil
		}
		setAttr(attrs, name, slices.DeleteFunc(slices.Clone(cur), func(v string) bool { return slices.Contains(vals, v) }))
	case backends.ModReplace:
		setAttr(attrs, name, vals)
	default:
		return fmt.Errorf("unknown modification %d: %w", m.Op, backends.ErrInvalid)
	}
	return nil
}

// setAttr stores vals under name, replacing any spelling of name; empty
// vals remove the attribute.
func setAttr(attrs backends.Attrs, name string, vals []string) {
	for k := range attrs {
		if strings.EqualFold(k, name) {
			delete(attrs, k)
		}
	}
	if len(vals) > 0 {
		attrs[name] = vals
	}
}

// lookup finds attr case-insensitively and returns its stored name.
func lookup(attrs backends.Attrs, attr string) (string, []string) {
	if v, ok := attrs[attr]; ok {
		return attr, v
	}
	for k, v := range attrs {
		if strings.EqualFold(k, attr) {
			return k, v
		}
	}
	return "", nil
}

// dedupe drops empty and repeated values, keeping order.
func dedupe(vals []string) []string {
	var out []string
	for _, v := range vals {
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// view renders a record for a caller: only the attributes asked for (all
// when want is nil), reverse references computed, copies only.
func (b *Backend) view(st *store, id string, e *entry, want []string) backends.Attrs {
	wanted := func(name string) (string, bool) {
		if want == nil {
			return name, true
		}
		for _, w := range want {
			if strings.EqualFold(w, name) {
				return w, true
			}
		}
		return "", false
	}
	out := backends.Attrs{}
	for k, v := range e.attrs {
		if name, ok := wanted(k); ok {
			out[name] = slices.Clone(v)
		}
	}
	for _, r := range st.reverse {
		name, ok := wanted(r.ref.Reverse)
		if !ok {
			continue
		}
		if vals := referrers(r, id); len(vals) > 0 {
			out[name] = vals
		}
	}
	return out
}

// referrers lists, in creation order, the records of r.from whose r.ref
// attribute holds id.
func referrers(r reverseRef, id string) []string {
	type hit struct {
		seq uint64
		id  string
	}
	var hits []hit
	for fid, fe := range r.from.records {
		if _, vals := lookup(fe.attrs, r.ref.Attr); slices.Contains(vals, id) {
			hits = append(hits, hit{fe.seq, fid})
		}
	}
	slices.SortFunc(hits, func(a, b hit) int { return cmp.Compare(a.seq, b.seq) })
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.id
	}
	return out
}

func notFound(resourceType, id string) error {
	return fmt.Errorf("memory: %s %q: %w", resourceType, id, backends.ErrNotFound)
}
