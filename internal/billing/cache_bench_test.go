package billing_test

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/billing/billingtest"
	"github.com/billingd/billingd/internal/catalog"
	"github.com/billingd/billingd/internal/clock"
	"github.com/billingd/billingd/internal/period"
	"github.com/billingd/billingd/internal/pricing"
	"github.com/billingd/billingd/internal/rating"
	"github.com/billingd/billingd/internal/store/postgres"
)

// Cached-read data: one customer with 50 VMs, each with vCPU and RAM as
// one interval record per hour of October and November 2026 (146,400
// records); October is closed.
const (
	cacheBenchVMs = 50
)

var cacheBenchMetrics = []string{"vm.vcpu", "vm.memory_gb"}

// BenchmarkCachedReads measures, in one run, the reads that kept results
// turn into lookups against the same reads with nothing kept (billingd
// before): the closed October by product (its second read), and page 2 of
// November by resource and hour (72,000 lines, pages of 10,000). The
// "cached" sub-benchmarks report cached/uncached, the ratio of their time
// per read to the uncached one's; "line-bytes" reports what a kept line
// of the paged result costs in memory.
func BenchmarkCachedReads(b *testing.B) {
	if testing.Short() {
		b.Skip("loads 146,400 usage records")
	}
	ctx := context.Background()
	store, db := openBenchDB(b)
	start := time.Now()
	seedCacheBench(b, ctx, store, db)
	b.Logf("loaded %d records in %s", cacheBenchVMs*len(cacheBenchMetrics)*(744+720), time.Since(start).Round(time.Millisecond))

	fake := clock.NewFake(utc(2026, 12, 10, 0))
	cached := billing.New(store.Billing(), billing.Config{Clock: fake})
	plain := billing.New(store.Billing(), billing.Config{Cache: noCache})
	if _, err := period.New(store.Periods(), cached, fake).Close(ctx, "acme", "2026-10"); err != nil {
		b.Fatal(err)
	}

	closed := billing.Query{CustomerIDs: []string{"acme"}, Month: "2026-10", Granularity: rating.GranularityPeriod,
		GroupBy: []rating.GroupKey{rating.GroupProduct}}
	paged := billing.Query{CustomerIDs: []string{"acme"}, Month: "2026-11", Granularity: rating.GranularityHour,
		GroupBy: []rating.GroupKey{rating.GroupResource}}

	var token = map[*billing.Service]string{} // page 2's, from each service's first page
	reads := []struct {
		name string
		read func(*billing.Service) (lines int, err error)
	}{{"closed-month", func(svc *billing.Service) (int, error) {
		res, err := svc.Query(ctx, closed)
		return len(res.Lines), err
	}}, {"page-2", func(svc *billing.Service) (int, error) {
		if token[svc] == "" {
			first, err := svc.QueryPage(ctx, paged, billing.MaxPageSize, "")
			if err != nil || first.NextPageToken == "" {
				return 0, fmt.Errorf("first page: %v, token %q", err, first.NextPageToken)
			}
			token[svc] = first.NextPageToken
		}
		p, err := svc.QueryPage(ctx, paged, billing.MaxPageSize, token[svc])
		return len(p.Lines), err
	}}}
	for _, r := range reads {
		var uncachedNs float64
		for _, c := range []struct {
			name string
			svc  *billing.Service
		}{{"uncached", plain}, {"cached", cached}} {
			b.Run(r.name+"-"+c.name, func(b *testing.B) {
				if _, err := r.read(c.svc); err != nil { // the first read, which keeps
					b.Fatal(err)
				}
				lines := 0
				for b.Loop() {
					var err error
					if lines, err = r.read(c.svc); err != nil {
						b.Fatal(err)
					}
				}
				ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
				b.ReportMetric(float64(lines), "lines")
				b.ReportMetric(ns/1e6, "ms/read")
				if c.svc == plain {
					uncachedNs = ns
				} else if uncachedNs > 0 {
					b.ReportMetric(ns/uncachedNs, "cached/uncached")
				}
			})
		}
	}
	b.Run("line-bytes", func(b *testing.B) {
		var res billing.Result
		var bytes float64
		for b.Loop() {
			res = billing.Result{}
			runtime.GC()
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			var err error
			if res, err = plain.Query(ctx, paged); err != nil {
				b.Fatal(err)
			}
			runtime.GC()
			runtime.ReadMemStats(&m1)
			bytes = float64(m1.HeapAlloc-m0.HeapAlloc) / float64(len(res.Lines))
		}
		runtime.KeepAlive(res)
		b.ReportMetric(bytes, "B/line")
	})
}

// seedCacheBench creates the catalog, acme and its usage (by COPY).
func seedCacheBench(b *testing.B, ctx context.Context, store *postgres.Store, db *pgxpool.Pool) {
	var products []benchProduct
	for i, key := range cacheBenchMetrics {
		products = append(products, benchProduct{metric: key, agg: catalog.AggregationTimeWeightedAvg, id: key,
			price: []string{"0.0125", "0.0042"}[i], g: pricing.GranularityHour})
	}
	seedCatalog(b, ctx, store, products, "acme")
	from, hours := utc(2026, 10, 1, 0), 744+720
	vm, m, h := 0, 0, 0
	copyUsage(b, ctx, db, []time.Time{from, utc(2026, 11, 1, 0)}, func() (billingtest.Record, bool) {
		if vm == cacheBenchVMs {
			return billingtest.Record{}, false
		}
		at := from.Add(time.Duration(h) * time.Hour)
		rec := billingtest.Record{
			Key: fmt.Sprintf("%d/%d/%d", vm, m, h), Customer: "acme", Metric: cacheBenchMetrics[m],
			Resource: "vm" + strconv.Itoa(vm), Quantity: strconv.Itoa(1 + (vm+m)%8), Start: at, End: at.Add(time.Hour),
		}
		if h++; h == hours {
			h = 0
			if m++; m == len(cacheBenchMetrics) {
				m = 0
				vm++
			}
		}
		return rec, true
	})
}
