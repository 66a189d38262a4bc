package billing

import (
	"context"
	"slices"
	"time"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/catalog"
	"github.com/billingd/billingd/internal/customer"
	"github.com/billingd/billingd/internal/rating"
	"github.com/billingd/billingd/internal/resource"
)

// Summary is what a query returns besides its lines.
type Summary struct {
	Totals   []Total
	Unpriced []rating.UnpricedUsage
}

// Query rates q and returns every line, the totals and unpriced usage.
func (s *Service) Query(ctx context.Context, q Query) (Result, error) {
	var lines []Line
	sum, err := s.QueryFunc(ctx, q, func(ls []Line) error {
		if lines == nil {
			lines = ls
		} else {
			lines = append(lines, ls...)
		}
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	return Result{Lines: lines, Totals: sum.Totals, Unpriced: sum.Unpriced}, nil
}

// QueryFunc rates q and hands its lines to emit in batches, in the order
// Query returns them. When lines are grouped by customer (or q names one
// customer) each customer's lines are handed over as soon as they and
// those of the customers before them are rated, so a large result never
// sits in memory whole; otherwise lines of different customers may merge
// and are handed over at the end. An error from emit stops the query.
func (s *Service) QueryFunc(ctx context.Context, q Query, emit func([]Line) error) (Summary, error) {
	p, err := s.Prepare(ctx, q)
	if err != nil {
		return Summary{}, err
	}
	return p.Run(ctx, emit)
}

// Validate reports every problem of q at once.
func (q Query) Validate() error {
	var v apperr.Invalid
	switch {
	case q.Month != "" && (!q.From.IsZero() || !q.To.IsZero()):
		v.Add("month", "give month or start_time and end_time, not both")
	case q.Month != "":
		resource.CheckMonth(&v, "month", q.Month) // the bounds of stats and ClosePeriod
	case q.From.IsZero() && q.To.IsZero():
		v.Add("start_time", "is required with end_time, or give month (\"YYYY-MM\", each customer's month in its billing time zone)")
	case q.From.IsZero():
		v.Add("start_time", "is required with end_time")
	case q.To.IsZero():
		v.Add("end_time", "is required with start_time")
	case !q.To.After(q.From):
		v.Add("end_time", "must be after start_time")
	case q.To.Sub(q.From) > maxPeriod:
		v.Add("end_time", "the period may be at most 366 days long")
	case q.From.Before(resource.FirstInstant) || q.To.After(resource.EndInstant):
		v.Add("period", "must lie between 1970-01-01 and 2200-01-01 (UTC)")
	}
	if q.Granularity < rating.GranularityUnspecified || q.Granularity > rating.GranularityPeriod {
		v.Add("granularity", "unknown granularity %d", q.Granularity)
	}
	for i, k := range q.GroupBy {
		if k <= rating.GroupUnspecified || k > rating.GroupModel {
			v.Add("group_by", "unknown key %d at %d", k, i)
		}
	}
	for _, d := range q.GroupByDimensions {
		if d == "" {
			v.Add("group_by_dimensions", "must not contain an empty key")
		}
	}
	return v.Err()
}

const maxPeriod = 366 * 24 * time.Hour

// period is the window q rates for a customer in time zone loc: its month
// there, or the instants given. q is valid.
func (q Query) period(loc *time.Location) (time.Time, time.Time) {
	if q.Month == "" {
		return q.From, q.To
	}
	from, to, _ := MonthBounds(q.Month, loc)
	return from, to
}

// load reads the price book's version and the customers a query is
// about, and takes the book's rater from the cache or reads and builds it
// (see bookCache); an id that names no customer is NotFound.
func (s *Service) load(ctx context.Context, ids []string) (*rater, []customer.Customer, error) {
	v, err := s.store.BookVersion(ctx)
	if err != nil {
		return nil, nil, err
	}
	r, err := s.books.get(ctx, v, s.liveRater)
	if err != nil {
		return nil, nil, err
	}
	custs, err := s.store.Customers(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	if len(ids) > 0 && len(custs) != len(ids) {
		found := make(map[string]bool, len(custs))
		for _, c := range custs {
			found[c.ID] = true
		}
		for _, id := range ids {
			if !found[id] {
				return nil, nil, apperr.NotFound("customer", id)
			}
		}
	}
	return r, custs, nil
}

// liveRater reads the live price book and builds its rater; it returns
// the book's version.
func (s *Service) liveRater(ctx context.Context) (*rater, int64, error) {
	b, v, err := s.store.Book(ctx)
	if err != nil {
		return nil, 0, err
	}
	r, err := newRater(b)
	return r, v, err
}

// job is one customer to rate over [from, to), in its billing currency cur.
type job struct {
	c        customer.Customer
	loc      *time.Location
	from, to time.Time
	cur      string
	closed   *closedState // nil: the customer has no closed month
}

// newJobs makes the jobs of custs, each over period(its time zone). A
// customer whose billing currency the book leaves open, or whose contracts
// or campaigns are in another, fails them all: the query then fails.
func newJobs(r *rater, custs []customer.Customer, period func(*time.Location) (time.Time, time.Time)) ([]job, error) {
	locs := map[string]*time.Location{}
	jobs := make([]job, len(custs))
	for i, c := range custs {
		loc, ok := locs[c.BillingTimeZone]
		if !ok {
			var err error
			if loc, err = customerLocation(c); err != nil {
				return nil, err
			}
			locs[c.BillingTimeZone] = loc
		}
		from, to := period(loc)
		cur, err := r.currencyFor(c.ID, from, to)
		if err != nil {
			return nil, err
		}
		jobs[i] = job{c: c, loc: loc, from: from, to: to, cur: cur}
	}
	return jobs, nil
}

// customerLocation is c's billing time zone; empty means UTC.
func customerLocation(c customer.Customer) (*time.Location, error) {
	tz := c.BillingTimeZone
	if tz == "" {
		tz = "UTC"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, apperr.Wrap(apperr.KindInternal, err, "customer %q: unknown billing time zone %q", c.ID, tz)
	}
	return loc, nil
}

// commonLocation is the time zone lines of several customers are bucketed
// in when they may merge: the customers' billing time zone if they share
// one, else UTC.
func commonLocation(jobs []job) *time.Location {
	if len(jobs) == 0 {
		return time.UTC
	}
	loc := jobs[0].loc
	for _, j := range jobs[1:] {
		if j.loc.String() != loc.String() {
			return time.UTC
		}
	}
	return loc
}

// part is the rated, grouped and sorted result of one job.
type part struct {
	lines    []rating.Line
	unpriced []rating.UnpricedUsage
	adjust   []Adjustment // after the lines, ungrouped
	desc     *rater       // describes the lines when not the live book
}

// each rates every job, s.workers at a time, and hands the parts to
// consume in job order.
func (s *Service) each(ctx context.Context, r *rater, jobs []job, g rating.Grouping, consume func(*job, part) error) error {
	return ordered(ctx, len(jobs), s.workers, func(ctx context.Context, i int) (part, error) {
		return s.rate(ctx, r, &jobs[i], g)
	}, func(i int, p part) error { return consume(&jobs[i], p) })
}

// rate reads one customer's usage, rates it with the engine of its billing
// currency and groups its lines; a grouping without a location buckets in
// the customer's time zone. Closed months in the window are rated from
// what they froze, and adjustments booked in the window are added (see
// periods.go).
func (s *Service) rate(ctx context.Context, r *rater, j *job, g rating.Grouping) (part, error) {
	if g.Location == nil {
		g.Location = j.loc
	}
	pm := newPremerger(g, g.Location)
	var (
		p    part
		segs = []segment{{from: j.from, to: j.to}}
		pool = !slices.Contains(g.Keys, rating.GroupResource)
	)
	if j.closed != nil {
		segs = j.closed.segments(j.from, j.to)
	}
	for _, sg := range segs {
		if sg.p != nil { // frozen: its lines are kept (cache.go)
			cl, err := s.closedSegment(ctx, j, sg, g, pool)
			if err != nil {
				return part{}, err
			}
			for _, l := range cl.lines {
				_ = pm.add(l) // never fails
			}
			p.unpriced = append(p.unpriced, cl.unpriced...)
			if len(segs) == 1 { // a closed month alone keeps the names it was closed with
				if p.desc, err = s.frozen(ctx, j.closed, sg.p); err != nil {
					return part{}, err
				}
			}
			continue
		}
		unpriced, err := s.rateSegment(ctx, r, j.cur, j.c.ID, j.loc, sg.from, sg.to, s.store.ScanUsage, pool, pm.add)
		if err != nil {
			return part{}, err
		}
		p.unpriced = append(p.unpriced, unpriced...)
	}
	lines, err := rating.GroupLines(pm.lines(), g)
	if err != nil {
		return part{}, err
	}
	sortLines(lines, g.Dimensions)
	p.lines = lines
	if j.closed != nil {
		if p.adjust, err = s.adjustments(ctx, r, j); err != nil {
			return part{}, err
		}
	}
	return p, ctx.Err()
}

// usageScan reads usage for a window (Store.ScanUsage or a frozen read).
type usageScan func(ctx context.Context, w UsageWindow, fn func(*UsageRow) error) error

func (s *Service) frozenScan(periodID string) usageScan {
	return func(ctx context.Context, w UsageWindow, fn func(*UsageRow) error) error {
		return s.store.ScanFrozenUsage(ctx, periodID, w, fn)
	}
}

// rateSegment reads the usage of [from, to) with scan and rates it with
// r's engine of currency cur, handing the lines to emit; pool as rateEach.
func (s *Service) rateSegment(ctx context.Context, r *rater, cur, customerID string, loc *time.Location,
	from, to time.Time, scan usageScan, pool bool, emit func(rating.Line) error) ([]rating.UnpricedUsage, error) {
	unpriced, err := s.rateEach(ctx, []rateWith{{r, cur, emit}}, customerID, loc, from, to, scan, pool)
	if err != nil {
		return nil, err
	}
	return unpriced[0], nil
}

// rateWith is one price book to rate a segment with.
type rateWith struct {
	r    *rater
	cur  string
	emit func(rating.Line) error
}

// rateEach reads the usage of [from, to) once and rates it with each book,
// so that every rating sees the same records (one snapshot). A book gets
// the records of the metrics its catalog has, and the samples carried from
// before the period only for the metrics that are gauges in it.
//
// pool says the lines are grouped without their resource, so the series of
// a linear metric (sum, time-weighted average) that differ only in resource
// are rated as one pool: its quantity in a granule is the sum of theirs,
// a time-weighted average divided once for the pool rather than once per
// resource, and the store may hand it over as pooled hours, whose number
// does not grow with the resources. Unpriced usage names its resource, so
// when a pool has some the usage is rated again per resource for it.
func (s *Service) rateEach(ctx context.Context, books []rateWith, customerID string, loc *time.Location,
	from, to time.Time, scan usageScan, pool bool) ([][]rating.UnpricedUsage, error) {
	out, err := s.rateOnce(ctx, books, customerID, loc, from, to, scan, pool)
	if err != nil || !pool || !pooledUnpriced(out) {
		return out, err
	}
	quiet := make([]rateWith, len(books))
	for i, bk := range books {
		quiet[i] = rateWith{bk.r, bk.cur, func(rating.Line) error { return nil }}
	}
	return s.rateOnce(ctx, quiet, customerID, loc, from, to, scan, false)
}

// pooledUnpriced reports whether some unpriced usage is of a pool (a
// series without a resource: a resource's own series always has one).
func pooledUnpriced(unpriced [][]rating.UnpricedUsage) bool {
	for _, us := range unpriced {
		for _, u := range us {
			if u.ResourceID == "" {
				return true
			}
		}
	}
	return false
}

// rateOnce reads and rates as rateEach does, once; it tells the store
// whether hourly aggregates rate like the records (UsageWindow.Aligned:
// for every book) and which metrics it may hand over pooled.
func (s *Service) rateOnce(ctx context.Context, books []rateWith, customerID string, loc *time.Location,
	from, to time.Time, scan usageScan, pool bool) ([][]rating.UnpricedUsage, error) {
	// The engine rates instants from 1970 on; so does the lookback.
	lookback := min(Lookback, from.Sub(time.Unix(0, 0)))
	w := UsageWindow{CustomerID: customerID, From: from, To: to, Lookback: lookback}
	builders := make([]*seriesBuilder, len(books))
	w.Aligned = true
	for _, bk := range books {
		pool = pool && !bk.r.raw
		w.Aligned = w.Aligned && bk.r.cuts.hourAligned(customerID, loc, from, to, lookback)
	}
	for i, bk := range books {
		builders[i] = newSeriesBuilder(bk.r, from, to, pool)
		w.Metrics, w.Gauges = union(w.Metrics, bk.r.keys), union(w.Gauges, bk.r.gauges)
		w.Raw = w.Raw || bk.r.raw
		if !pool {
			continue
		}
		if i == 0 {
			w.Pool = bk.r.pooled
		} else { // pooled hours only of what every book pools
			w.Pool = slices.DeleteFunc(slices.Clone(w.Pool), func(k string) bool { return !slices.Contains(bk.r.pooled, k) })
		}
	}
	add := builders[0].add
	if len(books) > 1 {
		add = func(u *UsageRow) error {
			carried := !u.End.After(u.Start) && u.Start.Before(from)
			for i, b := range builders {
				m := books[i].r.metrics[string(u.MetricKey)]
				if m == nil || carried && m.Aggregation.Kind() != catalog.KindGauge {
					continue
				}
				if err := b.add(u); err != nil {
					return err
				}
			}
			return nil
		}
	}
	if err := scan(ctx, w, add); err != nil {
		return nil, err
	}
	out := make([][]rating.UnpricedUsage, len(books))
	for i, bk := range books {
		sum, err := bk.r.engines[bk.cur].RateFunc(rating.Request{CustomerID: customerID, Location: loc, Period: rating.Period{From: from, To: to}, Series: builders[i].build()}, bk.emit)
		if err != nil {
			return nil, err
		}
		out[i] = sum.Unpriced
	}
	return out, nil
}

// union returns a with the elements of b it lacks, in order.
func union(a, b []string) []string {
	if len(a) == 0 {
		return b
	}
	out := slices.Clone(a)
	for _, x := range b {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}
