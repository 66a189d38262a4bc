package vcenter_test

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

// adminKey is the bootstrap admin API key of the test billingd.
const adminKey = "e2e-admin-0123456789abcdef0123456789abcdef"

// startBillingd runs the real billingd as in production — TLS, API keys
// required — on a fresh PostgreSQL database. It returns the settings to
// reach it (without a token) and an admin connection.
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

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// their paths; the certificate is its own CA.
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

// collectorConn mints a collector API key limited to source vcenter:vc01
// and site vc01, and dials billingd with it as billingd-collect does.
func collectorConn(t *testing.T, reach collector.BillingdConfig, admin *grpc.ClientConn) *grpc.ClientConn {
	t.Helper()
	res, err := billingv1.NewAccessServiceClient(admin).CreateApiKey(context.Background(), &billingv1.CreateApiKeyRequest{
		ApiKey: &billingv1.ApiKey{DisplayName: "vc01 collector", Role: billingv1.Role_ROLE_COLLECTOR,
			Sources: []string{"vcenter:vc01"}, Sites: []string{"vc01"}},
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

// seedBillingd creates the customers the tenant rules name (all but hooli)
// and the metrics the vCenter source emits.
func seedBillingd(t *testing.T, conn *grpc.ClientConn) {
	t.Helper()
	ctx := context.Background()
	customers := billingv1.NewCustomerServiceClient(conn)
	for _, id := range []string{"acme", "globex", "initech"} {
		if _, err := customers.CreateCustomer(ctx, &billingv1.CreateCustomerRequest{Customer: &billingv1.Customer{
			Id: id, DisplayName: strings.ToUpper(id[:1]) + id[1:],
		}}); err != nil {
			t.Fatal(err)
		}
	}
	catalog := billingv1.NewCatalogServiceClient(conn)
	for key, unit := range map[string]string{
		"vm.vcpu": "vCPU", "vm.memory_gb": "GB", "vm.powered_on": "VM", "storage.gb": "GB", "storage.used_gb": "GB",
		"licence.windows": "licence", "licence.sql_standard": "licence", "licence.rhel": "licence",
	} {
		if _, err := catalog.CreateMetric(ctx, &billingv1.CreateMetricRequest{Metric: &billingv1.Metric{
			Key: key, Unit: unit, Aggregation: billingv1.Aggregation_AGGREGATION_TIME_WEIGHTED_AVG,
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

// TestEndToEndIntoBillingd: simulated vCenter → vCenter source → runner →
// the real billingd on PostgreSQL, pushing with a collector API key limited
// to the source and site. Three windows with changes between them
// and a restart of the collector before the third; a crash between
// spooling and the ack is replayed by pushing a copy of the spool again.
// ListUsage then shows every record once, with the collector's keys.
func TestEndToEndIntoBillingd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reach, conn := startBillingd(t)
	seedBillingd(t, conn)
	priceCompute(t, conn)
	usage := billingv1.NewUsageServiceClient(collectorConn(t, reach, conn))
	s := newSim(t)
	clk := clock.NewFake(t0)
	dir := t.TempDir()
	log, logs := testLog()
	newRunner := func() *collector.Runner {
		r, err := collector.NewRunner(usage, []collector.Schedule{{Source: newSource(t, s), Interval: time.Hour}},
			collector.Options{StateDir: dir, Clock: clk, Log: log, BatchSize: 7, Retry: collector.Backoff{Initial: time.Millisecond, Max: 10 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	pollAndPush := func(r *collector.Runner) {
		t.Helper()
		if err := r.Poll(ctx, "vc01"); err != nil {
			t.Fatal(err)
		}
		if err := r.Flush(ctx, "vc01"); err != nil {
			t.Fatal(err)
		}
	}

	r := newRunner()
	pollAndPush(r) // t0: baseline, no records
	clk.Set(t0.Add(time.Hour))
	if err := r.Poll(ctx, "vc01"); err != nil {
		t.Fatal(err)
	}
	// Keep the spool as a crash right after spooling would have left it.
	crashed := filepath.Join(t.TempDir(), "state")
	if err := os.CopyFS(crashed, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx, "vc01"); err != nil {
		t.Fatal(err)
	}

	s.wait(t, must(s.vm(t, "DC0_H0_VM0").PowerOff(ctx))(t))
	s.reconfigure(t, "DC0_H0_VM1", 4, 16384, "")
	s.setStorage(t, "DC0_H0_VM1", 3*gib/2+512, 2*gib)
	s.wait(t, must(s.vm(t, "DC0_C0_RP0_VM1").Destroy(ctx))(t))
	clk.Set(t0.Add(90 * time.Minute))
	pollAndPush(r)

	r = newRunner() // restart
	clk.Set(t0.Add(150 * time.Minute))
	pollAndPush(r)

	// The crashed copy resumes and pushes window 1 again: all duplicates.
	r2, err := collector.NewRunner(usage, []collector.Schedule{{Source: newSource(t, s), Interval: time.Hour}},
		collector.Options{StateDir: crashed, Clock: clk, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := r2.Flush(ctx, "vc01"); err != nil {
		t.Fatal(err)
	}

	acme := s.instanceUUID(t, "DC0_H0_VM0")
	got := listUsage(t, conn, "acme")
	var lines []string
	for _, u := range got {
		lines = append(lines, u.GetIdempotencyKey()+" "+u.GetMetricKey()+"="+u.GetQuantity()+" "+
			u.GetStartTime().AsTime().Format("15:04")+"-"+u.GetEndTime().AsTime().Format("15:04")+" "+u.GetDimensions()["policy"])
	}
	slices.Sort(lines)
	var want []string
	for _, w := range []struct {
		start, end, on string
		bucket         string
	}{{"00:00", "01:00", "1", "1767225600"}, {"01:00", "01:30", "0", "1767229200"}, {"01:30", "02:30", "0", "1767231000"}} {
		k := "vcenter:vc01:" + acme + ":"
		win := " " + w.start + "-" + w.end + " "
		want = append(want,
			k+"licence.windows:"+w.bucket+" licence.windows=1"+win,
			k+"storage.gb:"+s.ds.Value+":"+w.bucket+" storage.gb=40"+win+"Gold",
			k+"storage.used_gb:"+s.ds.Value+":"+w.bucket+" storage.used_gb=10"+win+"Gold",
			k+"vm.memory_gb:"+w.bucket+" vm.memory_gb=8"+win,
			k+"vm.powered_on:"+w.bucket+" vm.powered_on="+w.on+win,
			k+"vm.vcpu:"+w.bucket+" vm.vcpu=4"+win,
		)
	}
	slices.Sort(want)
	if diff := diffLines(want, lines); diff != "" {
		t.Errorf("acme's usage in billingd (-want +got):\n%s", diff)
	}
	// globex 5 and initech 7 records per window; hooli's 5 of window 1 are
	// rejected (no such customer in billingd) and logged, once per push:
	// the replay of the crashed spool pushes them a second time.
	for cust, n := range map[string]int{"globex": 15, "initech": 21, "hooli": 0} {
		if got := len(listUsage(t, conn, cust)); got != n {
			t.Errorf("%s has %d records in billingd, want %d", cust, got, n)
		}
	}
	if c := strings.Count(logs.String(), "billingd rejected a record"); c != 10 {
		t.Errorf("%d rejections logged, want hooli's 5 twice:\n%s", c, logs)
	}

	// acme's January bill, by hand. Its VM: 4 vCPU, 8 GB, Windows, 40 GB
	// Gold provisioned, powered on over [00:00, 01:00) and off over
	// [01:00, 02:30); hour granules, so the half hour 02:00–02:30 counts
	// as half the level:
	//	vcpu     4 × 2.5 h = 10 vCPU-h    × 0.01   = 0.10
	//	ram      8 × 2.5 h = 20 GB-h      × 0.005  = 0.10
	//	vm-on    1 × 1 h   = 1 h          × 0.02   = 0.02
	//	gold    40 × 2.5 h = 100 GB-h     × 0.0005 = 0.05
	//	windows  1 × 2.5 h = 2.5 h        × 0.04   = 0.10
	//	                                     total   0.37 EUR
	// (Prices are chosen so that every hour's amount is whole cents too:
	// billingd rounds per rated granule before summing a line.)
	bill, err := billingv1.NewBillingServiceClient(conn).QueryBilling(ctx, &billingv1.QueryBillingRequest{Query: &billingv1.BillingQuery{
		CustomerIds: []string{"acme"},
		StartTime:   timestamppb.New(t0), EndTime: timestamppb.New(t0.AddDate(0, 1, 0)),
	}})
	if err != nil {
		t.Fatal(err)
	}
	amounts := map[string]string{}
	for _, l := range bill.GetLines() {
		amounts[l.GetProductId()] = l.GetQuantity() + " × " + l.GetUnitPrice() + " = " + l.GetAmount()
	}
	wantAmounts := map[string]string{
		"vcpu": "10 × 0.01 = 0.10", "ram": "20 × 0.005 = 0.10", "vm-on": "1 × 0.02 = 0.02",
		"gold": "100 × 0.0005 = 0.05", "windows": "2.5 × 0.04 = 0.10",
	}
	if !maps.Equal(amounts, wantAmounts) {
		t.Errorf("acme's lines\n got %v\nwant %v", amounts, wantAmounts)
	}
	if tot := bill.GetTotals(); len(tot) != 1 || tot[0].GetCurrency() != "EUR" || tot[0].GetAmount() != "0.37" {
		t.Errorf("acme's January total = %v, want 0.37 EUR", tot)
	}
}

// priceCompute creates products and a default EUR price list, all hourly:
//
//	vcpu      vm.vcpu                   0.01   per vCPU-hour
//	ram       vm.memory_gb              0.005  per GB-hour
//	vm-on     vm.powered_on             0.02   per powered-on hour
//	gold      storage.gb {policy: Gold} 0.0005 per GB-hour (provisioned)
//	windows   licence.windows           0.04   per licence-hour
func priceCompute(t *testing.T, conn *grpc.ClientConn) {
	t.Helper()
	ctx := context.Background()
	catalog := billingv1.NewCatalogServiceClient(conn)
	if _, err := catalog.CreateProductGroup(ctx, &billingv1.CreateProductGroupRequest{ProductGroup: &billingv1.ProductGroup{
		Id: "compute", DisplayName: "Compute",
	}}); err != nil {
		t.Fatal(err)
	}
	pricing := billingv1.NewPricingServiceClient(conn)
	if _, err := pricing.CreatePriceList(ctx, &billingv1.CreatePriceListRequest{PriceList: &billingv1.PriceList{
		Id: "list", DisplayName: "Standard", Currency: "EUR",
	}}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		id, metric, price string
		filter            map[string]string
	}{
		{"vcpu", "vm.vcpu", "0.01", nil},
		{"ram", "vm.memory_gb", "0.005", nil},
		{"vm-on", "vm.powered_on", "0.02", nil},
		{"gold", "storage.gb", "0.0005", map[string]string{"policy": "Gold"}},
		{"windows", "licence.windows", "0.04", nil},
	} {
		if _, err := catalog.CreateProduct(ctx, &billingv1.CreateProductRequest{Product: &billingv1.Product{
			Id: p.id, ProductGroupId: "compute", MetricKey: p.metric, DisplayName: p.id, DimensionFilter: p.filter,
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

func testLog() (*slog.Logger, *lockedBuffer) {
	b := &lockedBuffer{}
	return slog.New(slog.NewTextHandler(b, nil)), b
}
