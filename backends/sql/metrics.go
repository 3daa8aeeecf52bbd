package sql

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// The Backend is a prometheus.Collector of its connection pool (the
// go_sql_* metrics of database/sql: open, in use and idle connections,
// waits for a connection and their total time, connections closed by the
// pool limits); the bridge registers it with a backend=<name> label, and
// db_name is the driver.
var _ prometheus.Collector = (*Backend)(nil)

func newPoolCollector(b *Backend) prometheus.Collector {
	return collectors.NewDBStatsCollector(b.db, b.d.driverName())
}

func (b *Backend) Describe(ch chan<- *prometheus.Desc) { b.stats.Describe(ch) }

func (b *Backend) Collect(ch chan<- prometheus.Metric) { b.stats.Collect(ch) }
