package billing_test

import (
	"testing"
	"time"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/billing/billingtest"
	"github.com/billingd/billingd/internal/pricing"
	"github.com/billingd/billingd/internal/rating"
)

// A merged line says the periods its price applied: when a campaign priced
// 10–20 September of a product, the list-priced lines of the month are
// 1–10 and 20 September–1 October, not one line over the whole month that
// overlaps the campaign's.
func TestMergedLinesSplitWhereAnotherPriceApplied(t *testing.T) {
	t.Parallel()
	e := autumnVCPU(t)
	// vm1: 1 vCPU all September. vm2: 1 vCPU on 1–3 and 5–30 September
	// (nothing on the 3rd and 4th), which alone splits no line: the list
	// price applied then too.
	e.usage(billingtest.Record{Customer: "acme", Metric: "vm.vcpu", Resource: "vm1", Quantity: "1", Start: utc(2026, 9, 1, 0), End: utc(2026, 10, 1, 0)},
		billingtest.Record{Customer: "acme", Metric: "vm.vcpu", Resource: "vm2", Quantity: "1", Start: utc(2026, 9, 1, 0), End: utc(2026, 9, 3, 0)},
		billingtest.Record{Customer: "acme", Metric: "vm.vcpu", Resource: "vm2", Quantity: "1", Start: utc(2026, 9, 5, 0), End: utc(2026, 10, 1, 0)})

	res := e.query(billing.Query{CustomerIDs: []string{"acme"}, Month: "2026-09", GroupBy: byCustomerProductModel, Granularity: rating.GranularityPeriod})
	// 1–10 September:  vm1 216 h + vm2 (48 + 120) h = 384 vCPU-h × 0.01  = 3.84
	// 10–20 September: 2 × 240 h                    = 480 vCPU-h × 0.005 = 2.40
	// 20 Sep–1 Oct:    2 × 264 h                    = 528 vCPU-h × 0.01  = 5.28
	wantRows(t, res.Lines,
		"acme vcpu payg 2026-09-01..2026-09-10 384 × 0.01 = 3.84 EUR",
		"acme vcpu payg 2026-09-10..2026-09-20 480 × 0.005 = 2.40 EUR campaign autumn",
		"acme vcpu payg 2026-09-20..2026-10-01 528 × 0.01 = 5.28 EUR",
	)
	if got := total(res); got != "11.52 EUR" {
		t.Errorf("total %s, want 11.52 EUR", got)
	}

	// Grouped by resource, vm2's gap (3–5 September) is no other price's:
	// its list line before the campaign still spans 1–10 September.
	res = e.query(billing.Query{CustomerIDs: []string{"acme"}, Month: "2026-09",
		GroupBy: []rating.GroupKey{rating.GroupCustomer, rating.GroupResource, rating.GroupProduct}, Granularity: rating.GranularityPeriod})
	wantRows(t, res.Lines,
		"acme vm1 vcpu payg 2026-09-01..2026-09-10 216 × 0.01 = 2.16 EUR",
		"acme vm1 vcpu payg 2026-09-10..2026-09-20 240 × 0.005 = 1.20 EUR campaign autumn",
		"acme vm1 vcpu payg 2026-09-20..2026-10-01 264 × 0.01 = 2.64 EUR",
		"acme vm2 vcpu payg 2026-09-01..2026-09-10 168 × 0.01 = 1.68 EUR",
		"acme vm2 vcpu payg 2026-09-10..2026-09-20 240 × 0.005 = 1.20 EUR campaign autumn",
		"acme vm2 vcpu payg 2026-09-20..2026-10-01 264 × 0.01 = 2.64 EUR",
	)
}

// A resource with no usage while the campaign ran does not stretch the
// list-priced line over the campaign's days: each resource's lines are
// merged only where they follow on without a gap.
func TestMergedLinesSplitAcrossAResourcesIdleDays(t *testing.T) {
	t.Parallel()
	e := autumnVCPU(t)
	// vm1: 1 vCPU on 9–11 September only. vm3: 1 vCPU on 1–2 and 29–30
	// September, idle while the campaign ran.
	e.usage(billingtest.Record{Customer: "acme", Metric: "vm.vcpu", Resource: "vm1", Quantity: "1", Start: utc(2026, 9, 9, 0), End: utc(2026, 9, 11, 0)},
		billingtest.Record{Customer: "acme", Metric: "vm.vcpu", Resource: "vm3", Quantity: "1", Start: utc(2026, 9, 1, 0), End: utc(2026, 9, 2, 0)},
		billingtest.Record{Customer: "acme", Metric: "vm.vcpu", Resource: "vm3", Quantity: "1", Start: utc(2026, 9, 29, 0), End: utc(2026, 9, 30, 0)})

	res := e.query(billing.Query{CustomerIDs: []string{"acme"}, Month: "2026-09", GroupBy: byCustomerProductModel, Granularity: rating.GranularityPeriod})
	// 1–10 September:  vm3 24 h + vm1 24 h = 48 vCPU-h × 0.01  = 0.48
	// 10–11 September: vm1 24 h            = 24 vCPU-h × 0.005 = 0.12
	// 29–30 September: vm3 24 h            = 24 vCPU-h × 0.01  = 0.24
	wantRows(t, res.Lines,
		"acme vcpu payg 2026-09-01..2026-09-10 48 × 0.01 = 0.48 EUR",
		"acme vcpu payg 2026-09-10..2026-09-11 24 × 0.005 = 0.12 EUR campaign autumn",
		"acme vcpu payg 2026-09-29..2026-09-30 24 × 0.01 = 0.24 EUR",
	)
}

// autumnVCPU is vCPU at 0.01 an hour, and acme's campaign "autumn" at half
// price on 10–20 September.
func autumnVCPU(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	vcpuCatalog(e)
	e.list("default", "")
	e.price("default", "vcpu-h", "vcpu", "0.01", pricing.GranularityHour, utc(2026, 1, 1, 0), time.Time{})
	e.discount("autumn", "acme", "vcpu", "50", utc(2026, 9, 10, 0), utc(2026, 9, 20, 0))
	return e
}
