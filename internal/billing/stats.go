package billing

import (
	"context"
	"time"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/rating"
	"github.com/billingd/billingd/internal/resource"
)

// Stats counts the billing results of a month, a number providers watch.
type Stats struct {
	Month string // "YYYY-MM"
	// ProductAtoms: distinct (customer, metric) pairs with usage records
	// that start in the month.
	ProductAtoms int64
	// ProductsRated: distinct (customer, product) pairs with billing lines.
	ProductsRated int64
	// BillingResults: lines at monthly granularity grouped by customer,
	// product and model (and, as always, price): what an invoice lists.
	BillingResults int64
	// UsageRecords: records that start in the month.
	UsageRecords int64
	// Customers: customers with at least one billing line in the month.
	Customers int64
}

// Stats rates month ("YYYY-MM", in each customer's billing time zone) for
// one customer, or every customer when customerID is "", and counts.
func (s *Service) Stats(ctx context.Context, month, customerID string) (Stats, error) {
	var v apperr.Invalid
	m := resource.CheckMonth(&v, "month", month)
	if err := v.Err(); err != nil {
		return Stats{}, err
	}
	var ids []string
	if customerID != "" {
		ids = []string{customerID}
	}
	r, custs, err := s.load(ctx, ids)
	if err != nil {
		return Stats{}, err
	}
	jobs, err := newJobs(r, custs, func(loc *time.Location) (time.Time, time.Time) {
		from := time.Date(m.Year(), m.Month(), 1, 0, 0, 0, 0, loc)
		return from, from.AddDate(0, 1, 0)
	})
	if err != nil {
		return Stats{}, err
	}
	st := Stats{Month: month}
	g := rating.Grouping{Keys: []rating.GroupKey{rating.GroupCustomer, rating.GroupProduct, rating.GroupModel}, Granularity: rating.GranularityMonth}
	err = s.each(ctx, r, jobs, g, func(_ *job, p part) error {
		st.BillingResults += int64(len(p.lines))
		products := map[string]bool{}
		for _, l := range p.lines {
			products[l.ProductID] = true
		}
		st.ProductsRated += int64(len(products))
		if len(p.lines) > 0 {
			st.Customers++
		}
		return nil
	})
	if err != nil {
		return Stats{}, err
	}
	ws := make([]UsageWindow, len(jobs))
	for i, j := range jobs {
		ws[i] = UsageWindow{CustomerID: j.c.ID, From: j.from, To: j.to, Metrics: r.keys}
	}
	n, err := s.store.CountUsage(ctx, ws)
	if err != nil {
		return Stats{}, err
	}
	st.UsageRecords, st.ProductAtoms = n.Records, n.Atoms
	return st, nil
}
