package rating

import (
	"slices"

	"github.com/shopspring/decimal"
)

// payg rates one series as one product, pay-as-you-go: for every price
// segment (outside contracts), the granules of the price's granularity cut
// it into sub-intervals, each aggregated from the pieces inside it and
// priced. Pieces are swept once, in time order.
func (r *run) payg(ix *seriesIndex, p *Product) error {
	c := cursor{ix: ix}
	tl := r.timeline(p.ID)
	for si := range tl {
		seg := &tl[si]
		c.seek(seg.from)
		if c.exhausted() {
			return nil
		}
		if c.nextStart() >= seg.to || seg.contract != nil {
			continue // no usage here, or the contract rates it
		}
		if seg.price == nil {
			q, ok := c.quantity(seg.from, seg.to, whole(seg.from, seg.to), r.seen)
			if ok && !q.IsZero() {
				r.unpriced(ix, p, seg.from, seg.to, q, UnpricedNoPrice, "")
			}
			continue
		}
		gs := r.granules(seg.price.gran)
		for gi := granuleAt(gs, seg.from); gi < len(gs) && gs[gi].from < seg.to; gi++ {
			g := &gs[gi]
			a, b := max(g.from, seg.from), min(g.to, seg.to)
			c.seek(a)
			if c.exhausted() {
				return nil
			}
			if next := c.nextStart(); next >= b { // jump over granules without usage
				if next >= seg.to {
					break
				}
				gi = granuleAt(gs, next) - 1
				continue
			}
			q, ok := c.quantity(a, b, g, r.seen)
			if !ok || q.IsZero() {
				continue
			}
			if seg.price.tiers != nil {
				r.addTiered(seg, p, a, b, q)
				continue
			}
			l := Line{
				CustomerID: r.customer, ProductID: p.ID, GroupID: p.GroupID, Model: ModelPAYG,
				Granularity: seg.price.gran, Start: r.time(a), End: r.time(b),
				ResourceID: ix.s.ResourceID, Dimensions: ix.s.Dimensions,
			}
			if err := r.priced(l, seg.price, q); err != nil {
				return err
			}
		}
	}
	return nil
}

// A tiered price applies to the customer's quantity of the product per
// sub-interval, the sum over its series: tiers are about volume, so they
// cannot be applied resource by resource. Such lines carry no resource keys.
type tierKey struct {
	seg  *segment
	a, b int64
}

type tierSum struct {
	tierKey
	product *Product
	q       decimal.Decimal
}

func (r *run) addTiered(seg *segment, p *Product, a, b int64, q decimal.Decimal) {
	k := tierKey{seg, a, b}
	if t, ok := r.tiered[k]; ok {
		t.q = t.q.Add(q)
		return
	}
	t := &tierSum{tierKey: k, product: p, q: q}
	r.tiered[k] = t
	r.tierOrder = append(r.tierOrder, t)
}

func (r *run) flushTiered() error {
	slices.SortStableFunc(r.tierOrder, func(x, y *tierSum) int { return cmpInt(x.a, y.a) })
	for _, t := range r.tierOrder {
		l := Line{
			CustomerID: r.customer, ProductID: t.product.ID, GroupID: t.product.GroupID, Model: ModelPAYG,
			Granularity: t.seg.price.gran, Start: r.time(t.a), End: r.time(t.b),
		}
		if err := r.priced(l, t.seg.price, t.q); err != nil {
			return err
		}
	}
	return nil
}
