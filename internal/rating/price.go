package rating

import (
	"slices"
	"sort"
	"strings"

	"github.com/billingd/billingd/internal/money"
	"github.com/shopspring/decimal"
)

// resolved is the price of a product at an instant, after the resolution
// chain: customer campaign → customer list → default campaign → default list.
type resolved struct {
	unit  decimal.Decimal
	tiers *Tiers // nil for a flat price
	cur   money.Currency
	gran  Granularity
	// price source, copied onto lines
	entryID, listID, campaignID string
	minimum                     decimal.NullDecimal // the list entry's minimum monthly charge
}

func (r *resolved) same(o *resolved) bool {
	if r == nil || o == nil {
		return r == o
	}
	return r.entryID == o.entryID && r.listID == o.listID && r.campaignID == o.campaignID &&
		r.gran == o.gran && r.cur == o.cur && r.unit.Equal(o.unit)
}

// segment is a maximal interval of the rated period over which a product's
// price and contract do not change for the customer.
type segment struct {
	from, to int64
	price    *resolved    // nil: no price in force
	contract *contractIdx // nil: no contract in force
}

type custProduct struct{ customer, product string }

type entryIdx struct {
	e        *PriceEntry
	from, to int64
	cur      money.Currency
}

type campaignIdx struct {
	c        *Campaign
	from, to int64
	cur      money.Currency
	entries  map[string]*CampaignEntry // by product
}

func (c *campaignIdx) better(o *campaignIdx) bool {
	if c.c.Priority != o.c.Priority {
		return c.c.Priority > o.c.Priority
	}
	if c.from != o.from {
		return c.from > o.from
	}
	return c.c.ID < o.c.ID
}

// timeline cuts [from, to) at every boundary of the product's price
// entries, campaigns and contracts for this customer and resolves each piece.
func (e *Engine) timeline(customer, product string, from, to int64) []segment {
	points := []int64{from, to}
	cut := func(a, b int64) {
		if a > from && a < to {
			points = append(points, a)
		}
		if b > from && b < to {
			points = append(points, b)
		}
	}
	for _, c := range []string{customer, ""} {
		k := custProduct{c, product}
		for _, x := range e.entries[k] {
			cut(x.from, x.to)
		}
		for _, x := range e.campaigns[k] {
			cut(x.from, x.to)
		}
		if c == "" {
			break
		}
		for _, x := range e.contracts[k] {
			cut(x.from, x.to)
		}
	}
	slices.Sort(points)
	points = slices.Compact(points)
	segs := make([]segment, 0, len(points)-1)
	for i := 0; i+1 < len(points); i++ {
		a, b := points[i], points[i+1]
		r := e.resolve(customer, product, a)
		k := e.contractAt(customer, product, a)
		if n := len(segs); n > 0 && segs[n-1].contract == k && segs[n-1].price.same(r) {
			segs[n-1].to = b
			continue
		}
		segs = append(segs, segment{from: a, to: b, price: r, contract: k})
	}
	return segs
}

// resolve walks the chain at instant t. A unit-price campaign or a list
// entry ends the walk; a percent campaign multiplies the price found further
// down by (100 − percent)/100 and is named on the line with it.
func (e *Engine) resolve(customer, product string, t int64) *resolved {
	type level struct {
		campaign bool
		customer string
	}
	levels := []level{{true, customer}, {false, customer}, {true, ""}, {false, ""}}
	if customer == "" {
		levels = levels[2:]
	}
	factor, discounted := one, false
	var camps []string
	for li, lv := range levels {
		k := custProduct{lv.customer, product}
		if lv.campaign {
			c := e.campaignAt(k, t)
			if c == nil {
				continue
			}
			camps = append(camps, c.c.ID)
			ce := c.entries[product]
			if ce.DiscountPercent.Valid {
				factor = factor.Mul(hundred.Sub(ce.DiscountPercent.Decimal)).Shift(-2)
				discounted = true
				continue
			}
			r := &resolved{unit: ce.UnitPrice.Decimal, cur: c.cur, gran: ce.Granularity, campaignID: strings.Join(camps, "+")}
			if discounted {
				r.unit = r.unit.Mul(factor)
			}
			if r.gran == GranularityUnspecified {
				for _, below := range levels[li+1:] {
					if below.campaign {
						continue
					}
					if x := e.entryAt(custProduct{below.customer, product}, t); x != nil {
						r.gran = x.e.Granularity
						break
					}
				}
				if r.gran == GranularityUnspecified {
					return nil
				}
			}
			return r
		}
		x := e.entryAt(k, t)
		if x == nil {
			continue
		}
		r := &resolved{unit: x.e.UnitPrice, tiers: x.e.Tiers, cur: x.cur, gran: x.e.Granularity,
			entryID: x.e.ID, listID: x.e.ListID, campaignID: strings.Join(camps, "+"), minimum: x.e.MinimumCharge}
		if discounted {
			r.unit = r.unit.Mul(factor)
			if r.tiers != nil {
				ts := &Tiers{Mode: r.tiers.Mode, Tiers: slices.Clone(r.tiers.Tiers)}
				for i := range ts.Tiers {
					ts.Tiers[i].UnitPrice = ts.Tiers[i].UnitPrice.Mul(factor)
				}
				r.tiers = ts
			}
		}
		return r
	}
	return nil
}

// entryAt is the entry in force at t; entries of a key do not overlap and
// are sorted by start.
func (e *Engine) entryAt(k custProduct, t int64) *entryIdx {
	xs := e.entries[k]
	i := sort.Search(len(xs), func(i int) bool { return xs[i].from > t }) - 1
	if i >= 0 && t < xs[i].to {
		return xs[i]
	}
	return nil
}

// campaignAt is the best campaign of a key in force at t.
func (e *Engine) campaignAt(k custProduct, t int64) *campaignIdx {
	var best *campaignIdx
	for _, c := range e.campaigns[k] {
		if c.from <= t && t < c.to && (best == nil || c.better(best)) {
			best = c
		}
	}
	return best
}

func (e *Engine) contractAt(customer, product string, t int64) *contractIdx {
	if customer == "" {
		return nil
	}
	for _, c := range e.contracts[custProduct{customer, product}] {
		if c.from <= t && t < c.to {
			return c
		}
	}
	return nil
}
