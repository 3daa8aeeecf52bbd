package bridge

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/scimbridge/scimbridge/bridge/config"
	"github.com/scimbridge/scimbridge/bridge/scim"
)

// Authenticator checks the credentials of one endpoint.
type Authenticator struct {
	tokens []config.Token
	basic  []config.Basic
	// The principal of each token and Basic user, built once.
	tokenPrincipals, basicPrincipals []*Principal
	now                              func() time.Time

	// verified remembers Basic credentials that passed their bcrypt check,
	// by the SHA-256 of user and password, for basicReuse: bcrypt costs
	// tens of milliseconds of CPU by design, and a client sends the same
	// credentials with every request. Nothing of it is logged or kept on
	// disk.
	mu       sync.Mutex
	verified map[[32]byte]verifiedBasic
}

type verifiedBasic struct {
	p     *Principal
	until time.Time
}

const (
	basicReuse       = 5 * time.Minute
	maxVerifiedBasic = 1024
)

// NewAuthenticator builds an Authenticator from an endpoint's credentials.
func NewAuthenticator(tokens []config.Token, basic []config.Basic) *Authenticator {
	a := &Authenticator{tokens: tokens, basic: basic, now: time.Now, verified: map[[32]byte]verifiedBasic{}}
	for _, t := range tokens {
		a.tokenPrincipals = append(a.tokenPrincipals, principal(t.Name, t.Scopes))
	}
	for _, b := range basic {
		a.basicPrincipals = append(a.basicPrincipals, principal(b.Username, b.Scopes))
	}
	return a
}

// Principal is who made a request.
type Principal struct {
	Name   string
	Scopes map[string]bool
}

func unauthorized(detail string) *scim.Error {
	return scim.Errorf(401, "", "%s", detail)
}

// Authenticate checks an Authorization header value. Tokens are compared by
// their SHA-256 in constant time, against every configured token.
func (a *Authenticator) Authenticate(header string) (*Principal, error) {
	header = strings.TrimSpace(header)
	if header == "" {
		return nil, unauthorized("authentication required")
	}
	scheme, rest, hasScheme := strings.Cut(header, " ")
	switch {
	case hasScheme && strings.EqualFold(scheme, "Bearer"):
		return a.bearer(strings.TrimSpace(rest))
	case hasScheme && strings.EqualFold(scheme, "Basic"):
		return a.basicAuth(strings.TrimSpace(rest))
	case !hasScheme:
		// Some IdP set-ups send the bare token as the header value.
		return a.bearer(header)
	}
	return nil, unauthorized("unsupported authorization scheme")
}

func (a *Authenticator) bearer(token string) (*Principal, error) {
	if token == "" || len(token) > 4096 {
		return nil, unauthorized("invalid credentials")
	}
	sum := sha256.Sum256([]byte(token))
	found := -1
	for i := range a.tokens {
		if subtle.ConstantTimeCompare(sum[:], a.tokens[i].Hash[:]) == 1 && found < 0 {
			found = i
		}
	}
	if found < 0 {
		return nil, unauthorized("invalid credentials")
	}
	if exp := a.tokens[found].Expires; !exp.IsZero() && a.now().After(exp) {
		return nil, unauthorized("token expired")
	}
	return a.tokenPrincipals[found], nil
}

func (a *Authenticator) basicAuth(enc string) (*Principal, error) {
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, unauthorized("invalid credentials")
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		return nil, unauthorized("invalid credentials")
	}
	key := sha256.Sum256([]byte(user + "\x00" + pass))
	now := a.now()
	a.mu.Lock()
	v, ok := a.verified[key]
	a.mu.Unlock()
	if ok && now.Before(v.until) {
		return v.p, nil
	}
	for i := range a.basic {
		b := &a.basic[i]
		if subtle.ConstantTimeCompare([]byte(user), []byte(b.Username)) != 1 {
			continue
		}
		if checkPassword(b.PasswordHash, pass) {
			a.mu.Lock()
			if len(a.verified) >= maxVerifiedBasic {
				clear(a.verified)
			}
			a.verified[key] = verifiedBasic{p: a.basicPrincipals[i], until: now.Add(basicReuse)}
			a.mu.Unlock()
			return a.basicPrincipals[i], nil
		}
	}
	return nil, unauthorized("invalid credentials")
}

// bcryptCompare is bcrypt.CompareHashAndPassword; tests count the calls.
var bcryptCompare = bcrypt.CompareHashAndPassword

func checkPassword(hash, pass string) bool {
	if strings.HasPrefix(hash, "$2") {
		return bcryptCompare([]byte(hash), []byte(pass)) == nil
	}
	want, err := hex.DecodeString(strings.TrimPrefix(hash, "sha256:"))
	if err != nil {
		return false
	}
	sum := sha256.Sum256([]byte(pass))
	return subtle.ConstantTimeCompare(sum[:], want) == 1
}

func principal(name string, scopes []string) *Principal {
	p := &Principal{Name: name, Scopes: map[string]bool{}}
	for _, s := range scopes {
		p.Scopes[s] = true
	}
	return p
}
