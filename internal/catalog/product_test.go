package catalog_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/catalog"
	"github.com/billingd/billingd/internal/pricing"
	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

func gold() catalog.Product {
	return catalog.Product{ID: "vcpu-gold", GroupID: "compute", MetricKey: "vm.vcpu",
		DimensionFilter: map[string]string{"policy": "Gold"}, DisplayName: "vCPU Gold"}
}

func TestProductCRUD(t *testing.T) {
	t.Parallel()
	svc, _, _ := newService(t)
	seed(t, svc)
	p, err := svc.CreateProduct(ctx, catalog.CreateProductInput{Product: gold()})
	must(t, err)
	same(t, p.Unit, "vCPU") // defaults to the metric's unit
	got, err := svc.GetProduct(ctx, p.ID)
	must(t, err)
	same(t, got, p)

	_, err = svc.CreateProductGroup(ctx, catalog.CreateProductGroupInput{Group: catalog.ProductGroup{ID: "premium", DisplayName: "Premium"}})
	must(t, err)
	upd := catalog.Product{ID: p.ID, GroupID: "premium", DimensionFilter: map[string]string{"policy": "Platinum"}, Unit: "core"}
	p, err = svc.UpdateProduct(ctx, catalog.UpdateProductInput{Product: upd, UpdateMask: []string{"product_group_id", "dimension_filter", "unit"}})
	must(t, err)
	same(t, []any{p.GroupID, p.DimensionFilter, p.Unit, p.DisplayName}, []any{"premium", map[string]string{"policy": "Platinum"}, "core", "vCPU Gold"})

	// Clearing the unit falls back to the metric's unit again.
	p, err = svc.UpdateProduct(ctx, catalog.UpdateProductInput{Product: catalog.Product{ID: p.ID}, UpdateMask: []string{"unit"}})
	must(t, err)
	same(t, p.Unit, "vCPU")

	_, err = svc.UpdateProduct(ctx, catalog.UpdateProductInput{Product: catalog.Product{ID: p.ID, MetricKey: "x.y"}, UpdateMask: []string{"metric_key"}})
	wantFields(t, err, "update_mask")
	_, err = svc.UpdateProduct(ctx, catalog.UpdateProductInput{Product: catalog.Product{ID: p.ID, GroupID: "nope"}, UpdateMask: []string{"product_group_id"}})
	wantKind(t, err, apperr.KindNotFound)

	must(t, svc.DeleteProduct(ctx, p.ID))
	_, err = svc.GetProduct(ctx, p.ID)
	wantKind(t, err, apperr.KindNotFound)
}

func TestProductValidation(t *testing.T) {
	t.Parallel()
	svc, _, _ := newService(t)
	seed(t, svc)
	many := map[string]string{}
	for i := range 17 {
		many[fmt.Sprintf("k%d", i)] = "v"
	}
	for _, tc := range []struct {
		name   string
		edit   func(p *catalog.Product)
		fields []string
	}{
		{"bad id", func(p *catalog.Product) { p.ID = "-x" }, []string{"id"}},
		{"id too long", func(p *catalog.Product) { p.ID = strings.Repeat("a", 129) }, []string{"id"}},
		{"no group", func(p *catalog.Product) { p.GroupID = "" }, []string{"product_group_id"}},
		{"no metric", func(p *catalog.Product) { p.MetricKey = "" }, []string{"metric_key"}},
		{"bad metric key", func(p *catalog.Product) { p.MetricKey = "VM" }, []string{"metric_key"}},
		{"no display name", func(p *catalog.Product) { p.DisplayName = "" }, []string{"display_name"}},
		{"bad filter key", func(p *catalog.Product) { p.DimensionFilter = map[string]string{"a b": "x"} }, []string{"dimension_filter"}},
		{"long filter value", func(p *catalog.Product) { p.DimensionFilter = map[string]string{"k": strings.Repeat("v", 257)} }, []string{"dimension_filter[k]"}},
		{"too many pairs", func(p *catalog.Product) { p.DimensionFilter = many }, []string{"dimension_filter"}},
		{"long unit", func(p *catalog.Product) { p.Unit = strings.Repeat("u", 33) }, []string{"unit"}},
	} {
		p := gold()
		tc.edit(&p)
		_, err := svc.CreateProduct(ctx, catalog.CreateProductInput{Product: p})
		t.Run(tc.name, func(t *testing.T) { wantFields(t, err, tc.fields...) })
	}

	p := gold()
	p.GroupID = "nope"
	_, err := svc.CreateProduct(ctx, catalog.CreateProductInput{Product: p})
	wantKind(t, err, apperr.KindNotFound)
	p = gold()
	p.MetricKey = "no.metric"
	_, err = svc.CreateProduct(ctx, catalog.CreateProductInput{Product: p})
	wantKind(t, err, apperr.KindNotFound)

	ps, _, err := svc.ListProducts(ctx, catalog.ListProductsParams{})
	must(t, err)
	same(t, len(ps), 0)
}

func TestProductListPagesAndFilters(t *testing.T) {
	t.Parallel()
	svc, _, _ := newService(t)
	seed(t, svc)
	_, err := svc.CreateMetric(ctx, catalog.CreateMetricInput{Metric: catalog.Metric{Key: "storage.gb", Unit: "GB", Aggregation: catalog.AggregationMax}})
	must(t, err)
	for i := range 7 {
		p := gold()
		p.ID = fmt.Sprintf("p%d", i)
		if i == 6 {
			p.MetricKey = "storage.gb"
		}
		_, err := svc.CreateProduct(ctx, catalog.CreateProductInput{Product: p})
		must(t, err)
	}
	var sizes []int
	var tokens []string
	token := ""
	for {
		ps, next, err := svc.ListProducts(ctx, catalog.ListProductsParams{PageSize: 3, PageToken: token})
		must(t, err)
		sizes, tokens = append(sizes, len(ps)), append(tokens, next)
		if next == "" {
			break
		}
		token = next
	}
	same(t, sizes, []int{3, 3, 1})
	if tokens[0] == "" || tokens[1] == "" || tokens[0] == tokens[1] {
		t.Fatalf("tokens %q", tokens)
	}
	ps, _, err := svc.ListProducts(ctx, catalog.ListProductsParams{MetricKey: "storage.gb", GroupID: "compute"})
	must(t, err)
	same(t, len(ps), 1)
	_, _, err = svc.ListProducts(ctx, catalog.ListProductsParams{PageToken: "!!"})
	wantFields(t, err, "page_token")
}

func TestGroupsAndDeleteRules(t *testing.T) {
	t.Parallel()
	svc, store, _ := newService(t)
	seed(t, svc)
	g, err := svc.CreateProductGroup(ctx, catalog.CreateProductGroupInput{Group: catalog.ProductGroup{DisplayName: "Storage"}})
	must(t, err)
	if id, err := uuid.Parse(g.ID); err != nil || id.Version() != 7 {
		t.Fatalf("generated id %q is not a UUIDv7", g.ID)
	}
	_, err = svc.CreateProductGroup(ctx, catalog.CreateProductGroupInput{Group: catalog.ProductGroup{ID: "x"}})
	wantFields(t, err, "display_name")
	g, err = svc.UpdateProductGroup(ctx, catalog.UpdateProductGroupInput{Group: catalog.ProductGroup{ID: g.ID, DisplayName: "Disks"}})
	must(t, err)
	same(t, []any{g.DisplayName, g.Description}, []any{"Disks", ""})
	_, err = svc.UpdateProductGroup(ctx, catalog.UpdateProductGroupInput{Group: catalog.ProductGroup{ID: g.ID}, UpdateMask: []string{"id"}})
	wantFields(t, err, "update_mask")
	must(t, svc.DeleteProductGroup(ctx, g.ID))

	_, err = svc.CreateProduct(ctx, catalog.CreateProductInput{Product: gold()})
	must(t, err)
	err = svc.DeleteMetric(ctx, "vm.vcpu")
	wantKind(t, err, apperr.KindFailedPrecondition)
	if !strings.Contains(err.Error(), `"vcpu-gold"`) {
		t.Fatalf("message %q does not name the product", err)
	}
	wantKind(t, svc.DeleteProductGroup(ctx, "compute"), apperr.KindFailedPrecondition)

	// A product a price refers to cannot be deleted.
	ps := pricing.New(store.Pricing(), nil)
	_, err = ps.CreatePriceList(ctx, pricing.CreatePriceListInput{PriceList: pricing.PriceList{ID: "eur", DisplayName: "EUR", Currency: "EUR"}})
	must(t, err)
	_, err = ps.CreatePrice(ctx, pricing.CreatePriceInput{Price: pricing.Price{PriceListID: "eur", ID: "p1", ProductID: "vcpu-gold",
		UnitPrice: decimal.RequireFromString("0.01"), Granularity: pricing.GranularityHour, ValidFrom: t0}})
	must(t, err)
	err = svc.DeleteProduct(ctx, "vcpu-gold")
	wantKind(t, err, apperr.KindFailedPrecondition)
	if !strings.Contains(err.Error(), "priceLists/eur/prices/p1") {
		t.Fatalf("message %q does not name the price", err)
	}
}

func TestIdempotentCreate(t *testing.T) {
	t.Parallel()
	svc, _, clk := newService(t)
	seed(t, svc)
	const rid = "0190f7c6-8a3e-7cc1-b2b0-5c1d8a2f0e11"
	in := catalog.CreateProductInput{Product: gold(), RequestID: rid}
	in.Product.ID = "" // generated: a replay must not create a second product
	first, err := svc.CreateProduct(ctx, in)
	must(t, err)
	clk.Advance(1)
	again, err := svc.CreateProduct(ctx, in)
	must(t, err)
	same(t, again, first)
	ps, _, _ := svc.ListProducts(ctx, catalog.ListProductsParams{})
	same(t, len(ps), 1)

	// The same request id for another kind of resource is refused.
	_, err = svc.CreateProductGroup(ctx, catalog.CreateProductGroupInput{Group: catalog.ProductGroup{DisplayName: "x"}, RequestID: rid})
	wantKind(t, err, apperr.KindAlreadyExists)

	// Concurrent retries of one request create one group.
	const rid2 = "0190f7c6-8a3e-7cc1-b2b0-5c1d8a2f0e12"
	var wg sync.WaitGroup
	ids := make([]string, 4)
	errs := make([]error, 4)
	for i := range ids {
		wg.Go(func() {
			g, err := svc.CreateProductGroup(ctx, catalog.CreateProductGroupInput{Group: catalog.ProductGroup{DisplayName: "Race"}, RequestID: rid2})
			ids[i], errs[i] = g.ID, err
		})
	}
	wg.Wait()
	for i := range ids {
		must(t, errs[i])
		same(t, ids[i], ids[0])
	}
	gs, _, _ := svc.ListProductGroups(ctx, catalog.ListProductGroupsParams{})
	same(t, len(gs), 2) // compute and the raced one
}
