package billing_test

import (
	"context"
	"runtime"
	"sync/atomic"
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
)

// smallQuery is one customer's month grouped by product: the query of a
// tenant's bill page, over a handful of records.
var smallQuery = billing.Query{CustomerIDs: []string{"acme"}, Month: "2026-10",
	Granularity: rating.GranularityMonth, GroupBy: []rating.GroupKey{rating.GroupProduct}}

// BenchmarkSmallQuery measures what a small query spends on the price
// book, and what keeping the book's rater by version (bookcache.go) saves.
// The book is the demo's (internal/demo: 12 metrics, one derived; 10
// products, one at the customer's peak; two lists with 10 prices; two
// campaigns; a contract), the usage a few records of one customer.
//
//   - query: the whole query, the rater cached; "uncached-ns/op" is the
//     same query with the book changed before each (its version always
//     new: the book read and the rater rebuilt, as before the cache),
//     timed between the cached runs, and "speedup" their ratio;
//   - parallel, parallel-uncached: the query from 50 goroutines (the pool
//     has 4 connections, billingd's default on 2 cores), in queries/s;
//   - book, rater, customers, version: on their own, what a query reads
//     and builds before it rates (Book: six statements in a REPEATABLE
//     READ transaction; the rater: indexes, an engine per currency, the
//     derived metric's formula compiled; the customers; the version).
func BenchmarkSmallQuery(b *testing.B) {
	ctx := context.Background()
	store, db := openBenchDB(b)
	seedDemoBook(b, ctx, store, db)
	svc := billing.New(store.Billing(), billing.Config{})
	uncached := billing.New(&newBookEachTime{Store: store.Billing()}, billing.Config{})
	for _, s := range []*billing.Service{svc, uncached} {
		res, err := s.Query(ctx, smallQuery)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Lines) == 0 {
			b.Fatal("no lines")
		}
	}

	b.Run("query", func(b *testing.B) {
		var base time.Duration
		for b.Loop() {
			b.StopTimer()
			t0 := time.Now()
			if _, err := uncached.Query(ctx, smallQuery); err != nil {
				b.Fatal(err)
			}
			base += time.Since(t0)
			b.StartTimer()
			if _, err := svc.Query(ctx, smallQuery); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(base.Nanoseconds())/float64(b.N), "uncached-ns/op")
		b.ReportMetric(float64(base)/float64(b.Elapsed()), "speedup")
	})
	for _, c := range []struct {
		name string
		svc  *billing.Service
	}{{"parallel", svc}, {"parallel-uncached", uncached}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetParallelism(max(1, 50/runtime.GOMAXPROCS(0)))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := c.svc.Query(ctx, smallQuery); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
		})
	}
	reader := store.Billing()
	book, _, err := reader.Book(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("book", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := reader.Book(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("rater", func(b *testing.B) {
		for b.Loop() {
			if err := billing.BuildRater(book); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("customers", func(b *testing.B) {
		for b.Loop() {
			if _, err := reader.Customers(ctx, smallQuery.CustomerIDs); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("version", func(b *testing.B) {
		for b.Loop() {
			if _, err := reader.BookVersion(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// newBookEachTime is a billing store whose book has a new version at every
// query: the service reads and builds it every time, as before it kept
// the book's rater.
type newBookEachTime struct {
	billing.Store
	v atomic.Int64
}

func (s *newBookEachTime) BookVersion(context.Context) (int64, error) { return s.v.Add(1), nil }

func (s *newBookEachTime) Book(ctx context.Context) (billing.Book, int64, error) {
	b, _, err := s.Store.Book(ctx)
	return b, s.v.Load(), err
}

// seedDemoBook creates a book the size and shape of internal/demo's, three
// customers, and a few hours of one VM and its storage for acme in October
// 2026.
func seedDemoBook(tb testing.TB, ctx context.Context, store *postgres.Store, db *pgxpool.Pool) {
	tb.Helper()
	cat := catalog.New(store.Catalog(), nil)
	pri := pricing.New(store.Pricing(), nil)
	cus := customer.New(store.Customers(), nil)
	try := func(_ any, err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
	twa := catalog.AggregationTimeWeightedAvg
	for _, m := range []catalog.Metric{
		{Key: "vm.vcpu", Unit: "vCPU", Aggregation: twa},
		{Key: "vm.memory_gb", Unit: "GB", Aggregation: twa},
		{Key: "vm.memory_reservation_gb", Unit: "GB", Aggregation: twa},
		{Key: "vm.cpu_reservation_mhz", Unit: "MHz", Aggregation: twa},
		{Key: "vm.vram_billable_gb", Unit: "GB", Aggregation: twa, Expression: "max(vm.memory_gb * 0.5, vm.memory_reservation_gb)"},
		{Key: "vm.powered_on", Unit: "VM", Aggregation: twa},
		{Key: "storage.gb", Unit: "GB", Aggregation: twa},
		{Key: "storage.used_gb", Unit: "GB", Aggregation: twa},
		{Key: "licence.windows", Unit: "VM", Aggregation: twa},
		{Key: "network.public_ip", Unit: "IP", Aggregation: twa},
		{Key: "backup.protected_vm", Unit: "VM", Aggregation: catalog.AggregationUniqueCount, UniqueDimension: "vm_id"},
		{Key: "backup.stored_gb", Unit: "GB", Aggregation: catalog.AggregationMax},
	} {
		m.DisplayName = m.Key
		try(cat.CreateMetric(ctx, catalog.CreateMetricInput{Metric: m}))
	}
	for _, g := range []string{"compute", "storage", "licences", "network", "backup"} {
		try(cat.CreateProductGroup(ctx, catalog.CreateProductGroupInput{Group: catalog.ProductGroup{ID: g, DisplayName: g}}))
	}
	for _, p := range []catalog.Product{
		{ID: "vcpu", GroupID: "compute", MetricKey: "vm.vcpu", Unit: "vCPU-hour"},
		{ID: "vram", GroupID: "compute", MetricKey: "vm.vram_billable_gb", Unit: "GB-hour"},
		{ID: "storage-gold", GroupID: "storage", MetricKey: "storage.gb", DimensionFilter: map[string]string{"policy": "Gold"}, Unit: "GB-month"},
		{ID: "storage-silver", GroupID: "storage", MetricKey: "storage.gb", DimensionFilter: map[string]string{"policy": "Silver"}, Unit: "GB-month"},
		{ID: "storage-bronze", GroupID: "storage", MetricKey: "storage.gb", DimensionFilter: map[string]string{"policy": "Bronze"}, Unit: "GB-month"},
		{ID: "windows-server", GroupID: "licences", MetricKey: "licence.windows", Unit: "VM-month"},
		{ID: "public-ip", GroupID: "network", MetricKey: "network.public_ip", Unit: "IP-month"},
		{ID: "backup-vm", GroupID: "backup", MetricKey: "backup.protected_vm", Unit: "VM-month"},
		{ID: "backup-tb", GroupID: "backup", MetricKey: "backup.stored_gb", Unit: "GB-month", PeakBasis: catalog.PeakBasisCustomer},
	} {
		p.DisplayName = p.ID
		try(cat.CreateProduct(ctx, catalog.CreateProductInput{Product: p}))
	}
	for _, id := range []string{"acme", "globex", "initech"} {
		try(cus.CreateCustomer(ctx, customer.CreateCustomerInput{Customer: customer.Customer{ID: id, DisplayName: id, BillingTimeZone: "Europe/Amsterdam"}}))
	}
	try(pri.CreatePriceList(ctx, pricing.CreatePriceListInput{PriceList: pricing.PriceList{ID: "default-eur", DisplayName: "Default EUR", Currency: "EUR"}}))
	try(pri.CreatePriceList(ctx, pricing.CreatePriceListInput{PriceList: pricing.PriceList{ID: "acme-eur", DisplayName: "ACME EUR", Currency: "EUR", CustomerID: "acme"}}))
	epoch := utc(2026, 1, 1, 0)
	hour, month := pricing.GranularityHour, pricing.GranularityMonth
	for _, p := range []struct {
		list, id, product, unit string
		g                       pricing.Granularity
		min                     string
	}{
		{"default-eur", "vcpu-2026", "vcpu", "0.0200", hour, ""},
		{"default-eur", "vram-2026", "vram", "0.0050", hour, ""},
		{"default-eur", "gold-2026", "storage-gold", "0.18", month, ""},
		{"default-eur", "silver-2026", "storage-silver", "0.10", month, "25.00"},
		{"default-eur", "bronze-2026", "storage-bronze", "0.04", month, ""},
		{"default-eur", "windows-2026", "windows-server", "18.50", month, ""},
		{"default-eur", "ip-2026", "public-ip", "3.00", month, ""},
		{"default-eur", "backup-vm-2026", "backup-vm", "6.00", month, ""},
		{"default-eur", "backup-gb-2026", "backup-tb", "0.03", month, ""},
		{"acme-eur", "acme-vcpu", "vcpu", "0.0150", hour, ""},
	} {
		pr := pricing.Price{PriceListID: p.list, ID: p.id, ProductID: p.product, UnitPrice: dec(p.unit), Granularity: p.g, ValidFrom: epoch}
		if p.min != "" {
			pr.MinimumCharge = decimal.NewNullDecimal(dec(p.min))
		}
		try(pri.CreatePrice(ctx, pricing.CreatePriceInput{Price: pr}))
	}
	half := decimal.NewNullDecimal(dec("50"))
	try(pri.CreateCampaign(ctx, pricing.CreateCampaignInput{Campaign: pricing.Campaign{ID: "spring-backup", DisplayName: "spring", Currency: "EUR",
		ValidFrom: utc(2026, 3, 1, 0), ValidTo: utc(2026, 6, 1, 0), Priority: 10,
		Entries: []pricing.CampaignEntry{{ProductID: "backup-vm", DiscountPercent: decimal.NewNullDecimal(dec("20"))}}}}))
	try(pri.CreateCampaign(ctx, pricing.CreateCampaignInput{Campaign: pricing.Campaign{ID: "autumn-ram", DisplayName: "autumn", Currency: "EUR",
		ValidFrom: utc(2026, 10, 15, 0), ValidTo: utc(2026, 12, 1, 0), Priority: 10,
		Entries: []pricing.CampaignEntry{{ProductID: "vram", DiscountPercent: half}}}}))
	try(pri.CreateContract(ctx, pricing.CreateContractInput{Contract: pricing.Contract{
		ID: "acme-gold-2026", CustomerID: "acme", ProductID: "storage-gold", Model: pricing.ContractModelCommittedOverage,
		CommittedQuantity: dec("1000"), Fee: dec("120.00"), FeeGranularity: month, OverageUnitPrice: decimal.NewNullDecimal(dec("0.16")),
		Currency: "EUR", StartTime: epoch, Proration: pricing.ProrationDaily,
	}}))
	at := utc(2026, 10, 6, 8)
	var recs []billingtest.Record
	for _, r := range []struct {
		metric, q string
		dims      map[string]string
	}{
		{"vm.vcpu", "2", nil}, {"vm.memory_gb", "8", nil}, {"vm.memory_reservation_gb", "2", nil},
		{"storage.gb", "100", map[string]string{"policy": "Gold"}},
	} {
		recs = append(recs, billingtest.Record{Customer: "acme", Metric: r.metric, Resource: "vm1", Quantity: r.q,
			Start: at, End: at.Add(3 * time.Hour), Dimensions: r.dims})
	}
	if err := billingtest.Insert(ctx, db, recs...); err != nil {
		tb.Fatal(err)
	}
}
