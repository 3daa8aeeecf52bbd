package backends

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff is an exponential backoff with jitter: the wait before retry n
// (1 for the first) is Base doubled n-1 times, at most Max, then drawn
// uniformly from its upper half, so that clients that failed together do
// not come back together.
type Backoff struct {
	Base time.Duration // the first wait; 0: no wait at all
	Max  time.Duration // the longest wait; 0: no bound but the doubling's (Base << 16)
}

// Delay returns the wait before retry n (n >= 1): a random duration in
// [d/2, d] for d = min(Max, Base << (n-1)).
func (b Backoff) Delay(n int) time.Duration {
	if b.Base <= 0 {
		return 0
	}
	d := b.Base << min(max(n-1, 0), 16)
	if d <= 0 { // overflow
		d = b.Max
	}
	if b.Max > 0 {
		d = min(d, b.Max)
	}
	return d/2 + rand.N(d/2+1)
}

// Retry says how often and how patiently to run an operation again.
type Retry struct {
	// Attempts is the most calls of the operation; below 1 means 1.
	Attempts int
	// Backoff spaces the attempts; the zero Backoff retries at once.
	Backoff Backoff
	// OnRetry, when not nil, is called before each wait with the attempt
	// that failed, its error and the wait (for a debug log line).
	OnRetry func(attempt int, err error, wait time.Duration)
}

// Do calls fn (attempt counts from 1) until it succeeds, says not to try
// again (again false), has been called Attempts times, or ctx ends, and
// returns fn's last error. The wait between attempts ends early when ctx
// does, and Do then returns ctx's error.
func (r Retry) Do(ctx context.Context, fn func(attempt int) (again bool, err error)) error {
	for attempt := 1; ; attempt++ {
		again, err := fn(attempt)
		if err == nil || !again || attempt >= r.Attempts || ctx.Err() != nil {
			return err
		}
		wait := r.Backoff.Delay(attempt)
		if r.OnRetry != nil {
			r.OnRetry(attempt, err, wait)
		}
		if wait <= 0 {
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
