package postgres

import (
	"context"

	"github.com/billingd/billingd/internal/customer"
	"github.com/jackc/pgx/v5"
)

const (
	sqlInsertOrganisation = "INSERT INTO " + tableOrganisations + " (" + colsOrganisation + ") VALUES ($1, $2, $3, $4, $5)"
	sqlGetOrganisation    = "SELECT " + colsOrganisation + " FROM " + tableOrganisations + " WHERE customer_id = $1 AND id = $2"
	sqlListOrganisations  = "SELECT " + colsOrganisation + " FROM " + tableOrganisations + `
		WHERE customer_id = $3 AND id > $1 ORDER BY id LIMIT $2`
	sqlUpdateOrganisation = "UPDATE " + tableOrganisations + " SET display_name = $3, update_time = $4 WHERE customer_id = $1 AND id = $2"
	sqlDeleteOrganisation = "DELETE FROM " + tableOrganisations + " WHERE customer_id = $1 AND id = $2"
)

func scanOrganisation(row pgx.CollectableRow) (customer.Organisation, error) {
	var o customer.Organisation
	err := row.Scan(&o.CustomerID, &o.ID, &o.DisplayName, &o.CreateTime, &o.UpdateTime)
	o.CreateTime, o.UpdateTime = o.CreateTime.UTC(), o.UpdateTime.UTC()
	return o, err
}

func organisationTarget(customerID, id string) target {
	return target{"organisation", customerID + "/" + id}
}

// CreateOrganisation inserts an organisation; a missing customer is NotFound.
func (r *repo) CreateOrganisation(ctx context.Context, o customer.Organisation) error {
	return r.exec(ctx, opWrite, organisationTarget(o.CustomerID, o.ID), sqlInsertOrganisation,
		o.CustomerID, o.ID, o.DisplayName, o.CreateTime, o.UpdateTime)
}

// GetOrganisation reads one organisation of a customer.
func (r *repo) GetOrganisation(ctx context.Context, customerID, id string) (customer.Organisation, error) {
	rows, _ := r.q.Query(ctx, sqlGetOrganisation, customerID, id)
	o, err := pgx.CollectExactlyOneRow(rows, scanOrganisation)
	return o, mapErrFor(err, opRead, organisationTarget(customerID, id))
}

// ListOrganisations reads one page of a customer's organisations in id order.
func (r *repo) ListOrganisations(ctx context.Context, p customer.ListOrganisationsParams) ([]customer.Organisation, string, error) {
	pg, err := newPage(p.PageSize, p.PageToken)
	if err != nil {
		return nil, "", err
	}
	rows, err := r.q.Query(ctx, sqlListOrganisations, pg.after, pg.limit+1, p.CustomerID)
	return collectPage(rows, err, pg, scanOrganisation, func(o customer.Organisation) string { return o.ID })
}

// UpdateOrganisation writes every mutable column of o.
func (r *repo) UpdateOrganisation(ctx context.Context, o customer.Organisation) error {
	return r.exec(ctx, opWrite, organisationTarget(o.CustomerID, o.ID), sqlUpdateOrganisation,
		o.CustomerID, o.ID, o.DisplayName, o.UpdateTime)
}

// DeleteOrganisation deletes an organisation; VDCs in it make this FailedPrecondition.
func (r *repo) DeleteOrganisation(ctx context.Context, customerID, id string) error {
	return r.exec(ctx, opDelete, organisationTarget(customerID, id), sqlDeleteOrganisation, customerID, id)
}
