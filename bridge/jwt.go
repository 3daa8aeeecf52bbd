package bridge

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"

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
	// cfg is the block it was built from: a reload keeps a verifier whose
	// jwks_url block is unchanged (and its keys), and builds the others.
	cfg config.JWT
	// fetching lives while a jwks_url's keys are fetched; stop ends it.
	fetching context.Context
	stop     context.CancelFunc
}

// AcceptJWTs makes the authenticator accept, besides its static tokens,
// JWTs that one of jwts verifies. Keys from a jwks_url are fetched in the
// background until ctx ends (or a reload drops the block); a failed fetch
// is logged and retried, and until keys arrive every JWT is refused (401).
func (a *Authenticator) AcceptJWTs(ctx context.Context, jwts []config.JWT, log hclog.Logger) error {
	cs := *a.creds.Load() // the tokens and Basic users as they are
	cs.jwts = slices.Clone(cs.jwts)
	for _, j := range jwts {
		v, err := newJWTVerifier(ctx, j, log)
		if err != nil {
			for _, v := range cs.jwts[len(a.creds.Load().jwts):] {
				v.close()
			}
			return err
		}
		cs.jwts = append(cs.jwts, v)
	}
	a.swap(&cs)
	return nil
}

// newJWTVerifier builds the verifier of one jwt block; a jwks_url's keys
// are fetched until ctx ends or stop is called.
func newJWTVerifier(ctx context.Context, j config.JWT, log hclog.Logger) (*jwtVerifier, error) {
	v := &jwtVerifier{name: j.Name, required: j.RequiredClaims, p: principal("jwt:"+j.Name, j.Scopes), cfg: j}
	v.p.Rate = j.Rate
	var err error
	if j.JWKSFile != "" {
		var raw []byte
		if raw, err = os.ReadFile(j.JWKSFile); err == nil {
			v.keys, err = keyfunc.NewJWKSetJSON(raw)
		}
	} else {
		jlog := log.With("jwt", j.Name, "jwks_url", j.JWKSURL)
		v.fetching, v.stop = context.WithCancel(ctx)
		v.keys, err = keyfunc.NewDefaultOverrideCtx(v.fetching, []string{j.JWKSURL}, keyfunc.Override{
			RefreshInterval: j.JWKSRefresh,
			RefreshErrorHandlerFunc: func(string) func(context.Context, error) {
				return func(_ context.Context, err error) { jlog.Warn("cannot refresh the JWT signing keys", "error", err) }
			},
		})
		if err != nil {
			v.stop()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("jwt %q: reading the signing keys: %w", j.Name, err)
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(j.Algorithms), jwt.WithIssuer(j.Issuer), jwt.WithLeeway(j.Leeway),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(),
	}
	if len(j.Audiences) > 0 {
		opts = append(opts, jwt.WithAudience(j.Audiences...))
	}
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

// close stops the fetching of the verifier's keys, if any.
func (v *jwtVerifier) close() {
	if v.stop != nil {
		v.stop()
	}
}

// sameJWT reports whether two jwt blocks say the same (their place in the
// file aside).
func sameJWT(a, b config.JWT) bool {
	a.Range, b.Range = hcl.Range{}, hcl.Range{}
	return reflect.DeepEqual(a, b)
}

// looksLikeJWT: three base64url parts, the first a JSON object ("eyJ").
func looksLikeJWT(token string) bool {
	return strings.Count(token, ".") == 2 && strings.HasPrefix(token, "eyJ")
}

// verifyJWT returns the principal of the first jwt block that accepts
// token, or why none did (for the log: never the token).
func (cs *credentials) verifyJWT(token string) (*Principal, string) {
	var why []string
	for _, v := range cs.jwts {
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
