package postgres

import (
	"context"
	"strings"
	"sync/atomic"
	"time"

	"github.com/billingd/billingd/internal/billing"
)

// sqlScanHourly reads what sqlScanUsage (billing.go) reads, from hourly
// rollups where they are current, for From, To and From − lookback on UTC
// hours, in the columns of colsBillingUsage (receive_time = start for a
// record kept in a rollup), then hourly (0 a record, 1 a rollup of the
// hour) and the rollup's columns.
//
// An hour of a (customer, metric) is read from rollups only when it is
// marked in usage_hourly_rolled and has no row in usage_hourly_dirty,
// which would mean records its rollups do not hold yet (usage_rollup.go).
// For every other hour ("dirty" below: not rolled up, too sparse to be, or
// with records the worker has not folded in) the raw records are read. The
// statement has one snapshot, in which every hour is either read raw or
// rolled up with all its committed records, so the mix is exact at every
// moment.
// Rows:
//   - the rollups of the clean hours in [$3, $4) (kind 1);
//   - the records kept as spans (reaching past their hour) of those hours;
//   - spans of the clean hours in [$5, $3) that end after $3;
//   - every record of the dirty hours in [$3, $4), and those of the dirty
//     hours in [$5, $3) that end after $3;
//   - per gauge series, the latest sample before $3 in [$5, $3): the last
//     sample of its last sampled clean hour or the effective sample of a
//     dirty hour (received last, the larger on a tie), whichever is later.
const (
	colsHourlyNone = "NULL::text, NULL::text, NULL::text, NULL::timestamptz, NULL::text, NULL::timestamptz, " +
		"NULL::text, NULL::text, NULL::timestamptz, NULL::text"

	// sqlDirtyRecords are the records of the dirty hours, as r with d.hour
	// its hour, read in one of two ways (see scanHourly); "ALL" stands for
	// the metric keys to read, "MIN"…"MAX" for the range of start times.
	// By hour: an index range scan per dirty hour.
	sqlDirtyRecordsByHour = `dirty d CROSS JOIN LATERAL (
			SELECT r.metric_key, r.quantity, r.start_time, r.end_time, r.receive_time,
				r.resource_id, r.organisation_id, r.vdc_id, r.site, r.dimensions
			FROM usage_records r
			WHERE r.customer_id = $1 AND r.metric_key = d.metric_key
				AND r.start_time >= d.hour AND r.start_time < d.hour + interval '1 hour'
			OFFSET 0
		) r`
	// By range: one index range scan over the window, each record looked
	// up in a hash of the dirty hours; cheaper when most hours are dirty or
	// raw. The "OR start_time IS NULL" (never true) keeps the IN a hashed
	// subplan: as a join, the planner may run it as a loop over every dirty
	// hour per record when it underestimates them (fresh statistics).
	sqlDirtyRecordsByRange = `(
			SELECT r.metric_key, r.quantity, r.start_time, r.end_time, r.receive_time,
				r.resource_id, r.organisation_id, r.vdc_id, r.site, r.dimensions, date_trunc('hour', r.start_time, 'UTC') AS hour
			FROM usage_records r
			WHERE r.customer_id = $1 AND r.metric_key = ANY(ALL) AND r.start_time >= MIN AND r.start_time < MAX
				AND ((r.metric_key, date_trunc('hour', r.start_time, 'UTC')) IN (SELECT metric_key, hour FROM dirty) OR r.start_time IS NULL)
		) r CROSS JOIN LATERAL (SELECT r.metric_key, r.hour) AS d`
	// sqlRawHours are the (metric, hour)s of the customer $1, metrics $2
	// and hours [$5, $4) to read raw: all of them but those rolled up and
	// clean. EXCEPT is distinct: an hour once.
	sqlRawHours = `
			SELECT m AS metric_key, h AS hour FROM unnest($2::text[]) AS m, generate_series($5::timestamptz, $4::timestamptz - interval '1 hour', interval '1 hour') AS h
			EXCEPT (
				SELECT metric_key, hour FROM usage_hourly_rolled
				WHERE customer_id = $1 AND metric_key = ANY($2) AND hour >= $5 AND hour < $4
				EXCEPT
				SELECT d.metric_key, x.hour FROM usage_hourly_dirty d, generate_series(d.first_hour, d.last_hour, interval '1 hour') AS x(hour)
				WHERE d.customer_id = $1 AND d.metric_key = ANY($2) AND d.first_hour < $4 AND d.last_hour >= $5
			)`
	sqlClean = `NOT EXISTS (SELECT 1 FROM dirty d WHERE d.metric_key = u.metric_key AND d.hour = u.hour)`

	sqlScanHourlyTemplate = `
		WITH dirty AS MATERIALIZED (` + sqlRawHours + `)
		SELECT metric_key, NULL::text, hour, hour + interval '1 hour', hour,
			resource_id, organisation_id, vdc_id, site, dimensions::text, 1::int2,
			sum::text, integral::text, max::text, last_start, last_value::text,
			first_at, inner_integral::text, inner_max::text, last_at, last_sample::text
		FROM usage_hourly u
		WHERE customer_id = $1 AND metric_key = ANY($2) AND hour >= $3 AND hour < $4 AND ` + sqlClean + `
		UNION ALL
		SELECT metric_key, sp.q::text, sp.s, sp.e, sp.s,
			resource_id, organisation_id, vdc_id, site, dimensions::text, 0::int2, ` + colsHourlyNone + `
		FROM usage_hourly u, unnest(span_start, span_end, span_quantity) AS sp(s, e, q)
		WHERE customer_id = $1 AND metric_key = ANY($2) AND hour >= $3 AND hour < $4 AND span_end_max IS NOT NULL AND ` + sqlClean + `
		UNION ALL
		SELECT metric_key, sp.q::text, sp.s, sp.e, sp.s,
			resource_id, organisation_id, vdc_id, site, dimensions::text, 0::int2, ` + colsHourlyNone + `
		FROM usage_hourly u, unnest(span_start, span_end, span_quantity) AS sp(s, e, q)
		WHERE customer_id = $1 AND metric_key = ANY($2) AND hour >= $5 AND hour < $3 AND span_end_max > $3 AND sp.e > $3 AND ` + sqlClean + `
		UNION ALL
		SELECT r.metric_key, r.quantity::text, r.start_time, r.end_time, r.receive_time,
			r.resource_id, r.organisation_id, r.vdc_id, r.site, r.dimensions::text, 0::int2, ` + colsHourlyNone + `
		FROM DIRTY_NOW
		WHERE d.hour >= $3 OR r.end_time > $3
		UNION ALL
		SELECT * FROM (
			SELECT DISTINCT ON (metric_key, resource_id, organisation_id, vdc_id, site, dimensions)
				metric_key, q::text, at, at, received, resource_id, organisation_id, vdc_id, site, dimensions::text, 0::int2, ` + colsHourlyNone + `
			FROM (
				SELECT * FROM (
					SELECT DISTINCT ON (metric_key, series_key) metric_key, last_sample AS q, last_at AS at, last_at AS received,
						resource_id, organisation_id, vdc_id, site, dimensions
					FROM usage_hourly u
					WHERE customer_id = $1 AND metric_key = ANY($6) AND hour >= $5 AND hour < $3 AND last_at IS NOT NULL AND ` + sqlClean + `
					ORDER BY metric_key, series_key, hour DESC
				) AS rolled
				UNION ALL
				SELECT r.metric_key, r.quantity, r.start_time, r.receive_time,
					r.resource_id, r.organisation_id, r.vdc_id, r.site, r.dimensions
				FROM DIRTY_BEFORE
				WHERE d.metric_key = ANY($6) AND d.hour < $3 AND r.end_time = r.start_time
			) AS c
			ORDER BY metric_key, resource_id, organisation_id, vdc_id, site, dimensions, at DESC, received DESC,
				c.q DESC -- the number, not the output column q::text
		) AS carried`
)

// The two forms of sqlScanHourly: records of dirty hours read by hour or by range.
var sqlScanHourlyByHour, sqlScanHourlyByRange = readForms(sqlScanHourlyTemplate)

// readForms makes the two forms of a template that reads the records of
// its dirty hours as DIRTY_NOW (those of [$5, $4), metrics $2) and
// DIRTY_BEFORE (those of [$5, $3), gauges $6).
func readForms(template string) (byHour, byRange string) {
	byHour = strings.NewReplacer("DIRTY_NOW", sqlDirtyRecordsByHour, "DIRTY_BEFORE", sqlDirtyRecordsByHour).Replace(template)
	byRange = strings.NewReplacer(
		"DIRTY_NOW", strings.NewReplacer("ALL", "$2", "MIN", "$5", "MAX", "$4").Replace(sqlDirtyRecordsByRange),
		"DIRTY_BEFORE", strings.NewReplacer("ALL", "$6", "MIN", "$5", "MAX", "$3").Replace(sqlDirtyRecordsByRange),
	).Replace(template)
	return byHour, byRange
}

// hourlyForm forces a form for tests: 1 by hour, 2 by range, 0 by the hint.
var hourlyForm atomic.Int32

// sqlCountRolled counts the window's hours that are rolled up: a hint for
// the form (dirty ones among them are few and short-lived).
const sqlCountRolled = `SELECT count(*) FROM usage_hourly_rolled
	WHERE customer_id = $1 AND metric_key = ANY($2) AND hour >= $3 AND hour < $4`

// scanHourly reads w from rollups and the records of the hours read raw.
// When no hour of the window is rolled up (sparse usage: one sample per
// resource and hour) the plain record scan reads the same records without
// the bookkeeping. When more than a quarter of the hours are read raw, one
// range scan reads their records for less than an index scan per hour
// does. The count is only a hint (kept a while, see readHints): every form
// is exact, and sqlScanHourly decides which hours are clean again in its
// own snapshot.
func (b billingReader) scanHourly(ctx context.Context, w billing.UsageWindow, fn func(*billing.UsageRow) error) error {
	from := w.From.Add(-w.Lookback)
	key := readHintKey{hintRolled, w.CustomerID, strings.Join(w.Metrics, ","), w.From.UnixNano(), w.To.UnixNano()}
	h, ok := b.s.hints.get(key, time.Now())
	if !ok {
		if err := b.q.QueryRow(ctx, sqlCountRolled, w.CustomerID, w.Metrics, from, w.To).Scan(&h.rolled); err != nil {
			return mapErr(err)
		}
		b.s.hints.put(key, h, time.Now())
	}
	rolled := h.rolled
	hours := int64(w.To.Sub(from)/time.Hour) * int64(len(w.Metrics))
	raw := hours - rolled
	switch f := hourlyForm.Load(); {
	case f != 0:
		raw = map[int32]int64{1: 0, 2: hours}[f] // a test's choice
	case rolled == 0:
		return b.scan(ctx, sqlScanUsage, w, fn)
	}
	if 4*raw > hours {
		return b.scan(ctx, sqlScanHourlyByRange, w, fn)
	}
	return b.scan(ctx, sqlScanHourlyByHour, w, fn)
}
