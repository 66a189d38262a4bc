package billing_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

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

// rollupEnv is env (reading hourly rollups where they rate the same) with
// a second service over the raw-record reader, the reference.
func rollupEnv(t *testing.T) (*env, *billing.Service) {
	t.Helper()
	url := pgtest.NewDatabase(t)
	ctx := t.Context()
	store, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	db, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	e := &env{
		t: t, ctx: ctx, svc: billing.New(store.Billing(), billing.Config{}), db: db,
		catalog: catalog.New(store.Catalog(), nil), cust: customer.New(store.Customers(), nil), pricing: pricing.New(store.Pricing(), nil),
	}
	return e, billing.New(store.RawBilling(), billing.Config{})
}

// render is everything a result says, quantities and amounts exact.
func render(res billing.Result) string {
	var b strings.Builder
	for _, l := range res.Lines {
		fmt.Fprintf(&b, "%s | %s %s %s %v %s..%s q=%s p=%s a=%s %s %s %s\n", row(l), l.CustomerID, l.MetricKey, l.ResourceID,
			l.Dimensions, l.Start.UTC().Format(time.RFC3339), l.End.UTC().Format(time.RFC3339),
			l.Quantity.String(), l.UnitPrice.String(), l.Amount.String(), l.PriceEntryID, l.CampaignID, l.Model)
	}
	for _, t := range res.Totals {
		fmt.Fprintf(&b, "total %s %s %d\n", t.Currency, t.Amount.String(), t.Lines)
	}
	for _, u := range res.Unpriced {
		fmt.Fprintf(&b, "unpriced %s %s %s %s %v %s..%s %s %v\n", u.CustomerID, u.ProductID, u.MetricKey, u.ResourceID, u.Dimensions,
			u.Start.UTC().Format(time.RFC3339), u.End.UTC().Format(time.RFC3339), u.Quantity.String(), u.Reason)
	}
	return b.String()
}

// randomUsage is n records of the test's metrics between from and to:
// counters and interval amounts, interval gauges and point samples
// (some at one instant, received in either order), unique counts, some
// spanning hours, days and months, at second resolution.
func randomUsage(rnd *rand.Rand, n int, custs []string, from, to time.Time, used map[int64]bool) []billingtest.Record {
	metrics := []string{"net.gb", "vm.vcpu", "mem.max", "cpu.last", "ip.count"}
	span := int64(to.Sub(from) / time.Second)
	var out []billingtest.Record
	for len(out) < n {
		sec := rnd.Int64N(span)
		if used[sec] { // distinct instants: of two pieces starting together "latest" is ambiguous on raw records too
			continue
		}
		used[sec] = true
		at := from.Add(time.Duration(sec) * time.Second)
		r := billingtest.Record{
			Customer: custs[rnd.IntN(len(custs))], Metric: metrics[rnd.IntN(len(metrics))],
			Resource: fmt.Sprintf("r%d", rnd.IntN(3)), Start: at,
			Quantity: fmt.Sprintf("%d.%03d", rnd.IntN(20), rnd.IntN(1000)),
		}
		if rnd.IntN(3) == 0 {
			r.Dimensions = map[string]string{"policy": []string{"gold", "silver"}[rnd.IntN(2)]}
		}
		if rnd.IntN(4) == 0 {
			r.Organisation = "org1"
		}
		switch k := rnd.IntN(10); {
		case k < 5: // point
		case k < 8:
			r.End = at.Add(time.Duration(1+rnd.IntN(3600)) * time.Second) // often within the hour
		case k < 9:
			r.End = at.Add(time.Duration(1+rnd.IntN(3*86400)) * time.Second)
		default:
			r.End = at.Add(time.Duration(1+rnd.IntN(45*86400)) * time.Second) // across months, beyond the lookback
		}
		out = append(out, r)
		if r.End.IsZero() && rnd.IntN(8) == 0 { // a second sample at the same instant
			dup := r
			dup.Quantity = fmt.Sprintf("%d", rnd.IntN(20))
			dup.Received = at.Add(time.Duration(rnd.IntN(3)-1) * time.Minute)
			out = append(out, dup)
		}
	}
	return out
}

// TestRollupReaderEqualsRawReader rates random usage through hourly
// rollups and through raw records and wants the same results, exactly,
// before and after late records arrive.
func TestRollupReaderEqualsRawReader(t *testing.T) {
	e, raw := rollupEnv(t)
	e.metric("net.gb", "GB", catalog.AggregationSum)
	e.metric("vm.vcpu", "vCPU", catalog.AggregationTimeWeightedAvg)
	e.metric("mem.max", "GB", catalog.AggregationMax)
	e.metric("cpu.last", "vCPU", catalog.AggregationLatest)
	e.metric("ip.count", "IP", catalog.AggregationUniqueCount)
	e.group("g")
	e.product("net", "g", "net.gb", "Net", nil)
	e.product("vcpu", "g", "vm.vcpu", "vCPU", nil)
	e.product("vcpu-gold", "g", "vm.vcpu", "vCPU gold", map[string]string{"policy": "gold"})
	e.product("mem", "g", "mem.max", "Memory", nil)
	e.product("cpu", "g", "cpu.last", "CPU", nil)
	e.product("ip", "g", "ip.count", "IP", nil)
	e.customer("utc", "UTC")
	e.customer("berlin", "Europe/Berlin")
	e.customer("kolkata", "Asia/Kolkata") // half-hour offset: read raw
	e.list("default", "")
	start := utc(2026, 1, 1, 0)
	e.price("default", "net1", "net", "0.013", pricing.GranularityHour, start, utc(2026, 11, 16, 7))
	e.price("default", "net2", "net", "0.011", pricing.GranularityHour, utc(2026, 11, 16, 7), time.Time{})
	e.price("default", "vcpu", "vcpu", "0.0417", pricing.GranularityHour, start, time.Time{})
	e.price("default", "vcpu-gold", "vcpu-gold", "1.9", pricing.GranularityDay, start, time.Time{})
	// price changes inside a day and a month cut the granules of a max and a latest
	e.price("default", "mem", "mem", "3.7", pricing.GranularityDay, start, utc(2026, 11, 16, 7))
	e.price("default", "mem2", "mem", "4.1", pricing.GranularityDay, utc(2026, 11, 16, 7), time.Time{})
	e.price("default", "cpu", "cpu", "11", pricing.GranularityMonth, start, utc(2026, 11, 20, 0))
	e.price("default", "cpu2", "cpu", "13", pricing.GranularityMonth, utc(2026, 11, 20, 0), time.Time{})
	// ip has no price: its usage is reported unpriced
	e.discount("promo", "berlin", "vcpu", "10", utc(2026, 11, 3, 5), utc(2026, 11, 9, 0))

	custs := []string{"utc", "berlin", "kolkata"}
	rnd := rand.New(rand.NewPCG(5, 8))
	used := map[int64]bool{}
	from, to := utc(2026, 9, 15, 0), utc(2026, 12, 10, 0)
	e.usage(randomUsage(rnd, 3000, custs, from, to, used)...)

	queries := []billing.Query{
		{From: utc(2026, 11, 1, 0), To: utc(2026, 12, 1, 0), Granularity: rating.GranularityMonth, GroupBy: byCustomerProductModel},
		{From: utc(2026, 11, 1, 0), To: utc(2026, 12, 1, 0), Granularity: rating.GranularityDay,
			GroupBy: []rating.GroupKey{rating.GroupCustomer, rating.GroupProduct, rating.GroupResource}, GroupByDimensions: []string{"policy"}},
		{CustomerIDs: []string{"utc"}, From: utc(2026, 11, 10, 0), To: utc(2026, 11, 12, 0), Granularity: rating.GranularityHour,
			GroupBy: []rating.GroupKey{rating.GroupProduct, rating.GroupResource}},
		{CustomerIDs: []string{"berlin"}, From: utc(2026, 10, 31, 23), To: utc(2026, 11, 30, 23)}, // Berlin's November, lines as rated
		{From: utc(2026, 11, 5, 13), To: utc(2026, 11, 5, 17), Granularity: rating.GranularityPeriod},
		{CustomerIDs: []string{"utc"}, From: utc(2026, 11, 5, 13).Add(30 * time.Minute), To: utc(2026, 11, 7, 0)}, // off the hour: raw
	}
	compare := func(phase string) []string {
		t.Helper()
		var out []string
		for i, q := range queries {
			got, err := e.svc.Query(e.ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			want, err := raw.Query(e.ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			g, w := render(got), render(want)
			if g != w {
				t.Errorf("%s, query %d: rollup reader\n%s\nraw reader\n%s", phase, i, g, w)
			}
			if len(want.Lines) == 0 {
				t.Errorf("%s, query %d: no lines", phase, i)
			}
			out = append(out, g)
		}
		return out
	}
	before := compare("on time")

	// late records, into hours already queried and rolled up
	late := randomUsage(rnd, 600, custs, utc(2026, 10, 25, 0), utc(2026, 11, 20, 0), used)
	for i := range late {
		late[i].Received = utc(2026, 12, 15, 0)
	}
	e.usage(late...)
	after := compare("late")
	for i := range before {
		if before[i] == after[i] {
			t.Errorf("query %d: late records did not change the result", i)
		}
	}
	var hourly, records int
	if err := e.db.QueryRow(e.ctx, "SELECT (SELECT count(*) FROM usage_hourly), (SELECT count(*) FROM usage_records)").Scan(&hourly, &records); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d records in %d hourly rows", records, hourly)
}
