package rating

import "github.com/shopspring/decimal"

// band is a part of a quantity with one unit price: the whole quantity for
// a flat or volume price, one tier's share for a graduated price.
type band struct {
	qty, price decimal.Decimal
	tier       int // 1-based; 0 for a flat price
}

// bands prices quantity q with r, appending to dst.
//
// Graduated: the quantity in (0, UpTo₁] at tier 1's price, (UpTo₁, UpTo₂] at
// tier 2's, and so on; one band per tier reached. Volume: the whole quantity
// at the price of the first tier with q ≤ UpTo. A quantity ≤ 0 falls in tier 1.
func (r *resolved) bands(q decimal.Decimal, dst []band) []band {
	if r.tiers == nil {
		return append(dst, band{qty: q, price: r.unit})
	}
	ts := r.tiers.Tiers
	if r.tiers.Mode == TierVolume {
		for i, t := range ts {
			if !t.UpTo.Valid || q.LessThanOrEqual(t.UpTo.Decimal) {
				return append(dst, band{qty: q, price: t.UnitPrice, tier: i + 1})
			}
		}
		return dst // unreachable: validation makes the last tier open
	}
	prev := decimal.Zero
	for i, t := range ts {
		if !t.UpTo.Valid || q.LessThanOrEqual(t.UpTo.Decimal) {
			return append(dst, band{qty: q.Sub(prev), price: t.UnitPrice, tier: i + 1})
		}
		dst = append(dst, band{qty: t.UpTo.Decimal.Sub(prev), price: t.UnitPrice, tier: i + 1})
		prev = t.UpTo.Decimal
	}
	return dst
}
