package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/catalog"
	"github.com/billingd/billingd/internal/customer"
	"github.com/billingd/billingd/internal/pricing"
	"github.com/billingd/billingd/internal/store/postgres/pgtest"
)

// TestEveryBookWriteRaisesTheBookVersion: each write to a table the price
// book is read from raises book_version, whether it runs alone (on the
// pool) or in a caller's transaction; a write that fails raises nothing.
// The billing service keeps a book while its version stays, so a write
// that did not raise it would leave queries on the old book.
func TestEveryBookWriteRaisesTheBookVersion(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := context.Background()
	version := func() int64 {
		t.Helper()
		v, err := s.Billing().BookVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	d := decimal.RequireFromString
	if err := s.Customers().CreateCustomer(ctx, customer.Customer{ID: "c1", DisplayName: "c1", CreateTime: t0, UpdateTime: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.Catalog().CreateProductGroup(ctx, catalog.ProductGroup{ID: "g", DisplayName: "g", CreateTime: t0, UpdateTime: t0}); err != nil {
		t.Fatal(err)
	}
	cat, pri := s.Catalog(), s.Pricing()
	m := catalog.Metric{Key: "m", DisplayName: "m", Unit: "u", Aggregation: catalog.AggregationMax, CreateTime: t0, UpdateTime: t0}
	p := catalog.Product{ID: "p", GroupID: "g", MetricKey: "m", Unit: "u", DisplayName: "p", CreateTime: t0, UpdateTime: t0}
	l := pricing.PriceList{ID: "l", DisplayName: "l", Currency: "EUR", CreateTime: t0, UpdateTime: t0}
	pr := pricing.Price{PriceListID: "l", ID: "pr", ProductID: "p", UnitPrice: d("0.01"), Granularity: pricing.GranularityHour,
		ValidFrom: t0, CreateTime: t0, UpdateTime: t0}
	c := pricing.Campaign{ID: "c", DisplayName: "c", Currency: "EUR", ValidFrom: t0, ValidTo: t0.AddDate(1, 0, 0), CreateTime: t0, UpdateTime: t0,
		Entries: []pricing.CampaignEntry{{ProductID: "p", DiscountPercent: decimal.NewNullDecimal(d("10"))}}}
	k := pricing.Contract{ID: "k", CustomerID: "c1", ProductID: "p", Model: pricing.ContractModelCommitted, CommittedQuantity: d("1"),
		Fee: d("10"), FeeGranularity: pricing.GranularityMonth, Currency: "EUR", StartTime: t0, Proration: pricing.ProrationDaily,
		CreateTime: t0, UpdateTime: t0}
	changed := func(x pricing.Price) pricing.Price { x.UnitPrice = d("0.02"); return x }
	inTx := func(fn func(pricing.Repository) error) error { return pri.InTx(ctx, fn) }
	for _, w := range []struct {
		what  string
		write func() error
	}{
		{"create metric", func() error { return cat.CreateMetric(ctx, m) }},
		{"update metric", func() error { return cat.UpdateMetric(ctx, m) }},
		{"create product", func() error { return cat.CreateProduct(ctx, p) }},
		{"update product", func() error { return cat.UpdateProduct(ctx, p) }},
		{"create price list", func() error { return pri.CreatePriceList(ctx, l) }},
		{"update price list", func() error { return pri.UpdatePriceList(ctx, l) }},
		{"create price", func() error { return pri.CreatePrice(ctx, pr) }},
		{"update price", func() error { return pri.UpdatePrice(ctx, changed(pr)) }},
		{"update price in a transaction", func() error {
			return inTx(func(tx pricing.Repository) error { return tx.UpdatePrice(ctx, pr) })
		}},
		{"create campaign", func() error { return pri.CreateCampaign(ctx, c) }},
		{"update campaign", func() error { return pri.UpdateCampaign(ctx, c) }},
		{"update campaign in a transaction", func() error {
			return inTx(func(tx pricing.Repository) error { return tx.UpdateCampaign(ctx, c) })
		}},
		{"delete campaign", func() error { return pri.DeleteCampaign(ctx, "c") }},
		{"create contract", func() error { return pri.CreateContract(ctx, k) }},
		{"update contract", func() error { return pri.UpdateContract(ctx, k) }},
		{"delete contract", func() error { return pri.DeleteContract(ctx, "k") }},
		{"delete price", func() error { return pri.DeletePrice(ctx, "l", "pr") }},
		{"delete price list", func() error { return pri.DeletePriceList(ctx, "l") }},
		{"delete product", func() error { return cat.DeleteProduct(ctx, "p") }},
		{"delete metric", func() error { return cat.DeleteMetric(ctx, "m") }},
	} {
		before := version()
		if err := w.write(); err != nil {
			t.Fatalf("%s: %v", w.what, err)
		}
		if after := version(); after <= before {
			t.Errorf("%s: book version %d → %d, want it raised", w.what, before, after)
		}
	}
	// A write that fails takes its raise with it, alone or in a transaction.
	before := version()
	if err := pri.UpdatePrice(ctx, pr); apperr.KindOf(err) != apperr.KindNotFound {
		t.Fatalf("update of a deleted price: %v, want NotFound", err)
	}
	err := inTx(func(tx pricing.Repository) error { return tx.DeleteContract(ctx, "k") })
	if apperr.KindOf(err) != apperr.KindNotFound {
		t.Fatalf("delete of a deleted contract in a transaction: %v, want NotFound", err)
	}
	if after := version(); after != before {
		t.Errorf("failed writes moved the book version %d → %d", before, after)
	}
}
