package rating

import (
	"slices"
	"sort"

	"github.com/shopspring/decimal"
)

// seriesIndex is a series with its pieces sorted by start once, and their
// bounds in nanoseconds so that a sweep compares integers.
type seriesIndex struct {
	s      *Series
	metric *Metric
	pieces []Piece // sorted by Start; the caller's slice when already sorted
	start  []int64 // Start
	end    []int64 // End, or Start+1ns for an instant piece, so that it overlaps [a, b) iff a ≤ Start < b
	maxEnd []int64 // running maximum of end: pieces before the first maxEnd > a all end by a
	level  []int8  // time_weighted_avg: 0 not yet known, 1 holds one level (Integral = Max × length), 2 not
}

func indexSeries(s *Series, m *Metric) *seriesIndex {
	ps := s.Pieces
	byStart := func(a, b Piece) int { return a.Start.Compare(b.Start) }
	if !slices.IsSortedFunc(ps, byStart) {
		ps = slices.Clone(ps)
		slices.SortStableFunc(ps, byStart)
	}
	n := len(ps)
	buf := make([]int64, 3*n)
	ix := &seriesIndex{s: s, metric: m, pieces: ps, start: buf[:n:n], end: buf[n : 2*n : 2*n], maxEnd: buf[2*n:]}
	if m.Aggregation == AggregationTimeWeightedAvg {
		ix.level = make([]int8, n)
	}
	var running int64
	for i := range ps {
		st, en := nanos(ps[i].Start), nanos(ps[i].End)
		if en <= st {
			en = st + 1
		}
		ix.start[i], ix.end[i] = st, en
		if i == 0 || en > running {
			running = en
		}
		ix.maxEnd[i] = running
	}
	return ix
}

// constant reports whether piece i holds one level throughout, Max: its
// average (Integral / length) equals its maximum. The share of such a piece
// in an interval is Max × overlap, exact and without a division.
func (ix *seriesIndex) constant(i int) bool {
	if ix.level[i] == 0 {
		ix.level[i] = 2
		if oneLevel(&ix.pieces[i], ix.end[i]-ix.start[i]) {
			ix.level[i] = 1
		}
	}
	return ix.level[i] == 1
}

// oneLevel reports whether p holds the level Max throughout its ns
// nanoseconds: Integral = Max × length.
func oneLevel(p *Piece, ns int64) bool { return p.Max.Mul(decimal.New(ns, -9)).Equal(p.Integral) }

// cursor walks a series forward in time: intervals asked of one cursor
// must not start before the previous one did, unless it is reset.
type cursor struct {
	ix *seriesIndex
	i  int // every piece before i ends at or before the last interval's start
}

func (c *cursor) seek(a int64) {
	for c.i < len(c.ix.maxEnd) && c.ix.maxEnd[c.i] <= a {
		c.i++
	}
}

// reset positions the cursor for an interval starting at a, at any time.
func (c *cursor) reset(a int64) {
	c.i = sort.Search(len(c.ix.maxEnd), func(i int) bool { return c.ix.maxEnd[i] > a })
}

// exhausted reports whether no piece is left at or after the last seek.
func (c *cursor) exhausted() bool { return c.i >= len(c.ix.start) }

// nextStart is the start of the first piece not yet passed.
func (c *cursor) nextStart() int64 { return c.ix.start[c.i] }

// lone returns the only piece overlapping [a, b), or -1 if there are none
// or several.
func (c *cursor) lone(a, b int64) int {
	found := -1
	for i := c.i; i < len(c.ix.start) && c.ix.start[i] < b; i++ {
		if c.ix.end[i] > a {
			if found >= 0 {
				return -1
			}
			found = i
		}
	}
	return found
}

// quantity aggregates the pieces overlapping [a, b) with the series'
// metric; g is the whole granule, whose length divides a time-weighted
// average. touched reports whether any piece overlapped. seen is scratch
// space for unique_count.
func (c *cursor) quantity(a, b int64, g *gran, seen map[string]struct{}) (q decimal.Decimal, touched bool) {
	c.seek(a)
	ix := c.ix
	switch agg := ix.metric.Aggregation; agg {
	case AggregationSum, AggregationTimeWeightedAvg:
		if agg == AggregationTimeWeightedAvg && b-a == g.end-g.start {
			// the common case, a gauge that holds one level all granule long
			if i := c.lone(a, b); i >= 0 && ix.start[i] <= a && ix.end[i] >= b && ix.constant(i) {
				return ix.pieces[i].Max, true
			}
		}
		acc, touched := c.accumulate(a, b)
		if touched && agg == AggregationTimeWeightedAvg {
			acc = ratio(acc, g.seconds)
		}
		return acc, touched
	default:
		f := levelFold{seen: seen}
		f.start()
		c.fold(a, b, &f)
		return f.result()
	}
}

// accumulate is Σ Sum (sum) or ∫ quantity dt in quantity·seconds
// (time_weighted_avg) of the pieces overlapping [a, b); a piece that
// straddles a bound counts in proportion to its overlap.
func (c *cursor) accumulate(a, b int64) (acc decimal.Decimal, touched bool) {
	c.seek(a)
	ix := c.ix
	sum := ix.metric.Aggregation == AggregationSum
	for i := c.i; i < len(ix.start) && ix.start[i] < b; i++ {
		if ix.end[i] <= a {
			continue
		}
		p := &ix.pieces[i]
		part, whole := min(ix.end[i], b)-max(ix.start[i], a), ix.end[i]-ix.start[i]
		var share decimal.Decimal
		switch {
		case sum:
			share = prorate(p.Sum, part, whole)
		case part != whole && ix.constant(i):
			share = p.Max.Mul(decimal.New(part, -9)) // exact, no division
		default:
			share = prorate(p.Integral, part, whole)
		}
		if touched {
			acc = acc.Add(share)
		} else {
			acc = share
		}
		touched = true
	}
	return acc, touched
}

// levelFold aggregates a level (max, latest, unique_count) over one or
// more intervals: the highest Max, the Last with the latest LastAt, the
// distinct Unique values of the pieces that overlap any of them.
type levelFold struct {
	agg     Aggregation
	seen    map[string]struct{}
	max     decimal.Decimal
	last    decimal.Decimal
	lastAt  int64
	touched bool
}

func (f *levelFold) start() {
	f.touched = false
	if f.seen != nil {
		clear(f.seen)
	}
}

// fold adds the pieces overlapping [a, b) to f.
func (c *cursor) fold(a, b int64, f *levelFold) {
	c.seek(a)
	ix := c.ix
	f.agg = ix.metric.Aggregation
	for i := c.i; i < len(ix.start) && ix.start[i] < b; i++ {
		if ix.end[i] <= a {
			continue
		}
		p := &ix.pieces[i]
		switch f.agg {
		case AggregationMax:
			if !f.touched || p.Max.GreaterThan(f.max) {
				f.max = p.Max
			}
		case AggregationLatest:
			at := ix.start[i]
			if !p.LastAt.IsZero() {
				at = nanos(p.LastAt)
			}
			if !f.touched || at >= f.lastAt {
				f.last, f.lastAt = p.Last, at
			}
		case AggregationUniqueCount:
			for _, v := range p.Unique {
				f.seen[v] = struct{}{}
			}
		}
		f.touched = true
	}
}

func (f *levelFold) result() (decimal.Decimal, bool) {
	if !f.touched {
		return decimal.Decimal{}, false
	}
	switch f.agg {
	case AggregationLatest:
		return f.last, true
	case AggregationUniqueCount:
		return decimal.NewFromInt(int64(len(f.seen))), true
	}
	return f.max, true
}

// touches reports whether any piece overlaps [a, b), at any position of the
// cursor.
func (c *cursor) touches(a, b int64) bool {
	c.reset(a)
	for i := c.i; i < len(c.ix.start) && c.ix.start[i] < b; i++ {
		if c.ix.end[i] > a {
			return true
		}
	}
	return false
}
