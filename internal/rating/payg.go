package rating

import (
	"slices"

	"github.com/shopspring/decimal"
)

// payg rates one series as one product, pay-as-you-go: for every price
// segment (outside contracts), the granules of the price's granularity cut
// it into sub-intervals, each aggregated from the pieces inside it and
// priced. A granule cut by a segment boundary or the period is charged
// once in total: each piece carries its share (see cut.go), and the
// amounts of its lines are rounded as one running total. Pieces are swept
// once, in time order.
func (r *run) payg(ix *seriesIndex, p *Product) error {
	c := cursor{ix: ix}
	tl := r.timeline(p.ID)
	var cg *cutGranule // the level shares of the last cut granule
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
			var q decimal.Decimal
			var ok bool
			switch agg := ix.metric.Aggregation; {
			case a == g.start && b == g.end || agg == AggregationSum:
				q, ok = c.quantity(a, b, g, r.seen)
			case agg == AggregationTimeWeightedAvg:
				q, ok = averageCut(ix, g, a, b)
			default:
				if cg == nil || cg.g != g {
					cg = r.levelCut(ix, tl, g)
				}
				q, ok = cg.share(a, b)
			}
			if !ok || q.IsZero() {
				continue
			}
			if seg.price.tiers != nil {
				r.addTiered(seg, p, g, a, b, q)
				continue
			}
			l := Line{
				CustomerID: r.customer, ProductID: p.ID, GroupID: p.GroupID, Model: ModelPAYG,
				Granularity: seg.price.gran, Start: r.time(a), End: r.time(b),
				ResourceID: ix.s.ResourceID, Dimensions: ix.s.Dimensions,
			}
			r.round.startIfNew(roundKey{ix: ix, p: p, g: g})
			if err := r.priced(l, seg.price, q, decimal.Zero, q); err != nil {
				return err
			}
		}
	}
	return nil
}

// A tiered price applies to the customer's quantity of the product per
// granule, the sum over its series: tiers are about volume, so they cannot
// be applied resource by resource. Such lines carry no resource keys. When
// a boundary cuts the granule, the ladder still runs over the granule's
// whole quantity: its pieces climb it in time order (the first piece's
// quantity takes the lowest bands, the next one continues where it
// stopped), each at its own price's tiers; a volume price takes the tier of
// the granule's total quantity.
type tierKey struct {
	seg  *segment
	a, b int64
}

type tierSum struct {
	tierKey
	product *Product
	g       *gran
	q       decimal.Decimal
}

func (r *run) addTiered(seg *segment, p *Product, g *gran, a, b int64, q decimal.Decimal) {
	k := tierKey{seg, a, b}
	if t, ok := r.tiered[k]; ok {
		t.q = t.q.Add(q)
		return
	}
	t := &tierSum{tierKey: k, product: p, g: g, q: q}
	r.tiered[k] = t
	r.tierOrder = append(r.tierOrder, t)
}

// flushTiered emits the tiered lines, granule by granule.
func (r *run) flushTiered() error {
	type ladder struct {
		product *Product
		g       *gran
	}
	slices.SortStableFunc(r.tierOrder, func(x, y *tierSum) int { return cmpInt(x.a, y.a) })
	byLadder := map[ladder][]*tierSum{}
	var order []ladder
	for _, t := range r.tierOrder {
		k := ladder{t.product, t.g}
		if _, ok := byLadder[k]; !ok {
			order = append(order, k)
		}
		byLadder[k] = append(byLadder[k], t)
	}
	for _, k := range order {
		pieces := byLadder[k]
		total := decimal.Zero
		for _, t := range pieces {
			total = total.Add(t.q)
		}
		below := decimal.Zero
		r.round.startIfNew(roundKey{p: k.product, g: k.g})
		for _, t := range pieces {
			l := Line{
				CustomerID: r.customer, ProductID: t.product.ID, GroupID: t.product.GroupID, Model: ModelPAYG,
				Granularity: t.seg.price.gran, Start: r.time(t.a), End: r.time(t.b),
			}
			if err := r.priced(l, t.seg.price, t.q, below, total); err != nil {
				return err
			}
			below = below.Add(t.q)
		}
	}
	return nil
}
