package backends

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func at(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

type evictLog struct {
	mu  sync.Mutex
	got []string
}

func (l *evictLog) add(k string, v int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, fmt.Sprintf("%s=%d", k, v))
}

func (l *evictLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.got
	l.got = nil
	return out
}

func TestCacheBoundedLRU(t *testing.T) {
	var log evictLog
	c := NewCache[string, int](3, time.Minute, log.add)
	for i := range 10 {
		c.Put(fmt.Sprint(i), i, at(i))
	}
	if c.Len() != 3 {
		t.Fatalf("Len %d, want 3", c.Len())
	}
	if got, want := log.take(), []string{"0=0", "1=1", "2=2", "3=3", "4=4", "5=5", "6=6"}; !slices.Equal(got, want) {
		t.Fatalf("evicted %v, want %v", got, want)
	}
	// A Get makes 7 the most recently used: 8 goes first next.
	if v, ok := c.Get("7", at(11)); !ok || v != 7 {
		t.Fatalf("Get 7: %v %v", v, ok)
	}
	c.Put("10", 10, at(12))
	if got := log.take(); !slices.Equal(got, []string{"8=8"}) {
		t.Fatalf("evicted %v, want [8=8]", got)
	}
	if _, ok := c.Get("8", at(12)); ok {
		t.Fatal("evicted entry returned")
	}
	// Replacing a key drops the old value, without evicting another.
	c.Put("7", 70, at(13))
	if got := log.take(); !slices.Equal(got, []string{"7=7"}) {
		t.Fatalf("evicted %v, want [7=7]", got)
	}
	if v, _ := c.Get("7", at(13)); v != 70 {
		t.Fatalf("Get 7 after replace: %d", v)
	}
	if c.Len() != 3 {
		t.Fatalf("Len %d, want 3", c.Len())
	}
}

func TestCacheTTL(t *testing.T) {
	var log evictLog
	c := NewCache[string, int](10, time.Minute, log.add)
	c.Put("a", 1, at(0))
	c.Put("b", 2, at(30))
	c.Put("c", 3, at(50))
	// Used at 55, a lives until 115.
	if _, ok := c.Get("a", at(55)); !ok {
		t.Fatal("a expired early")
	}
	if _, ok := c.Get("b", at(60+30)); !ok {
		t.Fatal("b expired at exactly its TTL")
	}
	if _, ok := c.Get("c", at(111)); ok {
		t.Fatal("c returned after its TTL")
	}
	if got := log.take(); !slices.Equal(got, []string{"c=3"}) {
		t.Fatalf("evicted %v, want [c=3]", got)
	}
	// Sweep drops exactly the expired ones, oldest first.
	c.Put("d", 4, at(112))
	c.Sweep(at(151))
	if got := log.take(); !slices.Equal(got, []string{"a=1", "b=2"}) {
		t.Fatalf("swept %v, want [a=1 b=2]", got)
	}
	if c.Len() != 1 {
		t.Fatalf("Len %d after sweep, want 1", c.Len())
	}
	if _, ok := c.Take("d", at(172)); !ok {
		t.Fatal("d expired early")
	}
	if got := log.take(); len(got) != 0 {
		t.Fatalf("Take evicted %v", got)
	}
	if _, ok := c.Get("d", at(172)); ok {
		t.Fatal("taken entry still there")
	}
}

func TestCacheCloseAndZero(t *testing.T) {
	var log evictLog
	c := NewCache[string, int](2, time.Minute, log.add)
	c.Put("a", 1, at(0))
	c.Put("b", 2, at(0))
	c.Close()
	if got := log.take(); !slices.Equal(got, []string{"b=2", "a=1"}) {
		t.Fatalf("Close evicted %v", got)
	}
	c.Put("c", 3, at(1))
	if got := log.take(); !slices.Equal(got, []string{"c=3"}) || c.Len() != 0 {
		t.Fatalf("Put after Close: evicted %v, Len %d", got, c.Len())
	}

	z := NewCache[string, int](0, time.Minute, log.add)
	z.Put("a", 1, at(0))
	if _, ok := z.Get("a", at(0)); ok || z.Len() != 0 {
		t.Fatal("a cache of size 0 kept an entry")
	}
	if got := log.take(); !slices.Equal(got, []string{"a=1"}) {
		t.Fatalf("size 0: evicted %v", got)
	}

	c2 := NewCache[string, int](5, time.Minute, nil)
	c2.Put("a", 1, at(0))
	c2.Clear()
	if c2.Len() != 0 {
		t.Fatal("Clear kept entries")
	}
}

// TestCacheConcurrent runs under -race: every value put is evicted,
// taken or still held, exactly once.
func TestCacheConcurrent(t *testing.T) {
	var mu sync.Mutex
	gone := map[int]int{}
	c := NewCache[int, int](8, time.Hour, func(_ int, v int) { mu.Lock(); gone[v]++; mu.Unlock() })
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 500 {
				v := g*1000 + i
				c.Put(i%20, v, at(i))
				if w, ok := c.Take((i+7)%20, at(i)); ok {
					mu.Lock()
					gone[w]++
					mu.Unlock()
				}
				c.Get(i%5, at(i))
			}
		})
	}
	wg.Wait()
	c.Close()
	if len(gone) != 4*500 {
		t.Fatalf("%d values accounted for, want %d", len(gone), 4*500)
	}
	for v, n := range gone {
		if n != 1 {
			t.Fatalf("value %d dropped %d times", v, n)
		}
	}
}
