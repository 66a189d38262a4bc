package collectortest

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
)

// Bill returns a customer's bill over [from, to): each line as
// "quantity × unit price = amount" by product, and the totals as
// "amount currency".
func (b *Billingd) Bill(t *testing.T, customer string, from, to time.Time) (lines map[string]string, totals []string) {
	t.Helper()
	bill, err := billingv1.NewBillingServiceClient(b.Admin).QueryBilling(context.Background(), &billingv1.QueryBillingRequest{Query: &billingv1.BillingQuery{
		CustomerIds: []string{customer}, StartTime: timestamppb.New(from), EndTime: timestamppb.New(to),
	}})
	if err != nil {
		t.Fatal(err)
	}
	lines = map[string]string{}
	for _, l := range bill.GetLines() {
		lines[l.GetProductId()] = l.GetQuantity() + " × " + l.GetUnitPrice() + " = " + l.GetAmount()
	}
	for _, tot := range bill.GetTotals() {
		totals = append(totals, tot.GetAmount()+" "+tot.GetCurrency())
	}
	return lines, totals
}

// Usage returns every usage record billingd stored for a customer.
func (b *Billingd) Usage(t *testing.T, customer string) []*billingv1.UsageRecord {
	t.Helper()
	var out []*billingv1.UsageRecord
	req := &billingv1.ListUsageRequest{CustomerId: customer, PageSize: 1000}
	for {
		res, err := billingv1.NewUsageServiceClient(b.Admin).ListUsage(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, res.GetUsageRecords()...)
		if res.GetNextPageToken() == "" {
			return out
		}
		req.PageToken = res.GetNextPageToken()
	}
}

// CheckMonthBill checks a customer's bill for the month that starts at
// month: its lines by product, as Bill renders them, and its one total in
// EUR.
func (b *Billingd) CheckMonthBill(t *testing.T, customer string, month time.Time, want map[string]string, total string) {
	t.Helper()
	lines, totals := b.Bill(t, customer, month, month.AddDate(0, 1, 0))
	if !maps.Equal(lines, want) {
		t.Errorf("%s's lines\n got %v\nwant %v", customer, lines, want)
	}
	if !slices.Equal(totals, []string{total + " EUR"}) {
		t.Errorf("%s's %s total = %v, want %s EUR", customer, month.Format("January"), totals, total)
	}
}

// CheckRecordCounts checks how many usage records billingd stored per customer.
func (b *Billingd) CheckRecordCounts(t *testing.T, want map[string]int) {
	t.Helper()
	for cust, n := range want {
		if got := len(b.Usage(t, cust)); got != n {
			t.Errorf("%s has %d records in billingd, want %d", cust, got, n)
		}
	}
}
