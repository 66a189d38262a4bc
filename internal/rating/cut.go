package rating

import (
	"github.com/billingd/billingd/internal/money"
	"github.com/shopspring/decimal"
)

// A granule is cut when a price, campaign, list or contract boundary, or the
// rated period's edge, falls inside it. Each piece of a cut granule carries
// its share of the granule, so that the granule is charged once in total:
//
//   - sum: the amount counted in the piece;
//   - time_weighted_avg: ∫ over the piece / the whole granule's length;
//   - max, latest, unique_count (levels): the level of the granule's
//     pay-as-you-go part (the granule inside the period, less the time under
//     a contract) shared among the pieces that hold usage of the series in
//     proportion to their length, scaled by that part's share of the
//     granule's time.
//
// Shares are running differences of one quotient, F(end of piece) −
// F(start of piece), so the pieces of a granule add up exactly to the
// quantity of the uncut granule.

// cutGranule is what the level shares of one series in one cut granule
// need; payg computes it once per granule.
type cutGranule struct {
	g     *gran
	parts []cutPart // the pay-as-you-go parts of the granule, in time order
	// num/den scaled by the length of the touched parts before a piece is
	// the series' quantity up to that piece: level × |pay-as-you-go part| /
	// (|granule| × Σ |touched parts|).
	num, den decimal.Decimal
	ok       bool // the series has usage in the pay-as-you-go part
}

type cutPart struct {
	from, to int64
	touched  bool
}

// levelCut builds the cut of granule g for a level series: the parts are
// the timeline's segments without a contract, clipped to the period.
func (r *run) levelCut(ix *seriesIndex, tl []segment, g *gran) *cutGranule {
	cg := &cutGranule{g: g}
	f := levelFold{seen: r.seen}
	f.start()
	c := cursor{ix: ix}
	var payg, touched int64
	for i := range tl {
		s := &tl[i]
		a, b := max(s.from, g.from), min(s.to, g.to)
		if a >= b || s.contract != nil {
			continue
		}
		t := c.touches(a, b)
		if t {
			c.fold(a, b, &f)
			touched += b - a
		}
		payg += b - a
		cg.parts = append(cg.parts, cutPart{from: a, to: b, touched: t})
	}
	q, ok := f.result()
	if !ok || q.IsZero() {
		return cg
	}
	cg.ok = true
	cg.num = q.Mul(decimal.NewFromInt(payg))
	cg.den = decimal.NewFromInt(touched).Mul(decimal.NewFromInt(g.end - g.start))
	return cg
}

// share is the quantity of the piece [a, b) of the cut granule.
func (cg *cutGranule) share(a, b int64) (decimal.Decimal, bool) {
	if !cg.ok {
		return decimal.Decimal{}, false
	}
	var before int64
	for _, p := range cg.parts {
		if p.from >= a {
			if p.from != a || p.to != b || !p.touched {
				return decimal.Decimal{}, false
			}
			return cg.at(before + b - a).Sub(cg.at(before)), true
		}
		if p.touched {
			before += p.to - p.from
		}
	}
	return decimal.Decimal{}, false
}

func (cg *cutGranule) at(touched int64) decimal.Decimal {
	if touched == 0 {
		return decimal.Zero
	}
	return ratio(cg.num.Mul(decimal.NewFromInt(touched)), cg.den)
}

// averageCut is the time-weighted average of the piece [a, b) of granule g:
// F(b) − F(a) with F(t) = ∫ over [g.from, t) / |g|, so that the pieces add
// up to the uncut granule's average exactly.
func averageCut(ix *seriesIndex, g *gran, a, b int64) (decimal.Decimal, bool) {
	c := cursor{ix: ix}
	if !c.touches(a, b) {
		return decimal.Decimal{}, false
	}
	upTo := func(t int64) decimal.Decimal {
		if t <= g.from {
			return decimal.Zero
		}
		c.reset(g.from)
		acc, _ := c.accumulate(g.from, t)
		return ratio(acc, g.seconds)
	}
	return upTo(b).Sub(upTo(a)), true
}

// rounding rounds the amounts of one granule's lines as a running total:
// each line gets the rounded sum so far minus the rounded sum before it.
// A granule's lines (its cut pieces, its tier bands) then add up to their
// exact total rounded once, and each is within one minor unit of its own
// Quantity × UnitPrice; a granule of one line is rounded as it always was.
type rounding struct {
	key  roundKey // the granule being rounded; a new key starts over
	sums []runningSum
}

// roundKey names a granule whose lines are rounded together: of a series
// and product (pay-as-you-go), of a product (a tier ladder) or of a
// contract (its excess). A concrete type, so that keeping it allocates
// nothing per line.
type roundKey struct {
	ix *seriesIndex
	p  *Product
	k  *contractIdx
	g  *gran
}

type runningSum struct {
	currency       string
	exact, rounded decimal.Decimal
}

// startIfNew starts a new running total unless key is the current one.
func (ro *rounding) startIfNew(key roundKey) {
	if ro.key != key {
		ro.key, ro.sums = key, ro.sums[:0]
	}
}

// amount returns the rounded amount of a line whose exact amount is exact.
func (ro *rounding) amount(cur money.Currency, exact decimal.Decimal) decimal.Decimal {
	i := 0
	for i < len(ro.sums) && ro.sums[i].currency != cur.Code {
		i++
	}
	if i == len(ro.sums) {
		// the granule's first line in this currency: rounded on its own
		amount := cur.Round(exact)
		ro.sums = append(ro.sums, runningSum{currency: cur.Code, exact: exact, rounded: amount})
		return amount
	}
	s := &ro.sums[i]
	s.exact = s.exact.Add(exact)
	total := cur.Round(s.exact)
	amount := total.Sub(s.rounded)
	s.rounded = total
	return amount
}
