package usage

import (
	"context"
	"fmt"
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
// A record that breaks rules is rejected alone with its index and every
// problem (the first field, a reason naming them all, and the list). An
// identity that repeats within the batch is stored from its first valid
// record; the others count as duplicates, as do records stored before.
//
// An empty batch or one of more than MaxBatch records is Invalid on
// "records"; a database failure is returned as is (Unavailable when
// resending is the cure) and nothing is acknowledged.
func (s *Service) Ingest(ctx context.Context, in []Input) (Result, error) {
	store, rejected, err := s.sort(ctx, in)
	if err != nil {
		return Result{}, err
	}
	return s.store(ctx, store, rejected)
}

// maxAtomicViolations bounds the problems an atomic batch's error lists,
// so that its status fits in a response trailer.
const maxAtomicViolations = 100

// IngestAll is Ingest all or nothing: when any record breaks a rule, it
// stores none and returns Invalid with a violation for every problem
// ("records[3].quantity"; at most 100, then a count of the rest).
func (s *Service) IngestAll(ctx context.Context, in []Input) (Result, error) {
	store, rejected, err := s.sort(ctx, in)
	if err != nil {
		return Result{}, err
	}
	if len(rejected) > 0 {
		var v apperr.Invalid
		n := 0
		for _, r := range rejected {
			for _, p := range r.Problems {
				if n++; n <= maxAtomicViolations {
					v.Add(fmt.Sprintf("records[%d].%s", r.Index, p.Field), "%s", p.Reason)
				}
			}
		}
		if n > maxAtomicViolations {
			v.Add("records", "%d more problems not listed", n-maxAtomicViolations)
		}
		return Result{}, v.Err()
	}
	return s.store(ctx, store, nil)
}

// sort validates a batch and returns the records to store and the
// rejections, in batch order.
func (s *Service) sort(ctx context.Context, in []Input) ([]Record, []Rejection, error) {
	switch {
	case len(in) == 0:
		return nil, nil, apperr.InvalidField("records", "at least one record is required")
	case len(in) > MaxBatch:
		return nil, nil, apperr.InvalidField("records", "at most %d records per batch, got %d", MaxBatch, len(in))
	}
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	var rejected []Rejection
	recs := make([]Record, len(in))
	problems := make([][]FieldError, len(in))
	var customerIDs, metricKeys []string
	seenC, seenM := map[string]bool{}, map[string]bool{}
	var memo formatMemo
	for i, x := range in {
		recs[i], problems[i] = check(x, now, &memo)
		if !referencesCheckable(recs[i], problems[i]) {
			continue
		}
		if r := recs[i]; !seenC[r.CustomerID] {
			seenC[r.CustomerID] = true
			customerIDs = append(customerIDs, r.CustomerID)
		}
		if r := recs[i]; !seenM[r.MetricKey] {
			seenM[r.MetricKey] = true
			metricKeys = append(metricKeys, r.MetricKey)
		}
	}

	// The catalog is asked about every well-formed customer and metric,
	// also of records that are bad otherwise, so a rejection is complete.
	var customers map[string]bool
	var metrics map[string]MetricRule
	if len(customerIDs) > 0 {
		var err error
		if customers, err = s.repo.KnownCustomers(ctx, customerIDs); err != nil {
			return nil, nil, err
		}
		if metrics, err = s.repo.MetricRules(ctx, metricKeys); err != nil {
			return nil, nil, err
		}
	}
	store := make([]Record, 0, len(in))
	for i, r := range recs {
		if referencesCheckable(r, problems[i]) {
			problems[i] = sortedByField(append(problems[i], checkReferences(r, customers, metrics)...))
		}
		if len(problems[i]) > 0 {
			rejected = append(rejected, rejection(i, in[i].Key, problems[i]))
			continue
		}
		store = append(store, r)
	}
	return store, rejected, nil
}

// store inserts the valid records of a batch in one transaction.
func (s *Service) store(ctx context.Context, store []Record, rejected []Rejection) (Result, error) {
	res := Result{Rejected: rejected}
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
