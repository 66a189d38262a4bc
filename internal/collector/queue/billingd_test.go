package queue_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/shopspring/decimal"
	"go.yaml.in/yaml/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/app"
	"github.com/billingd/billingd/internal/collector"
	"github.com/billingd/billingd/internal/config"
	"github.com/billingd/billingd/internal/store/postgres/pgtest"
)

const adminKey = "queue-e2e-admin-0123456789abcdef0123456789"

// testBillingd is the real billingd on a fresh PostgreSQL database, reached
// through a TCP proxy that the test can cut to make billingd unreachable.
type testBillingd struct {
	admin *grpc.ClientConn
	usage billingv1.UsageServiceClient // as the collector: a collector key, through the proxy
	proxy *proxy
}

func startBillingd(t *testing.T) *testBillingd {
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
	admin := collector.BillingdConfig{Address: a.GRPCAddr(), CAFile: cfg.TLSCert, Token: collector.NewSecret(adminKey, "test")}
	adminConn, err := admin.Dial()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = adminConn.Close()
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
	seed(t, adminConn)
	key, err := billingv1.NewAccessServiceClient(adminConn).CreateApiKey(ctx, &billingv1.CreateApiKeyRequest{
		ApiKey: &billingv1.ApiKey{DisplayName: "queue collector", Role: billingv1.Role_ROLE_COLLECTOR},
	})
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, a.GRPCAddr())
	reach := collector.BillingdConfig{Address: p.addr, CAFile: cfg.TLSCert, Token: collector.NewSecret(key.GetSecret(), "test")}
	conn, err := reach.Dial()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &testBillingd{admin: adminConn, usage: billingv1.NewUsageServiceClient(conn), proxy: p}
}

// seed creates customer acme and the metrics backup.gb and licence.sql
// (both summed); customer hooli and metric backup.unknown do not exist.
func seed(t *testing.T, conn *grpc.ClientConn) {
	t.Helper()
	ctx := context.Background()
	if _, err := billingv1.NewCustomerServiceClient(conn).CreateCustomer(ctx, &billingv1.CreateCustomerRequest{
		Customer: &billingv1.Customer{Id: "acme", DisplayName: "Acme"}}); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"backup.gb", "licence.sql"} {
		if _, err := billingv1.NewCatalogServiceClient(conn).CreateMetric(ctx, &billingv1.CreateMetricRequest{Metric: &billingv1.Metric{
			Key: key, Unit: "unit", Aggregation: billingv1.Aggregation_AGGREGATION_SUM,
		}}); err != nil {
			t.Fatal(err)
		}
	}
}

// total sums acme's stored quantities of metric.
func (b *testBillingd) total(t *testing.T, metric string) decimal.Decimal {
	t.Helper()
	sum := decimal.Zero
	res, err := billingv1.NewUsageServiceClient(b.admin).ListUsage(context.Background(),
		&billingv1.ListUsageRequest{CustomerId: "acme", MetricKey: metric, PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range res.GetUsageRecords() {
		sum = sum.Add(decimal.RequireFromString(u.GetQuantity()))
	}
	return sum
}

// stored lists acme's usage in billingd as "key metric=quantity source" lines, sorted.
func (b *testBillingd) stored(t *testing.T) []string {
	t.Helper()
	var out []string
	req := &billingv1.ListUsageRequest{CustomerId: "acme", PageSize: 1000}
	for {
		res, err := billingv1.NewUsageServiceClient(b.admin).ListUsage(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range res.GetUsageRecords() {
			out = append(out, u.GetIdempotencyKey()+" "+u.GetMetricKey()+"="+u.GetQuantity()+" "+u.GetSource())
		}
		if res.GetNextPageToken() == "" {
			slices.Sort(out)
			return out
		}
		req.PageToken = res.GetNextPageToken()
	}
}

// proxy forwards TCP to billingd; down() cuts every connection and refuses
// new ones (accepted and closed at once) until up().
type proxy struct {
	addr   string
	target string
	mu     sync.Mutex
	isDown bool
	conns  map[net.Conn]bool
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{addr: lis.Addr().String(), target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { _ = lis.Close(); p.down() })
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *proxy) serve(c net.Conn) {
	p.mu.Lock()
	if p.isDown {
		p.mu.Unlock()
		_ = c.Close()
		return
	}
	p.mu.Unlock()
	u, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	if p.isDown {
		p.mu.Unlock()
		_ = c.Close()
		_ = u.Close()
		return
	}
	p.conns[c], p.conns[u] = true, true
	p.mu.Unlock()
	go func() { _, _ = io.Copy(u, c); _ = u.Close() }()
	_, _ = io.Copy(c, u)
	_ = c.Close()
}

func (p *proxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.isDown = true
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

func (p *proxy) up() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.isDown = false
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

// suffix is a random name part, so that parallel tests and CI runs never
// share a stream, subject or queue.
func suffix(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func yamlNode(t *testing.T, text string) *yaml.Node {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(text), &n); err != nil {
		t.Fatal(err)
	}
	return n.Content[0]
}

// record is a usage record message body, as a producer writes it.
func record(key, customer, metric, qty string) []byte {
	return fmt.Appendf(nil, `{"idempotency_key":%q,"customer_id":%q,"metric_key":%q,"quantity":%q,`+
		`"start_time":"2026-01-01T00:00:00Z","end_time":"2026-02-01T00:00:00Z","resource_id":"contract-1"}`, key, customer, metric, qty)
}

// ingest stores a record in billingd the way a collector that crashed
// before acking the broker would have.
func ingest(t *testing.T, usage billingv1.UsageServiceClient, m collector.Message) {
	t.Helper()
	res, err := usage.BatchIngestUsage(context.Background(), &billingv1.BatchIngestUsageRequest{Records: []*billingv1.UsageRecord{{
		IdempotencyKey: m.Record.Key, CustomerId: m.Record.CustomerID, MetricKey: m.Record.Metric, Quantity: m.Record.Quantity.String(),
		StartTime: timestamp(m.Record.Start), EndTime: timestamp(m.Record.End), ResourceId: m.Record.ResourceID, Source: m.Record.Source,
	}}})
	if err != nil || res.GetAccepted() != 1 {
		t.Fatalf("storing the crashed delivery: %v, %v", res, err)
	}
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

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// running is a Runner's Run in the background.
type running struct {
	cancel context.CancelFunc
	done   chan error
}

func run(t *testing.T, usage billingv1.UsageServiceClient, src collector.Source, metrics *collector.Metrics, log *slog.Logger) *running {
	t.Helper()
	r, err := collector.NewRunner(usage, []collector.Schedule{{Source: src, Interval: 200 * time.Millisecond}}, collector.Options{
		StateDir: t.TempDir(), BatchSize: 4, Retry: collector.Backoff{Initial: 10 * time.Millisecond, Max: 200 * time.Millisecond},
		Metrics: metrics, Log: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rn := &running{cancel: cancel, done: make(chan error, 1)}
	go func() { rn.done <- r.Run(ctx) }()
	t.Cleanup(rn.stop)
	return rn
}

func (r *running) stop() {
	r.cancel()
	if err := <-r.done; err != nil && !errors.Is(err, context.Canceled) {
		panic(err)
	}
	r.done <- nil // stop is idempotent
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

func testLog() (*slog.Logger, *lockedBuffer) {
	b := &lockedBuffer{}
	return slog.New(slog.NewTextHandler(b, nil)), b
}

func timestamp(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t) }
