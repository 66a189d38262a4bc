package billing_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/catalog"
	"github.com/billingd/billingd/internal/pricing"
	"github.com/billingd/billingd/internal/rating"
)

// The worked examples of issue 4, end to end: catalog, prices and contracts
// through the domain services, usage as raw rows in PostgreSQL, lines from
// the billing service.
func TestWorkedExamples(t *testing.T) {
	t.Parallel()
	runWorked(t, []workedCase{{
		// 4 vCPU × 10 h × 0.01 + 8 vCPU × 5 h × 0.01 = 0.40 + 0.40 = 0.80 EUR;
		// the 15 hourly lines share one price and merge into one line of 80 vCPU-hours.
		name: "payg hourly",
		setup: func(e *env) {
			vcpuCatalog(e)
			e.list("default", "")
			e.price("default", "vcpu-h", "vcpu", "0.01", pricing.GranularityHour, utc(2026, 1, 1, 0), time.Time{})
			e.usage(sample("acme", "vm.vcpu", "vm1", "4", utc(2026, 11, 2, 0)),
				sample("acme", "vm.vcpu", "vm1", "8", utc(2026, 11, 2, 10)),
				sample("acme", "vm.vcpu", "vm1", "0", utc(2026, 11, 2, 15)))
		},
		query: billing.Query{CustomerIDs: []string{"acme"}, From: utc(2026, 11, 2, 0), To: utc(2026, 11, 3, 0), Granularity: rating.GranularityPeriod},
		want:  []string{"acme vcpu payg 2026-11-02..2026-11-02T15:00 80 × 0.01 = 0.80 EUR"},
		total: "0.80 EUR",
	}, {
		// 100 GB committed at 50.00 EUR/month, 60 GB used: the fee, nothing else.
		name: "committed monthly",
		setup: func(e *env) {
			storageCatalog(e)
			e.contract("c1", "acme", "storage-gold", pricing.ContractModelCommitted, "100", "50.00", pricing.GranularityMonth, "")
			e.usage(sample("acme", "storage.gb", "vol1", "60", nov))
		},
		query: billing.Query{CustomerIDs: []string{"acme"}, From: nov, To: dec1, Granularity: rating.GranularityMonth, GroupBy: byCustomerProductModel},
		want:  []string{"acme storage-gold committed 2026-11-01..2026-12-01 1 × 50 = 50.00 EUR"},
		total: "50.00 EUR",
	}, {
		// Commit 100 GB at 1.00 EUR/day, overage 0.02 EUR per GB-day; 150 GB on
		// days 1–10 of 30-day November, none after:
		// committed 30 days × 1.00 = 30.00; overage (150 − 100) × 10 days × 0.02 = 10.00.
		name: "committed and overage daily",
		setup: func(e *env) {
			storageCatalog(e)
			e.contract("c1", "acme", "storage-gold", pricing.ContractModelCommittedOverage, "100", "1.00", pricing.GranularityDay, "0.02")
			e.usage(sample("acme", "storage.gb", "vol1", "150", nov), sample("acme", "storage.gb", "vol1", "0", utc(2026, 11, 11, 0)))
		},
		query: billing.Query{CustomerIDs: []string{"acme"}, From: nov, To: dec1, Granularity: rating.GranularityMonth, GroupBy: byCustomerProductModel},
		want: []string{
			"acme storage-gold committed 2026-11-01..2026-12-01 30 × 1 = 30.00 EUR",
			"acme storage-gold overage 2026-11-01..2026-11-11 500 × 0.02 = 10.00 EUR",
		},
		total: "40.00 EUR",
	}, {
		// 100 GB all month (sampled on 20 October, carried in), 0.30 EUR per
		// GB-month until the 16th, 0.60 from then:
		// 100 × 15/30 × 0.30 = 15.00 and 100 × 15/30 × 0.60 = 30.00, two lines.
		name: "price change on the 16th splits a monthly line",
		setup: func(e *env) {
			storageCatalog(e)
			e.list("default", "")
			e.price("default", "p1", "storage-gold", "0.30", pricing.GranularityMonth, utc(2026, 10, 1, 0), utc(2026, 11, 16, 0))
			e.price("default", "p2", "storage-gold", "0.60", pricing.GranularityMonth, utc(2026, 11, 16, 0), time.Time{})
			e.usage(sample("acme", "storage.gb", "vol1", "100", utc(2026, 10, 20, 0)))
		},
		query: billing.Query{CustomerIDs: []string{"acme"}, From: nov, To: dec1, Granularity: rating.GranularityMonth, GroupBy: byCustomerProductModel},
		want: []string{
			"acme storage-gold payg 2026-11-01..2026-11-16 50 × 0.3 = 15.00 EUR",
			"acme storage-gold payg 2026-11-16..2026-12-01 50 × 0.6 = 30.00 EUR",
		},
		total: "45.00 EUR",
	}, {
		// Customer list 1.00 EUR per vCPU-day; the customer's campaign takes
		// 50 % off on the 1st–7th; a default campaign of 90 % ranks below the
		// customer list and never applies. 2 vCPU on the 1st–10th:
		// 2 × 7 × 0.50 = 7.00 (campaign) + 2 × 3 × 1.00 = 6.00 (list) = 13.00.
		name: "campaign 1st to 7th wins over the customer list inside its window only",
		setup: func(e *env) {
			vcpuCatalog(e)
			e.list("acme-eur", "acme")
			e.price("acme-eur", "vcpu-d", "vcpu", "1.00", pricing.GranularityDay, utc(2026, 10, 1, 0), time.Time{})
			e.discount("launch", "acme", "vcpu", "50", nov, utc(2026, 11, 8, 0))
			e.discount("everyone", "", "vcpu", "90", nov, utc(2026, 11, 8, 0))
			e.usage(sample("acme", "vm.vcpu", "vm1", "2", nov))
		},
		query: billing.Query{CustomerIDs: []string{"acme"}, From: nov, To: utc(2026, 11, 11, 0), Granularity: rating.GranularityPeriod},
		want: []string{
			"acme vcpu payg 2026-11-01..2026-11-08 14 × 0.5 = 7.00 EUR campaign launch",
			"acme vcpu payg 2026-11-08..2026-11-11 6 × 1 = 6.00 EUR",
		},
		total: "13.00 EUR",
	}, {
		// Default list: vCPU 1.00, storage 0.10 per unit-day; acme's list
		// overrides vCPU only (0.80). 4 vCPU and 10 GB for 2 days each:
		// acme storage 10 × 2 × 0.10 = 2.00 (default), acme vCPU 4 × 2 × 0.80 = 6.40 (its list),
		// other vCPU 4 × 2 × 1.00 = 8.00 (default). All customers: 16.40.
		name: "customer list overrides the default for one product only",
		setup: func(e *env) {
			vcpuCatalog(e)
			storageCatalog(e)
			e.customer("other", "UTC")
			e.list("default", "")
			e.price("default", "vcpu-d", "vcpu", "1.00", pricing.GranularityDay, utc(2026, 1, 1, 0), time.Time{})
			e.price("default", "gb-d", "storage-gold", "0.10", pricing.GranularityDay, utc(2026, 1, 1, 0), time.Time{})
			e.list("acme-eur", "acme")
			e.price("acme-eur", "vcpu-d", "vcpu", "0.80", pricing.GranularityDay, utc(2026, 1, 1, 0), time.Time{})
			e.usage(sample("acme", "vm.vcpu", "vm1", "4", nov), sample("acme", "storage.gb", "vol1", "10", nov),
				sample("other", "vm.vcpu", "vm9", "4", nov))
		},
		query: billing.Query{From: nov, To: utc(2026, 11, 3, 0), Granularity: rating.GranularityPeriod,
			GroupBy: []rating.GroupKey{rating.GroupCustomer, rating.GroupProduct}},
		want: []string{
			"acme vcpu payg 2026-11-01..2026-11-03 8 × 0.8 = 6.40 EUR", // group compute sorts before storage
			"acme storage-gold payg 2026-11-01..2026-11-03 20 × 0.1 = 2.00 EUR",
			"other vcpu payg 2026-11-01..2026-11-03 8 × 1 = 8.00 EUR",
		},
		total: "16.40 EUR",
	}, {
		// Europe/Helsinki leaves summer time on Sunday 25 October 2026 at
		// 04:00 local: that day has 25 hours. 1 vCPU all day at 0.01 EUR per
		// vCPU-hour: 25 × 0.01 = 0.25 (a 24-hour day would give 0.24).
		name: "DST day in Helsinki bills 25 hours",
		setup: func(e *env) {
			vcpuCatalog(e)
			e.customer("fin", "Europe/Helsinki")
			e.list("default", "")
			e.price("default", "vcpu-h", "vcpu", "0.01", pricing.GranularityHour, utc(2026, 1, 1, 0), time.Time{})
			e.usage(sample("fin", "vm.vcpu", "vm1", "1", utc(2026, 10, 24, 0)))
		},
		query: billing.Query{CustomerIDs: []string{"fin"}, From: helsinki(2026, 10, 25), To: helsinki(2026, 10, 26), Granularity: rating.GranularityDay},
		want:  []string{"fin vcpu payg 2026-10-25..2026-10-26 25 × 0.01 = 0.25 EUR"},
		total: "0.25 EUR",
	}, {
		// The same samples — 2 GB from 00:00, 8 GB from 06:00, 2 GB from 12:00 —
		// at 1.00 EUR per GB-day: average (2·6 + 8·6 + 2·12) / 24 = 3.5 → 3.50;
		// maximum 8 → 8.00.
		name: "time-weighted average and maximum of the same samples",
		setup: func(e *env) {
			e.metric("mem.avg", "GB", catalog.AggregationTimeWeightedAvg)
			e.metric("mem.peak", "GB", catalog.AggregationMax)
			e.group("compute")
			e.product("mem-avg", "compute", "mem.avg", "Memory (average)", nil)
			e.product("mem-peak", "compute", "mem.peak", "Memory (peak)", nil)
			e.customer("acme", "UTC")
			e.list("default", "")
			e.price("default", "avg", "mem-avg", "1.00", pricing.GranularityDay, utc(2026, 1, 1, 0), time.Time{})
			e.price("default", "peak", "mem-peak", "1.00", pricing.GranularityDay, utc(2026, 1, 1, 0), time.Time{})
			for _, m := range []string{"mem.avg", "mem.peak"} {
				e.usage(sample("acme", m, "vm1", "2", nov), sample("acme", m, "vm1", "8", utc(2026, 11, 1, 6)),
					sample("acme", m, "vm1", "2", utc(2026, 11, 1, 12)))
			}
		},
		query: billing.Query{CustomerIDs: []string{"acme"}, From: nov, To: utc(2026, 11, 2, 0), Granularity: rating.GranularityPeriod},
		want: []string{
			"acme mem-avg payg 2026-11-01..2026-11-02 3.5 × 1 = 3.50 EUR",
			"acme mem-peak payg 2026-11-01..2026-11-02 8 × 1 = 8.00 EUR",
		},
		total: "11.50 EUR",
	}})
}

// workedCase is a worked example: a setup, a query, its lines and total.
type workedCase struct {
	name  string
	setup func(e *env)
	query billing.Query
	want  []string
	total string
}

// runWorked runs each case in parallel on a database of its own.
func runWorked(t *testing.T, cases []workedCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			c.setup(e)
			res := e.query(c.query)
			wantRows(t, res.Lines, c.want...)
			if got := total(res); got != c.total {
				t.Errorf("total = %s, want %s", got, c.total)
			}
		})
	}
}

func helsinki(y int, m time.Month, d int) time.Time {
	loc, err := time.LoadLocation("Europe/Helsinki")
	if err != nil {
		panic(err)
	}
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// vcpuCatalog is vm.vcpu (time-weighted average) sold as product vcpu, and customer acme.
func vcpuCatalog(e *env) {
	e.metric("vm.vcpu", "vCPU", catalog.AggregationTimeWeightedAvg)
	e.group("compute")
	e.product("vcpu", "compute", "vm.vcpu", "vCPU", nil)
	e.ensureCustomer("acme")
}

// storageCatalog is storage.gb (time-weighted average) sold as storage-gold, and customer acme.
func storageCatalog(e *env) {
	e.metric("storage.gb", "GB", catalog.AggregationTimeWeightedAvg)
	e.group("storage")
	e.product("storage-gold", "storage", "storage.gb", "Storage Gold", nil)
	e.ensureCustomer("acme")
}

func (e *env) ensureCustomer(id string) {
	e.t.Helper()
	if _, err := e.cust.GetCustomer(e.ctx, id); err == nil {
		return
	}
	e.customer(id, "UTC")
}

func (e *env) contract(id, cust, product string, model pricing.ContractModel, committed, fee string, g pricing.Granularity, overage string) {
	e.t.Helper()
	e.contractIn(id, cust, "EUR", utc(2026, 1, 1, 0), product, model, committed, fee, g, overage)
}

// contractIn is a contract in currency from start on, without end.
func (e *env) contractIn(id, cust, currency string, start time.Time, product string, model pricing.ContractModel, committed, fee string, g pricing.Granularity, overage string) {
	e.t.Helper()
	c := pricing.Contract{
		ID: id, CustomerID: cust, ProductID: product, Model: model, CommittedQuantity: dec(committed), Fee: dec(fee),
		FeeGranularity: g, Currency: currency, StartTime: start, Proration: pricing.ProrationNone,
	}
	if overage != "" {
		c.OverageUnitPrice = decimal.NewNullDecimal(dec(overage))
	}
	e.must(e.pricing.CreateContract(e.ctx, pricing.CreateContractInput{Contract: c}))
}
