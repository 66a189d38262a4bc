package rating

import "github.com/shopspring/decimal"

// band is a part of a quantity with one unit price: the whole quantity for
// a flat or volume price, one tier's share for a graduated price.
type band struct {
	qty, price decimal.Decimal
	tier       int // 1-based; 0 for a flat price
}

// bands prices quantity q with r, appending to dst; q is the part of a
// granule's quantity total that comes after the quantity below.
//
// Graduated: the quantity in (0, UpTo₁] at tier 1's price, (UpTo₁, UpTo₂] at
// tier 2's, and so on; q covers (below, below + q] of that ladder and gets
// one band per tier it reaches. Volume: all of q at the price of the first
// tier with total ≤ UpTo. A quantity ≤ 0 falls in tier 1. For an uncut
// granule below is 0 and total is q.
func (r *resolved) bands(below, q, total decimal.Decimal, dst []band) []band {
	if r.tiers == nil {
		return append(dst, band{qty: q, price: r.unit})
	}
	ts := r.tiers.Tiers
	if r.tiers.Mode == TierVolume {
		for i, t := range ts {
			if !t.UpTo.Valid || total.LessThanOrEqual(t.UpTo.Decimal) {
				return append(dst, band{qty: q, price: t.UnitPrice, tier: i + 1})
			}
		}
		return dst // unreachable: validation makes the last tier open
	}
	if q.Sign() <= 0 {
		return append(dst, band{qty: q, price: ts[0].UnitPrice, tier: 1})
	}
	lo, hi := below, below.Add(q)
	prev := decimal.Zero
	for i, t := range ts {
		top := hi
		if t.UpTo.Valid && t.UpTo.Decimal.LessThan(hi) {
			top = t.UpTo.Decimal
		}
		if bottom := decimal.Max(prev, lo); top.GreaterThan(bottom) {
			dst = append(dst, band{qty: top.Sub(bottom), price: t.UnitPrice, tier: i + 1})
		}
		if !t.UpTo.Valid || !t.UpTo.Decimal.LessThan(hi) {
			break
		}
		prev = t.UpTo.Decimal
	}
	return dst
}
