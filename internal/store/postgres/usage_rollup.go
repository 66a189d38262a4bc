package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/billingd/billingd/internal/usage"
)

// Hourly rollups (migrations 0004_usage_hourly, 0006_usage_hourly_dirty,
// 0008_usage_hourly_rolled, 0009_usage_hourly_dirty_runs) are maintained
// off the ingest path. The ingest transaction appends the runs of
// (customer, metric, UTC hour)s its records start in to usage_hourly_dirty
// with one small COPY; after the commit a worker in this process drains
// the log (usage_hourly_drain: delete some hours' rows and recompute their
// rollups from usage_records, in one snapshot). Billing reads rollups for
// clean hours and raw records for dirty ones in one statement, so it is
// exact whether or not the worker has caught up (see billing.go), and an
// hour that several batches reach is recomputed once for all of them.
//
// Workers of several replicas take turns through an advisory lock, so two
// never recompute one hour from different snapshots (the later commit
// could otherwise write the older result).
const (
	// rollupLockKey serialises the drains of every replica ("usagehrl" in ASCII).
	rollupLockKey int64 = 0x7573616765687266

	// sqlMarkDirty appends a batch's dirty hours.
	sqlMarkDirty = "COPY usage_hourly_dirty (customer_id, metric_key, first_hour, last_hour, records, resources) FROM STDIN (FORMAT binary)"
	// sqlTryDrain drains up to $2 hours unless another worker holds the
	// lock (-1); one statement, so the lock lasts exactly as long as it.
	sqlTryDrain = "SELECT CASE WHEN pg_try_advisory_xact_lock($1) THEN usage_hourly_drain($2) ELSE -1 END"
	sqlLockWait = "SELECT pg_advisory_xact_lock($1)"
	sqlDrain    = "SELECT usage_hourly_drain($1)"

	// drainChunk is how many dirty rows (runs of hours) one drain
	// transaction takes: large enough to amortise its statement, small
	// enough that a transaction takes well under a second.
	drainChunk = 500
	// drainSettle is how long the worker waits after a commit before it
	// drains, so that the batches of concurrent streams reaching one hour
	// are folded in by one recomputation rather than one each.
	drainSettle = 50 * time.Millisecond
	// drainBusyRetries bounds how long a worker waits for another
	// replica's to finish (that one drains until the log is empty).
	drainBusyRetries = 20
)

// rollupsOff disables rollup maintenance, for the ingest benchmark's
// baseline only; see DisableRollupsForBenchmark.
var rollupsOff atomic.Bool

// pausedPools are the pools (stores) whose background rollup workers
// must not start, so that tests can read while hours are dirty
// (FlushRollups still drains).
var pausedPools sync.Map

// DisableRollupsForBenchmark makes ingestion skip hourly rollups, so that
// the usage benchmark can measure what they cost. Billing queries then
// miss the usage ingested meanwhile: never call it outside that benchmark.
func DisableRollupsForBenchmark(off bool) { rollupsOff.Store(off) }

// dirtyHour is one (customer, metric, UTC hour) of usage_hourly_dirty,
// with how many records and distinct resources the batch has in it (the
// drain's hint whether the hour is worth rolling up).
type dirtyHour struct {
	hourKey
	records, resources int32
}

type hourKey struct {
	customer, metric string
	hour             int64 // Unix seconds
}

// dirtyHoursOf returns the distinct hours the records start in, in key order. The
// records come in billing order (uniqueInBillingOrder), so the records of
// an hour are neighbours and no map is needed. (Records out of that order
// would give an hour more than one entry: more log rows, the same rollups.)
func dirtyHoursOf(records []usage.Record) []dirtyHour {
	var out []dirtyHour
	var resources []string // of the last hour in out
	countResources := func() {
		if len(out) > 0 {
			slices.Sort(resources)
			out[len(out)-1].resources = int32(len(slices.Compact(resources)))
			resources = resources[:0]
		}
	}
	for i := range records {
		r := &records[i]
		s := r.Start.Unix()
		k := hourKey{r.CustomerID, r.MetricKey, s - s%3600}
		if s < 0 && s%3600 != 0 {
			k.hour -= 3600 // floor before 1970 (validation refuses it; kept exact anyway)
		}
		if len(out) == 0 || out[len(out)-1].hourKey != k {
			countResources()
			out = append(out, dirtyHour{hourKey: k})
		}
		out[len(out)-1].records++
		resources = append(resources, r.ResourceID)
	}
	countResources()
	return out
}

// dirtyRun is one row of usage_hourly_dirty (0009): a run of consecutive
// hours of a (customer, metric), with the records and resources (counted
// once per hour) of the batch in them.
type dirtyRun struct {
	customer, metric   string
	first, last        int64 // Unix seconds of the first and last hour
	records, resources int32
}

// maxRunHours bounds a dirty row's run, so that a batch of a month of
// usage (an import) leaves rows of a day each and one drain transaction
// (drainChunk rows) recomputes at most drainChunk × maxRunHours hours.
const maxRunHours = 24

// dirtyRunsOf folds the hours of dirtyHoursOf into runs of consecutive
// hours, in key order.
func dirtyRunsOf(records []usage.Record) []dirtyRun {
	var out []dirtyRun
	for _, h := range dirtyHoursOf(records) {
		if n := len(out); n > 0 {
			run := &out[n-1]
			if run.customer == h.customer && run.metric == h.metric && run.last+3600 == h.hour &&
				run.last-run.first < (maxRunHours-1)*3600 {
				run.last = h.hour
				run.records += h.records
				run.resources += h.resources
				continue
			}
		}
		out = append(out, dirtyRun{h.customer, h.metric, h.hour, h.hour, h.records, h.resources})
	}
	return out
}

// encodeDirty is the binary COPY stream of usage_hourly_dirty rows.
func encodeDirty(runs []dirtyRun) []byte {
	size := len(copyHeader) + 2
	for _, r := range runs {
		size += 2 + 4 + len(r.customer) + 4 + len(r.metric) + 2*(4+8) + 2*(4+4)
	}
	b := append(make([]byte, 0, size), copyHeader...)
	for _, r := range runs {
		b = binary.BigEndian.AppendUint16(b, 6)
		b = appendText(b, r.customer)
		b = appendText(b, r.metric)
		b = appendTimestamp(b, time.Unix(r.first, 0))
		b = appendTimestamp(b, time.Unix(r.last, 0))
		for _, n := range []int32{r.records, r.resources} {
			b = binary.BigEndian.AppendUint32(b, 4)
			b = binary.BigEndian.AppendUint32(b, uint32(n))
		}
	}
	return binary.BigEndian.AppendUint16(b, 0xffff)
}

// markDirty appends the stored records' runs of hours to the log in tx.
func markDirty(ctx context.Context, tx pgx.Tx, records []usage.Record) error {
	if rollupsOff.Load() {
		return nil
	}
	runs := dirtyRunsOf(records)
	if len(runs) == 0 {
		return nil
	}
	_, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(encodeDirty(runs)), sqlMarkDirty)
	return err
}

// rollupWorker drains usage_hourly_dirty in the background after commits.
// It runs only while there is work: kick starts it, and it stops when the
// log is empty (or after repeated failures; the hours then stay dirty,
// which costs billing queries time but not exactness, until the next
// commit kicks it again).
type rollupWorker struct {
	pool    *pgxpool.Pool
	log     *slog.Logger
	metrics *storeMetrics
	closed  *atomic.Bool // the store was closed: stop
	running atomic.Bool
	pending atomic.Bool
}

// kick makes the worker drain soon.
func (w *rollupWorker) kick() {
	if _, paused := pausedPools.Load(w.pool); paused || rollupsOff.Load() {
		return
	}
	w.pending.Store(true)
	if w.running.CompareAndSwap(false, true) {
		go w.run()
	}
}

func (w *rollupWorker) run() {
	for {
		time.Sleep(drainSettle)
		w.pending.Store(false)
		w.drain()
		w.running.Store(false)
		// A kick between drain's last look and here would be lost otherwise.
		if !w.pending.Load() || !w.running.CompareAndSwap(false, true) {
			return
		}
	}
}

// drain runs drain transactions until the log is empty.
func (w *rollupWorker) drain() {
	failures, busy := 0, 0
	for failures < 5 && busy < drainBusyRetries {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		var n int
		err := w.pool.QueryRow(ctx, sqlTryDrain, rollupLockKey, drainChunk).Scan(&n)
		cancel()
		switch {
		case err != nil && w.closed.Load():
			return
		case err != nil:
			failures++
			w.metrics.drainFailures.Inc()
			w.log.Warn("usage: draining the hourly rollup log failed; the hours stay dirty (billing reads their records)",
				slog.Int("attempt", failures), slog.Any("error", err))
			time.Sleep(time.Duration(failures) * 200 * time.Millisecond)
		case n == 0:
			w.metrics.drains.Inc()
			return
		case n < 0: // another replica's worker is draining
			busy++
			time.Sleep(100 * time.Millisecond)
		default:
			w.metrics.drains.Inc()
			w.metrics.drainedRuns.Add(float64(n))
			failures, busy = 0, 0
		}
	}
	if failures > 0 {
		w.log.Error("usage: the hourly rollup worker gives up until the next ingest", slog.Int("failures", failures))
	}
}

// FlushRollups brings every hourly rollup up to date: it drains the dirty
// log until it is empty, waiting for other replicas' workers. Billing is
// exact without it; tests and the benchmark call it to see the rollups
// themselves, or how long catching up takes.
func (s *Store) FlushRollups(ctx context.Context) error {
	for {
		var n int
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, sqlLockWait, rollupLockKey); err != nil {
				return err
			}
			return tx.QueryRow(ctx, sqlDrain, drainChunk).Scan(&n)
		})
		if err != nil {
			return fmt.Errorf("usage: drain hourly rollups: %w", mapErr(err))
		}
		if n == 0 {
			return nil
		}
	}
}
