package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/billingd/billingd/internal/pricing"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

const (
	sqlInsertPrice = "INSERT INTO " + tablePrices + " (" + colsPrice + ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
	sqlGetPrice    = "SELECT " + colsPrice + " FROM " + tablePrices + " WHERE price_list_id = $1 AND id = $2"
	sqlListPrices  = "SELECT " + colsPrice + " FROM " + tablePrices + `
		WHERE price_list_id = $3 AND id > $1 AND ($4 = '' OR product_id = $4)
		  AND ($5::timestamptz IS NULL OR tstzrange(valid_from, valid_to) @> $5::timestamptz)
		ORDER BY id LIMIT $2`
	sqlUpdatePrice = "UPDATE " + tablePrices + ` SET unit_price = $3, granularity = $4, valid_from = $5, valid_to = $6,
		tier_mode = $7, tiers = $8, update_time = $9, minimum_charge = $10 WHERE price_list_id = $1 AND id = $2`
	sqlDeletePrice      = "DELETE FROM " + tablePrices + " WHERE price_list_id = $1 AND id = $2"
	sqlOverlappingPrice = "SELECT " + colsPrice + " FROM " + tablePrices + `
		WHERE price_list_id = $1 AND product_id = $2 AND id <> $3
		  AND tstzrange(valid_from, valid_to) && tstzrange($4::timestamptz, $5::timestamptz)
		ORDER BY valid_from, id LIMIT 1`
	sqlMissingProducts = `SELECT u.id FROM unnest($1::text[]) WITH ORDINALITY AS u(id, n)
		WHERE NOT EXISTS (SELECT 1 FROM ` + tableProducts + ` p WHERE p.id = u.id) ORDER BY u.n`
)

// tierJSON is a tier in the tiers jsonb column: decimals as strings, an
// absent up_to for the unbounded last tier.
type tierJSON struct {
	UpTo      string `json:"up_to,omitempty"`
	UnitPrice string `json:"unit_price"`
}

func tiersToJSON(ts []pricing.Tier) []tierJSON {
	out := make([]tierJSON, len(ts))
	for i, t := range ts {
		out[i].UnitPrice = t.UnitPrice.String()
		if !t.UpTo.IsZero() {
			out[i].UpTo = t.UpTo.String()
		}
	}
	return out
}

func tiersFromJSON(js []tierJSON) ([]pricing.Tier, error) {
	if len(js) == 0 {
		return nil, nil
	}
	out := make([]pricing.Tier, len(js))
	for i, j := range js {
		var err error
		if out[i].UnitPrice, err = decimal.NewFromString(j.UnitPrice); err != nil {
			return nil, fmt.Errorf("tier %d unit_price: %w", i, err)
		}
		if j.UpTo != "" {
			if out[i].UpTo, err = decimal.NewFromString(j.UpTo); err != nil {
				return nil, fmt.Errorf("tier %d up_to: %w", i, err)
			}
		}
	}
	return out, nil
}

func scanPrice(row pgx.CollectableRow) (pricing.Price, error) {
	var (
		p              pricing.Price
		gran, mode     string
		validTo        *time.Time
		tiers          []tierJSON
		okGran, okMode bool
	)
	err := row.Scan(&p.PriceListID, &p.ID, &p.ProductID, &p.UnitPrice, &gran, &p.ValidFrom, &validTo, &mode, &tiers, &p.CreateTime, &p.UpdateTime, &p.MinimumCharge)
	if err != nil {
		return p, err
	}
	p.Granularity, okGran = pricing.ParseGranularity(gran)
	p.TierMode, okMode = pricing.ParseTierMode(mode)
	if !okGran || !okMode {
		return p, fmt.Errorf("price %q: unknown granularity %q or tier mode %q in database", p.ID, gran, mode)
	}
	if p.Tiers, err = tiersFromJSON(tiers); err != nil {
		return p, fmt.Errorf("price %q: %w", p.ID, err)
	}
	p.ValidFrom, p.ValidTo = p.ValidFrom.UTC(), utcTime(validTo)
	p.CreateTime, p.UpdateTime = p.CreateTime.UTC(), p.UpdateTime.UTC()
	return p, nil
}

func priceTarget(listID, id string) target { return target{"price", listID + "/" + id} }

// CreatePrice inserts a price; an overlapping window is FailedPrecondition,
// a missing list or product NotFound.
func (r *repo) CreatePrice(ctx context.Context, p pricing.Price) error {
	return r.bookExec(ctx, opWrite, priceTarget(p.PriceListID, p.ID), sqlInsertPrice,
		p.PriceListID, p.ID, p.ProductID, p.UnitPrice, p.Granularity.String(), p.ValidFrom, nullTime(p.ValidTo),
		p.TierMode.String(), tiersToJSON(p.Tiers), p.CreateTime, p.UpdateTime, p.MinimumCharge)
}

// GetPrice reads one price of a list.
func (r *repo) GetPrice(ctx context.Context, priceListID, id string) (pricing.Price, error) {
	rows, _ := r.q.Query(ctx, sqlGetPrice, priceListID, id)
	p, err := pgx.CollectExactlyOneRow(rows, scanPrice)
	return p, mapErrFor(err, opRead, priceTarget(priceListID, id))
}

// ListPrices reads one page of a list's prices in id order.
func (r *repo) ListPrices(ctx context.Context, p pricing.ListPricesParams) ([]pricing.Price, string, error) {
	pg, err := newPage(p.PageSize, p.PageToken)
	if err != nil {
		return nil, "", err
	}
	rows, err := r.q.Query(ctx, sqlListPrices, pg.after, pg.limit+1, p.PriceListID, p.ProductID, nullTime(p.ValidAt))
	return collectPage(rows, err, pg, scanPrice, func(p pricing.Price) string { return p.ID })
}

// UpdatePrice writes every mutable column of p.
func (r *repo) UpdatePrice(ctx context.Context, p pricing.Price) error {
	return r.bookExec(ctx, opWrite, priceTarget(p.PriceListID, p.ID), sqlUpdatePrice,
		p.PriceListID, p.ID, p.UnitPrice, p.Granularity.String(), p.ValidFrom, nullTime(p.ValidTo),
		p.TierMode.String(), tiersToJSON(p.Tiers), p.UpdateTime, p.MinimumCharge)
}

// DeletePrice deletes one price of a list.
func (r *repo) DeletePrice(ctx context.Context, priceListID, id string) error {
	return r.bookExec(ctx, opDelete, priceTarget(priceListID, id), sqlDeletePrice, priceListID, id)
}

// OverlappingPrice reads the earliest other price of p's list and product
// whose window overlaps p's.
func (r *repo) OverlappingPrice(ctx context.Context, p pricing.Price) (pricing.Price, bool, error) {
	rows, _ := r.q.Query(ctx, sqlOverlappingPrice, p.PriceListID, p.ProductID, p.ID, p.ValidFrom, nullTime(p.ValidTo))
	other, err := pgx.CollectExactlyOneRow(rows, scanPrice)
	if errors.Is(err, pgx.ErrNoRows) {
		return other, false, nil
	}
	return other, err == nil, mapErr(err)
}

// MissingProducts returns those of ids that name no product, in the given order.
func (r *repo) MissingProducts(ctx context.Context, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, _ := r.q.Query(ctx, sqlMissingProducts, ids)
	missing, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return missing, mapErr(err)
}
