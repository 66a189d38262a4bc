package rating

import "github.com/shopspring/decimal"

// monthOf is a product's calendar month: the index of the month granule.
type monthOf struct {
	product string
	month   int
}

// minimums tops up each product whose price entry has a minimum charge:
// per local calendar month (within the period), the minimum in force is
// Σ over the price segments that end at such an entry of
// MinimumCharge × the local days the segment covers / the days of the
// month, a partly covered day counting by its covered time; it is rounded
// to the currency once. When the customer used the product that month (it
// has a line of it, of any model) and those lines add up to less, one
// MINIMUM line of quantity 1 brings them up to it, named by the last such
// entry of the month. A customer who did not use the product pays nothing
// for it. A unit-price campaign
// (no list entry) suspends the minimum while it runs; a percent campaign
// keeps it undiscounted.
func (r *run) minimums() error {
	months := r.granules(GranularityMonth)
	for _, p := range r.e.inOrder {
		if !r.e.minimums[p.ID] {
			continue
		}
		tl := r.timeline(p.ID)
		for mi := range months {
			m := &months[mi]
			minimum, last := decimal.Zero, (*resolved)(nil)
			for si := range tl {
				s := &tl[si]
				a, b := max(s.from, m.from), min(s.to, m.to)
				if a >= b || s.price == nil || !s.price.minimum.Valid {
					continue
				}
				minimum = minimum.Add(s.price.minimum.Decimal.Mul(r.coveredDays(a, b)))
				last = s.price
			}
			billed, used := r.billed[monthOf{p.ID, mi}]
			if last == nil || !used {
				continue // no minimum in force, or the customer did not use the product that month
			}
			days := decimal.NewFromInt(int64(len(granules(m.start, m.end, GranularityDay, r.loc))))
			due := last.cur.Round(minimum.DivRound(days, RatioPlaces))
			topUp := due.Sub(billed)
			if topUp.Sign() <= 0 {
				continue
			}
			l := Line{
				CustomerID: r.customer, ProductID: p.ID, GroupID: p.GroupID, Model: ModelMinimum,
				Granularity: GranularityMonth, Start: r.time(m.from), End: r.time(m.to),
				Quantity: one, UnitPrice: topUp, Amount: topUp, Currency: last.cur.Code,
				PriceEntryID: last.entryID, PriceListID: last.listID, CampaignID: last.campaignID,
			}
			if err := r.out(l); err != nil {
				return err
			}
		}
	}
	return nil
}

// coveredDays is how many local days [a, b) covers, each partly covered
// day by the share of its time: 15 for the 16th to the end of September.
func (r *run) coveredDays(a, b int64) decimal.Decimal {
	n := decimal.Zero
	for _, d := range granules(a, b, GranularityDay, r.loc) {
		if d.from == d.start && d.to == d.end {
			n = n.Add(one)
			continue
		}
		n = n.Add(decimal.NewFromInt(d.to-d.from).DivRound(decimal.NewFromInt(d.end-d.start), sharePlaces))
	}
	return n
}
