package app_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/app"
	"github.com/billingd/billingd/internal/app/apptest"
	"github.com/billingd/billingd/internal/config"
	"github.com/billingd/billingd/internal/store/postgres/pgtest"
)

// bootstrapSecret is the --bootstrap-admin-key of the access tests.
const bootstrapSecret = "test-bootstrap-admin-key-0123456789abcdef"

// secured is a billingd with API keys on, and a key of every kind.
type secured struct {
	grpcAddr string
	httpBase string
	creds    credentials.TransportCredentials // of gRPC clients
	http     *http.Client
	secrets  map[string]string // principal name → bearer secret ("" for none)
	conns    map[string]*grpc.ClientConn
}

// The principals of the access tests.
const (
	noKey     = "no key"
	admin     = "admin"
	collector = "collector"
	reader    = "reader"
	readerA   = "reader scoped to A"
)

var principals = []string{noKey, collector, reader, readerA, admin}

// launch starts billingd with cfg on a fresh database and returns it running.
func launch(t testing.TB, cfg config.Config, opts ...app.Option) *app.App {
	t.Helper()
	if cfg.DatabaseURL == "" {
		cfg.DatabaseURL = pgtest.NewDatabase(t)
	}
	return launchAsIs(t, cfg, opts...)
}

// launchAsIs starts billingd with cfg as it is (an empty DatabaseURL runs
// the embedded PostgreSQL) on loopback ports and stops it when the test ends.
func launchAsIs(t testing.TB, cfg config.Config, opts ...app.Option) *app.App {
	t.Helper()
	return launchLogged(t, cfg, io.Discard, opts...)
}

// launchLogged is launchAsIs with billingd's log written to logs.
func launchLogged(t testing.TB, cfg config.Config, logs io.Writer, opts ...app.Option) *app.App {
	t.Helper()
	return apptest.Start(t, cfg, logs, opts...)
}

// startSecured starts billingd with auth on and the bootstrap admin key,
// creates the tenants fixture and a key for every principal.
func startSecured(t *testing.T, edit func(*config.Config)) *secured {
	t.Helper()
	cfg := config.Default()
	cfg.BootstrapAdminKey = bootstrapSecret
	if edit != nil {
		edit(&cfg)
	}
	a := launch(t, cfg)
	s := &secured{
		grpcAddr: a.GRPCAddr(), httpBase: "http://" + a.HTTPAddr(),
		creds: insecure.NewCredentials(), http: http.DefaultClient,
		secrets: map[string]string{noKey: "", admin: bootstrapSecret}, conns: map[string]*grpc.ClientConn{},
	}
	seedTenants(t, s.conn(t, admin))
	keys := billingv1.NewAccessServiceClient(s.conn(t, admin))
	for name, k := range map[string]*billingv1.ApiKey{
		collector: {DisplayName: "collector", Role: billingv1.Role_ROLE_COLLECTOR},
		reader:    {DisplayName: "reader", Role: billingv1.Role_ROLE_READER},
		readerA:   {DisplayName: "reader of A", Role: billingv1.Role_ROLE_READER, CustomerId: "cust-a"},
	} {
		res, err := keys.CreateApiKey(t.Context(), &billingv1.CreateApiKeyRequest{ApiKey: k})
		if err != nil {
			t.Fatalf("create %s key: %v", name, err)
		}
		s.secrets[name] = res.GetSecret()
	}
	return s
}

// conn returns a gRPC connection that sends the principal's key.
func (s *secured) conn(t *testing.T, who string) *grpc.ClientConn {
	t.Helper()
	if c, ok := s.conns[who]; ok {
		return c
	}
	opts := []grpc.DialOption{grpc.WithTransportCredentials(s.creds)}
	if secret := s.secrets[who]; secret != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearerCreds(secret)))
	}
	c, err := grpc.NewClient(s.grpcAddr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	s.conns[who] = c
	return c
}

// bearerCreds sends "authorization: Bearer <secret>" on every call.
type bearerCreds string

func (b bearerCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

func (bearerCreds) RequireTransportSecurity() bool { return false }

// rest calls the gateway as the principal and decodes the JSON answer.
func (s *secured) rest(t *testing.T, who, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.httpBase+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if secret := s.secrets[who]; secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := map[string]any{}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: not JSON (%d): %s", method, path, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode, out
}

func at(y, m, d int) *timestamppb.Timestamp {
	return timestamppb.New(time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC))
}

// seedTenants creates, as admin, two customers A and B and what each owns:
// an organisation with a VDC, a price list with a price, a campaign, a
// contract and vCPU usage in October 2026 (A: 2 vCPU, B: 6 vCPU, all of
// 1 October), beside the default price list (0.01 EUR per vCPU-hour) and a
// campaign for everyone.
func seedTenants(t *testing.T, conn *grpc.ClientConn) {
	t.Helper()
	ctx := t.Context()
	cat := billingv1.NewCatalogServiceClient(conn)
	cus := billingv1.NewCustomerServiceClient(conn)
	pri := billingv1.NewPricingServiceClient(conn)
	use := billingv1.NewUsageServiceClient(conn)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(cat.CreateMetric(ctx, &billingv1.CreateMetricRequest{Metric: &billingv1.Metric{Key: "vm.vcpu", Unit: "vCPU", Aggregation: billingv1.Aggregation_AGGREGATION_TIME_WEIGHTED_AVG}}))
	must(cat.CreateProductGroup(ctx, &billingv1.CreateProductGroupRequest{ProductGroup: &billingv1.ProductGroup{Id: "compute", DisplayName: "Compute"}}))
	must(cat.CreateProduct(ctx, &billingv1.CreateProductRequest{Product: &billingv1.Product{Id: "vcpu", ProductGroupId: "compute", MetricKey: "vm.vcpu", DisplayName: "vCPU"}}))
	must(pri.CreatePriceList(ctx, &billingv1.CreatePriceListRequest{PriceList: &billingv1.PriceList{Id: "default-eur", DisplayName: "Default", Currency: "EUR"}}))
	must(pri.CreatePrice(ctx, &billingv1.CreatePriceRequest{PriceListId: "default-eur", Price: &billingv1.Price{
		Id: "vcpu-h", ProductId: "vcpu", UnitPrice: "0.01", Granularity: billingv1.Granularity_GRANULARITY_HOUR, ValidFrom: at(2026, 1, 1),
	}}))
	must(pri.CreateCampaign(ctx, &billingv1.CreateCampaignRequest{Campaign: &billingv1.Campaign{
		Id: "camp-all", DisplayName: "Spring", Currency: "EUR", ValidFrom: at(2026, 3, 1), ValidTo: at(2026, 4, 1),
		Entries: []*billingv1.CampaignEntry{{ProductId: "vcpu", DiscountPercent: "10"}},
	}}))
	for _, c := range []string{"a", "b"} {
		id := "cust-" + c
		must(cus.CreateCustomer(ctx, &billingv1.CreateCustomerRequest{Customer: &billingv1.Customer{Id: id, DisplayName: "Customer " + c}}))
		must(cus.CreateOrganisation(ctx, &billingv1.CreateOrganisationRequest{CustomerId: id, Organisation: &billingv1.Organisation{Id: c + "-org", DisplayName: "Org " + c}}))
		must(cus.CreateVdc(ctx, &billingv1.CreateVdcRequest{CustomerId: id, OrganisationId: c + "-org", Vdc: &billingv1.Vdc{Id: c + "-vdc", DisplayName: "VDC " + c}}))
		must(pri.CreatePriceList(ctx, &billingv1.CreatePriceListRequest{PriceList: &billingv1.PriceList{Id: c + "-eur", DisplayName: "List " + c, Currency: "EUR", CustomerId: id}}))
		must(pri.CreatePrice(ctx, &billingv1.CreatePriceRequest{PriceListId: c + "-eur", Price: &billingv1.Price{
			Id: c + "-vcpu-h", ProductId: "vcpu", UnitPrice: "0.02", Granularity: billingv1.Granularity_GRANULARITY_HOUR, ValidFrom: at(2027, 1, 1), ValidTo: at(2028, 1, 1),
		}}))
		must(pri.CreateCampaign(ctx, &billingv1.CreateCampaignRequest{Campaign: &billingv1.Campaign{
			Id: "camp-" + c, DisplayName: "Deal " + c, CustomerId: id, Currency: "EUR", ValidFrom: at(2027, 3, 1), ValidTo: at(2027, 4, 1),
			Entries: []*billingv1.CampaignEntry{{ProductId: "vcpu", DiscountPercent: "5"}},
		}}))
		must(pri.CreateContract(ctx, &billingv1.CreateContractRequest{Contract: &billingv1.Contract{
			Id: "con-" + c, CustomerId: id, ProductId: "vcpu", Model: billingv1.ContractModel_CONTRACT_MODEL_COMMITTED,
			CommittedQuantity: "1", Fee: "1.00", FeeGranularity: billingv1.Granularity_GRANULARITY_MONTH,
			Currency: "EUR", StartTime: at(2027, 1, 1), EndTime: at(2028, 1, 1), Proration: billingv1.Proration_PRORATION_NONE,
		}}))
	}
	vcpus := map[string]string{"cust-a": "2", "cust-b": "6"}
	var recs []*billingv1.UsageRecord
	for id, q := range vcpus {
		recs = append(recs, &billingv1.UsageRecord{
			IdempotencyKey: "u-" + id, CustomerId: id, MetricKey: "vm.vcpu", Quantity: q,
			StartTime: at(2026, 10, 1), EndTime: at(2026, 10, 2), ResourceId: "vm-" + id,
		})
	}
	res, err := use.BatchIngestUsage(ctx, &billingv1.BatchIngestUsageRequest{Records: recs})
	if err != nil || res.GetAccepted() != 2 {
		t.Fatalf("ingest = %v, %v; want 2 accepted", res, err)
	}
}

// tlsClient is an HTTP client trusting roots.
func tlsClient(cfg *tls.Config) *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
}
