package collector

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the collector's Prometheus series, each labelled with the
// source name.
//
//	billingd_collector_records_collected_total{source}          counter  records a Collect returned and spooled
//	billingd_collector_records_skipped_total{source,reason}     counter  source data that gave no record
//	billingd_collector_records_pushed_total{source,result}      counter  acknowledged records: accepted, duplicate, rejected
//	billingd_collector_errors_total{source,stage}               counter  failed collects, push streams, state writes
//	billingd_collector_pending_windows{source}                  gauge    spooled windows not yet acknowledged
//	billingd_collector_last_collect_timestamp_seconds{source}   gauge    end of the last successful Collect
//	billingd_collector_last_success_timestamp_seconds{source}   gauge    last time a window was acknowledged in full
type Metrics struct {
	Collected   *prometheus.CounterVec
	Skipped     *prometheus.CounterVec
	Pushed      *prometheus.CounterVec
	Errors      *prometheus.CounterVec
	Pending     *prometheus.GaugeVec
	LastCollect *prometheus.GaugeVec
	LastSuccess *prometheus.GaugeVec
}

// Results of an acknowledged record (label "result").
const (
	ResultAccepted  = "accepted"
	ResultDuplicate = "duplicate"
	ResultRejected  = "rejected"
)

// Stages of an error (label "stage").
const (
	StageCollect = "collect"
	StagePush    = "push"
	StageState   = "state"
)

// NewMetrics creates the series and registers them on reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	const ns, sub = "billingd", "collector"
	m := &Metrics{
		Collected: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "records_collected_total", Help: "Records collected and spooled."}, []string{"source"}),
		Skipped: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "records_skipped_total", Help: "Source data that yielded no record, by reason."}, []string{"source", "reason"}),
		Pushed: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "records_pushed_total", Help: "Records billingd acknowledged, by result (accepted, duplicate, rejected)."}, []string{"source", "result"}),
		Errors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "errors_total", Help: "Failed collects, push streams and state writes."}, []string{"source", "stage"}),
		Pending: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "pending_windows", Help: "Collected windows not yet acknowledged by billingd."}, []string{"source"}),
		LastCollect: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "last_collect_timestamp_seconds", Help: "Time of the last successful collect."}, []string{"source"}),
		LastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "last_success_timestamp_seconds", Help: "Time the last window was acknowledged in full."}, []string{"source"}),
	}
	if reg != nil {
		reg.MustRegister(m.Collected, m.Skipped, m.Pushed, m.Errors, m.Pending, m.LastCollect, m.LastSuccess)
	}
	return m
}
