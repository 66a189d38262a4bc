package report

import (
	"bytes"
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// April 2026 in Europe/Helsinki (UTC+3 all month).
var (
	aprFrom = utc("2026-03-31T21:00:00Z")
	aprMid  = utc("2026-04-15T21:00:00Z") // 16 April, local midnight
	aprWeek = utc("2026-04-07T21:00:00Z") // 8 April, local midnight
	aprTo   = utc("2026-04-30T21:00:00Z")
)

func sampleStatement() Statement {
	return Statement{
		Provider:    "Nordic Cloud Oy",
		GeneratedAt: utc("2026-05-01T06:30:00Z"),
		From:        aprFrom,
		To:          aprTo,
		Granularity: GranularityMonth,
		GroupBy:     []string{"customer", "resource", "product"},
		Customers: []CustomerInfo{
			{ID: "acme", Name: "Acme Oy", ExternalID: "ERP-1001", TimeZone: "Europe/Helsinki"},
			{ID: "globex", Name: "Globex Corporation (Nordics)", ExternalID: "GLX-7", TimeZone: "Europe/Helsinki"},
		},
	}
}

// line builds a line of April; amount = round(qty × price) is written out so
// that each case's arithmetic reads in the table below.
func line(cust, group, groupName, product, productName string, model string, qty, unit, price, amount, cur string) Line {
	return Line{
		CustomerID: cust, ProductGroupID: group, ProductGroupName: groupName,
		ProductID: product, ProductName: productName, MetricKey: product,
		Model: model, Granularity: GranularityMonth, Start: aprFrom, End: aprTo,
		Quantity: d(qty), Unit: unit, UnitPrice: d(price), Amount: d(amount), Currency: cur,
		PriceListID: "pl-default", PriceID: "pe-" + product,
	}
}

func with(l Line, f func(*Line)) Line { f(&l); return l }

// sampleLines: 24 lines, 2 customers, 2 currencies, 4 models, including the
// worked examples of the rating issue.
func sampleLines() []Line {
	return []Line{
		// acme, EUR
		// PAYG hourly: 4 vCPU × 10 h + 8 vCPU × 5 h = 80 vCPU-h × 0.01 = 0.80.
		with(line("acme", "compute", "Compute", "vcpu", "vCPU", ModelPAYG, "80", "vCPU-h", "0.01", "0.80", "EUR"),
			func(l *Line) { l.ResourceID = "vm-42" }),
		// 1440 GB-h × 0.002 = 2.88.
		with(line("acme", "compute", "Compute", "ram", "Memory", ModelPAYG, "1440", "GB-h", "0.002", "2.88", "EUR"),
			func(l *Line) { l.ResourceID = "vm-42" }),
		// A price change on the 16th splits the month: 720 × 0.01 = 7.20 and 720 × 0.012 = 8.64.
		with(line("acme", "compute", "Compute", "vcpu", "vCPU", ModelPAYG, "720", "vCPU-h", "0.01", "7.20", "EUR"),
			func(l *Line) { l.ResourceID, l.End = "vm-43", aprMid }),
		with(line("acme", "compute", "Compute", "vcpu", "vCPU", ModelPAYG, "720", "vCPU-h", "0.012", "8.64", "EUR"),
			func(l *Line) { l.ResourceID, l.Start, l.PriceID = "vm-43", aprMid, "pe-vcpu-2" }),
		// A −50 % campaign from the 1st to the 7th: 168 × 0.005 = 0.84, then 552 × 0.01 = 5.52.
		with(line("acme", "compute", "Compute", "vcpu", "vCPU", ModelPAYG, "168", "vCPU-h", "0.005", "0.84", "EUR"),
			func(l *Line) {
				l.ResourceID, l.End, l.CampaignID = "vm-44", aprWeek, "spring-50"
				l.Description = "vCPU, spring campaign −50 %"
			}),
		with(line("acme", "compute", "Compute", "vcpu", "vCPU", ModelPAYG, "552", "vCPU-h", "0.01", "5.52", "EUR"),
			func(l *Line) { l.ResourceID, l.Start = "vm-44", aprWeek }),
		// Committed monthly: 100 GB at 50.00/month, 60 GB used: 1 × 50.00.
		with(line("acme", "storage", "Storage", "disk-gold", "Disk (Gold)", ModelCommitted, "1", "month", "50.00", "50.00", "EUR"),
			func(l *Line) { l.ContractID, l.Description = "ct-1", "100 GB committed" }),
		// Committed + overage daily: 30 days × 1.00 = 30.00; 50 GB × 10 days × 0.02 = 10.00.
		with(line("acme", "storage", "Storage", "backup-store", "Backup storage", ModelCommitted, "30", "day", "1.00", "30.00", "EUR"),
			func(l *Line) { l.ContractID, l.Granularity = "ct-2", GranularityDay }),
		with(line("acme", "storage", "Storage", "backup-store", "Backup storage", ModelOverage, "500", "GB-day", "0.02", "10.00", "EUR"),
			func(l *Line) {
				l.ContractID = "ct-2"
				l.Description = "Backup storage overage above the 100 GB committed, rated at the contract's overage price " +
					"for the ten days on which usage exceeded the commitment (150 GB a day)"
			}),
		// Rounded once: 123.456 × 0.0345 = 4.259232 → 4.26.
		line("acme", "storage", "Storage", "disk-std", "Disk (Standard)", ModelPAYG, "123.456", "GB-month", "0.0345", "4.26", "EUR"),
		// Protected VMs (unique count) 12 × 4.50 = 54.00, by policy.
		with(line("acme", "backup", "Backup", "protected-vm", "Protected VM", ModelPAYG, "12", "VM", "4.50", "54.00", "EUR"),
			func(l *Line) { l.Dimensions = map[string]string{"policy": "gold", "site": "hel1"} }),
		// The customer's own list overrides the default for one product: 12 × 3.75 = 45.00.
		with(line("acme", "backup", "Backup", "licence", "Backup licence", ModelPAYG, "12", "licence", "3.75", "45.00", "EUR"),
			func(l *Line) { l.PriceListID = "pl-acme" }),
		// Adjustment of a closed March: −10 × 0.15 = −1.50.
		with(line("acme", "backup", "Backup", "licence", "Backup licence", ModelAdjustment, "-10", "licence", "0.15", "-1.50", "EUR"),
			func(l *Line) {
				l.Description = "Adjustment to 2026-03 (usage received after the month was closed): Backup licence"
				l.AdjustedMonth, l.AdjustmentCause = "2026-03", CauseLateUsage
			}),
		// Text that CSV must quote and XML escape.
		with(line("acme", "", "", "support", "", ModelPAYG, "1", "ticket", "25.00", "25.00", "EUR"),
			func(l *Line) { l.Description = `Ticket "#42", on-site; <urgent> & ünïcödé €` }),
		// acme: EUR 242.64 in 14 lines.

		// globex, USD
		// Hourly: 4 × 0.015 = 0.06 and 8 × 0.015 = 0.12.
		with(line("globex", "compute", "Compute", "vcpu", "vCPU", ModelPAYG, "4", "vCPU-h", "0.015", "0.06", "USD"),
			func(l *Line) {
				l.Granularity, l.Start, l.End = GranularityHour, utc("2026-04-10T10:00:00Z"), utc("2026-04-10T11:00:00Z")
				l.ResourceID = "vm-7"
			}),
		with(line("globex", "compute", "Compute", "vcpu", "vCPU", ModelPAYG, "8", "vCPU-h", "0.015", "0.12", "USD"),
			func(l *Line) {
				l.Granularity, l.Start, l.End = GranularityHour, utc("2026-04-10T11:00:00Z"), utc("2026-04-10T12:00:00Z")
				l.ResourceID = "vm-7"
			}),
		// Committed 1 × 200.00, overage 37.5 × 0.02 = 0.75.
		with(line("globex", "compute", "Compute", "vcpu", "vCPU", ModelCommitted, "1", "month", "200.00", "200.00", "USD"),
			func(l *Line) { l.ContractID = "ct-g1" }),
		with(line("globex", "compute", "Compute", "vcpu", "vCPU", ModelOverage, "37.5", "vCPU-month", "0.02", "0.75", "USD"),
			func(l *Line) { l.ContractID = "ct-g1" }),
		// 1,234,567.891 GB × 0.00005 = 61.72839455 → 61.73.
		line("globex", "network", "Network", "egress", "Internet egress", ModelPAYG, "1234567.891", "GB", "0.00005", "61.73", "USD"),
		line("globex", "network", "Network", "public-ip", "Public IPv4", ModelPAYG, "2", "IP", "3.00", "6.00", "USD"),
		// Committed for half the month (daily proration): 0.5 × 80.00 = 40.00.
		with(line("globex", "storage", "Storage", "disk-gold", "Disk (Gold)", ModelCommitted, "0.5", "month", "80.00", "40.00", "USD"),
			func(l *Line) { l.ContractID, l.Start = "ct-g2", aprMid }),
		// A large amount: 1,000,000 × 1.2345 = 1,234,500.00.
		line("globex", "storage", "Storage", "archive", "Archive tier, geo-replicated to a second site with immutable copies", ModelPAYG, "1000000", "GB-month", "1.2345", "1234500.00", "USD"),
		// Grouped by organisation, VDC and site: 720 × 0.01 = 7.20.
		with(line("globex", "compute", "Compute", "vcpu", "vCPU", ModelPAYG, "720", "vCPU-h", "0.01", "7.20", "USD"),
			func(l *Line) { l.OrganisationID, l.VdcID, l.Site, l.ResourceID = "org-3", "vdc-9", "hel1", "vm-8" }),
		// globex, EUR: 1 × 99.00.
		line("globex", "support", "Support", "support-eu", "Support (EU)", ModelPAYG, "1", "month", "99.00", "99.00", "EUR"),
		// globex: USD 1,234,815.86 in 9 lines, EUR 99.00 in 1 line.
	}
}

// sampleTotals: the totals QueryBilling returns for sampleLines.
func sampleTotals() []Total {
	return []Total{
		{Currency: "EUR", Amount: d("341.64"), Lines: 15},
		{Currency: "USD", Amount: d("1234815.86"), Lines: 9},
		{CustomerID: "acme", Currency: "EUR", Amount: d("242.64"), Lines: 14},
		{CustomerID: "globex", Currency: "EUR", Amount: d("99.00"), Lines: 1},
		{CustomerID: "globex", Currency: "USD", Amount: d("1234815.86"), Lines: 9},
	}
}

func sampleSource() Source { return SliceSource(sampleStatement(), sampleLines(), sampleTotals()) }

// render writes the sample in format f.
func render(t testing.TB, f Format, opts Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(context.Background(), &buf, f, sampleSource(), opts); err != nil {
		t.Fatalf("Write %s: %v", f, err)
	}
	return buf.Bytes()
}

// canon is a line as comparable text: exact decimals (amounts to the cent),
// UTC times, sorted dimensions. Fields a format does not carry are dropped
// with omit.
func canon(l Line, omit ...string) map[string]string {
	m := map[string]string{
		"customer_id": l.CustomerID, "organisation_id": l.OrganisationID, "vdc_id": l.VdcID,
		"site": l.Site, "resource_id": l.ResourceID, "product_group_id": l.ProductGroupID,
		"product_group_name": l.ProductGroupName, "product_id": l.ProductID,
		"product_name": l.ProductName, "metric_key": l.MetricKey,
		"dimensions": encodeDimensions(l.Dimensions), "model": l.Model, "granularity": l.Granularity,
		"start_time": l.Start.UTC().Format(time.RFC3339Nano), "end_time": l.End.UTC().Format(time.RFC3339Nano),
		"quantity": l.Quantity.String(), "unit": l.Unit, "unit_price": l.UnitPrice.String(),
		"amount": formatAmount(l.Currency, l.Amount), "currency": l.Currency,
		"price_list_id": l.PriceListID, "price_id": l.PriceID, "campaign_id": l.CampaignID,
		"contract_id": l.ContractID, "description": l.Description,
		"adjusted_month": l.AdjustedMonth, "adjustment_cause": l.AdjustmentCause,
	}
	for _, k := range omit {
		delete(m, k)
	}
	return m
}

// sameLines compares parsed lines with the sample's, in order.
func sameLines(t *testing.T, got []Line, omit ...string) {
	t.Helper()
	want := sampleLines()
	if len(got) != len(want) {
		t.Fatalf("%d lines, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := canon(got[i], omit...), canon(want[i], omit...)
		for _, k := range slices.Sorted(maps.Keys(w)) {
			if g[k] != w[k] {
				t.Errorf("line %d %s = %q, want %q", i+1, k, g[k], w[k])
			}
		}
	}
}

// sameTotals compares parsed totals with the sample's (those of the given
// customers; "" is the grand total), to the cent.
func sameTotals(t *testing.T, got []Total, customers ...string) {
	t.Helper()
	var want []Total
	for _, w := range sampleTotals() {
		if slices.Contains(customers, w.CustomerID) {
			want = append(want, w)
		}
	}
	key := func(x Total) string { return x.CustomerID + "/" + x.Currency }
	if len(got) != len(want) {
		t.Errorf("totals %v, want %v", got, want)
		return
	}
	byKey := map[string]Total{}
	for _, g := range got {
		byKey[key(g)] = g
	}
	for _, w := range want {
		g, ok := byKey[key(w)]
		if !ok || !g.Amount.Equal(w.Amount) || g.Lines != w.Lines {
			t.Errorf("total %s = %v, want %s in %d lines", key(w), g, w.Amount, w.Lines)
		}
	}
}

type xmlBuffer = bytes.Buffer
