package billing_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/billing/billingtest"
	"github.com/billingd/billingd/internal/catalog"
	"github.com/billingd/billingd/internal/pricing"
	"github.com/billingd/billingd/internal/rating"
)

func TestDSTDayHasTwentyFiveHourlyLines(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	vcpuCatalog(e)
	e.customer("fin", "Europe/Helsinki")
	e.list("default", "")
	e.price("default", "vcpu-h", "vcpu", "0.01", pricing.GranularityHour, utc(2026, 1, 1, 0), time.Time{})
	e.usage(sample("fin", "vm.vcpu", "vm1", "1", utc(2026, 10, 24, 0)))

	// 25 October 2026 in Helsinki: 03:00–04:00 EEST, then 03:00–04:00 EET again.
	res := e.query(billing.Query{CustomerIDs: []string{"fin"}, From: helsinki(2026, 10, 25), To: helsinki(2026, 10, 26), Granularity: rating.GranularityHour})
	if len(res.Lines) != 25 {
		t.Fatalf("%d hourly lines, want 25:\n%v", len(res.Lines), rows(res.Lines))
	}
	for i, l := range res.Lines {
		if l.End.Sub(l.Start) != time.Hour || !l.Quantity.Equal(dec("1")) || l.Amount.StringFixed(2) != "0.01" {
			t.Errorf("line %d: %s (%s), want one hour of 1 vCPU at 0.01", i, row(l), l.End.Sub(l.Start))
		}
		if i > 0 && !l.Start.Equal(res.Lines[i-1].End) {
			t.Errorf("line %d starts at %s, not where line %d ends", i, l.Start, i-1)
		}
	}
	if got := total(res); got != "0.25 EUR" {
		t.Errorf("total %s, want 0.25 EUR", got)
	}
}

func TestLateUsageChangesTheNextQuery(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	vcpuCatalog(e)
	e.list("default", "")
	e.price("default", "vcpu-h", "vcpu", "0.01", pricing.GranularityHour, utc(2026, 1, 1, 0), time.Time{})
	q := billing.Query{CustomerIDs: []string{"acme"}, From: nov, To: utc(2026, 11, 2, 0), Granularity: rating.GranularityDay}

	// 2 vCPU all day: 2 × 24 × 0.01 = 0.48.
	e.usage(sample("acme", "vm.vcpu", "vm1", "2", nov))
	if got := total(e.query(q)); got != "0.48 EUR" {
		t.Fatalf("first query: %s, want 0.48 EUR", got)
	}
	// A record of 12:00 arrives late: 4 vCPU from noon.
	// 2 × 12 × 0.01 + 4 × 12 × 0.01 = 0.24 + 0.48 = 0.72.
	late := sample("acme", "vm.vcpu", "vm1", "4", utc(2026, 11, 1, 12))
	late.Received = utc(2026, 11, 3, 0)
	e.usage(late)
	if got := total(e.query(q)); got != "0.72 EUR" {
		t.Errorf("after late usage: %s, want 0.72 EUR", got)
	}
}

// pagingEnv has 3 VMs in two organisations, each with 1 vCPU (vm1), 2 vCPU
// (vm2) or 3 vCPU (vm3) for all of 1 November, at 0.01 EUR per vCPU-hour:
// 72 hourly lines per resource grouping; (1 + 2 + 3) × 24 × 0.01 = 1.44 EUR.
func pagingEnv(t *testing.T) *env {
	e := newEnv(t)
	vcpuCatalog(e)
	e.list("default", "")
	e.price("default", "vcpu-h", "vcpu", "0.01", pricing.GranularityHour, utc(2026, 1, 1, 0), time.Time{})
	for i, org := range []string{"org-a", "org-a", "org-b"} {
		r := sample("acme", "vm.vcpu", fmt.Sprintf("vm%d", i+1), fmt.Sprint(i+1), nov)
		r.Organisation, r.VDC, r.Site = org, "vdc-"+org, []string{"ams", "fra", "ams"}[i]
		r.Dimensions = map[string]string{"policy": []string{"gold", "silver", "gold"}[i]}
		e.usage(r)
	}
	return e
}

func TestPagesCoverTheResultAndKeepTotals(t *testing.T) {
	t.Parallel()
	e := pagingEnv(t)
	q := billing.Query{CustomerIDs: []string{"acme"}, From: nov, To: utc(2026, 11, 2, 0), Granularity: rating.GranularityHour,
		GroupBy: []rating.GroupKey{rating.GroupResource}}
	all := e.query(q)
	if len(all.Lines) != 72 || total(all) != "1.44 EUR" {
		t.Fatalf("whole result: %d lines, %s; want 72 lines, 1.44 EUR", len(all.Lines), total(all))
	}

	var got []billing.Line
	token, pages := "", 0
	for {
		p, err := e.svc.QueryPage(e.ctx, q, 10, token)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		got = append(got, p.Lines...)
		if total(p.Result) != "1.44 EUR" || p.Totals[0].Lines != 72 {
			t.Errorf("page %d totals %v, want 1.44 EUR over 72 lines on every page", pages, p.Totals)
		}
		if token = p.NextPageToken; token == "" {
			break
		}
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
	}
	if pages != 8 { // 7 pages of 10 and one of 2
		t.Errorf("%d pages, want 8", pages)
	}
	if !slices.Equal(rows(got), rows(all.Lines)) {
		t.Errorf("pages joined differ from the whole result")
	}

	first, err := e.svc.QueryPage(e.ctx, q, 10, "")
	if err != nil {
		t.Fatal(err)
	}
	other := q
	other.Granularity = rating.GranularityDay
	for name, tc := range map[string]struct {
		q     billing.Query
		token string
	}{
		"token of another query": {other, first.NextPageToken},
		"not base64":             {q, "!!!"},
		"truncated":              {q, first.NextPageToken[:8]},
	} {
		_, err := e.svc.QueryPage(e.ctx, tc.q, 10, tc.token)
		if ae, ok := apperr.As(err); !ok || ae.Kind != apperr.KindInvalid || ae.Violations[0].Field != "page_token" {
			t.Errorf("%s: %v, want invalid page_token", name, err)
		}
	}
}

func TestGroupByVariants(t *testing.T) {
	t.Parallel()
	e := pagingEnv(t)
	cases := []struct {
		name string
		keys []rating.GroupKey
		dims []string
		want []string
	}{{
		// everything in one line: (1 + 2 + 3) × 24 = 144 vCPU-hours × 0.01
		name: "nothing",
		want: []string{"acme vcpu payg 2026-11-01..2026-11-02 144 × 0.01 = 1.44 EUR"},
	}, {
		// org-a: (1 + 2) × 24 = 72; org-b: 3 × 24 = 72
		name: "organisation",
		keys: []rating.GroupKey{rating.GroupOrganisation},
		want: []string{
			"acme org-a vcpu payg 2026-11-01..2026-11-02 72 × 0.01 = 0.72 EUR",
			"acme org-b vcpu payg 2026-11-01..2026-11-02 72 × 0.01 = 0.72 EUR",
		},
	}, {
		// ams: vm1 + vm3 = (1 + 3) × 24 = 96; fra: vm2 = 48
		name: "site",
		keys: []rating.GroupKey{rating.GroupSite},
		want: []string{
			"acme ams vcpu payg 2026-11-01..2026-11-02 96 × 0.01 = 0.96 EUR",
			"acme fra vcpu payg 2026-11-01..2026-11-02 48 × 0.01 = 0.48 EUR",
		},
	}, {
		name: "organisation and vdc",
		keys: []rating.GroupKey{rating.GroupOrganisation, rating.GroupVDC},
		want: []string{
			"acme org-a vdc-org-a vcpu payg 2026-11-01..2026-11-02 72 × 0.01 = 0.72 EUR",
			"acme org-b vdc-org-b vcpu payg 2026-11-01..2026-11-02 72 × 0.01 = 0.72 EUR",
		},
	}, {
		name: "resource",
		keys: []rating.GroupKey{rating.GroupResource},
		want: []string{
			"acme vm1 vcpu payg 2026-11-01..2026-11-02 24 × 0.01 = 0.24 EUR",
			"acme vm2 vcpu payg 2026-11-01..2026-11-02 48 × 0.01 = 0.48 EUR",
			"acme vm3 vcpu payg 2026-11-01..2026-11-02 72 × 0.01 = 0.72 EUR",
		},
	}, {
		// gold: vm1 + vm3 = 96; silver: vm2 = 48; the dimension is on the line
		name: "dimension policy",
		dims: []string{"policy"},
		want: []string{
			"acme vcpu payg 2026-11-01..2026-11-02 96 × 0.01 = 0.96 EUR",
			"acme vcpu payg 2026-11-01..2026-11-02 48 × 0.01 = 0.48 EUR",
		},
	}, {
		name: "product group, product and model",
		keys: []rating.GroupKey{rating.GroupProductGroup, rating.GroupProduct, rating.GroupModel},
		want: []string{"acme vcpu payg 2026-11-01..2026-11-02 144 × 0.01 = 1.44 EUR"},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := e.query(billing.Query{CustomerIDs: []string{"acme"}, From: nov, To: utc(2026, 11, 2, 0),
				Granularity: rating.GranularityPeriod, GroupBy: c.keys, GroupByDimensions: c.dims})
			wantRows(t, res.Lines, c.want...)
			if total(res) != "1.44 EUR" {
				t.Errorf("total %s, want 1.44 EUR whatever the grouping", total(res))
			}
			for _, l := range res.Lines {
				if len(c.dims) > 0 && l.Dimensions["policy"] == "" {
					t.Errorf("line %s lacks the policy dimension", row(l))
				}
				if l.Description != "vCPU" || l.Unit != "vCPU" || l.MetricKey != "vm.vcpu" || l.PriceID != "vcpu-h" || l.PriceListID != "default" {
					t.Errorf("line %s: description %q unit %q metric %q price %q/%q", row(l), l.Description, l.Unit, l.MetricKey, l.PriceListID, l.PriceID)
				}
			}
		})
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	vcpuCatalog(e)
	cases := []struct {
		name string
		q    billing.Query
		kind apperr.Kind
	}{
		{"unknown customer", billing.Query{CustomerIDs: []string{"acme", "nobody"}, From: nov, To: dec1}, apperr.KindNotFound},
		{"empty period", billing.Query{From: nov, To: nov}, apperr.KindInvalid},
		{"period over 366 days", billing.Query{From: nov, To: nov.AddDate(1, 1, 0)}, apperr.KindInvalid},
		{"unknown group key", billing.Query{From: nov, To: dec1, GroupBy: []rating.GroupKey{42}}, apperr.KindInvalid},
	}
	for _, c := range cases {
		_, err := e.svc.Query(e.ctx, c.q)
		if ae, ok := apperr.As(err); !ok || ae.Kind != c.kind {
			t.Errorf("%s: %v, want kind %v", c.name, err, c.kind)
		}
	}
}

// Counters, intervals, distinct counts, dimension filters, usage no price
// covers, and the 40-day lookback.
func TestReaderSemantics(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.customer("acme", "UTC")
	e.group("g")
	e.metric("net.gb", "GB", catalog.AggregationSum)
	e.metric("backup.vms", "VM", catalog.AggregationUniqueCount)
	e.metric("storage.gb", "GB", catalog.AggregationTimeWeightedAvg)
	e.product("net", "g", "net.gb", "Traffic", nil)
	e.product("backup", "g", "backup.vms", "Protected VMs", nil)
	e.product("gold", "g", "storage.gb", "Storage Gold", map[string]string{"policy": "gold"})
	e.product("silver", "g", "storage.gb", "Storage Silver", map[string]string{"policy": "silver"})
	e.list("default", "")
	for _, p := range []string{"net", "backup", "gold"} { // silver has no price
		e.price("default", p, p, "1.00", pricing.GranularityDay, utc(2026, 1, 1, 0), time.Time{})
	}
	vol := func(id, policy, q string, at time.Time) billingtest.Record {
		r := sample("acme", "storage.gb", id, q, at)
		r.Dimensions = map[string]string{"policy": policy}
		return r
	}
	e.usage(
		// a counter point on the 1st, and 30 GB over [1st 12:00, 2nd 12:00): 15 GB on each day
		sample("acme", "net.gb", "if1", "5", utc(2026, 11, 1, 3)),
		billingtest.Record{Customer: "acme", Metric: "net.gb", Resource: "if1", Quantity: "30", Start: utc(2026, 11, 1, 12), End: utc(2026, 11, 2, 12)},
		// vm1 twice and vm2 on the 1st: 2 VMs; vm1 on the 2nd: 1
		sample("acme", "backup.vms", "vm1", "1", utc(2026, 11, 1, 1)),
		sample("acme", "backup.vms", "vm1", "1", utc(2026, 11, 1, 2)),
		sample("acme", "backup.vms", "vm2", "1", utc(2026, 11, 1, 2)),
		sample("acme", "backup.vms", "vm1", "1", utc(2026, 11, 2, 2)),
		// gold: 10 GB sampled 39 days before, carried in; a 41-day-old sample is not
		vol("volA", "gold", "10", nov.AddDate(0, 0, -39)),
		vol("volB", "gold", "99", nov.AddDate(0, 0, -41)),
		// gold: an interval record of 48 GB over [31 Oct 12:00, 1 Nov 12:00): 24 GB on the 1st
		billingtest.Record{Customer: "acme", Metric: "storage.gb", Resource: "volC", Quantity: "48", Start: utc(2026, 10, 31, 12), End: utc(2026, 11, 1, 12), Dimensions: map[string]string{"policy": "gold"}},
		// silver has no price: unpriced
		vol("volD", "silver", "7", nov),
		// no product matches policy bronze: unpriced
		vol("volE", "bronze", "3", nov),
	)
	res := e.query(billing.Query{CustomerIDs: []string{"acme"}, From: nov, To: utc(2026, 11, 3, 0), Granularity: rating.GranularityDay,
		GroupBy: []rating.GroupKey{rating.GroupProduct}})
	wantRows(t, res.Lines,
		"acme backup payg 2026-11-01..2026-11-02 2 × 1 = 2.00 EUR",
		"acme backup payg 2026-11-02..2026-11-03 1 × 1 = 1.00 EUR",
		"acme gold payg 2026-11-01..2026-11-02 34 × 1 = 34.00 EUR", // 10 (volA) + 48 × 12 h / 24 h (volC)
		"acme gold payg 2026-11-02..2026-11-03 10 × 1 = 10.00 EUR",
		"acme net payg 2026-11-01..2026-11-02 20 × 1 = 20.00 EUR", // 5 + 15
		"acme net payg 2026-11-02..2026-11-03 15 × 1 = 15.00 EUR",
	)
	var unpriced []string
	for _, u := range res.Unpriced {
		unpriced = append(unpriced, fmt.Sprintf("%s %s %s", u.ProductID, u.MetricKey, u.Quantity))
	}
	slices.Sort(unpriced)
	// each over the whole 2-day period: 7 GB and 3 GB on average
	if want := []string{" storage.gb 3", "silver storage.gb 7"}; !slices.Equal(unpriced, want) {
		t.Errorf("unpriced %q, want %q", unpriced, want)
	}
}

func TestStats(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	storageCatalog(e)
	vcpuCatalog(e)
	e.customer("fin", "Europe/Helsinki")
	e.customer("idle", "UTC")
	e.list("default", "")
	e.price("default", "vcpu-d", "vcpu", "1.00", pricing.GranularityDay, utc(2026, 1, 1, 0), time.Time{})
	e.price("default", "gb-m", "storage-gold", "0.10", pricing.GranularityMonth, utc(2026, 1, 1, 0), time.Time{})
	e.contract("c1", "acme", "storage-gold", pricing.ContractModelCommittedOverage, "100", "1.00", pricing.GranularityDay, "0.02")
	e.usage(
		sample("acme", "storage.gb", "vol1", "150", nov), sample("acme", "storage.gb", "vol1", "0", utc(2026, 11, 11, 0)),
		sample("acme", "vm.vcpu", "vm1", "2", nov), sample("acme", "vm.vcpu", "vm2", "2", nov),
		// 30 Nov 23:00 UTC is 1 December 01:00 in Helsinki: not in fin's November
		sample("fin", "vm.vcpu", "vm1", "1", utc(2026, 11, 30, 23)),
		sample("fin", "vm.vcpu", "vm1", "1", utc(2026, 11, 5, 0)),
	)
	st, err := e.svc.Stats(e.ctx, "2026-11", "")
	if err != nil {
		t.Fatal(err)
	}
	// acme: storage-gold committed + overage, vcpu payg (two VMs, one price: one line) → 3 results, 2 products;
	// fin: vcpu payg → 1 result, 1 product. Atoms: acme×storage, acme×vcpu, fin×vcpu.
	// Records in the month: 4 of acme, 1 of fin (the other is fin's December).
	want := billing.Stats{Month: "2026-11", ProductAtoms: 3, ProductsRated: 3, BillingResults: 4, UsageRecords: 5, Customers: 2}
	if st != want {
		t.Errorf("stats %+v\nwant  %+v", st, want)
	}
	one, err := e.svc.Stats(e.ctx, "2026-11", "fin")
	if err != nil {
		t.Fatal(err)
	}
	if want := (billing.Stats{Month: "2026-11", ProductAtoms: 1, ProductsRated: 1, BillingResults: 1, UsageRecords: 1, Customers: 1}); one != want {
		t.Errorf("stats of fin %+v, want %+v", one, want)
	}
	if _, err := e.svc.Stats(e.ctx, "2026-11", "nobody"); apperr.KindOf(err) != apperr.KindNotFound {
		t.Errorf("stats of an unknown customer: %v, want NotFound", err)
	}
}

// Without grouping by customer, lines of several customers with the same
// price merge; a customer's own price stays on its own line.
func TestLinesOfSeveralCustomersMerge(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	vcpuCatalog(e)
	e.customer("beta", "UTC")
	e.customer("gamma", "UTC")
	e.list("default", "")
	e.price("default", "vcpu-d", "vcpu", "1.00", pricing.GranularityDay, utc(2026, 1, 1, 0), time.Time{})
	e.list("gamma-eur", "gamma")
	e.price("gamma-eur", "vcpu-d", "vcpu", "0.50", pricing.GranularityDay, utc(2026, 1, 1, 0), time.Time{})
	e.usage(sample("acme", "vm.vcpu", "vm1", "1", nov), sample("beta", "vm.vcpu", "vm1", "2", nov), sample("gamma", "vm.vcpu", "vm1", "4", nov))
	// 3 days: acme 1 × 3 + beta 2 × 3 = 9 vCPU-days at 1.00; gamma 4 × 3 = 12 at 0.50.
	res := e.query(billing.Query{From: nov, To: utc(2026, 11, 4, 0), Granularity: rating.GranularityPeriod, GroupBy: []rating.GroupKey{rating.GroupProduct}})
	wantRows(t, res.Lines,
		"vcpu payg 2026-11-01..2026-11-04 12 × 0.5 = 6.00 EUR",
		"vcpu payg 2026-11-01..2026-11-04 9 × 1 = 9.00 EUR",
	)
	if total(res) != "15.00 EUR" || res.Totals[0].Lines != 2 {
		t.Errorf("totals %v, want 15.00 EUR over 2 lines", res.Totals)
	}
}
