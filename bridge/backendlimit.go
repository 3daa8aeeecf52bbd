package bridge

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/scimbridge/scimbridge/bridge/scim"
)

// backendSlots bounds the SCIM operations in flight toward one backend
// (setting backend_max_concurrency), shared by the endpoints that use it.
// A slot is taken per request, around the handler: a single operation,
// a list or search, or a whole /Bulk request, which runs its operations
// one after the other within its one slot. Nothing inside a request takes
// a second slot, so that requests holding every slot cannot wait on each
// other. A request that finds no slot free waits up to
// backend_queue_timeout (within its request_timeout), then gets 503 with
// Retry-After.
type backendSlots struct {
	name string
	sem  chan struct{}
	wait time.Duration

	mu     sync.Mutex
	warned time.Time
	quiet  int
}

// backendBusyRetryAfter is the Retry-After, in seconds, of a request that
// found the backend's slots taken for backend_queue_timeout.
const backendBusyRetryAfter = 2

var errBackendBusy = errors.New("backend busy")

// newBackendSlots returns nil (no limit) when n is 0.
func newBackendSlots(name string, n int, wait time.Duration) *backendSlots {
	if n <= 0 {
		return nil
	}
	return &backendSlots{name: name, sem: make(chan struct{}, n), wait: wait}
}

// acquire takes a slot; release gives it back.
func (b *backendSlots) acquire(ctx context.Context) (release func(), err error) {
	release = func() { <-b.sem }
	select {
	case b.sem <- struct{}{}:
		return release, nil
	default:
	}
	t := time.NewTimer(b.wait)
	defer t.Stop()
	select {
	case b.sem <- struct{}{}:
		return release, nil
	case <-t.C:
		return nil, errBackendBusy
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// backendSlot takes a slot of ep's backend for the request; the caller
// releases it when the request's work is done.
func (s *Server) backendSlot(c *fiber.Ctx, ep *Endpoint) (release func(), err error) {
	b := ep.slots
	if b == nil {
		return func() {}, nil
	}
	free, err := b.acquire(c.UserContext())
	if err == nil {
		s.Metrics.BackendInFlight(b.name, 1)
		return func() {
			free()
			s.Metrics.BackendInFlight(b.name, -1)
		}, nil
	}
	if !errors.Is(err, errBackendBusy) {
		return nil, err
	}
	s.Metrics.BackendBusy(b.name)
	b.mu.Lock()
	warn, quiet := time.Since(b.warned) >= time.Minute, b.quiet
	if warn {
		b.warned, b.quiet = time.Now(), 0
	} else {
		b.quiet++
	}
	b.mu.Unlock()
	args := []any{"backend", b.name, "backend_max_concurrency", cap(b.sem), "backend_queue_timeout", b.wait}
	if warn {
		logger(c).Warn("backend busy: a request waited backend_queue_timeout for one of the backend_max_concurrency slots and is answered 503; "+
			"further refusals within a minute are logged at debug level", append(args, "refused_since_last_warning", quiet)...)
	} else {
		logger(c).Debug("backend busy", args...)
	}
	return nil, &scim.Error{Status: fiber.StatusServiceUnavailable, RetryAfter: backendBusyRetryAfter, Cause: errBackendBusy,
		Detail: "the directory is busy with other requests; retry later"}
}
