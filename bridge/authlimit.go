package bridge

import (
	"crypto/sha256"
	"net/netip"
	"sync"
	"time"
)

// failureLimiter counts failed authentications per source address and per
// Basic user name, in fixed windows that start with a key's first failure
// (or password check).
// A key with limit failures (checks under way included) is limited until
// its window ends. Memory is bounded: each table holds at most
// maxLimiterKeys keys, expired ones are dropped first and then arbitrary
// ones, so that an attacker rotating names or addresses only makes the
// limiter forget some counts, never grow.
type failureLimiter struct {
	limit  int
	window time.Duration

	mu     sync.Mutex
	tables [2]failureTable // by address, by user name
}

const (
	byAddress = iota
	byUser
)

// maxLimiterKeys bounds each table: about 100 bytes a key.
const maxLimiterKeys = 10000

type failureTable struct {
	m         map[[32]byte]failureCount
	nextSweep time.Time
}

type failureCount struct {
	start   time.Time // the window's start: its first failure
	failed  int
	pending int // password checks under way, counted as failures until they end
}

// limitKeys are the keys of one attempt: its address and, for Basic, its
// user name; both are hashed, so a key is 32 bytes whatever was sent.
type limitKeys struct {
	sums    [2][32]byte
	hasUser bool
}

func newFailureLimiter(limit int, window time.Duration) *failureLimiter {
	l := &failureLimiter{limit: limit, window: window}
	for i := range l.tables {
		l.tables[i].m = map[[32]byte]failureCount{}
	}
	return l
}

// keys returns the keys of an attempt from addr with the given Basic user
// name (hasUser false for bearer tokens). IPv6 addresses count by their
// /64, which one subscriber or host usually holds entirely.
func (l *failureLimiter) keys(addr string, user string, hasUser bool) limitKeys {
	k := limitKeys{hasUser: hasUser}
	if a, err := netip.ParseAddr(addr); err == nil {
		a = a.Unmap()
		if a.Is6() {
			addr = netip.PrefixFrom(a, 64).Masked().String()
		} else {
			addr = a.String()
		}
	}
	k.sums[byAddress] = sha256.Sum256([]byte(addr))
	if hasUser {
		k.sums[byUser] = sha256.Sum256([]byte(user))
	}
	return k
}

func (k limitKeys) each(f func(table int, sum [32]byte)) {
	f(byAddress, k.sums[byAddress])
	if k.hasUser {
		f(byUser, k.sums[byUser])
	}
}

// current returns the count of sum in table t; when its window has ended
// (or it has none) a new one starts now, and checks under way carry over.
func (l *failureLimiter) current(t int, sum [32]byte, now time.Time) failureCount {
	c := l.tables[t].m[sum]
	if !now.Before(c.start.Add(l.window)) {
		c.start, c.failed = now, 0
	}
	return c
}

// check reports whether any key is limited, and for how long.
func (l *failureLimiter) check(now time.Time, k limitKeys) (retryAfter time.Duration, limited bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.checkLocked(now, k)
}

func (l *failureLimiter) checkLocked(now time.Time, k limitKeys) (retryAfter time.Duration, limited bool) {
	k.each(func(t int, sum [32]byte) {
		c := l.current(t, sum, now)
		switch {
		case c.failed >= l.limit:
			limited = true
			retryAfter = max(retryAfter, c.start.Add(l.window).Sub(now))
		case c.failed+c.pending >= l.limit:
			// Checks under way fill the limit: they end within a second.
			limited = true
			retryAfter = max(retryAfter, time.Second)
		}
	})
	return retryAfter, limited
}

// begin reserves a password check for k, unless a key is limited: checks
// under way count against the limit, so that many concurrent attempts
// from one address run at most limit checks.
func (l *failureLimiter) begin(now time.Time, k limitKeys) (retryAfter time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if retryAfter, limited := l.checkLocked(now, k); limited {
		return retryAfter, false
	}
	k.each(func(t int, sum [32]byte) {
		c := l.current(t, sum, now)
		c.pending++
		l.put(t, sum, c, now)
	})
	return 0, true
}

// end finishes a check begun with begin.
func (l *failureLimiter) end(now time.Time, k limitKeys, failed bool) (engaged []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k.each(func(t int, sum [32]byte) {
		c, ok := l.tables[t].m[sum]
		if !ok {
			return // forgotten while full: counts start again
		}
		c.pending = max(c.pending-1, 0)
		l.tables[t].m[sum] = c
	})
	if failed {
		return l.failLocked(now, k)
	}
	return nil
}

// fail records a failure that needed no reservation (a wrong token, a
// malformed header, the answer of another request's check). It returns
// which keys this failure limited: "address", "user name".
func (l *failureLimiter) fail(now time.Time, k limitKeys) (engaged []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failLocked(now, k)
}

func (l *failureLimiter) failLocked(now time.Time, k limitKeys) (engaged []string) {
	k.each(func(t int, sum [32]byte) {
		c := l.current(t, sum, now)
		c.failed++
		if c.failed == l.limit {
			engaged = append(engaged, [...]string{"address", "user name"}[t])
		}
		l.put(t, sum, c, now)
	})
	return engaged
}

// put stores c, making room when the table is full.
func (l *failureLimiter) put(t int, sum [32]byte, c failureCount, now time.Time) {
	tab := &l.tables[t]
	if _, ok := tab.m[sum]; !ok && len(tab.m) >= maxLimiterKeys {
		// Sweep expired keys at most a few times a window: under a flood of
		// new keys each sweep would otherwise cost a pass over the table.
		if !now.Before(tab.nextSweep) {
			for s, old := range tab.m {
				if old.pending == 0 && !now.Before(old.start.Add(l.window)) {
					delete(tab.m, s)
				}
			}
			tab.nextSweep = now.Add(l.window / 4)
		}
		for s, old := range tab.m {
			if len(tab.m) < maxLimiterKeys {
				break
			}
			if old.pending == 0 {
				delete(tab.m, s)
			}
		}
	}
	tab.m[sum] = c
}

// size is the number of keys held, for tests.
func (l *failureLimiter) size() (addresses, users int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.tables[byAddress].m), len(l.tables[byUser].m)
}
