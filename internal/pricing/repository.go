package pricing

import (
	"context"
	"time"

	"github.com/billingd/billingd/internal/access"
	"github.com/billingd/billingd/internal/resource"
)

// ListPriceListsParams pages through price lists in id order; CustomerID,
// when set, keeps that customer's lists, DefaultOnly the default lists.
// PageSize 0 means 50; at most 1000. PageToken is the NextPageToken of the
// previous page.
type ListPriceListsParams struct {
	PageSize    int
	PageToken   string
	CustomerID  string
	DefaultOnly bool
}

// ListPricesParams pages through one list's prices in id order, optionally
// only one product's and only those valid at ValidAt (non-zero).
type ListPricesParams struct {
	PriceListID string
	PageSize    int
	PageToken   string
	ProductID   string
	ValidAt     time.Time
}

// ListCampaignsParams pages through campaigns in id order, optionally only
// one customer's and only those valid at ValidAt (non-zero).
type ListCampaignsParams struct {
	PageSize   int
	PageToken  string
	CustomerID string
	ValidAt    time.Time
}

// ListContractsParams pages through contracts in id order, optionally only
// one customer's and only those in force at ActiveAt (non-zero).
type ListContractsParams struct {
	PageSize   int
	PageToken  string
	CustomerID string
	ActiveAt   time.Time
}

// Repository stores price lists, prices, campaigns (with their entries) and
// contracts. Errors are apperr kinds: NotFound for a missing row,
// AlreadyExists for a taken id or owner+currency, FailedPrecondition for an
// overlapping window or a row still referenced, Invalid on "page_token" for
// a bad token.
type Repository interface {
	CreatePriceList(ctx context.Context, l PriceList) error
	GetPriceList(ctx context.Context, id string) (PriceList, error)
	ListPriceLists(ctx context.Context, p ListPriceListsParams) ([]PriceList, string, error)
	UpdatePriceList(ctx context.Context, l PriceList) error
	DeletePriceList(ctx context.Context, id string) error
	// FindPriceList returns the list of an owner ("" = default) and currency.
	FindPriceList(ctx context.Context, customerID, currency string) (PriceList, bool, error)

	CreatePrice(ctx context.Context, p Price) error
	GetPrice(ctx context.Context, priceListID, id string) (Price, error)
	ListPrices(ctx context.Context, p ListPricesParams) ([]Price, string, error)
	UpdatePrice(ctx context.Context, p Price) error
	DeletePrice(ctx context.Context, priceListID, id string) error
	// OverlappingPrice returns another price of p's list and product whose
	// window overlaps p's.
	OverlappingPrice(ctx context.Context, p Price) (Price, bool, error)

	// CreateCampaign and UpdateCampaign write the campaign with all its entries.
	CreateCampaign(ctx context.Context, c Campaign) error
	GetCampaign(ctx context.Context, id string) (Campaign, error)
	ListCampaigns(ctx context.Context, p ListCampaignsParams) ([]Campaign, string, error)
	UpdateCampaign(ctx context.Context, c Campaign) error
	DeleteCampaign(ctx context.Context, id string) error

	CreateContract(ctx context.Context, c Contract) error
	GetContract(ctx context.Context, id string) (Contract, error)
	ListContracts(ctx context.Context, p ListContractsParams) ([]Contract, string, error)
	UpdateContract(ctx context.Context, c Contract) error
	DeleteContract(ctx context.Context, id string) error
	// OverlappingContract returns another contract of c's customer and
	// product whose window overlaps c's.
	OverlappingContract(ctx context.Context, c Contract) (Contract, bool, error)

	CustomerExists(ctx context.Context, id string) (bool, error)
	// MissingProducts returns those of ids that name no product.
	MissingProducts(ctx context.Context, ids []string) ([]string, error)

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
