package bridge

import (
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/scimbridge/scimbridge/backends"
)

// Metrics are the Prometheus collectors of one server. Each Server has its
// own registry so that tests can run several servers in one process.
type Metrics struct {
	Registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	authFail *prometheus.CounterVec
	lastUsed *prometheus.GaugeVec
	busy     prometheus.Counter
	limited  *prometheus.CounterVec
	slotBusy *prometheus.CounterVec
	inFlight *prometheus.GaugeVec
}

// NewMetrics registers the collectors.
func NewMetrics() *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "scimbridge_requests_total", Help: "SCIM requests by method, route and status.",
	}, []string{"method", "route", "status"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "scimbridge_request_duration_seconds", Help: "SCIM request latency.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	}, []string{"method", "route"})
	m.authFail = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "scimbridge_auth_failures_total",
		Help: "Requests refused for missing or wrong credentials, by endpoint and reason (missing, malformed, " +
			"unsupported_scheme, unknown_token, expired, unknown_user, wrong_password, limited, other).",
	}, []string{"endpoint", "reason"})
	m.lastUsed = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "scimbridge_token_last_used_timestamp_seconds",
		Help: "When a credential (token or Basic user name; jwt:NAME for a jwt block) last authenticated a request, " +
			"as a Unix time; since the process started.",
	}, []string{"endpoint", "credential"})
	m.busy = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "scimbridge_body_budget_refusals_total", Help: "Requests answered 503 because the bodies in flight held max_body_memory.",
	})
	m.limited = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "scimbridge_rate_limited_total",
		Help: "Requests answered 429 because their credential exceeded rate_limit on the endpoint, by endpoint and credential.",
	}, []string{"endpoint", "credential"})
	m.slotBusy = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "scimbridge_backend_busy_total",
		Help: "Requests answered 503 because every backend_max_concurrency slot of the backend stayed taken for backend_queue_timeout.",
	}, []string{"backend"})
	m.inFlight = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "scimbridge_backend_operations_in_flight",
		Help: "SCIM operations holding one of the backend's backend_max_concurrency slots (a /Bulk request is one).",
	}, []string{"backend"})
	m.Registry.MustRegister(m.requests, m.duration, m.authFail, m.lastUsed, m.busy, m.limited, m.slotBusy, m.inFlight,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Observe records one request.
func (m *Metrics) Observe(method, route string, status int, d time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(method, route).Observe(d.Seconds())
}

// CredentialUsed records that a credential authenticated a request.
func (m *Metrics) CredentialUsed(endpoint, credential string, at time.Time) {
	m.lastUsed.WithLabelValues(endpoint, credential).Set(float64(at.UnixNano()) / 1e9)
}

// AuthFailure counts a refused credential; reason is one of the Reason
// constants (a bounded set: it is a label).
func (m *Metrics) AuthFailure(endpoint, reason string) {
	m.authFail.WithLabelValues(endpoint, reason).Inc()
}

// RateLimited counts a request refused for its credential's rate.
func (m *Metrics) RateLimited(endpoint, credential string) {
	m.limited.WithLabelValues(endpoint, credential).Inc()
}

// BackendBusy counts a request refused for want of a backend slot.
func (m *Metrics) BackendBusy(backend string) { m.slotBusy.WithLabelValues(backend).Inc() }

// BackendInFlight adds delta to the operations holding a backend slot.
func (m *Metrics) BackendInFlight(backend string, delta float64) {
	m.inFlight.WithLabelValues(backend).Add(delta)
}

// BodyBudgetRefusal counts a request refused for want of body memory.
func (m *Metrics) BodyBudgetRefusal() { m.busy.Inc() }

// AddBackends registers the collectors of every backend that is a
// prometheus.Collector (the LDAP backend's calls, pool and id cache; the
// SQL backend's connection pool), each with a backend="<name>" label.
func (m *Metrics) AddBackends(opened map[string]backends.Backend, log hclog.Logger) {
	for _, name := range slices.Sorted(maps.Keys(opened)) {
		c, ok := opened[name].(prometheus.Collector)
		if !ok {
			continue
		}
		reg := prometheus.WrapRegistererWith(prometheus.Labels{"backend": name}, m.Registry)
		if err := reg.Register(c); err != nil {
			log.Warn("backend metrics not registered", "backend", name, "error", err)
		}
	}
}
