package rpc

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/catalog"
	"github.com/billingd/billingd/internal/customer"
	"github.com/billingd/billingd/internal/store/postgres"
	"github.com/billingd/billingd/internal/store/postgres/pgtest"
)

// reads counts what an export asks the stores for.
type reads struct{ book, billingCustomers, closed, listProducts atomic.Int32 }

type countingBilling struct {
	billing.Store
	n *reads
}

func (c countingBilling) Book(ctx context.Context) (billing.Book, int64, error) {
	c.n.book.Add(1)
	return c.Store.Book(ctx)
}

func (c countingBilling) Customers(ctx context.Context, ids []string) ([]customer.Customer, error) {
	c.n.billingCustomers.Add(1)
	return c.Store.Customers(ctx, ids)
}

func (c countingBilling) ClosedPeriods(ctx context.Context, ids []string) ([]billing.ClosedPeriod, error) {
	c.n.closed.Add(1)
	return c.Store.ClosedPeriods(ctx, ids)
}

type countingCatalog struct {
	catalog.Store
	n *reads
}

func (c countingCatalog) ListProducts(ctx context.Context, p catalog.ListProductsParams) ([]catalog.Product, string, error) {
	c.n.listProducts.Add(1)
	return c.Store.ListProducts(ctx, p)
}

// reportStream collects an ExportReport's bytes.
type reportStream struct {
	grpc.ServerStream
	ctx  context.Context
	data []byte
}

func (s *reportStream) Context() context.Context { return s.ctx }
func (s *reportStream) Send(m *billingv1.ExportReportResponse) error {
	s.data = append(s.data, m.GetData()...)
	return nil
}

// TestExportReadsNamesOnce: an export of every customer reads the
// customers and the products once — from the billing query's own read of
// the customers and the price book — not again through the list APIs
// (before: ListCustomers and ListProducts as well), and the closed months
// once (before: twice).
func TestExportReadsNamesOnce(t *testing.T) {
	ctx := context.Background()
	store, err := postgres.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	custSvc := customer.New(store.Customers(), nil)
	for _, id := range []string{"acme", "globex"} {
		if _, err := custSvc.CreateCustomer(ctx, customer.CreateCustomerInput{Customer: customer.Customer{
			ID: id, DisplayName: strings.ToUpper(id) + " Ltd", BillingTimeZone: "Europe/Helsinki"}}); err != nil {
			t.Fatal(err)
		}
	}
	var n reads
	srv := NewReportServer(billing.New(countingBilling{store.Billing(), &n}, billing.Config{}),
		catalog.New(countingCatalog{store.Catalog(), &n}, nil), "test", slog.New(slog.NewTextHandler(io.Discard, nil)))
	from := time.Date(2026, 9, 30, 21, 0, 0, 0, time.UTC)
	out := &reportStream{ctx: ctx}
	err = srv.ExportReport(&billingv1.ExportReportRequest{Format: billingv1.ReportFormat_REPORT_FORMAT_CSV, Query: &billingv1.BillingQuery{
		StartTime: timestamppb.New(from), EndTime: timestamppb.New(from.AddDate(0, 1, 0)),
	}}, out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(out.data), "customer_id,") {
		t.Errorf("not the CSV: %.200s", out.data)
	}
	for _, c := range []struct {
		what string
		got  int32
		want int32
	}{
		{"price book", n.book.Load(), 1},
		{"customers (billing store)", n.billingCustomers.Load(), 1},
		{"closed months", n.closed.Load(), 1},
		{"products (list API)", n.listProducts.Load(), 0},
	} {
		if c.got != c.want {
			t.Errorf("%s read %d times, want %d", c.what, c.got, c.want)
		}
	}
}
