package ldap

import (
	"context"
	"sync"
	"time"
)

// listCount is the bridge's count of one resource type's whole listing
// (no SCIM filter): the totalResults of an unfiltered page without a scan
// of the directory on that page. Counting a million entries takes longer
// than a SCIM client waits for a page (Okta gives up after 60 s), so the
// count runs in the background: when the backend starts, every
// count_refresh after that, and whenever the figure is not known; the
// backend's own creates and deletes adjust it, and a cursor that reads to
// the end of the listing sets it for free.
//
// The figure can be off by what other programs added or removed since it
// was taken; pages correct it as they go (see cursors.page): a page that
// knows more entries follow answers at least one more than it has seen,
// and the page that reaches the end answers the exact number seen, so
// loops that stop at startIndex > totalResults (Okta) or at a short page
// (Entra) end having read every entry.
type listCount struct {
	mu      sync.Mutex
	n       int
	known   bool
	running bool
	// epoch changes whenever n is set from a complete read, so a
	// background count that started before does not overwrite it.
	epoch int64
}

// get returns the count and whether it is known.
func (lc *listCount) get() (int, bool) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	return lc.n, lc.known
}

// adjust adds delta (a create through the backend: +1, a delete: -1).
func (lc *listCount) adjust(delta int) {
	lc.mu.Lock()
	if lc.known {
		lc.n = max(0, lc.n+delta)
	}
	lc.mu.Unlock()
}

// observe sets the count from a complete read of the listing.
func (lc *listCount) observe(n int) {
	lc.mu.Lock()
	lc.n, lc.known = n, true
	lc.epoch++
	lc.mu.Unlock()
}

// counts runs the background counts of the backend.
type counts struct {
	b      *Backend
	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex // guards closed and wg.Go against close
	closed bool
	wg     sync.WaitGroup
	// first is closed when the counts taken at start are done.
	first chan struct{}
}

func newCounts(b *Backend) *counts {
	ctx, cancel := context.WithCancel(context.Background())
	return &counts{b: b, ctx: ctx, cancel: cancel, first: make(chan struct{})}
}

// start counts every resource type now and then every count_refresh.
func (cs *counts) start() {
	cs.goRun(func() {
		for round := 0; ; round++ {
			for _, typ := range sortedTypes(cs.b.res) {
				cs.refresh(cs.b.res[typ])
			}
			if round == 0 {
				close(cs.first)
			}
			if cs.b.cfg.countRefresh <= 0 {
				return
			}
			select {
			case <-cs.ctx.Done():
				return
			case <-time.After(cs.b.cfg.countRefresh):
			}
		}
	})
}

// ensure starts a background count of r when its figure is not known and
// none is running.
func (cs *counts) ensure(r *resource) {
	if _, known := r.count.get(); known {
		return
	}
	cs.goRun(func() { cs.refresh(r) })
}

func (cs *counts) goRun(fn func()) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if !cs.closed {
		cs.wg.Go(fn)
	}
}

// refresh counts r's listing, bounded only by the backend's lifetime (the
// scan's round trips each by the per-operation timeout). A count already
// running makes it a no-op.
func (cs *counts) refresh(r *resource) {
	lc := &r.count
	lc.mu.Lock()
	if lc.running {
		lc.mu.Unlock()
		return
	}
	lc.running = true
	epoch := lc.epoch
	lc.mu.Unlock()
	started := time.Now()
	n, err := cs.b.count(cs.ctx, r, r.listFilter())
	lc.mu.Lock()
	lc.running = false
	if err == nil && lc.epoch == epoch {
		lc.n, lc.known = n, true
		lc.epoch++
	}
	lc.mu.Unlock()
	if err != nil {
		if cs.ctx.Err() == nil {
			cs.b.log.Warn("counting the listing failed; pages answer from what they read until a count succeeds",
				"resource", r.typ, "error", err)
		}
		return
	}
	cs.b.log.Debug("listing counted", "resource", r.typ, "entries", n, "took", time.Since(started))
}

func (cs *counts) close() {
	cs.mu.Lock()
	cs.closed = true
	cs.mu.Unlock()
	cs.cancel()
	cs.wg.Wait()
}
