package postgres

import (
	"context"
	"fmt"

	"github.com/billingd/billingd/internal/catalog"
	"github.com/jackc/pgx/v5"
)

const (
	sqlInsertMetric = "INSERT INTO " + tableMetrics + " (" + colsMetric + ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
	sqlGetMetric    = "SELECT " + colsMetric + " FROM " + tableMetrics + " WHERE key = $1"
	sqlListMetrics  = "SELECT " + colsMetric + " FROM " + tableMetrics + " WHERE key > $1 ORDER BY key LIMIT $2"
	sqlUpdateMetric = "UPDATE " + tableMetrics + ` SET display_name = $2, description = $3, unit = $4,
		aggregation = $5, unique_dimension = $6, update_time = $7 WHERE key = $1`
	sqlDeleteMetric = "DELETE FROM " + tableMetrics + " WHERE key = $1"
)

func scanMetric(row pgx.CollectableRow) (catalog.Metric, error) {
	var m catalog.Metric
	var agg string
	err := row.Scan(&m.Key, &m.DisplayName, &m.Description, &m.Unit, &agg, &m.UniqueDimension, &m.CreateTime, &m.UpdateTime, &m.Expression)
	if err != nil {
		return m, err
	}
	var ok bool
	if m.Aggregation, ok = catalog.ParseAggregation(agg); !ok {
		return m, fmt.Errorf("metric %q: unknown aggregation %q in database", m.Key, agg)
	}
	m.CreateTime, m.UpdateTime = m.CreateTime.UTC(), m.UpdateTime.UTC()
	return m, nil
}

// CreateMetric inserts a metric.
func (r *repo) CreateMetric(ctx context.Context, m catalog.Metric) error {
	return r.bookExec(ctx, opWrite, target{"metric", m.Key}, sqlInsertMetric,
		m.Key, m.DisplayName, m.Description, m.Unit, m.Aggregation.String(), m.UniqueDimension, m.CreateTime, m.UpdateTime, m.Expression)
}

// GetMetric reads a metric by key.
func (r *repo) GetMetric(ctx context.Context, key string) (catalog.Metric, error) {
	rows, _ := r.q.Query(ctx, sqlGetMetric, key)
	m, err := pgx.CollectExactlyOneRow(rows, scanMetric)
	return m, mapErrFor(err, opRead, target{"metric", key})
}

// ListMetrics reads one page of metrics in key order.
func (r *repo) ListMetrics(ctx context.Context, p catalog.ListMetricsParams) ([]catalog.Metric, string, error) {
	pg, err := newPage(p.PageSize, p.PageToken)
	if err != nil {
		return nil, "", err
	}
	rows, err := r.q.Query(ctx, sqlListMetrics, pg.after, pg.limit+1)
	return collectPage(rows, err, pg, scanMetric, func(m catalog.Metric) string { return m.Key })
}

// UpdateMetric writes every mutable column of m.
func (r *repo) UpdateMetric(ctx context.Context, m catalog.Metric) error {
	return r.bookExec(ctx, opWrite, target{"metric", m.Key}, sqlUpdateMetric,
		m.Key, m.DisplayName, m.Description, m.Unit, m.Aggregation.String(), m.UniqueDimension, m.UpdateTime)
}

// DeleteMetric deletes a metric; a product using it makes this FailedPrecondition.
func (r *repo) DeleteMetric(ctx context.Context, key string) error {
	return r.bookExec(ctx, opDelete, target{"metric", key}, sqlDeleteMetric, key)
}
