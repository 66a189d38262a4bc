package billing_test

import (
	"testing"
	"time"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/billing/billingtest"
	"github.com/billingd/billingd/internal/catalog"
	"github.com/billingd/billingd/internal/pricing"
	"github.com/billingd/billingd/internal/rating"
)

// The worked examples of a cut granule (docs/concepts.md), end to end: a
// granule cut by a contract's start, a price change or a tier ladder is
// charged once in total.
func TestCutGranuleExamples(t *testing.T) {
	t.Parallel()
	peakCatalog := func(e *env) {
		e.metric("vm.vcpu_peak", "vCPU", catalog.AggregationMax)
		e.group("compute")
		e.product("vcpu-peak", "compute", "vm.vcpu_peak", "vCPU (peak)", nil)
		e.ensureCustomer("acme")
		e.list("default", "")
	}
	sep, oct := utc(2026, 9, 1, 0), utc(2026, 10, 1, 0)
	byModel := billing.Query{CustomerIDs: []string{"acme"}, Granularity: rating.GranularityPeriod, GroupBy: byCustomerProductModel}
	month := func(from, to time.Time) billing.Query { q := byModel; q.From, q.To = from, to; return q }
	runWorked(t, []workedCase{{
		// A: commit 4 vCPU at 120.00/month from 11 September, daily proration;
		// one VM holds exactly 4 vCPU from then on (an interval record):
		// 120 × 20/30 = 80.00, and no excess.
		name: "A: a prorated commitment fully used",
		setup: func(e *env) {
			peakCatalog(e)
			e.price("default", "p", "vcpu-peak", "0.01", pricing.GranularityHour, utc(2026, 1, 1, 0), time.Time{})
			e.must(e.pricing.CreateContract(e.ctx, pricing.CreateContractInput{Contract: pricing.Contract{
				ID: "k", CustomerID: "acme", ProductID: "vcpu-peak", Model: pricing.ContractModelCommitted,
				CommittedQuantity: dec("4"), Fee: dec("120.00"), FeeGranularity: pricing.GranularityMonth, Currency: "EUR",
				StartTime: utc(2026, 9, 11, 0), Proration: pricing.ProrationDaily,
			}}))
			e.usage(billingtest.Record{Customer: "acme", Metric: "vm.vcpu_peak", Resource: "vm1", Quantity: "4",
				Start: utc(2026, 9, 11, 0), End: oct})
		},
		query: month(sep, oct),
		want:  []string{"acme vcpu-peak committed 2026-09-11..2026-10-01 0.666666666667 × 120 = 80.00 EUR"},
		total: "80.00 EUR",
	}, {
		// B: a 10 GB disk all November, 3.00 per GB-month until the 7th and
		// 4.50 from it: 10 × 6/30 × 3.00 + 10 × 24/30 × 4.50 = 6.00 + 36.00.
		name: "B: a monthly max price changing mid-month",
		setup: func(e *env) {
			peakCatalog(e)
			e.price("default", "p1", "vcpu-peak", "3.00", pricing.GranularityMonth, utc(2026, 1, 1, 0), utc(2026, 11, 7, 0))
			e.price("default", "p2", "vcpu-peak", "4.50", pricing.GranularityMonth, utc(2026, 11, 7, 0), time.Time{})
			e.usage(billingtest.Record{Customer: "acme", Metric: "vm.vcpu_peak", Resource: "disk1", Quantity: "10", Start: nov, End: dec1})
		},
		query: month(nov, dec1),
		want: []string{
			"acme vcpu-peak payg 2026-11-01..2026-11-07 2 × 3 = 6.00 EUR",
			"acme vcpu-peak payg 2026-11-07..2026-12-01 8 × 4.5 = 36.00 EUR",
		},
		total: "42.00 EUR",
	}, {
		// C: the first 50 units of a month free, then 1.00 until the 20th and
		// 1.50 from it; 40 units on the 3rd and 40 on the 25th: 30 × 1.50 = 45.00.
		name: "C: a free allowance is given once per month",
		setup: func(e *env) {
			e.metric("net.gb", "GB", catalog.AggregationSum)
			e.group("network")
			e.product("transfer", "network", "net.gb", "Transfer", nil)
			e.ensureCustomer("acme")
			e.list("default", "")
			for _, p := range []struct {
				id, rest string
				from, to time.Time
			}{{"t1", "1.00", utc(2026, 1, 1, 0), utc(2026, 10, 20, 0)}, {"t2", "1.50", utc(2026, 10, 20, 0), time.Time{}}} {
				e.must(e.pricing.CreatePrice(e.ctx, pricing.CreatePriceInput{Price: pricing.Price{
					PriceListID: "default", ID: p.id, ProductID: "transfer", Granularity: pricing.GranularityMonth,
					ValidFrom: p.from, ValidTo: p.to, TierMode: pricing.TierModeGraduated,
					Tiers: []pricing.Tier{{UpTo: dec("50"), UnitPrice: dec("0")}, {UnitPrice: dec(p.rest)}},
				}}))
			}
			e.usage(sample("acme", "net.gb", "", "40", utc(2026, 10, 3, 12)), sample("acme", "net.gb", "", "40", utc(2026, 10, 25, 12)))
		},
		query: month(oct, nov),
		want: []string{
			"acme transfer payg 2026-10-01..2026-10-20 40 × 0 = 0.00 EUR",
			"acme transfer payg 2026-10-20..2026-11-01 10 × 0 = 0.00 EUR",
			"acme transfer payg 2026-10-20..2026-11-01 30 × 1.5 = 45.00 EUR",
		},
		total: "45.00 EUR",
	}})
}
