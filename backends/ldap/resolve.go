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

// idChunk is how many ids or names go into one OR filter.
const idChunk = 200

// searchAnyOf searches below base for the entries of t whose attr holds
// one of values, with OR filters of idChunk values at a time (values
// escaped), and passes each entry found to fn (one call at a time). The
// chunks of a long list are searched on up to anyOfParallel connections at
// once: the directory finds the entries of one chunk while the bridge
// decodes those of another (10,000 members of one PATCH are 50 chunks).
func (b *Backend) searchAnyOf(ctx context.Context, t *resource, base string, scope int, attr string, values, attrs []string, fn func(*goldap.Entry)) error {
	isID := strings.EqualFold(attr, b.cfg.IDAttribute)
	filter := func(vals []string) string {
		var f strings.Builder
		f.WriteString("(&(|") // the values first (Search)
		for _, v := range vals {
			if isID {
				f.WriteString("(" + attr + "=" + b.idValue(v) + ")")
				continue
			}
			f.WriteString("(" + attr + "=" + goldap.EscapeFilter(v) + ")")
		}
		f.WriteString(")" + t.filter + ")")
		return f.String()
	}
	if len(values) <= idChunk {
		if len(values) == 0 {
			return nil
		}
		entries, err := b.searchAll(ctx, base, scope, filter(values), attrs)
		if err != nil {
			return err
		}
		for _, e := range entries {
			fn(e)
		}
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, min(anyOfParallel, max(1, b.cfg.PoolSize/2)))
	var wg sync.WaitGroup
	for start := 0; start < len(values); start += idChunk {
		sem <- struct{}{}
		mu.Lock()
		failed := firstErr != nil
		mu.Unlock()
		if failed {
			<-sem
			break
		}
		chunk := values[start:min(start+idChunk, len(values))]
		wg.Go(func() {
			defer func() { <-sem }()
			entries, err := b.searchAll(ctx, base, scope, filter(chunk), attrs)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
					cancel()
				}
				return
			}
			if firstErr == nil {
				for _, e := range entries {
					fn(e)
				}
			}
		})
	}
	wg.Wait()
	return firstErr
}

// anyOfParallel is how many chunks of one searchAnyOf are searched at once
// (at most half the pool).
const anyOfParallel = 4

// pipelined is how many base searches run at once on one connection when
// DNs are resolved to ids.
const pipelined = 16

type hit struct{ dn, value string }

// lookupIDs resolves ids of resource t to DNs (and to the value of
// valueAttr when set). With verify, every id is looked up in the directory
// (writes must not store a DN of a record deleted behind the cache's back);
// otherwise cached ids are trusted. Unknown ids are absent from the result.
func (b *Backend) lookupIDs(ctx context.Context, t *resource, ids []string, verify bool, valueAttr string) (map[string]hit, error) {
	out := make(map[string]hit, len(ids))
	var todo []string
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] || !b.validID(id) {
			continue
		}
		seen[id] = true
		if !verify {
			dn, ok := b.cache.dnOf(t.typ, id)
			v, vok := "", true
			if valueAttr != "" {
				v, vok = b.cache.valueOf(t.typ, valueAttr, id)
			}
			if ok && vok {
				out[id] = hit{dn: dn, value: v}
				continue
			}
		}
		todo = append(todo, id)
	}
	attrs := []string{b.cfg.IDAttribute}
	if valueAttr != "" {
		attrs = append(attrs, valueAttr)
	}
	// Ids compare as the directory does (UUIDs case-insensitively).
	asked := make(map[string][]string, len(todo))
	for _, id := range todo {
		k := strings.ToLower(id)
		asked[k] = append(asked[k], id)
	}
	err := b.searchAnyOf(ctx, t, t.baseDN, t.scope, b.cfg.IDAttribute, todo, attrs, func(e *goldap.Entry) {
		id := b.entryID(e)
		if id == "" || !t.contains(e.DN) {
			return
		}
		h := hit{dn: e.DN}
		b.cache.putDN(t.typ, id, e.DN)
		if valueAttr != "" {
			h.value = e.GetEqualFoldAttributeValue(valueAttr)
			if h.value == "" {
				return // cannot be referenced by name
			}
			b.cache.putValue(t.typ, valueAttr, id, h.value)
		}
		for _, want := range asked[strings.ToLower(id)] {
			out[want] = h
		}
	})
	if err != nil {
		return nil, b.mapErr(ctx, "resolve ids", t.baseDN, err)
	}
	return out, nil
}

// dnsToIDs resolves DNs of resource t to ids (keys are normDN). DNs outside
// t's subtree or not matching its filter are absent from the result.
func (b *Backend) dnsToIDs(ctx context.Context, t *resource, dns []string) (map[string]string, error) {
	out := make(map[string]string, len(dns))
	var todo []string
	for _, dn := range dns {
		n := normDN(dn)
		if _, ok := out[n]; ok {
			continue
		}
		if id, ok := b.cache.idOfDN(t.typ, dn); ok {
			out[n] = id
			continue
		}
		if !t.contains(dn) {
			continue
		}
		out[n] = "" // placeholder, filled below or removed
		todo = append(todo, dn)
	}
	if len(todo) > pipelined {
		var err error
		if todo, err = b.dnsToIDsByRDN(ctx, t, todo, out); err != nil {
			return nil, b.mapErr(ctx, "resolve dns", t.baseDN, err)
		}
	}
	if len(todo) > 0 {
		var mu sync.Mutex
		err := b.run(ctx, func(c *goldap.Conn) error {
			sem := make(chan struct{}, pipelined)
			var wg sync.WaitGroup
			var firstErr error
			for _, dn := range todo {
				sem <- struct{}{}
				wg.Go(func() {
					defer func() { <-sem }()
					e, err := baseSearch(c, dn, t.filter, []string{b.cfg.IDAttribute})
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						if firstErr == nil {
							firstErr = err
						}
						return
					}
					if e == nil {
						return
					}
					if id := b.entryID(e); id != "" {
						out[normDN(dn)] = id
						b.cache.putDN(t.typ, id, e.DN)
					}
				})
			}
			wg.Wait()
			return firstErr
		})
		if err != nil {
			return nil, b.mapErr(ctx, "resolve dns", t.baseDN, err)
		}
	}
	for k, v := range out {
		if v == "" {
			delete(out, k)
		}
	}
	return out, nil
}

// dnsToIDsByRDN resolves many DNs (a big group's members on a cold cache)
// with one-level searches below each parent for batches of RDN values,
// (|(uid=a)(uid=b)...), instead of one base search per DN. It fills out
// (keys normDN, entries already present as "") and returns the DNs it
// could not batch (multi-valued RDNs), for base searches.
func (b *Backend) dnsToIDsByRDN(ctx context.Context, t *resource, dns []string, out map[string]string) ([]string, error) {
	type batch struct {
		parent, typ string
		values      []string
	}
	var order []string
	batches := map[string]*batch{}
	var rest []string
	for _, dn := range dns {
		p, err := goldap.ParseDN(dn)
		if err != nil || len(p.RDNs) < 2 || len(p.RDNs[0].Attributes) != 1 || !validAttrName(p.RDNs[0].Attributes[0].Type) {
			rest = append(rest, dn)
			continue
		}
		a := p.RDNs[0].Attributes[0]
		parent := (&goldap.DN{RDNs: p.RDNs[1:]}).String()
		k := strings.ToLower(parent) + "\x00" + strings.ToLower(a.Type)
		bt := batches[k]
		if bt == nil {
			bt = &batch{parent: parent, typ: a.Type}
			batches[k] = bt
			order = append(order, k)
		}
		bt.values = append(bt.values, a.Value)
	}
	for _, k := range order {
		bt := batches[k]
		err := b.searchAnyOf(ctx, t, bt.parent, goldap.ScopeSingleLevel, bt.typ, bt.values, []string{b.cfg.IDAttribute}, func(e *goldap.Entry) {
			id := b.entryID(e)
			n := normDN(e.DN)
			if _, asked := out[n]; !asked || id == "" || !t.contains(e.DN) {
				return
			}
			out[n] = id
			b.cache.putDN(t.typ, id, e.DN)
		})
		if err != nil && !goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject) { // no parent: none of these resolve
			return nil, err
		}
	}
	return rest, nil
}

// valuesToIDs resolves names (values of attr) of resource t to ids; keys
// are lower-cased names.
func (b *Backend) valuesToIDs(ctx context.Context, t *resource, attr string, values []string) (map[string]string, error) {
	out := make(map[string]string, len(values))
	var todo []string
	for _, v := range values {
		k := strings.ToLower(v)
		if _, ok := out[k]; ok {
			continue
		}
		if id, ok := b.cache.idOfValue(t.typ, attr, v); ok {
			out[k] = id
			continue
		}
		out[k] = ""
		todo = append(todo, v)
	}
	err := b.searchAnyOf(ctx, t, t.baseDN, t.scope, attr, todo, []string{b.cfg.IDAttribute, attr}, func(e *goldap.Entry) {
		id := b.entryID(e)
		if id == "" || !t.contains(e.DN) {
			return
		}
		b.cache.putDN(t.typ, id, e.DN)
		for _, v := range e.GetEqualFoldAttributeValues(attr) {
			if _, asked := out[strings.ToLower(v)]; asked {
				out[strings.ToLower(v)] = id
				b.cache.putValue(t.typ, attr, id, v)
			}
		}
	})
	if err != nil {
		return nil, b.mapErr(ctx, "resolve names", t.baseDN, err)
	}
	for k, v := range out {
		if v == "" {
			delete(out, k)
		}
	}
	return out, nil
}

// findEntry reads the entry of r with id. A cached DN is verified (the base
// search carries the id in its filter); a stale one is forgotten and the id
// searched for once, so entries renamed outside the bridge are found again.
func (b *Backend) findEntry(ctx context.Context, r *resource, id string, attrs []string) (*goldap.Entry, error) {
	if !b.validID(id) {
		return nil, fmt.Errorf("%w: %s %q", backends.ErrNotFound, r.typ, id)
	}
	filter := b.idFilter(r, id)
	if !slices.Contains(attrs, b.cfg.IDAttribute) { // read plans list it first
		attrs = append(attrs, b.cfg.IDAttribute)
	}
	if dn, ok := b.cache.dnOf(r.typ, id); ok {
		var e *goldap.Entry
		err := b.run(ctx, func(c *goldap.Conn) error {
			var err error
			e, err = baseSearch(c, dn, filter, attrs)
			return err
		})
		if err != nil {
			return nil, b.mapErr(ctx, "read", dn, err)
		}
		if e != nil && r.contains(e.DN) {
			b.entriesRead.Add(1)
			return e, nil
		}
		b.forgetStale(r, id, dn)
	}
	if gdn, ok := GUIDDN(id); ok && b.guidIDs() {
		// AD finds an object by its GUID directly (<GUID=...> as the
		// base): one base search instead of one below the base DN.
		var e *goldap.Entry
		err := b.run(ctx, func(c *goldap.Conn) error {
			var err error
			e, err = baseSearch(c, gdn, filter, attrs)
			return err
		})
		if err != nil {
			return nil, b.mapErr(ctx, "read", gdn, err)
		}
		if e == nil || !r.contains(e.DN) {
			return nil, fmt.Errorf("%w: %s %q", backends.ErrNotFound, r.typ, id)
		}
		b.entriesRead.Add(1)
		b.cache.putDN(r.typ, id, e.DN)
		return e, nil
	}
	entries, err := b.searchAll(ctx, r.baseDN, r.scope, filter, attrs)
	if err != nil {
		return nil, b.mapErr(ctx, "read", r.baseDN, err)
	}
	switch len(entries) {
	case 0:
		return nil, fmt.Errorf("%w: %s %q", backends.ErrNotFound, r.typ, id)
	case 1:
		b.cache.putDN(r.typ, id, entries[0].DN)
		return entries[0], nil
	}
	return nil, fmt.Errorf("%w: %d entries carry %s %q", backends.ErrInvalid, len(entries), b.cfg.IDAttribute, id)
}

// forgetStale drops a cached DN found not to name id any more (the entry
// was renamed, moved or replaced outside the bridge).
func (b *Backend) forgetStale(r *resource, id, dn string) {
	b.log.Debug("cached dn is stale, searching by id", "type", r.typ, "id", id, "dn", dn)
	b.metrics.stale.Inc()
	b.cache.forgetDN(r.typ, id, dn)
}

// dnOf returns the DN of r's record id. A cached DN is verified with a
// base search carrying the id (the directory may have renamed or replaced
// the entry); a stale one is forgotten and the id searched for once.
func (b *Backend) dnOf(ctx context.Context, r *resource, id string, fresh bool) (string, error) {
	if !b.validID(id) {
		return "", fmt.Errorf("%w: %s %q", backends.ErrNotFound, r.typ, id)
	}
	if dn, ok := b.cache.dnOf(r.typ, id); ok && !fresh {
		var e *goldap.Entry
		err := b.run(ctx, func(c *goldap.Conn) error {
			var err error
			e, err = baseSearch(c, dn, b.idFilter(r, id), []string{"1.1"})
			return err
		})
		if err != nil {
			return "", b.mapErr(ctx, "read", dn, err)
		}
		if e != nil && r.contains(e.DN) {
			return e.DN, nil
		}
		b.forgetStale(r, id, dn)
	}
	hits, err := b.lookupIDs(ctx, r, []string{id}, true, "")
	if err != nil {
		return "", err
	}
	h, ok := hits[id]
	if !ok {
		return "", fmt.Errorf("%w: %s %q", backends.ErrNotFound, r.typ, id)
	}
	return h.dn, nil
}
