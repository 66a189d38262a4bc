package report

import (
	"iter"
	"time"

	"github.com/shopspring/decimal"
)

// Statement describes a report: who it is for and which query produced it.
type Statement struct {
	Provider    string // provider name, shown on the PDF
	GeneratedAt time.Time
	From, To    time.Time // the period [From, To); with Month, the span of every customer's month
	// Month, when set ("YYYY-MM"), is the period by name: each customer's
	// own month in its billing time zone (see Period).
	Month       string
	Granularity string   // GranularityHour … GranularityPeriod
	GroupBy     []string // the requested keys, e.g. ["customer", "product"]
	// Customers in the order their lines come. Empty: the customers are
	// taken from the lines as they come, named by their ids.
	Customers []CustomerInfo
}

// Period is the period of a customer in time zone loc: its month there
// when st.Month is set, else [From, To).
func (st *Statement) Period(loc *time.Location) (time.Time, time.Time) {
	if st.Month == "" {
		return st.From, st.To
	}
	m, err := time.ParseInLocation("2006-01", st.Month, loc)
	if err != nil {
		return st.From, st.To
	}
	return m, m.AddDate(0, 1, 0)
}

// CustomerInfo names a customer on the report.
type CustomerInfo struct {
	ID         string
	Name       string
	ExternalID string
	TimeZone   string // IANA billing time zone; empty means UTC
}

// Billing models of a line, as the billing service names them.
const (
	ModelPAYG       = "payg"
	ModelCommitted  = "committed"
	ModelOverage    = "overage"
	ModelAdjustment = "adjustment"
	ModelMinimum    = "minimum" // tops a product's month up to its minimum charge
)

// Causes of an adjustment line.
const (
	CauseLateUsage   = "late_usage"
	CausePriceChange = "price_change"
)

// Granularities of a line or a statement.
const (
	GranularityHour   = "hour"
	GranularityDay    = "day"
	GranularityMonth  = "month"
	GranularityPeriod = "period"
)

// Line is one billing line, exactly as QueryBilling returns it, plus the
// product and product group names a person reads.
type Line struct {
	CustomerID       string
	OrganisationID   string
	VdcID            string
	Site             string
	ResourceID       string
	ProductGroupID   string
	ProductGroupName string
	ProductID        string
	ProductName      string
	MetricKey        string
	Dimensions       map[string]string
	Model            string // ModelPAYG, ModelCommitted, ModelOverage or ModelAdjustment
	Granularity      string
	Start, End       time.Time
	Quantity         decimal.Decimal
	Unit             string
	UnitPrice        decimal.Decimal
	Amount           decimal.Decimal // already rounded to the currency's minor unit
	Currency         string
	PriceListID      string
	PriceID          string
	CampaignID       string
	ContractID       string
	Description      string
	// Set on adjustment lines: the closed month corrected ("YYYY-MM") and
	// why, as the API names it ("late_usage", "price_change").
	AdjustedMonth   string
	AdjustmentCause string
}

// Total is the sum of the line amounts of one currency, for one customer
// or, with CustomerID "", for the whole report.
type Total struct {
	CustomerID string
	Currency   string
	Amount     decimal.Decimal
	Lines      int64
}

// Source is a billing result read once, in order.
//
// Lines yields the lines grouped by customer, customers in the order of
// Statement.Customers; within a customer any order (the PDF sorts each
// customer's lines by product group and model itself). A non-nil error ends
// the report with that error.
//
// Totals is called after Lines is exhausted. The writers sum the lines
// themselves and fail with ErrTotalsMismatch if any total returned here
// (grand totals with CustomerID "", or per customer) differs; returning nil
// skips the check.
type Source interface {
	Statement() Statement
	Lines() iter.Seq2[Line, error]
	Totals() []Total
}

// SliceSource is a Source over lines already in memory, e.g. one
// QueryBilling response.
func SliceSource(st Statement, lines []Line, totals []Total) Source {
	return sliceSource{st: st, lines: lines, totals: totals}
}

type sliceSource struct {
	st     Statement
	lines  []Line
	totals []Total
}

func (s sliceSource) Statement() Statement { return s.st }
func (s sliceSource) Totals() []Total      { return s.totals }
func (s sliceSource) Lines() iter.Seq2[Line, error] {
	return func(yield func(Line, error) bool) {
		for _, l := range s.lines {
			if !yield(l, nil) {
				return
			}
		}
	}
}
