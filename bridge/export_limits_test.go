package bridge

import "time"

// SetRateClock makes the rate limiters of s read the time from now.
func SetRateClock(s *Server, now func() time.Time) {
	for _, ep := range s.Endpoints {
		ep.rates.now = now
	}
}

// JWTFetchers returns, for each jwt block of ep with a jwks_url, whether
// its keys are still fetched, by block name, and an opaque handle per
// block (the same handle: the same verifier).
func JWTFetchers(ep *Endpoint) (fetching map[string]bool, handles map[string]any) {
	fetching, handles = map[string]bool{}, map[string]any{}
	for _, v := range ep.Auth.creds.Load().jwts {
		handles[v.name] = v
		if v.fetching != nil {
			fetching[v.name] = v.fetching.Err() == nil
		}
	}
	return fetching, handles
}

// JWTFetching reports whether a handle of JWTFetchers still fetches keys.
func JWTFetching(h any) bool {
	v := h.(*jwtVerifier)
	return v.fetching != nil && v.fetching.Err() == nil
}
