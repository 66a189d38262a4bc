package postgres

import (
	"context"

	"github.com/billingd/billingd/internal/pricing"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

const (
	sqlInsertCampaign = "INSERT INTO " + tableCampaigns + ` (id, display_name, customer_id, currency, valid_from, valid_to,
		priority, create_time, update_time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`
	sqlGetCampaign   = "SELECT " + colsCampaign + " FROM " + tableCampaigns + " WHERE id = $1"
	sqlListCampaigns = "SELECT " + colsCampaign + " FROM " + tableCampaigns + `
		WHERE id > $1 AND ($3 = '' OR customer_id = $3)
		  AND ($4::timestamptz IS NULL OR tstzrange(valid_from, valid_to) @> $4::timestamptz)
		ORDER BY id LIMIT $2`
	sqlUpdateCampaign = "UPDATE " + tableCampaigns + ` SET display_name = $2, valid_from = $3, valid_to = $4,
		priority = $5, update_time = $6 WHERE id = $1`
	sqlDeleteCampaign = "DELETE FROM " + tableCampaigns + " WHERE id = $1" // entries go with ON DELETE CASCADE

	sqlEntriesOf = "SELECT " + colsEntry + " FROM " + tableCampaignEntries + `
		WHERE campaign_id = ANY($1) ORDER BY campaign_id, position`
	sqlDeleteEntries = "DELETE FROM " + tableCampaignEntries + " WHERE campaign_id = $1"
	// All entries in one statement; the decimals travel as text so that NULL
	// (the price kind not chosen) survives the array.
	sqlInsertEntries = "INSERT INTO " + tableCampaignEntries + ` (` + colsEntry + `)
		SELECT $1, e.n, e.product_id, e.unit_price::numeric, e.discount_percent::numeric
		FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS e(product_id, unit_price, discount_percent, n)`
)

func scanCampaign(row pgx.CollectableRow) (pricing.Campaign, error) {
	var c pricing.Campaign
	err := row.Scan(&c.ID, &c.DisplayName, &c.CustomerID, &c.Currency, &c.ValidFrom, &c.ValidTo, &c.Priority, &c.CreateTime, &c.UpdateTime)
	c.ValidFrom, c.ValidTo = c.ValidFrom.UTC(), c.ValidTo.UTC()
	c.CreateTime, c.UpdateTime = c.CreateTime.UTC(), c.UpdateTime.UTC()
	return c, err
}

func nullDecimalText(d decimal.NullDecimal) *string {
	if !d.Valid {
		return nil
	}
	s := d.Decimal.String()
	return &s
}

// insertEntries writes c's entries; the caller runs it in a transaction.
func insertEntries(ctx context.Context, q querier, c pricing.Campaign) error {
	if len(c.Entries) == 0 {
		return nil
	}
	products := make([]string, len(c.Entries))
	prices := make([]*string, len(c.Entries))
	discounts := make([]*string, len(c.Entries))
	for i, e := range c.Entries {
		products[i], prices[i], discounts[i] = e.ProductID, nullDecimalText(e.UnitPrice), nullDecimalText(e.DiscountPercent)
	}
	_, err := q.Exec(ctx, sqlInsertEntries, c.ID, products, prices, discounts)
	return mapErrFor(err, opWrite, target{"campaign", c.ID})
}

// attachEntries reads the entries of the given campaigns into them.
func (r *repo) attachEntries(ctx context.Context, cs []pricing.Campaign) error {
	if len(cs) == 0 {
		return nil
	}
	ids := make([]string, len(cs))
	at := make(map[string]int, len(cs))
	for i, c := range cs {
		ids[i], at[c.ID] = c.ID, i
	}
	rows, err := r.q.Query(ctx, sqlEntriesOf, ids)
	if err != nil {
		return mapErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			campaignID string
			position   int
			e          pricing.CampaignEntry
		)
		if err := rows.Scan(&campaignID, &position, &e.ProductID, &e.UnitPrice, &e.DiscountPercent); err != nil {
			return mapErr(err)
		}
		i := at[campaignID]
		cs[i].Entries = append(cs[i].Entries, e)
	}
	return mapErr(rows.Err())
}

// CreateCampaign inserts a campaign with its entries, atomically.
func (r *repo) CreateCampaign(ctx context.Context, c pricing.Campaign) error {
	t := target{"campaign", c.ID}
	return r.bookWrite(ctx, func(q querier) error {
		_, err := q.Exec(ctx, sqlInsertCampaign, c.ID, c.DisplayName, nullString(c.CustomerID), c.Currency,
			c.ValidFrom, c.ValidTo, c.Priority, c.CreateTime, c.UpdateTime)
		if err != nil {
			return mapErrFor(err, opWrite, t)
		}
		return insertEntries(ctx, q, c)
	})
}

// GetCampaign reads a campaign and its entries.
func (r *repo) GetCampaign(ctx context.Context, id string) (pricing.Campaign, error) {
	rows, _ := r.q.Query(ctx, sqlGetCampaign, id)
	c, err := pgx.CollectExactlyOneRow(rows, scanCampaign)
	if err != nil {
		return c, mapErrFor(err, opRead, target{"campaign", id})
	}
	cs := []pricing.Campaign{c}
	err = r.attachEntries(ctx, cs)
	return cs[0], err
}

// ListCampaigns reads one page of campaigns, with their entries, in id order.
func (r *repo) ListCampaigns(ctx context.Context, p pricing.ListCampaignsParams) ([]pricing.Campaign, string, error) {
	pg, err := newPage(p.PageSize, p.PageToken)
	if err != nil {
		return nil, "", err
	}
	rows, err := r.q.Query(ctx, sqlListCampaigns, pg.after, pg.limit+1, p.CustomerID, nullTime(p.ValidAt))
	cs, next, err := collectPage(rows, err, pg, scanCampaign, func(c pricing.Campaign) string { return c.ID })
	if err != nil {
		return nil, "", err
	}
	return cs, next, r.attachEntries(ctx, cs)
}

// UpdateCampaign writes every mutable column of c and replaces its entries, atomically.
func (r *repo) UpdateCampaign(ctx context.Context, c pricing.Campaign) error {
	t := target{"campaign", c.ID}
	return r.bookWrite(ctx, func(q querier) error {
		tag, err := q.Exec(ctx, sqlUpdateCampaign, c.ID, c.DisplayName, c.ValidFrom, c.ValidTo, c.Priority, c.UpdateTime)
		if err != nil {
			return mapErrFor(err, opWrite, t)
		}
		if tag.RowsAffected() == 0 {
			return mapErrFor(pgx.ErrNoRows, opWrite, t)
		}
		if _, err := q.Exec(ctx, sqlDeleteEntries, c.ID); err != nil {
			return mapErrFor(err, opWrite, t)
		}
		return insertEntries(ctx, q, c)
	})
}

// DeleteCampaign deletes a campaign and its entries.
func (r *repo) DeleteCampaign(ctx context.Context, id string) error {
	return r.bookExec(ctx, opDelete, target{"campaign", id}, sqlDeleteCampaign, id)
}
