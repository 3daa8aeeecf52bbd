package config

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/go-sql-driver/mysql"
	"github.com/hashicorp/hcl/v2"

	"github.com/scimbridge/scimbridge/backends"
)

// OAuth2 is an OAuth 2.0 client of an endpoint's authorization server
// (Okta's "OAuth 2" authentication mode): the authorization code grant,
// with an admin's consent, and refresh tokens. The access tokens it issues
// are bearer credentials of the endpoint, with Scopes.
type OAuth2 struct {
	// Name is the block's label: the credential name in logs, metrics and
	// the audit trail ("oauth2:NAME").
	Name     string
	ClientID string
	// SecretHash is the SHA-256 of the client secret.
	SecretHash   [32]byte
	RedirectURIs []string
	Scopes       []string
	// Admins may consent on the authorization page.
	Admins     []Basic
	AccessTTL  time.Duration
	RefreshTTL time.Duration
	CodeTTL    time.Duration
	// Store is the token store as written; StoreDriver ("sqlite", "pgx",
	// "mysql") and StoreDSN are what database/sql opens.
	Store, StoreDriver, StoreDSN string
	// Disabled: the secret is empty (an unset variable); the block is in
	// Endpoint.OAuth2Disabled, not served.
	Disabled bool
	Range    hcl.Range
}

// OAuth2 token lifetimes: defaults and bounds.
const (
	DefaultOAuth2AccessTTL  = time.Hour
	DefaultOAuth2RefreshTTL = 720 * time.Hour
	DefaultOAuth2CodeTTL    = time.Minute
)

type oauth2Block struct {
	Name             string       `hcl:"name,label"`
	ClientID         string       `hcl:"client_id"`
	ClientSecret     *string      `hcl:"client_secret,optional"`
	ClientSecretHash *string      `hcl:"client_secret_hash,optional"`
	RedirectURIs     []string     `hcl:"redirect_uris"`
	Scopes           []string     `hcl:"scopes,optional"`
	AccessTTL        *string      `hcl:"access_token_ttl,optional"`
	RefreshTTL       *string      `hcl:"refresh_token_ttl,optional"`
	CodeTTL          *string      `hcl:"code_ttl,optional"`
	Store            string       `hcl:"store"`
	Admins           []basicBlock `hcl:"admin,block"`
	SecretR          hcl.Range    `hcl:"client_secret,attr_range"`
	StoreR           hcl.Range    `hcl:"store,attr_range"`
	RedirectR        hcl.Range    `hcl:"redirect_uris,attr_range"`
	DefRange         hcl.Range    `hcl:",def_range"`
}

func decodeOAuth2(ob oauth2Block) (*OAuth2, hcl.Diagnostics) {
	o := &OAuth2{Name: ob.Name, ClientID: ob.ClientID, AccessTTL: DefaultOAuth2AccessTTL,
		RefreshTTL: DefaultOAuth2RefreshTTL, CodeTTL: DefaultOAuth2CodeTTL, Range: ob.DefRange}
	scopes, diags := checkScopes(ob.Scopes, ob.DefRange)
	o.Scopes = scopes
	bad := func(rng hcl.Range, summary, detail string) (*OAuth2, hcl.Diagnostics) {
		if rng.Filename == "" {
			rng = ob.DefRange
		}
		return nil, append(diags, backends.ConfigDiag(rng, summary, fmt.Sprintf("oauth2 %q: %s", ob.Name, detail)))
	}
	if o.ClientID == "" || len(o.ClientID) > 255 || strings.IndexFunc(o.ClientID, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) >= 0 {
		return bad(ob.DefRange, "Invalid client_id", "client_id must be 1 to 255 printable characters without spaces (what the admin enters as Okta's client ID).")
	}
	switch {
	case ob.ClientSecret != nil && ob.ClientSecretHash != nil:
		return bad(ob.DefRange, "Invalid oauth2 block", "set one of client_secret and client_secret_hash, not both.")
	case ob.ClientSecretHash != nil && *ob.ClientSecretHash != "":
		b, err := hex.DecodeString(strings.TrimPrefix(*ob.ClientSecretHash, "sha256:"))
		if err != nil || len(b) != 32 || !strings.HasPrefix(*ob.ClientSecretHash, "sha256:") {
			return bad(ob.DefRange, "Invalid client_secret_hash", "client_secret_hash must be \"sha256:\" and 64 hex digits, as `scimbridge token create` prints for a new secret.")
		}
		copy(o.SecretHash[:], b)
	case ob.ClientSecret != nil && *ob.ClientSecret != "":
		if d := weakSecret(*ob.ClientSecret, fmt.Sprintf("the client_secret of oauth2 %q", ob.Name), ob.SecretR, ob.DefRange); d != nil {
			return nil, append(diags, d)
		}
		o.SecretHash = sha256.Sum256([]byte(*ob.ClientSecret))
	case ob.ClientSecret == nil && ob.ClientSecretHash == nil:
		return bad(ob.DefRange, "Invalid oauth2 block", "set client_secret (e.g. env(\"...\")) or client_secret_hash.")
	default:
		// An empty secret (an unset environment variable) disables the
		// client, as an empty token value does; the rest is checked.
		o.Disabled = true
	}
	if len(ob.RedirectURIs) == 0 {
		return bad(ob.RedirectR, "Invalid redirect_uris", "list the redirect URIs the client may use (Okta's: https://system-admin.okta.com/admin/app/cpc/<app name>/oauth/callback, or okta-emea.com, oktapreview.com); they are compared exactly.")
	}
	for _, r := range ob.RedirectURIs {
		u, err := url.Parse(r)
		switch {
		case err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "":
			return bad(ob.RedirectR, "Invalid redirect URI", fmt.Sprintf("%q is not an absolute URL.", r))
		case u.Fragment != "" || strings.Contains(r, "#"):
			return bad(ob.RedirectR, "Invalid redirect URI", fmt.Sprintf("%q has a fragment; redirect URIs may not (RFC 6749, 3.1.2).", r))
		case u.Scheme != "https" && !(u.Scheme == "http" && isLoopbackHost(u.Hostname())):
			return bad(ob.RedirectR, "Invalid redirect URI", fmt.Sprintf("%q must be https:// (http:// only to a loopback address): the authorization code travels in it.", r))
		}
	}
	o.RedirectURIs = ob.RedirectURIs
	for _, d := range []struct {
		name     string
		p        *string
		dst      *time.Duration
		min, max time.Duration
	}{
		{"access_token_ttl", ob.AccessTTL, &o.AccessTTL, time.Minute, 24 * time.Hour},
		{"refresh_token_ttl", ob.RefreshTTL, &o.RefreshTTL, time.Hour, 8760 * time.Hour},
		{"code_ttl", ob.CodeTTL, &o.CodeTTL, 10 * time.Second, 10 * time.Minute},
	} {
		if d.p == nil {
			continue
		}
		v, err := time.ParseDuration(*d.p)
		if err != nil || v < d.min || v > d.max {
			return bad(ob.DefRange, "Invalid duration", fmt.Sprintf("%s = %q must be a duration between %s and %s.", d.name, *d.p, d.min, d.max))
		}
		*d.dst = v
	}
	if o.RefreshTTL <= o.AccessTTL {
		return bad(ob.DefRange, "Invalid duration", "refresh_token_ttl must be longer than access_token_ttl.")
	}
	driver, dsn, err := ParseOAuth2Store(ob.Store)
	if err != nil {
		return bad(ob.StoreR, "Invalid store", err.Error())
	}
	o.Store, o.StoreDriver, o.StoreDSN = ob.Store, driver, dsn
	for _, ab := range ob.Admins {
		if ab.Scopes != nil {
			return bad(ab.DefRange, "Invalid admin block", "an admin has no scopes: the tokens get the oauth2 block's scopes.")
		}
		b, d := decodeBasic(ab)
		diags = append(diags, d...)
		if b != nil {
			o.Admins = append(o.Admins, *b)
		}
	}
	if len(o.Admins) == 0 && !diags.HasErrors() {
		return bad(ob.DefRange, "No admin", "add an admin \"NAME\" { password_hash = \"...\" } block: the admin who consents on the authorization page signs in with it.")
	}
	if diags.HasErrors() {
		return nil, diags
	}
	return o, diags
}

// ParseOAuth2Store splits an oauth2 block's store into a database/sql
// driver name and DSN: "sqlite:PATH" or "sqlite://PATH" (a file, created
// when missing), "postgres://..." or "postgresql://..." (a PostgreSQL
// URL), "mysql://user:pass@host:3306/db" (or mariadb://; the driver's
// form user:pass@tcp(host:3306)/db after mysql:// too).
func ParseOAuth2Store(s string) (driver, dsn string, err error) {
	scheme, rest, ok := strings.Cut(s, ":")
	switch {
	case !ok || rest == "":
	case scheme == "sqlite":
		path := strings.TrimPrefix(rest, "//")
		if path == "" || strings.ContainsAny(path, "?#") {
			break
		}
		return "sqlite", path, nil
	case scheme == "postgres" || scheme == "postgresql":
		if u, err := url.Parse(s); err == nil && u.Host != "" {
			return "pgx", s, nil
		}
	case scheme == "mysql" || scheme == "mariadb":
		d := strings.TrimPrefix(rest, "//")
		if strings.Contains(d, "@tcp(") || strings.Contains(d, "@unix(") {
			if c, err := mysql.ParseDSN(d); err == nil && c.DBName != "" {
				return "mysql", d, nil
			}
			break
		}
		u, err := url.Parse(s)
		if err != nil || u.Host == "" || strings.Trim(u.Path, "/") == "" {
			break
		}
		c, err := mysql.ParseDSN("/" + strings.TrimPrefix(u.Path, "/") + "?" + u.RawQuery)
		if err != nil {
			break
		}
		c.Net, c.Addr = "tcp", u.Host
		if u.Port() == "" {
			c.Addr += ":3306"
		}
		if u.User != nil {
			c.User = u.User.Username()
			c.Passwd, _ = u.User.Password()
		}
		return "mysql", c.FormatDSN(), nil
	}
	return "", "", fmt.Errorf("store %q: use \"sqlite:///var/lib/scimbridge/oauth2.db\" (a file), a \"postgres://user:password@host/db\" URL "+
		"or \"mysql://user:password@host:3306/db\", so that replicas share the tokens", s)
}

// oauth2Unique refuses two oauth2 blocks of an endpoint with one name or
// client_id, or with different stores.
func oauth2Unique(list []OAuth2) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for i := range list {
		if slices.ContainsFunc(list[:i], func(o OAuth2) bool { return o.ClientID == list[i].ClientID || o.Name == list[i].Name }) {
			diags = append(diags, backends.ConfigDiag(list[i].Range, "Duplicate oauth2 client",
				fmt.Sprintf("oauth2 %q: another oauth2 block of the endpoint has the same name or client_id %q.", list[i].Name, list[i].ClientID)))
		}
		if list[i].Store != list[0].Store {
			diags = append(diags, backends.ConfigDiag(list[i].Range, "Several oauth2 stores",
				fmt.Sprintf("oauth2 %q: the oauth2 blocks of one endpoint share one store; use %q here too.", list[i].Name, list[0].Store)))
		}
	}
	return diags
}
