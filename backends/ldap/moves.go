package ldap

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

// movedFor is how long the backend remembers the DNs an entry it renamed
// or moved had before. Directories that follow renames in the background
// (OpenLDAP's refint overlay queues its rewrites of member values for a
// task of its own) can apply the rewrite of one move after the next: a
// user deactivated (moved out) and reactivated (moved back) at once may
// find its group's member value rewritten to the DN it left, and its
// memberOf gone, until the task reaches the move back and undoes it. While
// an entry's move is this recent, reads count a reference to one of its
// earlier DNs as a reference to the entry, so answers show the state the
// directory settles in rather than the interval.
const movedFor = time.Minute

// movedMax bounds the entries remembered; the oldest go first.
const movedMax = 10000

// recentMoves remembers, per resource type, the earlier DNs of entries
// the backend moved within movedFor.
type recentMoves struct {
	mu     sync.Mutex
	byID   map[string]*move  // key(typ, id)
	byDN   map[string]string // key(typ, normDN(earlier)) -> id
	order  []moved           // the moves in the order they were noted
	now    func() time.Time
	maxLen int
}

type moved struct {
	k  string // key(typ, id)
	at time.Time
}

type move struct {
	typ, id string
	earlier []string // as the directory spelled them
	at      time.Time
}

func newRecentMoves() *recentMoves {
	return &recentMoves{byID: map[string]*move{}, byDN: map[string]string{}, now: time.Now, maxLen: movedMax}
}

// note records that the entry id of typ was at from and is now at to.
func (m *recentMoves) note(typ, id, from, to string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.prune(now)
	k := key(typ, id)
	mv := m.byID[k]
	if mv == nil {
		mv = &move{typ: typ, id: id}
		m.byID[k] = mv
	}
	mv.at = now
	f, t := normDN(from), normDN(to)
	kept := mv.earlier[:0]
	for _, d := range mv.earlier {
		switch n := normDN(d); {
		case n != t && n != f:
			kept = append(kept, d)
		case n == t && m.byDN[key(typ, n)] == id:
			delete(m.byDN, key(typ, n))
		}
	}
	mv.earlier = append(kept, from)
	m.byDN[key(typ, f)] = id
	m.order = append(m.order, moved{k, now})
	for len(m.byID) > m.maxLen && len(m.order) > 0 {
		m.pop()
	}
}

// pop forgets the oldest move noted, unless its entry moved again since;
// m.mu is held.
func (m *recentMoves) pop() {
	o := m.order[0]
	m.order = m.order[1:]
	if mv := m.byID[o.k]; mv != nil && mv.at.Equal(o.at) {
		m.drop(o.k)
	}
}

// prune forgets moves older than movedFor; m.mu is held.
func (m *recentMoves) prune(now time.Time) {
	for len(m.order) > 0 && now.Sub(m.order[0].at) >= movedFor {
		m.pop()
	}
}

func (m *recentMoves) drop(k string) {
	mv := m.byID[k]
	if mv == nil {
		return
	}
	for _, d := range mv.earlier {
		if dk := key(mv.typ, normDN(d)); m.byDN[dk] == mv.id { // not since left by another entry
			delete(m.byDN, dk)
		}
	}
	delete(m.byID, k)
}

// forget drops what is remembered of the entry id of typ (deleted).
func (m *recentMoves) forget(typ, id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.drop(key(typ, id))
}

// earlier returns the DNs the entry id of typ had before a
// recent move, or nil.
func (m *recentMoves) earlier(typ, id string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	mv := m.byID[key(typ, id)]
	if mv == nil || m.now().Sub(mv.at) >= movedFor {
		return nil
	}
	return append([]string(nil), mv.earlier...)
}

// idOfEarlier returns the id of the entry of typ recently moved away from
// dn.
func (m *recentMoves) idOfEarlier(typ, dn string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id, ok := m.byDN[key(typ, normDN(dn))]
	if !ok {
		return "", false
	}
	if mv := m.byID[key(typ, id)]; mv == nil || m.now().Sub(mv.at) >= movedFor {
		return "", false
	}
	return id, true
}

// resolveEarlier fills in m (keys normDN) the values among vals that did
// not resolve and name an earlier DN of an entry of t moved moments ago.
func (b *Backend) resolveEarlier(t *resource, vals []string, m map[string]string) {
	for _, v := range vals {
		k := normDN(v)
		if _, ok := m[k]; ok {
			continue
		}
		if id, ok := b.moves.idOfEarlier(t.typ, v); ok {
			m[k] = id
		}
	}
}

// dnsOf returns e's DN and, when e (of resource r) moved moments ago, the
// DNs it had before.
func (b *Backend) dnsOf(r *resource, e *goldap.Entry) []string {
	dns := []string{e.DN}
	if id := b.entryID(e); id != "" {
		dns = append(dns, b.moves.earlier(r.typ, id)...)
	}
	return dns
}

// anyOfFilter matches entries where one of attrs holds one of values.
func anyOfFilter(attrs, values []string) string {
	var f strings.Builder
	f.WriteString("(|")
	for _, a := range attrs {
		for _, v := range values {
			fmt.Fprintf(&f, "(%s=%s)", a, goldap.EscapeFilter(v))
		}
	}
	f.WriteString(")")
	return f.String()
}

// movedReferrers completes, for the entries of r that moved moments ago,
// the read-only DN references the directory maintains (memberOf): the
// groups that hold the entry's DN or an earlier one in a reference back to
// r (member) count, whether or not the directory's background rewrite of
// the move has reached memberOf yet. Per entry index, the ids to add per
// reference; nil when no entry moved.
func (b *Backend) movedReferrers(ctx context.Context, r *resource, entries []*goldap.Entry, p projection) ([]map[*reference][]string, error) {
	var out []map[*reference][]string
	for _, ref := range r.refs {
		if ref.byValue || ref.inverse != nil || !ref.readOnly || !p.has(ref.attr) {
			continue
		}
		t := ref.target
		var back []string
		for _, br := range t.refs {
			if br.target == r && !br.byValue && br.inverse == nil {
				back = append(back, br.attr)
			}
		}
		if len(back) == 0 {
			continue
		}
		for i, e := range entries {
			dns := b.dnsOf(r, e)
			if len(dns) == 1 {
				continue
			}
			filter := fmt.Sprintf("(&%s%s)", t.filter, anyOfFilter(back, dns))
			found, err := b.searchAll(ctx, t.baseDN, t.scope, filter, []string{b.cfg.IDAttribute})
			if err != nil {
				return nil, b.mapErr(ctx, "compute "+ref.attr, t.baseDN, err)
			}
			for _, g := range found {
				id := b.entryID(g)
				if id == "" {
					continue
				}
				if out == nil {
					out = make([]map[*reference][]string, len(entries))
				}
				if out[i] == nil {
					out[i] = map[*reference][]string{}
				}
				out[i][ref] = append(out[i][ref], id)
			}
		}
	}
	return out, nil
}

func movedAt(moved []map[*reference][]string, i int) map[*reference][]string {
	if moved == nil {
		return nil
	}
	return moved[i]
}
