package ldap

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"unicode"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the backend's Prometheus collectors. The Backend is a
// prometheus.Collector; the bridge registers it with a backend=<name>
// label.
type metrics struct {
	calls    *prometheus.CounterVec
	success  prometheus.Counter // calls{result="success"}, the common case
	duration prometheus.Histogram
	dials    *prometheus.CounterVec
	cache    *prometheus.CounterVec
	stale    prometheus.Counter
	all      []prometheus.Collector
}

func newMetrics() *metrics {
	m := &metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scimbridge_ldap_calls_total",
			Help: "Directory calls (one connection use: a request, or the pages of a paged search) by result: success, the LDAP result code's name (noSuchObject, insufficientAccessRights, ...), timeout, canceled or unavailable.",
		}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "scimbridge_ldap_call_duration_seconds",
			Help:    "Directory call latency, including the wait for a pooled connection.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		dials: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scimbridge_ldap_dials_total",
			Help: "Connections opened and bound, by server and result (success or failure).",
		}, []string{"server", "result"}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scimbridge_ldap_id_cache_lookups_total",
			Help: "id to DN lookups in the cache, by result (hit or miss).",
		}, []string{"result"}),
		stale: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "scimbridge_ldap_stale_dns_total",
			Help: "Cached DNs that no longer named their entry (renamed or moved outside the bridge) and were looked up again.",
		}),
	}
	m.success = m.calls.WithLabelValues("success")
	m.all = []prometheus.Collector{m.calls, m.duration, m.dials, m.cache, m.stale}
	return m
}

// watchPool adds the gauges of p's use.
func (m *metrics) watchPool(p *pool) {
	inUse := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "scimbridge_ldap_pool_in_use", Help: "Pooled connections in use.",
	}, func() float64 { return float64(len(p.sem)) })
	idle := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "scimbridge_ldap_pool_idle", Help: "Pooled connections open and idle.",
	}, func() float64 {
		p.mu.Lock()
		defer p.mu.Unlock()
		return float64(len(p.idle))
	})
	size := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "scimbridge_ldap_pool_size", Help: "Most connections in use at once (pool_size).",
	}, func() float64 { return float64(cap(p.sem)) })
	m.all = append(m.all, inUse, idle, size)
}

// watchReads adds the counter of entries read.
func (m *metrics) watchReads(n *atomic.Int64) {
	m.all = append(m.all, prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "scimbridge_ldap_entries_read_total",
		Help: "Entries the directory returned to searches: reads, lookups, pages of listings, and the names that the counts behind totalResults read.",
	}, func() float64 { return float64(n.Load()) }))
}

// Describe and Collect make the Backend a prometheus.Collector.
func (b *Backend) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range b.metrics.all {
		c.Describe(ch)
	}
}

func (b *Backend) Collect(ch chan<- prometheus.Metric) {
	for _, c := range b.metrics.all {
		c.Collect(ch)
	}
}

// resultLabel names the outcome of a call.
func resultLabel(err error) string {
	var le *goldap.Error
	switch {
	case err == nil:
		return "success"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &le):
		return codeName(le.ResultCode)
	}
	return "unavailable"
}

// codeName turns go-ldap's "No Such Object" into noSuchObject.
func codeName(code uint16) string {
	text, ok := goldap.LDAPResultCodeMap[code]
	if !ok {
		return "other"
	}
	var sb strings.Builder
	for i, w := range strings.Fields(text) {
		r := []rune(w)
		if i == 0 {
			r[0] = unicode.ToLower(r[0])
		} else {
			r[0] = unicode.ToUpper(r[0])
		}
		sb.WriteString(string(r))
	}
	return sb.String()
}
