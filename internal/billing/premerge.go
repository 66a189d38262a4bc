package billing

import (
	"reflect"
	"time"

	"github.com/shopspring/decimal"

	"github.com/billingd/billingd/internal/money"
	"github.com/billingd/billingd/internal/rating"
)

// premerger merges consecutive engine lines that rating.GroupLines would
// merge anyway, as the engine emits them, so that a month of hourly lines
// of one series reaches GroupLines as one line instead of 744 and never
// sits in memory. It merges only lines that agree on everything GroupLines
// compares (and on more: the series' resource and dimensions) and follow on
// without a gap, within one day, month or the period, so
// GroupLines(premerged) equals
// GroupLines(all lines) up to order, which is sorted afterwards anyway.
// Sums of decimals are exact, so the order of addition does not matter.
type premerger struct {
	g      rating.Grouping
	loc    *time.Location
	cur    rating.Line
	qty    sum  // of the lines merged into cur after the first
	merged bool // cur absorbed other lines: its amount is re-rounded once
	have   bool
	out    []rating.Line
}

func newPremerger(g rating.Grouping, loc *time.Location) *premerger {
	return &premerger{g: g, loc: loc}
}

func (p *premerger) add(l rating.Line) error {
	// Only lines that follow on merge: a gap may be when another price
	// applied, where GroupLines splits a merged line (see
	// rating.GroupLines), so it must still see the gap.
	if p.have && p.cur.End.Equal(l.Start) && p.mergeable(&p.cur, &l) {
		p.qty.add(l.Quantity)
		p.merged = true
		if l.Start.Before(p.cur.Start) {
			p.cur.Start = l.Start
		}
		if l.End.After(p.cur.End) {
			p.cur.End = l.End
		}
		return nil
	}
	p.flush()
	p.cur, p.have = l, true
	return nil
}

func (p *premerger) flush() {
	if !p.have {
		return
	}
	p.cur.Quantity = p.qty.total(p.cur.Quantity)
	if p.merged {
		// As rating.GroupLines does: a shown line's amount is its
		// quantity × unit price rounded once, not a sum of roundings.
		if cur, ok := money.Lookup(p.cur.Currency); ok {
			p.cur.Amount = cur.Round(p.cur.Quantity.Mul(p.cur.UnitPrice))
		}
		p.merged = false
	}
	p.out = append(p.out, p.cur)
	p.have = false
}

// lines returns every line added, merged.
func (p *premerger) lines() []rating.Line {
	p.flush()
	return p.out
}

func (p *premerger) mergeable(a, b *rating.Line) bool {
	if a.ProductID != b.ProductID || a.Model != b.Model || a.Granularity != b.Granularity || a.Tier != b.Tier ||
		a.Currency != b.Currency || a.PriceEntryID != b.PriceEntryID || a.PriceListID != b.PriceListID ||
		a.CampaignID != b.CampaignID || a.ContractID != b.ContractID || a.GroupID != b.GroupID ||
		a.CustomerID != b.CustomerID || a.ResourceID != b.ResourceID || !a.UnitPrice.Equal(b.UnitPrice) {
		return false
	}
	if sameMap(a.Dimensions, b.Dimensions) { // a series' lines share its map
		return p.sameBucket(a.Start, b.Start)
	}
	for _, k := range [...]string{rating.DimOrganisation, rating.DimVDC, rating.DimSite} {
		if a.Dimensions[k] != b.Dimensions[k] {
			return false
		}
	}
	for _, k := range p.g.Dimensions {
		va, oka := a.Dimensions[k]
		vb, okb := b.Dimensions[k]
		if va != vb || oka != okb {
			return false
		}
	}
	return p.sameBucket(a.Start, b.Start)
}

// sameBucket reports whether GroupLines puts lines starting at a and b in
// one time bucket. Hours are left to GroupLines: their local boundaries
// around DST changes and in half-hour zones are the engine's to define.
func (p *premerger) sameBucket(a, b time.Time) bool {
	switch p.g.Granularity {
	case rating.GranularityPeriod:
		return true
	case rating.GranularityDay:
		ya, ma, da := a.In(p.loc).Date()
		yb, mb, db := b.In(p.loc).Date()
		return ya == yb && ma == mb && da == db
	case rating.GranularityMonth:
		ya, ma, _ := a.In(p.loc).Date()
		yb, mb, _ := b.In(p.loc).Date()
		return ya == yb && ma == mb
	}
	return false
}

func sameMap(a, b map[string]string) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

// sum adds decimals exactly. Lines of one series have amounts of one
// exponent (the currency's) and quantities mostly of one, so those are
// added as int64 coefficients without allocating; the rest as decimals.
type sum struct {
	exp    int32
	lo, hi decimal.Decimal // values strictly between are added as integers
	small  int64
	rest   decimal.Decimal
	used   bool
}

const smallBound = 1_000_000_000_000_000 // per value; the sum is flushed before it could overflow

func (s *sum) add(d decimal.Decimal) {
	if !s.used {
		s.used, s.exp = true, d.Exponent()
		s.lo, s.hi = decimal.New(-smallBound, s.exp), decimal.New(smallBound, s.exp)
	}
	if d.Exponent() == s.exp && d.Cmp(s.hi) < 0 && d.Cmp(s.lo) > 0 {
		s.small += d.CoefficientInt64()
		if s.small > 8*smallBound || s.small < -8*smallBound {
			s.rest = s.rest.Add(decimal.New(s.small, s.exp))
			s.small = 0
		}
		return
	}
	s.rest = s.rest.Add(d)
}

// total returns first plus everything added, and resets s.
func (s *sum) total(first decimal.Decimal) decimal.Decimal {
	if !s.used {
		return first
	}
	t := first.Add(s.rest).Add(decimal.New(s.small, s.exp))
	*s = sum{}
	return t
}
