// Package billingtest writes usage records with plain SQL for tests and
// benchmarks of billing queries, whether or not the usage migration has
// created usage_records yet, and keeps the hourly rollups billing reads
// (when their migration is there) as ingestion would. It is for tests only.
package billingtest

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Execer is what a pgx connection, pool or transaction has in common.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
}

// usageDDL is the table of migration 0002_usage, for databases made before it.
const usageDDL = `CREATE TABLE usage_records (
  idempotency_key text COLLATE "C" NOT NULL, customer_id text COLLATE "C" NOT NULL, metric_key text COLLATE "C" NOT NULL,
  quantity numeric NOT NULL,
  start_time timestamptz NOT NULL,
  end_time timestamptz NOT NULL,
  resource_id text NOT NULL DEFAULT '', organisation_id text NOT NULL DEFAULT '', vdc_id text NOT NULL DEFAULT '',
  site text NOT NULL DEFAULT '', source text NOT NULL DEFAULT '', dimensions jsonb NOT NULL DEFAULT '{}', receive_time timestamptz NOT NULL
) PARTITION BY RANGE (start_time)`

// EnsureUsageTable makes usage_records ready for records in the UTC months
// of the given instants. Without the usage migration it creates the table
// as that migration does, with a DEFAULT partition (test databases only);
// with it, it creates the monthly partitions usage_records_YYYY_MM that
// ingestion would create, unless a DEFAULT partition is there already.
func EnsureUsageTable(ctx context.Context, db Execer, at ...time.Time) error {
	var exists, hasDefault bool
	err := db.QueryRow(ctx, `SELECT to_regclass('usage_records') IS NOT NULL,
		EXISTS (SELECT 1 FROM pg_partitioned_table p WHERE p.partrelid = to_regclass('usage_records') AND p.partdefid <> 0)`).Scan(&exists, &hasDefault)
	if err != nil {
		return err
	}
	if !exists {
		if _, err := db.Exec(ctx, usageDDL); err != nil {
			return err
		}
		_, err := db.Exec(ctx, "CREATE TABLE usage_records_default PARTITION OF usage_records DEFAULT")
		return err
	}
	if hasDefault {
		return nil
	}
	seen := map[time.Time]bool{}
	for _, t := range at {
		t = t.UTC()
		m := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		if seen[m] {
			continue
		}
		seen[m] = true
		name := fmt.Sprintf("usage_records_%04d_%02d", m.Year(), int(m.Month()))
		sql := fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s PARTITION OF usage_records FOR VALUES FROM ('%s') TO ('%s')",
			name, m.Format(time.RFC3339), m.AddDate(0, 1, 0).Format(time.RFC3339))
		if _, err := db.Exec(ctx, sql); err != nil {
			return err
		}
	}
	return nil
}

// Record is a usage record to write. A zero End makes a point record
// (End = Start); a zero Received is Start.
type Record struct {
	Key                    string // idempotency key; generated when empty
	Customer, Metric       string
	Quantity               string // a decimal number
	Start, End             time.Time
	Resource, Organisation string
	VDC, Site              string
	Dimensions             map[string]string
	Received               time.Time
}

var keys atomic.Int64

var columns = []string{"idempotency_key", "customer_id", "metric_key", "quantity", "start_time", "end_time",
	"resource_id", "organisation_id", "vdc_id", "site", "dimensions", "receive_time"}

// Insert writes records with COPY, after EnsureUsageTable for their months.
func Insert(ctx context.Context, db Execer, recs ...Record) error {
	at := make([]time.Time, len(recs))
	for i, r := range recs {
		at[i] = r.Start
	}
	if err := EnsureUsageTable(ctx, db, at...); err != nil {
		return err
	}
	i := 0
	_, err := db.CopyFrom(ctx, pgx.Identifier{"usage_records"}, columns, pgx.CopyFromFunc(func() ([]any, error) {
		if i == len(recs) {
			return nil, nil
		}
		r := recs[i]
		i++
		return Values(r), nil
	}))
	if err != nil {
		return err
	}
	return refreshRollups(ctx, db, recs)
}

// sqlRefreshAll recomputes the hourly rollups (and marks) of every hour
// that has records, with the function the rollup worker calls (migrations
// 0006 and 0008).
const sqlRefreshAll = `SELECT usage_hourly_recompute(array_agg(customer_id), array_agg(metric_key), array_agg(h))
	FROM (SELECT DISTINCT customer_id, metric_key, date_trunc('hour', start_time, 'UTC') AS h FROM usage_records) AS t`

// RefreshRollups recomputes every hourly rollup from usage_records, as
// the rollup worker would have, for records written with plain SQL
// (CopyFrom of Values). Without the rollup migrations it does nothing.
func RefreshRollups(ctx context.Context, db Execer) error {
	if ok, err := hasRollups(ctx, db); err != nil || !ok {
		return err
	}
	_, err := db.Exec(ctx, sqlRefreshAll)
	return err
}

func hasRollups(ctx context.Context, db Execer) (bool, error) {
	var ok bool
	err := db.QueryRow(ctx, "SELECT to_regproc('usage_hourly_recompute') IS NOT NULL").Scan(&ok)
	return ok, err
}

// refreshRollups recomputes the hourly rollups of the records' hours.
func refreshRollups(ctx context.Context, db Execer, recs []Record) error {
	if ok, err := hasRollups(ctx, db); err != nil || !ok {
		return err
	}
	var c, m []string
	var h []time.Time
	for _, r := range recs {
		c, m, h = append(c, r.Customer), append(m, r.Metric), append(h, r.Start.UTC().Truncate(time.Hour))
	}
	_, err := db.Exec(ctx, "SELECT usage_hourly_recompute($1, $2, $3)", c, m, h)
	return err
}

// Values is r as a row of the COPY columns Columns names.
func Values(r Record) []any {
	if r.Key == "" {
		r.Key = "k" + strconv.FormatInt(keys.Add(1), 10)
	}
	if r.End.IsZero() {
		r.End = r.Start
	}
	if r.Received.IsZero() {
		r.Received = r.Start
	}
	dims := r.Dimensions
	if dims == nil {
		dims = map[string]string{}
	}
	return []any{r.Key, r.Customer, r.Metric, r.Quantity, r.Start, r.End, r.Resource, r.Organisation, r.VDC, r.Site, dims, r.Received}
}

// Columns are the columns Values fills, for pgx.Conn.CopyFrom.
func Columns() []string { return columns }
