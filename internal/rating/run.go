package rating

import (
	"time"

	"github.com/shopspring/decimal"
)

// run is the state of one Rate call.
type run struct {
	e        *Engine
	customer string
	loc      *time.Location
	from, to int64
	emit     func(Line) error

	cal       [GranularityPeriod + 1][]gran // built on first use
	timelines map[string][]segment          // by product
	byProduct map[string][]*seriesIndex     // kept only for products under contract
	seen      map[string]struct{}           // unique_count scratch
	bands     []band                        // scratch
	tiered    map[tierKey]*tierSum
	tierOrder []*tierSum
	round     rounding                    // the running total of the granule being emitted
	billed    map[monthOf]decimal.Decimal // amounts of products with a minimum charge, per month
	totals    totals
	sum       Summary
}

func (r *run) rate(series []Series) error {
	series = r.e.derive(series)
	peaks := map[*Product][]*seriesIndex{} // customer-peak products: their series, summed below
	for i := range series {
		s := &series[i]
		ix := indexSeries(s, r.e.metrics[s.MetricKey])
		matched := false
		for _, p := range r.e.byMetric[s.MetricKey] {
			if !p.matches(s.Dimensions) {
				continue
			}
			matched = true
			r.sum.Rated++
			if p.CustomerPeak {
				peaks[p] = append(peaks[p], ix)
				continue
			}
			if len(r.e.contracts[custProduct{r.customer, p.ID}]) > 0 {
				r.byProduct[p.ID] = append(r.byProduct[p.ID], ix)
			}
			if err := r.payg(ix, p); err != nil {
				return err
			}
		}
		if !matched && !r.e.inputs[s.MetricKey] { // an input is billed through its derived metric
			c := cursor{ix: ix}
			if q, ok := c.quantity(r.from, r.to, whole(r.from, r.to), r.seen); ok && !q.IsZero() {
				why := UnpricedNoProduct
				if len(r.e.byMetric[s.MetricKey]) > 0 {
					why = UnpricedNoMatchingProduct
				}
				r.unpriced(ix, nil, r.from, r.to, q, why, "")
			}
		}
	}
	if err := r.customerPeaks(peaks); err != nil {
		return err
	}
	if err := r.flushTiered(); err != nil {
		return err
	}
	if err := r.contracts(); err != nil {
		return err
	}
	return r.minimums()
}

// customerPeaks rates each customer-peak product once, as one series: the
// customer's total level (the sum of its series' levels at every instant),
// whose max is the customer's peak. Its lines carry no resource keys.
func (r *run) customerPeaks(peaks map[*Product][]*seriesIndex) error {
	for _, p := range r.e.inOrder {
		ixs := peaks[p]
		if len(ixs) == 0 {
			continue
		}
		in := make([][]Piece, len(ixs))
		for i, ix := range ixs {
			in[i] = ix.pieces
		}
		total := &Series{MetricKey: p.MetricKey, Pieces: combineLevels(in, sumLevels)}
		ix := indexSeries(total, r.e.metrics[p.MetricKey])
		if len(r.e.contracts[custProduct{r.customer, p.ID}]) > 0 {
			r.byProduct[p.ID] = []*seriesIndex{ix}
		}
		if err := r.payg(ix, p); err != nil {
			return err
		}
	}
	return nil
}

// granules returns the period's granules of g, built once per run.
func (r *run) granules(g Granularity) []gran {
	if r.cal[g] == nil {
		r.cal[g] = granules(r.from, r.to, g, r.loc)
	}
	return r.cal[g]
}

func (r *run) timeline(product string) []segment {
	tl, ok := r.timelines[product]
	if !ok {
		tl = r.e.timeline(r.customer, product, r.from, r.to)
		r.timelines[product] = tl
	}
	return tl
}

func (r *run) time(ns int64) time.Time { return time.Unix(0, ns).In(r.loc) }

// out counts and emits a finished line; its Amount is already rounded, once.
func (r *run) out(l Line) error {
	if r.e.minimums[l.ProductID] {
		k := monthOf{l.ProductID, granuleAt(r.granules(GranularityMonth), nanos(l.Start))}
		r.billed[k] = r.billed[k].Add(l.Amount)
	}
	r.totals.add(l.Currency, l.Amount)
	r.sum.Lines++
	return r.emit(l)
}

// priced completes l with the price p for quantity q (one line per band of
// a graduated price) and emits it; below is the quantity of the granule
// that climbed p's tier ladder before q, total the granule's whole quantity
// (see bands). Amounts are rounded with r.round, which the caller starts
// per granule.
func (r *run) priced(l Line, p *resolved, q, below, total decimal.Decimal) error {
	l.Currency = p.cur.Code
	l.PriceEntryID, l.PriceListID, l.CampaignID = p.entryID, p.listID, p.campaignID
	r.bands = p.bands(below, q, total, r.bands[:0])
	for _, b := range r.bands {
		l.Quantity, l.UnitPrice, l.Tier = b.qty, b.price, b.tier
		l.Amount = r.round.amount(p.cur, b.qty.Mul(b.price))
		if err := r.out(l); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) unpriced(ix *seriesIndex, p *Product, a, b int64, q decimal.Decimal, why UnpricedReason, contractID string) {
	u := UnpricedUsage{
		CustomerID: r.customer, Start: r.time(a), End: r.time(b), Quantity: q, Reason: why, ContractID: contractID,
	}
	if p != nil {
		u.ProductID = p.ID
		u.MetricKey = p.MetricKey
	}
	if ix != nil {
		u.MetricKey, u.ResourceID, u.Dimensions = ix.s.MetricKey, ix.s.ResourceID, ix.s.Dimensions
	}
	r.sum.Unpriced = append(r.sum.Unpriced, u)
}
