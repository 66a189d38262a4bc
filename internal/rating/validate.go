package rating

import (
	"fmt"
	"slices"
	"time"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/money"
	"github.com/shopspring/decimal"
)

// Validate reports every problem of the catalog and price book at once, as
// an apperr invalid-argument error, or nil.
func (cfg *Config) Validate() error {
	var v apperr.Invalid
	metrics := map[string]bool{}
	for i, m := range cfg.Metrics {
		f := fmt.Sprintf("metrics[%d]", i)
		switch {
		case m.Key == "":
			v.Add(f+".key", "is empty")
		case metrics[m.Key]:
			v.Add(f+".key", "%q is repeated", m.Key)
		}
		metrics[m.Key] = true
		if m.Aggregation < AggregationSum || m.Aggregation > AggregationUniqueCount {
			v.Add(f+".aggregation", "unknown aggregation %d", m.Aggregation)
		}
		if m.Aggregation == AggregationUniqueCount && m.UniqueDimension == "" {
			v.Add(f+".unique_dimension", "is required for unique_count")
		}
	}
	checkFormulas(&v, cfg.Metrics)
	products := map[string]bool{}
	for i, p := range cfg.Products {
		f := fmt.Sprintf("products[%d]", i)
		checkID(&v, f+".id", p.ID, products)
		if !metrics[p.MetricKey] {
			v.Add(f+".metric_key", "unknown metric %q", p.MetricKey)
		}
		if p.CustomerPeak && aggregationOf(cfg.Metrics, p.MetricKey) != AggregationMax {
			v.Add(f+".customer_peak", "needs a max metric")
		}
	}
	ids := map[string]bool{}
	var entries []window
	for i, p := range cfg.Prices {
		f := fmt.Sprintf("prices[%d]", i)
		checkID(&v, f+".id", p.ID, ids)
		checkProduct(&v, f+".product_id", p.ProductID, products)
		checkCurrency(&v, f+".currency", p.Currency)
		if !p.Granularity.validForPrice() {
			v.Add(f+".granularity", "must be hour, day or month")
		}
		checkWindow(&v, f+".valid_to", p.ValidFrom, p.ValidTo)
		if p.MinimumCharge.Valid {
			checkPrice(&v, f+".minimum_charge", p.MinimumCharge.Decimal)
		}
		if p.Tiers == nil {
			checkPrice(&v, f+".unit_price", p.UnitPrice)
		} else {
			checkTiers(&v, f+".tiers", p.Tiers)
		}
		entries = append(entries, window{f, p.CustomerID, p.ProductID, p.ValidFrom, p.ValidTo})
	}
	checkOverlaps(&v, entries, "another price of the same customer and product")
	ids = map[string]bool{}
	for i, c := range cfg.Campaigns {
		f := fmt.Sprintf("campaigns[%d]", i)
		checkID(&v, f+".id", c.ID, ids)
		checkWindow(&v, f+".valid_to", c.ValidFrom, c.ValidTo)
		seen := map[string]bool{}
		for j, ce := range c.Entries {
			g := fmt.Sprintf("%s.entries[%d]", f, j)
			checkProduct(&v, g+".product_id", ce.ProductID, products)
			if seen[ce.ProductID] {
				v.Add(g+".product_id", "%q is repeated", ce.ProductID)
			}
			seen[ce.ProductID] = true
			switch {
			case ce.UnitPrice.Valid == ce.DiscountPercent.Valid:
				v.Add(g, "set exactly one of unit_price and discount_percent")
			case ce.UnitPrice.Valid:
				checkPrice(&v, g+".unit_price", ce.UnitPrice.Decimal)
				checkCurrency(&v, f+".currency", c.Currency)
			case ce.DiscountPercent.Decimal.Sign() < 0 || ce.DiscountPercent.Decimal.GreaterThan(hundred):
				v.Add(g+".discount_percent", "must be between 0 and 100")
			}
			if ce.Granularity != GranularityUnspecified && !ce.Granularity.validForPrice() {
				v.Add(g+".granularity", "must be unspecified, hour, day or month")
			}
		}
	}
	ids = map[string]bool{}
	var contracts []window
	for i, c := range cfg.Contracts {
		f := fmt.Sprintf("contracts[%d]", i)
		checkID(&v, f+".id", c.ID, ids)
		if c.CustomerID == "" {
			v.Add(f+".customer_id", "is empty")
		}
		checkProduct(&v, f+".product_id", c.ProductID, products)
		checkCurrency(&v, f+".currency", c.Currency)
		if c.Model != ContractCommitted && c.Model != ContractCommittedOverage {
			v.Add(f+".model", "must be committed or committed_overage")
		}
		checkPrice(&v, f+".fee", c.Fee)
		checkPrice(&v, f+".committed_quantity", c.CommittedQuantity)
		checkPrice(&v, f+".overage_unit_price", c.OverageUnitPrice)
		if !c.FeeGranularity.validForPrice() {
			v.Add(f+".fee_granularity", "must be hour, day or month")
		}
		if c.Proration < ProrationNone || c.Proration > ProrationHourly {
			v.Add(f+".proration", "must be none, daily or hourly")
		}
		checkWindow(&v, f+".end", c.Start, c.End)
		contracts = append(contracts, window{f, c.CustomerID, c.ProductID, c.Start, c.End})
	}
	checkOverlaps(&v, contracts, "another contract of the same customer and product")
	return v.Err()
}

func checkID(v *apperr.Invalid, field, id string, seen map[string]bool) {
	switch {
	case id == "":
		v.Add(field, "is empty")
	case seen[id]:
		v.Add(field, "%q is repeated", id)
	}
	seen[id] = true
}

func checkProduct(v *apperr.Invalid, field, id string, products map[string]bool) {
	if !products[id] {
		v.Add(field, "unknown product %q", id)
	}
}

func checkCurrency(v *apperr.Invalid, field, code string) {
	if _, ok := money.Lookup(code); !ok {
		v.Add(field, "unknown currency %q", code)
	}
}

func checkPrice(v *apperr.Invalid, field string, d decimal.Decimal) {
	if d.Sign() < 0 {
		v.Add(field, "must not be negative")
	}
}

func checkWindow(v *apperr.Invalid, field string, from, to time.Time) {
	if !to.IsZero() && !to.After(from) {
		v.Add(field, "must be after the start of the window")
	}
}

func checkTiers(v *apperr.Invalid, field string, t *Tiers) {
	if t.Mode != TierGraduated && t.Mode != TierVolume {
		v.Add(field+".mode", "must be graduated or volume")
	}
	if len(t.Tiers) == 0 {
		v.Add(field, "needs at least one tier")
		return
	}
	prev := decimal.Zero
	for i, x := range t.Tiers {
		f := fmt.Sprintf("%s[%d]", field, i)
		checkPrice(v, f+".unit_price", x.UnitPrice)
		last := i == len(t.Tiers)-1
		switch {
		case last && x.UpTo.Valid:
			v.Add(f+".up_to", "the last tier must have no bound")
		case !last && !x.UpTo.Valid:
			v.Add(f+".up_to", "only the last tier may have no bound")
		case !last && !x.UpTo.Decimal.GreaterThan(prev):
			v.Add(f+".up_to", "bounds must be positive and ascending")
		}
		if x.UpTo.Valid {
			prev = x.UpTo.Decimal
		}
	}
}

type window struct {
	field, customer, product string
	from, to                 time.Time
}

// checkOverlaps reports windows of the same customer and product that overlap.
func checkOverlaps(v *apperr.Invalid, ws []window, what string) {
	slices.SortStableFunc(ws, func(a, b window) int {
		if a.customer != b.customer {
			return cmpString(a.customer, b.customer)
		}
		if a.product != b.product {
			return cmpString(a.product, b.product)
		}
		return cmpInt(windowFrom(a.from), windowFrom(b.from))
	})
	for i := 1; i < len(ws); i++ {
		p, w := ws[i-1], ws[i]
		if p.customer == w.customer && p.product == w.product && windowFrom(w.from) < windowTo(p.to) {
			v.Add(w.field, "overlaps %s (%s)", what, p.field)
		}
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// maxPieceProblems caps the piece problems one error reports.
const maxPieceProblems = 10

// validateRequest checks req against the catalog and the instant range.
func (e *Engine) validateRequest(req *Request) error {
	var v apperr.Invalid
	p := req.Period
	if !inRange(p.From) || !inRange(p.To) {
		v.Add("period", "must lie between %s and %s", minInstant.Format(time.DateOnly), maxInstant.Format(time.DateOnly))
	} else if !p.From.Before(p.To) {
		v.Add("period.to", "must be after period.from")
	}
	bad := 0 // piece problems reported; a broken feed must not make a huge error
	for i := range req.Series {
		s := &req.Series[i]
		f := fmt.Sprintf("series[%d]", i)
		if e.metrics[s.MetricKey] == nil {
			v.Add(f+".metric_key", "unknown metric %q", s.MetricKey)
		}
		for j := 0; j < len(s.Pieces) && bad < maxPieceProblems; j++ {
			x := &s.Pieces[j]
			bad++
			switch {
			case !inRange(x.Start) || !inRange(x.End) || (!x.LastAt.IsZero() && !inRange(x.LastAt)):
				v.Add(fmt.Sprintf("%s.pieces[%d]", f, j), "instants must lie between %s and %s",
					minInstant.Format(time.DateOnly), maxInstant.Format(time.DateOnly))
			case x.End.Before(x.Start):
				v.Add(fmt.Sprintf("%s.pieces[%d].end", f, j), "is before start")
			default:
				bad--
			}
		}
	}
	return v.Err()
}

func aggregationOf(ms []Metric, key string) Aggregation {
	for _, m := range ms {
		if m.Key == key {
			return m.Aggregation
		}
	}
	return AggregationUnspecified
}

// isLevel reports whether a is the aggregation of a level.
func isLevel(a Aggregation) bool {
	return a == AggregationTimeWeightedAvg || a == AggregationMax || a == AggregationLatest
}

// checkFormulas: a derived metric aggregates a level, and its inputs are
// known levels (gauges or derived metrics) that do not lead back to it.
func checkFormulas(v *apperr.Invalid, ms []Metric) {
	byKey := map[string]*Metric{}
	for i := range ms {
		byKey[ms[i].Key] = &ms[i]
	}
	for i, m := range ms {
		if m.Formula == nil {
			continue
		}
		f := fmt.Sprintf("metrics[%d]", i)
		if !isLevel(m.Aggregation) {
			v.Add(f+".aggregation", "a derived metric must be time_weighted_avg, max or latest")
		}
		for _, in := range m.Formula.Inputs() {
			switch im := byKey[in]; {
			case im == nil:
				v.Add(f+".expression", "unknown metric %q", in)
			case !isLevel(im.Aggregation):
				v.Add(f+".expression", "%q is a %s metric; a formula reads levels (time_weighted_avg, max, latest or derived)", in, im.Aggregation)
			case leadsTo(byKey, in, m.Key, map[string]bool{}):
				v.Add(f+".expression", "%q depends on %q itself", in, m.Key)
			}
		}
	}
}

// leadsTo reports whether metric from is, or derives from, metric to.
func leadsTo(byKey map[string]*Metric, from, to string, seen map[string]bool) bool {
	if from == to {
		return true
	}
	if seen[from] {
		return false
	}
	seen[from] = true
	m := byKey[from]
	if m == nil || m.Formula == nil {
		return false
	}
	for _, in := range m.Formula.Inputs() {
		if leadsTo(byKey, in, to, seen) {
			return true
		}
	}
	return false
}
