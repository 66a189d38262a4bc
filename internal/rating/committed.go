package rating

import "github.com/shopspring/decimal"

// contracts emits, for every contract of the customer and every fee granule
// that the contract window and the period cover (wholly or partly):
//
//   - a COMMITTED line: quantity = the prorated fraction f of the granule,
//     unit price = the fee;
//   - usage above the commitment, Q − CommittedQuantity × f, where Q is the
//     product's aggregated quantity over the covered part (summed over the
//     customer's series, a time-weighted average still divided by the whole
//     granule): an OVERAGE line at the overage price for
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
			q := r.usage(c.ProductID, a, b, g)
			excess := q.Sub(c.CommittedQuantity.Mul(f))
			if excess.Sign() <= 0 {
				continue
			}
			if c.Model == ContractCommitted {
				if err := r.excess(k, g, a, b, excess); err != nil {
					return err
				}
				continue
			}
			l.Model, l.Quantity, l.UnitPrice = ModelOverage, excess, c.OverageUnitPrice
			l.Amount = k.cur.Round(excess.Mul(c.OverageUnitPrice))
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

// usage is the customer's quantity of a product over [a, b): the sum of
// its series' quantities, a time-weighted average divided by g's length.
func (r *run) usage(product string, a, b int64, g *gran) decimal.Decimal {
	var q decimal.Decimal
	for _, ix := range r.byProduct[product] {
		c := cursor{ix: ix}
		c.reset(a)
		if v, ok := c.quantity(a, b, g, r.seen); ok {
			q = q.Add(v)
		}
	}
	return q
}

// excess rates usage above a plain commitment pay-as-you-go, at the price
// resolved for the product (list or campaign), on customer-level lines
// that name the contract. When prices change inside the covered part, the
// excess is shared among the price segments in proportion to the usage in
// each (the last takes the remainder, so the shares add up exactly).
//
// The excess is in units of the fee granule; the price is per unit of its
// own granule. For a sum (a volume) the quantity carries over as is; for
// the level aggregations (time-weighted average, max, latest, unique
// count) it is multiplied by the number of price granules in the fee
// granule (744 hours in a 31-day month, 1/30 of a month for a day of a
// 30-day month), as if the excess level were held throughout.
func (r *run) excess(k *contractIdx, g *gran, a, b int64, excess decimal.Decimal) error {
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
		q := r.usage(k.c.ProductID, pa, pb, g)
		parts = append(parts, part{s, pa, pb, q})
		total = total.Add(q)
	}
	left := excess
	for i, pt := range parts {
		share := left
		if i < len(parts)-1 {
			share = decimal.Zero
			if !total.IsZero() {
				share = ratio(excess.Mul(pt.q), total)
			}
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
		if agg := r.e.metrics[k.product.MetricKey].Aggregation; agg != AggregationSum {
			q = q.Mul(r.granulesPer(pt.seg.price.gran, k.c.FeeGranularity, g))
		}
		l := Line{
			CustomerID: r.customer, ProductID: k.c.ProductID, GroupID: k.product.GroupID, Model: ModelPAYG,
			Granularity: k.c.FeeGranularity, Start: r.time(pt.a), End: r.time(pt.b), ContractID: k.c.ID,
		}
		if err := r.priced(l, pt.seg.price, q); err != nil {
			return err
		}
	}
	return nil
}

// granulesPer is how many granules of price fit in fee granule g: a count
// when price is finer, 1/n when g is one of n fee granules of a coarser
// price granule.
func (r *run) granulesPer(price, fee Granularity, g *gran) decimal.Decimal {
	switch {
	case price == fee:
		return one
	case price < fee:
		return decimal.NewFromInt(int64(len(granules(g.start, g.end, price, r.loc))))
	}
	outer := granules(g.start, g.start+1, price, r.loc)[0]
	return countRatio(1, len(granules(outer.start, outer.end, fee, r.loc)))
}
