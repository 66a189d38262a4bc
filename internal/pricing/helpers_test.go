package pricing_test

import (
	"context"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/catalog"
	"github.com/billingd/billingd/internal/clock"
	"github.com/billingd/billingd/internal/customer"
	"github.com/billingd/billingd/internal/pricing"
	"github.com/billingd/billingd/internal/resource/resourcetest"
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

// The assertions every domain package's tests share.
var (
	must       = resourcetest.Must
	wantKind   = resourcetest.WantKind
	wantFields = resourcetest.WantFields
	same       = resourcetest.Same
)

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
