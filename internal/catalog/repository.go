package catalog

import (
	"context"

	"github.com/billingd/billingd/internal/access"
	"github.com/billingd/billingd/internal/resource"
)

// ListMetricsParams pages through metrics in key order. PageSize 0 means 50;
// at most 1000. PageToken is the NextPageToken of the previous page.
type ListMetricsParams struct {
	PageSize  int
	PageToken string
}

// ListProductGroupsParams pages through product groups in id order.
type ListProductGroupsParams struct {
	PageSize  int
	PageToken string
}

// ListProductsParams pages through products in id order, optionally only
// those of one group and/or one metric.
type ListProductsParams struct {
	PageSize  int
	PageToken string
	GroupID   string
	MetricKey string
}

// Repository stores the catalog. Errors are apperr kinds: NotFound for a
// missing row, AlreadyExists for a taken id, FailedPrecondition for a row
// still referenced, Invalid on "page_token" for a bad token. List methods
// return the page and the token of the next one ("" on the last page).
type Repository interface {
	CreateMetric(ctx context.Context, m Metric) error
	GetMetric(ctx context.Context, key string) (Metric, error)
	ListMetrics(ctx context.Context, p ListMetricsParams) ([]Metric, string, error)
	UpdateMetric(ctx context.Context, m Metric) error
	DeleteMetric(ctx context.Context, key string) error

	CreateProductGroup(ctx context.Context, g ProductGroup) error
	GetProductGroup(ctx context.Context, id string) (ProductGroup, error)
	ListProductGroups(ctx context.Context, p ListProductGroupsParams) ([]ProductGroup, string, error)
	UpdateProductGroup(ctx context.Context, g ProductGroup) error
	DeleteProductGroup(ctx context.Context, id string) error

	CreateProduct(ctx context.Context, p Product) error
	GetProduct(ctx context.Context, id string) (Product, error)
	ListProducts(ctx context.Context, p ListProductsParams) ([]Product, string, error)
	UpdateProduct(ctx context.Context, p Product) error
	DeleteProduct(ctx context.Context, id string) error
	// ProductReferrer names one resource that refers to the product (a
	// price, campaign or contract, e.g. "priceLists/l1/prices/p1"), or "".
	ProductReferrer(ctx context.Context, productID string) (string, error)

	resource.RequestLog
	access.AuditLog // written in the transaction of each change
}

// Store is a Repository that can also run several calls in one transaction.
// fn's Repository is bound to the transaction; fn may run more than once
// when the database asks for a retry, so it must have no other side effects.
type Store interface {
	Repository
	InTx(ctx context.Context, fn func(tx Repository) error) error
}
