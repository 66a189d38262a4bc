package pricing_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/catalog"
	"github.com/billingd/billingd/internal/clock"
	"github.com/billingd/billingd/internal/customer"
	"github.com/billingd/billingd/internal/pricing"
	"github.com/billingd/billingd/internal/store/postgres"
	"github.com/billingd/billingd/internal/store/postgres/pgtest"
	"github.com/shopspring/decimal"
)

var (
	ctx = context.Background()
	t0  = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

func newService(t *testing.T) (*pricing.Service, *postgres.Store) {
	t.Helper()
	s := pgtest.NewStore(t)
	return pricing.New(s.Pricing(), clock.NewFake(t0)), s
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantKind(t *testing.T, err error, want apperr.Kind) {
	t.Helper()
	if got := apperr.KindOf(err); err == nil || got != want {
		t.Fatalf("error = %v (kind %v), want kind %v", err, got, want)
	}
}

// wantFields fails unless err is Invalid with violations on exactly these fields.
func wantFields(t *testing.T, err error, fields ...string) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Kind != apperr.KindInvalid {
		t.Fatalf("error = %v, want Invalid on %v", err, fields)
	}
	var got []string
	for _, v := range e.Violations {
		if !slices.Contains(got, v.Field) {
			got = append(got, v.Field)
		}
	}
	slices.Sort(got)
	slices.Sort(fields)
	if !slices.Equal(got, fields) {
		t.Fatalf("violations on %v, want %v (%v)", got, fields, err)
	}
}

func same(t *testing.T, got, want any) {
	t.Helper()
	if g, w := fmt.Sprintf("%+v", got), fmt.Sprintf("%+v", want); g != w {
		t.Fatalf("got  %s\nwant %s", g, w)
	}
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func nullDec(s string) decimal.NullDecimal { return decimal.NullDecimal{Decimal: dec(s), Valid: true} }

func day(n int) time.Time { return t0.AddDate(0, 0, n) }

// seed creates customer "acme", products "p1" and "p2" and the default EUR list "eur".
func seed(t *testing.T, svc *pricing.Service, store *postgres.Store) {
	t.Helper()
	_, err := customer.New(store.Customers(), nil).CreateCustomer(ctx, customer.CreateCustomerInput{Customer: customer.Customer{ID: "acme", DisplayName: "Acme"}})
	must(t, err)
	cat := catalog.New(store.Catalog(), nil)
	_, err = cat.CreateMetric(ctx, catalog.CreateMetricInput{Metric: catalog.Metric{Key: "vm.vcpu", Unit: "vCPU", Aggregation: catalog.AggregationMax}})
	must(t, err)
	_, err = cat.CreateProductGroup(ctx, catalog.CreateProductGroupInput{Group: catalog.ProductGroup{ID: "compute", DisplayName: "Compute"}})
	must(t, err)
	for _, id := range []string{"p1", "p2"} {
		_, err = cat.CreateProduct(ctx, catalog.CreateProductInput{Product: catalog.Product{ID: id, GroupID: "compute", MetricKey: "vm.vcpu", DisplayName: id}})
		must(t, err)
	}
	_, err = svc.CreatePriceList(ctx, pricing.CreatePriceListInput{PriceList: pricing.PriceList{ID: "eur", DisplayName: "Default EUR", Currency: "EUR"}})
	must(t, err)
}

var zeroTime time.Time
