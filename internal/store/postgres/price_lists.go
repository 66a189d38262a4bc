package postgres

import (
	"context"
	"errors"

	"github.com/billingd/billingd/internal/pricing"
	"github.com/jackc/pgx/v5"
)

const (
	sqlInsertPriceList = "INSERT INTO " + tablePriceLists + ` (id, display_name, currency, customer_id, create_time, update_time)
		VALUES ($1, $2, $3, $4, $5, $6)`
	sqlGetPriceList   = "SELECT " + colsPriceList + " FROM " + tablePriceLists + " WHERE id = $1"
	sqlListPriceLists = "SELECT " + colsPriceList + " FROM " + tablePriceLists + `
		WHERE id > $1 AND ($3 = '' OR customer_id = $3) AND (NOT $4 OR customer_id IS NULL)
		ORDER BY id LIMIT $2`
	sqlUpdatePriceList = "UPDATE " + tablePriceLists + " SET display_name = $2, update_time = $3 WHERE id = $1"
	sqlDeletePriceList = "DELETE FROM " + tablePriceLists + " WHERE id = $1"
	sqlFindPriceList   = "SELECT " + colsPriceList + " FROM " + tablePriceLists + `
		WHERE customer_id IS NOT DISTINCT FROM $1 AND currency = $2`
)

func scanPriceList(row pgx.CollectableRow) (pricing.PriceList, error) {
	var l pricing.PriceList
	err := row.Scan(&l.ID, &l.DisplayName, &l.Currency, &l.CustomerID, &l.CreateTime, &l.UpdateTime)
	l.CreateTime, l.UpdateTime = l.CreateTime.UTC(), l.UpdateTime.UTC()
	return l, err
}

// CreatePriceList inserts a price list; a second list of the same owner and
// currency is AlreadyExists, a missing customer NotFound.
func (r *repo) CreatePriceList(ctx context.Context, l pricing.PriceList) error {
	return r.bookExec(ctx, opWrite, target{"price list", l.ID}, sqlInsertPriceList,
		l.ID, l.DisplayName, l.Currency, nullString(l.CustomerID), l.CreateTime, l.UpdateTime)
}

// GetPriceList reads a price list by id.
func (r *repo) GetPriceList(ctx context.Context, id string) (pricing.PriceList, error) {
	rows, _ := r.q.Query(ctx, sqlGetPriceList, id)
	l, err := pgx.CollectExactlyOneRow(rows, scanPriceList)
	return l, mapErrFor(err, opRead, target{"price list", id})
}

// ListPriceLists reads one page of price lists in id order.
func (r *repo) ListPriceLists(ctx context.Context, p pricing.ListPriceListsParams) ([]pricing.PriceList, string, error) {
	pg, err := newPage(p.PageSize, p.PageToken)
	if err != nil {
		return nil, "", err
	}
	rows, err := r.q.Query(ctx, sqlListPriceLists, pg.after, pg.limit+1, p.CustomerID, p.DefaultOnly)
	return collectPage(rows, err, pg, scanPriceList, func(l pricing.PriceList) string { return l.ID })
}

// UpdatePriceList writes every mutable column of l.
func (r *repo) UpdatePriceList(ctx context.Context, l pricing.PriceList) error {
	return r.bookExec(ctx, opWrite, target{"price list", l.ID}, sqlUpdatePriceList, l.ID, l.DisplayName, l.UpdateTime)
}

// DeletePriceList deletes a price list; prices in it make this FailedPrecondition.
func (r *repo) DeletePriceList(ctx context.Context, id string) error {
	return r.bookExec(ctx, opDelete, target{"price list", id}, sqlDeletePriceList, id)
}

// FindPriceList reads the list of an owner ("" = default) in a currency.
func (r *repo) FindPriceList(ctx context.Context, customerID, currency string) (pricing.PriceList, bool, error) {
	rows, _ := r.q.Query(ctx, sqlFindPriceList, nullString(customerID), currency)
	l, err := pgx.CollectExactlyOneRow(rows, scanPriceList)
	if errors.Is(err, pgx.ErrNoRows) {
		return l, false, nil
	}
	return l, err == nil, mapErr(err)
}
