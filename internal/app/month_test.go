package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
)

// A month by name is each customer's own month, over gRPC, the REST query,
// the stream and the REST report: acme (UTC) and fin (Europe/Helsinki)
// both run 1 vCPU from 25 September to 5 November at 0.01 per vCPU-hour.
// UTC's October has 744 hours (7.44), Helsinki's 745 (7.45): 14.89.
func TestMonthByNameIsEachCustomersMonth(t *testing.T) {
	s := startOnTestDB(t)
	seedPricedVCPU(t, s)
	ctx := context.Background()
	if _, err := billingv1.NewCustomerServiceClient(s.conn).CreateCustomer(ctx, &billingv1.CreateCustomerRequest{Customer: &billingv1.Customer{
		Id: "fin", DisplayName: "Fin Oy", BillingTimeZone: "Europe/Helsinki",
	}}); err != nil {
		t.Fatal(err)
	}
	var recs []*billingv1.UsageRecord
	for _, c := range []string{"acme", "fin"} {
		recs = append(recs, &billingv1.UsageRecord{
			IdempotencyKey: c + "-vm1", CustomerId: c, MetricKey: "vm.vcpu", Quantity: "1", ResourceId: "vm1",
			StartTime: timestamppb.New(time.Date(2026, 9, 25, 0, 0, 0, 0, time.UTC)),
			EndTime:   timestamppb.New(time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC)),
		})
	}
	if res, err := billingv1.NewUsageServiceClient(s.conn).BatchIngestUsage(ctx, &billingv1.BatchIngestUsageRequest{Records: recs}); err != nil || res.GetAccepted() != 2 {
		t.Fatalf("ingest: %v %v", res, err)
	}
	bill := billingv1.NewBillingServiceClient(s.conn)
	month := &billingv1.BillingQuery{Month: "2026-10", GroupBy: []billingv1.GroupBy{billingv1.GroupBy_GROUP_BY_CUSTOMER}}

	res, err := bill.QueryBilling(ctx, &billingv1.QueryBillingRequest{Query: month})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range res.GetLines() {
		got = append(got, fmt.Sprintf("%s %s..%s %s", l.GetCustomerId(), l.GetStartTime().AsTime().Format(time.RFC3339),
			l.GetEndTime().AsTime().Format(time.RFC3339), l.GetAmount()))
	}
	want := []string{
		"acme 2026-10-01T00:00:00Z..2026-11-01T00:00:00Z 7.44",
		"fin 2026-09-30T21:00:00Z..2026-10-31T22:00:00Z 7.45",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") || res.GetTotals()[0].GetAmount() != "14.89" {
		t.Errorf("QueryBilling month 2026-10:\n  %s\ntotal %v; want\n  %s\ntotal 14.89", strings.Join(got, "\n  "), res.GetTotals(), strings.Join(want, "\n  "))
	}

	stream, err := bill.StreamBilling(ctx, &billingv1.StreamBillingRequest{Query: month})
	if err != nil {
		t.Fatal(err)
	}
	var streamTotal string
	for {
		msg, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(msg.GetTotals()) > 0 {
			streamTotal = msg.GetTotals()[0].GetAmount()
		}
	}
	if streamTotal != "14.89" {
		t.Errorf("StreamBilling month 2026-10: total %q, want 14.89", streamTotal)
	}

	code, body := s.call(t, http.MethodGet, "/v1/billing:query?query.month=2026-10", nil)
	if tot, _ := body["totals"].([]any); code != http.StatusOK || len(tot) != 1 || tot[0].(map[string]any)["amount"] != "14.89" {
		t.Errorf("GET /v1/billing:query?query.month=2026-10 = %d %v, want total 14.89", code, body)
	}

	resp, err := http.Get(s.http + "/v1/reports/billing?customer=fin&month=2026-10&format=csv")
	if err != nil {
		t.Fatal(err)
	}
	csvBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("REST report with month: %d %s", resp.StatusCode, csvBody)
	}
	if got := csvAmountSum(t, csvBody, ','); got != "7.45" {
		t.Errorf("REST report of fin's 2026-10 sums to %s, want 7.45", got)
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, "billing-fin-2026-10.csv") {
		t.Errorf("Content-Disposition %q, want billing-fin-2026-10.csv", cd)
	}

	// A month beside instants, or a malformed month, names the field.
	start := timestamppb.New(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC))
	for _, c := range []struct {
		q     *billingv1.BillingQuery
		field string
	}{
		{&billingv1.BillingQuery{Month: "2026-10", StartTime: start, EndTime: timestamppb.New(start.AsTime().AddDate(0, 1, 0))}, "query.month"},
		{&billingv1.BillingQuery{Month: "2026-10", StartTime: start}, "query.month"},
		{&billingv1.BillingQuery{Month: "October"}, "query.month"},
		{&billingv1.BillingQuery{}, "query.start_time"},
	} {
		_, err := bill.QueryBilling(ctx, &billingv1.QueryBillingRequest{Query: c.q})
		if f := violatedField(err); status.Code(err) != codes.InvalidArgument || f != c.field {
			t.Errorf("%v: %v (field %q), want InvalidArgument on %s", c.q, err, f, c.field)
		}
	}
	resp, err = http.Get(s.http + "/v1/reports/billing?month=2026-10&from=2026-10-01T00:00:00Z&to=2026-11-01T00:00:00Z&format=csv")
	if err != nil {
		t.Fatal(err)
	}
	errBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(errBody), `"month"`) {
		t.Errorf("REST report with month and from/to = %d %s, want 400 on month", resp.StatusCode, errBody)
	}
}

// violatedField is the first field a status' BadRequest names.
func violatedField(err error) string {
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok && len(br.GetFieldViolations()) > 0 {
			return br.GetFieldViolations()[0].GetField()
		}
	}
	return ""
}
