package bridge

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-oauth2/oauth2/v4"
	oerrors "github.com/go-oauth2/oauth2/v4/errors"
	"github.com/go-oauth2/oauth2/v4/manage"
	"github.com/go-oauth2/oauth2/v4/models"
	"github.com/go-oauth2/oauth2/v4/server"
	"github.com/gofiber/fiber/v2"
	"github.com/hashicorp/go-hclog"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/scimbridge/scimbridge/bridge/config"
	"github.com/scimbridge/scimbridge/bridge/scim"
)

// The OAuth 2.0 authorization server of an endpoint (oauth2 blocks):
// Okta's "OAuth 2" authentication mode. The protocol is the go-oauth2
// library's (authorization code grant, refresh, PKCE); this file adds the
// admin's consent page, client authentication by either method of RFC
// 6749 2.3.1, RFC 7009 revocation, exact redirect URIs, the required
// state, and the bearer check of the access tokens issued.

// ReasonInvalidClient: a wrong client id or secret at the token or
// revocation endpoint (reason label of scimbridge_auth_failures_total).
const ReasonInvalidClient = "invalid_client"

// OAuth2Paths are the paths of an endpoint's authorization server, under
// its base path.
const (
	OAuth2AuthorizePath = "/oauth2/authorize"
	OAuth2TokenPath     = "/oauth2/token"
	OAuth2RevokePath    = "/oauth2/revoke"
)

// OAuth2URLs are the URLs an admin enters in Okta for an endpoint: the
// public URL (public_url, or "" for paths alone) and the base path.
func OAuth2URLs(publicURL, basePath string) (authorize, token, revoke string) {
	b := strings.TrimRight(publicURL, "/") + basePath
	return b + OAuth2AuthorizePath, b + OAuth2TokenPath, b + OAuth2RevokePath
}

// oauth2Server is one endpoint's authorization server.
type oauth2Server struct {
	endpoint string
	store    *oauth2Store
	clients  map[string]*oauth2Client // by client_id
	log      hclog.Logger
}

// oauth2Client is one oauth2 block: an oauth2.ClientInfo, and the
// library's server configured for it (its lifetimes and redirect URIs).
type oauth2Client struct {
	cfg       config.OAuth2
	principal string // "oauth2:NAME"
	// key stands for the client as configured: its endpoint, client_id
	// and secret. Each token row carries the key of the client it was
	// issued to; a token whose key is not its client's key now (the
	// secret changed, or the block was removed and added back with
	// another secret) is refused.
	key     string
	scopes  map[string]bool
	srv     *server.Server
	csrfKey [32]byte
	// dummies: see credentials.dummies.
	dummies []string
}

func (c *oauth2Client) GetID() string     { return c.cfg.ClientID }
func (c *oauth2Client) GetSecret() string { return "" }
func (c *oauth2Client) GetDomain() string { return c.cfg.RedirectURIs[0] }
func (c *oauth2Client) IsPublic() bool    { return false }
func (c *oauth2Client) GetUserID() string { return "" }

// VerifyPassword compares the SHA-256 of a client secret in constant
// time (oauth2.ClientPasswordVerifier).
func (c *oauth2Client) VerifyPassword(secret string) bool {
	sum := sha256.Sum256([]byte(secret))
	return secret != "" && subtle.ConstantTimeCompare(sum[:], c.cfg.SecretHash[:]) == 1
}

type oauth2ClientStore struct{ c *oauth2Client }

func (s oauth2ClientStore) GetByID(_ context.Context, id string) (oauth2.ClientInfo, error) {
	if id == s.c.cfg.ClientID {
		return s.c, nil
	}
	return nil, nil
}

type oauth2CodeGen struct{}

func (oauth2CodeGen) Token(context.Context, *oauth2.GenerateBasic) (string, error) {
	return randomToken(oauth2CodePrefix)
}

type oauth2TokenGen struct{}

func (oauth2TokenGen) Token(_ context.Context, _ *oauth2.GenerateBasic, refresh bool) (string, string, error) {
	a, err := randomToken(oauth2AccessPrefix)
	if err != nil || !refresh {
		return a, "", err
	}
	r, err := randomToken(oauth2RefreshPrefix)
	return a, r, err
}

type consentKey struct{}

// oauth2ClientKey is oauth2Client.key: not the secret's hash itself, so
// that the store holds nothing a secret can be checked against.
func oauth2ClientKey(endpoint string, cfg config.OAuth2) string {
	sum := sha256.Sum256(append([]byte("scimbridge oauth2 client key\x00"+endpoint+"\x00"+cfg.ClientID+"\x00"), cfg.SecretHash[:]...))
	return hex.EncodeToString(sum[:16])
}

// newOAuth2Server builds an endpoint's authorization server: one per
// start or reload, on a store of its own over the shared database.
func newOAuth2Server(endpoint string, cfgs []config.OAuth2, d *oauth2DB, log hclog.Logger) *oauth2Server {
	store := &oauth2Store{d: d, endpoint: endpoint, log: log, now: time.Now, keys: map[string]string{}}
	o := &oauth2Server{endpoint: endpoint, store: store, clients: map[string]*oauth2Client{}, log: log}
	for _, cfg := range cfgs {
		cl := &oauth2Client{cfg: cfg, principal: "oauth2:" + cfg.Name, key: oauth2ClientKey(endpoint, cfg), scopes: map[string]bool{}, dummies: dummyHashes(cfg.Admins)}
		store.keys[cfg.ClientID] = cl.key
		for _, s := range cfg.Scopes {
			cl.scopes[s] = true
		}
		// The consent form's CSRF token is signed with a key every replica
		// derives alike, so that the form may come back to another one.
		cl.csrfKey = sha256.Sum256(append([]byte("scimbridge oauth2 consent\x00"+endpoint+"\x00"+cfg.ClientID+"\x00"), cfg.SecretHash[:]...))

		m := manage.NewManager()
		m.MapTokenStorage(store)
		m.MapClientStorage(oauth2ClientStore{cl})
		m.MapAuthorizeGenerate(oauth2CodeGen{})
		m.MapAccessGenerate(oauth2TokenGen{})
		m.SetAuthorizeCodeExp(cfg.CodeTTL)
		m.SetAuthorizeCodeTokenCfg(&manage.Config{AccessTokenExp: cfg.AccessTTL, RefreshTokenExp: cfg.RefreshTTL, IsGenerateRefresh: true})
		m.SetRefreshTokenCfg(&manage.RefreshingConfig{AccessTokenExp: cfg.AccessTTL, RefreshTokenExp: cfg.RefreshTTL,
			IsGenerateRefresh: true, IsResetRefreshTime: true, IsRemoveAccess: true, IsRemoveRefreshing: true})
		uris := cfg.RedirectURIs
		m.SetValidateURIHandler(func(_, redirect string) error {
			if slices.Contains(uris, redirect) {
				return nil
			}
			return oerrors.ErrInvalidRedirectURI
		})

		sc := server.NewConfig()
		sc.AllowedResponseTypes = []oauth2.ResponseType{oauth2.Code}
		sc.AllowedGrantTypes = []oauth2.GrantType{oauth2.AuthorizationCode, oauth2.Refreshing}
		sc.AllowedCodeChallengeMethods = []oauth2.CodeChallengeMethod{oauth2.CodeChallengeS256}
		srv := server.NewServer(sc, m)
		srv.ClientInfoHandler = cl.credentials
		srv.UserAuthorizationHandler = func(_ http.ResponseWriter, r *http.Request) (string, error) {
			if u, _ := r.Context().Value(consentKey{}).(string); u != "" {
				return u, nil
			}
			return "", oerrors.ErrAccessDenied
		}
		srv.AuthorizeScopeHandler = func(_ http.ResponseWriter, r *http.Request) (string, error) {
			return cl.grantScope(r.Form.Get("scope"))
		}
		srv.RefreshingScopeHandler = func(tgr *oauth2.TokenGenerateRequest, old string) (bool, error) {
			granted := strings.Fields(old)
			for _, s := range strings.Fields(tgr.Scope) {
				if !slices.Contains(granted, s) {
					return false, nil
				}
			}
			return true, nil
		}
		// The library loads a refresh token whatever client presents it.
		srv.RefreshingValidationHandler = func(ti oauth2.TokenInfo) (bool, error) {
			if ti.GetClientID() != cfg.ClientID || !cl.issuedTo(ti) {
				return false, oerrors.ErrInvalidGrant
			}
			return true, nil
		}
		srv.InternalErrorHandler = func(err error) *oerrors.Response {
			switch err {
			case oerrors.ErrInvalidAuthorizeCode, oerrors.ErrMissingCodeVerifier, oerrors.ErrInvalidCodeChallenge,
				oerrors.ErrInvalidRedirectURI, oerrors.ErrInvalidRefreshToken, oerrors.ErrExpiredRefreshToken:
				return &oerrors.Response{Error: oerrors.ErrInvalidGrant, Description: oerrors.Descriptions[oerrors.ErrInvalidGrant]}
			}
			log.Error("oauth2 token request failed", "client_id", cfg.ClientID, "error", err)
			return nil
		}
		srv.ResponseErrorHandler = func(re *oerrors.Response) {
			switch re.Error.Error() {
			case "invalid_client":
				re.StatusCode = 401
				re.SetHeader("WWW-Authenticate", `Basic realm="scimbridge oauth2"`)
			case "server_error":
				re.StatusCode = 500
			case "temporarily_unavailable":
				re.StatusCode = 503
			default: // invalid_request, invalid_grant, unauthorized_client, unsupported_grant_type, invalid_scope
				re.StatusCode = 400
			}
		}
		cl.srv = srv
		o.clients[cfg.ClientID] = cl
	}
	return o
}

// issuedTo says whether a token was issued to the client as configured
// now (its key).
func (c *oauth2Client) issuedTo(ti oauth2.TokenInfo) bool {
	t, ok := ti.(*models.Token)
	return ok && t.Extension != nil && subtle.ConstantTimeCompare([]byte(t.Extension.Get(clientKeyField)), []byte(c.key)) == 1
}

// credentials are the client id and secret of a token or revocation
// request: HTTP Basic (client_secret_basic, whose parts are form-encoded
// per RFC 6749 2.3.1; a secret that only matches as sent is taken as
// sent) or the body (client_secret_post), not both.
func (c *oauth2Client) credentials(r *http.Request) (string, string, error) {
	return oauth2ClientCredentials(r, c)
}

func oauth2ClientCredentials(r *http.Request, c *oauth2Client) (string, string, error) {
	if r.URL.Query().Has("client_secret") {
		return "", "", oerrors.ErrInvalidRequest
	}
	if u, p, ok := r.BasicAuth(); ok {
		if r.PostForm.Get("client_secret") != "" {
			return "", "", oerrors.ErrInvalidRequest
		}
		id, secret := u, p
		if v, err := url.QueryUnescape(u); err == nil {
			id = v
		}
		if v, err := url.QueryUnescape(p); err == nil && (c == nil || !c.VerifyPassword(p)) {
			secret = v
		}
		if f := r.PostForm.Get("client_id"); f != "" && f != id {
			return "", "", oerrors.ErrInvalidRequest
		}
		return id, secret, nil
	}
	if r.Header.Get("Authorization") != "" {
		return "", "", oerrors.ErrInvalidClient
	}
	id := r.PostForm.Get("client_id")
	if id == "" {
		return "", "", oerrors.ErrInvalidClient
	}
	return id, r.PostForm.Get("client_secret"), nil
}

// grantScope is the scope granted for a requested one: the client's
// scopes when none is requested; otherwise those requested, each of which
// the client must have. Names that are no SCIM scope (an IdP's own) are
// ignored (RFC 6749 3.3).
func (c *oauth2Client) grantScope(requested string) (string, error) {
	var out []string
	for _, s := range strings.Fields(requested) {
		if !slices.Contains(config.AllScopes, s) {
			continue
		}
		if !c.scopes[s] {
			return "", oerrors.ErrInvalidScope
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		out = c.cfg.Scopes
	}
	return strings.Join(out, " "), nil
}

// bearer checks an access token this server issued.
func (o *oauth2Server) bearer(token string, now time.Time) (*Principal, *AuthError, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	t, _, _, err := o.store.get(ctx, kindAccess, token)
	if err != nil {
		o.log.Error("oauth2 token store unavailable", "error", err)
		return nil, nil, scim.Errorf(503, "", "the token store is unavailable; retry later")
	}
	var cl *oauth2Client
	if t != nil {
		cl = o.clients[t.ClientID]
	}
	if cl == nil || !cl.issuedTo(t) {
		return nil, &AuthError{Reason: ReasonUnknownToken, Scheme: "bearer", err: unauthorized("invalid credentials")}, nil
	}
	if !now.Before(t.AccessCreateAt.Add(t.AccessExpiresIn)) {
		return nil, &AuthError{Reason: ReasonExpired, Scheme: "bearer", Credential: cl.principal, err: unauthorized("token expired")}, nil
	}
	p := &Principal{Name: cl.principal, Scopes: map[string]bool{}}
	for _, s := range strings.Fields(t.Scope) {
		if cl.scopes[s] {
			p.Scopes[s] = true
		}
	}
	return p, nil, nil
}

// mountOAuth2 serves the authorization server's endpoints, ahead of the
// endpoint's authentication. They are mounted on every endpoint, so that
// oauth2 blocks added by a reload are served; while an endpoint has none,
// a request to them goes on as to any other path of the endpoint (its
// authentication first: 401 without credentials, 404 with).
func (s *Server) mountOAuth2(ep *Endpoint) {
	serve := func(h func(*fiber.Ctx, *oauth2Server) error) fiber.Handler {
		return func(c *fiber.Ctx) error {
			// The set in force when the request arrives serves all of it.
			o := ep.Auth.oauth2Set()
			if o == nil {
				return c.Next()
			}
			return h(c, o)
		}
	}
	authorize := serve(func(c *fiber.Ctx, o *oauth2Server) error { return s.oauth2Authorize(c, ep, o) })
	s.App.Get(ep.BasePath+OAuth2AuthorizePath, authorize)
	s.App.Post(ep.BasePath+OAuth2AuthorizePath, authorize)
	s.App.Post(ep.BasePath+OAuth2TokenPath, serve(func(c *fiber.Ctx, o *oauth2Server) error { return s.oauth2Token(c, ep, o) }))
	s.App.Post(ep.BasePath+OAuth2RevokePath, serve(func(c *fiber.Ctx, o *oauth2Server) error { return s.oauth2Revoke(c, ep, o) }))
}

// httpRequest converts a request for the library, its form parsed.
func (s *Server) httpRequest(c *fiber.Ctx) (*http.Request, error) {
	if c.Method() == fiber.MethodPost {
		if err := s.readBody(c); err != nil {
			return nil, err
		}
	}
	r := new(http.Request)
	if err := fasthttpadaptor.ConvertRequest(c.Context(), r, true); err != nil {
		return nil, err
	}
	r = r.WithContext(c.UserContext())
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	return r, nil
}

// bufferedWriter is the http.ResponseWriter the library writes to.
type bufferedWriter struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func newBufferedWriter() *bufferedWriter              { return &bufferedWriter{h: http.Header{}, status: 200} }
func (w *bufferedWriter) Header() http.Header         { return w.h }
func (w *bufferedWriter) Write(b []byte) (int, error) { return w.body.Write(b) }
func (w *bufferedWriter) WriteHeader(status int)      { w.status = status }

func (w *bufferedWriter) send(c *fiber.Ctx) error {
	for k, vs := range w.h {
		for _, v := range vs {
			c.Response().Header.Add(k, v)
		}
	}
	c.Set("Cache-Control", "no-store")
	c.Set("Pragma", "no-cache")
	c.Status(w.status)
	return c.Send(w.body.Bytes())
}

// oauth2Error answers a token or revocation request with an RFC 6749
// error.
func oauth2Error(c *fiber.Ctx, status int, code, description string) error {
	if status == 401 {
		c.Set("WWW-Authenticate", `Basic realm="scimbridge oauth2"`)
	}
	c.Set("Cache-Control", "no-store")
	c.Set("Pragma", "no-cache")
	c.Set("Content-Type", "application/json;charset=UTF-8")
	b, _ := json.Marshal(map[string]string{"error": code, "error_description": description})
	return c.Status(status).Send(b)
}

func (s *Server) oauth2Token(c *fiber.Ctx, ep *Endpoint, o *oauth2Server) error {
	return s.oauth2ClientRequest(c, ep, o, func(cl *oauth2Client, r *http.Request) error {
		if r.Form.Get("grant_type") == "authorization_code" && r.Form.Get("redirect_uri") == "" && len(cl.cfg.RedirectURIs) == 1 {
			// As at the authorize endpoint: the only one registered.
			r.Form.Set("redirect_uri", cl.cfg.RedirectURIs[0])
		}
		w := newBufferedWriter()
		_ = cl.srv.HandleTokenRequest(w, r)
		return w.send(c)
	})
}

// oauth2ClientRequest runs a token or revocation request of an
// authenticated client. Wrong client credentials are counted toward the
// failure limit of the address and, past it, answered 429 unchecked; the
// right ones (a SHA-256 to compare, no bcrypt) always get in, so that
// failures from a shared address cannot lock the client out.
func (s *Server) oauth2ClientRequest(c *fiber.Ctx, ep *Endpoint, o *oauth2Server, next func(*oauth2Client, *http.Request) error) error {
	r, err := s.httpRequest(c)
	if err != nil {
		e := ToSCIMError(err)
		return oauth2Error(c, e.Status, "invalid_request", e.Detail)
	}
	id, _, err := oauth2ClientCredentials(r, nil)
	if err == oerrors.ErrInvalidRequest {
		return oauth2Error(c, 400, "invalid_request", "send the client credentials once: HTTP Basic or client_id and client_secret in the body, never in the URL")
	}
	if cl := o.clients[id]; cl != nil && err == nil {
		if _, secret, _ := cl.credentials(r); cl.VerifyPassword(secret) {
			return next(cl, r)
		}
	}
	a := ep.Auth
	if wait, limited := a.limits.check(a.now(), a.limits.keys(c.IP(), "", false)); limited {
		s.authRefused(c, ep, c.IP(), limitedError(&AuthError{Scheme: "oauth2", Credential: id}, wait))
		c.Set("Retry-After", strconv.Itoa(max(int(wait.Seconds()+0.999), 1)))
		return oauth2Error(c, 429, "temporarily_unavailable", "too many failed authentications from this address; retry later")
	}
	s.oauth2ClientFailed(c, ep, id)
	return oauth2Error(c, 401, "invalid_client", "client authentication failed")
}

func (s *Server) oauth2ClientFailed(c *fiber.Ctx, ep *Endpoint, id string) {
	a := ep.Auth
	e := &AuthError{Reason: ReasonInvalidClient, Scheme: "oauth2", Credential: id, err: unauthorized("invalid client")}
	if id == "" {
		e.Credential = "(no client id)"
	}
	e.Engaged = a.limits.fail(a.now(), a.limits.keys(c.IP(), "", false))
	s.authRefused(c, ep, c.IP(), e)
}

// oauth2Revoke is RFC 7009: a refresh token revoked ends its grant (every
// token issued from it); an access token, itself. Unknown tokens are
// answered 200 as the RFC says.
func (s *Server) oauth2Revoke(c *fiber.Ctx, ep *Endpoint, o *oauth2Server) error {
	return s.oauth2ClientRequest(c, ep, o, func(cl *oauth2Client, r *http.Request) error {
		token := r.PostForm.Get("token")
		if token == "" || len(r.PostForm["token"]) > 1 {
			return oauth2Error(c, 400, "invalid_request", "the token parameter is required, once")
		}
		ctx := c.UserContext()
		kind, clientID, family, err := o.store.lookup(ctx, token)
		if err == nil && kind != "" && clientID != cl.cfg.ClientID {
			return oauth2Error(c, 400, "unauthorized_client", "the token was issued to another client")
		}
		switch {
		case err != nil:
		case kind == kindRefresh:
			err = o.store.revokeFamily(ctx, family)
		case kind == kindAccess:
			err = o.store.RemoveByAccess(ctx, token)
		case kind == kindCode:
			_ = o.store.RemoveByCode(ctx, token)
		}
		if err != nil {
			logger(c).Error("oauth2 revocation failed", "endpoint", ep.Name, "error", err)
			return oauth2Error(c, 503, "temporarily_unavailable", "the token store is unavailable; retry later")
		}
		if kind != "" {
			logger(c).Info("oauth2 token revoked", "endpoint", ep.Name, "client", cl.principal, "kind", kind)
		}
		c.Set("Cache-Control", "no-store")
		return c.SendStatus(200)
	})
}

// The authorize endpoint: the admin's browser arrives from the IdP with
// the authorization request (GET), is shown the consent form, and posts
// it back with an admin's credentials (POST); the browser is then sent to
// the redirect URI with the code and the state.

const csrfCookie = "scimbridge_oauth2_csrf"

var authorizeParams = []string{"response_type", "client_id", "redirect_uri", "state", "scope", "code_challenge", "code_challenge_method"}

func (s *Server) oauth2Authorize(c *fiber.Ctx, ep *Endpoint, o *oauth2Server) error {
	r, err := s.httpRequest(c)
	if err != nil {
		return consentMessage(c, ToSCIMError(err).Status, "The request could not be read.")
	}
	for _, k := range authorizeParams {
		if len(r.Form[k]) > 1 {
			return consentMessage(c, 400, fmt.Sprintf("The parameter %s is given more than once.", k))
		}
	}
	cl := o.clients[r.Form.Get("client_id")]
	if cl == nil {
		logger(c).Info("oauth2 authorization refused: unknown client_id", "endpoint", ep.Name, "client_id", trimForLog(r.Form.Get("client_id")))
		return consentMessage(c, 400, "Unknown client: the client ID does not match the oauth2 blocks of this endpoint.")
	}
	redirect := r.Form.Get("redirect_uri")
	if redirect == "" && len(cl.cfg.RedirectURIs) == 1 {
		redirect = cl.cfg.RedirectURIs[0]
		r.Form.Set("redirect_uri", redirect)
	}
	if !slices.Contains(cl.cfg.RedirectURIs, redirect) {
		// Never redirect to an unregistered URI (RFC 6749 4.1.2.1).
		logger(c).Warn("oauth2 authorization refused: redirect_uri is not in the client's redirect_uris", "endpoint", ep.Name,
			"client", cl.principal, "redirect_uri", trimForLog(redirect))
		return consentMessage(c, 400, "The redirect URI is not registered for this client: add it to redirect_uris of the oauth2 block, exactly as sent.")
	}
	state := r.Form.Get("state")
	fail := func(code, desc string) error { return redirectError(c, redirect, state, code, desc) }
	if state == "" {
		return fail("invalid_request", "state is required")
	}
	if r.Form.Get("response_type") != "code" {
		return fail("unsupported_response_type", "only response_type=code is supported")
	}
	if cc, ccm := r.Form.Get("code_challenge"), r.Form.Get("code_challenge_method"); cc == "" && ccm != "" || cc != "" && ccm != "S256" {
		return fail("invalid_request", "PKCE: send code_challenge with code_challenge_method=S256 (plain is refused)")
	}
	scope, err := cl.grantScope(r.Form.Get("scope"))
	if err != nil {
		return fail("invalid_scope", "a requested scope is not allowed to this client")
	}
	if c.Method() == fiber.MethodGet {
		return s.consentPage(c, ep, cl, r, scope, 200, "")
	}
	if !cl.checkCSRF(c, r) {
		return consentMessage(c, 403, "The form expired or did not come from this page. Start again from the identity provider.")
	}
	if r.PostForm.Get("decision") == "deny" {
		logger(c).Info("oauth2 authorization denied by the admin", "endpoint", ep.Name, "client", cl.principal)
		return fail("access_denied", "the admin denied the request")
	}
	user := r.PostForm.Get("username")
	if aerr := s.checkConsentAdmin(c, ep, cl, user, r.PostForm.Get("password")); aerr != nil {
		s.authRefused(c, ep, c.IP(), aerr)
		if aerr.Reason == ReasonLimited {
			c.Set("Retry-After", strconv.Itoa(max(int(aerr.RetryAfter.Seconds()+0.999), 1)))
			return consentMessage(c, 429, "Too many failed sign-ins from this address or for this user name. Retry later.")
		}
		return s.consentPage(c, ep, cl, r, scope, 401, "Wrong user name or password.")
	}
	if r.Form.Get("code_challenge") == "" {
		// No PKCE; the library would read the missing method as plain.
		r.Form.Set("code_challenge_method", "S256")
	}
	w := newBufferedWriter()
	r = r.WithContext(context.WithValue(r.Context(), consentKey{}, "admin:"+user))
	if err := cl.srv.HandleAuthorizeRequest(w, r); err != nil {
		logger(c).Error("oauth2 authorization failed", "endpoint", ep.Name, "client", cl.principal, "error", err)
		return consentMessage(c, 500, "The authorization failed; see the server's log.")
	}
	var back url.Values
	if loc, err := url.Parse(w.h.Get("Location")); err == nil {
		back = loc.Query()
	}
	if back.Get("code") != "" {
		logger(c).Info("oauth2 authorization granted", "endpoint", ep.Name, "client", cl.principal, "admin", user, "scope", scope)
	} else {
		logger(c).Info("oauth2 authorization refused", "endpoint", ep.Name, "client", cl.principal, "error", back.Get("error"))
	}
	c.Cookie(&fiber.Cookie{Name: csrfCookie, Value: "", Path: s.consentCookiePath(ep), MaxAge: -1, HTTPOnly: true, SameSite: "Strict", Secure: s.httpsOnly(c)})
	return w.send(c)
}

// consentCookiePath is the path of the authorization server as the
// browser sees it (public_url's path prefix included): the consent cookie
// goes nowhere else.
func (s *Server) consentCookiePath(ep *Endpoint) string {
	prefix := ""
	if u, err := url.Parse(s.Settings.PublicURL); err == nil {
		prefix = strings.TrimRight(u.Path, "/")
	}
	return prefix + ep.BasePath + "/oauth2"
}

// httpsOnly says whether the browser reaches the bridge over HTTPS: the
// consent cookie is then Secure.
func (s *Server) httpsOnly(c *fiber.Ctx) bool {
	return c.Protocol() == "https" || strings.HasPrefix(s.Settings.PublicURL, "https://")
}

func trimForLog(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

// redirectError sends the browser back to the (registered) redirect URI
// with an RFC 6749 4.1.2.1 error.
func redirectError(c *fiber.Ctx, redirect, state, code, desc string) error {
	u, err := url.Parse(redirect)
	if err != nil {
		return consentMessage(c, 400, "The redirect URI does not parse.")
	}
	q := u.Query()
	q.Set("error", code)
	q.Set("error_description", desc)
	if state != "" {
		q.Set("state", state)
	}
	u.RawQuery = q.Encode()
	c.Set("Cache-Control", "no-store")
	c.Set("Location", u.String())
	return c.SendStatus(302)
}

// checkConsentAdmin checks an admin's credentials on the consent form, as
// Basic credentials are checked: limited per address and user name, an
// unknown name against a dummy hash.
func (s *Server) checkConsentAdmin(c *fiber.Ctx, ep *Endpoint, cl *oauth2Client, user, pass string) *AuthError {
	a := ep.Auth
	k := a.limits.keys(c.IP(), user, true)
	now := a.now()
	if wait, limited := a.limits.check(now, k); limited {
		return limitedError(&AuthError{Scheme: "oauth2 consent", Credential: user}, wait)
	}
	if wait, ok := a.limits.begin(now, k); !ok {
		return limitedError(&AuthError{Scheme: "oauth2 consent", Credential: user}, wait)
	}
	reason := ReasonUnknownUser
	for _, b := range cl.cfg.Admins {
		if subtle.ConstantTimeCompare([]byte(user), []byte(b.Username)) != 1 {
			continue
		}
		reason = ReasonWrongPassword
		if checkPassword(b.PasswordHash, pass) {
			reason = ""
			break
		}
	}
	if reason == ReasonUnknownUser {
		pick := sha256.Sum256(append(a.dummySeed[:], user...))
		checkPassword(cl.dummies[binary.BigEndian.Uint64(pick[:8])%uint64(len(cl.dummies))], pass)
	}
	engaged := a.limits.end(a.now(), k, reason != "")
	if reason == "" {
		return nil
	}
	return &AuthError{Reason: reason, Scheme: "oauth2 consent", Credential: user, Engaged: engaged, err: unauthorized("invalid credentials")}
}

// csrfField is the consent form's CSRF token: a nonce (also in a cookie,
// SameSite=Strict), an expiry, and a MAC over both and the authorization
// request, so that the form can only be posted back from the page shown,
// for the request shown, within 10 minutes.
func (cl *oauth2Client) csrfField(nonce string, exp int64, r *http.Request) string {
	m := hmac.New(sha256.New, cl.csrfKey[:])
	m.Write([]byte(nonce + "\x00" + strconv.FormatInt(exp, 10)))
	for _, k := range authorizeParams {
		m.Write([]byte("\x00" + r.Form.Get(k)))
	}
	return nonce + "." + strconv.FormatInt(exp, 10) + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (cl *oauth2Client) checkCSRF(c *fiber.Ctx, r *http.Request) bool {
	field := r.PostForm.Get("csrf")
	nonce, rest, _ := strings.Cut(field, ".")
	expS, _, _ := strings.Cut(rest, ".")
	exp, err := strconv.ParseInt(expS, 10, 64)
	cookie := c.Cookies(csrfCookie)
	if err != nil || nonce == "" || cookie == "" || time.Now().Unix() > exp {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(cookie), []byte(nonce)) == 1 &&
		subtle.ConstantTimeCompare([]byte(field), []byte(cl.csrfField(nonce, exp, r))) == 1
}

const consentStyle = `body{font:16px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:36rem;padding:0 1rem;color:#111}` +
	`label{display:block;margin:.75rem 0}input{display:block;width:100%;padding:.4rem;font:inherit}` +
	`button{font:inherit;padding:.4rem 1.2rem;margin-right:.5rem}.error{color:#a00;font-weight:bold}code{word-break:break-all}`

var consentStyleHash = func() string {
	sum := sha256.Sum256([]byte(consentStyle))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

var consentTemplate = template.Must(template.New("consent").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Authorize {{.Client}} - scimbridge</title><style>{{.Style}}</style></head>
<body><main>
<h1>Authorize access to {{.Endpoint}}</h1>
<p>The OAuth client <b>{{.Client}}</b> (client ID <code>{{.ClientID}}</code>) asks for a token for the SCIM endpoint <code>{{.Endpoint}}</code> with these scopes:</p>
<ul>{{range .Scopes}}<li><code>{{.}}</code></li>{{end}}</ul>
<p>After you allow it, your browser goes to <code>{{.Redirect}}</code>.</p>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="authorize">
{{range .Hidden}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<label>Admin user name<input name="username" autocomplete="username" required autofocus></label>
<label>Password<input type="password" name="password" autocomplete="current-password" required></label>
<button name="decision" value="allow">Allow</button><button name="decision" value="deny" formnovalidate>Deny</button>
</form></main></body></html>
`))

type hiddenField struct{ Name, Value string }

// consentHeaders are the security headers of the consent pages: nothing
// loads from elsewhere, nothing runs, no framing, no caching; the form
// may post here and its answer redirect to the client's redirect URIs.
func consentHeaders(c *fiber.Ctx, cl *oauth2Client) {
	formAction := "'self'"
	if cl != nil {
		for _, r := range cl.cfg.RedirectURIs {
			if u, err := url.Parse(r); err == nil {
				formAction += " " + u.Scheme + "://" + u.Host
			}
		}
	}
	c.Set("Content-Security-Policy", "default-src 'none'; style-src "+consentStyleHash+"; form-action "+formAction+"; frame-ancestors 'none'; base-uri 'none'")
	c.Set("X-Frame-Options", "DENY")
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Referrer-Policy", "no-referrer")
	c.Set("Cache-Control", "no-store")
	c.Set("Pragma", "no-cache")
	c.Set("Content-Type", "text/html; charset=utf-8")
}

func (s *Server) consentPage(c *fiber.Ctx, ep *Endpoint, cl *oauth2Client, r *http.Request, scope string, status int, msg string) error {
	nonce, err := randomToken("")
	if err != nil {
		return consentMessage(c, 500, "No random numbers.")
	}
	exp := time.Now().Add(10 * time.Minute).Unix()
	hidden := []hiddenField{}
	for _, k := range authorizeParams {
		if v := r.Form.Get(k); v != "" {
			hidden = append(hidden, hiddenField{k, v})
		}
	}
	hidden = append(hidden, hiddenField{"csrf", cl.csrfField(nonce, exp, r)})
	c.Cookie(&fiber.Cookie{Name: csrfCookie, Value: nonce, Path: s.consentCookiePath(ep), MaxAge: 600, HTTPOnly: true, SameSite: "Strict", Secure: s.httpsOnly(c)})
	var b bytes.Buffer
	err = consentTemplate.Execute(&b, map[string]any{
		"Style": template.CSS(consentStyle), "Client": cl.cfg.Name, "ClientID": cl.cfg.ClientID, "Endpoint": ep.Name,
		"Scopes": strings.Fields(scope), "Redirect": r.Form.Get("redirect_uri"), "Error": msg, "Hidden": hidden,
	})
	if err != nil {
		return err
	}
	consentHeaders(c, cl)
	return c.Status(status).Send(b.Bytes())
}

var messageTemplate = template.Must(template.New("message").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>scimbridge</title><style>{{.Style}}</style></head>
<body><main><h1>Authorization refused</h1><p class="error">{{.Message}}</p></main></body></html>
`))

// consentMessage answers the authorize endpoint with a page that says why
// it cannot go on (no redirect).
func consentMessage(c *fiber.Ctx, status int, msg string) error {
	var b bytes.Buffer
	if err := messageTemplate.Execute(&b, map[string]any{"Style": template.CSS(consentStyle), "Message": msg}); err != nil {
		return err
	}
	consentHeaders(c, nil)
	return c.Status(status).Send(b.Bytes())
}

// buildOAuth2 builds the authorization server of an endpoint's oauth2
// blocks (nil when it has none), on their store: the one open already
// (one per store, shared by the endpoints that name it, kept for the
// life of the server), or opened now and returned as fresh, for the
// caller to close if it does not use the result.
func (s *Server) buildOAuth2(ctx context.Context, ec *config.Endpoint, log hclog.Logger) (o *oauth2Server, fresh *oauth2DB, err error) {
	if len(ec.OAuth2) == 0 {
		return nil, nil, nil
	}
	first := ec.OAuth2[0]
	s.oauth2Mu.Lock()
	defer s.oauth2Mu.Unlock()
	d := s.oauth2DBs[first.Store]
	if d == nil {
		if d, err = openOAuth2DB(ctx, first.StoreDriver, first.StoreDSN); err != nil {
			return nil, nil, fmt.Errorf("oauth2 %q: opening the token store: %w", first.Name, err)
		}
		if s.oauth2DBs == nil {
			s.oauth2DBs = map[string]*oauth2DB{}
		}
		s.oauth2DBs[first.Store] = d
		fresh = d
	}
	return newOAuth2Server(ec.Name, ec.OAuth2, d, log), fresh, nil
}

// dropOAuth2DBs closes stores opened for a reload that was refused.
func (s *Server) dropOAuth2DBs(fresh []*oauth2DB) {
	s.oauth2Mu.Lock()
	defer s.oauth2Mu.Unlock()
	for k, d := range s.oauth2DBs {
		if slices.Contains(fresh, d) {
			delete(s.oauth2DBs, k)
			d.Close()
		}
	}
}

// idleOAuth2DBs keeps no idle connection to a store no endpoint uses any
// more (its oauth2 blocks removed, or their store changed, by a reload):
// a request that began on it still finishes, and re-adding it by a later
// reload uses it again. It stays open until the server is closed.
func (s *Server) idleOAuth2DBs() {
	used := map[*oauth2DB]bool{}
	for _, ep := range s.Endpoints {
		if o := ep.Auth.oauth2Set(); o != nil {
			used[o.store.d] = true
		}
	}
	s.oauth2Mu.Lock()
	defer s.oauth2Mu.Unlock()
	for _, d := range s.oauth2DBs {
		if used[d] {
			d.db.SetMaxIdleConns(2) // database/sql's default
		} else {
			d.db.SetMaxIdleConns(0)
		}
	}
}

// logOAuth2URLs logs the URLs to enter in the IdP for the clients of o
// that prev (the set before a reload, or nil) did not have.
func (s *Server) logOAuth2URLs(ec *config.Endpoint, o, prev *oauth2Server, log hclog.Logger) {
	authz, token, revoke := OAuth2URLs(s.Settings.PublicURL, ec.BasePath)
	for _, c := range ec.OAuth2 {
		if prev != nil && prev.clients[c.ClientID] != nil {
			continue
		}
		args := []any{"client", c.Name, "client_id", c.ClientID, "authorize_url", authz, "token_url", token, "revoke_url", revoke}
		if s.Settings.PublicURL == "" {
			args = append(args, "note", "paths only: set public_url for the full URLs")
		}
		log.Info("oauth2 authorization server: enter these in the IdP", args...)
	}
}
