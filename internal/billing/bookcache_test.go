package billing_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
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

// countingBooks counts the whole-book reads of a billing store.
type countingBooks struct {
	billing.Store
	books *atomic.Int32
}

func (c countingBooks) Book(ctx context.Context) (billing.Book, int64, error) {
	c.books.Add(1)
	return c.Store.Book(ctx)
}

// bookEnv is env over a store whose book reads are counted, with the URL
// of its database for a second store (another replica).
type bookEnv struct {
	*env
	url   string
	books atomic.Int32
}

// newBookEnv sets up one product, vcpu at 0.01 an hour from 2026, and 2
// vCPU for 10 hours of November 2026 for acme (UTC): 20 vCPU-hours, a
// month's bill of 0.20 EUR.
func newBookEnv(t *testing.T) *bookEnv {
	t.Helper()
	url := pgtest.NewDatabase(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	store := openStore(t, ctx, url)
	db, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	e := &bookEnv{url: url}
	e.env = &env{
		t: t, ctx: ctx, db: db, svc: billing.New(countingBooks{store.Billing(), &e.books}, billing.Config{}),
		catalog: catalog.New(store.Catalog(), nil), cust: customer.New(store.Customers(), nil), pricing: pricing.New(store.Pricing(), nil),
	}
	e.metric("vm.vcpu", "vCPU", catalog.AggregationTimeWeightedAvg)
	e.group("compute")
	e.product("vcpu", "compute", "vm.vcpu", "vCPU", nil)
	e.customer("acme", "")
	e.list("default", "")
	e.price("default", "p", "vcpu", "0.01", pricing.GranularityHour, utc(2026, 1, 1, 0), time.Time{})
	e.usage(billingtest.Record{Customer: "acme", Metric: "vm.vcpu", Resource: "vm1", Quantity: "2",
		Start: utc(2026, 11, 3, 0), End: utc(2026, 11, 3, 10)})
	return e
}

func openStore(t *testing.T, ctx context.Context, url string) *postgres.Store {
	t.Helper()
	store, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	return store
}

var novAcme = billing.Query{CustomerIDs: []string{"acme"}, Month: "2026-11", Granularity: rating.GranularityMonth}

// bill is acme's November total.
func (e *bookEnv) bill() string {
	e.t.Helper()
	return total(e.query(novAcme))
}

func (e *bookEnv) setPrice(p *pricing.Service, unit string) {
	e.t.Helper()
	e.must(p.UpdatePrice(e.ctx, pricing.UpdatePriceInput{Price: pricing.Price{PriceListID: "default", ID: "p", UnitPrice: dec(unit)},
		UpdateMask: []string{"unit_price"}}))
}

// TestEveryBookEditIsSeenByTheNextQuery: queries keep the book's rater
// while the book is unchanged (one book read for many queries), and each
// kind of edit through the domain services is in the next query's bill.
func TestEveryBookEditIsSeenByTheNextQuery(t *testing.T) {
	e := newBookEnv(t)
	for range 3 {
		if got := e.bill(); got != "0.20 EUR" {
			t.Fatalf("bill %s, want 0.20 EUR", got)
		}
	}
	if n := e.books.Load(); n != 1 {
		t.Fatalf("three queries of an unchanged book read it %d times, want once", n)
	}
	for _, step := range []struct {
		what string
		edit func()
		want string
	}{
		{"price updated", func() { e.setPrice(e.pricing, "0.02") }, "0.40 EUR"}, // 20 vCPU-h × 0.02
		{"campaign created", func() {
			e.discount("half", "", "vcpu", "50", utc(2026, 1, 1, 0), utc(2027, 1, 1, 0))
		}, "0.20 EUR"},
		{"campaign updated", func() {
			e.must(e.pricing.UpdateCampaign(e.ctx, pricing.UpdateCampaignInput{Campaign: pricing.Campaign{ID: "half",
				Entries: []pricing.CampaignEntry{{ProductID: "vcpu", DiscountPercent: decimal.NewNullDecimal(dec("25"))}}},
				UpdateMask: []string{"entries"}}))
		}, "0.30 EUR"},
		{"campaign deleted", func() { e.must(nil, e.pricing.DeleteCampaign(e.ctx, "half")) }, "0.40 EUR"},
		{"customer list and price created", func() {
			e.list("acme-list", "acme")
			e.price("acme-list", "a", "vcpu", "0.005", pricing.GranularityHour, utc(2026, 1, 1, 0), time.Time{})
		}, "0.10 EUR"},
		{"customer price deleted", func() { e.must(nil, e.pricing.DeletePrice(e.ctx, "acme-list", "a")) }, "0.40 EUR"},
		{"contract created", func() {
			e.must(e.pricing.CreateContract(e.ctx, pricing.CreateContractInput{Contract: pricing.Contract{
				ID: "k", CustomerID: "acme", ProductID: "vcpu", Model: pricing.ContractModelCommitted,
				CommittedQuantity: dec("100"), Fee: dec("30.00"), FeeGranularity: pricing.GranularityMonth, Currency: "EUR",
				StartTime: utc(2026, 1, 1, 0), Proration: pricing.ProrationDaily,
			}}))
		}, "30.00 EUR"},
		{"contract deleted", func() { e.must(nil, e.pricing.DeleteContract(e.ctx, "k")) }, "0.40 EUR"},
		{"product filtered away from the usage", func() {
			e.must(e.catalog.UpdateProduct(e.ctx, catalog.UpdateProductInput{Product: catalog.Product{ID: "vcpu",
				DimensionFilter: map[string]string{"policy": "Gold"}}, UpdateMask: []string{"dimension_filter"}}))
		}, ""},
	} {
		before := e.books.Load()
		step.edit()
		if got := e.bill(); got != step.want {
			t.Fatalf("after %s: bill %q, want %q", step.what, got, step.want)
		}
		if got := e.bill(); got != step.want {
			t.Fatalf("after %s, again: bill %q, want %q", step.what, got, step.want)
		}
		if n := e.books.Load() - before; n != 1 {
			t.Errorf("after %s: two queries read the book %d times, want once", step.what, n)
		}
	}
	if n := e.svc.CachedBooks(); n != 1 {
		t.Errorf("the service keeps %d books after the edits, want 1", n)
	}
}

// TestAPriceEditOnAnotherReplicaIsSeen: a price edited through another
// store (another billingd replica, its own pool) is in this replica's
// next query, whose cache held the old book.
func TestAPriceEditOnAnotherReplicaIsSeen(t *testing.T) {
	e := newBookEnv(t)
	if got := e.bill(); got != "0.20 EUR" {
		t.Fatalf("bill %s, want 0.20 EUR", got)
	}
	other := pricing.New(openStore(t, e.ctx, e.url).Pricing(), nil)
	e.setPrice(other, "0.03")
	if got := e.bill(); got != "0.60 EUR" { // 20 vCPU-h × 0.03
		t.Errorf("bill after the other replica's edit %s, want 0.60 EUR", got)
	}
}

// TestADirectSQLEditThatRaisesTheVersionIsSeen: an edit with plain SQL is
// seen when its transaction raises book_version, as docs/operations.md
// asks of whoever writes the book's tables with SQL.
func TestADirectSQLEditThatRaisesTheVersionIsSeen(t *testing.T) {
	e := newBookEnv(t)
	if got := e.bill(); got != "0.20 EUR" {
		t.Fatalf("bill %s, want 0.20 EUR", got)
	}
	err := pgx.BeginFunc(e.ctx, e.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(e.ctx, "UPDATE prices SET unit_price = 0.04 WHERE price_list_id = 'default' AND id = 'p'"); err != nil {
			return err
		}
		_, err := tx.Exec(e.ctx, "UPDATE book_version SET version = version + 1")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.bill(); got != "0.80 EUR" {
		t.Errorf("bill after the SQL edit %s, want 0.80 EUR", got)
	}
}

// TestTheBookCacheKeepsOneBook: however many versions the book goes
// through, the service keeps the rater of one.
func TestTheBookCacheKeepsOneBook(t *testing.T) {
	e := newBookEnv(t)
	for i := range 20 {
		e.setPrice(e.pricing, "0.0"+string(rune('1'+i%9)))
		e.bill()
		if n := e.svc.CachedBooks(); n != 1 {
			t.Fatalf("after %d edits the service keeps %d books, want 1", i+1, n)
		}
	}
}

// TestConcurrentQueriesSeeEveryAcknowledgedEdit: while prices change, 8
// clients query at once; each query bills at least the price last
// acknowledged before it started, never an older one (run with -race:
// the queries share the cached rater).
func TestConcurrentQueriesSeeEveryAcknowledgedEdit(t *testing.T) {
	e := newBookEnv(t)
	// price i is 0.0i: 20 vCPU-h × 0.0i
	price := func(i int32) string { return "0.0" + string(rune('0'+i)) }
	bills := map[string]int32{}
	for i := int32(1); i <= 9; i++ {
		bills[dec(price(i)).Mul(dec("20")).StringFixed(2)+" EUR"] = i
	}
	var (
		acked atomic.Int32
		done  atomic.Bool
		wg    sync.WaitGroup
	)
	acked.Store(1)
	errs := make(chan string, 100)
	for range 8 {
		wg.Go(func() {
			for !done.Load() {
				floor := acked.Load()
				res, err := e.svc.Query(e.ctx, novAcme)
				if err != nil {
					errs <- err.Error()
					return
				}
				if got := bills[total(res)]; got < floor {
					errs <- "a query started after price " + price(floor) + " was acknowledged billed " + total(res)
					return
				}
			}
		})
	}
	for i := int32(2); i <= 9; i++ {
		time.Sleep(20 * time.Millisecond) // let queries run on each price; the check does not depend on it
		e.setPrice(e.pricing, price(i))
		acked.Store(i)
	}
	time.Sleep(20 * time.Millisecond)
	done.Store(true)
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
	if got := e.bill(); got != "1.80 EUR" {
		t.Errorf("final bill %s, want 1.80 EUR", got)
	}
	if n := e.svc.CachedBooks(); n != 1 {
		t.Errorf("the service keeps %d books, want 1", n)
	}
}
