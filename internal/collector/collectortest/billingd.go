// Package collectortest is the shared test support of the collector
// packages: a real billingd on PostgreSQL as in production (TLS, API keys,
// a client CA) with collector keys and certificates for it, catalog,
// customer and price seeding, the stored usage and the month bill; pushing
// a source's windows through a collector.Runner, or running one in the
// background; and the small pieces the sources' tests share (records as
// lines, a fake platform's request log, fixtures, the machine's RabbitMQ,
// a log sink, metric values).
package collectortest

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"google.golang.org/grpc"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/app"
	"github.com/billingd/billingd/internal/collector"
	"github.com/billingd/billingd/internal/config"
	"github.com/billingd/billingd/internal/store/postgres/pgtest"
)

// adminKey is the bootstrap admin API key of the test billingd.
const adminKey = "collectortest-admin-0123456789abcdef0123456789"

// Billingd is a real billingd, as in production (TLS, API keys required,
// client certificates its CA signed accepted), on a fresh PostgreSQL
// database of its own.
type Billingd struct {
	Reach collector.BillingdConfig // address and CA, without a token
	Admin *grpc.ClientConn
	ca    *x509Pair // the self-signed server certificate, also the client CA
}

// StartBillingd runs billingd until the test ends.
func StartBillingd(t *testing.T) *Billingd {
	t.Helper()
	cfg := config.Default()
	cfg.DatabaseURL = pgtest.NewDatabase(t)
	cfg.GRPCAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Auth, cfg.BootstrapAdminKey = true, adminKey
	var ca *x509Pair
	cfg.TLSCert, cfg.TLSKey, ca = selfSigned(t)
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
	return &Billingd{Reach: reach, Admin: conn, ca: ca}
}

// CollectorKey mints a collector API key limited to sources and sites
// (nil: any) and returns the settings to reach billingd with it.
func (b *Billingd) CollectorKey(t *testing.T, name string, sources, sites []string) collector.BillingdConfig {
	t.Helper()
	res, err := billingv1.NewAccessServiceClient(b.Admin).CreateApiKey(context.Background(), &billingv1.CreateApiKeyRequest{
		ApiKey: &billingv1.ApiKey{DisplayName: name, Role: billingv1.Role_ROLE_COLLECTOR, Sources: sources, Sites: sites},
	})
	if err != nil {
		t.Fatal(err)
	}
	reach := b.Reach
	reach.Token = collector.NewSecret(res.GetSecret(), "test")
	return reach
}

// Dial connects as billingd-collect does with reach, until the test ends.
func Dial(t *testing.T, reach collector.BillingdConfig) *grpc.ClientConn {
	t.Helper()
	conn, err := reach.Dial()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// CollectorUsage mints a collector API key limited to one source and site
// and returns the UsageService as billingd-collect would reach it.
func (b *Billingd) CollectorUsage(t *testing.T, source, site string) billingv1.UsageServiceClient {
	t.Helper()
	reach := b.CollectorKey(t, source+" collector", []string{source}, []string{site})
	return billingv1.NewUsageServiceClient(Dial(t, reach))
}
