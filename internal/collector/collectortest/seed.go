package collectortest

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
)

// Customers creates customers by id, each named after its id.
func (b *Billingd) Customers(t *testing.T, ids ...string) {
	t.Helper()
	cs := billingv1.NewCustomerServiceClient(b.Admin)
	for _, id := range ids {
		if _, err := cs.CreateCustomer(context.Background(), &billingv1.CreateCustomerRequest{Customer: &billingv1.Customer{
			Id: id, DisplayName: strings.ToUpper(id[:1]) + id[1:],
		}}); err != nil {
			t.Fatal(err)
		}
	}
}

// Metrics creates metrics in the catalog.
func (b *Billingd) Metrics(t *testing.T, ms ...*billingv1.Metric) {
	t.Helper()
	catalog := billingv1.NewCatalogServiceClient(b.Admin)
	for _, m := range ms {
		if _, err := catalog.CreateMetric(context.Background(), &billingv1.CreateMetricRequest{Metric: m}); err != nil {
			t.Fatal(err)
		}
	}
}

// Gauges are time-weighted metrics, by key, with their units: what a
// platform's inventory source emits.
func Gauges(units map[string]string) []*billingv1.Metric {
	var out []*billingv1.Metric
	for key, unit := range units {
		out = append(out, &billingv1.Metric{Key: key, Unit: unit, Aggregation: billingv1.Aggregation_AGGREGATION_TIME_WEIGHTED_AVG})
	}
	return out
}

// Sums are summed metrics of unit "unit": what queue and file sources emit.
func Sums(keys ...string) []*billingv1.Metric {
	var out []*billingv1.Metric
	for _, key := range keys {
		out = append(out, &billingv1.Metric{Key: key, Unit: "unit", Aggregation: billingv1.Aggregation_AGGREGATION_SUM})
	}
	return out
}

// Price is one product and its EUR price, per hour (or per month).
type Price struct {
	Product, Metric, UnitPrice string
	Filter                     map[string]string
	Monthly                    bool
}

// Prices creates product group group, a default EUR price list "list",
// and a product with its price, valid from 2025, for each of prices.
func (b *Billingd) Prices(t *testing.T, group string, prices []Price) {
	t.Helper()
	ctx := context.Background()
	catalog := billingv1.NewCatalogServiceClient(b.Admin)
	if _, err := catalog.CreateProductGroup(ctx, &billingv1.CreateProductGroupRequest{ProductGroup: &billingv1.ProductGroup{
		Id: group, DisplayName: strings.ToUpper(group[:1]) + group[1:],
	}}); err != nil {
		t.Fatal(err)
	}
	pricing := billingv1.NewPricingServiceClient(b.Admin)
	if _, err := pricing.CreatePriceList(ctx, &billingv1.CreatePriceListRequest{PriceList: &billingv1.PriceList{
		Id: "list", DisplayName: "Standard", Currency: "EUR",
	}}); err != nil {
		t.Fatal(err)
	}
	for _, p := range prices {
		if _, err := catalog.CreateProduct(ctx, &billingv1.CreateProductRequest{Product: &billingv1.Product{
			Id: p.Product, ProductGroupId: group, MetricKey: p.Metric, DisplayName: p.Product, DimensionFilter: p.Filter,
		}}); err != nil {
			t.Fatal(err)
		}
		gran := billingv1.Granularity_GRANULARITY_HOUR
		if p.Monthly {
			gran = billingv1.Granularity_GRANULARITY_MONTH
		}
		if _, err := pricing.CreatePrice(ctx, &billingv1.CreatePriceRequest{PriceListId: "list", Price: &billingv1.Price{
			ProductId: p.Product, UnitPrice: p.UnitPrice, Granularity: gran,
			ValidFrom: timestamppb.New(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)),
		}}); err != nil {
			t.Fatal(err)
		}
	}
}

// SeedBackup creates the customers, the backup metrics (the two
// time-weighted gauges, and backup.protected_vm counting distinct vm_id
// values), a product group "backup" and a default EUR price list with a
// price per product, valid from 2025.
func (b *Billingd) SeedBackup(t *testing.T, customers []string, prices []Price) {
	t.Helper()
	b.Customers(t, customers...)
	b.Metrics(t,
		&billingv1.Metric{Key: "backup.protected_vms", Unit: "VM", Aggregation: billingv1.Aggregation_AGGREGATION_TIME_WEIGHTED_AVG},
		&billingv1.Metric{Key: "backup.storage_gb", Unit: "GB", Aggregation: billingv1.Aggregation_AGGREGATION_TIME_WEIGHTED_AVG},
		&billingv1.Metric{Key: "backup.protected_vm", Unit: "VM", Aggregation: billingv1.Aggregation_AGGREGATION_UNIQUE_COUNT, UniqueDimension: "vm_id"},
	)
	b.Prices(t, "backup", prices)
}
