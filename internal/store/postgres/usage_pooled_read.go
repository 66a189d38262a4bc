package postgres

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/billing"
)

// sqlScanPooled reads what sqlScanUsage (billing.go) reads for the pooled
// metrics $2, from pooled hours (migration 0014) where they stand for
// their records, in the columns of colsBillingUsage, then kind (0 a
// record, 2 a pooled hour) and the pool's sum, integral and records.
//
// An hour of a metric is read record by record ("dirty" below, as in
// sqlScanHourly, whose fragments it shares) when it has a row in
// usage_hourly_dirty (records its pools do not hold yet), was left sparse
// (not pooled), has records reaching past its end, or, for a gauge ($6),
// point samples. Every other hour is its pools, or has no records. The
// statement has one snapshot, in which each hour is either read raw or
// pooled with all its committed records.
// Rows:
//   - the pools of the other hours in [$3, $4) (kind 2);
//   - every record of the dirty hours in [$3, $4), and those of the dirty
//     hours in [$5, $3) that end after $3;
//   - per gauge series, the latest sample in [$5, $3): samples are only in
//     dirty hours.
const (
	sqlPooledRawHours = `
			SELECT metric_key, hour FROM usage_pooled_hours
			WHERE customer_id = $1 AND metric_key = ANY($2) AND hour >= $5 AND hour < $4
				AND (sparse OR spans > 0 OR (points > 0 AND metric_key = ANY($6)))
			UNION
			SELECT d.metric_key, x.hour
			FROM usage_hourly_dirty d,
				generate_series(greatest(d.first_hour, $5), least(d.last_hour, $4 - interval '1 hour'), interval '1 hour') AS x(hour)
			WHERE d.customer_id = $1 AND d.metric_key = ANY($2) AND d.first_hour < $4 AND d.last_hour >= $5`

	colsPooledNone = "NULL::text, NULL::text, NULL::text"

	sqlScanPooledTemplate = `
		WITH dirty AS MATERIALIZED (` + sqlPooledRawHours + `)
		SELECT metric_key, NULL::text, hour, hour + interval '1 hour', hour,
			''::text, organisation_id, vdc_id, site, dimensions::text, 2::int2,
			sum::text, integral::text, records::text
		FROM usage_pooled u
		WHERE customer_id = $1 AND metric_key = ANY($2) AND hour >= $3 AND hour < $4
			AND NOT ((metric_key, hour) IN (SELECT metric_key, hour FROM dirty)) -- a hashed subplan, not a loop per pool
		UNION ALL
		SELECT r.metric_key, r.quantity::text, r.start_time, r.end_time, r.receive_time,
			r.resource_id, r.organisation_id, r.vdc_id, r.site, r.dimensions::text, 0::int2, ` + colsPooledNone + `
		FROM DIRTY_NOW
		WHERE d.hour >= $3 OR r.end_time > $3
		UNION ALL
		SELECT * FROM (
			SELECT DISTINCT ON (r.metric_key, r.resource_id, r.organisation_id, r.vdc_id, r.site, r.dimensions)
				r.metric_key, r.quantity::text, r.start_time, r.end_time, r.receive_time,
				r.resource_id, r.organisation_id, r.vdc_id, r.site, r.dimensions::text, 0::int2, ` + colsPooledNone + `
			FROM DIRTY_BEFORE
			WHERE d.metric_key = ANY($6) AND d.hour < $3 AND r.end_time = r.start_time
			ORDER BY r.metric_key, r.resource_id, r.organisation_id, r.vdc_id, r.site, r.dimensions,
				r.start_time DESC, r.receive_time DESC, r.quantity DESC
		) AS carried`
)

// The two forms of sqlScanPooled, as of sqlScanHourly.
var sqlScanPooledByHour, sqlScanPooledByRange = readForms(sqlScanPooledTemplate)

// sqlCountPooled counts the window's hours of the pooled metrics that are
// read record by record, and the pools of [$3, $4) with the records they
// sum up: hints for whether pools pay and for the form, as sqlCountRolled
// is.
const sqlCountPooled = `SELECT (SELECT count(*) FROM (` + sqlPooledRawHours + `) h),
	count(*), coalesce(sum(records), 0)
	FROM usage_pooled WHERE customer_id = $1 AND metric_key = ANY($2) AND hour >= $3 AND hour < $4`

// scanPooled reads w's pooled metrics (w.Pool) as pooled hours and the
// records of the hours pools do not stand for, and its other metrics as
// ScanUsage would, all in one snapshot. When the window has no pools, or
// pools of fewer than 1.5 records each, it reads w as scanHourly does. w
// is hour aligned.
func (b billingReader) scanPooled(ctx context.Context, w billing.UsageWindow, fn func(*billing.UsageRow) error) error {
	rest := w
	rest.Metrics = slices.DeleteFunc(slices.Clone(w.Metrics), func(k string) bool { return slices.Contains(w.Pool, k) })
	pooled := w
	pooled.Metrics = w.Pool
	// The counts are hints, read before the snapshot: each form is exact.
	key := readHintKey{hintPooled, w.CustomerID, strings.Join(w.Pool, ","), w.From.UnixNano(), w.To.UnixNano()}
	h, ok := b.s.hints.get(key, time.Now())
	if !ok {
		if err := b.q.QueryRow(ctx, sqlCountPooled, b.args(pooled)...).Scan(&h.raw, &h.pools, &h.records); err != nil {
			return mapErr(err)
		}
		b.s.hints.put(key, h, time.Now())
	}
	raw, pools, records := h.raw, h.pools, h.records
	form := sqlScanPooledByHour
	hours := int64(w.To.Sub(w.From.Add(-w.Lookback)).Hours()) * int64(len(pooled.Metrics))
	switch f := hourlyForm.Load(); {
	case f == 0 && (pools == 0 || 2*records < 3*pools):
		// No pools (every hour sparse or sampled), or pools of fewer than
		// 1.5 records each: reading them saves next to nothing.
		return b.scanHourly(ctx, w, fn)
	case f == 2 || f == 0 && 4*raw > hours:
		form = sqlScanPooledByRange
	}
	if len(rest.Metrics) == 0 {
		return b.scan(ctx, form, pooled, fn) // one statement, one snapshot
	}
	return pgx.BeginTxFunc(ctx, b.s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		in := billingReader{s: b.s, q: tx}
		if err := in.scan(ctx, form, pooled, fn); err != nil {
			return err
		}
		return in.scanHourly(ctx, rest, fn)
	})
}

// readHints keeps the counts the usage reads take as hints (sqlCountPooled,
// sqlCountRolled) for readHintTTL. They only choose how to read, every way
// being exact, and a month read again and again (a console, an ERP
// polling, many clients) need not be counted for every query: the pooled
// count read as many rows as the pooled read itself.
type readHints struct {
	mu sync.Mutex
	m  map[readHintKey]readHint
}

type readHintKey struct {
	kind              byte // hintPooled, hintRolled
	customer, metrics string
	from, to          int64
}

const (
	hintPooled byte = iota + 1
	hintRolled
)

type readHint struct {
	raw, pools, records int64 // sqlCountPooled
	rolled              int64 // sqlCountRolled
	at                  time.Time
}

const (
	readHintTTL  = 30 * time.Second
	maxReadHints = 4096 // then they are all dropped: a few counts more
)

func (h *readHints) get(k readHintKey, now time.Time) (readHint, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	v, ok := h.m[k]
	return v, ok && now.Sub(v.at) < readHintTTL
}

func (h *readHints) put(k readHintKey, v readHint, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil || len(h.m) >= maxReadHints {
		h.m = map[readHintKey]readHint{}
	}
	v.at = now
	h.m[k] = v
}
