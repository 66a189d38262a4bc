package vcd

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"maps"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/app"
	"github.com/billingd/billingd/internal/clock"
	"github.com/billingd/billingd/internal/collector"
	"github.com/billingd/billingd/internal/config"
	"github.com/billingd/billingd/internal/store/postgres/pgtest"
)

// TestEndToEndIntoBillingd: a VCD (httptest, answering like a 10.5 cell)
// and its notifications on the real RabbitMQ → the VCD source → the
// collector runner → the real billingd (TLS, API keys) on PostgreSQL.
//
// Between the polls of 00:00 and 01:00 a VM is created (00:10) and deleted
// (00:40) — no poll ever lists it — and web01 is powered off (00:30). The
// collector is restarted between the 01:00 and 02:00 polls, before the
// 01:00 window's messages were acknowledged, so they are delivered again to
// the new process, which must not apply them twice. acme's January bill is
// then checked against the sum by hand.
func TestEndToEndIntoBillingd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reach, admin := startBillingd(t)
	seedBillingd(t, admin)
	usage := billingv1.NewUsageServiceClient(collectorConn(t, reach, admin))

	f := newFakeVCD(t)
	f.seed()
	br := newBroker(t)
	cfg := testConfig(f)
	cfg.Notifications = br.config()
	clk := clock.NewFake(t0)
	dir := t.TempDir()
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	start := func() (*Source, *collector.Runner) {
		s, err := New("vcd01", cfg, log)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		r, err := collector.NewRunner(usage, []collector.Schedule{{Source: s, Interval: time.Hour}},
			collector.Options{StateDir: dir, Clock: clk, Log: log, BatchSize: 10, Retry: collector.Backoff{Initial: time.Millisecond, Max: 10 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		return s, r
	}
	pollAndPush := func(r *collector.Runner, at time.Time) {
		t.Helper()
		clk.Set(at)
		if err := r.Poll(ctx, "vcd01"); err != nil {
			t.Fatal(err)
		}
		if err := r.Flush(ctx, "vcd01"); err != nil {
			t.Fatal(err)
		}
	}

	s, r := start()
	pollAndPush(r, t0) // baseline; starts consuming
	tmp := f.vm(vmTmp, "tmp", orgAcme, vdcAcme, 4, 8192, 20480, "POWERED_ON", "Gold")
	tmp["dateCreated"] = "2026-01-01T00:10:00.000Z"
	f.add(qtVM, tmp)
	br.publish(t, "create", vmTmp, orgAcme, t0.Add(10*time.Minute), "e2e-create-tmp")
	waitPending(t, s, 1)
	f.setVM(vmWeb, map[string]any{"status": "POWERED_OFF", "isDeployed": false})
	br.publish(t, "undeploy", vmWeb, orgAcme, t0.Add(30*time.Minute), "e2e-off-web")
	f.removeVM(vmTmp)
	br.publish(t, "delete", vmTmp, orgAcme, t0.Add(40*time.Minute), "e2e-delete-tmp")
	waitPending(t, s, 3)
	pollAndPush(r, t0.Add(time.Hour))

	_ = s.Close() // restart: window 1 is acknowledged by billingd, its messages not yet by us
	s, r = start()
	s.startOnce.Do(s.notifications.start)
	waitPending(t, s, 3) // delivered again
	pollAndPush(r, t0.Add(2*time.Hour))
	pollAndPush(r, t0.Add(3*time.Hour)) // acknowledges them
	_ = s.Close()
	if n := br.ready(t); n != 0 {
		t.Errorf("%d messages left in the queue, want 0", n)
	}

	var tmpLines []string
	for _, u := range listUsage(t, admin, "acme") {
		if u.GetResourceId() == vmTmp {
			tmpLines = append(tmpLines, u.GetIdempotencyKey()+" "+u.GetMetricKey()+"="+u.GetQuantity()+" "+
				u.GetStartTime().AsTime().Format("15:04")+"-"+u.GetEndTime().AsTime().Format("15:04")+" "+u.GetOrganisationId()+" "+u.GetVdcId())
		}
	}
	k, ids := "vcd:vcd01:"+vmTmp+":", " 00:10-00:40 "+orgAcme+" "+vdcAcme
	wantTmp := []string{
		k + "storage.gb:1767226200 storage.gb=20" + ids, k + "vm.memory_gb:1767226200 vm.memory_gb=8" + ids,
		k + "vm.powered_on:1767226200 vm.powered_on=1" + ids, k + "vm.vcpu:1767226200 vm.vcpu=4" + ids,
	}
	if d := diffLines(wantTmp, slices.Sorted(slices.Values(tmpLines))); d != "" {
		t.Errorf("the VM no poll saw, in billingd (-want +got):\n%s", d)
	}
	// globex: 8 records per window (its VM 4, its allocation pool VDC 3,
	// its IPs 1); hooli's VM was skipped by the source (no customer).
	if n := len(listUsage(t, admin, "globex")); n != 24 {
		t.Errorf("globex has %d records, want 24", n)
	}
	if c := strings.Count(logs.String(), "reason=no_customer"); c != 4 {
		t.Errorf("%d no_customer skips logged, want hooli's VM at each of the 4 polls", c)
	}

	// acme's January bill, by hand (hour granules; a line is the sum of
	// quantity × hours). Levels over the three windows 00:00–03:00:
	//	web01  2 vCPU, 4 GB, 40 GB Gold; on 00:00–00:30, off after
	//	db01   4 vCPU, 16 GB, 100 GB Silver (not priced); off
	//	app01  1 vCPU, 1.5 GB, 10 GB default (not priced); suspended
	//	tmp    4 vCPU, 8 GB, 20 GB Gold, on; 00:10–00:40 only
	//	2 public IPs, 1 edge gateway
	//
	//	vcpu   (2+4+1)×3 + 4×0.5       = 23 vCPU-h   × 0.01  = 0.23
	//	ram    (4+16+1.5)×3 + 8×0.5    = 68.5 GB-h   × 0.02  = 1.37
	//	vm-on  web 0.5 + tmp 0.5       = 1 h         × 0.02  = 0.02
	//	gold   40×3 + 20×0.5           = 130 GB-h    × 0.001 = 0.13
	//	ip     2×3                     = 6 IP-h      × 0.01  = 0.06
	//	edge   1×3                     = 3 h         × 0.03  = 0.09
	//	                                               total   1.90 EUR
	// Per hour the amounts are whole cents too (hour 1: vcpu 9, ram 25.5,
	// on 1, gold 50; hours 2 and 3: 7, 21.5, 0, 40), so rounding per granule
	// or per line gives the same.
	bill, err := billingv1.NewBillingServiceClient(admin).QueryBilling(ctx, &billingv1.QueryBillingRequest{Query: &billingv1.BillingQuery{
		CustomerIds: []string{"acme"}, StartTime: timestamppb.New(t0), EndTime: timestamppb.New(t0.AddDate(0, 1, 0)),
	}})
	if err != nil {
		t.Fatal(err)
	}
	amounts := map[string]string{}
	for _, l := range bill.GetLines() {
		amounts[l.GetProductId()] = l.GetQuantity() + " × " + l.GetUnitPrice() + " = " + l.GetAmount()
	}
	wantAmounts := map[string]string{
		"vcpu": "23 × 0.01 = 0.23", "ram": "68.5 × 0.02 = 1.37", "vm-on": "1 × 0.02 = 0.02",
		"gold": "130 × 0.001 = 0.13", "public-ip": "6 × 0.01 = 0.06", "edge": "3 × 0.03 = 0.09",
	}
	if !maps.Equal(amounts, wantAmounts) {
		t.Errorf("acme's lines\n got %v\nwant %v", amounts, wantAmounts)
	}
	if tot := bill.GetTotals(); len(tot) != 1 || tot[0].GetCurrency() != "EUR" || tot[0].GetAmount() != "1.90" {
		t.Errorf("acme's January total = %v, want 1.90 EUR", tot)
	}
}

// adminKey is the bootstrap admin API key of the test billingd.
const adminKey = "e2e-admin-0123456789abcdef0123456789abcdef"

// startBillingd runs the real billingd as in production — TLS, API keys
// required — on a fresh PostgreSQL database (as the vCenter source's test).
func startBillingd(t *testing.T) (collector.BillingdConfig, *grpc.ClientConn) {
	t.Helper()
	cfg := config.Default()
	cfg.DatabaseURL = pgtest.NewDatabase(t)
	cfg.GRPCAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Auth, cfg.BootstrapAdminKey = true, adminKey
	cfg.TLSCert, cfg.TLSKey = selfSigned(t)
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		cancel()
		t.Fatalf("app.New: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	reach := collector.BillingdConfig{Address: a.GRPCAddr(), CAFile: cfg.TLSCert}
	admin := reach
	admin.Token = collector.NewSecret(adminKey, "test")
	conn, err := admin.Dial()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = conn.Close()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("billingd Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("billingd did not stop within 30s")
		}
	})
	return reach, conn
}

func selfSigned(t *testing.T) (certPath, keyPath string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "billingd"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certPath, keyPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for path, block := range map[string]*pem.Block{certPath: {Type: "CERTIFICATE", Bytes: der}, keyPath: {Type: "PRIVATE KEY", Bytes: kder}} {
		if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return certPath, keyPath
}

// collectorConn mints a collector API key limited to source vcd:vcd01 and
// site vcd01, and dials billingd with it as billingd-collect does.
func collectorConn(t *testing.T, reach collector.BillingdConfig, admin *grpc.ClientConn) *grpc.ClientConn {
	t.Helper()
	res, err := billingv1.NewAccessServiceClient(admin).CreateApiKey(context.Background(), &billingv1.CreateApiKeyRequest{
		ApiKey: &billingv1.ApiKey{DisplayName: "vcd01 collector", Role: billingv1.Role_ROLE_COLLECTOR,
			Sources: []string{"vcd:vcd01"}, Sites: []string{"vcd01"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	reach.Token = collector.NewSecret(res.GetSecret(), "test")
	conn, err := reach.Dial()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// seedBillingd creates acme and globex (not hooli), the metrics the VCD
// source emits, and hourly EUR prices for acme's products:
//
//	vcpu       vm.vcpu                    0.01  per vCPU-hour
//	ram        vm.memory_gb               0.02  per GB-hour
//	vm-on      vm.powered_on              0.02  per powered-on hour
//	gold       storage.gb {policy: Gold}  0.001 per GB-hour
//	public-ip  network.public_ips         0.01  per IP-hour
//	edge       network.edge_gateway       0.03  per gateway-hour
func seedBillingd(t *testing.T, conn *grpc.ClientConn) {
	t.Helper()
	ctx := context.Background()
	customers := billingv1.NewCustomerServiceClient(conn)
	for _, id := range []string{"acme", "globex"} {
		if _, err := customers.CreateCustomer(ctx, &billingv1.CreateCustomerRequest{Customer: &billingv1.Customer{Id: id, DisplayName: id}}); err != nil {
			t.Fatal(err)
		}
	}
	catalog := billingv1.NewCatalogServiceClient(conn)
	for key, unit := range map[string]string{
		MetricVCPU: "vCPU", MetricMemoryGB: "GB", MetricPoweredOn: "VM", MetricStorageGB: "GB",
		MetricVdcCPU: "GHz", MetricVdcMemory: "GB", MetricVdcStorage: "GB", MetricEdgeGateway: "gateway", MetricPublicIPs: "IP",
	} {
		if _, err := catalog.CreateMetric(ctx, &billingv1.CreateMetricRequest{Metric: &billingv1.Metric{
			Key: key, Unit: unit, Aggregation: billingv1.Aggregation_AGGREGATION_TIME_WEIGHTED_AVG,
		}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := catalog.CreateProductGroup(ctx, &billingv1.CreateProductGroupRequest{ProductGroup: &billingv1.ProductGroup{Id: "cloud", DisplayName: "Cloud"}}); err != nil {
		t.Fatal(err)
	}
	pricing := billingv1.NewPricingServiceClient(conn)
	if _, err := pricing.CreatePriceList(ctx, &billingv1.CreatePriceListRequest{PriceList: &billingv1.PriceList{Id: "list", DisplayName: "Standard", Currency: "EUR"}}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		id, metric, price string
		filter            map[string]string
	}{
		{"vcpu", MetricVCPU, "0.01", nil},
		{"ram", MetricMemoryGB, "0.02", nil},
		{"vm-on", MetricPoweredOn, "0.02", nil},
		{"gold", MetricStorageGB, "0.001", map[string]string{"policy": "Gold"}},
		{"public-ip", MetricPublicIPs, "0.01", nil},
		{"edge", MetricEdgeGateway, "0.03", nil},
	} {
		if _, err := catalog.CreateProduct(ctx, &billingv1.CreateProductRequest{Product: &billingv1.Product{
			Id: p.id, ProductGroupId: "cloud", MetricKey: p.metric, DisplayName: p.id, DimensionFilter: p.filter,
		}}); err != nil {
			t.Fatal(err)
		}
		if _, err := pricing.CreatePrice(ctx, &billingv1.CreatePriceRequest{PriceListId: "list", Price: &billingv1.Price{
			ProductId: p.id, UnitPrice: p.price, Granularity: billingv1.Granularity_GRANULARITY_HOUR,
			ValidFrom: timestamppb.New(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)),
		}}); err != nil {
			t.Fatal(err)
		}
	}
}

func listUsage(t *testing.T, conn *grpc.ClientConn, customer string) []*billingv1.UsageRecord {
	t.Helper()
	var out []*billingv1.UsageRecord
	req := &billingv1.ListUsageRequest{CustomerId: customer, PageSize: 1000}
	for {
		res, err := billingv1.NewUsageServiceClient(conn).ListUsage(context.Background(), req)
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

// lockedBuffer is a log sink safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
