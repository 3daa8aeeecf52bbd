package bridge

import (
	"context"
	"fmt"

	"github.com/scimbridge/scimbridge/bridge/config"
)

// ReloadCredentials puts the credentials of eps (a configuration read
// again on SIGHUP) in force on the running endpoints of the same names:
// their token, basic, jwt and oauth2 blocks. It is all or nothing: every
// endpoint's new set is built first (jwt blocks' keys read or fetched,
// the token store of oauth2 blocks opened when no endpoint had it open),
// and when one cannot be built nothing changes and the error says why.
// Then each endpoint's set is swapped in one step; requests already
// authenticated, and requests to the authorization server under way, run
// to their end on the set they began with, and the key fetching of jwt
// blocks removed or changed stops. It returns what each endpoint now
// accepts. Endpoints that are not running are left out (adding one needs
// a restart). One reload at a time.
//
// The tokens an oauth2 block issued stay in its store: while the block
// is gone they are refused, and they are honoured again when a block
// with the same client_id and client secret comes back. A client whose
// secret changed no longer accepts the tokens issued before (see
// oauth2Client.key).
func (s *Server) ReloadCredentials(eps []*config.Endpoint) ([]string, error) {
	type change struct {
		ep   *Endpoint
		ec   *config.Endpoint
		next *Credentials
	}
	var changes []change
	var fresh []*oauth2DB
	fail := func(err error) ([]string, error) {
		for _, c := range changes {
			c.next.Discard()
		}
		s.dropOAuth2DBs(fresh)
		return nil, err
	}
	for _, ec := range eps {
		for _, ep := range s.Endpoints {
			if ep.Name != ec.Name {
				continue
			}
			next, err := ep.Auth.Prepare(s.jwksCtx, ec.Tokens, ec.Basic, ec.JWTs, s.Log.Named(ep.Name).Named("jwt"))
			if err != nil {
				return fail(fmt.Errorf("endpoint %s: %w", ep.Name, err))
			}
			changes = append(changes, change{ep, ec, next})
			o, d, err := s.buildOAuth2(context.Background(), ec, s.Log.Named(ep.Name).Named("oauth2"))
			if d != nil {
				fresh = append(fresh, d)
			}
			if err != nil {
				return fail(fmt.Errorf("endpoint %s: %w", ep.Name, err))
			}
			next.cs.oauth2 = o
		}
	}
	var applied []string
	for _, c := range changes {
		prev := c.ep.Auth.oauth2Set()
		c.ep.Auth.Use(c.next)
		cs := c.next.cs
		n := 0
		if cs.oauth2 != nil {
			n = len(cs.oauth2.clients)
			s.logOAuth2URLs(c.ec, cs.oauth2, prev, s.Log.Named(c.ep.Name).Named("oauth2"))
		}
		applied = append(applied, fmt.Sprintf("%s (%d token(s), %d basic, %d jwt, %d oauth2)", c.ep.Name, len(cs.tokens), len(cs.basic), len(cs.jwts), n))
	}
	s.idleOAuth2DBs()
	return applied, nil
}
