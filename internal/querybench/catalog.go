package querybench

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
)

// product is one product of the catalog and its default list price (EUR).
type product struct {
	id, group, metric, policy, unit, name string
	price                                 string
	granularity                           billingv1.Granularity
}

// products is a VMware provider's compute and storage, priced as such
// providers do: vCPU and RAM by the hour, storage by the GB-month.
var products = []product{
	{"vcpu", "compute", metricVCPU, "", "vCPU-hour", "vCPU", "0.01", billingv1.Granularity_GRANULARITY_HOUR},
	{"ram", "compute", metricMemory, "", "GB-hour", "RAM", "0.005", billingv1.Granularity_GRANULARITY_HOUR},
	{"storage-gold", "storage", metricStorage, "gold", "GB-month", "Storage (gold)", "0.12", billingv1.Granularity_GRANULARITY_MONTH},
	{"storage-silver", "storage", metricStorage, "silver", "GB-month", "Storage (silver)", "0.08", billingv1.Granularity_GRANULARITY_MONTH},
}

// createCatalog creates the metrics, products, default price list and the
// fleet's customers through the public API, as a provider would.
func createCatalog(ctx context.Context, conn grpc.ClientConnInterface, f *fleet) error {
	catalog := billingv1.NewCatalogServiceClient(conn)
	for _, m := range []struct{ key, unit, name string }{
		{metricVCPU, "vCPU", "vCPUs allocated"},
		{metricMemory, "GB", "Memory allocated"},
		{metricStorage, "GB", "Provisioned storage"},
	} {
		if _, err := catalog.CreateMetric(ctx, &billingv1.CreateMetricRequest{Metric: &billingv1.Metric{
			Key: m.key, Unit: m.unit, DisplayName: m.name, Aggregation: billingv1.Aggregation_AGGREGATION_TIME_WEIGHTED_AVG,
		}}); err != nil {
			return fmt.Errorf("metric %s: %w", m.key, err)
		}
	}
	for _, g := range []string{"compute", "storage"} {
		if _, err := catalog.CreateProductGroup(ctx, &billingv1.CreateProductGroupRequest{ProductGroup: &billingv1.ProductGroup{
			Id: g, DisplayName: g,
		}}); err != nil {
			return fmt.Errorf("product group %s: %w", g, err)
		}
	}
	pricing := billingv1.NewPricingServiceClient(conn)
	if _, err := pricing.CreatePriceList(ctx, &billingv1.CreatePriceListRequest{PriceList: &billingv1.PriceList{
		Id: "default", DisplayName: "List prices", Currency: "EUR",
	}}); err != nil {
		return fmt.Errorf("price list: %w", err)
	}
	validFrom := timestamppb.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	for _, p := range products {
		var filter map[string]string
		if p.policy != "" {
			filter = map[string]string{"policy": p.policy}
		}
		if _, err := catalog.CreateProduct(ctx, &billingv1.CreateProductRequest{Product: &billingv1.Product{
			Id: p.id, ProductGroupId: p.group, MetricKey: p.metric, DimensionFilter: filter, Unit: p.unit, DisplayName: p.name,
		}}); err != nil {
			return fmt.Errorf("product %s: %w", p.id, err)
		}
		if _, err := pricing.CreatePrice(ctx, &billingv1.CreatePriceRequest{PriceListId: "default", Price: &billingv1.Price{
			Id: p.id, ProductId: p.id, UnitPrice: p.price, Granularity: p.granularity, ValidFrom: validFrom,
		}}); err != nil {
			return fmt.Errorf("price of %s: %w", p.id, err)
		}
	}
	customers := billingv1.NewCustomerServiceClient(conn)
	for _, c := range f.Customers {
		if _, err := customers.CreateCustomer(ctx, &billingv1.CreateCustomerRequest{Customer: &billingv1.Customer{
			Id: c.ID, DisplayName: c.Name, BillingTimeZone: "UTC",
		}}); err != nil {
			return fmt.Errorf("customer %s: %w", c.ID, err)
		}
	}
	return nil
}
