package postgres

import (
	"context"
	"fmt"

	"github.com/billingd/billingd/internal/catalog"
	"github.com/jackc/pgx/v5"
)

const (
	sqlInsertProduct = "INSERT INTO " + tableProducts + " (" + colsProduct + ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
	sqlGetProduct    = "SELECT " + colsProduct + " FROM " + tableProducts + " WHERE id = $1"
	// Empty filters match every row, so one statement serves all filter combinations.
	sqlListProducts = "SELECT " + colsProduct + " FROM " + tableProducts + `
		WHERE id > $1 AND ($3 = '' OR product_group_id = $3) AND ($4 = '' OR metric_key = $4)
		ORDER BY id LIMIT $2`
	sqlUpdateProduct = "UPDATE " + tableProducts + ` SET product_group_id = $2, dimension_filter = $3, unit = $4,
		display_name = $5, description = $6, update_time = $7, peak_basis = $8 WHERE id = $1`
	sqlDeleteProduct = "DELETE FROM " + tableProducts + " WHERE id = $1"
	// One referrer is enough for the error message.
	sqlProductReferrer = `
		SELECT 'priceLists/' || price_list_id || '/prices/' || id FROM ` + tablePrices + ` WHERE product_id = $1
		UNION ALL SELECT 'campaigns/' || campaign_id FROM ` + tableCampaignEntries + ` WHERE product_id = $1
		UNION ALL SELECT 'contracts/' || id FROM ` + tableContracts + ` WHERE product_id = $1
		LIMIT 1`
)

func scanProduct(row pgx.CollectableRow) (catalog.Product, error) {
	var p catalog.Product
	var basis string
	err := row.Scan(&p.ID, &p.GroupID, &p.MetricKey, &p.DimensionFilter, &p.Unit, &p.DisplayName, &p.Description, &p.CreateTime, &p.UpdateTime, &basis)
	if err != nil {
		return p, err
	}
	var ok bool
	if p.PeakBasis, ok = catalog.ParsePeakBasis(basis); !ok {
		return p, fmt.Errorf("product %q: unknown peak basis %q in database", p.ID, basis)
	}
	p.CreateTime, p.UpdateTime = p.CreateTime.UTC(), p.UpdateTime.UTC()
	return p, nil
}

func filterOrEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// CreateProduct inserts a product; a missing group or metric is NotFound.
func (r *repo) CreateProduct(ctx context.Context, p catalog.Product) error {
	return r.bookExec(ctx, opWrite, target{"product", p.ID}, sqlInsertProduct,
		p.ID, p.GroupID, p.MetricKey, filterOrEmpty(p.DimensionFilter), p.Unit, p.DisplayName, p.Description, p.CreateTime, p.UpdateTime, p.PeakBasis.String())
}

// GetProduct reads a product by id.
func (r *repo) GetProduct(ctx context.Context, id string) (catalog.Product, error) {
	rows, _ := r.q.Query(ctx, sqlGetProduct, id)
	p, err := pgx.CollectExactlyOneRow(rows, scanProduct)
	return p, mapErrFor(err, opRead, target{"product", id})
}

// ListProducts reads one page of products in id order.
func (r *repo) ListProducts(ctx context.Context, p catalog.ListProductsParams) ([]catalog.Product, string, error) {
	pg, err := newPage(p.PageSize, p.PageToken)
	if err != nil {
		return nil, "", err
	}
	rows, err := r.q.Query(ctx, sqlListProducts, pg.after, pg.limit+1, p.GroupID, p.MetricKey)
	return collectPage(rows, err, pg, scanProduct, func(p catalog.Product) string { return p.ID })
}

// UpdateProduct writes every mutable column of p.
func (r *repo) UpdateProduct(ctx context.Context, p catalog.Product) error {
	return r.bookExec(ctx, opWrite, target{"product", p.ID}, sqlUpdateProduct,
		p.ID, p.GroupID, filterOrEmpty(p.DimensionFilter), p.Unit, p.DisplayName, p.Description, p.UpdateTime, p.PeakBasis.String())
}

// DeleteProduct deletes a product; a price, campaign or contract using it
// makes this FailedPrecondition.
func (r *repo) DeleteProduct(ctx context.Context, id string) error {
	return r.bookExec(ctx, opDelete, target{"product", id}, sqlDeleteProduct, id)
}

// ProductReferrer names one price, campaign or contract using the product.
func (r *repo) ProductReferrer(ctx context.Context, productID string) (string, error) {
	return r.referrer(ctx, sqlProductReferrer, productID)
}

func (r *repo) referrer(ctx context.Context, sql, id string) (string, error) {
	rows, _ := r.q.Query(ctx, sql, id)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(names) == 0 {
		return "", mapErr(err)
	}
	return names[0], nil
}
