package ldap

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
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
//
// The backend's own creates and deletes are exact even while a count runs:
// each write names its DN to the count (begin before the directory is
// asked, done after), the count notes which of those DNs its scan saw,
// and a write the scan could not have seen is added to its result (or a
// deleted entry it saw taken off) — so the count never waits for writes,
// nor writes for the count.
type listCount struct {
	mu      sync.Mutex
	n       int
	known   bool
	running bool
	// epoch changes whenever n is set from a complete read, so a
	// background count that started before does not overwrite it.
	epoch int64
	// inflight are the DNs (lower case) of creates and deletes under way,
	// journal the DNs written since the running count began (nil when
	// none runs), and late the outcome of the journal's writes that were
	// still under way when the count ended.
	inflight map[string]int
	journal  map[string]*written
	late     map[string]*written
	// ended is closed when the running count ends (nil when none runs).
	ended chan struct{}
	// limitErr is why the last count failed when a limit of the
	// directory's stopped it (isLimitError), nil after one that ended:
	// pages of the listing answer it instead of a total they cannot know.
	limitErr error
}

// limitError returns why the last count failed, when a directory limit
// stopped it.
func (lc *listCount) limitError() error {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	return lc.limitErr
}

// written is what a count knows of one DN the backend wrote meanwhile.
type written struct {
	delta int  // +1 added, -1 deleted (the sum of the writes that ended)
	seen  bool // the count's scan returned it
}

// get returns the count and whether it is known.
func (lc *listCount) get() (int, bool) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	return lc.n, lc.known
}

// longerThan reports whether the count is known and above n.
func (lc *listCount) longerThan(n int) bool {
	count, known := lc.get()
	return known && count > n
}

// begin marks a create or delete of dn through the backend as under way;
// done ends it with +1 for an entry added, -1 for one deleted and 0 for a
// write that failed.
func (lc *listCount) begin(dn string) {
	key := strings.ToLower(dn)
	lc.mu.Lock()
	if lc.inflight == nil {
		lc.inflight = map[string]int{}
	}
	lc.inflight[key]++
	if lc.journal != nil && lc.journal[key] == nil {
		lc.journal[key] = &written{}
	}
	lc.mu.Unlock()
}

func (lc *listCount) done(dn string, delta int) {
	key := strings.ToLower(dn)
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if lc.inflight[key]--; lc.inflight[key] <= 0 {
		delete(lc.inflight, key)
	}
	if w := lc.journal[key]; w != nil {
		w.delta += delta // the count's end settles it
	}
	if w := lc.late[key]; w != nil {
		// The count ended while this write was under way: it counted
		// the entry if its scan saw it.
		if lc.inflight[key] == 0 {
			delete(lc.late, key)
		}
		if delta > 0 && w.seen || delta < 0 && !w.seen {
			delta = 0
		}
	}
	if lc.known {
		lc.n = max(0, lc.n+delta)
	}
}

// startCount opens the journal of a count that begins now; when one runs
// already, started is false. ended is closed when the running count ends.
func (lc *listCount) startCount() (epoch int64, ended <-chan struct{}, started bool) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if lc.running {
		return 0, lc.ended, false
	}
	lc.running = true
	lc.ended = make(chan struct{})
	lc.journal = map[string]*written{}
	for key := range lc.inflight {
		lc.journal[key] = &written{}
	}
	return lc.epoch, lc.ended, true
}

// saw notes a DN the count's scan returned, when the backend wrote it
// meanwhile.
func (lc *listCount) saw(dn string) {
	lc.mu.Lock()
	if len(lc.journal) > 0 {
		if w := lc.journal[strings.ToLower(dn)]; w != nil {
			w.seen = true
		}
	}
	lc.mu.Unlock()
}

// endCount closes the journal and, when the count succeeded and no
// complete read set the figure meanwhile, sets it: the scanned entries,
// plus the backend's creates the scan did not see, minus its deletes the
// scan saw.
func (lc *listCount) endCount(epoch int64, scanned int, ok bool) (int, bool) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	journal := lc.journal
	lc.journal, lc.running = nil, false
	close(lc.ended)
	lc.ended = nil
	if !ok || lc.epoch != epoch {
		return 0, false
	}
	n := scanned
	for key, w := range journal {
		switch {
		case w.delta > 0 && !w.seen:
			n++
		case w.delta < 0 && w.seen:
			n--
		}
		if lc.inflight[key] > 0 {
			if lc.late == nil {
				lc.late = map[string]*written{}
			}
			lc.late[key] = w
		}
	}
	lc.n, lc.known = max(0, n), true
	lc.epoch++
	return lc.n, true
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
			cs.countAll(round == 0)
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

// countAll counts every resource type, one after the other. At start, a
// type whose count is known already is left out: a request counted it
// (awaitCount) while this counted the types before it.
func (cs *counts) countAll(atStart bool) {
	for _, typ := range sortedTypes(cs.b.res) {
		r := cs.b.res[typ]
		if _, known := r.count.get(); atStart && known {
			continue
		}
		cs.refresh(r)
	}
}

// awaitCount returns r's count. When it is not known, it starts a
// background count unless one runs and, when wait is set, waits for its
// end until ctx's deadline less reserve (the time left for the page
// itself), or for as long as the count takes when ctx has no deadline.
// Just after start, a first page thus answers the exact total when the
// count ends in time, and the lower bound (cursors.page) only when it
// cannot; later pages do not wait.
func (cs *counts) awaitCount(ctx context.Context, r *resource, wait bool, reserve time.Duration) (int, bool) {
	lc := &r.count
	if n, known := lc.get(); known {
		return n, true
	}
	epoch, ended, started := lc.startCount()
	if started && !cs.goRun(func() { cs.run(r, epoch) }) {
		lc.endCount(epoch, 0, false) // the backend is closing
	}
	if wait {
		var expire <-chan time.Time
		if deadline, ok := ctx.Deadline(); ok {
			t := time.NewTimer(time.Until(deadline) - reserve)
			defer t.Stop()
			expire = t.C
		}
		select {
		case <-ended:
		case <-expire:
		case <-ctx.Done():
		}
	}
	return lc.get()
}

func (cs *counts) goRun(fn func()) bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if !cs.closed {
		cs.wg.Go(fn)
	}
	return !cs.closed
}

// refresh counts r's listing on a connection of its own (requests keep
// the whole pool), bounded only by the backend's lifetime and each round
// trip by the per-operation timeout. A count already running makes it a
// no-op.
func (cs *counts) refresh(r *resource) {
	if epoch, _, started := r.count.startCount(); started {
		cs.run(r, epoch)
	}
}

// run takes the count that startCount began.
func (cs *counts) run(r *resource, epoch int64) {
	lc := &r.count
	started := time.Now()
	scanned, err := cs.b.countAside(cs.ctx, r)
	if err == nil || isLimitError(err) {
		// Before endCount wakes the pages waiting for the count.
		lc.mu.Lock()
		lc.limitErr = nil
		if err != nil {
			lc.limitErr = fmt.Errorf("stopped after %d entries: %w", scanned, err)
		}
		lc.mu.Unlock()
	}
	n, _ := lc.endCount(epoch, scanned, err == nil)
	if err != nil {
		if isLimitError(err) {
			cs.b.logLimit("count", r.baseDN, err)
		} else if cs.ctx.Err() == nil {
			cs.b.log.Warn("counting the listing failed; pages answer from what they read until a count succeeds",
				"resource", r.typ, "error", err)
		}
		return
	}
	cs.b.log.Debug("listing counted", "resource", r.typ, "entries", n, "took", time.Since(started))
}

// countAside counts r's whole listing on a connection dialed for it.
func (b *Backend) countAside(ctx context.Context, r *resource) (int, error) {
	dctx, cancel := b.opContext(ctx)
	c, err := b.pool.dial(dctx)
	cancel()
	if err != nil {
		return 0, err
	}
	defer c.Close()
	n := 0
	err = runOn(ctx, c.Conn, b.cfg.timeout, func(conn *goldap.Conn) error {
		return b.pagedSearch(conn, r.baseDN, r.scope, r.listFilter(), []string{"1.1"}, func(e *goldap.Entry) {
			n++
			r.count.saw(e.DN)
		})
	})
	return n, err
}

func (cs *counts) close() {
	cs.mu.Lock()
	cs.closed = true
	cs.mu.Unlock()
	cs.cancel()
	cs.wg.Wait()
}
