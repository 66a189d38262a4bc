package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/billingd/billingd/internal/pricing"
	"github.com/jackc/pgx/v5"
)

const (
	sqlInsertContract = "INSERT INTO " + tableContracts + " (" + colsContract + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`
	sqlGetContract   = "SELECT " + colsContract + " FROM " + tableContracts + " WHERE id = $1"
	sqlListContracts = "SELECT " + colsContract + " FROM " + tableContracts + `
		WHERE id > $1 AND ($3 = '' OR customer_id = $3)
		  AND ($4::timestamptz IS NULL OR tstzrange(start_time, end_time) @> $4::timestamptz)
		ORDER BY id LIMIT $2`
	sqlUpdateContract = "UPDATE " + tableContracts + ` SET model = $2, committed_quantity = $3, fee = $4,
		fee_granularity = $5, overage_unit_price = $6, currency = $7, start_time = $8, end_time = $9,
		proration = $10, update_time = $11 WHERE id = $1`
	sqlDeleteContract      = "DELETE FROM " + tableContracts + " WHERE id = $1"
	sqlOverlappingContract = "SELECT " + colsContract + " FROM " + tableContracts + `
		WHERE customer_id = $1 AND product_id = $2 AND id <> $3
		  AND tstzrange(start_time, end_time) && tstzrange($4::timestamptz, $5::timestamptz)
		ORDER BY start_time, id LIMIT 1`
)

func scanContract(row pgx.CollectableRow) (pricing.Contract, error) {
	var (
		c                    pricing.Contract
		model, gran, prorate string
		end                  *time.Time
	)
	err := row.Scan(&c.ID, &c.CustomerID, &c.ProductID, &model, &c.CommittedQuantity, &c.Fee, &gran,
		&c.OverageUnitPrice, &c.Currency, &c.StartTime, &end, &prorate, &c.CreateTime, &c.UpdateTime)
	if err != nil {
		return c, err
	}
	var ok1, ok2, ok3 bool
	c.Model, ok1 = pricing.ParseContractModel(model)
	c.FeeGranularity, ok2 = pricing.ParseGranularity(gran)
	c.Proration, ok3 = pricing.ParseProration(prorate)
	if !ok1 || !ok2 || !ok3 {
		return c, fmt.Errorf("contract %q: unknown model %q, granularity %q or proration %q in database", c.ID, model, gran, prorate)
	}
	c.StartTime, c.EndTime = c.StartTime.UTC(), utcTime(end)
	c.CreateTime, c.UpdateTime = c.CreateTime.UTC(), c.UpdateTime.UTC()
	return c, nil
}

// CreateContract inserts a contract; an overlapping window is
// FailedPrecondition, a missing customer or product NotFound.
func (r *repo) CreateContract(ctx context.Context, c pricing.Contract) error {
	return r.bookExec(ctx, opWrite, target{"contract", c.ID}, sqlInsertContract,
		c.ID, c.CustomerID, c.ProductID, c.Model.String(), c.CommittedQuantity, c.Fee, c.FeeGranularity.String(),
		c.OverageUnitPrice, c.Currency, c.StartTime, nullTime(c.EndTime), c.Proration.String(), c.CreateTime, c.UpdateTime)
}

// GetContract reads a contract by id.
func (r *repo) GetContract(ctx context.Context, id string) (pricing.Contract, error) {
	rows, _ := r.q.Query(ctx, sqlGetContract, id)
	c, err := pgx.CollectExactlyOneRow(rows, scanContract)
	return c, mapErrFor(err, opRead, target{"contract", id})
}

// ListContracts reads one page of contracts in id order.
func (r *repo) ListContracts(ctx context.Context, p pricing.ListContractsParams) ([]pricing.Contract, string, error) {
	pg, err := newPage(p.PageSize, p.PageToken)
	if err != nil {
		return nil, "", err
	}
	rows, err := r.q.Query(ctx, sqlListContracts, pg.after, pg.limit+1, p.CustomerID, nullTime(p.ActiveAt))
	return collectPage(rows, err, pg, scanContract, func(c pricing.Contract) string { return c.ID })
}

// UpdateContract writes every mutable column of c.
func (r *repo) UpdateContract(ctx context.Context, c pricing.Contract) error {
	return r.bookExec(ctx, opWrite, target{"contract", c.ID}, sqlUpdateContract,
		c.ID, c.Model.String(), c.CommittedQuantity, c.Fee, c.FeeGranularity.String(), c.OverageUnitPrice,
		c.Currency, c.StartTime, nullTime(c.EndTime), c.Proration.String(), c.UpdateTime)
}

// DeleteContract deletes a contract.
func (r *repo) DeleteContract(ctx context.Context, id string) error {
	return r.bookExec(ctx, opDelete, target{"contract", id}, sqlDeleteContract, id)
}

// OverlappingContract reads the earliest other contract of c's customer and
// product whose window overlaps c's.
func (r *repo) OverlappingContract(ctx context.Context, c pricing.Contract) (pricing.Contract, bool, error) {
	rows, _ := r.q.Query(ctx, sqlOverlappingContract, c.CustomerID, c.ProductID, c.ID, c.StartTime, nullTime(c.EndTime))
	other, err := pgx.CollectExactlyOneRow(rows, scanContract)
	if errors.Is(err, pgx.ErrNoRows) {
		return other, false, nil
	}
	return other, err == nil, mapErr(err)
}
