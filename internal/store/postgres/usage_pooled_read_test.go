package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/catalog"
	"github.com/billingd/billingd/internal/pricing"
	"github.com/billingd/billingd/internal/rating"
	"github.com/billingd/billingd/internal/usage"
)

// poolSetup adds to billingSetup a storage metric sold per policy, gold
// by the month with a price change at 07:00 on the 16th (a month granule
// cut by the price) and silver by the day, and a campaign on vCPU for the
// Berlin customer.
func poolSetup(t *testing.T, db *usageDB) {
	t.Helper()
	billingSetup(t, db.store)
	ctx := context.Background()
	cat, pr := catalog.New(db.store.Catalog(), nil), pricing.New(db.store.Pricing(), nil)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(cat.CreateMetric(ctx, catalog.CreateMetricInput{Metric: catalog.Metric{Key: "storage.gb", Unit: "GB", Aggregation: catalog.AggregationTimeWeightedAvg}}))
	cut := time.Date(2025, 6, 16, 7, 0, 0, 0, time.UTC)
	for _, p := range []struct {
		id, policy, price string
		g                 pricing.Granularity
		from, to          time.Time
	}{
		{"gold", "gold", "0.08", pricing.GranularityMonth, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), cut},
		{"gold2", "gold", "0.09", pricing.GranularityMonth, cut, time.Time{}},
		{"silver", "silver", "0.002", pricing.GranularityDay, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Time{}},
	} {
		if p.id != "gold2" {
			must(cat.CreateProduct(ctx, catalog.CreateProductInput{Product: catalog.Product{ID: "p-storage-" + p.policy, GroupID: "g",
				MetricKey: "storage.gb", DisplayName: "storage " + p.policy, DimensionFilter: map[string]string{"policy": p.policy}}}))
		}
		must(pr.CreatePrice(ctx, pricing.CreatePriceInput{Price: pricing.Price{
			PriceListID: "default", ID: "pr-" + p.id, ProductID: "p-storage-" + p.policy, UnitPrice: decimal.RequireFromString(p.price),
			Granularity: p.g, ValidFrom: p.from, ValidTo: p.to,
		}}))
	}
	must(pr.CreateCampaign(ctx, pricing.CreateCampaignInput{Campaign: pricing.Campaign{
		ID: "promo", DisplayName: "promo", CustomerID: "berlin", Currency: "EUR",
		ValidFrom: time.Date(2025, 6, 8, 5, 0, 0, 0, time.UTC), ValidTo: time.Date(2025, 6, 12, 0, 0, 0, 0, time.UTC),
		Entries: []pricing.CampaignEntry{{ProductID: "p-vm.vcpu", DiscountPercent: decimal.NewNullDecimal(decimal.NewFromInt(15))}},
	}}))
}

// collectorRecords are what the vCenter and VCD collectors send: one
// interval record per resource and hour of vCPUs, storage (by policy) and
// network traffic, for resources resources of each customer over [from,
// to); the last resource is on for 40 minutes of each hour only.
func collectorRecords(rnd *rand.Rand, prefix string, resources int, from, to, received time.Time) []usage.Record {
	var out []usage.Record
	for _, c := range []string{"utc", "berlin"} {
		for r := range resources {
			for h := from; h.Before(to); h = h.Add(time.Hour) {
				start, end := h, h.Add(time.Hour)
				if r == resources-1 {
					start, end = h.Add(10*time.Minute), h.Add(50*time.Minute)
				}
				storage := decimal.New(int64(100000+r*10000+rnd.IntN(1000)), -3)
				if r == 1 { // 13 decimals: a pool's sum is then no level of 12 places
					storage = decimal.New(int64(1000000000000000+rnd.IntN(1000)), -13)
				}
				vcpu := decimal.NewFromInt(int64(1 + r%4))
				if c == "berlin" && r == 2 { // Berlin's vCPU pool sums to more than 12 places, UTC's to none
					vcpu = decimal.New(int64(20000000000000+rnd.IntN(1000)), -13)
				}
				// apart from the mixed records' vCPUs (their samples' levels
				// overlap the hours); the partly-on VM's are a pool of one
				// record an hour
				host := map[string]string{"cluster": "c1"}
				switch {
				case r == resources-1:
					host["host"] = "esx-2"
				case c == "utc" && r == 0: // a pool of one VM over whole hours, at 13 places
					host["host"] = "esx-3"
					vcpu = decimal.New(int64(30000000000000+rnd.IntN(1000)), -13)
				}
				for _, m := range []struct {
					metric string
					q      decimal.Decimal
					dims   map[string]string
				}{
					{"vm.vcpu", vcpu, host},
					{"storage.gb", storage, map[string]string{"policy": []string{"gold", "silver"}[r%2]}},
					{"net.gb", decimal.New(int64(rnd.IntN(5000)), -3), nil},
				} {
					out = append(out, usage.Record{
						Key: fmt.Sprintf("%s-%s-%s-%d-%d", prefix, c, m.metric, r, h.Unix()), CustomerID: c, MetricKey: m.metric,
						Quantity: m.q, Start: start, End: end, ResourceID: fmt.Sprintf("vm-%d", r), Dimensions: m.dims, ReceiveTime: received,
					})
				}
			}
		}
	}
	return out
}

// TestPooledReaderExactWhileHoursAreDirty rates collector-shaped usage,
// mixed with points and spans, through pooled hours and through raw
// records, and wants the same results, exactly, while every hour is dirty,
// when none is, and when late records have made some dirty again; and the
// pooled reader must hand over one row per pool and hour, however many
// resources it sums up.
func TestPooledReaderExactWhileHoursAreDirty(t *testing.T) {
	t.Parallel()
	db := newUsageDB(t)
	ctx := context.Background()
	db.pauseRollupWorkers(t)
	poolSetup(t, db)
	repo := db.store.Usage()
	pooled, raw := billing.New(db.store.Billing(), billing.Config{}), billing.New(db.store.RawBilling(), billing.Config{})

	rnd := rand.New(rand.NewPCG(17, 4))
	from, to := time.Date(2025, 6, 5, 0, 0, 0, 0, time.UTC), time.Date(2025, 6, 19, 0, 0, 0, 0, time.UTC)
	received := time.Date(2025, 7, 6, 0, 0, 0, 0, time.UTC)
	rs := collectorRecords(rnd, "c", 6, from, to, received)
	rs = append(rs, billingRecords(rnd, "mixed", 800, from, to, received)...) // points and spans: those hours are read raw
	// one VM on the 3rd: a record an hour, left sparse until late records come
	third := time.Date(2025, 6, 3, 0, 0, 0, 0, time.UTC)
	rs = append(rs, collectorRecords(rnd, "one", 1, third, third.Add(24*time.Hour), received)...)
	for i := 0; i < len(rs); i += 2000 {
		mustInsert(t, repo, rs[i:min(i+2000, len(rs))], min(2000, len(rs)-i))
	}

	june := func(tz string) (time.Time, time.Time) {
		loc, _ := time.LoadLocation(tz)
		return time.Date(2025, 6, 1, 0, 0, 0, 0, loc), time.Date(2025, 7, 1, 0, 0, 0, 0, loc)
	}
	uf, ut := june("UTC")
	bf, bt := june("Europe/Berlin")
	queries := []billing.Query{
		{Month: "2025-06", Granularity: rating.GranularityMonth, GroupBy: []rating.GroupKey{rating.GroupCustomer, rating.GroupProduct}},
		{From: uf, To: ut, Granularity: rating.GranularityDay, GroupBy: []rating.GroupKey{rating.GroupCustomer, rating.GroupProduct}, GroupByDimensions: []string{"policy"}},
		{CustomerIDs: []string{"berlin"}, From: bf, To: bt},
		{CustomerIDs: []string{"utc"}, From: time.Date(2025, 6, 10, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 6, 12, 0, 0, 0, 0, time.UTC),
			Granularity: rating.GranularityHour, GroupBy: []rating.GroupKey{rating.GroupProduct}},
		{Month: "2025-06", Granularity: rating.GranularityMonth, GroupBy: []rating.GroupKey{rating.GroupProduct, rating.GroupResource}}, // not pooled
	}
	compare := func(phase string) []string {
		t.Helper()
		return readersAgree(t, phase, "pooled reader", pooled, raw, queries)
	}
	allDirty := compare("all dirty")

	if err := db.store.FlushRollups(ctx); err != nil {
		t.Fatal(err)
	}
	if n := db.count(t, "SELECT count(*)::int FROM usage_pooled WHERE records >= 4"); n < 1000 {
		t.Fatalf("after the drain: %d pooled hours of 4 records or more, want 1000 or more", n)
	}
	sparseThird := func() int {
		return db.count(t, "SELECT count(*)::int FROM usage_pooled_hours WHERE sparse AND hour >= $1 AND hour < $2", third, third.Add(24*time.Hour))
	}
	if n := sparseThird(); n != 2*3*24 {
		t.Fatalf("after the drain: %d sparse hours on the 3rd, want 144 (2 customers × 3 metrics × 24 h)", n)
	}
	if n := db.count(t, "SELECT count(*)::int FROM usage_pooled_hours"); n < 100 {
		t.Fatalf("after the drain: %d hours with points or spans, want 100 or more", n)
	}
	clean := compare("all clean")
	if fmt.Sprint(clean) != fmt.Sprint(allDirty) {
		t.Error("the results changed when the pools caught up")
	}

	// One row per pool and hour: the vCPU hours of 4 VMs (two more have
	// pools of their own) come as one row each, except the hours the mixed records make raw (and their own
	// pools, of other dimensions).
	w := billing.UsageWindow{CustomerID: "utc", From: uf, To: ut, Lookback: billing.Lookback,
		Metrics: []string{"vm.vcpu"}, Gauges: []string{"vm.vcpu"}, Pool: []string{"vm.vcpu"}, Aligned: true}
	var rows, pools int
	if err := db.store.Billing().ScanUsage(ctx, w, func(u *billing.UsageRow) error {
		rows++
		if u.Pooled && len(u.ResourceID) != 0 {
			return fmt.Errorf("pooled row of resource %q", u.ResourceID)
		}
		if u.Pooled && u.Hour.Records >= 4 { // the collector's VMs (and a mixed record without dimensions)
			pools++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if hours := int(to.Sub(from).Hours()); pools < hours*3/4 || rows > hours*6*3/4 {
		t.Errorf("read %d rows, %d of them pools of 4 VMs, for %d hours of 6 VMs: want most hours pooled and a quarter fewer rows than records", rows, pools, hours)
	}

	// Late records into hours already pooled, and of 3 more VMs into the
	// sparse hours of the 3rd: those hours are dirty again, the others are
	// read pooled; once drained, the 3rd is pooled.
	late := collectorRecords(rnd, "late", 2, time.Date(2025, 6, 9, 0, 0, 0, 0, time.UTC), time.Date(2025, 6, 10, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 7, 10, 0, 0, 0, 0, time.UTC))
	late = append(late, collectorRecords(rnd, "late3", 3, third, third.Add(24*time.Hour), time.Date(2025, 7, 10, 0, 0, 0, 0, time.UTC))...)
	for i := range late {
		late[i].ResourceID += "-late"
	}
	mustInsert(t, repo, late, len(late))
	mixed := compare("late, mixed")
	if fmt.Sprint(mixed) == fmt.Sprint(clean) {
		t.Error("late records did not change the results")
	}
	if err := db.store.FlushRollups(ctx); err != nil {
		t.Fatal(err)
	}
	if n := sparseThird(); n != 0 {
		t.Errorf("after late records of 3 VMs more: %d sparse hours on the 3rd, want them pooled", n)
	}
	if fmt.Sprint(compare("late, caught up")) != fmt.Sprint(mixed) {
		t.Error("the results changed when the pools caught up with the late records")
	}
}
