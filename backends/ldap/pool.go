package ldap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/scimbridge/scimbridge/backends"
)

// pool hands out bound connections: at most size in use at once, idle ones
// kept for reuse. Servers are tried in configuration order; one that fails
// is skipped for a backoff that doubles per failure, so a dead server costs
// nothing but the first timeout.
type pool struct {
	cfg     *Config
	log     hclog.Logger
	tls     *tls.Config
	sem     chan struct{}
	servers []*server

	mu     sync.Mutex
	idle   []*conn
	closed bool

	dials *prometheus.CounterVec // by server and result
}

type server struct {
	url *url.URL

	mu       sync.Mutex
	failures int
	retryAt  time.Time
}

type conn struct {
	*goldap.Conn
	server string
}

func newPool(cfg *Config, log hclog.Logger, dials *prometheus.CounterVec) (*pool, error) {
	p := &pool{cfg: cfg, log: log, sem: make(chan struct{}, cfg.PoolSize), dials: dials}
	for _, raw := range cfg.URLs {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: ldap url %q: %v", backends.ErrInvalid, raw, err)
		}
		p.servers = append(p.servers, &server{url: u})
	}
	tc, err := tlsConfig(cfg)
	if err != nil {
		return nil, err
	}
	p.tls = tc
	return p, nil
}

func tlsConfig(cfg *Config) (*tls.Config, error) {
	tc := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         cfg.TLSServerName,
		InsecureSkipVerify: cfg.InsecureSkipVerify, //nolint:gosec // documented as tests only
	}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%w: ldap ca_file: %v", backends.ErrInvalid, err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: ldap ca_file %s holds no PEM certificate", backends.ErrInvalid, cfg.CAFile)
		}
		tc.RootCAs = roots
	}
	if cfg.ClientCertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.ClientCertFile, cfg.ClientKeyFile)
		if err != nil {
			return nil, fmt.Errorf("%w: ldap client certificate: %v", backends.ErrInvalid, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// get returns a connection for one operation; reused reports whether it
// came from the idle list (and so may have been dropped by the server).
func (p *pool) get(ctx context.Context) (c *conn, reused bool, err error) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, false, fmt.Errorf("%w: all %d ldap connections busy: %w", backends.ErrUnavailable, cap(p.sem), ctx.Err())
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		<-p.sem
		return nil, false, fmt.Errorf("%w: ldap backend closed", backends.ErrUnavailable)
	}
	for len(p.idle) > 0 {
		c = p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if !c.IsClosing() {
			p.mu.Unlock()
			return c, true, nil
		}
		c.Close()
	}
	p.mu.Unlock()
	c, err = p.dial(ctx)
	if err != nil {
		<-p.sem
		return nil, false, err
	}
	return c, false, nil
}

// put returns a connection taken with get; broken ones are closed.
func (p *pool) put(c *conn, broken bool) {
	defer func() { <-p.sem }()
	if broken || c.IsClosing() {
		c.Close()
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return
	}
	p.idle = append(p.idle, c)
}

func (p *pool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, c := range p.idle {
		c.Close()
	}
	p.idle = nil
}

// dial connects and binds to the first server that is not backing off.
// Connections from dial outside get (cursors) are not counted in the pool.
func (p *pool) dial(ctx context.Context) (*conn, error) {
	var errs []string
	now := time.Now()
	for _, s := range p.servers {
		s.mu.Lock()
		wait := s.retryAt.Sub(now)
		s.mu.Unlock()
		if wait > 0 {
			errs = append(errs, fmt.Sprintf("%s: backing off for %s", s.url.Host, wait.Round(time.Millisecond)))
			continue
		}
		c, err := p.dialOne(ctx, s.url)
		result := "success"
		if err != nil {
			result = "failure"
		}
		p.dials.WithLabelValues(s.url.Host, result).Inc()
		s.mu.Lock()
		if err == nil {
			if s.failures > 0 {
				p.log.Info("ldap server reachable again", "server", s.url.Host)
			}
			s.failures, s.retryAt = 0, time.Time{}
			s.mu.Unlock()
			return c, nil
		}
		if ctx.Err() != nil {
			s.mu.Unlock()
			return nil, fmt.Errorf("%w: connecting to ldap: %w", backends.ErrUnavailable, ctx.Err())
		}
		var le *goldap.Error
		if errors.As(err, &le) && isAuthCode(le.ResultCode) {
			// A refused bind is not the network: do not back off, report it.
			s.mu.Unlock()
			p.log.Error("ldap bind refused", "server", s.url.Host, "bind_dn", p.cfg.BindDN, "error", err)
			return nil, fmt.Errorf("%w: ldap bind refused: %s", backends.ErrPermission, le.Err)
		}
		s.failures++
		backoff := backends.Backoff{Base: 100 * time.Millisecond, Max: p.cfg.maxBackoff}.Delay(s.failures)
		s.retryAt = time.Now().Add(backoff)
		s.mu.Unlock()
		p.log.Warn("ldap server unreachable", "server", s.url.Host, "error", err, "retry_in", backoff)
		errs = append(errs, fmt.Sprintf("%s: %v", s.url.Host, err))
	}
	return nil, fmt.Errorf("%w: no ldap server reachable (%s)", backends.ErrUnavailable, strings.Join(errs, "; "))
}

func (p *pool) dialOne(ctx context.Context, u *url.URL) (*conn, error) {
	dctx, cancel := context.WithTimeout(ctx, p.cfg.dialTimeout)
	defer cancel()
	dl, _ := dctx.Deadline()
	tc := p.tls.Clone()
	if tc.ServerName == "" {
		tc.ServerName = u.Hostname()
	}
	c, err := goldap.DialURL(u.String(),
		goldap.DialWithDialer(&net.Dialer{Deadline: dl}),
		goldap.DialWithTLSConfig(tc))
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(dctx, func() { c.Close() })
	defer stop()
	c.SetTimeout(time.Until(dl))
	if p.cfg.StartTLS && u.Scheme == "ldap" {
		if err := c.StartTLS(tc); err != nil {
			c.Close()
			return nil, fmt.Errorf("starttls: %w", err)
		}
	}
	password := p.cfg.BindPassword
	if p.cfg.BindPasswordFile != "" {
		b, err := os.ReadFile(p.cfg.BindPasswordFile)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("reading bind_password_file: %w", err)
		}
		password = strings.TrimRight(string(b), "\r\n")
	}
	if p.cfg.BindDN != "" {
		if err := c.Bind(p.cfg.BindDN, password); err != nil {
			c.Close()
			return nil, err
		}
	}
	if !stop() {
		c.Close()
		return nil, dctx.Err()
	}
	return &conn{Conn: c, server: u.Host}, nil
}

// run calls fn on a pooled connection, bounded by the operation timeout and
// ctx: when ctx ends the connection is closed, which aborts the operation.
// A stale idle connection (the server restarted) is replaced once.
func (b *Backend) run(ctx context.Context, fn func(c *goldap.Conn) error) error {
	return b.runOp(ctx, false, fn)
}

// runBulk is run for work of many round trips, such as a paged scan of a
// whole container (a count, a snapshot): each round trip has the
// per-operation timeout, the whole only the caller's deadline (the SCIM
// request's). A directory of a million entries takes longer to scan than
// any timeout meant for one entry's work, and a scan that is making
// progress must not be cut by it.
func (b *Backend) runBulk(ctx context.Context, fn func(c *goldap.Conn) error) error {
	return b.runOp(ctx, true, fn)
}

func (b *Backend) runOp(ctx context.Context, bulk bool, fn func(c *goldap.Conn) error) (err error) {
	var cancel context.CancelFunc
	perRequest := time.Duration(0)
	if bulk {
		ctx, cancel = context.WithCancel(ctx)
		perRequest = b.cfg.timeout
	} else {
		ctx, cancel = b.opContext(ctx)
	}
	defer cancel()
	start := time.Now()
	defer func() {
		b.metrics.duration.Observe(time.Since(start).Seconds())
		if err == nil {
			b.metrics.success.Inc()
		} else {
			b.metrics.calls.WithLabelValues(resultLabel(err)).Inc()
		}
	}()
	// A pooled connection that turns out broken is tried once more on a
	// fresh one, at once.
	var server string
	retry := backends.Retry{Attempts: 2, OnRetry: func(_ int, err error, _ time.Duration) {
		b.log.Debug("retrying on a fresh connection", "server", server, "error", err)
	}}
	return retry.Do(ctx, func(int) (bool, error) {
		c, reused, err := b.pool.get(ctx)
		if err != nil {
			return false, err
		}
		server = c.server
		b.requests.Add(1)
		err = runOn(ctx, c.Conn, perRequest, fn)
		broken := isConnError(err) || c.IsClosing()
		b.pool.put(c, broken)
		return broken && reused, err
	})
}

func (b *Backend) opContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < b.cfg.timeout {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, b.cfg.timeout)
}

// runOn calls fn on c; when ctx ends first, c is closed and ctx's error
// returned. perRequest (> 0) also bounds each round trip of fn, through
// go-ldap's request timeout, where it is shorter than what ctx leaves.
// Without it go-ldap has no timer of its own: ctx's deadline is enforced
// by closing c, and go-ldap's timeout would cost a goroutine and a timer
// per request and a timer per answer packet (an entry and a done per
// read), a few microseconds of every single-entry request.
func runOn(ctx context.Context, c *goldap.Conn, perRequest time.Duration, fn func(c *goldap.Conn) error) error {
	timeout := time.Duration(0)
	if perRequest > 0 {
		if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > perRequest {
			timeout = perRequest
		}
	}
	c.SetTimeout(timeout)
	stop := context.AfterFunc(ctx, func() { c.Close() })
	err := fn(c)
	if !stop() {
		return ctx.Err()
	}
	return err
}

// isConnError reports errors after which a connection must not be reused.
func isConnError(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var le *goldap.Error
	if errors.As(err, &le) {
		switch le.ResultCode {
		case goldap.ErrorNetwork, goldap.LDAPResultServerDown, goldap.LDAPResultTimeout,
			goldap.LDAPResultConnectError, goldap.ErrorUnexpectedResponse, goldap.ErrorMalformedPacket:
			return true
		}
		return false
	}
	return true
}
