package bridge

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/time/rate"

	"github.com/scimbridge/scimbridge/bridge/scim"
)

// rateLimiter holds the token buckets of one endpoint's credentials
// (settings rate_limit and rate_limit_burst, overridden by a credential
// block's own): each credential that authenticates on the endpoint has a
// bucket of burst requests, refilled at perSecond. A request that finds
// the bucket empty is answered 429 with the time until a request is
// possible again as Retry-After; it takes nothing from the bucket.
//
// Buckets are keyed by the principal's name, so that every kind of
// credential (token, basic, jwt, and any later one) is limited the same
// way, and a reload that keeps a credential keeps its bucket.
type rateLimiter struct {
	perSecond, burst int // the server's settings
	now              func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	lim              *rate.Limiter
	perSecond, burst int
	// warned is when a refusal was last logged at warn level; quiet
	// counts the refusals since, logged at debug.
	warned time.Time
	quiet  int
}

// maxBuckets bounds the buckets of one endpoint (credentials are
// configured, so a bound is only a safeguard).
const maxBuckets = 10000

// rateWarnEvery: at most one warning a credential in this period.
const rateWarnEvery = time.Minute

// errRateLimited is the cause of a 429 for a credential's rate.
var errRateLimited = errors.New("rate limit")

func newRateLimiter(perSecond, burst int) *rateLimiter {
	return &rateLimiter{perSecond: perSecond, burst: burst, now: time.Now, buckets: map[string]*bucket{}}
}

// limitsOf returns the rate and burst that apply to p.
func (l *rateLimiter) limitsOf(p *Principal) (perSecond, burst int) {
	perSecond, burst = l.perSecond, l.burst
	if r := p.Rate; r != nil {
		if r.PerSecond >= 0 {
			perSecond = r.PerSecond
		}
		if r.Burst > 0 {
			burst = r.Burst
		}
	}
	if burst == 0 {
		burst = max(2*perSecond, 1)
	}
	return perSecond, burst
}

// rateRefusal describes a refused request.
type rateRefusal struct {
	wait             time.Duration
	perSecond, burst int
	// warn: log this refusal at warn level (the first in rateWarnEvery);
	// quiet refusals were logged at debug since the last warning.
	warn  bool
	quiet int
}

// take takes one request from p's bucket; nil when it may go on.
func (l *rateLimiter) take(p *Principal) *rateRefusal {
	perSecond, burst := l.limitsOf(p)
	if perSecond == 0 {
		return nil
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[p.Name]
	switch {
	case b == nil:
		if len(l.buckets) >= maxBuckets {
			l.shrinkLocked(now)
		}
		b = &bucket{lim: rate.NewLimiter(rate.Limit(perSecond), burst), perSecond: perSecond, burst: burst}
		l.buckets[p.Name] = b
	case b.perSecond != perSecond || b.burst != burst:
		// The credential's limit changed (reload).
		b.lim.SetLimitAt(now, rate.Limit(perSecond))
		b.lim.SetBurstAt(now, burst)
		b.perSecond, b.burst = perSecond, burst
	}
	r := b.lim.ReserveN(now, 1)
	wait := r.DelayFrom(now)
	if r.OK() && wait == 0 {
		return nil
	}
	r.CancelAt(now)
	out := &rateRefusal{wait: wait, perSecond: perSecond, burst: burst}
	if now.Sub(b.warned) >= rateWarnEvery {
		out.warn, out.quiet = true, b.quiet
		b.warned, b.quiet = now, 0
	} else {
		b.quiet++
	}
	return out
}

// shrinkLocked makes room: full buckets go first (a new one is the
// same), then any.
func (l *rateLimiter) shrinkLocked(now time.Time) {
	for k, b := range l.buckets {
		if b.lim.TokensAt(now) >= float64(b.burst) {
			delete(l.buckets, k)
		}
	}
	for k := range l.buckets {
		if len(l.buckets) < maxBuckets {
			break
		}
		delete(l.buckets, k)
	}
}

// retryAfterSeconds is a wait as a Retry-After value: whole seconds,
// rounded up, at least 1.
func retryAfterSeconds(d time.Duration) int {
	return max(int(math.Ceil(d.Seconds())), 1)
}

// rateLimit charges an authenticated request to its credential's bucket
// on ep: a refusal is counted, logged (warn at most once a minute for a
// credential, debug otherwise) and answered 429 with Retry-After. It is
// not an authentication failure.
func (s *Server) rateLimit(c *fiber.Ctx, ep *Endpoint, p *Principal) error {
	if ep.rates == nil {
		return nil
	}
	r := ep.rates.take(p)
	if r == nil {
		return nil
	}
	secs := retryAfterSeconds(r.wait)
	s.Metrics.RateLimited(ep.Name, p.Name)
	args := []any{"endpoint", ep.Name, "credential", p.Name, "rate_limit", r.perSecond, "rate_limit_burst", r.burst, "retry_after", secs}
	if r.warn {
		logger(c).Warn("rate limit reached: requests of this credential are answered 429 until its bucket refills; "+
			"further refusals within a minute are logged at debug level", append(args, "refused_since_last_warning", r.quiet)...)
	} else {
		logger(c).Debug("rate limit reached", args...)
	}
	return &scim.Error{Status: fiber.StatusTooManyRequests, RetryAfter: secs, Cause: errRateLimited,
		Detail: fmt.Sprintf("too many requests: this credential may make %d a second on this endpoint (bursts of %d); retry after %d s",
			r.perSecond, r.burst, secs)}
}
