package billing_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/billing/billingtest"
	"github.com/billingd/billingd/internal/catalog"
	"github.com/billingd/billingd/internal/customer"
	"github.com/billingd/billingd/internal/pricing"
	"github.com/billingd/billingd/internal/rating"
	"github.com/billingd/billingd/internal/store/postgres"
	"github.com/billingd/billingd/internal/store/postgres/pgtest"
)

// env is the billing service over a fresh PostgreSQL database, the domain
// services that set up catalog, customers and prices, and a pool for
// writing usage with plain SQL.
type env struct {
	t       *testing.T
	ctx     context.Context
	svc     *billing.Service
	db      *pgxpool.Pool
	catalog *catalog.Service
	cust    *customer.Service
	pricing *pricing.Service
}

func newEnv(t *testing.T) *env {
	t.Helper()
	url := pgtest.NewDatabase(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	store, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	db, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return &env{
		t: t, ctx: ctx, svc: billing.New(store.Billing(), billing.Config{}), db: db,
		catalog: catalog.New(store.Catalog(), nil), cust: customer.New(store.Customers(), nil), pricing: pricing.New(store.Pricing(), nil),
	}
}

func (e *env) must(_ any, err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) metric(key, unit string, agg catalog.Aggregation) {
	e.t.Helper()
	m := catalog.Metric{Key: key, Unit: unit, Aggregation: agg}
	if agg == catalog.AggregationUniqueCount {
		m.UniqueDimension = "resource_id"
	}
	e.must(e.catalog.CreateMetric(e.ctx, catalog.CreateMetricInput{Metric: m}))
}

func (e *env) group(id string) {
	e.t.Helper()
	e.must(e.catalog.CreateProductGroup(e.ctx, catalog.CreateProductGroupInput{Group: catalog.ProductGroup{ID: id, DisplayName: id}}))
}

func (e *env) product(id, group, metric, name string, filter map[string]string) {
	e.t.Helper()
	e.must(e.catalog.CreateProduct(e.ctx, catalog.CreateProductInput{Product: catalog.Product{
		ID: id, GroupID: group, MetricKey: metric, DisplayName: name, DimensionFilter: filter,
	}}))
}

func (e *env) customer(id, tz string) {
	e.t.Helper()
	e.must(e.cust.CreateCustomer(e.ctx, customer.CreateCustomerInput{Customer: customer.Customer{ID: id, DisplayName: id, BillingTimeZone: tz}}))
}

func (e *env) list(id, customerID string) {
	e.t.Helper()
	e.listIn(id, customerID, "EUR")
}

func (e *env) listIn(id, customerID, currency string) {
	e.t.Helper()
	e.must(e.pricing.CreatePriceList(e.ctx, pricing.CreatePriceListInput{PriceList: pricing.PriceList{
		ID: id, DisplayName: id, Currency: currency, CustomerID: customerID,
	}}))
}

func (e *env) price(list, id, product, unit string, g pricing.Granularity, from, to time.Time) {
	e.t.Helper()
	e.must(e.pricing.CreatePrice(e.ctx, pricing.CreatePriceInput{Price: pricing.Price{
		PriceListID: list, ID: id, ProductID: product, UnitPrice: dec(unit), Granularity: g, ValidFrom: from, ValidTo: to,
	}}))
}

func (e *env) discount(id, customerID, product, percent string, from, to time.Time) {
	e.t.Helper()
	e.discountIn(id, customerID, "EUR", product, percent, from, to)
}

func (e *env) discountIn(id, customerID, currency, product, percent string, from, to time.Time) {
	e.t.Helper()
	e.must(e.pricing.CreateCampaign(e.ctx, pricing.CreateCampaignInput{Campaign: pricing.Campaign{
		ID: id, DisplayName: id, CustomerID: customerID, Currency: currency, ValidFrom: from, ValidTo: to,
		Entries: []pricing.CampaignEntry{{ProductID: product, DiscountPercent: decimal.NewNullDecimal(dec(percent))}},
	}}))
}

func (e *env) usage(recs ...billingtest.Record) {
	e.t.Helper()
	if err := billingtest.Insert(e.ctx, e.db, recs...); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) query(q billing.Query) billing.Result {
	e.t.Helper()
	res, err := e.svc.Query(e.ctx, q)
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func utc(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, time.UTC) }

// sample is a point record of a gauge (or an event of a counter).
func sample(cust, metric, resource, q string, at time.Time) billingtest.Record {
	return billingtest.Record{Customer: cust, Metric: metric, Resource: resource, Quantity: q, Start: at}
}

// row renders the parts of a line a test compares, e.g.
// "acme storage-gold committed 2026-11-01..2026-12-01 30 × 1.00 = 30.00 EUR".
func row(l billing.Line) string {
	var b strings.Builder
	if l.CustomerID != "" {
		b.WriteString(l.CustomerID + " ")
	}
	for _, k := range []string{l.Organisation(), l.VDC(), l.Site(), l.ResourceID} {
		if k != "" {
			b.WriteString(k + " ")
		}
	}
	fmt.Fprintf(&b, "%s %s %s..%s %s × %s = %s %s", l.ProductID, l.Model, day(l.Start), day(l.End),
		l.Quantity.String(), l.UnitPrice.String(), l.Amount.StringFixed(2), l.Currency)
	if l.CampaignID != "" {
		b.WriteString(" campaign " + l.CampaignID)
	}
	return b.String()
}

func day(t time.Time) string {
	if t.Hour() == 0 && t.Minute() == 0 {
		return t.Format("2006-01-02")
	}
	return t.Format("2006-01-02T15:04")
}

func rows(ls []billing.Line) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = row(l)
	}
	return out
}

func total(res billing.Result) string {
	var parts []string
	for _, t := range res.Totals {
		parts = append(parts, t.Amount.StringFixed(2)+" "+t.Currency)
	}
	return strings.Join(parts, ", ")
}

func wantRows(t *testing.T, got []billing.Line, want ...string) {
	t.Helper()
	g := rows(got)
	if strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines:\n  %s\nwant:\n  %s", strings.Join(g, "\n  "), strings.Join(want, "\n  "))
	}
}

var (
	byCustomerProductModel = []rating.GroupKey{rating.GroupCustomer, rating.GroupProduct, rating.GroupModel}
	nov                    = utc(2026, 11, 1, 0)
	dec1                   = utc(2026, 12, 1, 0)
)
