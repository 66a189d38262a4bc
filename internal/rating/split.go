package rating

import (
	"slices"
	"time"
)

// lineID is what a grouped line is of, whatever its price: the kept
// attributes, the time bucket and the product.
type lineID struct {
	customer, resource, dims string
	bucket, end              int64
	product                  string
}

// priceSource names where a line's price came from; the lines of one
// contract (its fee and its overage) are one source, as are the tier bands
// of one price.
func priceSource(l *Line) string {
	if l.ContractID != "" {
		return "contract\x00" + l.ContractID
	}
	return l.PriceEntryID + "\x00" + l.PriceListID + "\x00" + l.CampaignID
}

// splitAtOtherPrices keeps a merged line from claiming time when its price
// did not apply. Lines merge per price within a time bucket, so a month's
// list-priced line would otherwise span 1 September–1 October around a
// campaign that priced 10–20 September, overlapping the campaign's line.
// A merged line whose lines leave a gap that another price source of the
// same product (and the same kept attributes and bucket) covered is split
// at that gap: each part sums the quantities of its own lines and spans
// from their earliest start to their latest end. A gap no other price
// covered (no usage then) splits nothing: the price applied then too. A
// part of one line keeps that line's amount; others are re-rounded with
// the merged lines.
func splitAtOtherPrices(lines, out []Line, ids []lineID, firsts []int, members map[int][]int, merged map[int]bool) ([]Line, map[int]bool) {
	// The gaps of each merged line; none means nothing to split.
	gaps := map[int][]span{}
	for j := range merged {
		if g := spanGaps(lines, members[j]); len(g) > 0 {
			gaps[j] = g
		}
	}
	if len(gaps) == 0 {
		return out, merged
	}
	byID := map[lineID][]int{}
	for j := range out {
		byID[ids[j]] = append(byID[ids[j]], j)
	}
	// covered reports whether a line of another price source of the same
	// product overlaps g.
	covered := func(j int, g span) bool {
		src := priceSource(&out[j])
		for _, o := range byID[ids[j]] {
			if o == j || priceSource(&out[o]) == src {
				continue
			}
			ms := members[o]
			if ms == nil {
				ms = []int{firsts[o]}
			}
			for _, i := range ms {
				if lines[i].Start.Before(g.to) && lines[i].End.After(g.from) {
					return true
				}
			}
		}
		return false
	}
	res := make([]Line, 0, len(out)+len(gaps))
	resMerged := map[int]bool{}
	for j := range out {
		var cuts []time.Time
		for _, g := range gaps[j] {
			if covered(j, g) {
				cuts = append(cuts, g.to)
			}
		}
		if len(cuts) == 0 {
			if merged[j] {
				resMerged[len(res)] = true
			}
			res = append(res, out[j])
			continue
		}
		// Parts: the lines that start before the first cut, between two
		// cuts, after the last. A line never straddles a cut, which lies
		// in a gap between lines.
		parts := make([][]int, len(cuts)+1)
		for _, i := range members[j] {
			p, _ := slices.BinarySearchFunc(cuts, lines[i].Start, func(c, t time.Time) int { return c.Compare(t) })
			if p < len(cuts) && cuts[p].Equal(lines[i].Start) {
				p++
			}
			parts[p] = append(parts[p], i)
		}
		for _, ps := range parts {
			if len(ps) == 0 {
				continue
			}
			m := out[j]
			m.Quantity, m.Amount = lines[ps[0]].Quantity, lines[ps[0]].Amount
			m.Start, m.End = lines[ps[0]].Start, lines[ps[0]].End
			for _, i := range ps[1:] {
				m.Quantity = m.Quantity.Add(lines[i].Quantity)
				if lines[i].Start.Before(m.Start) {
					m.Start = lines[i].Start
				}
				if lines[i].End.After(m.End) {
					m.End = lines[i].End
				}
			}
			if len(ps) > 1 {
				resMerged[len(res)] = true
			}
			res = append(res, m)
		}
	}
	return res, resMerged
}

// span is an interval of time.
type span struct{ from, to time.Time }

// spanGaps returns the gaps between the intervals of lines[idx], in time order.
func spanGaps(lines []Line, idx []int) []span {
	ivs := make([]span, len(idx))
	for k, i := range idx {
		ivs[k] = span{lines[i].Start, lines[i].End}
	}
	slices.SortFunc(ivs, func(a, b span) int { return a.from.Compare(b.from) })
	var gaps []span
	end := ivs[0].to
	for _, iv := range ivs[1:] {
		if iv.from.After(end) {
			gaps = append(gaps, span{end, iv.from})
		}
		if iv.to.After(end) {
			end = iv.to
		}
	}
	return gaps
}
