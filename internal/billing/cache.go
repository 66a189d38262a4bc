package billing

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/billingd/billingd/internal/rating"
)

// # What is kept between reads
//
// Two results are kept in process, each in a bounded LRU (CacheConfig):
//
//   - Pages: the result QueryPage rated for a query's first page (or for a
//     later page whose result was not kept), under a random id its next
//     page tokens carry, so that the following pages are slices of that one
//     rating. Kept for at most Pages.TTL (10 minutes), so a page is never
//     older than that; past it, after eviction, on another replica or after
//     a restart the page is cut from a fresh rating, as before.
//   - Closed months: the rated lines of a closed month's segment (merged as
//     the premerger merges them, before grouping) and its unpriced usage.
//     They are a pure function of the closed period (its id, which a reopen
//     deletes and a new close never reuses: resource.NewID), the segment's
//     bounds, the customer's time zone, whether resources are pooled
//     (rateEach) and what the premerger looks at (granularity, grouped
//     dimensions, bucket zone), since the period's
//     book and usage are frozen (periods.go). So every replica computes the
//     same lines, and a reopened month, having no period, is rated live.
//     Adjustments are not kept: they follow today's data (adjust.go), but
//     their frozen side F is read from here.
//
// The frozen raters (the engines of closed months' books) are kept too, by
// count, under their BookHash: equal hashes are equal books (periods.go).

// CacheConfig bounds what a Service keeps between reads; zero fields take
// the defaults (DefaultCacheConfig).
type CacheConfig struct {
	// Pages: results of paged queries; Weight counts lines.
	Pages CacheLimits
	// Closed: rated lines of closed months; Weight counts lines and
	// unpriced usage. TTL 0: a closed month's lines never go stale.
	Closed CacheLimits
	// FrozenBooks: the engines of closed months' price books; Weight
	// counts books, Entries is ignored.
	FrozenBooks CacheLimits
}

// DefaultCacheConfig is what a zero CacheConfig means. A kept line costs
// about 430 bytes (BenchmarkCachedReads' line-bytes: hourly lines by
// resource), so the pages hold at most ~90 MB (200,000 lines: two
// concurrent pagings of a 50-VM customer's month by resource and hour, or
// 20 full pages) and the closed months ~45 MB (100,000 lines: a month's
// lines by product are a few per series, so thousands of customer-months);
// a larger result is not kept and is paged by re-rating, as before. Pages
// live 10 minutes: long enough for a person paging in the console, short
// enough that a snapshot is never far behind the data. Frozen books are
// shared by periods whose books hash alike, so 64 serve most customers.
var DefaultCacheConfig = CacheConfig{
	Pages:       CacheLimits{Entries: 64, Weight: 200_000, TTL: 10 * time.Minute},
	Closed:      CacheLimits{Entries: 4096, Weight: 100_000},
	FrozenBooks: CacheLimits{Weight: 64},
}

// caches are a Service's kept results.
type caches struct {
	pages  *lru[pageID, pageEntry]
	closed *lru[closedKey, closedLines]
	books  *lru[string, *rater]
}

func newCaches(cfg CacheConfig, now func() time.Time) caches {
	d := DefaultCacheConfig
	books := cfg.FrozenBooks.or(d.FrozenBooks)
	books.Entries = books.Weight
	return caches{
		pages:  newLRU[pageID, pageEntry](cfg.Pages.or(d.Pages), now),
		closed: newLRU[closedKey, closedLines](cfg.Closed.or(d.Closed), now),
		books:  newLRU[string, *rater](books, now),
	}
}

// closedKey names the lines of one segment of a closed month, as rated
// for one premerger.
type closedKey struct {
	period         string
	from, to       int64 // the segment, Unix ns
	loc, bucketLoc string
	gran           rating.Granularity
	dims           string // grouped dimensions, NUL-separated, in query order
	pool           bool   // rated in pools (rateEach): lines without resources
}

// closedLines are a closed segment's rated lines, merged by a premerger of
// the key's grouping, and its unpriced usage. Read only.
type closedLines struct {
	lines    []rating.Line
	unpriced []rating.UnpricedUsage
}

// closedSegment returns the lines of closed segment sg of j for grouping
// g (whose Location is set), rated with pool as rateEach, from the cache or
// rated from the frozen book and usage. Feeding them to a premerger of g
// gives what feeding it the engine's lines would (premerge.go: merging is
// transitive).
func (s *Service) closedSegment(ctx context.Context, j *job, sg segment, g rating.Grouping, pool bool) (closedLines, error) {
	k := closedKey{
		period: sg.p.ID, from: sg.from.UnixNano(), to: sg.to.UnixNano(),
		loc: j.loc.String(), bucketLoc: g.Location.String(), gran: g.Granularity,
		dims: strings.Join(g.Dimensions, "\x00"), pool: pool,
	}
	if v, ok := s.cache.closed.get(k); ok {
		return v, nil
	}
	rr, err := s.frozen(ctx, j.closed, sg.p)
	if err != nil {
		return closedLines{}, err
	}
	cur, err := rr.currencyFor(j.c.ID, sg.from, sg.to)
	if err != nil {
		return closedLines{}, err
	}
	pm := newPremerger(g, g.Location)
	unpriced, err := s.rateSegment(ctx, rr, cur, j.c.ID, j.loc, sg.from, sg.to, s.frozenScan(sg.p.ID), pool, pm.add)
	if err != nil {
		return closedLines{}, err
	}
	v := closedLines{lines: slices.Clip(pm.lines()), unpriced: slices.Clip(unpriced)}
	if ctx.Err() == nil {
		s.cache.closed.add(k, v, len(v.lines)+len(v.unpriced))
	}
	return v, nil
}
