package rating

import "github.com/shopspring/decimal"

// contracts emits, for every contract of the customer and every fee granule
// that the contract window and the period cover (wholly or partly):
//
//   - a COMMITTED line: quantity = the prorated fraction f of the granule,
//     unit price = the fee;
//   - usage above the commitment while the contract is in force (see
//     excessOf): an OVERAGE line at the overage price for
//     ContractCommittedOverage, pay-as-you-go lines at the resolved price
//     for ContractCommitted (see excess).
func (r *run) contracts() error {
	for _, k := range r.e.byCust[r.customer] {
		from, to := max(k.from, r.from), min(k.to, r.to)
		if from >= to {
			continue
		}
		c := k.c
		gs := r.granules(c.FeeGranularity)
		for gi := granuleAt(gs, from); gi < len(gs) && gs[gi].start < to; gi++ {
			g := &gs[gi]
			a, b := max(g.from, from), min(g.to, to)
			if a >= b {
				continue
			}
			f := r.fraction(c.Proration, g, a, b)
			l := Line{
				CustomerID: r.customer, ProductID: c.ProductID, GroupID: k.product.GroupID, Model: ModelCommitted,
				Granularity: c.FeeGranularity, Start: r.time(a), End: r.time(b),
				Quantity: f, UnitPrice: c.Fee, Amount: k.cur.Round(f.Mul(c.Fee)), Currency: k.cur.Code,
				ContractID: c.ID,
			}
			if err := r.out(l); err != nil {
				return err
			}
			ex := r.excessOf(k, g, a, b, f)
			if !ex.any() {
				continue
			}
			if c.Model == ContractCommitted {
				if err := r.excess(k, g, a, b, ex); err != nil {
					return err
				}
				continue
			}
			q := ex.sum
			if !ex.level.IsZero() {
				q = ratio(ex.level, g.seconds)
			}
			l.Model, l.Quantity, l.UnitPrice = ModelOverage, q, c.OverageUnitPrice
			l.Amount = k.cur.Round(q.Mul(c.OverageUnitPrice))
			if err := r.out(l); err != nil {
				return err
			}
		}
	}
	return nil
}

// fraction is the prorated share of fee granule g that [a, b) covers.
func (r *run) fraction(p Proration, g *gran, a, b int64) decimal.Decimal {
	if p == ProrationNone || (a == g.start && b == g.end) {
		return one
	}
	unit := GranularityDay
	if p == ProrationHourly {
		unit = GranularityHour
	}
	covered := len(granules(a, b, unit, r.loc))
	whole := len(granules(g.start, g.end, unit, r.loc))
	return countRatio(covered, whole)
}

// usageAbove is the usage above a commitment in one fee granule, exactly
// one of them non-zero: sum for a sum metric (in the metric's unit), level
// for the level aggregations (in unit·seconds, see excessOf).
type usageAbove struct {
	sum, level decimal.Decimal
}

func (u usageAbove) any() bool { return u.sum.Sign() > 0 || u.level.Sign() > 0 }

// excessOf is the customer's usage of the contract's product above the
// commitment over the covered part [a, b) of fee granule g, summed over the
// customer's series.
//
// A sum is compared with the prorated commitment CommittedQuantity × f: the
// commitment the prorated fee pays for. A level (time_weighted_avg, max,
// latest, unique_count) is compared with CommittedQuantity while the
// contract is in force: the excess is (level − commitment) held over the
// covered time, in unit·seconds, where the level of a time-weighted
// average is its mean over the covered part and the others are their
// aggregate over it. So usage at or below the commitment at every instant
// has no excess, and commitment + x has exactly x, whatever the proration.
func (r *run) excessOf(k *contractIdx, g *gran, a, b int64, f decimal.Decimal) usageAbove {
	agg := r.e.metrics[k.product.MetricKey].Aggregation
	q := r.customerTotal(k.c.ProductID, a, func(c *cursor) (decimal.Decimal, bool) {
		if agg == AggregationSum || agg == AggregationTimeWeightedAvg {
			return c.accumulate(a, b) // a sum, or ∫ in unit·seconds
		}
		return c.quantity(a, b, g, r.seen)
	})
	covered := decimal.New(b-a, -9)
	switch agg {
	case AggregationSum:
		return usageAbove{sum: decimal.Max(decimal.Zero, q.Sub(k.c.CommittedQuantity.Mul(f)))}
	case AggregationTimeWeightedAvg:
		return usageAbove{level: decimal.Max(decimal.Zero, q.Sub(k.c.CommittedQuantity.Mul(covered)))}
	}
	return usageAbove{level: decimal.Max(decimal.Zero, q.Sub(k.c.CommittedQuantity).Mul(covered))}
}

// excess rates usage above a plain commitment pay-as-you-go, at the price
// resolved for the product (list or campaign), on customer-level lines
// that name the contract, one per price segment of the covered part.
//
// A sum's excess is shared among the price segments in proportion to the
// usage in each, the last taking the remainder, and carries over as is. A
// level's excess (unit·seconds) is shared by time and converted to the
// price's granules: 1 vCPU above the commitment for 20 days at an hourly
// price is 480 vCPU-hours; at a monthly price in a 30-day month, 20/30 of a
// vCPU-month. The lines of one fee granule are rounded as one running total.
func (r *run) excess(k *contractIdx, g *gran, a, b int64, ex usageAbove) error {
	type part struct {
		seg  *segment
		a, b int64
		q    decimal.Decimal
	}
	var parts []part
	total := decimal.Zero
	tl := r.timeline(k.c.ProductID)
	for i := range tl {
		s := &tl[i]
		if s.to <= a || s.from >= b {
			continue
		}
		pa, pb := max(s.from, a), min(s.to, b)
		var q decimal.Decimal
		if ex.sum.Sign() > 0 {
			q = r.customerTotal(k.c.ProductID, pa, func(c *cursor) (decimal.Decimal, bool) { return c.accumulate(pa, pb) })
		}
		parts = append(parts, part{s, pa, pb, q})
		total = total.Add(q)
	}
	r.round.startIfNew(roundKey{k: k, g: g})
	left, next := ex.sum, int64(0)
	for i, pt := range parts {
		// before: the covered time ahead of this part
		before := next
		next += pt.b - pt.a
		var share decimal.Decimal
		switch {
		case ex.level.Sign() > 0:
			// a level held from a to b: the part's time of it, in fee granules
			share = ratio(ex.level.Mul(decimal.NewFromInt(pt.b-pt.a)), decimal.NewFromInt(b-a).Mul(g.seconds))
		case i == len(parts)-1:
			share = left
		case !total.IsZero():
			share = ratio(ex.sum.Mul(pt.q), total)
			left = left.Sub(share)
		}
		if share.Sign() <= 0 {
			continue
		}
		if pt.seg.price == nil {
			r.unpriced(nil, k.product, pt.a, pt.b, share, UnpricedNoPrice, k.c.ID)
			continue
		}
		q := share
		if ex.level.Sign() > 0 {
			// exactly, without the rounded share: level × time × granules per fee granule / (|covered| × |g|)
			n, d := r.granulesPer(pt.seg.price.gran, k.c.FeeGranularity, g)
			den := decimal.NewFromInt(b - a).Mul(g.seconds).Mul(decimal.NewFromInt(d))
			upTo := func(t int64) decimal.Decimal {
				return ratio(ex.level.Mul(decimal.NewFromInt(t)).Mul(decimal.NewFromInt(n)), den)
			}
			q = upTo(next).Sub(upTo(before))
		}
		l := Line{
			CustomerID: r.customer, ProductID: k.c.ProductID, GroupID: k.product.GroupID, Model: ModelPAYG,
			Granularity: k.c.FeeGranularity, Start: r.time(pt.a), End: r.time(pt.b), ContractID: k.c.ID,
		}
		if err := r.priced(l, pt.seg.price, q, decimal.Zero, q); err != nil {
			return err
		}
	}
	return nil
}

// customerTotal is Σ over the customer's series of the product of what at
// gives for a cursor positioned at a.
func (r *run) customerTotal(product string, a int64, at func(*cursor) (decimal.Decimal, bool)) decimal.Decimal {
	var q decimal.Decimal
	for _, ix := range r.byProduct[product] {
		c := cursor{ix: ix}
		c.reset(a)
		if v, ok := at(&c); ok {
			q = q.Add(v)
		}
	}
	return q
}

// granulesPer is how many granules of price fit in fee granule g, as n/d:
// a count when price is finer, 1/n when g is one of n fee granules of a
// coarser price granule.
func (r *run) granulesPer(price, fee Granularity, g *gran) (n, d int64) {
	switch {
	case price == fee:
		return 1, 1
	case price < fee:
		return int64(len(granules(g.start, g.end, price, r.loc))), 1
	}
	outer := granules(g.start, g.start+1, price, r.loc)[0]
	return 1, int64(len(granules(outer.start, outer.end, fee, r.loc)))
}
