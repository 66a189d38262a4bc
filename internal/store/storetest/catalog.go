package storetest

import (
	"testing"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/catalog"
)

func metric(key string) catalog.Metric {
	return catalog.Metric{Key: key, DisplayName: "vCPU", Unit: "vCPU", Aggregation: catalog.AggregationMax, CreateTime: t0, UpdateTime: t0}
}

func group(id string) catalog.ProductGroup {
	return catalog.ProductGroup{ID: id, DisplayName: "Compute", CreateTime: t0, UpdateTime: t0}
}

func product(id, groupID, metricKey string) catalog.Product {
	return catalog.Product{ID: id, GroupID: groupID, MetricKey: metricKey, DimensionFilter: map[string]string{"policy": "Gold"},
		Unit: "vCPU", DisplayName: "vCPU Gold", CreateTime: t0, UpdateTime: t0}
}

// seedProduct creates group g, metric m.x and product p.
func seedProduct(t *testing.T, s Stores, id string) {
	t.Helper()
	must(t, s.Catalog.CreateProductGroup(ctx, group("g-"+id)))
	must(t, s.Catalog.CreateMetric(ctx, metric("m."+id)))
	must(t, s.Catalog.CreateProduct(ctx, product(id, "g-"+id, "m."+id)))
}

func testMetrics(t *testing.T, s Stores) {
	r := s.Catalog
	m := metric("vm.vcpu")
	must(t, r.CreateMetric(ctx, m))
	wantKind(t, r.CreateMetric(ctx, m), apperr.KindAlreadyExists)
	got, err := r.GetMetric(ctx, "vm.vcpu")
	must(t, err)
	same(t, got, m)

	u := metric("backup.vms")
	u.Aggregation, u.UniqueDimension = catalog.AggregationUniqueCount, "vm_id"
	must(t, r.CreateMetric(ctx, u))
	got, err = r.GetMetric(ctx, "backup.vms")
	must(t, err)
	same(t, got, u)

	m.DisplayName, m.Description, m.UpdateTime = "Virtual CPUs", "allocated", day(1)
	must(t, r.UpdateMetric(ctx, m))
	got, _ = r.GetMetric(ctx, m.Key)
	same(t, got, m)
	wantKind(t, r.UpdateMetric(ctx, metric("nope")), apperr.KindNotFound)

	must(t, r.DeleteMetric(ctx, m.Key))
	_, err = r.GetMetric(ctx, m.Key)
	wantKind(t, err, apperr.KindNotFound)
	wantKind(t, r.DeleteMetric(ctx, m.Key), apperr.KindNotFound)
}

func testProductGroups(t *testing.T, s Stores) {
	r := s.Catalog
	g := group("compute")
	must(t, r.CreateProductGroup(ctx, g))
	wantKind(t, r.CreateProductGroup(ctx, g), apperr.KindAlreadyExists)
	got, err := r.GetProductGroup(ctx, g.ID)
	must(t, err)
	same(t, got, g)
	g.DisplayName, g.Description, g.UpdateTime = "Compute & RAM", "VMs", day(1)
	must(t, r.UpdateProductGroup(ctx, g))
	got, _ = r.GetProductGroup(ctx, g.ID)
	same(t, got, g)
	must(t, r.DeleteProductGroup(ctx, g.ID))
	_, err = r.GetProductGroup(ctx, g.ID)
	wantKind(t, err, apperr.KindNotFound)
}

func testProducts(t *testing.T, s Stores) {
	r := s.Catalog
	must(t, r.CreateProductGroup(ctx, group("compute")))
	must(t, r.CreateProductGroup(ctx, group("storage")))
	must(t, r.CreateMetric(ctx, metric("vm.vcpu")))
	must(t, r.CreateMetric(ctx, metric("storage.gb")))
	p := product("vcpu-gold", "compute", "vm.vcpu")
	must(t, r.CreateProduct(ctx, p))
	wantKind(t, r.CreateProduct(ctx, p), apperr.KindAlreadyExists)
	got, err := r.GetProduct(ctx, p.ID)
	must(t, err)
	same(t, got, p)

	noFilter := product("vcpu-all", "compute", "vm.vcpu")
	noFilter.DimensionFilter = nil
	must(t, r.CreateProduct(ctx, noFilter))
	must(t, r.CreateProduct(ctx, product("gb-gold", "storage", "storage.gb")))

	// A missing group or metric is NotFound even without the service's checks.
	wantKind(t, r.CreateProduct(ctx, product("x", "nope", "vm.vcpu")), apperr.KindNotFound)
	wantKind(t, r.CreateProduct(ctx, product("x", "compute", "no.metric")), apperr.KindNotFound)

	for _, tc := range []struct {
		p    catalog.ListProductsParams
		want []string
	}{
		{catalog.ListProductsParams{}, []string{"gb-gold", "vcpu-all", "vcpu-gold"}},
		{catalog.ListProductsParams{GroupID: "compute"}, []string{"vcpu-all", "vcpu-gold"}},
		{catalog.ListProductsParams{MetricKey: "storage.gb"}, []string{"gb-gold"}},
		{catalog.ListProductsParams{GroupID: "storage", MetricKey: "vm.vcpu"}, nil},
	} {
		ps, next, err := r.ListProducts(ctx, tc.p)
		must(t, err)
		var ids []string
		for _, p := range ps {
			ids = append(ids, p.ID)
		}
		same(t, ids, tc.want)
		same(t, next, "")
	}

	p.GroupID, p.DimensionFilter, p.Unit, p.UpdateTime = "storage", map[string]string{"policy": "Silver", "site": "A"}, "vCPU-h", day(2)
	must(t, r.UpdateProduct(ctx, p))
	got, _ = r.GetProduct(ctx, p.ID)
	same(t, got, p)
	must(t, r.DeleteProduct(ctx, p.ID))
	wantKind(t, r.DeleteProduct(ctx, p.ID), apperr.KindNotFound)
}

// testCatalogReferences checks the foreign keys that back the services'
// "still in use" checks: deleting what others refer to is FailedPrecondition.
func testCatalogReferences(t *testing.T, s Stores) {
	seedProduct(t, s, "p1")
	wantKind(t, s.Catalog.DeleteMetric(ctx, "m.p1"), apperr.KindFailedPrecondition)
	wantKind(t, s.Catalog.DeleteProductGroup(ctx, "g-p1"), apperr.KindFailedPrecondition)

	ref, err := s.Catalog.ProductReferrer(ctx, "p1")
	must(t, err)
	same(t, ref, "")
	must(t, s.Pricing.CreatePriceList(ctx, priceList("eur", "", "EUR")))
	must(t, s.Pricing.CreatePrice(ctx, price("eur", "pr1", "p1", day(0), day(10))))
	ref, err = s.Catalog.ProductReferrer(ctx, "p1")
	must(t, err)
	same(t, ref, "priceLists/eur/prices/pr1")
	wantKind(t, s.Catalog.DeleteProduct(ctx, "p1"), apperr.KindFailedPrecondition)
}
