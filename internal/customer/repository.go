package customer

import (
	"context"

	"github.com/billingd/billingd/internal/access"
	"github.com/billingd/billingd/internal/resource"
)

// ListCustomersParams pages through customers in id order; ExternalID, when
// set, keeps only the customer with that ERP id. PageSize 0 means 50; at
// most 1000. PageToken is the NextPageToken of the previous page.
type ListCustomersParams struct {
	PageSize   int
	PageToken  string
	ExternalID string
}

// ListOrganisationsParams pages through one customer's organisations in id order.
type ListOrganisationsParams struct {
	CustomerID string
	PageSize   int
	PageToken  string
}

// ListVdcsParams pages through one organisation's VDCs in id order.
type ListVdcsParams struct {
	CustomerID     string
	OrganisationID string
	PageSize       int
	PageToken      string
}

// Repository stores customers, organisations and VDCs. Errors are apperr
// kinds: NotFound for a missing row, AlreadyExists for a taken id or
// external id, FailedPrecondition for a row still referenced, Invalid on
// "page_token" for a bad token.
type Repository interface {
	CreateCustomer(ctx context.Context, c Customer) error
	GetCustomer(ctx context.Context, id string) (Customer, error)
	ListCustomers(ctx context.Context, p ListCustomersParams) ([]Customer, string, error)
	UpdateCustomer(ctx context.Context, c Customer) error
	DeleteCustomer(ctx context.Context, id string) error
	// CustomerReferrer names one resource that refers to the customer (an
	// organisation, price list, campaign or contract, e.g.
	// "customers/c1/organisations/o1"), or "".
	CustomerReferrer(ctx context.Context, customerID string) (string, error)

	CreateOrganisation(ctx context.Context, o Organisation) error
	GetOrganisation(ctx context.Context, customerID, id string) (Organisation, error)
	ListOrganisations(ctx context.Context, p ListOrganisationsParams) ([]Organisation, string, error)
	UpdateOrganisation(ctx context.Context, o Organisation) error
	DeleteOrganisation(ctx context.Context, customerID, id string) error

	CreateVdc(ctx context.Context, d Vdc) error
	GetVdc(ctx context.Context, customerID, organisationID, id string) (Vdc, error)
	ListVdcs(ctx context.Context, p ListVdcsParams) ([]Vdc, string, error)
	UpdateVdc(ctx context.Context, d Vdc) error
	DeleteVdc(ctx context.Context, customerID, organisationID, id string) error

	resource.RequestLog
	access.AuditLog // written in the transaction of each change
}

// Store is a Repository that can also run several calls in one transaction.
// fn may run more than once when the database asks for a retry, so it must
// have no other side effects.
type Store interface {
	Repository
	InTx(ctx context.Context, fn func(tx Repository) error) error
}
