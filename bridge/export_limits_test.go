package bridge

import "time"

// SetRateClock makes the rate limiters of s read the time from now.
func SetRateClock(s *Server, now func() time.Time) {
	for _, ep := range s.Endpoints {
		ep.rates.now = now
	}
}
