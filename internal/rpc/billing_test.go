package rpc_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/app"
	"github.com/billingd/billingd/internal/billing/billingtest"
	"github.com/billingd/billingd/internal/config"
	"github.com/billingd/billingd/internal/store/postgres/pgtest"
)

// billingd is a whole billingd on loopback over a fresh database, with a
// pool on that database for writing usage rows.
type billingd struct {
	http string
	conn *grpc.ClientConn
	db   *pgxpool.Pool
}

func startBillingd(t *testing.T) *billingd {
	t.Helper()
	cfg := config.Default()
	cfg.DatabaseURL = pgtest.NewDatabase(t)
	cfg.GRPCAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Auth = false // billing queries without API keys; access has its own tests
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		cancel()
		t.Fatalf("app.New: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	conn, err := grpc.NewClient(a.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	db, err := pgxpool.New(ctx, cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		_ = conn.Close()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("billingd did not stop within 30s")
		}
	})
	return &billingd{http: "http://" + a.HTTPAddr(), conn: conn, db: db}
}

// rest calls the gateway and decodes its JSON answer into out.
func (b *billingd) rest(t *testing.T, method, path string, body []byte, out proto.Message) int {
	t.Helper()
	req, err := http.NewRequest(method, b.http+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK && out != nil {
		if err := protojson.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
	return resp.StatusCode
}

// seedBilling sets up, through the API, a vCPU product at 0.01 EUR per
// vCPU-hour and a storage product with a daily committed + overage
// contract, and writes usage rows: vm1 4 vCPU and vm2 2 vCPU all of 1–2
// November 2026; 150 GB on 1–2 November.
func seedBilling(t *testing.T, b *billingd) {
	t.Helper()
	ctx := t.Context()
	cat := billingv1.NewCatalogServiceClient(b.conn)
	cus := billingv1.NewCustomerServiceClient(b.conn)
	pri := billingv1.NewPricingServiceClient(b.conn)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(cus.CreateCustomer(ctx, &billingv1.CreateCustomerRequest{Customer: &billingv1.Customer{Id: "acme", DisplayName: "ACME"}}))
	must(cat.CreateProductGroup(ctx, &billingv1.CreateProductGroupRequest{ProductGroup: &billingv1.ProductGroup{Id: "compute", DisplayName: "Compute"}}))
	must(cat.CreateProductGroup(ctx, &billingv1.CreateProductGroupRequest{ProductGroup: &billingv1.ProductGroup{Id: "storage", DisplayName: "Storage"}}))
	for _, m := range []*billingv1.Metric{
		{Key: "vm.vcpu", Unit: "vCPU", Aggregation: billingv1.Aggregation_AGGREGATION_TIME_WEIGHTED_AVG},
		{Key: "storage.gb", Unit: "GB", Aggregation: billingv1.Aggregation_AGGREGATION_TIME_WEIGHTED_AVG},
	} {
		must(cat.CreateMetric(ctx, &billingv1.CreateMetricRequest{Metric: m}))
	}
	must(cat.CreateProduct(ctx, &billingv1.CreateProductRequest{Product: &billingv1.Product{Id: "vcpu", ProductGroupId: "compute", MetricKey: "vm.vcpu", DisplayName: "vCPU"}}))
	must(cat.CreateProduct(ctx, &billingv1.CreateProductRequest{Product: &billingv1.Product{Id: "storage-gold", ProductGroupId: "storage", MetricKey: "storage.gb", DisplayName: "Storage Gold"}}))
	must(pri.CreatePriceList(ctx, &billingv1.CreatePriceListRequest{PriceList: &billingv1.PriceList{Id: "default", DisplayName: "Default", Currency: "EUR"}}))
	must(pri.CreatePrice(ctx, &billingv1.CreatePriceRequest{PriceListId: "default", Price: &billingv1.Price{
		Id: "vcpu-h", ProductId: "vcpu", UnitPrice: "0.01", Granularity: billingv1.Granularity_GRANULARITY_HOUR, ValidFrom: at(2026, 1, 1),
	}}))
	must(pri.CreateContract(ctx, &billingv1.CreateContractRequest{Contract: &billingv1.Contract{
		Id: "c1", CustomerId: "acme", ProductId: "storage-gold", Model: billingv1.ContractModel_CONTRACT_MODEL_COMMITTED_OVERAGE,
		CommittedQuantity: "100", Fee: "1.00", FeeGranularity: billingv1.Granularity_GRANULARITY_DAY, OverageUnitPrice: "0.02",
		Currency: "EUR", StartTime: at(2026, 1, 1), Proration: billingv1.Proration_PRORATION_NONE,
	}}))
	nov := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	end := nov.AddDate(0, 0, 2)
	err := billingtest.Insert(ctx, b.db,
		billingtest.Record{Customer: "acme", Metric: "vm.vcpu", Resource: "vm1", Quantity: "4", Start: nov, End: end},
		billingtest.Record{Customer: "acme", Metric: "vm.vcpu", Resource: "vm2", Quantity: "2", Start: nov},
		billingtest.Record{Customer: "acme", Metric: "storage.gb", Resource: "vol1", Quantity: "150", Start: nov},
	)
	if err != nil {
		t.Fatal(err)
	}
}

func TestBillingOverGRPCAndREST(t *testing.T) {
	t.Parallel()
	b := startBillingd(t)
	seedBilling(t, b)
	ctx := t.Context()
	client := billingv1.NewBillingServiceClient(b.conn)
	query := &billingv1.BillingQuery{
		CustomerIds: []string{"acme"}, StartTime: at(2026, 11, 1), EndTime: at(2026, 11, 3),
		Granularity: billingv1.Granularity_GRANULARITY_DAY,
		GroupBy:     []billingv1.GroupBy{billingv1.GroupBy_GROUP_BY_PRODUCT, billingv1.GroupBy_GROUP_BY_MODEL},
	}
	grpcResp, err := client.QueryBilling(ctx, &billingv1.QueryBillingRequest{Query: query})
	if err != nil {
		t.Fatal(err)
	}
	// Per day: vCPU (4 + 2) × 24 × 0.01 = 1.44; storage committed 1.00 and
	// overage (150 − 100) × 0.02 = 1.00. Two days: 2 × 3.44 = 6.88.
	type want struct{ product, model, day, quantity, amount, description string }
	wants := []want{
		{"vcpu", "BILLING_MODEL_PAYG", "2026-11-01", "144", "1.44", "vCPU"},
		{"vcpu", "BILLING_MODEL_PAYG", "2026-11-02", "144", "1.44", "vCPU"},
		{"storage-gold", "BILLING_MODEL_COMMITTED", "2026-11-01", "1", "1.00", "Storage Gold — committed 100 GB"},
		{"storage-gold", "BILLING_MODEL_COMMITTED", "2026-11-02", "1", "1.00", "Storage Gold — committed 100 GB"},
		{"storage-gold", "BILLING_MODEL_OVERAGE", "2026-11-01", "50", "1.00", "Storage Gold — overage above 100 GB"},
		{"storage-gold", "BILLING_MODEL_OVERAGE", "2026-11-02", "50", "1.00", "Storage Gold — overage above 100 GB"},
	}
	lines := grpcResp.GetLines()
	if len(lines) != len(wants) {
		t.Fatalf("%d lines, want %d: %v", len(lines), len(wants), lines)
	}
	for i, w := range wants {
		l := lines[i]
		got := want{l.GetProductId(), l.GetModel().String(), l.GetStartTime().AsTime().Format(time.DateOnly), l.GetQuantity(), l.GetAmount(), l.GetDescription()}
		if got != w || l.GetCustomerId() != "acme" || l.GetCurrency() != "EUR" {
			t.Errorf("line %d = %+v (customer %q), want %+v", i, got, l.GetCustomerId(), w)
		}
	}
	if tot := grpcResp.GetTotals(); len(tot) != 1 || tot[0].GetAmount() != "6.88" || tot[0].GetLineCount() != 6 {
		t.Errorf("totals %v, want 6.88 EUR over 6 lines", tot)
	}

	// REST GET with the query in the URL and POST with it in the body answer the same.
	v := url.Values{}
	v.Set("query.customerIds", "acme")
	v.Set("query.startTime", "2026-11-01T00:00:00Z")
	v.Set("query.endTime", "2026-11-03T00:00:00Z")
	v.Set("query.granularity", "GRANULARITY_DAY")
	v.Add("query.groupBy", "GROUP_BY_PRODUCT")
	v.Add("query.groupBy", "GROUP_BY_MODEL")
	var getResp billingv1.QueryBillingResponse
	if code := b.rest(t, "GET", "/v1/billing:query?"+v.Encode(), nil, &getResp); code != http.StatusOK {
		t.Fatalf("GET /v1/billing:query = %d", code)
	}
	body, err := protojson.Marshal(&billingv1.QueryBillingRequest{Query: query})
	if err != nil {
		t.Fatal(err)
	}
	var postResp billingv1.QueryBillingResponse
	if code := b.rest(t, "POST", "/v1/billing:query", body, &postResp); code != http.StatusOK {
		t.Fatalf("POST /v1/billing:query = %d", code)
	}
	for name, r := range map[string]*billingv1.QueryBillingResponse{"GET": &getResp, "POST": &postResp} {
		if !proto.Equal(r, grpcResp) {
			t.Errorf("REST %s answered\n%v\nand gRPC\n%v", name, r, grpcResp)
		}
	}

	// The stream sends the same lines, then the totals.
	stream, err := client.StreamBilling(ctx, &billingv1.StreamBillingRequest{Query: query})
	if err != nil {
		t.Fatal(err)
	}
	var streamed []*billingv1.BillingLine
	var last *billingv1.StreamBillingResponse
	for {
		msg, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		streamed = append(streamed, msg.GetLines()...)
		last = msg
	}
	if !proto.Equal(&billingv1.QueryBillingResponse{Lines: streamed, Totals: last.GetTotals()}, &billingv1.QueryBillingResponse{Lines: lines, Totals: grpcResp.GetTotals()}) {
		t.Errorf("streamed lines or totals differ from QueryBilling's")
	}

	// Pages of 4: the first has a token, the second the rest; totals on both.
	p1, err := client.QueryBilling(ctx, &billingv1.QueryBillingRequest{Query: query, PageSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := client.QueryBilling(ctx, &billingv1.QueryBillingRequest{Query: query, PageSize: 4, PageToken: p1.GetNextPageToken()})
	if err != nil {
		t.Fatal(err)
	}
	if len(p1.GetLines()) != 4 || len(p2.GetLines()) != 2 || p2.GetNextPageToken() != "" ||
		!proto.Equal(p1.GetLines()[0], lines[0]) || !proto.Equal(p2.GetLines()[1], lines[5]) ||
		p2.GetTotals()[0].GetAmount() != "6.88" {
		t.Errorf("pages: %d + %d lines, next %q, totals %v", len(p1.GetLines()), len(p2.GetLines()), p2.GetNextPageToken(), p2.GetTotals())
	}

	stats, err := client.GetBillingStats(ctx, &billingv1.GetBillingStatsRequest{Month: "2026-11"})
	if err != nil {
		t.Fatal(err)
	}
	// vcpu payg and storage committed + overage: 3 monthly results of 2 products; 3 records.
	if stats.GetBillingResults() != 3 || stats.GetProductsRated() != 2 || stats.GetProductAtoms() != 2 || stats.GetUsageRecords() != 3 || stats.GetCustomers() != 1 {
		t.Errorf("stats %v", stats)
	}
	var restStats billingv1.GetBillingStatsResponse
	if code := b.rest(t, "GET", "/v1/billing:stats?month=2026-11", nil, &restStats); code != http.StatusOK || !proto.Equal(&restStats, stats) {
		t.Errorf("REST stats = %d %v, want %v", code, &restStats, stats)
	}
}

func TestBillingErrorsOverGRPCAndREST(t *testing.T) {
	t.Parallel()
	b := startBillingd(t)
	seedBilling(t, b)
	ctx := t.Context()
	client := billingv1.NewBillingServiceClient(b.conn)
	query := func(customers ...string) *billingv1.BillingQuery {
		return &billingv1.BillingQuery{CustomerIds: customers, StartTime: at(2026, 11, 1), EndTime: at(2026, 11, 3)}
	}
	cases := []struct {
		name string
		req  *billingv1.QueryBillingRequest
		code codes.Code
		http int
	}{
		{"unknown customer", &billingv1.QueryBillingRequest{Query: query("acme", "nobody")}, codes.NotFound, http.StatusNotFound},
		{"bad page token", &billingv1.QueryBillingRequest{Query: query("acme"), PageToken: "bm9wZQ"}, codes.InvalidArgument, http.StatusBadRequest},
		{"end before start", &billingv1.QueryBillingRequest{Query: &billingv1.BillingQuery{StartTime: at(2026, 11, 3), EndTime: at(2026, 11, 1)}}, codes.InvalidArgument, http.StatusBadRequest},
		{"no query", &billingv1.QueryBillingRequest{}, codes.InvalidArgument, http.StatusBadRequest},
	}
	for _, c := range cases {
		_, err := client.QueryBilling(ctx, c.req)
		wantCode(t, err, c.code)
		body, _ := protojson.Marshal(c.req)
		if code := b.rest(t, "POST", "/v1/billing:query", body, nil); code != c.http {
			t.Errorf("%s: REST %d, want %d", c.name, code, c.http)
		}
	}
	// A token is bound to its query.
	p1, err := client.QueryBilling(ctx, &billingv1.QueryBillingRequest{Query: &billingv1.BillingQuery{
		CustomerIds: []string{"acme"}, StartTime: at(2026, 11, 1), EndTime: at(2026, 11, 3), Granularity: billingv1.Granularity_GRANULARITY_HOUR,
	}, PageSize: 1})
	if err != nil || p1.GetNextPageToken() == "" {
		t.Fatalf("first page: %v, %v", p1, err)
	}
	_, err = client.QueryBilling(ctx, &billingv1.QueryBillingRequest{Query: query("acme"), PageSize: 1, PageToken: p1.GetNextPageToken()})
	wantViolations(t, err, "page_token")
	_, err = client.GetBillingStats(ctx, &billingv1.GetBillingStatsRequest{Month: "2026-13"})
	wantCode(t, err, codes.InvalidArgument)
	_, err = client.GetBillingStats(ctx, &billingv1.GetBillingStatsRequest{Month: "2026-11", CustomerId: "nobody"})
	wantCode(t, err, codes.NotFound)
	// The month in progress cannot be closed.
	_, err = client.ClosePeriod(ctx, &billingv1.ClosePeriodRequest{CustomerId: "acme", Month: time.Now().UTC().Format("2006-01")})
	wantCode(t, err, codes.FailedPrecondition)
}

func TestStreamBillingSendsChunksOfAtMostAThousandLines(t *testing.T) {
	t.Parallel()
	b := startBillingd(t)
	seedBilling(t, b)
	ctx := t.Context()
	nov := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	end := nov.AddDate(0, 0, 15)
	if err := billingtest.Insert(ctx, b.db,
		billingtest.Record{Customer: "acme", Metric: "vm.vcpu", Resource: "vm3", Quantity: "1", Start: nov, End: end},
		billingtest.Record{Customer: "acme", Metric: "vm.vcpu", Resource: "vm4", Quantity: "1", Start: nov, End: end},
	); err != nil {
		t.Fatal(err)
	}
	// Hourly lines per resource over 15 days: vm1 48 (its 2-day interval), vm2,
	// vm3 and vm4 360 each; storage 15 committed and 15 overage days: 1,158.
	query := &billingv1.BillingQuery{
		CustomerIds: []string{"acme"}, StartTime: timestamppb.New(nov), EndTime: timestamppb.New(end),
		Granularity: billingv1.Granularity_GRANULARITY_HOUR, GroupBy: []billingv1.GroupBy{billingv1.GroupBy_GROUP_BY_RESOURCE},
	}
	client := billingv1.NewBillingServiceClient(b.conn)
	all, err := client.QueryBilling(ctx, &billingv1.QueryBillingRequest{Query: query})
	if err != nil {
		t.Fatal(err)
	}
	stream, err := client.StreamBilling(ctx, &billingv1.StreamBillingRequest{Query: query})
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	var lines []*billingv1.BillingLine
	var last *billingv1.StreamBillingResponse
	for {
		msg, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(msg.GetLines()))
		lines = append(lines, msg.GetLines()...)
		if last != nil && len(last.GetTotals()) > 0 {
			t.Error("totals before the last message")
		}
		last = msg
	}
	if !slices.Equal(sizes, []int{1000, 158, 0}) {
		t.Errorf("message sizes %v, want [1000 158 0]", sizes)
	}
	if !proto.Equal(&billingv1.QueryBillingResponse{Lines: lines, Totals: last.GetTotals()}, &billingv1.QueryBillingResponse{Lines: all.GetLines(), Totals: all.GetTotals()}) {
		t.Error("streamed lines or totals differ from QueryBilling's")
	}
}
