package rating

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/billingd/billingd/internal/money"
	"github.com/shopspring/decimal"
)

// Config is the catalog and price book the engine rates with. New copies
// it deeply; the caller may change or reuse it afterwards.
type Config struct {
	Metrics   []Metric
	Products  []Product
	Prices    []PriceEntry
	Campaigns []Campaign
	Contracts []Contract
}

// Engine rates usage against a catalog and price book. It is immutable
// after New and safe for concurrent use.
type Engine struct {
	metrics   map[string]*Metric
	products  map[string]*Product
	inOrder   []*Product                     // the products in catalog order
	byMetric  map[string][]*Product          // in catalog order
	entries   map[custProduct][]*entryIdx    // sorted by start; CustomerID "" is the default list
	campaigns map[custProduct][]*campaignIdx // campaigns with an entry for the product
	contracts map[custProduct][]*contractIdx
	byCust    map[string][]*contractIdx // in config order
	derived   []*Metric                 // metrics with a formula, each after its derived inputs
	inputs    map[string]bool           // metrics a formula reads
	minimums  map[string]bool           // products with a minimum charge in some entry
}

type contractIdx struct {
	c        *Contract
	from, to int64
	cur      money.Currency
	product  *Product
}

// New validates cfg and indexes it.
func New(cfg Config) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e := &Engine{
		metrics: map[string]*Metric{}, products: map[string]*Product{}, byMetric: map[string][]*Product{},
		entries: map[custProduct][]*entryIdx{}, campaigns: map[custProduct][]*campaignIdx{},
		contracts: map[custProduct][]*contractIdx{}, byCust: map[string][]*contractIdx{},
		minimums: map[string]bool{},
	}
	for _, m := range cfg.Metrics {
		e.metrics[m.Key] = &m
	}
	e.derived = derivedOrder(cfg.Metrics, e.metrics)
	e.inputs = map[string]bool{}
	for _, m := range e.derived {
		for _, in := range m.Formula.Inputs() {
			e.inputs[in] = true
		}
	}
	for _, p := range cfg.Products {
		p.DimensionFilter = maps.Clone(p.DimensionFilter)
		e.products[p.ID] = &p
		e.inOrder = append(e.inOrder, &p)
		e.byMetric[p.MetricKey] = append(e.byMetric[p.MetricKey], &p)
	}
	for _, p := range cfg.Prices {
		if p.Tiers != nil {
			t := *p.Tiers
			t.Tiers = slices.Clone(t.Tiers)
			p.Tiers = &t
		}
		cur, _ := money.Lookup(p.Currency)
		if p.MinimumCharge.Valid {
			e.minimums[p.ProductID] = true
		}
		k := custProduct{p.CustomerID, p.ProductID}
		e.entries[k] = append(e.entries[k], &entryIdx{e: &p, from: windowFrom(p.ValidFrom), to: windowTo(p.ValidTo), cur: cur})
	}
	for _, xs := range e.entries {
		slices.SortFunc(xs, func(a, b *entryIdx) int { return cmpInt(a.from, b.from) })
	}
	for _, c := range cfg.Campaigns {
		c.Entries = slices.Clone(c.Entries)
		cur, _ := money.Lookup(c.Currency)
		ci := &campaignIdx{c: &c, from: windowFrom(c.ValidFrom), to: windowTo(c.ValidTo), cur: cur, entries: map[string]*CampaignEntry{}}
		for i := range c.Entries {
			ce := &c.Entries[i]
			ci.entries[ce.ProductID] = ce
			k := custProduct{c.CustomerID, ce.ProductID}
			e.campaigns[k] = append(e.campaigns[k], ci)
		}
	}
	for _, c := range cfg.Contracts {
		cur, _ := money.Lookup(c.Currency)
		ki := &contractIdx{c: &c, from: windowFrom(c.Start), to: windowTo(c.End), cur: cur, product: e.products[c.ProductID]}
		k := custProduct{c.CustomerID, c.ProductID}
		e.contracts[k] = append(e.contracts[k], ki)
		e.byCust[c.CustomerID] = append(e.byCust[c.CustomerID], ki)
	}
	return e, nil
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Request is the usage of one customer over a period.
type Request struct {
	CustomerID string
	Location   *time.Location // billing time zone; nil means UTC
	Period     Period
	Series     []Series
}

// Summary is what a rating run returns besides its lines.
type Summary struct {
	Totals   []Total // per currency: Σ of the rounded line amounts
	Unpriced []UnpricedUsage
	Lines    int // number of lines emitted
	// Rated counts the (series, product) pairs rated: the number of "billing
	// results" a provider watches.
	Rated int
}

// Result is a complete rating: lines plus their summary.
type Result struct {
	Lines []Line
	Summary
}

// Rate rates req and returns every line.
func (e *Engine) Rate(req Request) (*Result, error) {
	// Lines are gathered in chunks and copied once into a slice of the
	// exact size: growing one slice by append would copy a month of hourly
	// lines dozens of times.
	var chunks [][]Line
	chunk := make([]Line, 0, 256)
	sum, err := e.RateFunc(req, func(l Line) error {
		if len(chunk) == cap(chunk) {
			chunks = append(chunks, chunk)
			chunk = make([]Line, 0, min(2*cap(chunk), 1<<16))
		}
		chunk = append(chunk, l)
		return nil
	})
	if err != nil {
		return nil, err
	}
	res := &Result{Lines: make([]Line, 0, sum.Lines), Summary: sum}
	for _, c := range append(chunks, chunk) {
		res.Lines = append(res.Lines, c...)
	}
	return res, nil
}

// RateFunc rates req and hands each line to emit as it is made, so that a
// large result can be streamed; an error from emit stops the run and is
// returned. Lines come per series (in input order) and product (in catalog
// order) in time order, then customer-level tiered lines, then contract lines.
func (e *Engine) RateFunc(req Request, emit func(Line) error) (Summary, error) {
	if err := e.validateRequest(&req); err != nil {
		return Summary{}, err
	}
	r := &run{
		e: e, customer: req.CustomerID, loc: req.Location, emit: emit,
		from: nanos(req.Period.From), to: nanos(req.Period.To),
		timelines: map[string][]segment{}, byProduct: map[string][]*seriesIndex{},
		seen: map[string]struct{}{}, tiered: map[tierKey]*tierSum{}, billed: map[monthOf]decimal.Decimal{},
	}
	if r.loc == nil {
		r.loc = time.UTC
	}
	if err := r.rate(req.Series); err != nil {
		return Summary{}, err
	}
	r.sum.Totals = r.totals.list()
	sortUnpriced(r.sum.Unpriced)
	return r.sum, nil
}

// sortUnpriced puts unpriced usage in an order of its own (metric,
// product, resource, dimensions, time), not the order the series came
// in, which depends on how storage read them (raw records or rollups).
func sortUnpriced(us []UnpricedUsage) {
	type keyed struct {
		u    UnpricedUsage
		dims string
	}
	ks := make([]keyed, len(us))
	for i, u := range us {
		pairs := make([]string, 0, len(u.Dimensions))
		for k, v := range u.Dimensions {
			pairs = append(pairs, k+"\x00"+v)
		}
		slices.Sort(pairs)
		ks[i] = keyed{u, strings.Join(pairs, "\x01")}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int {
		return cmp.Or(
			strings.Compare(a.u.MetricKey, b.u.MetricKey), strings.Compare(a.u.ProductID, b.u.ProductID),
			strings.Compare(a.u.ResourceID, b.u.ResourceID), strings.Compare(a.dims, b.dims),
			a.u.Start.Compare(b.u.Start), cmp.Compare(a.u.Reason, b.u.Reason), strings.Compare(a.u.ContractID, b.u.ContractID),
		)
	})
	for i := range ks {
		us[i] = ks[i].u
	}
}

// derivedOrder lists the derived metrics so that each comes after the
// derived metrics it reads (Validate has refused cycles).
func derivedOrder(ms []Metric, byKey map[string]*Metric) []*Metric {
	var out []*Metric
	done := map[string]bool{}
	var visit func(m *Metric)
	visit = func(m *Metric) {
		if m == nil || m.Formula == nil || done[m.Key] {
			return
		}
		done[m.Key] = true
		for _, in := range m.Formula.Inputs() {
			visit(byKey[in])
		}
		out = append(out, m)
	}
	for _, m := range ms {
		visit(byKey[m.Key])
	}
	return out
}
