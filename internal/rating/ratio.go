package rating

import "github.com/shopspring/decimal"

// RatioPlaces is the precision of every quotient that ends up in a line:
// time-weighted averages (∫ / |granule|), proration fractions and the
// shares of excess usage. Division rounds half away from zero.
const RatioPlaces = 12

// sharePlaces is the precision of the part of a piece that falls inside an
// interval (value × overlap / length). It is far finer than RatioPlaces so
// that the final quotient is rounded only once in practice: the share of a
// constant-level piece is level × seconds, exact for levels of up to 15
// decimal places.
const sharePlaces = 24

var (
	one     = decimal.NewFromInt(1)
	hundred = decimal.NewFromInt(100)
)

// ratio is n/d to RatioPlaces; d must not be zero.
func ratio(n, d decimal.Decimal) decimal.Decimal {
	return n.DivRound(d, RatioPlaces)
}

// countRatio is n/d for counts (days, hours), exact 1 when n == d.
func countRatio(n, d int) decimal.Decimal {
	if n == d {
		return one
	}
	return ratio(decimal.NewFromInt(int64(n)), decimal.NewFromInt(int64(d)))
}

// prorate is v × part/whole to sharePlaces; v itself when part == whole.
func prorate(v decimal.Decimal, part, whole int64) decimal.Decimal {
	if part == whole || v.IsZero() {
		return v
	}
	return v.Mul(decimal.NewFromInt(part)).DivRound(decimal.NewFromInt(whole), sharePlaces)
}
