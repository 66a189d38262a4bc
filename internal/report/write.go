package report

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/money"
	"github.com/shopspring/decimal"
)

// Options tune a report.
type Options struct {
	// CSVDelimiter is ',' (the default when zero) or ';' for spreadsheet
	// locales that use a decimal comma. Other formats ignore it.
	CSVDelimiter rune
}

// Errors a report can end with after it has started; the output written so
// far is then incomplete and must not be delivered as a file.
var (
	ErrTotalsMismatch = errors.New("report: totals do not match the lines")
	ErrLineOrder      = errors.New("report: lines are not grouped by customer in statement order")
	ErrInvalidLine    = errors.New("report: invalid line")
)

// Write renders src to w in format f, streaming: it reads each line once
// and keeps only running totals (see the package documentation for what
// each format buffers). It checks ctx between lines. On error the output is
// incomplete.
func Write(ctx context.Context, w io.Writer, f Format, src Source, opts Options) error {
	var s sink
	switch f {
	case CSV:
		d := opts.CSVDelimiter
		if d == 0 {
			d = ','
		}
		if d != ',' && d != ';' {
			return apperr.InvalidField("csv_delimiter", "must be ',' or ';', not %q", d)
		}
		s = newCSVSink(w, d)
	case XLSX:
		s = newXLSXSink(w)
	case PDF:
		s = newPDFSink(w)
	case JSON:
		s = newJSONSink(w)
	case XML:
		s = newXMLSink(w)
	default:
		return apperr.InvalidField("format", "unknown report format %d", int(f))
	}
	st := src.Statement()
	r := run{ctx: ctx, sink: s, st: &st, index: map[string]int{}}
	for i := range st.Customers {
		r.index[st.Customers[i].ID] = i
	}
	err := r.do(src)
	if cerr := s.close(); err == nil {
		err = cerr
	}
	return err
}

// sink is one format. The run calls begin, then for every customer in
// order beginCustomer, line for each of its lines and endCustomer with its
// totals, then end with the grand totals, once they are checked.
type sink interface {
	begin(st *Statement) error
	beginCustomer(c *CustomerInfo) error
	line(c *CustomerInfo, l *Line) error
	endCustomer(c *CustomerInfo, totals []Total) error
	end(totals []Total) error
	close() error // releases resources, also after an error
}

// run walks a Source for one sink: it enforces the customer order, sums the
// totals and checks them against the source's.
type run struct {
	ctx   context.Context
	sink  sink
	st    *Statement
	index map[string]int // customer id → position in st.Customers
	next  int            // first customer not begun yet
	cur   *CustomerInfo
	seen  map[string]bool // customers taken from the lines, when st.Customers is empty

	custTotals tally
	custDone   []Total // per-customer totals of the customers ended so far
	grand      tally
}

func (r *run) do(src Source) error {
	if err := r.sink.begin(r.st); err != nil {
		return err
	}
	n := 0
	for l, err := range src.Lines() {
		if err != nil {
			return err
		}
		if n++; n%256 == 0 {
			if err := r.ctx.Err(); err != nil {
				return err
			}
		}
		if err := checkLine(&l); err != nil {
			return err
		}
		if err := r.moveTo(l.CustomerID); err != nil {
			return err
		}
		r.custTotals.add(l.Currency, l.Amount)
		r.grand.add(l.Currency, l.Amount)
		if err := r.sink.line(r.cur, &l); err != nil {
			return err
		}
	}
	if err := r.endCurrent(); err != nil {
		return err
	}
	for ; r.next < len(r.st.Customers); r.next++ {
		if err := r.emptyCustomer(&r.st.Customers[r.next]); err != nil {
			return err
		}
	}
	grand := r.grand.list("")
	if err := checkTotals(src.Totals(), grand, r.custDone); err != nil {
		return err
	}
	return r.sink.end(grand)
}

// moveTo makes id the current customer, ending the previous one and
// emitting the listed customers in between, which have no lines.
func (r *run) moveTo(id string) error {
	if r.cur != nil && r.cur.ID == id {
		return nil
	}
	if len(r.st.Customers) == 0 { // customers come from the lines
		if r.seen == nil {
			r.seen = map[string]bool{}
		}
		if r.seen[id] {
			return fmt.Errorf("%w: customer %q comes again after other customers", ErrLineOrder, id)
		}
		r.seen[id] = true
		if err := r.endCurrent(); err != nil {
			return err
		}
		r.cur = &CustomerInfo{ID: id, Name: id}
		return r.sink.beginCustomer(r.cur)
	}
	i, ok := r.index[id]
	switch {
	case !ok:
		return fmt.Errorf("%w: customer %q is not in the statement", ErrLineOrder, id)
	case i < r.next:
		return fmt.Errorf("%w: customer %q comes again after other customers", ErrLineOrder, id)
	}
	if err := r.endCurrent(); err != nil {
		return err
	}
	for ; r.next < i; r.next++ {
		if err := r.emptyCustomer(&r.st.Customers[r.next]); err != nil {
			return err
		}
	}
	r.next = i + 1
	r.cur = &r.st.Customers[i]
	return r.sink.beginCustomer(r.cur)
}

func (r *run) endCurrent() error {
	if r.cur == nil {
		return nil
	}
	t := r.custTotals.list(r.cur.ID)
	r.custDone = append(r.custDone, t...)
	r.custTotals = tally{}
	c := r.cur
	r.cur = nil
	return r.sink.endCustomer(c, t)
}

func (r *run) emptyCustomer(c *CustomerInfo) error {
	if err := r.sink.beginCustomer(c); err != nil {
		return err
	}
	return r.sink.endCustomer(c, nil)
}

var knownModels = []string{ModelCommitted, ModelPAYG, ModelOverage, ModelMinimum, ModelAdjustment}

var knownGranularities = []string{"", GranularityHour, GranularityDay, GranularityMonth, GranularityPeriod}

// checkLine rejects what no format could write faithfully.
func checkLine(l *Line) error {
	var bad []string
	if l.CustomerID == "" {
		bad = append(bad, "no customer id")
	}
	if !slices.Contains(knownModels, l.Model) {
		bad = append(bad, fmt.Sprintf("unknown model %q", l.Model))
	}
	if (l.Model == ModelAdjustment) != (l.AdjustedMonth != "") ||
		!slices.Contains([]string{"", CauseLateUsage, CausePriceChange}, l.AdjustmentCause) {
		bad = append(bad, fmt.Sprintf("adjustment fields %q %q do not fit model %q", l.AdjustedMonth, l.AdjustmentCause, l.Model))
	}
	if !slices.Contains(knownGranularities, l.Granularity) {
		bad = append(bad, fmt.Sprintf("unknown granularity %q", l.Granularity))
	}
	if !isCurrencyCode(l.Currency) {
		bad = append(bad, fmt.Sprintf("currency %q is not an ISO 4217 code", l.Currency))
	}
	if l.Start.IsZero() || l.End.IsZero() {
		bad = append(bad, "no start or end time")
	}
	if bad == nil {
		return nil
	}
	return fmt.Errorf("%w of customer %q, product %q: %s", ErrInvalidLine, l.CustomerID, l.ProductID, strings.Join(bad, ", "))
}

func isCurrencyCode(s string) bool {
	return len(s) == 3 && !strings.ContainsFunc(s, func(r rune) bool { return r < 'A' || r > 'Z' })
}

// checkTotals compares the source's totals, if any, with the sums of the
// lines: grand totals as a set, per-customer totals one by one.
func checkTotals(given, grand, perCustomer []Total) error {
	if given == nil {
		return nil
	}
	type key struct{ customer, currency string }
	sums := map[key]Total{}
	for _, t := range grand {
		sums[key{"", t.Currency}] = t
	}
	for _, t := range perCustomer {
		sums[key{t.CustomerID, t.Currency}] = t
	}
	var bad []string
	grandGiven := 0
	for _, g := range given {
		if g.CustomerID == "" {
			grandGiven++
		}
		s, ok := sums[key{g.CustomerID, g.Currency}]
		if !ok && g.Amount.IsZero() && g.Lines == 0 {
			continue
		}
		if !ok || !s.Amount.Equal(g.Amount) || s.Lines != g.Lines {
			bad = append(bad, fmt.Sprintf("%s %s: source says %s in %d lines, lines sum to %s in %d",
				customerLabel(g.CustomerID), g.Currency, g.Amount, g.Lines, s.Amount, s.Lines))
		}
	}
	if grandGiven > 0 {
		for _, t := range grand {
			if !slices.ContainsFunc(given, func(g Total) bool { return g.CustomerID == "" && g.Currency == t.Currency }) {
				bad = append(bad, fmt.Sprintf("total %s: lines sum to %s, source has no total", t.Currency, t.Amount))
			}
		}
	}
	if bad != nil {
		return fmt.Errorf("%w: %s", ErrTotalsMismatch, strings.Join(bad, "; "))
	}
	return nil
}

func customerLabel(id string) string {
	if id == "" {
		return "total"
	}
	return "customer " + id
}

// tally sums amounts and counts lines per currency.
type tally struct {
	sums []Total // few currencies: a slice beats a map
}

func (t *tally) add(currency string, amount decimal.Decimal) {
	for i := range t.sums {
		if t.sums[i].Currency == currency {
			t.sums[i].Amount = t.sums[i].Amount.Add(amount)
			t.sums[i].Lines++
			return
		}
	}
	t.sums = append(t.sums, Total{Currency: currency, Amount: amount, Lines: 1})
}

// list returns the totals ordered by currency code.
func (t *tally) list(customer string) []Total {
	out := slices.Clone(t.sums)
	for i := range out {
		out[i].CustomerID = customer
	}
	slices.SortFunc(out, func(a, b Total) int { return strings.Compare(a.Currency, b.Currency) })
	return out
}

// formatAmount writes an amount with exactly its currency's minor units
// ("12.30 EUR", "5 JPY"), or as is if it has more decimals than that (it
// would not have been rounded by the rating engine, and a report must not
// round it silently).
func formatAmount(currency string, d decimal.Decimal) string {
	if c, ok := money.Lookup(currency); ok && d.Equal(d.Round(c.Scale)) {
		return c.Format(d)
	}
	return d.String()
}

// currencyScale is the currency's number of minor units, 2 when unknown.
func currencyScale(currency string) int32 {
	if c, ok := money.Lookup(currency); ok {
		return c.Scale
	}
	return 2
}
