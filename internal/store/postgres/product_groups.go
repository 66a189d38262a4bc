package postgres

import (
	"context"

	"github.com/billingd/billingd/internal/catalog"
	"github.com/jackc/pgx/v5"
)

const (
	sqlInsertGroup = "INSERT INTO " + tableProductGroups + " (" + colsProductGroup + ") VALUES ($1, $2, $3, $4, $5)"
	sqlGetGroup    = "SELECT " + colsProductGroup + " FROM " + tableProductGroups + " WHERE id = $1"
	sqlListGroups  = "SELECT " + colsProductGroup + " FROM " + tableProductGroups + " WHERE id > $1 ORDER BY id LIMIT $2"
	sqlUpdateGroup = "UPDATE " + tableProductGroups + " SET display_name = $2, description = $3, update_time = $4 WHERE id = $1"
	sqlDeleteGroup = "DELETE FROM " + tableProductGroups + " WHERE id = $1"
)

func scanGroup(row pgx.CollectableRow) (catalog.ProductGroup, error) {
	var g catalog.ProductGroup
	err := row.Scan(&g.ID, &g.DisplayName, &g.Description, &g.CreateTime, &g.UpdateTime)
	g.CreateTime, g.UpdateTime = g.CreateTime.UTC(), g.UpdateTime.UTC()
	return g, err
}

// CreateProductGroup inserts a product group.
func (r *repo) CreateProductGroup(ctx context.Context, g catalog.ProductGroup) error {
	return r.exec(ctx, opWrite, target{"product group", g.ID}, sqlInsertGroup,
		g.ID, g.DisplayName, g.Description, g.CreateTime, g.UpdateTime)
}

// GetProductGroup reads a product group by id.
func (r *repo) GetProductGroup(ctx context.Context, id string) (catalog.ProductGroup, error) {
	rows, _ := r.q.Query(ctx, sqlGetGroup, id)
	g, err := pgx.CollectExactlyOneRow(rows, scanGroup)
	return g, mapErrFor(err, opRead, target{"product group", id})
}

// ListProductGroups reads one page of product groups in id order.
func (r *repo) ListProductGroups(ctx context.Context, p catalog.ListProductGroupsParams) ([]catalog.ProductGroup, string, error) {
	pg, err := newPage(p.PageSize, p.PageToken)
	if err != nil {
		return nil, "", err
	}
	rows, err := r.q.Query(ctx, sqlListGroups, pg.after, pg.limit+1)
	return collectPage(rows, err, pg, scanGroup, func(g catalog.ProductGroup) string { return g.ID })
}

// UpdateProductGroup writes every mutable column of g.
func (r *repo) UpdateProductGroup(ctx context.Context, g catalog.ProductGroup) error {
	return r.exec(ctx, opWrite, target{"product group", g.ID}, sqlUpdateGroup, g.ID, g.DisplayName, g.Description, g.UpdateTime)
}

// DeleteProductGroup deletes a group; products in it make this FailedPrecondition.
func (r *repo) DeleteProductGroup(ctx context.Context, id string) error {
	return r.exec(ctx, opDelete, target{"product group", id}, sqlDeleteGroup, id)
}
