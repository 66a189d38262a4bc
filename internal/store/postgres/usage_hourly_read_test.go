package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/catalog"
	"github.com/billingd/billingd/internal/customer"
	"github.com/billingd/billingd/internal/pricing"
	"github.com/billingd/billingd/internal/rating"
	"github.com/billingd/billingd/internal/store/postgres"
	"github.com/billingd/billingd/internal/usage"
)

// billingSetup creates five metrics (one of each aggregation), a product
// and an hourly or daily price for each, and two customers, one in UTC and
// one in Berlin, through the domain services.
func billingSetup(t *testing.T, st *postgres.Store) {
	t.Helper()
	ctx := context.Background()
	cat, cust, pr := catalog.New(st.Catalog(), nil), customer.New(st.Customers(), nil), pricing.New(st.Pricing(), nil)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(cat.CreateProductGroup(ctx, catalog.CreateProductGroupInput{Group: catalog.ProductGroup{ID: "g", DisplayName: "g"}}))
	must(pr.CreatePriceList(ctx, pricing.CreatePriceListInput{PriceList: pricing.PriceList{ID: "default", DisplayName: "default", Currency: "EUR"}}))
	for _, m := range []struct {
		key  string
		agg  catalog.Aggregation
		unit string
		g    pricing.Granularity
	}{
		{"net.gb", catalog.AggregationSum, "0.013", pricing.GranularityHour},
		{"vm.vcpu", catalog.AggregationTimeWeightedAvg, "0.0417", pricing.GranularityHour},
		{"mem.max", catalog.AggregationMax, "3.7", pricing.GranularityDay},
		{"cpu.last", catalog.AggregationLatest, "11", pricing.GranularityMonth},
		{"ip.count", catalog.AggregationUniqueCount, "0.5", pricing.GranularityDay},
	} {
		metric := catalog.Metric{Key: m.key, Unit: "u", Aggregation: m.agg}
		if m.agg == catalog.AggregationUniqueCount {
			metric.UniqueDimension = "resource_id"
		}
		must(cat.CreateMetric(ctx, catalog.CreateMetricInput{Metric: metric}))
		must(cat.CreateProduct(ctx, catalog.CreateProductInput{Product: catalog.Product{ID: "p-" + m.key, GroupID: "g", MetricKey: m.key, DisplayName: m.key}}))
		must(pr.CreatePrice(ctx, pricing.CreatePriceInput{Price: pricing.Price{
			PriceListID: "default", ID: "pr-" + m.key, ProductID: "p-" + m.key, UnitPrice: decimal.RequireFromString(m.unit),
			Granularity: m.g, ValidFrom: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		}}))
	}
	for _, c := range []struct{ id, tz string }{{"utc", "UTC"}, {"berlin", "Europe/Berlin"}} {
		must(cust.CreateCustomer(ctx, customer.CreateCustomerInput{Customer: customer.Customer{ID: c.id, DisplayName: c.id, BillingTimeZone: c.tz}}))
	}
}

// billingRecords are n records of the setup's metrics and customers in
// [from, to): points (a few pairs at one instant, received in either
// order), intervals inside an hour and across hours and days.
func billingRecords(rnd *rand.Rand, prefix string, n int, from, to time.Time, received time.Time) []usage.Record {
	metrics := []string{"net.gb", "vm.vcpu", "mem.max", "cpu.last", "ip.count"}
	custs := []string{"utc", "berlin"}
	span := int64(to.Sub(from) / time.Second)
	out := make([]usage.Record, 0, n)
	for len(out) < n {
		at := from.Add(time.Duration(rnd.Int64N(span)) * time.Second)
		r := usage.Record{
			Key: fmt.Sprintf("%s-%d", prefix, len(out)), CustomerID: custs[rnd.IntN(len(custs))], MetricKey: metrics[rnd.IntN(len(metrics))],
			Quantity: decimal.New(int64(rnd.IntN(20000)), -3), Start: at, End: at,
			ResourceID: fmt.Sprintf("r%d", rnd.IntN(3)), Dimensions: map[string]string{}, ReceiveTime: received,
		}
		if rnd.IntN(3) == 0 {
			r.Dimensions["policy"] = []string{"gold", "silver"}[rnd.IntN(2)]
		}
		switch k := rnd.IntN(10); {
		case k < 5: // point
		case k < 8:
			r.End = at.Add(time.Duration(1+rnd.IntN(3600)) * time.Second)
		default:
			r.End = at.Add(time.Duration(1+rnd.IntN(3*86400)) * time.Second)
		}
		out = append(out, r)
		if r.IsPoint() && rnd.IntN(6) == 0 { // a second sample at the same instant
			dup := r
			dup.Key += "-dup"
			dup.Quantity = decimal.NewFromInt(int64(rnd.IntN(20)))
			dup.ReceiveTime = received.Add(time.Duration(rnd.IntN(3)-1) * time.Minute)
			out = append(out, dup)
		}
	}
	return out
}

func renderBilling(res billing.Result) string {
	var b strings.Builder
	for _, l := range res.Lines {
		fmt.Fprintf(&b, "%s %s %s %v %s..%s q=%s a=%s\n", l.CustomerID, l.MetricKey, l.ResourceID, l.Dimensions,
			l.Start.UTC().Format(time.RFC3339), l.End.UTC().Format(time.RFC3339), l.Quantity.String(), l.Amount.String())
	}
	for _, t := range res.Totals {
		fmt.Fprintf(&b, "total %s %s %d\n", t.Currency, t.Amount.String(), t.Lines)
	}
	return b.String()
}

// TestBillingExactWhileHoursAreDirty ingests through the repository with
// the rollup worker paused, so billing must read raw records for the dirty
// hours and rollups for the clean ones: the rollup reader must agree with
// the raw reader when every hour is dirty, when none is, and when late
// records have made some dirty again.
func TestBillingExactWhileHoursAreDirty(t *testing.T) {
	t.Parallel()
	db := newUsageDB(t)
	ctx := context.Background()
	db.pauseRollupWorkers(t)
	billingSetup(t, db.store)
	repo := db.store.Usage()
	rolled, raw := billing.New(db.store.Billing(), billing.Config{}), billing.New(db.store.RawBilling(), billing.Config{})

	rnd := rand.New(rand.NewPCG(11, 3))
	from, to := time.Date(2025, 5, 20, 0, 0, 0, 0, time.UTC), time.Date(2025, 7, 5, 0, 0, 0, 0, time.UTC)
	rs := billingRecords(rnd, "a", 3000, from, to, time.Date(2025, 7, 6, 0, 0, 0, 0, time.UTC))
	// and six dense hours (several records per resource): rolled up, not marked raw
	rs = append(rs, billingRecords(rnd, "dense", 1500, time.Date(2025, 6, 10, 6, 0, 0, 0, time.UTC), time.Date(2025, 6, 10, 12, 0, 0, 0, time.UTC),
		time.Date(2025, 7, 6, 0, 0, 0, 0, time.UTC))...)
	for i := 0; i < len(rs); i += 500 {
		mustInsert(t, repo, rs[i:min(i+500, len(rs))], min(500, len(rs)-i))
	}

	queries := []billing.Query{
		{From: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC), Granularity: rating.GranularityMonth},
		{From: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC), Granularity: rating.GranularityDay,
			GroupBy: []rating.GroupKey{rating.GroupCustomer, rating.GroupProduct, rating.GroupResource}, GroupByDimensions: []string{"policy"}},
		{CustomerIDs: []string{"utc"}, From: time.Date(2025, 6, 10, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 6, 12, 0, 0, 0, 0, time.UTC),
			Granularity: rating.GranularityHour, GroupBy: []rating.GroupKey{rating.GroupProduct, rating.GroupResource}},
		{CustomerIDs: []string{"berlin"}, From: time.Date(2025, 5, 31, 22, 0, 0, 0, time.UTC), To: time.Date(2025, 6, 30, 22, 0, 0, 0, time.UTC)},
	}
	compare := func(phase string) []string {
		t.Helper()
		return readersAgree(t, phase, "rollup reader", rolled, raw, queries)
	}
	dirty := func() int {
		return db.count(t, `SELECT count(DISTINCT (customer_id, metric_key, x.hour))::int
			FROM usage_hourly_dirty, generate_series(first_hour, last_hour, interval '1 hour') AS x(hour)`)
	}
	if n, h := dirty(), db.count(t, "SELECT count(*)::int FROM usage_hourly"); n == 0 || h != 0 {
		t.Fatalf("before the drain: %d dirty hours and %d rollup rows, want some and none", n, h)
	}
	allDirty := compare("all dirty")

	if err := db.store.FlushRollups(ctx); err != nil {
		t.Fatal(err)
	}
	if n, h := dirty(), db.count(t, "SELECT count(*)::int FROM usage_hourly WHERE records > 1"); n != 0 || h < 100 {
		t.Fatalf("after the drain: %d dirty hours and %d rollup rows of several records, want none and 100 or more", n, h)
	}
	if n := db.count(t, `SELECT count(*)::int FROM (SELECT DISTINCT customer_id, metric_key, date_trunc('hour', start_time, 'UTC') FROM usage_records
		EXCEPT SELECT * FROM usage_hourly_rolled) AS raw`); n < 1000 {
		t.Fatalf("after the drain: %d hours read raw, want 1000 or more", n)
	}
	clean := compare("all clean")
	if fmt.Sprint(clean) != fmt.Sprint(allDirty) {
		t.Error("the results changed when the rollups caught up")
	}

	// Late records into hours already rolled up: those hours are dirty
	// again, the others are read from rollups.
	late := billingRecords(rnd, "late", 300, time.Date(2025, 6, 5, 0, 0, 0, 0, time.UTC), time.Date(2025, 6, 15, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 7, 10, 0, 0, 0, 0, time.UTC))
	mustInsert(t, repo, late, len(late))
	total := db.count(t, "SELECT count(DISTINCT (customer_id, metric_key, date_trunc('hour', start_time, 'UTC')))::int FROM usage_records")
	if n := dirty(); n == 0 || n >= total {
		t.Fatalf("after late records: %d of %d hours dirty, want some but not all", n, total)
	}
	mixed := compare("late, mixed")
	if fmt.Sprint(mixed) == fmt.Sprint(clean) {
		t.Error("late records did not change the results")
	}
	if err := db.store.FlushRollups(ctx); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(compare("late, caught up")) != fmt.Sprint(mixed) {
		t.Error("the results changed when the rollups caught up with the late records")
	}
}

// readersAgree rates each query through svc, once in each form of reading
// the records of dirty hours and once as svc chooses, and through raw, the
// raw-record reader: every result must be the same and have lines. It
// returns svc's results rendered; what names svc in messages.
func readersAgree(t *testing.T, phase, what string, svc, raw *billing.Service, queries []billing.Query) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	for i, q := range queries {
		got, err := svc.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for form := int32(1); form <= 2; form++ {
			postgres.ForceHourlyReadForm(form)
			other, err := svc.Query(ctx, q)
			postgres.ForceHourlyReadForm(0)
			if err != nil {
				t.Fatal(err)
			}
			if g, o := renderBilling(got), renderBilling(other); g != o {
				t.Errorf("%s, query %d: form %d\n%s\nautomatic form\n%s", phase, i, form, o, g)
			}
		}
		want, err := raw.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := renderBilling(got), renderBilling(want); g != w {
			t.Errorf("%s, query %d: %s\n%s\nraw reader\n%s", phase, i, what, g, w)
		}
		if len(want.Lines) == 0 {
			t.Errorf("%s, query %d: no lines", phase, i)
		}
		out = append(out, renderBilling(got))
	}
	return out
}
