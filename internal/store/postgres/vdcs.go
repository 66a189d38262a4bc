package postgres

import (
	"context"

	"github.com/billingd/billingd/internal/customer"
	"github.com/jackc/pgx/v5"
)

const (
	sqlInsertVdc = "INSERT INTO " + tableVdcs + " (" + colsVdc + ") VALUES ($1, $2, $3, $4, $5, $6)"
	sqlGetVdc    = "SELECT " + colsVdc + " FROM " + tableVdcs + " WHERE customer_id = $1 AND organisation_id = $2 AND id = $3"
	sqlListVdcs  = "SELECT " + colsVdc + " FROM " + tableVdcs + `
		WHERE customer_id = $3 AND organisation_id = $4 AND id > $1 ORDER BY id LIMIT $2`
	sqlUpdateVdc = "UPDATE " + tableVdcs + ` SET display_name = $4, update_time = $5
		WHERE customer_id = $1 AND organisation_id = $2 AND id = $3`
	sqlDeleteVdc = "DELETE FROM " + tableVdcs + " WHERE customer_id = $1 AND organisation_id = $2 AND id = $3"
)

func scanVdc(row pgx.CollectableRow) (customer.Vdc, error) {
	var d customer.Vdc
	err := row.Scan(&d.CustomerID, &d.OrganisationID, &d.ID, &d.DisplayName, &d.CreateTime, &d.UpdateTime)
	d.CreateTime, d.UpdateTime = d.CreateTime.UTC(), d.UpdateTime.UTC()
	return d, err
}

func vdcTarget(customerID, organisationID, id string) target {
	return target{"vdc", customerID + "/" + organisationID + "/" + id}
}

// CreateVdc inserts a VDC; a missing organisation is NotFound.
func (r *repo) CreateVdc(ctx context.Context, d customer.Vdc) error {
	return r.exec(ctx, opWrite, vdcTarget(d.CustomerID, d.OrganisationID, d.ID), sqlInsertVdc,
		d.CustomerID, d.OrganisationID, d.ID, d.DisplayName, d.CreateTime, d.UpdateTime)
}

// GetVdc reads one VDC of an organisation.
func (r *repo) GetVdc(ctx context.Context, customerID, organisationID, id string) (customer.Vdc, error) {
	rows, _ := r.q.Query(ctx, sqlGetVdc, customerID, organisationID, id)
	d, err := pgx.CollectExactlyOneRow(rows, scanVdc)
	return d, mapErrFor(err, opRead, vdcTarget(customerID, organisationID, id))
}

// ListVdcs reads one page of an organisation's VDCs in id order.
func (r *repo) ListVdcs(ctx context.Context, p customer.ListVdcsParams) ([]customer.Vdc, string, error) {
	pg, err := newPage(p.PageSize, p.PageToken)
	if err != nil {
		return nil, "", err
	}
	rows, err := r.q.Query(ctx, sqlListVdcs, pg.after, pg.limit+1, p.CustomerID, p.OrganisationID)
	return collectPage(rows, err, pg, scanVdc, func(d customer.Vdc) string { return d.ID })
}

// UpdateVdc writes every mutable column of d.
func (r *repo) UpdateVdc(ctx context.Context, d customer.Vdc) error {
	return r.exec(ctx, opWrite, vdcTarget(d.CustomerID, d.OrganisationID, d.ID), sqlUpdateVdc,
		d.CustomerID, d.OrganisationID, d.ID, d.DisplayName, d.UpdateTime)
}

// DeleteVdc deletes a VDC.
func (r *repo) DeleteVdc(ctx context.Context, customerID, organisationID, id string) error {
	return r.exec(ctx, opDelete, vdcTarget(customerID, organisationID, id), sqlDeleteVdc, customerID, organisationID, id)
}
