package postgres

import (
	"context"

	"github.com/billingd/billingd/internal/customer"
	"github.com/jackc/pgx/v5"
)

const (
	sqlInsertCustomer = "INSERT INTO " + tableCustomers + ` (id, external_id, display_name, billing_time_zone, labels, create_time, update_time)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`
	sqlGetCustomer   = "SELECT " + colsCustomer + " FROM " + tableCustomers + " WHERE id = $1"
	sqlListCustomers = "SELECT " + colsCustomer + " FROM " + tableCustomers + `
		WHERE id > $1 AND ($3 = '' OR external_id = $3) ORDER BY id LIMIT $2`
	sqlUpdateCustomer = "UPDATE " + tableCustomers + ` SET external_id = $2, display_name = $3, billing_time_zone = $4,
		labels = $5, update_time = $6 WHERE id = $1`
	sqlDeleteCustomer   = "DELETE FROM " + tableCustomers + " WHERE id = $1"
	sqlCustomerReferrer = `
		SELECT 'customers/' || customer_id || '/organisations/' || id FROM ` + tableOrganisations + ` WHERE customer_id = $1
		UNION ALL SELECT 'priceLists/' || id FROM ` + tablePriceLists + ` WHERE customer_id = $1
		UNION ALL SELECT 'campaigns/' || id FROM ` + tableCampaigns + ` WHERE customer_id = $1
		UNION ALL SELECT 'contracts/' || id FROM ` + tableContracts + ` WHERE customer_id = $1
		LIMIT 1`
	sqlCustomerExists = "SELECT EXISTS (SELECT 1 FROM " + tableCustomers + " WHERE id = $1)"
)

func scanCustomer(row pgx.CollectableRow) (customer.Customer, error) {
	var c customer.Customer
	err := row.Scan(&c.ID, &c.ExternalID, &c.DisplayName, &c.BillingTimeZone, &c.Labels, &c.CreateTime, &c.UpdateTime)
	c.CreateTime, c.UpdateTime = c.CreateTime.UTC(), c.UpdateTime.UTC()
	return c, err
}

func labelsOrEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// CreateCustomer inserts a customer; a taken id or external id is AlreadyExists.
func (r *repo) CreateCustomer(ctx context.Context, c customer.Customer) error {
	return r.exec(ctx, opWrite, target{"customer", c.ID}, sqlInsertCustomer,
		c.ID, nullString(c.ExternalID), c.DisplayName, c.BillingTimeZone, labelsOrEmpty(c.Labels), c.CreateTime, c.UpdateTime)
}

// GetCustomer reads a customer by id.
func (r *repo) GetCustomer(ctx context.Context, id string) (customer.Customer, error) {
	rows, _ := r.q.Query(ctx, sqlGetCustomer, id)
	c, err := pgx.CollectExactlyOneRow(rows, scanCustomer)
	return c, mapErrFor(err, opRead, target{"customer", id})
}

// ListCustomers reads one page of customers in id order.
func (r *repo) ListCustomers(ctx context.Context, p customer.ListCustomersParams) ([]customer.Customer, string, error) {
	pg, err := newPage(p.PageSize, p.PageToken)
	if err != nil {
		return nil, "", err
	}
	rows, err := r.q.Query(ctx, sqlListCustomers, pg.after, pg.limit+1, p.ExternalID)
	return collectPage(rows, err, pg, scanCustomer, func(c customer.Customer) string { return c.ID })
}

// UpdateCustomer writes every mutable column of c.
func (r *repo) UpdateCustomer(ctx context.Context, c customer.Customer) error {
	return r.exec(ctx, opWrite, target{"customer", c.ID}, sqlUpdateCustomer,
		c.ID, nullString(c.ExternalID), c.DisplayName, c.BillingTimeZone, labelsOrEmpty(c.Labels), c.UpdateTime)
}

// DeleteCustomer deletes a customer; anything referring to it makes this
// FailedPrecondition.
func (r *repo) DeleteCustomer(ctx context.Context, id string) error {
	return r.exec(ctx, opDelete, target{"customer", id}, sqlDeleteCustomer, id)
}

// CustomerReferrer names one organisation, price list, campaign or contract
// of the customer.
func (r *repo) CustomerReferrer(ctx context.Context, customerID string) (string, error) {
	return r.referrer(ctx, sqlCustomerReferrer, customerID)
}

// CustomerExists reports whether a customer with this id exists.
func (r *repo) CustomerExists(ctx context.Context, id string) (bool, error) {
	var ok bool
	err := r.q.QueryRow(ctx, sqlCustomerExists, id).Scan(&ok)
	return ok, mapErr(err)
}
