package rating

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Line is one billing line: Quantity × UnitPrice over [Start, End), with
// Amount = the currency's rounding of Quantity × UnitPrice, rounded once
// (the lines of one cut or tiered granule as one running total, so each is
// within a minor unit of its product; see the package doc). Every line has
// exactly one unit price and names where it came from.
type Line struct {
	CustomerID  string
	ProductID   string
	GroupID     string
	Model       Model
	Granularity Granularity // the rating (or fee) granule
	Start, End  time.Time   // the rated sub-interval, in the billing time zone
	// Quantity is exact, except that time-weighted averages, proration
	// fractions and shares of a cut granule are quotients rounded to
	// RatioPlaces. For a committed fee it is
	// the covered fraction of the fee granule (1 for a whole granule).
	Quantity  decimal.Decimal
	UnitPrice decimal.Decimal
	Amount    decimal.Decimal
	Currency  string

	PriceEntryID string // the list entry the price comes from, if any
	PriceListID  string
	CampaignID   string // the campaign(s) that set the price, joined by "+" when stacked
	ContractID   string // set on committed and overage lines, and on excess over a plain commitment
	Tier         int    // 1-based tier of a tiered price; 0 when not tiered

	// Grouping keys carried from the series; empty on customer-level lines
	// (committed, overage, tiered).
	ResourceID string
	Dimensions map[string]string // shared with the series and other lines; read only
}

// Organisation, VDC and Site read the well-known dimensions.
func (l *Line) Organisation() string { return l.Dimensions[DimOrganisation] }
func (l *Line) VDC() string          { return l.Dimensions[DimVDC] }
func (l *Line) Site() string         { return l.Dimensions[DimSite] }

// Total is the sum of the (rounded) line amounts of one currency.
type Total struct {
	Currency string
	Amount   decimal.Decimal
}

// Totals sums line amounts per currency, ordered by currency code. The sum
// of rounded amounts is exact and is never rounded again.
func Totals(lines []Line) []Total {
	var t totals
	for i := range lines {
		t.add(lines[i].Currency, lines[i].Amount)
	}
	return t.list()
}

// totals sums amounts per currency. Line amounts are rounded to the
// currency's minor unit, so most fit an int64 of minor units: those are
// added as integers, without allocating, and the rest as decimals.
type totals struct {
	byCurrency map[string]*currencyTotal
	last       *currencyTotal
}

type currencyTotal struct {
	code   string
	exp    int32           // exponent of the integer sum
	lo, hi decimal.Decimal // amounts strictly between are added as integers
	small  int64
	rest   decimal.Decimal
}

const smallBound = 1_000_000_000_000_000 // 1e15 minor units per amount; 4e18 per sum

func (t *totals) add(cur string, amount decimal.Decimal) {
	c := t.last
	if c == nil || c.code != cur {
		if c = t.byCurrency[cur]; c == nil {
			if t.byCurrency == nil {
				t.byCurrency = map[string]*currencyTotal{}
			}
			e := amount.Exponent()
			c = &currencyTotal{code: cur, exp: e, lo: decimal.New(-smallBound, e), hi: decimal.New(smallBound, e)}
			t.byCurrency[cur] = c
		}
		t.last = c
	}
	if amount.Exponent() == c.exp && amount.Cmp(c.hi) < 0 && amount.Cmp(c.lo) > 0 {
		c.small += amount.CoefficientInt64()
		if c.small > 4*smallBound*1000 || c.small < -4*smallBound*1000 {
			c.rest = c.rest.Add(decimal.New(c.small, c.exp))
			c.small = 0
		}
		return
	}
	c.rest = c.rest.Add(amount)
}

func (t *totals) list() []Total {
	out := make([]Total, 0, len(t.byCurrency))
	for _, c := range t.byCurrency {
		out = append(out, Total{Currency: c.code, Amount: c.rest.Add(decimal.New(c.small, c.exp))})
	}
	slices.SortFunc(out, func(a, b Total) int { return strings.Compare(a.Currency, b.Currency) })
	return out
}

// UnpricedReason says why usage could not be rated.
type UnpricedReason int32

const (
	UnpricedUnspecified UnpricedReason = iota
	// UnpricedNoPrice: a product matched, but no price was in force.
	UnpricedNoPrice
	// UnpricedNoProduct: no product of the catalog sells the series' metric.
	UnpricedNoProduct
	// UnpricedNoMatchingProduct: products sell the metric, but none whose
	// dimension filter matches the series (e.g. a storage policy no
	// product names).
	UnpricedNoMatchingProduct
)

func (r UnpricedReason) String() string {
	switch r {
	case UnpricedNoPrice:
		return "no_price"
	case UnpricedNoProduct:
		return "no_product"
	case UnpricedNoMatchingProduct:
		return "no_matching_product"
	default:
		return "unspecified"
	}
}

// UnpricedUsage is usage that produced no line. It is reported once per
// series, product and unpriced interval, with the interval as its granule
// (a time-weighted average is over the interval).
type UnpricedUsage struct {
	CustomerID string
	ProductID  string // "" for UnpricedNoProduct and UnpricedNoMatchingProduct
	MetricKey  string
	ResourceID string
	Dimensions map[string]string
	Start, End time.Time
	Quantity   decimal.Decimal
	Reason     UnpricedReason
	ContractID string // set for excess over a plain commitment that had no price
}

// Description says in words why u produced no line, for a person reading a
// bill: which metric no product sells, or which product no price covered
// when (in the customer's time zone, which Start and End are in).
func (u UnpricedUsage) Description() string {
	switch u.Reason {
	case UnpricedNoProduct:
		return "no product sells metric " + u.MetricKey
	case UnpricedNoMatchingProduct:
		return "no product of " + u.MetricKey + " matches these dimensions"
	case UnpricedNoPrice:
		when := u.Start.Format("2006-01-02 15:04 MST") + " to " + u.End.Format("2006-01-02 15:04 MST")
		if u.Start.Format("MST") == u.End.Format("MST") {
			when = u.Start.Format("2006-01-02 15:04") + " to " + u.End.Format("2006-01-02 15:04 MST")
		}
		if u.ContractID != "" {
			return fmt.Sprintf("usage of product %s above the commitment of contract %s: no price covers it from %s", u.ProductID, u.ContractID, when)
		}
		return fmt.Sprintf("no price of product %s covers %s", u.ProductID, when)
	}
	return "not rated"
}
