package rest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/scimbridge/scimbridge/backends"
)

// client is the HTTP side: one pooled transport, a concurrency limit,
// authentication, retries.
type client struct {
	cfg   *Config
	http  *http.Client
	sem   chan struct{}
	log   hclog.Logger
	oauth oauth2.TokenSource

	loginMu  sync.Mutex
	token    string
	tokenAt  time.Time
	tokenGen int
}

func newClient(cfg *Config, log hclog.Logger) (*client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxConnsPerHost = *cfg.MaxConcurrency
	tr.MaxIdleConnsPerHost = *cfg.MaxConcurrency
	tr.ResponseHeaderTimeout = cfg.timeout
	tr.Proxy = nil
	if t := cfg.TLS; t != nil {
		tc := &tls.Config{ServerName: t.ServerName, MinVersion: tls.VersionTLS12}
		if t.CAFile != "" {
			pem, err := os.ReadFile(t.CAFile)
			if err != nil {
				return nil, fmt.Errorf("%w: tls ca_file: %v", backends.ErrConfig, err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("%w: tls ca_file %s holds no PEM certificate", backends.ErrConfig, t.CAFile)
			}
			tc.RootCAs = pool
		}
		if t.CertFile != "" || t.KeyFile != "" {
			cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
			if err != nil {
				return nil, fmt.Errorf("%w: tls cert_file/key_file: %v", backends.ErrConfig, err)
			}
			tc.Certificates = []tls.Certificate{cert}
		}
		tr.TLSClientConfig = tc
	}
	hc := &http.Client{
		Transport: tr,
		Timeout:   cfg.timeout,
		// A redirect could lead to another host: never followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	c := &client{cfg: cfg, http: hc, sem: make(chan struct{}, *cfg.MaxConcurrency), log: log}
	if a := cfg.Auth; a != nil && a.OAuth2 != nil {
		cc := &clientcredentials.Config{
			ClientID: a.OAuth2.ClientID, ClientSecret: a.OAuth2.ClientSecret,
			TokenURL: a.OAuth2.TokenURL, Scopes: a.OAuth2.Scopes,
			EndpointParams: url.Values{},
		}
		for k, v := range a.OAuth2.EndpointParams {
			cc.EndpointParams.Set(k, v)
		}
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: tr, Timeout: cfg.timeout})
		c.oauth = cc.TokenSource(ctx) // caches the token and fetches a new one before it expires
	}
	return c, nil
}

// request is one HTTP call.
type request struct {
	op      string // "create", "get", "update", "delete", "list", "login", "ping"
	what    string // for messages: `create User`
	method  string
	url     string
	body    []byte
	headers map[string]string
}

// response is an answer read in full.
type response struct {
	status int
	header http.Header
	body   []byte
	url    string
}

// json decodes the body; an error wraps ErrBadUpstream.
func (r *response) json() (cty.Value, error) {
	if len(bytes.TrimSpace(r.body)) == 0 {
		return cty.NilVal, fmt.Errorf("%w: HTTP %d from %s with an empty body where JSON was expected", backends.ErrBadUpstream, r.status, r.url)
	}
	v, err := decodeJSON(r.body)
	if err != nil {
		return cty.NilVal, fmt.Errorf("%w: HTTP %d from %s is not JSON (%v): %q", backends.ErrBadUpstream, r.status, r.url, err, snippet(r.body))
	}
	return v, nil
}

func snippet(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

func idempotent(method string) bool {
	switch method {
	case "GET", "HEAD", "PUT", "DELETE", "OPTIONS":
		return true
	}
	return false
}

// do sends r with retries: transport failures for idempotent requests
// (and for every request when the connection was refused, so nothing was
// sent), 429 and 503 for every request, 502 and 504 for idempotent ones,
// honouring Retry-After. A 401 with login auth logs in again once.
func (c *client) do(ctx context.Context, r *request) (*response, error) {
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %s: waiting for a connection slot: %v", backends.ErrUnavailable, r.what, ctx.Err())
	}
	defer func() { <-c.sem }()

	attempts := *c.cfg.Retry.Attempts
	relogged := false
	var lastErr error
	for try := 0; try < attempts; try++ {
		if try > 0 {
			if err := c.sleep(ctx, try, lastErr); err != nil {
				return nil, fmt.Errorf("%w: %s: %v (last error: %v)", backends.ErrUnavailable, r.what, err, lastErr)
			}
		}
		resp, gen, err := c.send(ctx, r)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%w: %s: %v", backends.ErrUnavailable, r.what, err)
			}
			if errors.Is(err, backends.ErrConfig) || errors.Is(err, backends.ErrPermission) || errors.Is(err, backends.ErrBadUpstream) {
				return nil, err
			}
			if e := tlsError(err); e != nil {
				return nil, fmt.Errorf("%s: %w", r.what, e)
			}
			lastErr = err
			if idempotent(r.method) || refused(err) {
				continue
			}
			return nil, fmt.Errorf("%w: %s: %v (not retried: the request may have been carried out)", backends.ErrUnavailable, r.what, err)
		}
		switch {
		case resp.status == http.StatusUnauthorized && c.cfg.Auth != nil && c.cfg.Auth.Login != nil && !relogged && r.op != "login":
			relogged = true
			c.invalidate(gen)
			try-- // a new session is not a retry
			continue
		case resp.status == http.StatusTooManyRequests || resp.status == http.StatusServiceUnavailable,
			(resp.status == http.StatusBadGateway || resp.status == http.StatusGatewayTimeout) && idempotent(r.method):
			lastErr = &statusError{resp: resp}
			if try+1 < attempts {
				continue
			}
		}
		return resp, nil
	}
	return nil, fmt.Errorf("%w: %s: %v (after %d attempts)", backends.ErrUnavailable, r.what, lastErr, attempts)
}

type statusError struct{ resp *response }

func (e *statusError) Error() string {
	return fmt.Sprintf("HTTP %d from %s", e.resp.status, e.resp.url)
}

// tlsError classifies a failed TLS handshake: a server certificate that
// does not verify is the configuration's (ca_file, server_name), a
// handshake the server refuses (no or a wrong client certificate) a
// permission problem. Neither is retried.
func tlsError(err error) error {
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	if errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &hn) {
		return fmt.Errorf("%w: the API's TLS certificate does not verify (tls ca_file, server_name): %v", backends.ErrConfig, err)
	}
	if strings.Contains(err.Error(), "remote error: tls:") {
		return fmt.Errorf("%w: the API refused the TLS handshake (a client certificate it does not accept, tls cert_file): %v", backends.ErrPermission, err)
	}
	return nil
}

func refused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED)
}

// sleep waits before attempt try: Retry-After when the last answer gave
// one, else exponential backoff with full jitter, capped by max_backoff.
func (c *client) sleep(ctx context.Context, try int, last error) error {
	rc := c.cfg.Retry
	// The shared backoff; the loop is this package's own because a
	// Retry-After replaces the wait and a 401 logs in again without one.
	d := backends.Backoff{Base: rc.minBackoff, Max: rc.maxBackoff}.Delay(try)
	var se *statusError
	if errors.As(last, &se) {
		if ra := retryAfter(se.resp.header.Get("Retry-After")); ra > 0 {
			d = min(ra, rc.maxBackoff)
		}
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return fmt.Errorf("the deadline comes before the next retry")
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func retryAfter(h string) time.Duration {
	if h == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		return time.Until(t)
	}
	return 0
}

// send makes one attempt; gen is the login generation used.
func (c *client) send(ctx context.Context, r *request) (*response, int, error) {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, body)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %s: %v", backends.ErrConfig, r.what, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "scimbridge")
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range c.cfg.Headers {
		req.Header.Set(k, v)
	}
	for k, v := range r.headers {
		req.Header.Set(k, v)
	}
	gen, err := c.authorize(ctx, req, r.op)
	if err != nil {
		return nil, gen, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, gen, err
	}
	defer resp.Body.Close()
	max := int64(*c.cfg.MaxResponseBytes)
	b, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, gen, err
	}
	if int64(len(b)) > max {
		return nil, gen, fmt.Errorf("%w: %s: the answer of %s is larger than max_response_bytes (%d)", backends.ErrBadUpstream, r.what, r.url, max)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b, url: redact(r.url)}, gen, nil
}

// redact leaves the query out of URLs in messages (it may hold values).
func redact(s string) string {
	if i := strings.IndexByte(s, '?'); i >= 0 {
		return s[:i] + "?..."
	}
	return s
}

// authorize sets the credentials of the configured auth mode.
func (c *client) authorize(ctx context.Context, req *http.Request, op string) (int, error) {
	a := c.cfg.Auth
	if a == nil || op == "login" {
		return 0, nil
	}
	switch {
	case a.BearerToken != nil:
		req.Header.Set("Authorization", "Bearer "+*a.BearerToken)
	case a.Header != nil:
		req.Header.Set(a.Header.Name, a.Header.Value)
	case a.Basic != nil:
		req.SetBasicAuth(a.Basic.Username, a.Basic.Password)
	case a.OAuth2 != nil:
		tok, err := c.oauth.Token()
		if err != nil {
			var re *oauth2.RetrieveError
			if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode >= 400 && re.Response.StatusCode < 500 {
				return 0, fmt.Errorf("%w: the OAuth 2.0 token endpoint refused the client credentials: %v", backends.ErrPermission, err)
			}
			return 0, fmt.Errorf("getting an OAuth 2.0 token: %w", err)
		}
		tok.SetAuthHeader(req)
	case a.Login != nil:
		tok, gen, err := c.session(ctx)
		if err != nil {
			return gen, err
		}
		l := a.Login
		prefix := "Bearer "
		if l.Prefix != nil {
			prefix = *l.Prefix
		}
		h := l.Header
		if h == "" {
			h = "Authorization"
		}
		req.Header.Set(h, prefix+tok)
		return gen, nil
	}
	return 0, nil
}

// session returns the login token, logging in when there is none.
func (c *client) session(ctx context.Context) (string, int, error) {
	c.loginMu.Lock()
	defer c.loginMu.Unlock()
	l := c.cfg.Auth.Login
	if c.token != "" && (l.ttl == 0 || time.Since(c.tokenAt) < l.ttl) {
		return c.token, c.tokenGen, nil
	}
	path, err := c.cfg.eval(l.Path, nil)
	if err != nil {
		return "", 0, fmt.Errorf("%w: login path: %v", backends.ErrConfig, err)
	}
	p, ok := asString(path)
	if !ok {
		return "", 0, fmt.Errorf("%w: login path is not a string", backends.ErrConfig)
	}
	u, err := c.cfg.buildURL(p, nil)
	if err != nil {
		return "", 0, err
	}
	var body []byte
	if isSet(l.Body) {
		v, err := c.cfg.eval(l.Body, nil)
		if err != nil {
			return "", 0, fmt.Errorf("%w: login body: %v", backends.ErrConfig, err)
		}
		if body, err = toJSON(v); err != nil {
			return "", 0, fmt.Errorf("%w: login body: %v", backends.ErrConfig, err)
		}
	}
	method := l.Method
	if method == "" {
		method = "POST"
	}
	resp, _, err := c.send(ctx, &request{op: "login", what: "login", method: strings.ToUpper(method), url: u, body: body})
	if err != nil {
		if errors.Is(err, backends.ErrBadUpstream) || errors.Is(err, backends.ErrConfig) {
			return "", 0, err
		}
		return "", 0, fmt.Errorf("logging in: %w", err)
	}
	if resp.status == http.StatusUnauthorized || resp.status == http.StatusForbidden || resp.status == http.StatusBadRequest {
		return "", 0, fmt.Errorf("%w: the login call answered HTTP %d: %s", backends.ErrPermission, resp.status, snippet(resp.body))
	}
	if resp.status >= 300 {
		return "", 0, fmt.Errorf("%w: the login call answered HTTP %d", backends.ErrUnavailable, resp.status)
	}
	doc, err := resp.json()
	if err != nil {
		return "", 0, err
	}
	tv, err := c.cfg.eval(l.Token, map[string]cty.Value{"response": doc, "headers": headerValue(resp.header)})
	if err != nil {
		return "", 0, fmt.Errorf("%w: login token: %v", backends.ErrBadUpstream, err)
	}
	tok, ok := asString(tv)
	if !ok || tok == "" || strings.ContainsAny(tok, "\r\n") {
		return "", 0, fmt.Errorf("%w: the login answer holds no token where the token expression says", backends.ErrBadUpstream)
	}
	c.token, c.tokenAt = tok, time.Now()
	c.tokenGen++
	return c.token, c.tokenGen, nil
}

// invalidate drops the session token of generation gen (a 401 said it
// expired) so that the next request logs in again.
func (c *client) invalidate(gen int) {
	c.loginMu.Lock()
	defer c.loginMu.Unlock()
	if gen == c.tokenGen {
		c.token = ""
	}
}

var _ = net.ErrClosed
