package static_test

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
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/app"
	"github.com/billingd/billingd/internal/collector"
	"github.com/billingd/billingd/internal/config"
	"github.com/billingd/billingd/internal/store/postgres/pgtest"
)

const adminKey = "static-e2e-admin-0123456789abcdef0123456789"

// TestImportIntoBillingd: testdata/contracts → static source → runner → the
// real billingd on PostgreSQL. The eight good rows are stored with their
// exact quantities; the bad ones are counted by reason. Importing again
// from scratch (state lost) stores nothing new: every record is a duplicate.
func TestImportIntoBillingd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	admin, usage := startBillingd(t)
	metrics := collector.NewMetrics(prometheus.NewRegistry())
	importAll := func() {
		t.Helper()
		r, err := collector.NewRunner(usage, []collector.Schedule{{Source: build(t, `{paths: [testdata/contracts]}`), Interval: time.Hour}},
			collector.Options{StateDir: t.TempDir(), Metrics: metrics, BatchSize: 3, Retry: collector.Backoff{Initial: time.Millisecond, Max: 10 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Poll(ctx, "contracts"); err != nil {
			t.Fatal(err)
		}
		if err := r.Flush(ctx, "contracts"); err != nil {
			t.Fatal(err)
		}
	}
	importAll()

	var got []string
	for _, customer := range []string{"acme", "globex", "initech"} {
		res, err := billingv1.NewUsageServiceClient(admin).ListUsage(ctx, &billingv1.ListUsageRequest{CustomerId: customer, PageSize: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range res.GetUsageRecords() {
			got = append(got, customer+" "+u.GetMetricKey()+"="+u.GetQuantity()+" "+u.GetResourceId()+" "+u.GetSource())
		}
	}
	slices.Sort(got)
	want := []string{
		"acme backup.gb=100  static:contracts",
		"acme backup.gb=50  static:contracts",
		"acme licence.rhel=2.5 rhel-07 static:contracts",
		"acme licence.sql=4 sql-01 static:contracts",
		"acme licence.sql=4 sql-01 static:contracts",
		"acme support.hours=12.75  static:contracts",
		"globex licence.sql=2 sql-07 static:contracts",
		"initech support.hours=5  static:contracts",
	}
	if !slices.Equal(got, want) {
		t.Errorf("stored:\n got %q\nwant %q", got, want)
	}
	for name, c := range map[string]struct{ got, want float64 }{
		"collected":        {value(metrics.Collected.WithLabelValues("contracts")), 8},
		"accepted":         {value(metrics.Pushed.WithLabelValues("contracts", collector.ResultAccepted)), 8},
		"skipped not_json": {value(metrics.Skipped.WithLabelValues("contracts", "not_json")), 3},
		"skipped invalid":  {value(metrics.Skipped.WithLabelValues("contracts", "invalid_record")), 2},
		"skipped quantity": {value(metrics.Skipped.WithLabelValues("contracts", "invalid_quantity")), 2},
	} {
		if c.got != c.want {
			t.Errorf("metric %s = %v, want %v", name, c.got, c.want)
		}
	}

	importAll() // the state directory is new: the cursor is lost
	if a, d := value(metrics.Pushed.WithLabelValues("contracts", collector.ResultAccepted)),
		value(metrics.Pushed.WithLabelValues("contracts", collector.ResultDuplicate)); a != 8 || d != 8 {
		t.Errorf("re-import: %v accepted, %v duplicates in all; want 8 and 8", a, d)
	}
}

// startBillingd runs billingd with TLS and API keys on a fresh database,
// seeded with the customers and metrics of testdata/contracts; it returns
// an admin connection and a collector's UsageService client.
func startBillingd(t *testing.T) (*grpc.ClientConn, billingv1.UsageServiceClient) {
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
	reach := collector.BillingdConfig{Address: a.GRPCAddr(), CAFile: cfg.TLSCert, Token: collector.NewSecret(adminKey, "test")}
	admin, err := reach.Dial()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = admin.Close()
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("billingd did not stop within 30s")
		}
	})
	for _, id := range []string{"acme", "globex", "initech"} {
		if _, err := billingv1.NewCustomerServiceClient(admin).CreateCustomer(ctx, &billingv1.CreateCustomerRequest{
			Customer: &billingv1.Customer{Id: id, DisplayName: id}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, key := range []string{"licence.sql", "licence.rhel", "support.hours", "backup.gb"} {
		if _, err := billingv1.NewCatalogServiceClient(admin).CreateMetric(ctx, &billingv1.CreateMetricRequest{Metric: &billingv1.Metric{
			Key: key, Unit: "unit", Aggregation: billingv1.Aggregation_AGGREGATION_SUM}}); err != nil {
			t.Fatal(err)
		}
	}
	key, err := billingv1.NewAccessServiceClient(admin).CreateApiKey(ctx, &billingv1.CreateApiKeyRequest{ApiKey: &billingv1.ApiKey{
		DisplayName: "static import", Role: billingv1.Role_ROLE_COLLECTOR, Sources: []string{"static:contracts"}}})
	if err != nil {
		t.Fatal(err)
	}
	reach.Token = collector.NewSecret(key.GetSecret(), "test")
	conn, err := reach.Dial()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return admin, billingv1.NewUsageServiceClient(conn)
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

func value(m prometheus.Metric) float64 {
	var out dto.Metric
	if err := m.Write(&out); err != nil {
		panic(err)
	}
	if c := out.GetCounter(); c != nil {
		return c.GetValue()
	}
	return out.GetGauge().GetValue()
}
