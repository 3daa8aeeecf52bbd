package config

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/scimbridge/scimbridge/backends"
)

// JWT accepts bearer tokens that are JSON Web Tokens signed by an
// identity provider (Microsoft Entra ID, or any issuer with a JWKS):
// signature against the issuer's keys, issuer, audience, expiry and
// not-before, and the required claims.
type JWT struct {
	Name string
	// JWKSURL is fetched, cached and refreshed every JWKSRefresh (and when
	// a token names a key id not seen yet, at most every 5 minutes).
	// HTTPS, or HTTP to a loopback address.
	JWKSURL string
	// JWKSFile is a JWK Set read at start (and at reload).
	JWKSFile    string
	JWKSRefresh time.Duration
	Issuer      string
	Audiences   []string
	// Algorithms are the signing algorithms accepted; only asymmetric ones.
	Algorithms []string
	// RequiredClaims must be in the token with exactly these values
	// (Entra: appid or azp, the IdP application's client id).
	RequiredClaims map[string]string
	Leeway         time.Duration
	Scopes         []string
	// Rate is the block's own rate limit; nil: the server's.
	Rate  *RateLimit
	Range hcl.Range
}

// JWTAlgorithms are the algorithms a jwt block may accept: asymmetric
// signatures only, so that a public key can never be used as an HMAC
// secret (the RS/HS confusion) and "none" never passes.
var JWTAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

type jwtBlock struct {
	Name           string            `hcl:"name,label"`
	JWKSURL        *string           `hcl:"jwks_url,optional"`
	JWKSFile       *string           `hcl:"jwks_file,optional"`
	JWKSRefresh    *string           `hcl:"jwks_refresh,optional"`
	Issuer         string            `hcl:"issuer"`
	Audience       []string          `hcl:"audience"`
	Algorithms     []string          `hcl:"algorithms,optional"`
	RequiredClaims map[string]string `hcl:"required_claims,optional"`
	Leeway         *string           `hcl:"leeway,optional"`
	Scopes         []string          `hcl:"scopes,optional"`
	Rate           *int              `hcl:"rate_limit,optional"`
	Burst          *int              `hcl:"rate_limit_burst,optional"`
	DefRange       hcl.Range         `hcl:",def_range"`
}

func decodeJWT(jb jwtBlock) (*JWT, hcl.Diagnostics) {
	j := &JWT{Name: jb.Name, Issuer: jb.Issuer, Audiences: jb.Audience, RequiredClaims: jb.RequiredClaims,
		JWKSRefresh: time.Hour, Leeway: time.Minute, Algorithms: []string{"RS256"}, Range: jb.DefRange}
	scopes, diags := checkScopes(jb.Scopes, jb.DefRange)
	j.Scopes = scopes
	rate, d := decodeRate(jb.Rate, jb.Burst, jb.DefRange)
	if d != nil {
		return nil, append(diags, d)
	}
	j.Rate = rate
	bad := func(summary, detail string) (*JWT, hcl.Diagnostics) {
		return nil, append(diags, backends.ConfigDiag(jb.DefRange, summary, fmt.Sprintf("jwt %q: %s", jb.Name, detail)))
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	j.JWKSURL, j.JWKSFile = str(jb.JWKSURL), str(jb.JWKSFile)
	switch {
	case (j.JWKSURL == "") == (j.JWKSFile == ""):
		return bad("Invalid jwt block", "set exactly one of jwks_url and jwks_file (the issuer's signing keys).")
	case j.JWKSURL != "":
		u, err := url.Parse(j.JWKSURL)
		if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopbackHost(u.Hostname()))) {
			return bad("Invalid jwks_url", fmt.Sprintf("%q must be an https:// URL (http:// only to a loopback address): keys fetched in clear could be replaced on the way.", j.JWKSURL))
		}
	}
	if strings.TrimSpace(j.Issuer) == "" {
		return bad("Invalid jwt block", "issuer must name the token issuer (the iss claim), e.g. https://sts.windows.net/<tenant id>/.")
	}
	if len(j.Audiences) == 0 || slices.Contains(j.Audiences, "") {
		return bad("Invalid jwt block", "audience must list the values the aud claim may have (Entra: the application's client id or App ID URI).")
	}
	if len(jb.Algorithms) > 0 {
		for _, a := range jb.Algorithms {
			if !slices.Contains(JWTAlgorithms, a) {
				return bad("Invalid algorithm", fmt.Sprintf("%q is not accepted; use asymmetric algorithms only: %s.", a, strings.Join(JWTAlgorithms, ", ")))
			}
		}
		j.Algorithms = jb.Algorithms
	}
	for k, v := range j.RequiredClaims {
		if k == "" || v == "" {
			return bad("Invalid required_claims", "each required claim needs a name and a value.")
		}
	}
	for _, d := range []struct {
		name string
		p    *string
		dst  *time.Duration
		min  time.Duration
		max  time.Duration
	}{{"jwks_refresh", jb.JWKSRefresh, &j.JWKSRefresh, time.Minute, 24 * time.Hour}, {"leeway", jb.Leeway, &j.Leeway, 0, 10 * time.Minute}} {
		if d.p == nil {
			continue
		}
		v, err := time.ParseDuration(*d.p)
		if err != nil || v < d.min || v > d.max {
			return bad("Invalid duration", fmt.Sprintf("%s = %q must be a duration between %s and %s.", d.name, *d.p, d.min, d.max))
		}
		*d.dst = v
	}
	return j, diags
}

func isLoopbackHost(h string) bool {
	return h == "localhost" || h == "127.0.0.1" || h == "::1" || strings.HasPrefix(h, "127.")
}
