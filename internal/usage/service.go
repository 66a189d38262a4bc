package usage

import (
	"context"
	"slices"
	"time"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/clock"
)

// Service validates and stores usage.
type Service struct {
	repo  Repository
	clock clock.Clock
}

// New returns a Service over repo; a nil clock means the system clock.
func New(repo Repository, c clock.Clock) *Service {
	if c == nil {
		c = clock.Real()
	}
	return &Service{repo: repo, clock: c}
}

// Ingest validates every record of a batch, stores the valid ones whose
// Identity is new in one transaction, and returns after the commit.
// A record that breaks a rule is rejected alone with its index, field and
// reason. An identity that repeats within the batch is stored from its
// first valid record; the others count as duplicates, as do records
// stored before.
//
// An empty batch or one of more than MaxBatch records is Invalid on
// "records"; a database failure is returned as is (Unavailable when
// resending is the cure) and nothing is acknowledged.
func (s *Service) Ingest(ctx context.Context, in []Input) (Result, error) {
	switch {
	case len(in) == 0:
		return Result{}, apperr.InvalidField("records", "at least one record is required")
	case len(in) > MaxBatch:
		return Result{}, apperr.InvalidField("records", "at most %d records per batch, got %d", MaxBatch, len(in))
	}
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	var res Result
	reject := func(i int, fe *FieldError) {
		res.Rejected = append(res.Rejected, Rejection{Index: i, Key: in[i].Key, Field: fe.Field, Reason: fe.Reason})
	}

	valid := make([]Record, 0, len(in))
	index := make([]int, 0, len(in)) // index[j] is the batch position of valid[j]
	var customerIDs, metricKeys []string
	seenC, seenM := map[string]bool{}, map[string]bool{}
	var memo formatMemo
	for i, x := range in {
		r, fe := check(x, now, &memo)
		if fe != nil {
			reject(i, fe)
			continue
		}
		valid, index = append(valid, r), append(index, i)
		if !seenC[r.CustomerID] {
			seenC[r.CustomerID] = true
			customerIDs = append(customerIDs, r.CustomerID)
		}
		if !seenM[r.MetricKey] {
			seenM[r.MetricKey] = true
			metricKeys = append(metricKeys, r.MetricKey)
		}
	}

	store := valid[:0] // reuses valid's array: store never overtakes the read position
	if len(valid) > 0 {
		customers, err := s.repo.KnownCustomers(ctx, customerIDs)
		if err != nil {
			return Result{}, err
		}
		metrics, err := s.repo.MetricRules(ctx, metricKeys)
		if err != nil {
			return Result{}, err
		}
		for j, r := range valid {
			if fe := checkReferences(r, customers, metrics); fe != nil {
				reject(index[j], fe)
				continue
			}
			store = append(store, r)
		}
	}
	// Rejections come in batch order whichever pass found them.
	slices.SortFunc(res.Rejected, func(a, b Rejection) int { return a.Index - b.Index })

	if len(store) > 0 {
		// Insert stores the first record of each identity once, so the
		// rest, repeated in the batch or stored before, are duplicates.
		accepted, err := s.repo.Insert(ctx, store)
		if err != nil {
			return Result{}, err
		}
		res.Accepted = accepted
		res.Duplicates = len(store) - accepted
	}
	return res, nil
}

// List returns one page of stored records; see ListParams.
func (s *Service) List(ctx context.Context, p ListParams) ([]Record, string, error) {
	var v apperr.Invalid
	if p.CustomerID != "" && !customerIDPattern.MatchString(p.CustomerID) {
		v.Add("customer_id", "must match %s", customerIDPattern)
	}
	if p.PageSize < 0 {
		v.Add("page_size", "must be ≥ 0")
	}
	if !p.From.IsZero() && !p.To.IsZero() && !p.To.After(p.From) {
		v.Add("end_time", "must be after start_time")
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	p.From, p.To = p.From.UTC(), p.To.UTC()
	return s.repo.List(ctx, p)
}
