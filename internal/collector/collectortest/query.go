package collectortest

import (
	"context"
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
