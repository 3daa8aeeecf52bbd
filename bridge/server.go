// Package bridge is the SCIM 2.0 HTTP service: routes, authentication,
// request parsing, responses and errors. Resource semantics live in
// Resource; SCIM data handling in bridge/scim; the attribute mapping in
// bridge/mapping; configuration in bridge/config.
package bridge

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/scimbridge/scimbridge/backends"
	"github.com/scimbridge/scimbridge/bridge/config"
	"github.com/scimbridge/scimbridge/bridge/scim"
)

// Endpoint is one SCIM service mounted at a base path.
type Endpoint struct {
	Name     string
	BasePath string
	Auth     *Authenticator
	Users    *Resource
	Groups   *Resource
	Backend  backends.Backend
	// BulkTransaction runs each /Bulk request in one transaction of the
	// backend (bulk_transaction = true).
	BulkTransaction bool
	// Protocol: config.ProtocolSCIM2 or config.ProtocolSCIM11 (scim11.go).
	Protocol string
	// rates limits each credential's requests (ratelimit.go); slots the
	// operations in flight toward the backend (backendlimit.go; nil: no
	// limit).
	rates *rateLimiter
	slots *backendSlots
}

// Server holds the Fiber app and the endpoints.
type Server struct {
	// lastHost is the last Host that baseURL found fit for a URL.
	lastHost atomic.Pointer[string]

	App       *fiber.App
	Log       hclog.Logger
	Settings  config.Settings
	Endpoints []*Endpoint
	Metrics   *Metrics

	ridPrefix  [8]byte
	ridCounter atomic.Uint64
	// stopLookups ends the refreshing of lookup tables (Close).
	stopLookups func()
	// audit writes the audit trail (audit_log); nil when off.
	audit *auditLog
	// stopJWKS ends the refreshing of JWT signing keys (Close).
	jwksCtx  context.Context
	stopJWKS func()
	budget   *bodyBudget
	proxies  proxies // trusted_proxies
	// oauth2DBs are the oauth2 token stores opened, by store (Close);
	// a reload may add to them.
	oauth2Mu  sync.Mutex
	oauth2DBs map[string]*oauth2DB
}

// New builds the HTTP service for a loaded configuration and opened backends.
func New(cfg *config.Config, opened map[string]backends.Backend, log hclog.Logger) (*Server, error) {
	s := &Server{Log: log, Settings: cfg.Settings, Metrics: NewMetrics(),
		budget: &bodyBudget{limit: int64(cfg.Settings.MaxBodyMemory)}, proxies: parseProxies(cfg.Settings.TrustedProxies)}
	_, _ = rand.Read(s.ridPrefix[:])
	s.audit = newAuditLog(cfg.Settings)
	lim := Limits{MaxResults: cfg.Settings.MaxResults, DefaultCount: cfg.Settings.DefaultCount,
		MaxOperations: cfg.Settings.MaxOperations, MaxMembers: cfg.Settings.MaxMembersPerPatch,
		MaxFilterScan: cfg.Settings.MaxFilterScan, MaxValueBytes: cfg.Settings.MaxValueBytes}
	scans := newScanLimiter(cfg.Settings.MaxConcurrentScans)
	slots := map[string]*backendSlots{}
	for name := range opened {
		slots[name] = newBackendSlots(name, cfg.Settings.BackendMaxConcurrency, cfg.Settings.BackendQueueTimeout)
	}
	s.Metrics.AddBackends(opened, log)
	s.Metrics.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "scimbridge_body_memory_bytes", Help: "Memory held by the bodies of requests in flight, as charged to max_body_memory.",
	}, func() float64 { return float64(s.budget.used.Load()) }))
	// JWT signing keys are fetched until Close (a reload's too).
	s.jwksCtx, s.stopJWKS = context.WithCancel(context.Background())
	if err := s.startLookups(cfg, opened, log); err != nil {
		return nil, err
	}
	for _, ec := range cfg.Endpoints {
		b := opened[ec.Backend]
		if b == nil {
			s.Close()
			return nil, fmt.Errorf("endpoint %s: backend %q is not open", ec.Name, ec.Backend)
		}
		elog := log.Named(ec.Name)
		ep := &Endpoint{Name: ec.Name, BasePath: ec.BasePath, Auth: NewAuthenticator(ec.Tokens, ec.Basic), Backend: b, BulkTransaction: ec.BulkTransaction, Protocol: ec.Protocol}
		ep.slots = slots[ec.Backend]
		ep.rates = newRateLimiter(cfg.Settings.RateLimit, cfg.Settings.RateLimitBurst)
		if _, ok := b.(transactor); ec.BulkTransaction && !ok {
			s.Close()
			return nil, fmt.Errorf("endpoint %s: bulk_transaction = true needs a backend that runs transactions (sql); backend %q does not", ec.Name, ec.Backend)
		}
		if len(ec.JWTs) > 0 {
			if err := ep.Auth.AcceptJWTs(s.jwksCtx, ec.JWTs, elog.Named("jwt")); err != nil {
				s.Close()
				return nil, fmt.Errorf("endpoint %s: %w", ec.Name, err)
			}
		}
		o, _, err := s.buildOAuth2(context.Background(), ec, elog.Named("oauth2"))
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("endpoint %s: %w", ec.Name, err)
		}
		if o != nil {
			ep.Auth.creds.Load().oauth2 = o // not yet serving
			s.logOAuth2URLs(ec, o, nil, elog.Named("oauth2"))
		}
		ep.Users = NewResource(ec.Users, b, elog.Named("users"), lim)
		ep.Users.scans = scans
		ep.Users.IgnoreUnknown = ec.UnknownAttributes == "ignore"
		ep.Users.RejectUnknownManager = ec.UnknownManager == "reject"
		if ec.Groups != nil {
			ep.Groups = NewResource(ec.Groups, b, elog.Named("groups"), lim)
			ep.Groups.scans = scans
			ep.Groups.IgnoreUnknown = ec.UnknownAttributes == "ignore"
			ep.Groups.users = ep.Users
		}
		s.Endpoints = append(s.Endpoints, ep)
	}
	s.App = fiber.New(fiber.Config{
		AppName:               "scimbridge",
		DisableStartupMessage: true,
		// Bodies are read by the handlers, after authentication (readBody).
		StreamRequestBody: true,
		BodyLimit:         readBodyLimit(cfg.Settings.MaxBodyBytes),
		// The headers must arrive within header_timeout; the body then has
		// the request's time (HeaderReceived below).
		ReadTimeout:    cfg.Settings.HeaderTimeout,
		Concurrency:    cfg.Settings.MaxConnections,
		WriteTimeout:   cfg.Settings.RequestTimeout + 5*time.Second,
		IdleTimeout:    120 * time.Second,
		ReadBufferSize: 16 << 10, // long filters live in the request line
		Immutable:      true,
		ErrorHandler:   s.errorHandler,
		JSONEncoder:    json.Marshal,
		JSONDecoder:    json.Unmarshal,
		// Forwarded headers only from trusted_proxies (none by default):
		// c.Protocol, c.Hostname and c.IP (through clientIPHeader, which
		// forwardedFor sets) see the peer's own values otherwise.
		EnableTrustedProxyCheck: true,
		TrustedProxies:          cfg.Settings.TrustedProxies,
		ProxyHeader:             clientIPHeader,
	})
	bodyTime := fasthttp.RequestConfig{ReadTimeout: cfg.Settings.RequestTimeout + 5*time.Second}
	s.App.Server().HeaderReceived = func(*fasthttp.RequestHeader) fasthttp.RequestConfig { return bodyTime }
	s.App.Use(s.forwardedFor)
	s.App.Use(s.requestContext)
	s.App.Get("/healthz", func(c *fiber.Ctx) error { return c.SendString("ok") })
	s.App.Get("/readyz", s.ready)
	for _, ep := range s.Endpoints {
		s.mount(ep)
	}
	return s, nil
}

// newRequestID returns a process-unique id: a random prefix chosen at
// start and a counter (no system call per request).
func (s *Server) newRequestID() string {
	var b [16]byte
	copy(b[:8], s.ridPrefix[:])
	binary.BigEndian.PutUint64(b[8:], s.ridCounter.Add(1))
	return hex.EncodeToString(b[:6]) + "-" + hex.EncodeToString(b[12:])
}

type ctxKey int

const (
	keyLog ctxKey = iota
	keyBodyCharge
	keyAudit
)

var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// requestContext assigns a request id (the client's X-Request-Id when it is
// sane), puts a logger carrying it in the context, bounds the request's
// time and logs the outcome.
func (s *Server) requestContext(c *fiber.Ctx) error {
	rid := c.Get("X-Request-Id")
	if !requestIDRE.MatchString(rid) {
		rid = s.newRequestID()
	}
	c.Set("X-Request-Id", rid)
	// The request's logger is made when something logs (most requests
	// log nothing): hclog's With copies the logger.
	lazy := &requestLog{base: s.Log, rid: rid}
	c.Locals(keyLog, lazy)
	ctx, cancel := context.WithTimeout(context.Background(), s.Settings.RequestTimeout)
	defer cancel()
	c.SetUserContext(ctx)
	start := time.Now()
	charge := &bodyCharge{s: s}
	c.Locals(keyBodyCharge, charge)
	defer charge.release()
	err := c.Next()
	s.discardBody(c)
	if err != nil {
		if herr := s.errorHandler(c, err); herr != nil {
			return herr
		}
	}
	status := c.Response().StatusCode()
	if s.audit != nil {
		s.finishAudit(c, rid, status, time.Since(start))
	}
	route := c.Route().Path
	s.Metrics.Observe(c.Method(), route, status, time.Since(start))
	if s.Log.IsDebug() {
		lazy.get().Debug("request", "method", c.Method(), "path", c.Path(), "status", status, "duration", time.Since(start))
	}
	return nil
}

// requestLog is a request's logger, carrying its request id, made on
// first use (a request is served by one goroutine at a time).
type requestLog struct {
	base hclog.Logger
	rid  string
	l    hclog.Logger
}

func (r *requestLog) get() hclog.Logger {
	if r.l == nil {
		r.l = r.base.With("request_id", r.rid)
	}
	return r.l
}

func logger(c *fiber.Ctx) hclog.Logger {
	if l, ok := c.Locals(keyLog).(*requestLog); ok {
		return l.get()
	}
	return hclog.NewNullLogger()
}

// errorHandler renders every error as an RFC 7644 error body. A cause the
// body does not show (every 5xx, and refusals whose detail stands in for a
// directory's message or a native name) is logged with the request id, and
// the detail ends with that id so that an admin can find the line.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	e, body := s.errorBody(c, err)
	if e.RetryAfter > 0 {
		c.Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	if e.Status == 401 {
		c.Set("WWW-Authenticate", `Bearer realm="scimbridge"`)
	}
	if e.Status == http.StatusMethodNotAllowed {
		c.Set("Allow", "GET, POST, PUT, PATCH, DELETE")
	}
	return s.writeJSON(c, e.Status, body)
}

// errorBody logs err as errorHandler says and returns its RFC 7644 body
// (also the response of a failed /Bulk operation).
func (s *Server) errorBody(c *fiber.Ctx, err error) (*scim.Error, map[string]any) {
	e := ToSCIMError(err)
	log := logger(c)
	switch {
	case errors.Is(err, errBackendBusy):
		log.Debug("request refused: backend busy", "method", c.Method(), "path", c.Path())
	case e.Status == 503:
		// The directory is down: one line per request, not an error of ours.
		log.Warn("directory unavailable", "method", c.Method(), "path", c.Path(), "error", err)
	case errors.Is(err, backends.ErrConfig):
		log.Error("request failed: the configuration does not fit the directory; fix the mapping or the backend block",
			"method", c.Method(), "path", c.Path(), "status", e.Status, "error", err)
	case e.Status >= 500:
		log.Error("request failed", "method", c.Method(), "path", c.Path(), "status", e.Status, "error", err)
	case e.Withheld:
		log.Info("request refused", "method", c.Method(), "path", c.Path(), "status", e.Status, "detail", e.Detail, "cause", causeOf(e, err))
	default:
		log.Debug("request refused", "method", c.Method(), "path", c.Path(), "status", e.Status, "detail", e.Detail)
	}
	body := e.Body()
	if rid := requestID(c); rid != "" && (e.Status >= 500 || e.Withheld) {
		body["detail"] = e.Detail + " (request id " + rid + ")"
	}
	return e, body
}

// causeOf is what to log for a refusal: its cause, or the error itself.
func causeOf(e *scim.Error, err error) error {
	if e.Cause != nil {
		return e.Cause
	}
	return err
}

// requestID is the id requestContext gave the request.
func requestID(c *fiber.Ctx) string {
	if l, ok := c.Locals(keyLog).(*requestLog); ok && l.rid != "" {
		return l.rid
	}
	return string(c.Response().Header.Peek("X-Request-Id"))
}

func (s *Server) writeJSON(c *fiber.Ctx, status int, body any) error {
	buf := jsonBuffers.Get().(*[]byte)
	defer func() {
		if cap(*buf) <= 1<<20 { // a rare huge answer does not stay
			jsonBuffers.Put(buf)
		}
	}()
	b, err := appendJSON((*buf)[:0], body)
	if err != nil {
		return err
	}
	*buf = b
	c.Status(status)
	c.Set("Content-Type", contentType(c))
	c.Response().SetBody(b) // a copy: b goes back to the pool
	return nil
}

// jsonBuffers are writeJSON's scratch buffers.
var jsonBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// contentType negotiates the response type: application/scim+json unless
// the client asks for application/json only (OneLogin's documentation).
func contentType(c *fiber.Ctx) string {
	accept := strings.ToLower(c.Get("Accept"))
	if strings.Contains(accept, "application/json") && !strings.Contains(accept, "application/scim+json") {
		return "application/json; charset=utf-8"
	}
	return "application/scim+json; charset=utf-8"
}

func (s *Server) ready(c *fiber.Ctx) error {
	for _, ep := range s.Endpoints {
		if p, ok := ep.Backend.(backends.Pinger); ok {
			ctx, cancel := context.WithTimeout(c.UserContext(), 3*time.Second)
			err := p.Ping(ctx)
			cancel()
			if err != nil {
				logger(c).Warn("readiness check failed", "endpoint", ep.Name, "error", err)
				return c.Status(503).SendString("backend unavailable")
			}
		}
	}
	return c.SendString("ok")
}

func (s *Server) mount(ep *Endpoint) {
	s.mountOAuth2(ep)
	if ep.Protocol == config.ProtocolSCIM11 {
		s.mount11(ep)
		return
	}
	g := s.App.Group(ep.BasePath, s.authenticate(ep))
	g.Get("/ServiceProviderConfig", func(c *fiber.Ctx) error { return s.writeJSON(c, 200, s.serviceProviderConfig(c, ep)) })
	g.Get("/Schemas", func(c *fiber.Ctx) error { return s.writeJSON(c, 200, s.schemasList(c, ep)) })
	g.Get("/Schemas/:id", func(c *fiber.Ctx) error { return s.schemaByID(c, ep) })
	g.Get("/ResourceTypes", func(c *fiber.Ctx) error { return s.writeJSON(c, 200, s.resourceTypesList(c, ep)) })
	g.Get("/ResourceTypes/:id", func(c *fiber.Ctx) error { return s.resourceTypeByID(c, ep) })
	g.Post("/.search", s.rootSearch(ep))
	if s.Settings.BulkMaxOperations > 0 {
		g.Post("/Bulk", s.bulk(ep))
	}
	s.mountResource(g, ep, ep.Users, "users")
	if ep.Groups != nil {
		s.mountResource(g, ep, ep.Groups, "groups")
	}
}

func (s *Server) mountResource(g fiber.Router, ep *Endpoint, r *Resource, scope string) {
	base := r.RT.Endpoint
	h := &handler{s: s, ep: ep, r: r, scope: scope}
	g.Get(base, h.need("get", h.list))
	g.Post(base+"/.search", h.need("get", h.search))
	g.Post(base, h.need("post", h.create))
	g.Get(base+"/:id", h.need("get", h.get))
	g.Put(base+"/:id", h.need("put", h.replace))
	g.Patch(base+"/:id", h.need("patch", h.patch))
	g.Delete(base+"/:id", h.need("delete", h.delete))
}

// authenticate checks credentials for every route of an endpoint.
func (s *Server) authenticate(ep *Endpoint) fiber.Handler {
	ep.Auth.LimitFailures(s.Settings.AuthFailureLimit, s.Settings.AuthFailureWindow)
	return func(c *fiber.Ctx) error {
		addr := c.IP()
		p, err := ep.Auth.Authenticate(c.Get("Authorization"), addr)
		if err != nil {
			s.authRefused(c, ep, addr, err)
			return err
		}
		s.Metrics.CredentialUsed(ep.Name, p.Name, time.Now())
		if err := s.rateLimit(c, ep, p); err != nil {
			return err
		}
		c.Locals("principal", p)
		return c.Next()
	}
}

type handler struct {
	s     *Server
	ep    *Endpoint
	r     *Resource
	scope string
}

func (h *handler) need(verb string, next fiber.Handler) fiber.Handler {
	scope := verb + ":" + h.scope
	return func(c *fiber.Ctx) error {
		p, _ := c.Locals("principal").(*Principal)
		if p == nil || !p.Scopes[scope] {
			return scim.Errorf(403, "", "the credential lacks the %q scope", scope)
		}
		switch c.Method() {
		case fiber.MethodPost, fiber.MethodPut, fiber.MethodPatch:
			if err := h.s.readBody(c); err != nil {
				return err
			}
		}
		if verb != "get" {
			h.s.startAudit(c, h.ep, h.r)
		}
		release, err := h.s.backendSlot(c, h.ep)
		if err != nil {
			return err
		}
		defer release()
		return next(c)
	}
}

// decodeBody parses a JSON object body.
func decodeBody(c *fiber.Ctx) (map[string]any, error) {
	// The body readBody took (not c.Body(), which copies it and would
	// decode a Content-Encoding again, without a limit).
	body := c.Request().Body()
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, scim.BadRequest(scim.TypeInvalidSyntax, "the request body is empty")
	}
	if !utf8.Valid(body) {
		return nil, scim.BadRequest(scim.TypeInvalidSyntax, "the body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, scim.BadRequest(scim.TypeInvalidSyntax, "the body is not valid JSON: %s", jsonErr(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, scim.BadRequest(scim.TypeInvalidSyntax, "unexpected data after the JSON object")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, scim.BadRequest(scim.TypeInvalidSyntax, "the body must be a JSON object")
	}
	return obj, nil
}

func jsonErr(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s at offset %d", se.Error(), se.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of input"
	}
	return "malformed JSON"
}

func (h *handler) id(c *fiber.Ctx) (string, error) {
	id := c.Params("id")
	if id == "" || len(id) > 1024 {
		return "", scim.NotFound("resource not found")
	}
	return id, nil
}

func (h *handler) location(c *fiber.Ctx, id string) string {
	return h.s.baseURL(c) + h.ep.BasePath + h.r.RT.Endpoint + "/" + id
}

func (h *handler) create(c *fiber.Ctx) error {
	proj, err := h.projectionOf(c)
	if err != nil {
		return err
	}
	body, err := decodeBody(c)
	if err != nil {
		return err
	}
	doc, err := h.r.Create(c.UserContext(), body)
	if err != nil {
		return err
	}
	c.Set("Location", h.location(c, doc["id"].(string)))
	return h.respond(c, 201, doc, proj)
}

func (h *handler) get(c *fiber.Ctx) error {
	id, err := h.id(c)
	if err != nil {
		return err
	}
	proj, err := h.projectionOf(c)
	if err != nil {
		return err
	}
	doc, err := h.r.Get(c.UserContext(), id, proj.wants("members") && h.access(c).readable("members"))
	if err != nil {
		return err
	}
	return h.respond(c, 200, doc, proj)
}

// projectionOf parses attributes / excludedAttributes before anything is
// written, so that a bad list refuses the request instead of failing after
// the write.
func (h *handler) projectionOf(c *fiber.Ctx) (projection, error) {
	return h.access(c).projection(c.Query("attributes"), c.Query("excludedAttributes"))
}

// respond writes a resource with its ETag, projected as the request's
// attributes / excludedAttributes ask, without what the credential may
// not read.
func (h *handler) respond(c *fiber.Ctx, status int, doc scim.Doc, proj projection) error {
	h.access(c).strip(doc)
	h.decorate(c, doc)
	c.Set("ETag", doc["meta"].(map[string]any)["version"].(string))
	return h.s.writeJSON(c, status, proj.apply(h.r.RT, doc))
}

// decorate adds schemas and meta.
func (h *handler) decorate(c *fiber.Ctx, doc scim.Doc) {
	schemas := []string{h.r.RT.Schema.ID}
	for _, e := range h.r.RT.Extensions {
		if _, ok := doc[e.Schema.ID]; ok {
			schemas = append(schemas, e.Schema.ID)
		}
	}
	doc["schemas"] = schemas
	meta, _ := doc["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
	}
	meta["resourceType"] = h.r.RT.Name
	id, _ := doc["id"].(string)
	meta["location"] = h.location(c, id)
	if _, ok := meta["version"]; !ok {
		meta["version"] = Version(doc)
	}
	doc["meta"] = meta
	if list, ok := doc["members"].([]any); ok {
		base := h.s.baseURL(c) + h.ep.BasePath + "/Users/"
		for _, el := range list {
			if m, ok := el.(map[string]any); ok {
				if v, ok := m["value"].(string); ok {
					m["$ref"] = base + v
				}
			}
		}
	}
	if list, ok := doc["groups"].([]any); ok {
		base := h.s.baseURL(c) + h.ep.BasePath + "/Groups/"
		for _, el := range list {
			if m, ok := el.(map[string]any); ok {
				if v, ok := m["value"].(string); ok {
					m["$ref"] = base + v
				}
			}
		}
	}
}

func (h *handler) replace(c *fiber.Ctx) error {
	proj, err := h.projectionOf(c)
	if err != nil {
		return err
	}
	id, err := h.id(c)
	if err != nil {
		return err
	}
	body, err := decodeBody(c)
	if err != nil {
		return err
	}
	doc, err := h.r.Replace(c.UserContext(), id, body, c.Get("If-Match"))
	if err != nil {
		return err
	}
	return h.respond(c, 200, doc, proj)
}

func (h *handler) patch(c *fiber.Ctx) error {
	proj, err := h.projectionOf(c)
	if err != nil {
		return err
	}
	id, err := h.id(c)
	if err != nil {
		return err
	}
	raw, err := decodeBody(c)
	if err != nil {
		return err
	}
	ops, err := patchOps(raw)
	if err != nil {
		return err
	}
	if err := h.access(c).checkPatchPaths(ops); err != nil {
		return err
	}
	doc, err := h.r.Patch(c.UserContext(), id, ops, c.Get("If-Match"))
	if err != nil {
		return err
	}
	if h.r.RT.Name == backends.Group && c.Query("attributes") == "" {
		h.decorate(c, doc)
		c.Set("ETag", doc["meta"].(map[string]any)["version"].(string))
		return c.SendStatus(204)
	}
	return h.respond(c, 200, doc, proj)
}

// patchOps reads the Operations of a PatchOp body.
func patchOps(raw map[string]any) ([]scim.PatchOp, error) {
	var ops []scim.PatchOp
	for k, v := range raw {
		if !strings.EqualFold(k, "Operations") {
			continue
		}
		list, ok := v.([]any)
		if !ok {
			return nil, scim.BadRequest(scim.TypeInvalidSyntax, "Operations must be an array")
		}
		for _, el := range list {
			m, ok := el.(map[string]any)
			if !ok {
				return nil, scim.BadRequest(scim.TypeInvalidSyntax, "each operation must be an object")
			}
			var op scim.PatchOp
			for ok, ov := range m {
				switch strings.ToLower(ok) {
				case "op":
					op.Op, _ = ov.(string)
				case "path":
					p, isStr := ov.(string)
					if !isStr && ov != nil {
						return nil, scim.BadRequest(scim.TypeInvalidPath, "path must be a string")
					}
					op.Path = p
				case "value":
					op.Value = ov
				}
			}
			ops = append(ops, op)
		}
	}
	return ops, nil
}

func (h *handler) delete(c *fiber.Ctx) error {
	id, err := h.id(c)
	if err != nil {
		return err
	}
	if err := h.r.Delete(c.UserContext(), id); err != nil {
		return err
	}
	return c.SendStatus(204)
}
