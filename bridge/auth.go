package bridge

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/hashicorp/go-hclog"
	"golang.org/x/crypto/bcrypt"

	"github.com/scimbridge/scimbridge/bridge/config"
	"github.com/scimbridge/scimbridge/bridge/scim"
)

// Authenticator checks the credentials of one endpoint.
type Authenticator struct {
	// creds are the tokens and Basic users in force; SetCredentials
	// replaces them (reload on SIGHUP) while requests are served. A
	// request checks against the set it loaded first.
	creds     atomic.Pointer[credentials]
	now       func() time.Time
	dummySeed [32]byte

	limits *failureLimiter

	// verified remembers Basic credentials that passed their bcrypt check,
	// by the SHA-256 of user and password, for basicReuse: bcrypt costs
	// tens of milliseconds of CPU by design, and a client sends the same
	// credentials with every request. Nothing of it is logged or kept on
	// disk. checking holds the checks under way, so that concurrent
	// requests with the same credentials wait for one bcrypt.
	mu       sync.Mutex
	verified map[[32]byte]*verifiedBasic
	checking map[[32]byte]*basicCheck
}

// credentials are one endpoint's static credentials, never changed once
// built.
type credentials struct {
	tokens []config.Token
	basic  []config.Basic
	// The principal of each token and Basic user, built once.
	tokenPrincipals, basicPrincipals []*Principal
	// jwts verify JWT bearer tokens (jwt blocks; AcceptJWTs, Prepare).
	jwts []*jwtVerifier
	// oauth2 is the endpoint's authorization server (oauth2 blocks: its
	// clients, and the check of the access tokens it issued), or nil. It
	// is swapped with the others in one step (reload); a request to its
	// endpoints runs on the set it loaded first.
	oauth2 *oauth2Server

	// dummies[i] is a hash of a random password, of the kind and cost of
	// basic[i]'s: an unknown user name is checked against one of them,
	// picked by the name with dummySeed, so that it costs what a known one
	// costs and answers no faster (no user-name enumeration by timing).
	dummies []string
}

func newCredentials(tokens []config.Token, basic []config.Basic) *credentials {
	cs := &credentials{tokens: tokens, basic: basic}
	for _, t := range tokens {
		p := principal(t.Name, t.Scopes)
		p.Rate = t.Rate
		cs.tokenPrincipals = append(cs.tokenPrincipals, p)
	}
	for _, b := range basic {
		p := principal(b.Username, b.Scopes)
		p.Rate = b.Rate
		cs.basicPrincipals = append(cs.basicPrincipals, p)
	}
	cs.dummies = dummyHashes(basic)
	return cs
}

type verifiedBasic struct {
	// cs is the credential set p was verified against: after
	// SetCredentials the entry no longer counts.
	cs    *credentials
	p     *Principal
	until time.Time
	// from holds the addresses (limiter keys) the credentials succeeded
	// from, the latest maxVerifiedFrom: only these get in on them while the
	// address or the user name is limited.
	from [][32]byte
}

type basicCheck struct {
	done   chan struct{}
	p      *Principal
	reason string
}

const (
	basicReuse       = 5 * time.Minute
	maxVerifiedBasic = 1024
	maxVerifiedFrom  = 8
	maxTokenLength   = 4096
)

// Reasons a credential is refused, as logged and counted (label reason of
// scimbridge_auth_failures_total).
const (
	ReasonMissing       = "missing"            // no Authorization header
	ReasonMalformed     = "malformed"          // not a token, or Basic not base64 "user:password"
	ReasonScheme        = "unsupported_scheme" // neither Bearer nor Basic
	ReasonUnknownToken  = "unknown_token"      // matches no configured token
	ReasonExpired       = "expired"            // a configured token past its expires
	ReasonUnknownUser   = "unknown_user"       // a Basic user name that is not configured
	ReasonWrongPassword = "wrong_password"     // a configured Basic user name, another password
	ReasonLimited       = "limited"            // not checked: too many failures from the address or for the user name
	// ReasonInvalidJWT (jwt.go): a JWT no jwt block accepts.
)

// AuthError is a refused credential: the RFC 7644 error the client gets
// and, for the log and the metrics, why. It never holds the secret.
type AuthError struct {
	Reason string // one of the Reason constants
	Scheme string // "bearer", "basic" or "" (none or another)
	// Credential is the Basic user name sent, or the name of the expired
	// token; empty when no configured token matched.
	Credential string
	// Engaged says what this failure has just limited: "address", "user name".
	Engaged []string
	// RetryAfter is how long a ReasonLimited refusal lasts.
	RetryAfter time.Duration
	// Why says, for the log, why a JWT was refused by each jwt block
	// ("entra: wrong audience"); never the token.
	Why string
	err *scim.Error
}

func (e *AuthError) Error() string { return e.err.Error() }

// Unwrap returns the RFC 7644 error the client gets.
func (e *AuthError) Unwrap() error { return e.err }

// NewAuthenticator builds an Authenticator from an endpoint's credentials,
// with the default failure limits (see LimitFailures).
func NewAuthenticator(tokens []config.Token, basic []config.Basic) *Authenticator {
	def := config.DefaultSettings()
	a := &Authenticator{now: time.Now,
		limits:   newFailureLimiter(def.AuthFailureLimit, def.AuthFailureWindow),
		verified: map[[32]byte]*verifiedBasic{}, checking: map[[32]byte]*basicCheck{}}
	a.creds.Store(newCredentials(tokens, basic))
	_, _ = rand.Read(a.dummySeed[:])
	return a
}

// SetCredentials replaces the endpoint's tokens and Basic users, keeping
// its jwt blocks: requests that arrive after it are checked against the
// new ones only; Basic credentials verified before no longer count.
func (a *Authenticator) SetCredentials(tokens []config.Token, basic []config.Basic) {
	cs := newCredentials(tokens, basic)
	cur := a.creds.Load()
	cs.jwts, cs.oauth2 = cur.jwts, cur.oauth2
	a.swap(cs)
}

func (a *Authenticator) swap(cs *credentials) *credentials {
	a.mu.Lock()
	old := a.creds.Swap(cs)
	clear(a.verified)
	a.mu.Unlock()
	return old
}

// Credentials are an endpoint's credentials built by Prepare, not yet in
// force: Use puts them in force, Discard drops them.
type Credentials struct {
	cs *credentials
	// fresh are the verifiers Prepare built (the others are the ones in
	// force, kept): Discard stops their key fetching.
	fresh []*jwtVerifier
}

// Prepare builds a new set of credentials for the endpoint (reload): the
// tokens, Basic users and jwt blocks given. A jwt block with a jwks_url
// that is unchanged keeps its verifier and the keys it fetched; the others
// are built, their keys read (jwks_file) or fetched until ctx ends. Call
// Use or Discard with the result, one reload at a time.
func (a *Authenticator) Prepare(ctx context.Context, tokens []config.Token, basic []config.Basic, jwts []config.JWT, log hclog.Logger) (*Credentials, error) {
	cur := a.creds.Load()
	next := &Credentials{cs: newCredentials(tokens, basic)}
	for _, j := range jwts {
		if j.JWKSURL != "" {
			if i := slices.IndexFunc(cur.jwts, func(v *jwtVerifier) bool { return sameJWT(v.cfg, j) }); i >= 0 {
				next.cs.jwts = append(next.cs.jwts, cur.jwts[i])
				continue
			}
		}
		v, err := newJWTVerifier(ctx, j, log)
		if err != nil {
			next.Discard()
			return nil, err
		}
		next.cs.jwts = append(next.cs.jwts, v)
		next.fresh = append(next.fresh, v)
	}
	return next, nil
}

// Use puts prepared credentials in force in one step: a request that
// arrives after it is checked against them only, one authenticated
// before runs to its end. The key fetching of jwt blocks no longer in
// force stops.
func (a *Authenticator) Use(next *Credentials) {
	old := a.swap(next.cs)
	for _, v := range old.jwts {
		if !slices.Contains(next.cs.jwts, v) {
			v.close()
		}
	}
}

// oauth2Set is the endpoint's authorization server in force, or nil.
func (a *Authenticator) oauth2Set() *oauth2Server { return a.creds.Load().oauth2 }

// Discard drops prepared credentials that will not be used.
func (c *Credentials) Discard() {
	for _, v := range c.fresh {
		v.close()
	}
}

// LimitFailures sets how many failed authentications one address, or one
// Basic user name, may have within window before further attempts are
// refused unchecked (settings auth_failure_limit and auth_failure_window).
// Call it before serving.
func (a *Authenticator) LimitFailures(limit int, window time.Duration) {
	if limit >= 1 && window > 0 {
		a.limits = newFailureLimiter(limit, window)
	}
}

// dummyHashes makes, for each Basic credential, a hash of a random password
// of the same kind and bcrypt cost (one bcrypt per distinct cost, at start).
func dummyHashes(basic []config.Basic) []string {
	byCost := map[int]string{}
	out := make([]string, len(basic))
	for i, b := range basic {
		var pw [16]byte
		_, _ = rand.Read(pw[:])
		if !strings.HasPrefix(b.PasswordHash, "$2") {
			sum := sha256.Sum256(pw[:])
			out[i] = "sha256:" + hex.EncodeToString(sum[:])
			continue
		}
		cost, err := bcrypt.Cost([]byte(b.PasswordHash))
		if err != nil {
			cost = bcrypt.DefaultCost
		}
		if _, ok := byCost[cost]; !ok {
			h, err := bcrypt.GenerateFromPassword([]byte(hex.EncodeToString(pw[:])), cost)
			if err != nil {
				h, _ = bcrypt.GenerateFromPassword([]byte(hex.EncodeToString(pw[:])), bcrypt.DefaultCost)
			}
			byCost[cost] = string(h)
		}
		out[i] = byCost[cost]
	}
	return out
}

// Principal is who made a request.
type Principal struct {
	// Name identifies the credential: in logs, metrics and the rate
	// limiter's key (ratelimit.go).
	Name   string
	Scopes map[string]bool
	// Rate is the credential's own rate limit; nil: the server's.
	Rate *config.RateLimit
}

func unauthorized(detail string) *scim.Error {
	return scim.Errorf(401, "", "%s", detail)
}

// Authenticate checks an Authorization header value sent from addr (the
// client's IP address). Tokens are compared by their SHA-256 in constant
// time, against every configured token.
//
// Failures are counted per address and per Basic user name; past the limit
// an attempt is answered 429 without being checked (no bcrypt), except
// credentials known good without bcrypt: a configured bearer token, or
// Basic credentials verified in the last basicReuse from the same address.
// So a neighbour behind the same address, or someone guessing a user's
// password, cannot lock out a client that holds the right credentials.
// A request without credentials is neither counted nor limited (some HTTP
// clients send them only after a 401).
func (a *Authenticator) Authenticate(header, addr string) (*Principal, error) {
	header = strings.TrimSpace(header)
	if header == "" {
		return nil, &AuthError{Reason: ReasonMissing, err: unauthorized("authentication required")}
	}
	scheme, rest, hasScheme := strings.Cut(header, " ")
	switch {
	case hasScheme && strings.EqualFold(scheme, "Bearer"):
		return a.bearer(strings.TrimSpace(rest), addr)
	case hasScheme && strings.EqualFold(scheme, "Basic"):
		return a.basicAuth(strings.TrimSpace(rest), addr)
	case !hasScheme:
		// Some IdP set-ups send the bare token as the header value.
		return a.bearer(header, addr)
	}
	return nil, a.cheapFailure(a.limits.keys(addr, "", false), &AuthError{Reason: ReasonScheme}, "unsupported authorization scheme")
}

// cheapFailure answers a failure that took no password check: 429 when
// the address (or user name) is limited, else 401, counted.
func (a *Authenticator) cheapFailure(k limitKeys, e *AuthError, detail string) *AuthError {
	now := a.now()
	if wait, limited := a.limits.check(now, k); limited {
		return limitedError(e, wait)
	}
	e.Engaged = a.limits.fail(now, k)
	e.err = unauthorized(detail)
	return e
}

func limitedError(e *AuthError, wait time.Duration) *AuthError {
	secs := max(int(math.Ceil(wait.Seconds())), 1)
	e.Reason, e.RetryAfter, e.Engaged = ReasonLimited, wait, nil
	e.err = &scim.Error{Status: 429, RetryAfter: secs,
		Detail: "too many failed authentications from this address or for this user name; retry later"}
	return e
}

func (a *Authenticator) bearer(token, addr string) (*Principal, error) {
	// The limiter's keys (a parsed address and its SHA-256) only for a
	// failure: a valid token, every request of an IdP, costs neither.
	fail := func(e *AuthError, detail string) (*Principal, error) {
		return nil, a.cheapFailure(a.limits.keys(addr, "", false), e, detail)
	}
	if token == "" || len(token) > maxTokenLength {
		return fail(&AuthError{Reason: ReasonMalformed, Scheme: "bearer"}, "invalid credentials")
	}
	cs := a.creds.Load()
	sum := sha256.Sum256([]byte(token))
	found := -1
	for i := range cs.tokens {
		if subtle.ConstantTimeCompare(sum[:], cs.tokens[i].Hash[:]) == 1 && found < 0 {
			found = i
		}
	}
	if found < 0 && len(cs.jwts) > 0 && looksLikeJWT(token) {
		p, why := cs.verifyJWT(token)
		if p == nil {
			return fail(&AuthError{Reason: ReasonInvalidJWT, Scheme: "bearer", Why: why}, "invalid credentials")
		}
		return p, nil
	}
	if found < 0 && cs.oauth2 != nil && strings.HasPrefix(token, oauth2AccessPrefix) {
		p, e, err := cs.oauth2.bearer(token, a.now())
		if e != nil {
			return nil, a.cheapFailure(a.limits.keys(addr, "", false), e, e.err.Detail)
		}
		return p, err
	}
	if found < 0 {
		return fail(&AuthError{Reason: ReasonUnknownToken, Scheme: "bearer"}, "invalid credentials")
	}
	if exp := cs.tokens[found].Expires; !exp.IsZero() && a.now().After(exp) {
		return fail(&AuthError{Reason: ReasonExpired, Scheme: "bearer", Credential: cs.tokens[found].Name}, "token expired")
	}
	return cs.tokenPrincipals[found], nil
}

func (a *Authenticator) basicAuth(enc, addr string) (*Principal, error) {
	raw, err := base64.StdEncoding.DecodeString(enc)
	user, pass, ok := strings.Cut(string(raw), ":")
	if err != nil || !ok {
		k := a.limits.keys(addr, "", false)
		return nil, a.cheapFailure(k, &AuthError{Reason: ReasonMalformed, Scheme: "basic"}, "invalid credentials")
	}
	cs := a.creds.Load()
	k := a.limits.keys(addr, user, true)
	key := sha256.Sum256([]byte(user + "\x00" + pass))
	now := a.now()
	wait, limited := a.limits.check(now, k)
	// The cache, the checks under way and (in the leader's section below)
	// the end of a check are looked at under one lock, so that no request
	// slips between a check's end and its result being remembered.
	a.mu.Lock()
	if p := a.rememberedLocked(cs, key, k, now, limited); p != nil {
		a.mu.Unlock()
		return p, nil
	}
	if limited {
		a.mu.Unlock()
		return nil, limitedError(&AuthError{Scheme: "basic", Credential: user}, wait)
	}
	if len(cs.basic) == 0 {
		// No Basic user at all: no name to find out, no bcrypt to spend.
		a.mu.Unlock()
		return nil, a.cheapFailure(k, &AuthError{Reason: ReasonUnknownUser, Scheme: "basic", Credential: user}, "invalid credentials")
	}
	if c := a.checking[key]; c != nil {
		a.mu.Unlock()
		<-c.done
		if c.p != nil {
			a.mu.Lock()
			a.rememberLocked(cs, key, c.p, k, a.now())
			a.mu.Unlock()
			return c.p, nil
		}
		return nil, &AuthError{Reason: c.reason, Scheme: "basic", Credential: user,
			Engaged: a.limits.fail(a.now(), k), err: unauthorized("invalid credentials")}
	}
	if wait, ok := a.limits.begin(now, k); !ok {
		a.mu.Unlock()
		return nil, limitedError(&AuthError{Scheme: "basic", Credential: user}, wait)
	}
	c := &basicCheck{done: make(chan struct{})}
	a.checking[key] = c
	a.mu.Unlock()

	c.p, c.reason = a.checkBasic(cs, user, pass)
	a.mu.Lock()
	delete(a.checking, key)
	if c.p != nil {
		a.rememberLocked(cs, key, c.p, k, a.now())
	}
	a.mu.Unlock()
	close(c.done)
	engaged := a.limits.end(a.now(), k, c.p == nil)
	if c.p != nil {
		return c.p, nil
	}
	return nil, &AuthError{Reason: c.reason, Scheme: "basic", Credential: user, Engaged: engaged, err: unauthorized("invalid credentials")}
}

// checkBasic runs the password check: against each credential of the user
// name (several allow a password change without downtime), or against a
// dummy hash when the name is unknown.
func (a *Authenticator) checkBasic(cs *credentials, user, pass string) (*Principal, string) {
	known := false
	for i := range cs.basic {
		b := &cs.basic[i]
		if subtle.ConstantTimeCompare([]byte(user), []byte(b.Username)) != 1 {
			continue
		}
		known = true
		if checkPassword(b.PasswordHash, pass) {
			return cs.basicPrincipals[i], ""
		}
	}
	if known {
		return nil, ReasonWrongPassword
	}
	pick := sha256.Sum256(append(a.dummySeed[:], user...))
	checkPassword(cs.dummies[binary.BigEndian.Uint64(pick[:8])%uint64(len(cs.dummies))], pass)
	return nil, ReasonUnknownUser
}

// rememberedLocked returns the principal of verified credentials, if any;
// while limited, only to an address they succeeded from.
func (a *Authenticator) rememberedLocked(cs *credentials, key [32]byte, k limitKeys, now time.Time, limited bool) *Principal {
	v, ok := a.verified[key]
	if !ok || !now.Before(v.until) || v.cs != cs {
		return nil
	}
	if limited && !slices.Contains(v.from, k.sums[byAddress]) {
		return nil
	}
	v.addFrom(k.sums[byAddress])
	return v.p
}

func (a *Authenticator) rememberLocked(cs *credentials, key [32]byte, p *Principal, k limitKeys, now time.Time) {
	if cs != a.creds.Load() {
		return // verified against credentials since replaced
	}
	v, ok := a.verified[key]
	if !ok || !now.Before(v.until) || v.cs != cs {
		if len(a.verified) >= maxVerifiedBasic {
			clear(a.verified)
		}
		v = &verifiedBasic{cs: cs, p: p, until: now.Add(basicReuse)}
		a.verified[key] = v
	}
	v.addFrom(k.sums[byAddress])
}

func (v *verifiedBasic) addFrom(addr [32]byte) {
	if i := slices.Index(v.from, addr); i >= 0 {
		v.from = slices.Delete(v.from, i, i+1)
	} else if len(v.from) >= maxVerifiedFrom {
		v.from = slices.Delete(v.from, 0, 1)
	}
	v.from = append(v.from, addr)
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

// authRefused logs and counts a refused credential, never its secret:
// failures at info (address, credential name, reason), a limit that
// engages at warn; refusals of requests without credentials (some clients
// send them only after a 401) and of limited ones at debug, so that a
// flood does not flood the log. Each is counted by reason.
func (s *Server) authRefused(c *fiber.Ctx, ep *Endpoint, addr string, err error) {
	var e *AuthError
	if !errors.As(err, &e) {
		s.Metrics.AuthFailure(ep.Name, "other")
		return
	}
	s.Metrics.AuthFailure(ep.Name, e.Reason)
	log := logger(c)
	args := []any{"endpoint", ep.Name, "address", addr, "scheme", e.Scheme, "credential", credentialForLog(e), "reason", e.Reason}
	switch e.Reason {
	case ReasonMissing:
		log.Debug("authentication refused", args...)
	case ReasonLimited:
		log.Debug("authentication refused", append(args, "retry_after", e.RetryAfter.Round(time.Second))...)
	case ReasonInvalidJWT:
		log.Info("authentication failed", append(args, "why", e.Why)...)
	default:
		log.Info("authentication failed", args...)
	}
	if len(e.Engaged) > 0 {
		log.Warn("too many failed authentications: further attempts are refused unchecked (429) until the window ends",
			"endpoint", ep.Name, "address", addr, "credential", credentialForLog(e), "limited", strings.Join(e.Engaged, " and "),
			"limit", s.Settings.AuthFailureLimit, "window", s.Settings.AuthFailureWindow)
	}
}

// credentialForLog names the credential of a refusal: the Basic user name
// sent (at most 64 bytes of it) or the token's name.
func credentialForLog(e *AuthError) string {
	switch {
	case e.Credential != "":
		name := e.Credential
		if len(name) > 64 {
			cut := 64
			for cut > 0 && !utf8.RuneStart(name[cut]) {
				cut--
			}
			name = name[:cut] + "..."
		}
		return name
	case e.Scheme == "bearer" && (e.Reason == ReasonUnknownToken || e.Reason == ReasonLimited):
		return "(matched no configured token)"
	}
	return "(none)"
}
