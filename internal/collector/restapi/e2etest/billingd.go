// Package e2etest runs a real billingd on PostgreSQL for the end-to-end
// tests of the REST API sources, and pushes a source's windows into it
// through a collector.Runner.
package e2etest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/app"
	"github.com/billingd/billingd/internal/collector"
	"github.com/billingd/billingd/internal/config"
	"github.com/billingd/billingd/internal/store/postgres/pgtest"
)

// adminKey is the bootstrap admin API key of the test billingd.
const adminKey = "restapitest-admin-0123456789abcdef0123456789"

// Billingd is a real billingd, as in production (TLS, API keys required,
// client certificates its CA signed accepted), on a fresh PostgreSQL
// database of its own.
type Billingd struct {
	Reach collector.BillingdConfig // address and CA, without a token
	Admin *grpc.ClientConn
	ca    *x509.Certificate // the self-signed server certificate, also the client CA
	caKey any
}

// StartBillingd runs billingd until the test ends.
func StartBillingd(t *testing.T) *Billingd {
	t.Helper()
	cfg := config.Default()
	cfg.DatabaseURL = pgtest.NewDatabase(t)
	cfg.GRPCAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Auth, cfg.BootstrapAdminKey = true, adminKey
	cfg.TLSCert, cfg.TLSKey = selfSigned(t)
	cfg.ClientCA = cfg.TLSCert
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
		cancel()
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
	b := &Billingd{Reach: reach, Admin: conn}
	b.ca, b.caKey = loadPair(t, cfg.TLSCert, cfg.TLSKey)
	return b
}

func loadPair(t *testing.T, certPath, keyPath string) (*x509.Certificate, any) {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return c, pair.PrivateKey
}

// ClientCertificate issues a client certificate billingd accepts as an
// unscoped collector and writes it and its key to files.
func (b *Billingd) ClientCertificate(t *testing.T, cn string) (certPath, keyPath string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, b.ca, &key.PublicKey, b.caKey)
	if err != nil {
		t.Fatal(err)
	}
	return writePair(t, der, key)
}

// selfSigned writes a certificate for 127.0.0.1 that is its own CA, and its key.
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
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		// ClientAuth too: as the client CA it issues collectors' certificates
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return writePair(t, der, key)
}

// writePair writes a certificate and its key as PEM files.
func writePair(t *testing.T, der []byte, key *ecdsa.PrivateKey) (certPath, keyPath string) {
	t.Helper()
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

// CollectorUsage mints a collector API key limited to one source and site
// and returns the UsageService as billingd-collect would reach it.
func (b *Billingd) CollectorUsage(t *testing.T, source, site string) billingv1.UsageServiceClient {
	t.Helper()
	res, err := billingv1.NewAccessServiceClient(b.Admin).CreateApiKey(context.Background(), &billingv1.CreateApiKeyRequest{
		ApiKey: &billingv1.ApiKey{DisplayName: source + " collector", Role: billingv1.Role_ROLE_COLLECTOR,
			Sources: []string{source}, Sites: []string{site}},
	})
	if err != nil {
		t.Fatal(err)
	}
	reach := b.Reach
	reach.Token = collector.NewSecret(res.GetSecret(), "test")
	conn, err := reach.Dial()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return billingv1.NewUsageServiceClient(conn)
}

// Price is one product of the backup group and its EUR price, per hour
// (or per month).
type Price struct {
	Product, Metric, UnitPrice string
	Filter                     map[string]string
	Monthly                    bool
}

// SeedBackup creates the customers, the backup metrics (the two
// time-weighted gauges, and backup.protected_vm counting distinct vm_id
// values), a product group "backup" and a default EUR price list with a
// price per product, valid from 2025.
func (b *Billingd) SeedBackup(t *testing.T, customers []string, prices []Price) {
	t.Helper()
	ctx := context.Background()
	cs := billingv1.NewCustomerServiceClient(b.Admin)
	for _, id := range customers {
		if _, err := cs.CreateCustomer(ctx, &billingv1.CreateCustomerRequest{Customer: &billingv1.Customer{
			Id: id, DisplayName: strings.ToUpper(id[:1]) + id[1:],
		}}); err != nil {
			t.Fatal(err)
		}
	}
	catalog := billingv1.NewCatalogServiceClient(b.Admin)
	for _, m := range []*billingv1.Metric{
		{Key: "backup.protected_vms", Unit: "VM", Aggregation: billingv1.Aggregation_AGGREGATION_TIME_WEIGHTED_AVG},
		{Key: "backup.storage_gb", Unit: "GB", Aggregation: billingv1.Aggregation_AGGREGATION_TIME_WEIGHTED_AVG},
		{Key: "backup.protected_vm", Unit: "VM", Aggregation: billingv1.Aggregation_AGGREGATION_UNIQUE_COUNT, UniqueDimension: "vm_id"},
	} {
		if _, err := catalog.CreateMetric(ctx, &billingv1.CreateMetricRequest{Metric: m}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := catalog.CreateProductGroup(ctx, &billingv1.CreateProductGroupRequest{ProductGroup: &billingv1.ProductGroup{
		Id: "backup", DisplayName: "Backup",
	}}); err != nil {
		t.Fatal(err)
	}
	pricing := billingv1.NewPricingServiceClient(b.Admin)
	if _, err := pricing.CreatePriceList(ctx, &billingv1.CreatePriceListRequest{PriceList: &billingv1.PriceList{
		Id: "list", DisplayName: "Standard", Currency: "EUR",
	}}); err != nil {
		t.Fatal(err)
	}
	for _, p := range prices {
		if _, err := catalog.CreateProduct(ctx, &billingv1.CreateProductRequest{Product: &billingv1.Product{
			Id: p.Product, ProductGroupId: "backup", MetricKey: p.Metric, DisplayName: p.Product, DimensionFilter: p.Filter,
		}}); err != nil {
			t.Fatal(err)
		}
		gran := billingv1.Granularity_GRANULARITY_HOUR
		if p.Monthly {
			gran = billingv1.Granularity_GRANULARITY_MONTH
		}
		if _, err := pricing.CreatePrice(ctx, &billingv1.CreatePriceRequest{PriceListId: "list", Price: &billingv1.Price{
			ProductId: p.Product, UnitPrice: p.UnitPrice, Granularity: gran,
			ValidFrom: timestamppb.New(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)),
		}}); err != nil {
			t.Fatal(err)
		}
	}
}

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
