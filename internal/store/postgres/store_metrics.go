package postgres

import "github.com/prometheus/client_golang/prometheus"

// storeMetrics count what the store does in the background, where no
// request carries an error back to a client.
type storeMetrics struct {
	drains        prometheus.Counter
	drainFailures prometheus.Counter
	drainedRuns   prometheus.Counter
}

func newStoreMetrics() *storeMetrics {
	const ns, sub = "billingd", "usage_rollup"
	return &storeMetrics{
		drains: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "drains_total", Help: "Drain transactions of the hourly rollup log that committed."}),
		drainFailures: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "drain_failures_total", Help: "Drain transactions of the hourly rollup log that failed (the hours stay dirty: billing reads their records)."}),
		drainedRuns: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "drained_runs_total", Help: "Dirty runs of hours taken from the hourly rollup log and recomputed."}),
	}
}

// Collectors returns the store's metrics, for a Prometheus registry.
func (s *Store) Collectors() []prometheus.Collector {
	return []prometheus.Collector{s.metrics.drains, s.metrics.drainFailures, s.metrics.drainedRuns}
}
