package billing_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/billing/billingtest"
	"github.com/billingd/billingd/internal/catalog"
	"github.com/billingd/billingd/internal/clock"
	"github.com/billingd/billingd/internal/customer"
	"github.com/billingd/billingd/internal/period"
	"github.com/billingd/billingd/internal/pricing"
	"github.com/billingd/billingd/internal/rating"
	"github.com/billingd/billingd/internal/store/postgres"
	"github.com/billingd/billingd/internal/store/postgres/pgtest"
	"github.com/billingd/billingd/internal/usage"
)

// countingStore counts the reads a kept result saves.
type countingStore struct {
	billing.Store
	scans, frozenScans, frozenBooks atomic.Int64
}

func (c *countingStore) ScanUsage(ctx context.Context, w billing.UsageWindow, fn func(*billing.UsageRow) error) error {
	c.scans.Add(1)
	return c.Store.ScanUsage(ctx, w, fn)
}

func (c *countingStore) ScanFrozenUsage(ctx context.Context, id string, w billing.UsageWindow, fn func(*billing.UsageRow) error) error {
	c.frozenScans.Add(1)
	return c.Store.ScanFrozenUsage(ctx, id, w, fn)
}

func (c *countingStore) FrozenBook(ctx context.Context, id string) (billing.Book, error) {
	c.frozenBooks.Add(1)
	return c.Store.FrozenBook(ctx, id)
}

// cacheEnv is env whose service reads through a countingStore with the
// given cache limits, beside a service that keeps nothing (plain), and the
// period and usage services on a fake clock.
type cacheEnv struct {
	*env
	count   *countingStore
	plain   *billing.Service
	clock   *clock.Fake
	periods *period.Service
	ingest  *usage.Service
}

// noCache keeps nothing: the reads of billingd before results were kept.
var noCache = billing.CacheConfig{
	Pages: billing.CacheLimits{Weight: -1}, Closed: billing.CacheLimits{Weight: -1}, FrozenBooks: billing.CacheLimits{Weight: -1},
}

func newCacheEnv(t *testing.T, cfg billing.CacheConfig) *cacheEnv {
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
	fake := clock.NewFake(utc(2026, 12, 10, 0))
	count := &countingStore{Store: store.Billing()}
	svc := billing.New(count, billing.Config{Cache: cfg, Clock: fake})
	return &cacheEnv{
		env: &env{
			t: t, ctx: ctx, svc: svc, db: db,
			catalog: catalog.New(store.Catalog(), nil), cust: customer.New(store.Customers(), nil), pricing: pricing.New(store.Pricing(), nil),
		},
		count: count, plain: billing.New(store.Billing(), billing.Config{Cache: noCache}), clock: fake,
		periods: period.New(store.Periods(), svc, fake), ingest: usage.New(store.Usage(), fake),
	}
}

// jsonOf renders a result completely, so that two results compare byte
// for byte (decimals as their exact text, times with their zones).
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// pageAll reads every page of q with svc, 10 lines at a time, calling
// between(page) after each page but the last.
func pageAll(t *testing.T, ctx context.Context, svc *billing.Service, q billing.Query, between func(int)) []billing.Line {
	t.Helper()
	var got []billing.Line
	token := ""
	for n := 1; ; n++ {
		p, err := svc.QueryPage(ctx, q, 10, token)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p.Lines...)
		if token = p.NextPageToken; token == "" {
			return got
		}
		if n > 20 {
			t.Fatal("pagination does not end")
		}
		between(n)
	}
}

// The paging data: pagingEnv's 3 VMs (72 hourly lines by resource).
func pagingData(e *env) {
	vcpuCatalog(e)
	e.list("default", "")
	e.price("default", "vcpu-h", "vcpu", "0.01", pricing.GranularityHour, utc(2026, 1, 1, 0), time.Time{})
	for i := range 3 {
		e.usage(sample("acme", "vm.vcpu", fmt.Sprintf("vm%d", i+1), fmt.Sprint(i+1), nov))
	}
}

var pagedQuery = billing.Query{CustomerIDs: []string{"acme"}, From: nov, To: utc(2026, 11, 2, 0), Granularity: rating.GranularityHour,
	GroupBy: []rating.GroupKey{rating.GroupResource}}

// Later pages are slices of the first page's rating: they read no usage,
// and usage that arrives meanwhile does not shift them.
func TestPagesAreOneRating(t *testing.T) {
	t.Parallel()
	e := newCacheEnv(t, billing.CacheConfig{})
	pagingData(e.env)
	before := jsonOf(t, e.query(pagedQuery).Lines)
	scans := e.count.scans.Load()
	got := pageAll(t, e.ctx, e.svc, pagedQuery, func(n int) {
		if n == 1 { // a 4th VM after the first page: not in this result
			e.usage(sample("acme", "vm.vcpu", "vm4", "4", nov))
		}
	})
	if n := e.count.scans.Load() - scans; n != 1 {
		t.Errorf("8 pages read usage %d times, want once (for the first)", n)
	}
	if jsonOf(t, got) != before {
		t.Errorf("pages joined differ from the result at the first page")
	}
	// A new first page rates afresh: 96 lines with vm4.
	if after := pageAll(t, e.ctx, e.svc, pagedQuery, func(int) {}); len(after) != 96 {
		t.Errorf("a new paging has %d lines, want 96 (with vm4)", len(after))
	}
}

// A token without a kept result (an older billingd's, another replica's,
// or after the TTL) gets its page from a fresh rating, which the pages
// after it then share.
func TestPagesWithoutAKeptResult(t *testing.T) {
	t.Parallel()
	e := newCacheEnv(t, billing.CacheConfig{})
	pagingData(e.env)
	want := e.query(pagedQuery).Lines
	first, err := e.svc.QueryPage(e.ctx, pagedQuery, 10, "")
	if err != nil {
		t.Fatal(err)
	}
	// The token of billingd before kept results: hash ‖ offset, no id.
	b, err := base64.RawURLEncoding.DecodeString(first.NextPageToken)
	if err != nil || len(b) < 16 {
		t.Fatalf("token %q: %v", first.NextPageToken, err)
	}
	old := base64.RawURLEncoding.EncodeToString(b[:len(b)-16])
	scans := e.count.scans.Load()
	p2, err := e.svc.QueryPage(e.ctx, pagedQuery, 10, old)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.count.scans.Load() - scans; n != 1 {
		t.Errorf("page 2 of an old token read usage %d times, want once", n)
	}
	if jsonOf(t, p2.Lines) != jsonOf(t, want[10:20]) {
		t.Errorf("page 2 of an old token differs")
	}
	if _, err := e.svc.QueryPage(e.ctx, pagedQuery, 10, p2.NextPageToken); err != nil {
		t.Fatal(err)
	}
	if n := e.count.scans.Load() - scans; n != 1 {
		t.Errorf("page 3 after an old token's page 2 read usage again (%d reads)", n)
	}

	// After 10 minutes the kept result is gone: the page is rated afresh.
	e.clock.Advance(10 * time.Minute)
	scans = e.count.scans.Load()
	p2, err = e.svc.QueryPage(e.ctx, pagedQuery, 10, first.NextPageToken)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.count.scans.Load() - scans; n != 1 || jsonOf(t, p2.Lines) != jsonOf(t, want[10:20]) {
		t.Errorf("page 2 after the TTL: %d usage reads, want 1, and the same lines", n)
	}
}

// The kept pages stay within their bound: with room for 150 lines, the
// third 72-line result pushes out the first, whose next page then rates
// again; a result larger than the bound is not kept at all.
func TestPageCacheBound(t *testing.T) {
	t.Parallel()
	e := newCacheEnv(t, billing.CacheConfig{Pages: billing.CacheLimits{Weight: 150}})
	pagingData(e.env)
	var tokens []string
	for range 3 {
		p, err := e.svc.QueryPage(e.ctx, pagedQuery, 10, "")
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, p.NextPageToken)
	}
	// Newest first: the first, pushed out, is rated again and kept in turn.
	for _, c := range []struct {
		i    int
		want int64
	}{{2, 0}, {1, 0}, {0, 1}} {
		scans := e.count.scans.Load()
		if _, err := e.svc.QueryPage(e.ctx, pagedQuery, 10, tokens[c.i]); err != nil {
			t.Fatal(err)
		}
		if n := e.count.scans.Load() - scans; n != c.want {
			t.Errorf("page 2 of paging %d read usage %d times, want %d", c.i+1, n, c.want)
		}
	}

	small := newCacheEnv(t, billing.CacheConfig{Pages: billing.CacheLimits{Weight: 50}})
	pagingData(small.env)
	scans := small.count.scans.Load()
	pageAll(t, small.ctx, small.svc, pagedQuery, func(int) {})
	if n := small.count.scans.Load() - scans; n != 8 {
		t.Errorf("72 lines with room for 50: %d usage reads for 8 pages, want 8 (one per page)", n)
	}
}

// closedEnv has acme (UTC) and fin (Helsinki) with vCPU and storage from
// 25 September to 15 November, prices for October and November, and
// both customers' October closed on 10 December.
func closedEnv(t *testing.T, cfg ...billing.CacheConfig) *cacheEnv {
	e := newCacheEnv(t, append(cfg, billing.CacheConfig{})[0])
	vcpuCatalog(e.env)
	e.customer("fin", "Europe/Helsinki")
	e.metric("storage.gb", "GB", catalog.AggregationMax)
	e.group("storage")
	e.product("storage-gold", "storage", "storage.gb", "Storage Gold", map[string]string{"policy": "gold"})
	e.list("default", "")
	e.price("default", "vcpu-h", "vcpu", "0.01", pricing.GranularityHour, utc(2026, 1, 1, 0), time.Time{})
	e.price("default", "gold-d", "storage-gold", "0.10", pricing.GranularityDay, utc(2026, 1, 1, 0), time.Time{})
	for _, c := range []string{"acme", "fin"} {
		for i := range 3 {
			r := billingtest.Record{Customer: c, Metric: "vm.vcpu", Resource: fmt.Sprintf("vm%d", i+1), Quantity: fmt.Sprint(i + 1),
				Start: utc(2026, 9, 25, 0), End: utc(2026, 11, 15, 0), Organisation: "org-a", Site: []string{"ams", "fra"}[i%2]}
			e.usage(r)
			s := sample(c, "storage.gb", fmt.Sprintf("disk%d", i+1), fmt.Sprint(100*(i+1)), utc(2026, 10, 3+i, 5))
			s.Dimensions = map[string]string{"policy": "gold", "tier": fmt.Sprint(i % 2)}
			e.usage(s)
		}
		if _, err := e.periods.Close(e.ctx, c, "2026-10"); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// closedQueries read October in several shapes: one customer's month by
// product; both customers by day and a dimension (lines of the two merge,
// bucketed in UTC); a window across closed October and open November; the
// lines as rated by resource and site.
var closedQueries = map[string]billing.Query{
	"month by product": {CustomerIDs: []string{"acme"}, Month: "2026-10", Granularity: rating.GranularityPeriod,
		GroupBy: []rating.GroupKey{rating.GroupProduct}},
	"both by day and tier": {Month: "2026-10", Granularity: rating.GranularityDay,
		GroupBy: []rating.GroupKey{rating.GroupProduct}, GroupByDimensions: []string{"tier"}},
	"closed and open": {CustomerIDs: []string{"acme"}, From: utc(2026, 10, 20, 0), To: utc(2026, 11, 10, 0),
		Granularity: rating.GranularityHour, GroupBy: []rating.GroupKey{rating.GroupResource}},
	"as rated": {CustomerIDs: []string{"fin"}, Month: "2026-10",
		GroupBy: []rating.GroupKey{rating.GroupResource, rating.GroupSite}},
}

// A closed month read again reads neither usage nor its frozen book, and
// gives what rating it from its frozen inputs gives, byte for byte.
func TestClosedMonthIsRatedOnce(t *testing.T) {
	t.Parallel()
	e := closedEnv(t)
	for name, q := range closedQueries {
		first := jsonOf(t, e.query(q))
		frozen, books := e.count.frozenScans.Load(), e.count.frozenBooks.Load()
		again := jsonOf(t, e.query(q))
		if n := e.count.frozenScans.Load() - frozen; n != 0 {
			t.Errorf("%s: read again, the closed month's usage was read %d times", name, n)
		}
		if n := e.count.frozenBooks.Load() - books; n != 0 {
			t.Errorf("%s: read again, the frozen book was read %d times", name, n)
		}
		plain, err := e.plain.Query(e.ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if want := jsonOf(t, plain); first != want || again != want {
			t.Errorf("%s: kept lines differ from a fresh rating:\n%s\nwant\n%s", name, again, want)
		}
	}
}

// Adjustments follow today's data (late usage shows in November at
// once), while their frozen side is read from the kept lines; a reopened
// month is rated live and a month closed again is rated from its new
// frozen inputs, never from what was kept for the old close.
func TestClosedMonthLateUsageAndReopen(t *testing.T) {
	t.Parallel()
	e := closedEnv(t)
	oct := closedQueries["month by product"]
	novq := billing.Query{CustomerIDs: []string{"acme"}, Month: "2026-11", Granularity: rating.GranularityPeriod,
		GroupBy: []rating.GroupKey{rating.GroupProduct}}
	closed := e.query(oct)
	// vm9: 8 vCPU on 20 October, 24 h late: 192 vCPU-hours × 0.01 = 1.92 EUR.
	if _, err := e.ingest.Ingest(e.ctx, []usage.Input{{Key: "late-vm9", CustomerID: "acme", MetricKey: "vm.vcpu", Quantity: "8",
		Start: utc(2026, 10, 20, 0), End: utc(2026, 10, 21, 0), ResourceID: "vm9"}}); err != nil {
		t.Fatal(err)
	}
	equal := func(what string, q billing.Query) billing.Result {
		t.Helper()
		got := e.query(q)
		want, err := e.plain.Query(e.ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if jsonOf(t, got) != jsonOf(t, want) {
			t.Errorf("%s: %s, a fresh rating %s", what, jsonOf(t, got), jsonOf(t, want))
		}
		return got
	}
	if got := equal("October after late usage", oct); jsonOf(t, got) != jsonOf(t, closed) {
		t.Errorf("closed October changed with late usage: %s, was %s", total(got), total(closed))
	}
	frozen := e.count.frozenScans.Load()
	nov := equal("November after late usage", novq)
	if n := e.count.frozenScans.Load() - frozen; n != 0 {
		t.Errorf("November's adjustments read October's frozen usage %d times, want 0 (kept)", n)
	}
	if adj := adjustmentRows(nov); len(adj) != 1 || adj[0] != "acme vcpu adjustment 2026-11-01..2026-12-01 192 × 0.01 = 1.92 EUR" {
		t.Errorf("adjustments %q, want the late 192 vCPU-hours", adj)
	}

	if err := e.periods.Reopen(e.ctx, "acme", "2026-10", "vm9 was missed"); err != nil {
		t.Fatal(err)
	}
	scans := e.count.scans.Load()
	live := equal("reopened October", oct)
	if e.count.scans.Load() == scans || total(live) == total(closed) {
		t.Errorf("reopened October: %s from %d live reads, want it rated live with vm9", total(live), e.count.scans.Load()-scans)
	}
	if _, err := e.periods.Close(e.ctx, "acme", "2026-10"); err != nil {
		t.Fatal(err)
	}
	if again := equal("October closed again", oct); total(again) != total(live) {
		t.Errorf("October closed again: %s, want %s (with vm9)", total(again), total(live))
	}
	if adj := adjustmentRows(equal("November after closing again", novq)); len(adj) != 0 {
		t.Errorf("adjustments %q after closing again with vm9, want none", adj)
	}
}

// Closed months' lines stay within their bound: a segment with more lines
// than the bound is not kept and is rated on every read, as before.
func TestClosedCacheBound(t *testing.T) {
	t.Parallel()
	e := closedEnv(t, billing.CacheConfig{Closed: billing.CacheLimits{Weight: 2}})
	q := closedQueries["as rated"] // fin's October by resource and site: 6 lines
	for range 2 {
		frozen := e.count.frozenScans.Load()
		e.query(q)
		if n := e.count.frozenScans.Load() - frozen; n != 1 {
			t.Errorf("6 lines with room for 2: the month's usage was read %d times, want once per read", n)
		}
	}
}

func adjustmentRows(res billing.Result) []string {
	var out []string
	for _, l := range res.Lines {
		if l.Model == rating.ModelAdjustment {
			out = append(out, row(l))
		}
	}
	return out
}
