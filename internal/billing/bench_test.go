package billing_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/billing/billingtest"
	"github.com/billingd/billingd/internal/catalog"
	"github.com/billingd/billingd/internal/customer"
	"github.com/billingd/billingd/internal/pricing"
	"github.com/billingd/billingd/internal/rating"
	"github.com/billingd/billingd/internal/store/postgres"
	"github.com/billingd/billingd/internal/store/postgres/pgtest"
)

// Benchmark data: January 2026 (744 hours, UTC), 500 customers × 4 metrics
// × 2 resources × 250 records 10,713 s (≈ 2 h 58 min) apart = 1,000,000
// raw records. Three gauges (two time-weighted averages, one max) and one
// counter, each sold as one product at an hourly price.
const (
	benchCustomers = 500
	benchResources = 2
	benchRecords   = 250
	benchStep      = 10713 * time.Second
)

var (
	benchMetrics = []struct {
		key string
		agg catalog.Aggregation
	}{
		{"vm.vcpu", catalog.AggregationTimeWeightedAvg},
		{"vm.memory_gb", catalog.AggregationTimeWeightedAvg},
		{"storage.gb", catalog.AggregationMax},
		{"net.gb", catalog.AggregationSum},
	}
	benchFrom = utc(2026, 1, 1, 0)
	benchTo   = utc(2026, 2, 1, 0)
)

// sqlHourly is the plain SQL aggregation billing is measured against.
const sqlHourly = `SELECT customer_id, metric_key, date_trunc('hour', start_time), sum(quantity)
	FROM usage_records WHERE start_time >= $1 AND start_time < $2 GROUP BY 1, 2, 3`

// BenchmarkQueryMonth rates a month of 1,000,000 raw records for all 500
// customers and for one, and times the plain SQL hourly aggregation of the
// same rows in the same run. "all/sql" is the ratio of the all-customer
// query's time to that of SQL runs interleaved with it, "one/sql" the
// single customer's to the same SQL (the goals: all ≤ 2, one under 50 ms).
func BenchmarkQueryMonth(b *testing.B) {
	if testing.Short() {
		b.Skip("loads 1,000,000 usage records")
	}
	ctx := context.Background()
	store, db := openBenchDB(b)
	var err error
	start := time.Now()
	seedBench(b, ctx, store, db)
	b.Logf("loaded %d records in %s", benchCustomers*len(benchMetrics)*benchResources*benchRecords, time.Since(start).Round(time.Millisecond))

	svc := billing.New(store.Billing(), billing.Config{})
	invoice := billing.Query{From: benchFrom, To: benchTo, Granularity: rating.GranularityMonth,
		GroupBy: []rating.GroupKey{rating.GroupCustomer, rating.GroupProduct}}
	hourly := func(b *testing.B) int {
		rows, err := db.Query(ctx, sqlHourly, benchFrom, benchTo)
		if err != nil {
			b.Fatal(err)
		}
		groups := 0
		for rows.Next() {
			groups++
		}
		if err := rows.Err(); err != nil {
			b.Fatal(err)
		}
		return groups
	}
	var sqlNs float64
	b.Run("sql", func(b *testing.B) {
		groups := 0
		for b.Loop() {
			groups = hourly(b)
		}
		sqlNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(float64(groups), "groups")
	})
	// The machine's load may change between sub-benchmarks, so the ratio
	// is taken against SQL runs interleaved with the queries (untimed).
	b.Run("all", func(b *testing.B) {
		var res billing.Result
		var sql time.Duration
		for b.Loop() {
			b.StopTimer()
			t0 := time.Now()
			hourly(b)
			sql += time.Since(t0)
			b.StartTimer()
			if res, err = svc.Query(ctx, invoice); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(res.Lines)), "lines")
		b.ReportMetric(float64(sql.Nanoseconds())/float64(b.N), "sql-ns/op")
		b.ReportMetric(float64(b.Elapsed())/float64(sql), "all/sql")
		sqlNs = float64(sql.Nanoseconds()) / float64(b.N)
	})
	b.Run("one", func(b *testing.B) {
		q := invoice
		q.CustomerIDs = []string{"c250"}
		var res billing.Result
		for b.Loop() {
			if res, err = svc.Query(ctx, q); err != nil {
				b.Fatal(err)
			}
		}
		ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(float64(len(res.Lines)), "lines")
		b.ReportMetric(ns/1e6, "ms/query")
		if sqlNs > 0 {
			b.ReportMetric(ns/sqlNs, "one/sql")
		}
	})
	// The same two queries through the raw-record reader, the reference
	// the hourly rollups replace, in the same run.
	raw := billing.New(store.RawBilling(), billing.Config{})
	for _, c := range []struct {
		name string
		ids  []string
	}{{"all-raw", nil}, {"one-raw", []string{"c250"}}} {
		b.Run(c.name, func(b *testing.B) {
			q := invoice
			q.CustomerIDs = c.ids
			var res billing.Result
			for b.Loop() {
				if res, err = raw.Query(ctx, q); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(res.Lines)), "lines")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/query")
		})
	}
}

// seedBench creates the catalog, the customers and the usage (by COPY).
func seedBench(b *testing.B, ctx context.Context, store *postgres.Store, db *pgxpool.Pool) {
	cat := catalog.New(store.Catalog(), nil)
	pri := pricing.New(store.Pricing(), nil)
	cus := customer.New(store.Customers(), nil)
	try := func(_ any, err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	try(cat.CreateProductGroup(ctx, catalog.CreateProductGroupInput{Group: catalog.ProductGroup{ID: "g", DisplayName: "g"}}))
	try(pri.CreatePriceList(ctx, pricing.CreatePriceListInput{PriceList: pricing.PriceList{ID: "default", DisplayName: "Default", Currency: "EUR"}}))
	for i, m := range benchMetrics {
		try(cat.CreateMetric(ctx, catalog.CreateMetricInput{Metric: catalog.Metric{Key: m.key, Unit: "u", Aggregation: m.agg}}))
		try(cat.CreateProduct(ctx, catalog.CreateProductInput{Product: catalog.Product{ID: m.key, GroupID: "g", MetricKey: m.key, DisplayName: m.key}}))
		try(pri.CreatePrice(ctx, pricing.CreatePriceInput{Price: pricing.Price{
			PriceListID: "default", ID: m.key, ProductID: m.key, UnitPrice: dec([]string{"0.0125", "0.0042", "0.00011", "0.01"}[i]),
			Granularity: pricing.GranularityHour, ValidFrom: utc(2025, 1, 1, 0),
		}}))
	}
	for c := range benchCustomers {
		try(cus.CreateCustomer(ctx, customer.CreateCustomerInput{Customer: customer.Customer{ID: "c" + strconv.Itoa(c), DisplayName: "c"}}))
	}
	if err := billingtest.EnsureUsageTable(ctx, db, benchFrom); err != nil {
		b.Fatal(err)
	}
	c, m, r, k := 0, 0, 0, 0
	n, err := db.CopyFrom(ctx, pgx.Identifier{"usage_records"}, billingtest.Columns(), pgx.CopyFromFunc(func() ([]any, error) {
		if c == benchCustomers {
			return nil, nil
		}
		rec := billingtest.Record{
			Key: fmt.Sprintf("%d/%d/%d/%d", c, m, r, k), Customer: "c" + strconv.Itoa(c), Metric: benchMetrics[m].key,
			Resource: "vm" + strconv.Itoa(r), Quantity: strconv.Itoa(1 + (c*7+k*3+m+r)%16),
			Start: benchFrom.Add(time.Duration(k) * benchStep), Organisation: "org" + strconv.Itoa(c%7), Site: "site" + strconv.Itoa(r),
		}
		if k++; k == benchRecords {
			k = 0
			if r++; r == benchResources {
				r = 0
				if m++; m == len(benchMetrics) {
					m = 0
					c++
				}
			}
		}
		return billingtest.Values(rec), nil
	}))
	if err != nil {
		b.Fatal(err)
	}
	if n != benchCustomers*int64(len(benchMetrics))*benchResources*benchRecords {
		b.Fatalf("copied %d records", n)
	}
	if err := billingtest.RefreshRollups(ctx, db); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Exec(ctx, "VACUUM ANALYZE usage_records, usage_hourly"); err != nil {
		b.Fatal(err)
	}
}

// openBenchDB creates a migrated database for a benchmark and opens the
// store and a pool on it, closed when b ends.
func openBenchDB(b *testing.B) (*postgres.Store, *pgxpool.Pool) {
	ctx := context.Background()
	url := pgtest.NewDatabase(b)
	store, err := postgres.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(store.Close)
	db, err := pgxpool.New(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(db.Close)
	return store, db
}
