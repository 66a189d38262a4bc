package app_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
)

// seedBilledUsage sets up one customer with a priced product and a week
// of vCPU usage: 4 vCPU for 168 h at 0.01 → 6.72 EUR.
func seedBilledUsage(t *testing.T, s *server) {
	t.Helper()
	seedPricedVCPU(t, s)
	resp, err := billingv1.NewUsageServiceClient(s.conn).BatchIngestUsage(context.Background(), &billingv1.BatchIngestUsageRequest{Records: []*billingv1.UsageRecord{{
		IdempotencyKey: "vm1-week", CustomerId: "acme", MetricKey: "vm.vcpu", Quantity: "4", ResourceId: "vm1",
		StartTime: timestamppb.New(time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC)),
		EndTime:   timestamppb.New(time.Date(2026, 10, 12, 0, 0, 0, 0, time.UTC)),
	}}})
	if err != nil || resp.GetAccepted() != 1 {
		t.Fatalf("ingest: %v %v", resp, err)
	}
}

// seedPricedVCPU sets up customer acme (UTC) and product vcpu at 0.01 per
// vCPU-hour from 2026-01-01 (price "vcpu-2026" of list "default", EUR).
func seedPricedVCPU(t *testing.T, s *server) {
	t.Helper()
	ctx := context.Background()
	seedCatalog(t, s)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.catalog().CreateProduct(ctx, &billingv1.CreateProductRequest{Product: &billingv1.Product{
		Id: "vcpu", ProductGroupId: "compute", MetricKey: "vm.vcpu", DisplayName: "vCPU", Unit: "vCPU-hour",
	}}))
	must(billingv1.NewCustomerServiceClient(s.conn).CreateCustomer(ctx, &billingv1.CreateCustomerRequest{Customer: &billingv1.Customer{
		Id: "acme", DisplayName: "ACME B.V.",
	}}))
	pricing := billingv1.NewPricingServiceClient(s.conn)
	must(pricing.CreatePriceList(ctx, &billingv1.CreatePriceListRequest{PriceList: &billingv1.PriceList{Id: "default", DisplayName: "Default", Currency: "EUR"}}))
	must(pricing.CreatePrice(ctx, &billingv1.CreatePriceRequest{PriceListId: "default", Price: &billingv1.Price{
		Id: "vcpu-2026", ProductId: "vcpu", UnitPrice: "0.01", Granularity: billingv1.Granularity_GRANULARITY_HOUR,
		ValidFrom: timestamppb.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
	}}))
}

func octoberQuery() *billingv1.BillingQuery {
	return &billingv1.BillingQuery{
		CustomerIds: []string{"acme"},
		StartTime:   timestamppb.New(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)),
		EndTime:     timestamppb.New(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)),
		GroupBy:     []billingv1.GroupBy{billingv1.GroupBy_GROUP_BY_PRODUCT},
	}
}

func TestReportsMatchQueryBillingOverGRPCAndREST(t *testing.T) {
	t.Parallel()
	s := startOnTestDB(t)
	seedBilledUsage(t, s)
	ctx := context.Background()

	q, err := billingv1.NewBillingServiceClient(s.conn).QueryBilling(ctx, &billingv1.QueryBillingRequest{Query: octoberQuery()})
	if err != nil {
		t.Fatal(err)
	}
	if len(q.GetTotals()) != 1 || q.GetTotals()[0].GetAmount() != "6.72" {
		t.Fatalf("QueryBilling totals = %v, want EUR 6.72 (4 vCPU × 168 h × 0.01)", q.GetTotals())
	}

	// gRPC: chunks, content type and file name in the first one.
	stream, err := billingv1.NewReportServiceClient(s.conn).ExportReport(ctx, &billingv1.ExportReportRequest{
		Query: octoberQuery(), Format: billingv1.ReportFormat_REPORT_FORMAT_CSV,
	})
	if err != nil {
		t.Fatal(err)
	}
	var data bytes.Buffer
	var contentType, fileName string
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if contentType == "" {
			contentType, fileName = chunk.GetContentType(), chunk.GetFileName()
		}
		data.Write(chunk.GetData())
	}
	if !strings.HasPrefix(contentType, "text/csv") || !strings.HasSuffix(fileName, ".csv") {
		t.Errorf("content type %q, file name %q", contentType, fileName)
	}
	if got := csvAmountSum(t, data.Bytes(), ','); got != "6.72" {
		t.Errorf("gRPC CSV amounts sum to %s, want 6.72", got)
	}

	// REST downloads in every format.
	base := s.http + "/v1/reports/billing?customer=acme&from=2026-10-01T00:00:00Z&to=2026-11-01T00:00:00Z&group_by=product&format="
	for _, f := range []struct{ format, contentType string }{
		{"csv", "text/csv"}, {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
		{"pdf", "application/pdf"}, {"json", "application/json"}, {"xml", "application/xml"},
	} {
		resp, err := http.Get(base + f.format + "&delimiter=%3B")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), f.contentType) {
			t.Errorf("%s: %d %q %.200s", f.format, resp.StatusCode, resp.Header.Get("Content-Type"), body)
			continue
		}
		if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, "attachment") || !strings.Contains(cd, "."+f.format) {
			t.Errorf("%s: Content-Disposition %q", f.format, cd)
		}
		switch f.format {
		case "csv":
			if got := csvAmountSum(t, body, ';'); got != "6.72" {
				t.Errorf("REST CSV amounts sum to %s", got)
			}
		case "json":
			var out struct {
				Totals []struct{ Currency, Amount string } `json:"totals"`
			}
			if err := json.Unmarshal(body, &out); err != nil || len(out.Totals) != 1 || out.Totals[0].Amount != "6.72" {
				t.Errorf("JSON totals %+v (%v)", out.Totals, err)
			}
		case "pdf":
			if !bytes.HasPrefix(body, []byte("%PDF-")) {
				t.Errorf("PDF does not start with %%PDF-")
			}
		case "xml":
			if !bytes.Contains(body, []byte("6.72")) {
				t.Errorf("XML lacks the total 6.72")
			}
		case "xlsx":
			if !bytes.HasPrefix(body, []byte("PK")) {
				t.Errorf("XLSX is not a zip file")
			}
		}
	}

	// Bad parameters are answered before any byte of a file.
	for _, bad := range []string{
		"/v1/reports/billing?from=2026-10-01T00:00:00Z&to=2026-11-01T00:00:00Z&format=doc",
		"/v1/reports/billing?from=yesterday&to=2026-11-01T00:00:00Z&format=csv",
		"/v1/reports/billing?from=2026-11-01T00:00:00Z&to=2026-10-01T00:00:00Z&format=csv",
	} {
		resp, err := http.Get(s.http + bad)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s = %d, want 400", bad, resp.StatusCode)
		}
	}
	resp, err := http.Get(s.http + "/v1/reports/billing?customer=nobody&from=2026-10-01T00:00:00Z&to=2026-11-01T00:00:00Z&format=csv")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown customer = %d, want 404", resp.StatusCode)
	}
}

// csvAmountSum adds the amount column of a CSV report.
func csvAmountSum(t *testing.T, data []byte, delim rune) string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = delim
	rows, err := r.ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("CSV: %v (%d rows)", err, len(rows))
	}
	col := -1
	for i, h := range rows[0] {
		if h == "amount" {
			col = i
		}
	}
	if col < 0 {
		t.Fatalf("no amount column in %v", rows[0])
	}
	sum := decimal.Zero
	for _, row := range rows[1:] {
		sum = sum.Add(decimal.RequireFromString(row[col]))
	}
	return sum.StringFixed(2)
}
