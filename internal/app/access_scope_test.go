package app_test

import (
	"errors"
	"io"
	"net/http"
	"slices"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/config"
)

// TestScopedReaderNeverSeesCustomerB reads everything a reader may read
// with a key scoped to customer A, and checks the answers' contents: no
// list, query or get returns B's data, and asking for B or for something
// that does not exist is refused alike.
func TestScopedReaderNeverSeesCustomerB(t *testing.T) {
	t.Parallel()
	s := startSecured(t, func(c *config.Config) { c.RateLimit = 0 })
	ctx := t.Context()
	a := s.conn(t, readerA)
	cus := billingv1.NewCustomerServiceClient(a)
	pri := billingv1.NewPricingServiceClient(a)
	bil := billingv1.NewBillingServiceClient(a)
	use := billingv1.NewUsageServiceClient(a)

	ids := func(n int, id func(int) string) []string {
		var out []string
		for i := range n {
			out = append(out, id(i))
		}
		return out
	}
	same := func(what string, got []string, want ...string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}

	// Lists without a filter hold only A's items (and the defaults where
	// every customer sees them).
	cs, err := cus.ListCustomers(ctx, &billingv1.ListCustomersRequest{})
	if err != nil {
		t.Fatal(err)
	}
	same("customers", ids(len(cs.GetCustomers()), func(i int) string { return cs.GetCustomers()[i].GetId() }), "cust-a")
	ls, err := pri.ListPriceLists(ctx, &billingv1.ListPriceListsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	same("price lists", ids(len(ls.GetPriceLists()), func(i int) string { return ls.GetPriceLists()[i].GetId() }), "a-eur")
	dl, err := pri.ListPriceLists(ctx, &billingv1.ListPriceListsRequest{DefaultOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	same("default price lists", ids(len(dl.GetPriceLists()), func(i int) string { return dl.GetPriceLists()[i].GetId() }), "default-eur")
	camps, err := pri.ListCampaigns(ctx, &billingv1.ListCampaignsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	same("campaigns", ids(len(camps.GetCampaigns()), func(i int) string { return camps.GetCampaigns()[i].GetId() }), "camp-a")
	cons, err := pri.ListContracts(ctx, &billingv1.ListContractsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	same("contracts", ids(len(cons.GetContracts()), func(i int) string { return cons.GetContracts()[i].GetId() }), "con-a")
	us, err := use.ListUsage(ctx, &billingv1.ListUsageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	same("usage", ids(len(us.GetUsageRecords()), func(i int) string { return us.GetUsageRecords()[i].GetCustomerId() }), "cust-a")

	// Billing: A's lines only; the unscoped reader sees both customers.
	// A: 2 vCPU × 24 h × 0.01 = 0.48 EUR; B: 6 × 24 × 0.01 = 1.44 EUR.
	q, err := bil.QueryBilling(ctx, &billingv1.QueryBillingRequest{Query: query()})
	if err != nil {
		t.Fatal(err)
	}
	if len(q.GetLines()) == 0 {
		t.Fatal("the scoped reader's billing query returned no lines")
	}
	for _, l := range q.GetLines() {
		if l.GetCustomerId() != "cust-a" {
			t.Errorf("billing line of %q reached the reader of A", l.GetCustomerId())
		}
	}
	if tot := q.GetTotals(); len(tot) != 1 || tot[0].GetAmount() != "0.48" {
		t.Errorf("scoped totals = %v, want 0.48 EUR", tot)
	}
	all, err := billingv1.NewBillingServiceClient(s.conn(t, reader)).QueryBilling(ctx, &billingv1.QueryBillingRequest{Query: query()})
	if err != nil {
		t.Fatal(err)
	}
	if tot := all.GetTotals(); len(tot) != 1 || tot[0].GetAmount() != "1.92" {
		t.Errorf("unscoped totals = %v, want 0.48 + 1.44 = 1.92 EUR", tot)
	}
	st, err := bil.StreamBilling(ctx, &billingv1.StreamBillingRequest{Query: query()})
	if err != nil {
		t.Fatal(err)
	}
	streamed := 0
	for {
		res, err := st.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range res.GetLines() {
			streamed++
			if l.GetCustomerId() != "cust-a" {
				t.Errorf("streamed line of %q reached the reader of A", l.GetCustomerId())
			}
		}
	}
	if streamed == 0 {
		t.Error("the scoped stream returned no lines")
	}
	stats, err := bil.GetBillingStats(ctx, &billingv1.GetBillingStatsRequest{Month: "2026-10"})
	if err != nil {
		t.Fatal(err)
	}
	if stats.GetCustomers() != 1 || stats.GetUsageRecords() != 1 {
		t.Errorf("scoped stats = %v, want one customer and one usage record", stats)
	}

	// B's resources and missing ones answer the same PermissionDenied.
	refusals := map[string]error{}
	_, refusals["customer B"] = cus.GetCustomer(ctx, &billingv1.GetCustomerRequest{CustomerId: "cust-b"})
	_, refusals["missing customer"] = cus.GetCustomer(ctx, &billingv1.GetCustomerRequest{CustomerId: "cust-zz"})
	_, refusals["contract B"] = pri.GetContract(ctx, &billingv1.GetContractRequest{ContractId: "con-b"})
	_, refusals["missing contract"] = pri.GetContract(ctx, &billingv1.GetContractRequest{ContractId: "con-zz"})
	_, refusals["price list B"] = pri.GetPriceList(ctx, &billingv1.GetPriceListRequest{PriceListId: "b-eur"})
	_, refusals["missing price list"] = pri.GetPriceList(ctx, &billingv1.GetPriceListRequest{PriceListId: "zz-eur"})
	_, refusals["prices of B"] = pri.ListPrices(ctx, &billingv1.ListPricesRequest{PriceListId: "b-eur"})
	_, refusals["price of B"] = pri.GetPrice(ctx, &billingv1.GetPriceRequest{PriceListId: "b-eur", PriceId: "b-vcpu-h"})
	_, refusals["campaign B"] = pri.GetCampaign(ctx, &billingv1.GetCampaignRequest{CampaignId: "camp-b"})
	_, refusals["missing campaign"] = pri.GetCampaign(ctx, &billingv1.GetCampaignRequest{CampaignId: "camp-zz"})
	_, refusals["B's organisations"] = cus.ListOrganisations(ctx, &billingv1.ListOrganisationsRequest{CustomerId: "cust-b"})
	_, refusals["billing of B"] = bil.QueryBilling(ctx, &billingv1.QueryBillingRequest{Query: query("cust-b")})
	_, refusals["billing of A and B"] = bil.QueryBilling(ctx, &billingv1.QueryBillingRequest{Query: query("cust-a", "cust-b")})
	_, refusals["usage of B"] = use.ListUsage(ctx, &billingv1.ListUsageRequest{CustomerId: "cust-b"})
	var msg string
	for what, err := range refusals {
		st := status.Convert(err)
		if st.Code() != codes.PermissionDenied {
			t.Errorf("%s: %v, want PermissionDenied", what, err)
			continue
		}
		if msg == "" {
			msg = st.Message()
		}
		if st.Message() != msg {
			t.Errorf("%s: message %q differs from %q: it must not tell what exists", what, st.Message(), msg)
		}
	}
	// Defaults stay readable.
	if _, err := pri.GetCampaign(ctx, &billingv1.GetCampaignRequest{CampaignId: "camp-all"}); err != nil {
		t.Errorf("default campaign: %v", err)
	}
	if _, err := pri.GetPrice(ctx, &billingv1.GetPriceRequest{PriceListId: "default-eur", PriceId: "vcpu-h"}); err != nil {
		t.Errorf("default price: %v", err)
	}

	// REST: the same filtering and refusals.
	code, body := s.rest(t, readerA, "GET", "/v1/contracts", nil)
	if got := body["contracts"].([]any); code != http.StatusOK || len(got) != 1 || got[0].(map[string]any)["customerId"] != "cust-a" {
		t.Errorf("REST contracts = %d %v, want only con-a", code, body)
	}
	code, body = s.rest(t, readerA, "GET", "/v1/billing:query?query.startTime=2026-10-01T00:00:00Z&query.endTime=2026-11-01T00:00:00Z", nil)
	lines, _ := body["lines"].([]any)
	if code != http.StatusOK || len(lines) == 0 {
		t.Fatalf("REST billing query = %d %v", code, body)
	}
	for _, l := range lines {
		if c := l.(map[string]any)["customerId"]; c != "cust-a" {
			t.Errorf("REST billing line of %v reached the reader of A", c)
		}
	}
	for _, path := range []string{"/v1/customers/cust-b", "/v1/customers/cust-zz", "/v1/priceLists/b-eur/prices"} {
		if code, body := s.rest(t, readerA, "GET", path, nil); code != http.StatusForbidden || body["message"] != msg {
			t.Errorf("REST %s = %d %v, want 403 %q", path, code, body, msg)
		}
	}
}

// TestScopedCollectorSendsOnlyItsCustomer: a collector key scoped to A, or
// limited to a source, cannot send other usage, and the whole batch is
// refused so nothing of it is stored.
func TestScopedCollectorSendsOnlyItsCustomer(t *testing.T) {
	t.Parallel()
	s := startSecured(t, func(c *config.Config) { c.RateLimit = 0 })
	ctx := t.Context()
	keys := billingv1.NewAccessServiceClient(s.conn(t, admin))
	for name, k := range map[string]*billingv1.ApiKey{
		"collector of A":  {DisplayName: "c-a", Role: billingv1.Role_ROLE_COLLECTOR, CustomerId: "cust-a"},
		"collector of vc": {DisplayName: "c-vc", Role: billingv1.Role_ROLE_COLLECTOR, Sources: []string{"vc01"}},
	} {
		res, err := keys.CreateApiKey(ctx, &billingv1.CreateApiKeyRequest{ApiKey: k})
		if err != nil {
			t.Fatal(err)
		}
		s.secrets[name] = res.GetSecret()
	}
	rec := func(key, customer, source string) *billingv1.UsageRecord {
		return &billingv1.UsageRecord{IdempotencyKey: key, CustomerId: customer, MetricKey: "vm.vcpu", Quantity: "1", Time: at(2026, 10, 7), Source: source}
	}
	for _, tc := range []struct {
		who  string
		recs []*billingv1.UsageRecord
		want codes.Code
	}{
		{"collector of A", []*billingv1.UsageRecord{rec("k1", "cust-a", "")}, codes.OK},
		{"collector of A", []*billingv1.UsageRecord{rec("k2", "cust-a", ""), rec("k3", "cust-b", "")}, codes.PermissionDenied},
		{"collector of vc", []*billingv1.UsageRecord{rec("k4", "cust-b", "vc01")}, codes.OK},
		{"collector of vc", []*billingv1.UsageRecord{rec("k5", "cust-b", "vc02")}, codes.PermissionDenied},
	} {
		_, err := billingv1.NewUsageServiceClient(s.conn(t, tc.who)).BatchIngestUsage(ctx, &billingv1.BatchIngestUsageRequest{Records: tc.recs})
		if status.Code(err) != tc.want {
			t.Errorf("%s sending %d records: %v, want %v", tc.who, len(tc.recs), err, tc.want)
		}
	}
	// Over the stream, a refused message ends the stream.
	st, err := billingv1.NewUsageServiceClient(s.conn(t, "collector of A")).IngestUsage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_ = st.Send(&billingv1.IngestUsageRequest{Sequence: 1, Records: []*billingv1.UsageRecord{rec("k6", "cust-a", "")}})
	if ack, err := st.Recv(); err != nil || ack.GetAccepted() != 1 {
		t.Fatalf("first message: %v, %v", ack, err)
	}
	_ = st.Send(&billingv1.IngestUsageRequest{Sequence: 2, Records: []*billingv1.UsageRecord{rec("k7", "cust-b", "")}})
	if _, err := st.Recv(); status.Code(err) != codes.PermissionDenied {
		t.Errorf("stream message for B: %v, want PermissionDenied", err)
	}
	res, err := billingv1.NewUsageServiceClient(s.conn(t, admin)).ListUsage(ctx, &billingv1.ListUsageRequest{CustomerId: "cust-b", StartTime: at(2026, 10, 7)})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.GetUsageRecords() {
		if r.GetIdempotencyKey() != "k4" {
			t.Errorf("refused record %s was stored", r.GetIdempotencyKey())
		}
	}
}
