package bridge

import (
	"fmt"

	"github.com/scimbridge/scimbridge/bridge/config"
)

// ReloadCredentials puts the credentials of eps (a configuration read
// again on SIGHUP) in force on the running endpoints of the same names:
// their token, basic and jwt blocks. It is all or nothing: every
// endpoint's new set is built first (jwt blocks' keys read or fetched),
// and when one cannot be built nothing changes and the error says why.
// Then each endpoint's set is swapped in one step; requests already
// authenticated run to their end, and the key fetching of jwt blocks
// removed or changed stops. It returns what each endpoint now accepts.
// Endpoints that are not running are left out (adding one needs a
// restart). One reload at a time.
func (s *Server) ReloadCredentials(eps []*config.Endpoint) ([]string, error) {
	type change struct {
		ep   *Endpoint
		next *Credentials
	}
	var changes []change
	for _, ec := range eps {
		for _, ep := range s.Endpoints {
			if ep.Name != ec.Name {
				continue
			}
			next, err := ep.Auth.Prepare(s.jwksCtx, ec.Tokens, ec.Basic, ec.JWTs, s.Log.Named(ep.Name).Named("jwt"))
			if err != nil {
				for _, c := range changes {
					c.next.Discard()
				}
				return nil, fmt.Errorf("endpoint %s: %w", ep.Name, err)
			}
			changes = append(changes, change{ep, next})
		}
	}
	var applied []string
	for _, c := range changes {
		c.ep.Auth.Use(c.next)
		cs := c.next.cs
		applied = append(applied, fmt.Sprintf("%s (%d token(s), %d basic, %d jwt)", c.ep.Name, len(cs.tokens), len(cs.basic), len(cs.jwts)))
	}
	return applied, nil
}
