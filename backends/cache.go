package backends

import (
	"container/list"
	"sync"
	"time"
)

// Cache is a bounded map whose entries expire: what a backend keeps
// between the pages of a search (a keyset position, an open paged-search
// connection, a sorted snapshot of ids). It holds at most Max entries,
// dropping the least recently used one to make room, and an entry not
// used (put or got) for TTL is gone. Every operation costs O(1) (Sweep
// O(1) per expired entry): the entries are kept in order of last use, so
// the expired ones are always the oldest.
//
// Callers pass the time (now) so that a query reads one clock; a Cache is
// safe for concurrent use.
type Cache[K comparable, V any] struct {
	max     int
	ttl     time.Duration
	onEvict func(K, V)

	mu     sync.Mutex
	order  *list.List // of *cacheEntry, most recently used first
	byKey  map[K]*list.Element
	closed bool
}

type cacheEntry[K comparable, V any] struct {
	key  K
	val  V
	used time.Time
}

// NewCache returns a cache of at most max entries (max <= 0: it keeps
// nothing) that expire ttl after their last use. onEvict, when not nil,
// is called with every value the cache drops by itself (full, expired,
// replaced by Put, Clear, Close) but not with one Take returns; it is
// called without the cache's lock held.
func NewCache[K comparable, V any](max int, ttl time.Duration, onEvict func(K, V)) *Cache[K, V] {
	return &Cache[K, V]{max: max, ttl: ttl, onEvict: onEvict, order: list.New(), byKey: map[K]*list.Element{}}
}

// Get returns the value of k and marks it used at now.
func (c *Cache[K, V]) Get(k K, now time.Time) (V, bool) {
	return c.get(k, now, false)
}

// Take removes and returns the value of k: a value only one caller may
// use at a time (a connection positioned in a result).
func (c *Cache[K, V]) Take(k K, now time.Time) (V, bool) {
	return c.get(k, now, true)
}

func (c *Cache[K, V]) get(k K, now time.Time, take bool) (V, bool) {
	var zero V
	c.mu.Lock()
	el, ok := c.byKey[k]
	if !ok {
		c.mu.Unlock()
		return zero, false
	}
	e := el.Value.(*cacheEntry[K, V])
	if c.expired(e, now) {
		c.remove(el)
		c.mu.Unlock()
		c.evicted([]*cacheEntry[K, V]{e})
		return zero, false
	}
	if take {
		c.remove(el)
	} else {
		e.used = now
		c.order.MoveToFront(el)
	}
	c.mu.Unlock()
	return e.val, true
}

// Put stores v under k, used at now, dropping a value k held before and,
// when the cache is full, the least recently used entry. After Close, Put
// drops v at once.
func (c *Cache[K, V]) Put(k K, v V, now time.Time) {
	e := &cacheEntry[K, V]{key: k, val: v, used: now}
	var out []*cacheEntry[K, V]
	c.mu.Lock()
	switch {
	case c.closed || c.max <= 0:
		out = append(out, e)
	default:
		if el, ok := c.byKey[k]; ok {
			out = append(out, el.Value.(*cacheEntry[K, V]))
			c.remove(el)
		}
		for c.order.Len() >= c.max {
			el := c.order.Back()
			out = append(out, el.Value.(*cacheEntry[K, V]))
			c.remove(el)
		}
		c.byKey[k] = c.order.PushFront(e)
	}
	c.mu.Unlock()
	c.evicted(out)
}

// Sweep drops the entries that have expired at now. Get and Take never
// return an expired entry, so Sweep is needed only to release what the
// values hold (connections) without waiting for the next use.
func (c *Cache[K, V]) Sweep(now time.Time) {
	var out []*cacheEntry[K, V]
	c.mu.Lock()
	for el := c.order.Back(); el != nil; el = c.order.Back() {
		e := el.Value.(*cacheEntry[K, V])
		if !c.expired(e, now) {
			break
		}
		out = append(out, e)
		c.remove(el)
	}
	c.mu.Unlock()
	c.evicted(out)
}

// Clear drops every entry.
func (c *Cache[K, V]) Clear() {
	c.mu.Lock()
	out := c.drain()
	c.mu.Unlock()
	c.evicted(out)
}

// Close drops every entry and makes later Puts drop their value.
func (c *Cache[K, V]) Close() {
	c.mu.Lock()
	c.closed = true
	out := c.drain()
	c.mu.Unlock()
	c.evicted(out)
}

// Len returns the number of entries, expired ones not yet dropped included.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

func (c *Cache[K, V]) expired(e *cacheEntry[K, V], now time.Time) bool {
	return now.Sub(e.used) > c.ttl
}

func (c *Cache[K, V]) remove(el *list.Element) {
	c.order.Remove(el)
	delete(c.byKey, el.Value.(*cacheEntry[K, V]).key)
}

func (c *Cache[K, V]) drain() []*cacheEntry[K, V] {
	out := make([]*cacheEntry[K, V], 0, c.order.Len())
	for el := c.order.Front(); el != nil; el = el.Next() {
		out = append(out, el.Value.(*cacheEntry[K, V]))
	}
	c.order.Init()
	clear(c.byKey)
	return out
}

func (c *Cache[K, V]) evicted(out []*cacheEntry[K, V]) {
	if c.onEvict == nil {
		return
	}
	for _, e := range out {
		c.onEvict(e.key, e.val)
	}
}
