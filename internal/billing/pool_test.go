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

// vmHours are interval records of one vCPU per VM and hour, from the hour
// at for n hours.
func vmHours(cust string, vms []string, at time.Time, n int) []billingtest.Record {
	var out []billingtest.Record
	for _, vm := range vms {
		for h := range n {
			s := at.Add(time.Duration(h) * time.Hour)
			out = append(out, billingtest.Record{Customer: cust, Metric: "vm.vcpu", Resource: vm, Quantity: "1", Start: s, End: s.Add(time.Hour)})
		}
	}
	return out
}

func vcpuEnv(t *testing.T, g pricing.Granularity, unit string, from time.Time) *env {
	e := newEnv(t)
	e.metric("vm.vcpu", "vCPU", catalog.AggregationTimeWeightedAvg)
	e.group("iaas")
	e.product("vcpu", "iaas", "vm.vcpu", "vCPU", nil)
	e.customer("acme", "UTC")
	e.list("default", "")
	e.price("default", "vcpu", "vcpu", unit, g, from, time.Time{})
	return e
}

// Three VMs with one vCPU for 8 hours of a day are one vCPU-day. Rated per
// VM, each is 8/24 of a day, a quotient rounded to 12 places; grouped by
// product the VMs are one pool, divided once: exactly 1.
func TestPoolDividesOnce(t *testing.T) {
	t.Parallel()
	e := vcpuEnv(t, pricing.GranularityDay, "30.00", utc(2026, 1, 1, 0))
	e.usage(vmHours("acme", []string{"vm-1", "vm-2", "vm-3"}, utc(2026, 11, 3, 8), 8)...)

	byProduct := e.query(billing.Query{Month: "2026-11", Granularity: rating.GranularityMonth, GroupBy: []rating.GroupKey{rating.GroupProduct}})
	wantRows(t, byProduct.Lines, "acme vcpu payg 2026-11-03..2026-11-04 1 × 30 = 30.00 EUR")
	byVM := e.query(billing.Query{Month: "2026-11", Granularity: rating.GranularityMonth, GroupBy: []rating.GroupKey{rating.GroupProduct, rating.GroupResource}})
	wantRows(t, byVM.Lines,
		"acme vm-1 vcpu payg 2026-11-03..2026-11-04 0.333333333333 × 30 = 10.00 EUR",
		"acme vm-2 vcpu payg 2026-11-03..2026-11-04 0.333333333333 × 30 = 10.00 EUR",
		"acme vm-3 vcpu payg 2026-11-03..2026-11-04 0.333333333333 × 30 = 10.00 EUR")
}

// Usage of a pool that no price covers is still reported per VM: the
// customer is rated again per resource for the report, and the lines keep
// the pooled rating.
func TestPoolNamesUnpricedResources(t *testing.T) {
	t.Parallel()
	e := vcpuEnv(t, pricing.GranularityHour, "0.01", utc(2026, 11, 10, 0))
	e.usage(vmHours("acme", []string{"vm-1", "vm-2"}, utc(2026, 11, 9, 22), 4)...)

	res := e.query(billing.Query{Month: "2026-11", Granularity: rating.GranularityMonth, GroupBy: []rating.GroupKey{rating.GroupProduct}})
	wantRows(t, res.Lines, "acme vcpu payg 2026-11-10..2026-11-10T02:00 4 × 0.01 = 0.04 EUR")
	var vms []string
	for _, u := range res.Unpriced {
		vms = append(vms, u.ResourceID+" "+u.Quantity.String()+" "+u.Reason.String())
		if !u.Start.Equal(utc(2026, 11, 1, 0)) || !u.End.Equal(utc(2026, 11, 10, 0)) || !u.Quantity.IsPositive() {
			t.Errorf("unpriced %s %s from %s to %s, want some from the 1st to the 10th (the price's start)", u.ResourceID, u.Quantity, u.Start, u.End)
		}
	}
	if got, want := len(vms), 2; got != want || vms[0][:5] != "vm-1 " || vms[1][:5] != "vm-2 " {
		t.Errorf("unpriced usage %q, want one entry for each of vm-1 and vm-2", vms)
	}
}
