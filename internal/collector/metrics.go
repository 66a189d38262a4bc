package collector

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the collector's Prometheus series, each labelled with the
// source name. Every source type gets all of them from the Runner; the ones
// marked "feeds" only move for queue sources.
//
//	billingd_collector_records_collected_total{source}             counter  records a Collect returned and spooled, or a feed received
//	billingd_collector_records_skipped_total{source,reason}        counter  source data (or a feed's message) that gave no record
//	billingd_collector_records_pushed_total{source,result}         counter  acknowledged records: accepted, duplicate, rejected
//	billingd_collector_records_rejected_total{source,field}        counter  records billingd rejected, by offending field
//	billingd_collector_messages_dead_lettered_total{source,reason} counter  feeds: messages moved to the dead letter
//	billingd_collector_push_refused_total{source,code}             counter  push streams billingd refused (bad key, scope…)
//	billingd_collector_errors_total{source,stage}                  counter  failed collects/receives, push streams, state writes, settles
//	billingd_collector_pending_windows{source}                     gauge    spooled windows not yet acknowledged
//	billingd_collector_last_collect_timestamp_seconds{source}      gauge    end of the last successful Collect (or receive)
//	billingd_collector_last_success_timestamp_seconds{source}      gauge    last time a window (or a feed's batch) was acknowledged in full
type Metrics struct {
	Collected    *prometheus.CounterVec
	Skipped      *prometheus.CounterVec
	Pushed       *prometheus.CounterVec
	Rejected     *prometheus.CounterVec
	DeadLettered *prometheus.CounterVec
	Refused      *prometheus.CounterVec
	Errors       *prometheus.CounterVec
	Pending      *prometheus.GaugeVec
	LastCollect  *prometheus.GaugeVec
	LastSuccess  *prometheus.GaugeVec
}

// Results of an acknowledged record (label "result").
const (
	ResultAccepted  = "accepted"
	ResultDuplicate = "duplicate"
	ResultRejected  = "rejected"
)

// Stages of an error (label "stage").
const (
	StageCollect = "collect" // a Collect, or a feed's Receive
	StagePush    = "push"
	StageState   = "state"
	StageSettle  = "settle" // a feed's ack, dead letter or give-back to the broker
)

// NewMetrics creates the series and registers them on reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	const ns, sub = "billingd", "collector"
	m := &Metrics{
		Collected: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "records_collected_total", Help: "Records collected and spooled, or received from a queue."}, []string{"source"}),
		Skipped: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "records_skipped_total", Help: "Source data that yielded no record, by reason."}, []string{"source", "reason"}),
		Pushed: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "records_pushed_total", Help: "Records billingd acknowledged, by result (accepted, duplicate, rejected)."}, []string{"source", "result"}),
		Rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "records_rejected_total", Help: "Records billingd rejected, by offending field."}, []string{"source", "field"}),
		DeadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "messages_dead_lettered_total", Help: "Queue messages moved to the dead letter, by reason."}, []string{"source", "reason"}),
		Refused: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "push_refused_total", Help: "Push streams billingd refused (key, scope, version), by gRPC code."}, []string{"source", "code"}),
		Errors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "errors_total", Help: "Failed collects, push streams, state writes and message settlements."}, []string{"source", "stage"}),
		Pending: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "pending_windows", Help: "Collected windows not yet acknowledged by billingd."}, []string{"source"}),
		LastCollect: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "last_collect_timestamp_seconds", Help: "Time of the last successful collect."}, []string{"source"}),
		LastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "last_success_timestamp_seconds", Help: "Time the last window was acknowledged in full."}, []string{"source"}),
	}
	if reg != nil {
		reg.MustRegister(m.Collected, m.Skipped, m.Pushed, m.Rejected, m.DeadLettered, m.Refused, m.Errors,
			m.Pending, m.LastCollect, m.LastSuccess)
	}
	return m
}

// fillMissing gives unregistered series to the fields a Metrics built by
// hand (before a field existed) left nil.
func (m *Metrics) fillMissing() {
	d := NewMetrics(nil)
	for _, f := range []struct{ dst, src **prometheus.CounterVec }{
		{&m.Collected, &d.Collected}, {&m.Skipped, &d.Skipped}, {&m.Pushed, &d.Pushed}, {&m.Rejected, &d.Rejected},
		{&m.DeadLettered, &d.DeadLettered}, {&m.Refused, &d.Refused}, {&m.Errors, &d.Errors},
	} {
		if *f.dst == nil {
			*f.dst = *f.src
		}
	}
	for _, f := range []struct{ dst, src **prometheus.GaugeVec }{
		{&m.Pending, &d.Pending}, {&m.LastCollect, &d.LastCollect}, {&m.LastSuccess, &d.LastSuccess},
	} {
		if *f.dst == nil {
			*f.dst = *f.src
		}
	}
}
