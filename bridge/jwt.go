package bridge

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"github.com/hashicorp/go-hclog"

	"github.com/scimbridge/scimbridge/bridge/config"
)

// ReasonInvalidJWT: a bearer token that is a JWT and that no jwt block of
// the endpoint accepts (signature, issuer, audience, time or claims).
const ReasonInvalidJWT = "invalid_jwt"

// jwtVerifier checks JWTs for one jwt block.
type jwtVerifier struct {
	name     string
	keys     keyfunc.Keyfunc
	parser   *jwt.Parser
	required map[string]string
	p        *Principal
}

// AcceptJWTs makes the authenticator accept, besides its static tokens,
// JWTs that one of jwts verifies. Keys from a jwks_url are fetched in the
// background until ctx ends; a failed fetch is logged and retried, and
// until keys arrive every JWT is refused (401).
func (a *Authenticator) AcceptJWTs(ctx context.Context, jwts []config.JWT, log hclog.Logger) error {
	for _, j := range jwts {
		v := &jwtVerifier{name: j.Name, required: j.RequiredClaims, p: principal("jwt:"+j.Name, j.Scopes)}
		v.p.Rate = j.Rate
		var err error
		if j.JWKSFile != "" {
			var raw []byte
			if raw, err = os.ReadFile(j.JWKSFile); err == nil {
				v.keys, err = keyfunc.NewJWKSetJSON(raw)
			}
		} else {
			jlog := log.With("jwt", j.Name, "jwks_url", j.JWKSURL)
			v.keys, err = keyfunc.NewDefaultOverrideCtx(ctx, []string{j.JWKSURL}, keyfunc.Override{
				RefreshInterval: j.JWKSRefresh,
				RefreshErrorHandlerFunc: func(string) func(context.Context, error) {
					return func(_ context.Context, err error) { jlog.Warn("cannot refresh the JWT signing keys", "error", err) }
				},
			})
		}
		if err != nil {
			return fmt.Errorf("jwt %q: reading the signing keys: %w", j.Name, err)
		}
		opts := []jwt.ParserOption{
			jwt.WithValidMethods(j.Algorithms), jwt.WithIssuer(j.Issuer), jwt.WithLeeway(j.Leeway),
			jwt.WithExpirationRequired(), jwt.WithIssuedAt(),
		}
		if len(j.Audiences) > 0 {
			opts = append(opts, jwt.WithAudience(j.Audiences...))
		}
		v.parser = jwt.NewParser(opts...)
		a.jwts = append(a.jwts, v)
	}
	return nil
}

// looksLikeJWT: three base64url parts, the first a JSON object ("eyJ").
func looksLikeJWT(token string) bool {
	return strings.Count(token, ".") == 2 && strings.HasPrefix(token, "eyJ")
}

// verifyJWT returns the principal of the first jwt block that accepts
// token, or why none did (for the log: never the token).
func (a *Authenticator) verifyJWT(token string) (*Principal, string) {
	var why []string
	for _, v := range a.jwts {
		claims := jwt.MapClaims{}
		_, err := v.parser.ParseWithClaims(token, claims, v.keys.Keyfunc)
		if err == nil {
			err = v.checkRequired(claims)
		}
		if err == nil {
			return v.p, ""
		}
		why = append(why, fmt.Sprintf("%s: %s", v.name, jwtReason(err)))
	}
	return nil, strings.Join(why, "; ")
}

func (v *jwtVerifier) checkRequired(claims jwt.MapClaims) error {
	for k, want := range v.required {
		got, ok := claims[k].(string)
		if !ok || got != want {
			return fmt.Errorf("%w: %s", errMissingClaim, k)
		}
	}
	return nil
}

var errMissingClaim = errors.New("a required claim is missing or differs")

// jwtReason says in a few words why a token was refused.
func jwtReason(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "not valid yet"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "wrong audience"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "wrong issuer"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "no expiry"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid) && strings.Contains(err.Error(), "signing method"):
		return "algorithm not accepted"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "bad signature"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "no key to verify (unknown key id, or an algorithm not accepted)"
	case errors.Is(err, errMissingClaim):
		return err.Error()
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed"
	}
	return "invalid"
}
