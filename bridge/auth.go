package bridge

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/scimbridge/scimbridge/bridge/config"
	"github.com/scimbridge/scimbridge/bridge/scim"
)

// Authenticator checks the credentials of one endpoint.
type Authenticator struct {
	tokens []config.Token
	basic  []config.Basic
	now    func() time.Time
}

// NewAuthenticator builds an Authenticator from an endpoint's credentials.
func NewAuthenticator(tokens []config.Token, basic []config.Basic) *Authenticator {
	return &Authenticator{tokens: tokens, basic: basic, now: time.Now}
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
	var found *config.Token
	for i := range a.tokens {
		if subtle.ConstantTimeCompare(sum[:], a.tokens[i].Hash[:]) == 1 && found == nil {
			found = &a.tokens[i]
		}
	}
	if found == nil {
		return nil, unauthorized("invalid credentials")
	}
	if !found.Expires.IsZero() && a.now().After(found.Expires) {
		return nil, unauthorized("token expired")
	}
	return principal(found.Name, found.Scopes), nil
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
	for i := range a.basic {
		b := &a.basic[i]
		if subtle.ConstantTimeCompare([]byte(user), []byte(b.Username)) != 1 {
			continue
		}
		if checkPassword(b.PasswordHash, pass) {
			return principal(b.Username, b.Scopes), nil
		}
	}
	return nil, unauthorized("invalid credentials")
}

func checkPassword(hash, pass string) bool {
	if strings.HasPrefix(hash, "$2") {
		return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pass)) == nil
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
