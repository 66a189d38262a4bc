package billing

import (
	"context"
	"slices"
	"time"

	"github.com/billingd/billingd/internal/catalog"
	"github.com/billingd/billingd/internal/customer"
	"github.com/billingd/billingd/internal/rating"
)

// Prepared is a query whose price book, customers and closed months have
// been read, ready to Run. A report takes the customers' and products'
// names and the as-of time from it, so an export reads each once.
type Prepared struct {
	s    *Service
	q    Query
	r    *rater
	jobs []job
}

// Prepare validates q and reads what rating it needs besides usage: the
// price book, the customers (an id that names none is NotFound) and their
// closed months.
func (s *Service) Prepare(ctx context.Context, q Query) (*Prepared, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	r, custs, err := s.load(ctx, q.CustomerIDs)
	if err != nil {
		return nil, err
	}
	jobs, err := newJobs(r, custs, q.period)
	if err != nil {
		return nil, err
	}
	if err := s.attachClosed(ctx, jobs, q.CustomerIDs); err != nil {
		return nil, err
	}
	return &Prepared{s: s, q: q, r: r, jobs: jobs}, nil
}

// Customers are the query's customers, as read for it.
func (pq *Prepared) Customers() []customer.Customer {
	out := make([]customer.Customer, len(pq.jobs))
	for i := range pq.jobs {
		out[i] = pq.jobs[i].c
	}
	return out
}

// Product is the catalog's product id as of the query's price book; nil
// when it has none.
func (pq *Prepared) Product(id string) *catalog.Product { return pq.r.products[id] }

// FrozenAsOf reports whether every customer of the query has only closed
// months in its window, and then the latest of their closing times: the
// instant the result is as of, which reports print instead of the time
// they were generated, so that a closed month's report is the same file
// whenever it is made.
func (pq *Prepared) FrozenAsOf() (time.Time, bool) {
	var asOf time.Time
	for i := range pq.jobs {
		j := &pq.jobs[i]
		if j.closed == nil {
			return time.Time{}, false
		}
		for _, sg := range j.closed.segments(j.from, j.to) {
			if sg.p == nil {
				return time.Time{}, false
			}
			if sg.p.CloseTime.After(asOf) {
				asOf = sg.p.CloseTime
			}
		}
	}
	return asOf, len(pq.jobs) > 0
}

// Run rates the prepared query and hands its lines to emit, as QueryFunc.
func (pq *Prepared) Run(ctx context.Context, emit func([]Line) error) (Summary, error) {
	r, jobs, q := pq.r, pq.jobs, pq.q
	g := rating.Grouping{Keys: q.GroupBy, Dimensions: q.GroupByDimensions, Granularity: q.Granularity}
	perCustomer := slices.Contains(q.GroupBy, rating.GroupCustomer) || len(jobs) == 1
	if !perCustomer {
		g.Location = commonLocation(jobs)
	}
	var (
		tot      totals
		unpriced []rating.UnpricedUsage
		merged   []rating.Line
		adjusted []Line // adjustments, when lines of customers merge
	)
	d := newDescriber(r)
	err := pq.s.each(ctx, r, jobs, g, func(j *job, p part) error {
		unpriced = append(unpriced, p.unpriced...)
		adj := adjustmentLines(p.adjust)
		tot.add(ratingLines(adj))
		if !perCustomer {
			merged = append(merged, p.lines...)
			adjusted = append(adjusted, adj...)
			return nil
		}
		if len(jobs) == 1 {
			for i := range p.lines {
				p.lines[i].CustomerID = j.c.ID // unambiguous, whatever the grouping
			}
		}
		tot.add(p.lines)
		if len(p.lines)+len(adj) == 0 {
			return nil
		}
		pd := d
		if p.desc != nil {
			pd = newDescriber(p.desc)
		}
		return emit(append(pd.describe(p.lines), adj...))
	})
	if err != nil {
		return Summary{}, err
	}
	if !perCustomer && len(merged)+len(adjusted) > 0 {
		// Each customer's lines are grouped already; this pass merges
		// lines of different customers that agree on every key.
		if merged, err = rating.GroupLines(merged, g); err != nil {
			return Summary{}, err
		}
		sortLines(merged, g.Dimensions)
		tot.add(merged)
		if err := emit(append(d.describe(merged), adjusted...)); err != nil {
			return Summary{}, err
		}
	}
	return Summary{Totals: tot.list(), Unpriced: unpriced}, nil
}
