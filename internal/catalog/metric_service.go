package catalog

import (
	"context"
	"slices"

	"github.com/billingd/billingd/internal/access"
	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/formula"
	"github.com/billingd/billingd/internal/resource"
)

const kindMetric = "metric"

// CreateMetric creates a metric whose key is its id.
func (s *Service) CreateMetric(ctx context.Context, in CreateMetricInput) (Metric, error) {
	if err := in.Validate(); err != nil {
		return Metric{}, err
	}
	m := in.Metric
	m.CreateTime = s.now()
	m.UpdateTime = m.CreateTime
	return resource.CreateOnce(ctx, s.store, in.RequestID, kindMetric, func(tx Repository) (Metric, string, error) {
		if m.Derived() {
			lookup := func(key string) (Metric, error) { return tx.GetMetric(ctx, key) }
			if _, err := compileExpression(m, lookup); err != nil {
				return m, "", err
			}
		}
		if err := tx.CreateMetric(ctx, m); err != nil {
			return m, "", err
		}
		id := m.Key
		return m, id, s.audit(ctx, tx, access.ActionCreate, kindMetric, id, nil, m)
	}, s.GetMetric)
}

// GetMetric returns the metric with this key.
func (s *Service) GetMetric(ctx context.Context, key string) (Metric, error) {
	return s.store.GetMetric(ctx, key)
}

// ListMetrics returns one page of metrics in key order and the next page's token.
func (s *Service) ListMetrics(ctx context.Context, p ListMetricsParams) ([]Metric, string, error) {
	return s.store.ListMetrics(ctx, p)
}

// UpdateMetric changes the masked fields. The aggregation (and the unique
// dimension it counts) cannot change: that would rewrite billed history, so
// a different value is FailedPrecondition.
func (s *Service) UpdateMetric(ctx context.Context, in UpdateMetricInput) (Metric, error) {
	if err := in.Validate(); err != nil {
		return Metric{}, err
	}
	var out Metric
	err := s.store.InTx(ctx, func(tx Repository) error {
		cur, err := tx.GetMetric(ctx, in.Metric.Key)
		if err != nil {
			return err
		}
		next := cur
		applyMetricMask(&next, in.Metric, in.UpdateMask)
		var v apperr.Invalid
		validateMetric(&v, next)
		if err := v.Err(); err != nil {
			return err
		}
		if next.Aggregation != cur.Aggregation || next.UniqueDimension != cur.UniqueDimension || next.Expression != cur.Expression {
			return apperr.FailedPrecondition("metric %q: aggregation, unique_dimension and expression cannot change after create (it would rewrite billed history)", cur.Key)
		}
		next.UpdateTime = s.now()
		if err := tx.UpdateMetric(ctx, next); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, access.ActionUpdate, kindMetric, next.Key, cur, next); err != nil {
			return err
		}
		out = next
		return nil
	})
	return out, err
}

// DeleteMetric deletes a metric that no product uses.
func (s *Service) DeleteMetric(ctx context.Context, key string) error {
	return s.store.InTx(ctx, func(tx Repository) error {
		cur, err := tx.GetMetric(ctx, key)
		if err != nil {
			return err
		}
		ps, _, err := tx.ListProducts(ctx, ListProductsParams{MetricKey: key, PageSize: 1})
		if err != nil {
			return err
		}
		if len(ps) > 0 {
			return apperr.FailedPrecondition("metric %q is used by product %q", key, ps[0].ID)
		}
		if d, err := derivedFrom(ctx, tx, key); err != nil || d != "" {
			if err == nil {
				err = apperr.FailedPrecondition("metric %q is an input of derived metric %q", key, d)
			}
			return err
		}
		if err := tx.DeleteMetric(ctx, key); err != nil {
			return err
		}
		return s.audit(ctx, tx, access.ActionDelete, kindMetric, key, cur, nil)
	})
}

// derivedFrom returns a derived metric that reads key, or "".
func derivedFrom(ctx context.Context, tx Repository, key string) (string, error) {
	p := ListMetricsParams{PageSize: 1000}
	for {
		ms, next, err := tx.ListMetrics(ctx, p)
		if err != nil {
			return "", err
		}
		for _, m := range ms {
			if !m.Derived() {
				continue
			}
			f, err := formula.Compile(m.Expression, nil)
			if err == nil && slices.Contains(f.Inputs(), key) {
				return m.Key, nil
			}
		}
		if next == "" {
			return "", nil
		}
		p.PageToken = next
	}
}
