package billing

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/billingd/billingd/internal/rating"
)

// attachClosed loads the closed months of the jobs' customers (ids as the
// query named them; empty: every customer) and the adjustments booked in them.
func (s *Service) attachClosed(ctx context.Context, jobs []job, ids []string) error {
	periods, err := s.store.ClosedPeriods(ctx, ids)
	if err != nil || len(periods) == 0 {
		return err
	}
	by := closedByCustomer(periods)
	for i := range jobs {
		cs := by[jobs[i].c.ID]
		if cs == nil {
			continue
		}
		if cs.booked, err = s.store.BookedAdjustments(ctx, jobs[i].c.ID); err != nil {
			return err
		}
		jobs[i].closed = cs
	}
	return nil
}

// adjustments returns the adjustment lines booked in j's window: those
// frozen with closed months that start in it, and those a change since
// closing posts now to open months that start in it.
func (s *Service) adjustments(ctx context.Context, r *rater, j *job) ([]Adjustment, error) {
	cs := j.closed
	in := func(t time.Time) bool { return !t.Before(j.from) && t.Before(j.to) }
	// Today's book hash is the same for every month: hash it once, and only
	// when a month needs it.
	live := sync.OnceValues(func() (string, error) { return HashBook(CustomerBook(r.book, j.c.ID)) })
	var out []Adjustment
	for i := range cs.periods {
		p := &cs.periods[i]
		if in(p.From) {
			for _, b := range cs.booked {
				if b.PeriodID == p.ID {
					out = append(out, b.Adjustment)
				}
			}
		}
		if from, to := cs.bookingMonth(p, j.loc); in(from) {
			adj, err := s.pending(ctx, r, live, j, p, from, to)
			if err != nil {
				return nil, err
			}
			out = append(out, adj...)
		}
	}
	return out, nil
}

// adjustmentGrouping is the level adjustments are computed at: per product
// and price over the whole closed month.
var adjustmentGrouping = []rating.GroupKey{rating.GroupCustomer, rating.GroupProduct}

// pending computes what closed month p needs posted now to the open month
// [from, to): the late-usage and price-change differences since closing,
// less what was booked for p in later closed months. live returns the hash
// of r's book for j's customer.
func (s *Service) pending(ctx context.Context, r *rater, live func() (string, error), j *job, p *ClosedPeriod, from, to time.Time) ([]Adjustment, error) {
	cs := j.closed
	var posted []Adjustment
	for _, b := range cs.booked {
		if b.AdjustedMonth == p.Month {
			posted = append(posted, b.Adjustment)
		}
	}
	liveHash, err := live()
	if err != nil {
		return nil, err
	}
	priced := liveHash != p.BookHash
	if p.LateRecords == 0 && !priced && len(posted) == 0 {
		return nil, nil // nothing changed: the common case costs no rating
	}
	fr, err := s.frozen(ctx, cs, p)
	if err != nil {
		return nil, err
	}
	// month rates p's month with each book from one read of scan's usage:
	// with today's usage, U (frozen book) and L (today's book) see the same
	// records, so a record committed meanwhile cannot fall between them.
	month := func(scan usageScan, books ...*rater) ([][]rating.Line, error) {
		g := rating.Grouping{Keys: adjustmentGrouping, Granularity: rating.GranularityPeriod, Location: j.loc}
		with := make([]rateWith, len(books))
		pms := make([]*premerger, len(books))
		for i, rr := range books {
			cur, err := rr.currencyFor(j.c.ID, p.From, p.To)
			if err != nil {
				return nil, err
			}
			pms[i] = newPremerger(g, j.loc)
			with[i] = rateWith{rr, cur, pms[i].add}
		}
		if _, err := s.rateEach(ctx, with, j.c.ID, j.loc, p.From, p.To, scan, true); err != nil { // by product: no resource
			return nil, err
		}
		out := make([][]rating.Line, len(books))
		for i, pm := range pms {
			lines, err := rating.GroupLines(pm.lines(), g)
			if err != nil {
				return nil, err
			}
			sortLines(lines, nil)
			out[i] = lines
		}
		return out, nil
	}
	// F is rated from frozen inputs only: its lines are kept (cache.go).
	g := rating.Grouping{Keys: adjustmentGrouping, Granularity: rating.GranularityPeriod, Location: j.loc}
	f, err := s.closedSegment(ctx, j, segment{from: p.From, to: p.To, p: p}, g, true) // by product: pooled, as month
	if err != nil {
		return nil, err
	}
	frozen, err := rating.GroupLines(f.lines, g) // a copy: the kept lines stay as they are
	if err != nil {
		return nil, err
	}
	sortLines(frozen, nil)
	books := []*rater{fr}
	if priced {
		books = append(books, r)
	}
	ul, err := month(s.store.ScanUsage, books...)
	if err != nil {
		return nil, err
	}
	withLate, today := ul[0], ul[len(ul)-1]
	d := newDescriber(r)
	post := func(cause AdjustmentCause, now, before []rating.Line) []Adjustment {
		var booked []Adjustment
		for _, a := range posted {
			if a.AdjustmentCause == cause {
				booked = append(booked, a)
			}
		}
		return d.adjustments(diffLines(now, before, booked), p.Month, cause, j.c.ID, from, to)
	}
	out := post(CauseLateUsage, withLate, frozen)
	return append(out, post(CausePriceChange, today, withLate)...), nil
}

// priceKey identifies the lines one adjustment nets: the product and its
// price, whatever the resource or time.
type priceKey struct {
	product, group                       string
	model                                rating.Model
	entry, list, campaign, contract, cur string
	tier                                 int
	price                                string
}

func keyOf(l *rating.Line, model rating.Model) priceKey {
	return priceKey{l.ProductID, l.GroupID, model, l.PriceEntryID, l.PriceListID, l.CampaignID, l.ContractID, l.Currency, l.Tier, l.UnitPrice.String()}
}

// net is one key's difference: a template line and Δquantity, Δamount.
type net struct {
	line   rating.Line
	model  rating.Model
	q, amt decimal.Decimal
}

// diffLines nets now − before − booked per priceKey and returns the keys
// that differ, in a deterministic order. Amounts are differences of
// rounded amounts, so they are exact to the cent and never rounded again.
func diffLines(now, before []rating.Line, booked []Adjustment) []net {
	by := map[priceKey]*net{}
	var order []priceKey
	add := func(l *rating.Line, model rating.Model, sign int64) {
		k := keyOf(l, model)
		n := by[k]
		if n == nil {
			n = &net{line: *l, model: model}
			by[k] = n
			order = append(order, k)
		}
		s := decimal.NewFromInt(sign)
		n.q = n.q.Add(l.Quantity.Mul(s))
		n.amt = n.amt.Add(l.Amount.Mul(s))
	}
	for i := range now {
		add(&now[i], now[i].Model, 1)
	}
	for i := range before {
		add(&before[i], before[i].Model, -1)
	}
	for i := range booked {
		add(&booked[i].Line.Line, booked[i].OriginalModel, -1)
	}
	var out []net
	for _, k := range order {
		if n := by[k]; !n.q.IsZero() || !n.amt.IsZero() {
			out = append(out, *n)
		}
	}
	slices.SortStableFunc(out, func(a, b net) int {
		if c := cmp.Compare(a.line.GroupID, b.line.GroupID); c != 0 {
			return c
		}
		if c := cmp.Compare(a.line.ProductID, b.line.ProductID); c != 0 {
			return c
		}
		if c := cmp.Compare(a.model, b.model); c != 0 {
			return c
		}
		// the reversal at an old price before the charge at a new one
		return a.amt.Cmp(b.amt)
	})
	return out
}

// adjustments turns netted differences into described adjustment lines
// booked over [from, to).
func (d *describer) adjustments(ns []net, month string, cause AdjustmentCause, customerID string, from, to time.Time) []Adjustment {
	out := make([]Adjustment, 0, len(ns))
	for _, n := range ns {
		l := n.line
		l.CustomerID, l.Model, l.Granularity = customerID, rating.ModelAdjustment, rating.GranularityMonth
		l.Start, l.End = from, to
		l.Quantity, l.Amount = n.q, n.amt
		l.ResourceID, l.Dimensions = "", nil
		a := Adjustment{OriginalModel: n.model, Line: d.line(l, n.model)}
		a.Description = "Adjustment to " + month + " (" + cause.String() + "): " + a.Description
		a.AdjustedMonth, a.AdjustmentCause = month, cause
		out = append(out, a)
	}
	return out
}

// adjustmentLines returns the lines of as; ratingLines their engine lines.
func adjustmentLines(as []Adjustment) []Line {
	out := make([]Line, len(as))
	for i := range as {
		out[i] = as[i].Line
	}
	return out
}

func ratingLines(ls []Line) []rating.Line {
	out := make([]rating.Line, len(ls))
	for i := range ls {
		out[i] = ls[i].Line
	}
	return out
}

// Adjustments returns the adjustment lines a query of customerID over
// [from, to) shows now; package period freezes them when it closes the
// month that starts at from.
func (s *Service) Adjustments(ctx context.Context, customerID string, from, to time.Time) ([]Adjustment, error) {
	r, custs, err := s.load(ctx, []string{customerID})
	if err != nil {
		return nil, err
	}
	jobs, err := newJobs(r, custs, func(*time.Location) (time.Time, time.Time) { return from, to })
	if err != nil {
		return nil, err
	}
	if err := s.attachClosed(ctx, jobs, []string{customerID}); err != nil {
		return nil, err
	}
	if jobs[0].closed == nil {
		return nil, nil
	}
	return s.adjustments(ctx, r, &jobs[0])
}
