package backends

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Base: 100 * time.Millisecond, Max: 2 * time.Second}
	for n, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond,
		5: 1600 * time.Millisecond, 6: 2 * time.Second, 40: 2 * time.Second, 0: 100 * time.Millisecond} {
		for range 50 {
			if d := b.Delay(n); d < want/2 || d > want {
				t.Fatalf("Delay(%d) = %v, want within [%v, %v]", n, d, want/2, want)
			}
		}
	}
	if d := (Backoff{}).Delay(3); d != 0 {
		t.Fatalf("zero Backoff waits %v", d)
	}
	// Without Max the doubling stops at Base << 16.
	if d := (Backoff{Base: time.Millisecond}).Delay(100); d < (time.Millisecond<<16)/2 || d > time.Millisecond<<16 {
		t.Fatalf("unbounded Delay(100) = %v", d)
	}
	// The jitter varies.
	seen := map[time.Duration]bool{}
	for range 50 {
		seen[b.Delay(4)] = true
	}
	if len(seen) < 2 {
		t.Fatal("Delay gives the same wait every time: no jitter")
	}
}

var errBusy = errors.New("busy")

func TestRetryDo(t *testing.T) {
	ctx := context.Background()
	var waits []time.Duration
	r := Retry{Attempts: 4, Backoff: Backoff{Base: time.Microsecond}, OnRetry: func(_ int, _ error, w time.Duration) { waits = append(waits, w) }}

	// Succeeds on the third attempt.
	calls := 0
	err := r.Do(ctx, func(attempt int) (bool, error) {
		calls++
		if attempt != calls {
			t.Fatalf("attempt %d on call %d", attempt, calls)
		}
		if calls < 3 {
			return true, errBusy
		}
		return true, nil
	})
	if err != nil || calls != 3 || len(waits) != 2 {
		t.Fatalf("err %v after %d calls and %d waits, want nil after 3 and 2", err, calls, len(waits))
	}

	// Gives up after Attempts, with the last error.
	calls = 0
	err = r.Do(ctx, func(int) (bool, error) { calls++; return true, errBusy })
	if !errors.Is(err, errBusy) || calls != 4 {
		t.Fatalf("err %v after %d calls, want busy after 4", err, calls)
	}

	// An error not worth retrying ends at once.
	calls = 0
	err = r.Do(ctx, func(int) (bool, error) { calls++; return false, errBusy })
	if !errors.Is(err, errBusy) || calls != 1 {
		t.Fatalf("err %v after %d calls, want busy after 1", err, calls)
	}

	// Attempts below 1 still call once.
	calls = 0
	_ = Retry{}.Do(ctx, func(int) (bool, error) { calls++; return true, errBusy })
	if calls != 1 {
		t.Fatalf("%d calls with Attempts 0", calls)
	}
}

// TestRetryHonoursContext: a wait far longer than the test is cut short
// by the context, and an ended context stops the retries.
func TestRetryHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r := Retry{Attempts: 3, Backoff: Backoff{Base: time.Hour, Max: time.Hour}, OnRetry: func(int, error, time.Duration) { cancel() }}
	calls := 0
	err := r.Do(ctx, func(int) (bool, error) { calls++; return true, errBusy })
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Fatalf("err %v after %d calls, want context.Canceled after 1", err, calls)
	}

	calls = 0
	err = Retry{Attempts: 5}.Do(ctx, func(int) (bool, error) { calls++; return true, errBusy })
	if !errors.Is(err, errBusy) || calls != 1 {
		t.Fatalf("with an ended context: err %v after %d calls, want busy after 1", err, calls)
	}
}
