package ldap

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/backends"
)

// projection is the set of attributes a caller asked for.
type projection struct {
	all   bool
	names map[string]string // lower-case name -> the caller's spelling
}

func project(attrs []string) projection {
	if attrs == nil {
		return projection{all: true}
	}
	p := projection{names: map[string]string{}}
	for _, a := range attrs {
		p.names[strings.ToLower(a)] = a
	}
	return p
}

func (p projection) has(attr string) bool {
	if p.all {
		return true
	}
	_, ok := p.names[strings.ToLower(attr)]
	return ok
}

// readPlan is the projection of an attribute list and what to ask the
// directory for, worked out once per distinct list (callers pass the same
// few lists: the mapping's attributes with or without members).
type readPlan struct {
	p     projection
	attrs []string // clipped: appending copies
}

func (b *Backend) planRead(r *resource, attrs []string) readPlan {
	key := "\x00all"
	if attrs != nil {
		key = strings.Join(attrs, "\x00")
	}
	if rp, ok := r.reads.Load(key); ok {
		return rp.(readPlan)
	}
	p := project(attrs)
	rp := readPlan{p: p, attrs: slices.Clip(b.requestAttrs(r, p))}
	if r.readsN.Add(1) <= 256 {
		r.reads.Store(key, rp)
	}
	return rp
}

// requestAttrs lists what to ask the directory for: user attributes, the
// stored references (memberOf is operational and must be named), the id
// and, for computed references by name, the name they are computed from.
// A reference that was not asked for is not requested, so reading a group
// without its members reads no member values.
func (b *Backend) requestAttrs(r *resource, p projection) []string {
	out := []string{b.cfg.IDAttribute}
	if p.all {
		out = append(out, "*")
		for _, a := range r.cfg.OperationalAttributes {
			if !r.isPassword(a) {
				out = append(out, a)
			}
		}
		for _, ref := range r.refs {
			if ref.inverse == nil {
				out = append(out, ref.attr)
			}
		}
	} else {
		for lower, a := range p.names {
			if !validAttrName(a) || r.isPassword(a) || r.isActiveAttr(a) || lower == strings.ToLower(b.cfg.IDAttribute) {
				continue
			}
			if ref := r.ref(a); ref != nil && ref.inverse != nil {
				continue
			}
			out = append(out, a)
		}
	}
	for _, ref := range r.refs {
		if ref.inverse != nil && ref.inverse.byValue && p.has(ref.attr) {
			out = append(out, ref.inverse.valueAttr)
		}
	}
	if r.cfg.UserAccountControl && p.has(activeAttr) {
		out = append(out, uacAttr)
	}
	out = b.rangedAttrs(r, out)
	// A stable order: the list is part of the key that finds a paging
	// cursor again for the next page (map order made every page a new
	// query, and a sequential import quadratic).
	slices.Sort(out[1:])
	return out
}

// toRecords converts entries of r into records, resolving reference values
// to ids in batches (through the cache) and computing inverse references.
// Values that do not resolve (placeholders, dangling DNs) are left out.
func (b *Backend) toRecords(ctx context.Context, r *resource, entries []*goldap.Entry, p projection) ([]backends.Record, error) {
	if err := b.completeRanges(ctx, entries); err != nil {
		return nil, err
	}
	// Collect reference values per reference.
	resolved := map[*reference]map[string]string{}
	for _, ref := range r.refs {
		if ref.inverse != nil || !p.has(ref.attr) {
			continue
		}
		var vals []string
		for _, e := range entries {
			vals = append(vals, e.GetEqualFoldAttributeValues(ref.attr)...)
		}
		if len(vals) == 0 {
			continue
		}
		var m map[string]string
		var err error
		if ref.byValue {
			m, err = b.valuesToIDs(ctx, ref.target, ref.valueAttr, vals)
		} else {
			m, err = b.dnsToIDs(ctx, ref.target, vals)
		}
		if err != nil {
			return nil, err
		}
		if !ref.byValue {
			b.resolveEarlier(ref.target, vals, m)
		}
		resolved[ref] = m
	}
	moved, err := b.movedReferrers(ctx, r, entries, p)
	if err != nil {
		return nil, err
	}
	inverse := map[*reference][][]string{}
	for _, ref := range r.refs {
		if ref.inverse == nil || !p.has(ref.attr) {
			continue
		}
		ids, err := b.inverseIDs(ctx, ref, entries)
		if err != nil {
			return nil, err
		}
		inverse[ref] = ids
	}

	idLower := strings.ToLower(b.cfg.IDAttribute)
	out := make([]backends.Record, 0, len(entries))
	for i, e := range entries {
		rec := backends.Record{ID: b.entryID(e), Attrs: backends.Attrs{}}
		if rec.ID == "" {
			b.log.Warn("entry without id attribute skipped", "dn", e.DN, "id_attribute", b.cfg.IDAttribute)
			continue
		}
		name := func(server string) string {
			if n, ok := p.names[strings.ToLower(server)]; ok {
				return n
			}
			return server
		}
		for _, a := range e.Attributes {
			lower := strings.ToLower(a.Name)
			if r.isPassword(a.Name) || (lower == idLower && !(!p.all && p.has(a.Name))) || !p.has(a.Name) {
				continue
			}
			if lower == idLower {
				rec.Attrs[name(a.Name)] = []string{rec.ID}
				continue
			}
			if ref := r.ref(a.Name); ref != nil {
				if ref.inverse != nil {
					continue
				}
				m := resolved[ref]
				var ids []string
				for _, v := range a.Values {
					k := normDN(v)
					if ref.byValue {
						k = strings.ToLower(v)
					}
					if id, ok := m[k]; ok && !slices.Contains(ids, id) {
						ids = append(ids, id)
					}
				}
				if len(ids) > 0 {
					if p.all {
						rec.Attrs[ref.attr] = ids
					} else {
						rec.Attrs[name(a.Name)] = ids
					}
				}
				continue
			}
			rec.Attrs[name(a.Name)] = append([]string(nil), a.Values...)
		}
		for ref, ids := range movedAt(moved, i) {
			n := ref.attr
			if !p.all {
				n = name(ref.attr)
			}
			for _, id := range ids {
				if !slices.Contains(rec.Attrs[n], id) {
					rec.Attrs[n] = append(rec.Attrs[n], id)
				}
			}
		}
		if r.disabled != nil && p.has(activeAttr) {
			rec.Attrs[name(activeAttr)] = []string{r.activeValue(e.DN)}
		}
		if r.cfg.UserAccountControl && p.has(activeAttr) {
			if v, ok := uacActive(e); ok {
				rec.Attrs[name(activeAttr)] = []string{v}
			}
		}
		for ref, all := range inverse {
			if len(all[i]) > 0 {
				n := ref.attr
				if !p.all {
					n = name(ref.attr)
				}
				rec.Attrs[n] = all[i]
			}
		}
		out = append(out, rec)
	}
	return out, nil
}

// inverseIDs computes a reference by search: for each entry, the ids of the
// target records whose stored reference points at it.
func (b *Backend) inverseIDs(ctx context.Context, ref *reference, entries []*goldap.Entry) ([][]string, error) {
	stored := ref.inverse // e.g. Group.member
	t := ref.target
	out := make([][]string, len(entries))
	err := b.run(ctx, func(c *goldap.Conn) error {
		sem := make(chan struct{}, pipelined)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var firstErr error
		for i, e := range entries {
			v := e.DN
			if stored.byValue {
				v = e.GetEqualFoldAttributeValue(stored.valueAttr)
				if v == "" {
					continue
				}
			}
			filter := fmt.Sprintf("(&%s(%s=%s))", t.filter, stored.attr, goldap.EscapeFilter(v))
			if ref.transitive {
				filter = fmt.Sprintf("(&%s(%s:%s:=%s))", t.filter, stored.attr, oidInChain, goldap.EscapeFilter(v))
			} else if dns := b.dnsOf(stored.target, e); !stored.byValue && len(dns) > 1 {
				// A reference to an earlier DN of an entry moved moments
				// ago is one the directory may still be rewriting.
				filter = fmt.Sprintf("(&%s%s)", t.filter, anyOfFilter([]string{stored.attr}, dns))
			}
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				var ids []string
				err := b.pagedSearch(c, t.baseDN, t.scope, filter, []string{b.cfg.IDAttribute}, func(g *goldap.Entry) {
					if id := b.entryID(g); id != "" {
						ids = append(ids, id)
						b.cache.putDN(t.typ, id, g.DN)
					}
				})
				mu.Lock()
				defer mu.Unlock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				out[i] = ids
			})
		}
		wg.Wait()
		return firstErr
	})
	if err != nil {
		return nil, b.mapErr(ctx, "compute "+ref.attr, t.baseDN, err)
	}
	return out, nil
}

// Get returns one record.
func (b *Backend) Get(ctx context.Context, resourceType, id string, attrs []string) (backends.Record, error) {
	r, err := b.resource(resourceType)
	if err != nil {
		return backends.Record{}, err
	}
	rp := b.planRead(r, attrs)
	p := rp.p
	e, err := b.findEntry(ctx, r, id, rp.attrs)
	if err != nil {
		return backends.Record{}, err
	}
	recs, err := b.toRecords(ctx, r, []*goldap.Entry{e}, p)
	if err != nil {
		return backends.Record{}, err
	}
	if len(recs) == 0 {
		return backends.Record{}, fmt.Errorf("%w: %s %q", backends.ErrNotFound, resourceType, id)
	}
	return recs[0], nil
}
