package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/app"
	"github.com/billingd/billingd/internal/config"
	"github.com/billingd/billingd/internal/demo"
	"github.com/billingd/billingd/internal/store/postgres/pgtest"
)

// TestExampleAgainstBillingd runs the example's calls against a real
// billingd holding the demo catalog and one day of usage.
func TestExampleAgainstBillingd(t *testing.T) {
	cfg := config.Default()
	cfg.DatabaseURL = pgtest.NewDatabase(t)
	cfg.GRPCAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.BootstrapAdminKey = "example-test-admin-key-0123456789abcdef"
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() { cancel(); <-done }()

	conn, err := grpc.NewClient(a.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(bearer(cfg.BootstrapAdminKey)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := demo.Load(ctx, conn); err != nil {
		t.Fatal(err)
	}
	// 4 vCPU for globex's first October day: midnight to midnight in its
	// billing time zone (Europe/Amsterdam), from 22:00 UTC on 30 September.
	from := time.Date(2026, 9, 30, 22, 0, 0, 0, time.UTC)
	if _, err := billingv1.NewUsageServiceClient(conn).BatchIngestUsage(ctx, &billingv1.BatchIngestUsageRequest{Records: []*billingv1.UsageRecord{{
		IdempotencyKey: "example:vm1", CustomerId: "globex", MetricKey: "vm.vcpu", Quantity: "4",
		StartTime: timestamppb.New(from), EndTime: timestamppb.New(from.Add(24 * time.Hour)), ResourceId: "vm1",
	}}}); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	if err := listProducts(ctx, &out, billingv1.NewCatalogServiceClient(conn)); err != nil {
		t.Fatal(err)
	}
	// 4 vCPU × 24 h = 96 vCPU-hours × 0.02 (the demo's default price) = 1.92
	if err := bill(ctx, &out, billingv1.NewBillingServiceClient(conn), "2026-10"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"storage-gold", "vm.vcpu", "globex", "96", "1.92 EUR"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	// acme's committed storage fee is for exactly its month, not the
	// 1.033333333333 months a UTC window would charge.
	if strings.Contains(out.String(), "1.0333") {
		t.Errorf("a fee covers more than the customer's month:\n%s", out.String())
	}
}
