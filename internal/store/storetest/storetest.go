package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/catalog"
	"github.com/billingd/billingd/internal/customer"
	"github.com/billingd/billingd/internal/pricing"
	"github.com/shopspring/decimal"
)

// Stores are the domain stores of one backend over one empty database.
type Stores struct {
	Catalog   catalog.Store
	Customers customer.Store
	Pricing   pricing.Store
}

// Run runs the suite. newStores must return stores over a fresh, empty,
// migrated database each time it is called; every test gets its own and
// runs in parallel.
func Run(t *testing.T, newStores func(t *testing.T) Stores) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s Stores)
	}{
		{"Metrics", testMetrics},
		{"ProductGroups", testProductGroups},
		{"Products", testProducts},
		{"CatalogReferences", testCatalogReferences},
		{"Pagination", testPagination},
		{"Customers", testCustomers},
		{"OrganisationsAndVdcs", testOrganisationsAndVdcs},
		{"PriceLists", testPriceLists},
		{"Prices", testPrices},
		{"Campaigns", testCampaigns},
		{"Contracts", testContracts},
		{"RequestLog", testRequestLog},
		{"Transactions", testTransactions},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStores(t))
		})
	}
}

var (
	ctx = context.Background()
	t0  = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
)

func day(n int) time.Time { return t0.AddDate(0, 0, n) }

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func nullDec(s string) decimal.NullDecimal {
	return decimal.NullDecimal{Decimal: dec(s), Valid: true}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantKind fails unless err has the apperr kind want.
func wantKind(t *testing.T, err error, want apperr.Kind) {
	t.Helper()
	if got := apperr.KindOf(err); got != want || err == nil {
		t.Fatalf("error = %v (kind %v), want kind %v", err, got, want)
	}
}

// same compares values by their printed form, so that decimals compare by
// value ("1.50" = "1.5") and nil and empty maps or slices are equal.
func same(t *testing.T, got, want any) {
	t.Helper()
	g, w := fmt.Sprintf("%+v", got), fmt.Sprintf("%+v", want)
	if g != w {
		t.Fatalf("got  %s\nwant %s", g, w)
	}
}
