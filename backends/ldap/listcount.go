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
// the end of the listing sets it for free (when the backend created and
// deleted nothing meanwhile: observe).
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
// asked, done after), the count notes how often its scan returned those
// DNs, and settles each by what the backend's last write left there (an
// entry added that the scan did not return is added to its result, one
// deleted that it returned taken off, one created and deleted again during
// the scan is gone whatever the scan returned) — so the count never waits
// for writes, nor writes for the count. A DN that held an entry before the
// count noted it (a delete begun during the scan) cannot be settled: the
// scan may have returned it unnoted. Such a count is set aside when the
// figure is known (the backend kept it exact for its own writes; the next
// count reconciles the rest), taken again when it is not, and the third
// time taken as if the scan had returned those DNs (the lower bound,
// which pages correct as they read).
type listCount struct {
	mu      sync.Mutex
	n       int
	known   bool
	running bool
	// epoch changes whenever n is set from a complete read, so a
	// background count that started before does not overwrite it.
	epoch int64
	// begun counts the creates and deletes begun through the backend
	// (mark).
	begun int64
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
	// last is what the backend's last write to end left at the DN: +1 an
	// entry (added), -1 none (deleted), 0 no write has succeeded yet.
	last int
	// seen is how often the count's scan returned the DN since it was
	// noted: twice when it was deleted and created again under the scan.
	seen int
	// early: the DN may have held an entry before it was noted (a delete
	// begun during the count, or a create that failed), so the scan may
	// have returned it unnoted.
	early bool
	// counted, once the count has ended, is whether its figure holds
	// the entry: for the writes still under way then (late).
	counted bool
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

// begin marks a create (existed false) or delete (existed true) of dn
// through the backend as under way; done ends it with +1 for an entry
// added, -1 for one deleted and 0 for a write that failed.
func (lc *listCount) begin(dn string, existed bool) {
	key := strings.ToLower(dn)
	lc.mu.Lock()
	if lc.inflight == nil {
		lc.inflight = map[string]int{}
	}
	lc.inflight[key]++
	lc.begun++
	if lc.journal != nil && lc.journal[key] == nil {
		lc.journal[key] = &written{early: existed}
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
		// The count's end settles it. A write that failed before any
		// succeeded may have found an entry there (a create's
		// entryAlreadyExists).
		if delta != 0 {
			w.last = delta
		} else if w.last == 0 {
			w.early = true
		}
	}
	if w := lc.late[key]; w != nil {
		// The count ended while this write was under way: its figure
		// holds the entry or not (counted), and this write changes that
		// only when it adds a missing entry or deletes a counted one.
		if lc.inflight[key] == 0 {
			delete(lc.late, key)
		}
		if delta > 0 && w.counted || delta < 0 && !w.counted {
			delta = 0
		}
		if delta != 0 {
			w.counted = delta > 0
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
	lc.openJournal()
	return lc.epoch, lc.ended, true
}

// openJournal notes the DNs of the writes under way for a scan that
// begins now, which sees whatever they leave.
func (lc *listCount) openJournal() {
	lc.journal = map[string]*written{}
	for key := range lc.inflight {
		lc.journal[key] = &written{}
	}
}

// unsettled reports whether a DN of the journal held an entry the scan
// may have returned before it was noted, and a write to it succeeded
// since or is still under way.
func (lc *listCount) unsettled() bool {
	for key, w := range lc.journal {
		if w.early && (w.last != 0 || lc.inflight[key] > 0) {
			return true
		}
	}
	return false
}

// saw notes a DN the count's scan returned, when the backend wrote it
// meanwhile.
func (lc *listCount) saw(dn string) {
	lc.mu.Lock()
	if len(lc.journal) > 0 {
		if w := lc.journal[strings.ToLower(dn)]; w != nil {
			w.seen++
		}
	}
	lc.mu.Unlock()
}

// endCount ends the count that took scanned entries. When it succeeded
// and no complete read set the figure meanwhile, it sets the figure: the
// scanned entries, plus the DNs the backend's writes left with an entry
// that the scan did not return, minus those they left without one that
// it returned. A count it cannot settle (unsettled) is set aside when the
// figure is known, and when it is not, begun again (again: the journal is
// open anew, the count still running) if retry is set, else settled as if
// the scan had returned those DNs before they were noted.
func (lc *listCount) endCount(epoch int64, scanned int, ok, retry bool) (n int, set, again bool) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	ok = ok && lc.epoch == epoch
	if ok && lc.unsettled() {
		if retry && !lc.known {
			lc.openJournal()
			return 0, false, true
		}
		ok = !lc.known
	}
	journal := lc.journal
	lc.journal, lc.running = nil, false
	close(lc.ended)
	lc.ended = nil
	if !ok {
		return 0, false, false
	}
	n = scanned
	for key, w := range journal {
		// An early DN is taken as returned once before it was noted:
		// the lower bound.
		if w.last == 0 {
			// No write succeeded: the scan's figure holds what it read.
			w.counted = w.seen > 0 || w.early
		} else {
			in := w.seen
			if w.early {
				in++
			}
			w.counted = w.last > 0
			n -= in
			if w.counted {
				n++
			}
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
	return lc.n, true, false
}

// mark returns where the backend's creates and deletes stand, for a
// complete read of the listing that begins now (observe); -1 while one is
// under way.
func (lc *listCount) mark() int64 {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if len(lc.inflight) > 0 {
		return -1
	}
	return lc.begun
}

// observe sets the count from a complete read of the listing, n entries,
// that began at mark, unless the backend created or deleted an entry since:
// the read may or may not hold that write (a cursor that read for minutes
// holds the entries deleted behind it), and the count the backend keeps
// is exact for it.
func (lc *listCount) observe(mark int64, n int) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if mark < 0 || mark != lc.begun || len(lc.inflight) > 0 {
		return
	}
	lc.n, lc.known = n, true
	lc.epoch++
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
		lc.endCount(epoch, 0, false, false) // the backend is closing
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

// countAttempts bounds the scans of a count that the backend's deletes
// leave unsettled while the figure is not known (listCount.endCount).
const countAttempts = 3

// run takes the count that startCount began.
func (cs *counts) run(r *resource, epoch int64) {
	lc := &r.count
	started := time.Now()
	for attempt := 1; ; attempt++ {
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
		n, set, again := lc.endCount(epoch, scanned, err == nil, attempt < countAttempts)
		switch {
		case again:
			cs.b.log.Debug("entries deleted during the count leave it unsettled; counting again", "resource", r.typ)
			continue
		case err != nil:
			if isLimitError(err) {
				cs.b.logLimit("count", r.baseDN, err)
			} else if cs.ctx.Err() == nil {
				cs.b.log.Warn("counting the listing failed; pages answer from what they read until a count succeeds",
					"resource", r.typ, "error", err)
			}
		case set:
			cs.b.log.Debug("listing counted", "resource", r.typ, "entries", n, "took", time.Since(started))
		default:
			cs.b.log.Debug("count set aside: entries deleted during it leave it unsettled, or a read set the figure",
				"resource", r.typ, "scanned", scanned)
		}
		return
	}
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
