package billing_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/billing/billingtest"
	"github.com/billingd/billingd/internal/catalog"
	"github.com/billingd/billingd/internal/pricing"
	"github.com/billingd/billingd/internal/rating"
	"github.com/billingd/billingd/internal/store/postgres"
)

// The big customer's month (issue 16): October 2026 (744 hours, UTC), one
// interval record per VM and hour of vCPUs, memory and storage (by policy),
// as the vCenter and VCD collectors send them: 200 VMs are 446,400 records,
// the small customer's one VM 2,232.
const (
	bigVMs   = 200
	bigHours = 744
)

var bigMonth = utc(2026, 10, 1, 0)

// BenchmarkBigCustomerMonth rates the month of a 200-VM customer and of a
// 1-VM customer, grouped by product by the month, in the same run, and
// reports big/small: the cost of a bill should not grow with the VMs (the
// goal: big ≤ 3 × small, big under 50 ms). "big-raw" is the same query
// through the raw-record reader, the reference the pools replace.
func BenchmarkBigCustomerMonth(b *testing.B) {
	if testing.Short() {
		b.Skip("loads 448,632 usage records")
	}
	ctx := context.Background()
	store, db := openBenchDB(b)
	start := time.Now()
	n := seedBig(b, ctx, store, db)
	b.Logf("loaded and pooled %d records in %s", n, time.Since(start).Round(time.Millisecond))

	svc := billing.New(store.Billing(), billing.Config{})
	query := func(id string) billing.Query {
		return billing.Query{CustomerIDs: []string{id}, Month: "2026-10", Granularity: rating.GranularityMonth,
			GroupBy: []rating.GroupKey{rating.GroupProduct}}
	}
	run := func(b *testing.B, svc *billing.Service, id string) float64 {
		var res billing.Result
		var err error
		for b.Loop() {
			if res, err = svc.Query(ctx, query(id)); err != nil {
				b.Fatal(err)
			}
		}
		ms := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / 1e6
		b.ReportMetric(ms, "ms/query")
		b.ReportMetric(float64(len(res.Lines)), "lines")
		return ms
	}
	var big, small float64
	b.Run("small", func(b *testing.B) { small = run(b, svc, "small") })
	b.Run("big", func(b *testing.B) {
		big = run(b, svc, "big")
		if small > 0 {
			b.ReportMetric(big/small, "big/small")
		}
	})
	b.Run("big-raw", func(b *testing.B) {
		raw := run(b, billing.New(store.RawBilling(), billing.Config{}), "big")
		if big > 0 {
			b.ReportMetric(raw/big, "raw/big")
		}
	})
}

// seedBig creates the catalog, the two customers and their usage (by
// COPY), and brings the rollups and pools up to date as the rollup worker
// would. It returns how many records it stored.
func seedBig(b testing.TB, ctx context.Context, store *postgres.Store, db *pgxpool.Pool) int64 {
	twa, hour, month := catalog.AggregationTimeWeightedAvg, pricing.GranularityHour, pricing.GranularityMonth
	seedCatalog(b, ctx, store, []benchProduct{
		{metric: "vm.vcpu", agg: twa, id: "vcpu", price: "0.01", g: hour},
		{metric: "vm.memory_gb", agg: twa, id: "ram", price: "0.005", g: hour},
		{metric: "storage.gb", agg: twa, id: "storage-gold", price: "0.08", g: month, filter: map[string]string{"policy": "gold"}},
		{metric: "storage.gb", agg: twa, id: "storage-silver", price: "0.05", g: month, filter: map[string]string{"policy": "silver"}},
	}, "big", "small")
	type vm struct {
		customer string
		i        int
	}
	vms := []vm{{"small", 0}}
	for i := range bigVMs {
		vms = append(vms, vm{"big", i})
	}
	v, h, m := 0, 0, 0
	n := copyUsage(b, ctx, db, []time.Time{bigMonth}, func() (billingtest.Record, bool) {
		if v == len(vms) {
			return billingtest.Record{}, false
		}
		x := vms[v]
		start := bigMonth.Add(time.Duration(h) * time.Hour)
		rec := billingtest.Record{
			Key: fmt.Sprintf("%s/%d/%d/%d", x.customer, x.i, h, m), Customer: x.customer, Resource: "vm-" + strconv.Itoa(x.i),
			Start: start, End: start.Add(time.Hour), Received: start.Add(time.Hour),
		}
		switch m {
		case 0:
			rec.Metric, rec.Quantity = "vm.vcpu", strconv.Itoa(1+x.i%8)
		case 1:
			rec.Metric, rec.Quantity = "vm.memory_gb", strconv.Itoa(4*(1+x.i%8))
		case 2:
			rec.Metric, rec.Quantity = "storage.gb", fmt.Sprintf("%d.%d", 40+x.i%200, h%10)
			rec.Dimensions = map[string]string{"policy": []string{"gold", "silver"}[x.i%2]}
		}
		if m++; m == 3 {
			m = 0
			if h++; h == bigHours {
				h = 0
				v++
			}
		}
		return rec, true
	})
	if want := int64(len(vms) * bigHours * 3); n != want {
		b.Fatalf("copied %d records, want %d", n, want)
	}
	return n
}
