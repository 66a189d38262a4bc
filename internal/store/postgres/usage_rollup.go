package postgres

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/usage"
)

// Hourly rollups (migration 0004_usage_hourly) are maintained in the ingest
// transaction: after the records are copied, usage_hourly_refresh
// recomputes the (customer, metric, series, hour) rows the stored records
// start in, from usage_records. Because it recomputes rather than adds and
// runs in the transaction that stores the records, the rollups are never
// stale, a late record changes its hour's row at once, and two replicas
// writing into one hour serialise on its rows (the function locks them
// before it reads; see the migration).
const sqlRefreshHourly = "SELECT usage_hourly_refresh($1, $2, $3, $4, $5, $6, $7, $8::text[]::jsonb[])"

// rollupsOff disables rollup maintenance, for the ingest benchmark's
// baseline only; see DisableRollupsForBenchmark.
var rollupsOff atomic.Bool

// DisableRollupsForBenchmark makes ingestion skip hourly rollups, so that
// the usage benchmark can measure what they cost. Billing queries then
// miss the usage ingested meanwhile: never call it outside that benchmark.
func DisableRollupsForBenchmark(off bool) { rollupsOff.Store(off) }

// hourlyKeys are the series-hours of a batch, one entry each, as the
// parallel arrays usage_hourly_refresh takes.
type hourlyKeys struct {
	customers, metrics []string
	hours              []time.Time
	resources, orgs    []string
	vdcs, sites, dims  []string
}

// seriesHoursOf collects the distinct series-hours of the records (only
// those whose key is in keep, when keep is set).
func seriesHoursOf(records []usage.Record, keep map[string]struct{}) *hourlyKeys {
	type key struct {
		c, m                   string
		h                      int64
		res, org, vdc, st, dim string
	}
	seen := make(map[key]struct{}, len(records)/4+1)
	k := &hourlyKeys{}
	var buf []byte
	for i := range records {
		r := &records[i]
		if keep != nil {
			if _, ok := keep[r.Key]; !ok {
				continue
			}
		}
		buf = appendJSONObject(buf[:0], r.Dimensions)
		h := r.Start.UTC().Truncate(time.Hour)
		x := key{r.CustomerID, r.MetricKey, h.Unix(), r.ResourceID, r.OrganisationID, r.VdcID, r.Site, string(buf)}
		if _, dup := seen[x]; dup {
			continue
		}
		seen[x] = struct{}{}
		k.customers = append(k.customers, x.c)
		k.metrics = append(k.metrics, x.m)
		k.hours = append(k.hours, h)
		k.resources = append(k.resources, x.res)
		k.orgs = append(k.orgs, x.org)
		k.vdcs = append(k.vdcs, x.vdc)
		k.sites = append(k.sites, x.st)
		k.dims = append(k.dims, x.dim)
	}
	return k
}

// refreshHourly recomputes the rollup rows of the stored records in tx.
func refreshHourly(ctx context.Context, tx pgx.Tx, records []usage.Record, keep map[string]struct{}) error {
	if rollupsOff.Load() {
		return nil
	}
	k := seriesHoursOf(records, keep)
	if len(k.customers) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, sqlRefreshHourly, k.customers, k.metrics, k.hours, k.resources, k.orgs, k.vdcs, k.sites, k.dims)
	return err
}
