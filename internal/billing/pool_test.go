package billing_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shopspring/decimal"

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

// TestPropertyPoolIsTheSumOfItsResources rates random VM usage (partial
// hours, intervals over two hours, decimals) grouped by product, which
// pools the VMs, and grouped by product and VM, which does not, in UTC,
// Berlin and Kolkata: every pooled line is the sum of the VMs' lines of
// its product and price, exactly for a sum, and for a time-weighted
// average up to the rounding of one quotient per VM and granule that the
// pool no longer has; its amount is within a cent.
func TestPropertyPoolIsTheSumOfItsResources(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.metric("vm.vcpu", "vCPU", catalog.AggregationTimeWeightedAvg)
	e.metric("storage.gb", "GB", catalog.AggregationTimeWeightedAvg)
	e.metric("net.gb", "GB", catalog.AggregationSum)
	e.group("iaas")
	e.product("vcpu", "iaas", "vm.vcpu", "vCPU", nil)
	e.product("storage", "iaas", "storage.gb", "Storage", nil)
	e.product("net", "iaas", "net.gb", "Traffic", nil)
	e.list("default", "")
	start, cut := utc(2026, 1, 1, 0), utc(2026, 10, 14, 9)
	e.price("default", "vcpu", "vcpu", "0.73", pricing.GranularityDay, start, cut)
	e.price("default", "vcpu2", "vcpu", "0.81", pricing.GranularityDay, cut, time.Time{})
	e.price("default", "storage", "storage", "0.0937", pricing.GranularityMonth, start, time.Time{})
	e.price("default", "net", "net", "0.013", pricing.GranularityHour, start, time.Time{})
	zones := map[string]string{"utc": "UTC", "berlin": "Europe/Berlin", "kolkata": "Asia/Kolkata"}
	for id, tz := range zones {
		e.customer(id, tz)
	}
	rnd := rand.New(rand.NewPCG(9, 27))
	var recs []billingtest.Record
	vms := map[string]int{}
	for id := range zones {
		vms[id] = 2 + rnd.IntN(5)
		for vm := range vms[id] {
			for h := utc(2026, 9, 29, 0); h.Before(utc(2026, 11, 2, 0)); h = h.Add(time.Hour) {
				if rnd.IntN(6) == 0 {
					continue // off this hour
				}
				for _, m := range []string{"vm.vcpu", "storage.gb", "net.gb"} {
					s, end := h, h.Add(time.Hour)
					switch rnd.IntN(8) {
					case 0:
						s = h.Add(time.Duration(rnd.IntN(59)) * time.Minute)
					case 1:
						end = h.Add(time.Duration(1+rnd.IntN(59)) * time.Minute)
					case 2:
						end = h.Add(2 * time.Hour)
					}
					q := fmt.Sprintf("%d.%03d", 1+rnd.IntN(16), rnd.IntN(1000))
					recs = append(recs, billingtest.Record{Customer: id, Metric: m, Resource: fmt.Sprintf("vm-%d", vm), Quantity: q, Start: s, End: end})
				}
			}
		}
	}
	e.usage(recs...)

	key := func(l billing.Line) string {
		return l.CustomerID + " " + l.ProductID + " " + l.UnitPrice.String() + " " + l.PriceEntryID
	}
	pooled := e.query(billing.Query{Month: "2026-10", Granularity: rating.GranularityMonth,
		GroupBy: []rating.GroupKey{rating.GroupCustomer, rating.GroupProduct}})
	perVM := e.query(billing.Query{Month: "2026-10", Granularity: rating.GranularityMonth,
		GroupBy: []rating.GroupKey{rating.GroupCustomer, rating.GroupProduct, rating.GroupResource}})
	sums := map[string]decimal.Decimal{}
	for _, l := range perVM.Lines {
		sums[key(l)] = sums[key(l)].Add(l.Quantity)
	}
	if len(pooled.Lines) != len(sums) || len(pooled.Lines) < 9 {
		t.Fatalf("%d pooled lines for %d products and prices of the VMs' lines, want as many, 9 or more", len(pooled.Lines), len(sums))
	}
	cent := dec("0.01")
	for _, l := range pooled.Lines {
		want := sums[key(l)]
		// one quotient per VM and granule rounded half a unit of the 12th place:
		// 745 hours, or fewer days and months, per VM
		bound := decimal.New(int64(vms[l.CustomerID]+1)*745, -12)
		if l.ProductID == "net" {
			bound = decimal.Zero
		}
		if d := l.Quantity.Sub(want).Abs(); d.GreaterThan(bound) {
			t.Errorf("%s: pooled %s, the VMs' lines %s: off by %s, more than %s", key(l), l.Quantity, want, d, bound)
		}
		if d := l.Amount.Sub(l.UnitPrice.Mul(want)).Abs(); d.GreaterThan(cent) {
			t.Errorf("%s: pooled amount %s, the VMs' quantity × price %s", key(l), l.Amount, l.UnitPrice.Mul(want))
		}
	}
}
