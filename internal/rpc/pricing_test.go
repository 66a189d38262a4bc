package rpc_test

import (
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/catalog"
)

func at(y int, m time.Month, d int) *timestamppb.Timestamp {
	return timestamppb.New(time.Date(y, m, d, 0, 0, 0, 0, time.UTC))
}

// createProducts sets up a metric, a group and products with these ids.
func createProducts(t *testing.T, env *cpEnv, productIDs ...string) {
	t.Helper()
	ctx := cpCtx(t)
	if _, err := env.catalog.CreateMetric(ctx, catalog.CreateMetricInput{Metric: catalog.Metric{
		Key: "vm.vcpu", DisplayName: "vCPU", Unit: "vCPU", Aggregation: catalog.AggregationTimeWeightedAvg,
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.catalog.CreateProductGroup(ctx, catalog.CreateProductGroupInput{Group: catalog.ProductGroup{ID: "compute", DisplayName: "Compute"}}); err != nil {
		t.Fatal(err)
	}
	for _, id := range productIDs {
		if _, err := env.catalog.CreateProduct(ctx, catalog.CreateProductInput{Product: catalog.Product{
			ID: id, GroupID: "compute", MetricKey: "vm.vcpu", DisplayName: "Product " + id,
		}}); err != nil {
			t.Fatal(err)
		}
	}
}

func createPriceList(t *testing.T, env *cpEnv, id, customerID, currency string) *billingv1.PriceList {
	t.Helper()
	return cpMust[*billingv1.CreatePriceListResponse](t)(env.pricing.CreatePriceList(cpCtx(t), &billingv1.CreatePriceListRequest{
		PriceList: &billingv1.PriceList{Id: id, DisplayName: "List " + id, Currency: currency, CustomerId: customerID},
	})).GetPriceList()
}

func TestPriceListRoundTrip(t *testing.T) {
	t.Parallel()
	env := newCPEnv(t)
	ctx := cpCtx(t)
	ps := env.pricing
	createCustomer(t, env, "c1")

	def := cpMust[*billingv1.CreatePriceListResponse](t)(ps.CreatePriceList(ctx, &billingv1.CreatePriceListRequest{
		PriceList: &billingv1.PriceList{Id: "pl-default", DisplayName: "Default EUR", Currency: "EUR"},
		RequestId: "0199a3c4-0000-7000-8000-000000000002",
	})).GetPriceList()
	if def.GetId() != "pl-default" || def.GetCustomerId() != "" || def.GetCurrency() != "EUR" || def.GetCreateTime() == nil {
		t.Fatalf("created %v", def)
	}
	wantEqual(t, cpMust[*billingv1.GetPriceListResponse](t)(ps.GetPriceList(ctx, &billingv1.GetPriceListRequest{PriceListId: "pl-default"})).GetPriceList(), def)
	cust := createPriceList(t, env, "pl-c1", "c1", "EUR")
	if cust.GetCustomerId() != "c1" {
		t.Fatalf("created %v", cust)
	}
	usd := createPriceList(t, env, "", "", "USD")

	p1 := cpMust[*billingv1.ListPriceListsResponse](t)(ps.ListPriceLists(ctx, &billingv1.ListPriceListsRequest{PageSize: 2}))
	wantIDs(t, ids(p1.GetPriceLists()), usd.GetId(), "pl-c1") // a UUIDv7 sorts first
	p2 := cpMust[*billingv1.ListPriceListsResponse](t)(ps.ListPriceLists(ctx, &billingv1.ListPriceListsRequest{PageSize: 2, PageToken: p1.GetNextPageToken()}))
	wantIDs(t, ids(p2.GetPriceLists()), "pl-default")
	byCustomer := cpMust[*billingv1.ListPriceListsResponse](t)(ps.ListPriceLists(ctx, &billingv1.ListPriceListsRequest{CustomerId: "c1"}))
	wantIDs(t, ids(byCustomer.GetPriceLists()), "pl-c1")
	defaults := cpMust[*billingv1.ListPriceListsResponse](t)(ps.ListPriceLists(ctx, &billingv1.ListPriceListsRequest{DefaultOnly: true}))
	wantIDs(t, ids(defaults.GetPriceLists()), usd.GetId(), "pl-default")
	_, err := ps.ListPriceLists(ctx, &billingv1.ListPriceListsRequest{DefaultOnly: true, CustomerId: "c1"})
	wantViolations(t, err, "customer_id")

	upd := cpMust[*billingv1.UpdatePriceListResponse](t)(ps.UpdatePriceList(ctx, &billingv1.UpdatePriceListRequest{
		PriceList: &billingv1.PriceList{Id: "pl-c1", DisplayName: "C1 EUR", Currency: "USD"}, UpdateMask: mask("display_name"),
	})).GetPriceList()
	if upd.GetDisplayName() != "C1 EUR" || upd.GetCurrency() != "EUR" || upd.GetCustomerId() != "c1" {
		t.Fatalf("updated %v", upd)
	}
	wantEqual(t, cpMust[*billingv1.GetPriceListResponse](t)(ps.GetPriceList(ctx, &billingv1.GetPriceListRequest{PriceListId: "pl-c1"})).GetPriceList(), upd)

	// A customer with a price list cannot be deleted.
	_, err = env.customers.DeleteCustomer(ctx, &billingv1.DeleteCustomerRequest{CustomerId: "c1"})
	wantCode(t, err, codes.FailedPrecondition)

	cpMust[*billingv1.DeletePriceListResponse](t)(ps.DeletePriceList(ctx, &billingv1.DeletePriceListRequest{PriceListId: usd.GetId()}))
	_, err = ps.GetPriceList(ctx, &billingv1.GetPriceListRequest{PriceListId: usd.GetId()})
	wantCode(t, err, codes.NotFound)
	_, err = ps.DeletePriceList(ctx, &billingv1.DeletePriceListRequest{PriceListId: usd.GetId()})
	wantCode(t, err, codes.NotFound)
}

func TestPriceListErrors(t *testing.T) {
	t.Parallel()
	env := newCPEnv(t)
	ctx := cpCtx(t)
	ps := env.pricing
	createCustomer(t, env, "c1")
	createPriceList(t, env, "pl-default", "", "EUR")
	createPriceList(t, env, "pl-c1", "c1", "EUR")
	before := cpMust[*billingv1.ListPriceListsResponse](t)(ps.ListPriceLists(ctx, &billingv1.ListPriceListsRequest{}))

	create := func(l *billingv1.PriceList) func() error {
		return func() error {
			_, err := ps.CreatePriceList(ctx, &billingv1.CreatePriceListRequest{PriceList: l})
			return err
		}
	}
	for _, tc := range []struct {
		name   string
		call   func() error
		code   codes.Code
		fields []string
	}{
		{"lower-case currency", create(&billingv1.PriceList{DisplayName: "x", Currency: "eur"}), codes.InvalidArgument, []string{"price_list.currency"}},
		{"unknown currency", create(&billingv1.PriceList{DisplayName: "x", Currency: "ZZZ"}), codes.InvalidArgument, []string{"price_list.currency"}},
		{"no display name", create(&billingv1.PriceList{Currency: "EUR"}), codes.InvalidArgument, []string{"price_list.display_name"}},
		{"second default list in a currency", create(&billingv1.PriceList{Id: "pl-2", DisplayName: "x", Currency: "EUR"}), codes.AlreadyExists, nil},
		{"second customer list in a currency", create(&billingv1.PriceList{Id: "pl-3", DisplayName: "x", Currency: "EUR", CustomerId: "c1"}), codes.AlreadyExists, nil},
		{"taken id", create(&billingv1.PriceList{Id: "pl-c1", DisplayName: "x", Currency: "USD"}), codes.AlreadyExists, nil},
		{"unknown customer", create(&billingv1.PriceList{DisplayName: "x", Currency: "EUR", CustomerId: "nope"}), codes.NotFound, nil},
		{"immutable currency", func() error {
			_, err := ps.UpdatePriceList(ctx, &billingv1.UpdatePriceListRequest{PriceList: &billingv1.PriceList{Id: "pl-c1", Currency: "USD"}, UpdateMask: mask("currency")})
			return err
		}, codes.InvalidArgument, []string{"update_mask"}},
		{"update without resource", func() error {
			_, err := ps.UpdatePriceList(ctx, &billingv1.UpdatePriceListRequest{})
			return err
		}, codes.InvalidArgument, []string{"price_list"}},
		{"update of an unknown list", func() error {
			_, err := ps.UpdatePriceList(ctx, &billingv1.UpdatePriceListRequest{PriceList: &billingv1.PriceList{Id: "nope", DisplayName: "x"}})
			return err
		}, codes.NotFound, nil},
		{"unknown list", func() error {
			_, err := ps.GetPriceList(ctx, &billingv1.GetPriceListRequest{PriceListId: "nope"})
			return err
		}, codes.NotFound, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if tc.code == codes.InvalidArgument {
				wantViolations(t, err, tc.fields...)
			} else {
				wantCode(t, err, tc.code)
			}
		})
	}
	wantEqual(t, cpMust[*billingv1.ListPriceListsResponse](t)(ps.ListPriceLists(ctx, &billingv1.ListPriceListsRequest{})), before)
}

func TestPriceRoundTrip(t *testing.T) {
	t.Parallel()
	env := newCPEnv(t)
	ctx := cpCtx(t)
	ps := env.pricing
	createProducts(t, env, "p1", "p2")
	createPriceList(t, env, "pl", "", "EUR")

	// The list comes from the path, whatever the body says.
	pr1 := cpMust[*billingv1.CreatePriceResponse](t)(ps.CreatePrice(ctx, &billingv1.CreatePriceRequest{
		PriceListId: "pl",
		Price: &billingv1.Price{
			Id: "pr1", PriceListId: "other", ProductId: "p1", UnitPrice: "0.0125",
			Granularity: billingv1.Granularity_GRANULARITY_HOUR, ValidFrom: at(2026, 1, 1), ValidTo: at(2026, 2, 1),
		},
	})).GetPrice()
	if pr1.GetPriceListId() != "pl" || pr1.GetUnitPrice() != "0.0125" || pr1.GetGranularity() != billingv1.Granularity_GRANULARITY_HOUR ||
		pr1.GetTierMode() != billingv1.TierMode_TIER_MODE_UNSPECIFIED || pr1.GetCreateTime() == nil {
		t.Fatalf("created %v", pr1)
	}
	wantEqual(t, cpMust[*billingv1.GetPriceResponse](t)(ps.GetPrice(ctx, &billingv1.GetPriceRequest{PriceListId: "pl", PriceId: "pr1"})).GetPrice(), pr1)

	pr2 := cpMust[*billingv1.CreatePriceResponse](t)(ps.CreatePrice(ctx, &billingv1.CreatePriceRequest{
		PriceListId: "pl",
		Price: &billingv1.Price{
			Id: "pr2", ProductId: "p1", UnitPrice: "0.011", Granularity: billingv1.Granularity_GRANULARITY_HOUR, ValidFrom: at(2026, 2, 1),
		},
	})).GetPrice()
	if pr2.GetValidTo() != nil {
		t.Fatalf("open-ended price has valid_to %v", pr2.GetValidTo())
	}

	// A tiered price: no unit price, the last tier unbounded.
	pr3 := cpMust[*billingv1.CreatePriceResponse](t)(ps.CreatePrice(ctx, &billingv1.CreatePriceRequest{
		PriceListId: "pl",
		Price: &billingv1.Price{
			Id: "pr3", ProductId: "p2", Granularity: billingv1.Granularity_GRANULARITY_MONTH, ValidFrom: at(2026, 1, 1), ValidTo: at(2027, 1, 1),
			TierMode: billingv1.TierMode_TIER_MODE_VOLUME,
			Tiers:    []*billingv1.Tier{{UpTo: "10", UnitPrice: "1.5"}, {UnitPrice: "1.25"}},
		},
	})).GetPrice()
	if pr3.GetUnitPrice() != "" || pr3.GetTierMode() != billingv1.TierMode_TIER_MODE_VOLUME || len(pr3.GetTiers()) != 2 ||
		pr3.GetTiers()[0].GetUpTo() != "10" || pr3.GetTiers()[1].GetUpTo() != "" || pr3.GetTiers()[1].GetUnitPrice() != "1.25" {
		t.Fatalf("created %v", pr3)
	}
	wantEqual(t, cpMust[*billingv1.GetPriceResponse](t)(ps.GetPrice(ctx, &billingv1.GetPriceRequest{PriceListId: "pl", PriceId: "pr3"})).GetPrice(), pr3)
	pr4 := cpMust[*billingv1.CreatePriceResponse](t)(ps.CreatePrice(ctx, &billingv1.CreatePriceRequest{
		PriceListId: "pl",
		Price: &billingv1.Price{
			Id: "pr4", ProductId: "p2", Granularity: billingv1.Granularity_GRANULARITY_DAY, ValidFrom: at(2027, 1, 1),
			TierMode: billingv1.TierMode_TIER_MODE_GRADUATED,
			Tiers:    []*billingv1.Tier{{UpTo: "5", UnitPrice: "2"}, {UpTo: "10.5", UnitPrice: "1"}, {UnitPrice: "0"}},
		},
	})).GetPrice()
	if pr4.GetTierMode() != billingv1.TierMode_TIER_MODE_GRADUATED || pr4.GetGranularity() != billingv1.Granularity_GRANULARITY_DAY ||
		len(pr4.GetTiers()) != 3 || pr4.GetTiers()[1].GetUpTo() != "10.5" || pr4.GetTiers()[2].GetUnitPrice() != "0" {
		t.Fatalf("created %v", pr4)
	}

	p1 := cpMust[*billingv1.ListPricesResponse](t)(ps.ListPrices(ctx, &billingv1.ListPricesRequest{PriceListId: "pl", PageSize: 2}))
	wantIDs(t, ids(p1.GetPrices()), "pr1", "pr2")
	p2 := cpMust[*billingv1.ListPricesResponse](t)(ps.ListPrices(ctx, &billingv1.ListPricesRequest{PriceListId: "pl", PageSize: 2, PageToken: p1.GetNextPageToken()}))
	wantIDs(t, ids(p2.GetPrices()), "pr3", "pr4")
	wantEqual(t, p2.GetPrices()[0], pr3)
	wantEqual(t, p2.GetPrices()[1], pr4)
	byProduct := cpMust[*billingv1.ListPricesResponse](t)(ps.ListPrices(ctx, &billingv1.ListPricesRequest{PriceListId: "pl", ProductId: "p2"}))
	wantIDs(t, ids(byProduct.GetPrices()), "pr3", "pr4")

	// Update selects the price by its own price_list_id and id.
	upd := cpMust[*billingv1.UpdatePriceResponse](t)(ps.UpdatePrice(ctx, &billingv1.UpdatePriceRequest{
		Price:      &billingv1.Price{PriceListId: "pl", Id: "pr1", UnitPrice: "0.0130", Granularity: billingv1.Granularity_GRANULARITY_DAY},
		UpdateMask: mask("unit_price"),
	})).GetPrice()
	if upd.GetUnitPrice() != "0.013" || upd.GetGranularity() != billingv1.Granularity_GRANULARITY_HOUR || !proto.Equal(upd.GetValidTo(), pr1.GetValidTo()) {
		t.Fatalf("updated %v", upd)
	}
	wantEqual(t, cpMust[*billingv1.GetPriceResponse](t)(ps.GetPrice(ctx, &billingv1.GetPriceRequest{PriceListId: "pl", PriceId: "pr1"})).GetPrice(), upd)

	// Tiers can be replaced by a flat price in one update.
	flat := cpMust[*billingv1.UpdatePriceResponse](t)(ps.UpdatePrice(ctx, &billingv1.UpdatePriceRequest{
		Price:      &billingv1.Price{PriceListId: "pl", Id: "pr3", UnitPrice: "2"},
		UpdateMask: mask("unit_price", "tier_mode", "tiers"),
	})).GetPrice()
	if flat.GetUnitPrice() != "2" || len(flat.GetTiers()) != 0 || flat.GetTierMode() != billingv1.TierMode_TIER_MODE_UNSPECIFIED {
		t.Fatalf("updated %v", flat)
	}

	// A list with prices cannot go; its prices can.
	_, err := ps.DeletePriceList(ctx, &billingv1.DeletePriceListRequest{PriceListId: "pl"})
	wantCode(t, err, codes.FailedPrecondition)
	for _, id := range []string{"pr1", "pr2", "pr3", "pr4"} {
		cpMust[*billingv1.DeletePriceResponse](t)(ps.DeletePrice(ctx, &billingv1.DeletePriceRequest{PriceListId: "pl", PriceId: id}))
	}
	_, err = ps.GetPrice(ctx, &billingv1.GetPriceRequest{PriceListId: "pl", PriceId: "pr1"})
	wantCode(t, err, codes.NotFound)
	_, err = ps.DeletePrice(ctx, &billingv1.DeletePriceRequest{PriceListId: "pl", PriceId: "pr1"})
	wantCode(t, err, codes.NotFound)
	cpMust[*billingv1.DeletePriceListResponse](t)(ps.DeletePriceList(ctx, &billingv1.DeletePriceListRequest{PriceListId: "pl"}))
}

func TestPriceErrors(t *testing.T) {
	t.Parallel()
	env := newCPEnv(t)
	ctx := cpCtx(t)
	ps := env.pricing
	createProducts(t, env, "p1")
	createPriceList(t, env, "pl", "", "EUR")
	hourly := billingv1.Granularity_GRANULARITY_HOUR
	for _, p := range []*billingv1.Price{
		{Id: "jan", ProductId: "p1", UnitPrice: "1", Granularity: hourly, ValidFrom: at(2026, 1, 1), ValidTo: at(2026, 2, 1)},
		{Id: "mar", ProductId: "p1", UnitPrice: "1", Granularity: hourly, ValidFrom: at(2026, 3, 1)},
	} {
		cpMust[*billingv1.CreatePriceResponse](t)(ps.CreatePrice(ctx, &billingv1.CreatePriceRequest{PriceListId: "pl", Price: p}))
	}
	list := func() *billingv1.ListPricesResponse {
		return cpMust[*billingv1.ListPricesResponse](t)(ps.ListPrices(ctx, &billingv1.ListPricesRequest{PriceListId: "pl"}))
	}
	before := list()

	create := func(list string, p *billingv1.Price) func() error {
		return func() error {
			_, err := ps.CreatePrice(ctx, &billingv1.CreatePriceRequest{PriceListId: list, Price: p})
			return err
		}
	}
	update := func(p *billingv1.Price, paths ...string) func() error {
		return func() error {
			p.PriceListId = "pl"
			_, err := ps.UpdatePrice(ctx, &billingv1.UpdatePriceRequest{Price: p, UpdateMask: mask(paths...)})
			return err
		}
	}
	valid := func(mod func(p *billingv1.Price)) *billingv1.Price {
		p := &billingv1.Price{ProductId: "p1", UnitPrice: "1", Granularity: hourly, ValidFrom: at(2026, 2, 1), ValidTo: at(2026, 3, 1)}
		mod(p)
		return p
	}
	for _, tc := range []struct {
		name   string
		call   func() error
		code   codes.Code
		fields []string
	}{
		{"malformed unit price", create("pl", valid(func(p *billingv1.Price) { p.UnitPrice = "1,5" })), codes.InvalidArgument, []string{"price.unit_price"}},
		{"negative unit price", create("pl", valid(func(p *billingv1.Price) { p.UnitPrice = "-1" })), codes.InvalidArgument, []string{"price.unit_price"}},
		{"period granularity", create("pl", valid(func(p *billingv1.Price) { p.Granularity = billingv1.Granularity_GRANULARITY_PERIOD })), codes.InvalidArgument, []string{"price.granularity"}},
		{"no valid_from", create("pl", valid(func(p *billingv1.Price) { p.ValidFrom = nil })), codes.InvalidArgument, []string{"price.valid_from"}},
		{"unit price and tiers", create("pl", valid(func(p *billingv1.Price) {
			p.TierMode, p.Tiers = billingv1.TierMode_TIER_MODE_GRADUATED, []*billingv1.Tier{{UnitPrice: "1"}}
		})), codes.InvalidArgument, []string{"price"}},
		{"bounded last tier", create("pl", valid(func(p *billingv1.Price) {
			p.UnitPrice, p.TierMode = "", billingv1.TierMode_TIER_MODE_GRADUATED
			p.Tiers = []*billingv1.Tier{{UpTo: "10", UnitPrice: "1"}, {UpTo: "20", UnitPrice: "0.5"}}
		})), codes.InvalidArgument, []string{"price.tiers[1].up_to"}},
		{"bad list id in the path", create("", valid(func(*billingv1.Price) {})), codes.InvalidArgument, []string{"price_list_id"}},
		{"overlapping window", create("pl", valid(func(p *billingv1.Price) { p.ValidFrom, p.ValidTo = at(2026, 1, 15), at(2026, 1, 20) })), codes.FailedPrecondition, nil},
		{"overlapping open end", create("pl", valid(func(p *billingv1.Price) { p.ValidTo = nil })), codes.FailedPrecondition, nil},
		{"unknown product", create("pl", valid(func(p *billingv1.Price) { p.ProductId = "nope" })), codes.NotFound, nil},
		{"unknown list", create("nope", valid(func(*billingv1.Price) {})), codes.NotFound, nil},
		{"taken id", create("pl", valid(func(p *billingv1.Price) { p.Id = "jan" })), codes.AlreadyExists, nil},

		{"update to a malformed unit price", update(&billingv1.Price{Id: "jan", UnitPrice: "1,5"}, "unit_price"), codes.InvalidArgument, []string{"price.unit_price"}},
		{"update to a malformed tier", update(&billingv1.Price{Id: "jan", Tiers: []*billingv1.Tier{{UpTo: "x", UnitPrice: "1"}}}, "tiers"), codes.InvalidArgument, []string{"price.tiers[0].up_to"}},
		{"update to period granularity", update(&billingv1.Price{Id: "jan", Granularity: billingv1.Granularity_GRANULARITY_PERIOD}, "granularity"), codes.InvalidArgument, []string{"price.granularity"}},
		{"update to an inverted window", update(&billingv1.Price{Id: "jan", ValidTo: at(2025, 1, 1)}, "valid_to"), codes.InvalidArgument, []string{"price.valid_to"}},
		{"update of the product", update(&billingv1.Price{Id: "jan", ProductId: "p2"}, "product_id"), codes.InvalidArgument, []string{"update_mask"}},
		{"update into an overlap", update(&billingv1.Price{Id: "jan", ValidTo: at(2026, 4, 1)}, "valid_to"), codes.FailedPrecondition, nil},
		{"update of an unknown price", update(&billingv1.Price{Id: "nope", UnitPrice: "1"}, "unit_price"), codes.NotFound, nil},
		{"update without resource", func() error {
			_, err := ps.UpdatePrice(ctx, &billingv1.UpdatePriceRequest{UpdateMask: mask("unit_price")})
			return err
		}, codes.InvalidArgument, []string{"price"}},
		{"unknown price", func() error {
			_, err := ps.GetPrice(ctx, &billingv1.GetPriceRequest{PriceListId: "pl", PriceId: "nope"})
			return err
		}, codes.NotFound, nil},
		{"prices of an unknown list", func() error {
			_, err := ps.ListPrices(ctx, &billingv1.ListPricesRequest{PriceListId: "nope"})
			return err
		}, codes.NotFound, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if tc.code == codes.InvalidArgument {
				wantViolations(t, err, tc.fields...)
			} else {
				wantCode(t, err, tc.code)
			}
		})
	}
	wantEqual(t, list(), before)
}

func TestCampaignRoundTrip(t *testing.T) {
	t.Parallel()
	env := newCPEnv(t)
	ctx := cpCtx(t)
	ps := env.pricing
	createCustomer(t, env, "c1")
	createProducts(t, env, "p1", "p2")

	c1 := cpMust[*billingv1.CreateCampaignResponse](t)(ps.CreateCampaign(ctx, &billingv1.CreateCampaignRequest{
		Campaign: &billingv1.Campaign{
			Id: "camp1", DisplayName: "Spring", CustomerId: "c1", Currency: "EUR",
			ValidFrom: at(2026, 3, 1), ValidTo: at(2026, 6, 1), Priority: 10,
			Entries: []*billingv1.CampaignEntry{{ProductId: "p2", UnitPrice: "0.01"}, {ProductId: "p1", DiscountPercent: "25"}},
		},
	})).GetCampaign()
	if c1.GetPriority() != 10 || len(c1.GetEntries()) != 2 || c1.GetEntries()[0].GetProductId() != "p2" ||
		c1.GetEntries()[0].GetUnitPrice() != "0.01" || c1.GetEntries()[0].GetDiscountPercent() != "" ||
		c1.GetEntries()[1].GetDiscountPercent() != "25" || c1.GetEntries()[1].GetUnitPrice() != "" {
		t.Fatalf("created %v", c1)
	}
	wantEqual(t, cpMust[*billingv1.GetCampaignResponse](t)(ps.GetCampaign(ctx, &billingv1.GetCampaignRequest{CampaignId: "camp1"})).GetCampaign(), c1)
	cpMust[*billingv1.CreateCampaignResponse](t)(ps.CreateCampaign(ctx, &billingv1.CreateCampaignRequest{
		Campaign: &billingv1.Campaign{
			Id: "camp2", DisplayName: "Everyone", Currency: "EUR", ValidFrom: at(2026, 3, 1), ValidTo: at(2026, 4, 1),
			Entries: []*billingv1.CampaignEntry{{ProductId: "p1", DiscountPercent: "10"}},
		},
	}))

	p1 := cpMust[*billingv1.ListCampaignsResponse](t)(ps.ListCampaigns(ctx, &billingv1.ListCampaignsRequest{PageSize: 1}))
	wantIDs(t, ids(p1.GetCampaigns()), "camp1")
	wantEqual(t, p1.GetCampaigns()[0], c1)
	p2 := cpMust[*billingv1.ListCampaignsResponse](t)(ps.ListCampaigns(ctx, &billingv1.ListCampaignsRequest{PageSize: 1, PageToken: p1.GetNextPageToken()}))
	wantIDs(t, ids(p2.GetCampaigns()), "camp2")
	byCustomer := cpMust[*billingv1.ListCampaignsResponse](t)(ps.ListCampaigns(ctx, &billingv1.ListCampaignsRequest{CustomerId: "c1"}))
	wantIDs(t, ids(byCustomer.GetCampaigns()), "camp1")
	upd := cpMust[*billingv1.UpdateCampaignResponse](t)(ps.UpdateCampaign(ctx, &billingv1.UpdateCampaignRequest{
		Campaign: &billingv1.Campaign{
			Id: "camp1", Priority: 99, Entries: []*billingv1.CampaignEntry{{ProductId: "p1", DiscountPercent: "50.5"}},
		},
		UpdateMask: mask("entries"),
	})).GetCampaign()
	if upd.GetPriority() != 10 || len(upd.GetEntries()) != 1 || upd.GetEntries()[0].GetDiscountPercent() != "50.5" {
		t.Fatalf("updated %v", upd)
	}
	wantEqual(t, cpMust[*billingv1.GetCampaignResponse](t)(ps.GetCampaign(ctx, &billingv1.GetCampaignRequest{CampaignId: "camp1"})).GetCampaign(), upd)
	before := cpMust[*billingv1.ListCampaignsResponse](t)(ps.ListCampaigns(ctx, &billingv1.ListCampaignsRequest{}))

	create := func(mod func(c *billingv1.Campaign)) func() error {
		return func() error {
			c := &billingv1.Campaign{
				DisplayName: "x", Currency: "EUR", ValidFrom: at(2026, 3, 1), ValidTo: at(2026, 4, 1),
				Entries: []*billingv1.CampaignEntry{{ProductId: "p1", UnitPrice: "1"}},
			}
			mod(c)
			_, err := ps.CreateCampaign(ctx, &billingv1.CreateCampaignRequest{Campaign: c})
			return err
		}
	}
	update := func(c *billingv1.Campaign, paths ...string) func() error {
		return func() error {
			_, err := ps.UpdateCampaign(ctx, &billingv1.UpdateCampaignRequest{Campaign: c, UpdateMask: mask(paths...)})
			return err
		}
	}
	for _, tc := range []struct {
		name   string
		call   func() error
		code   codes.Code
		fields []string
	}{
		{"discount above 100", create(func(c *billingv1.Campaign) {
			c.Entries = []*billingv1.CampaignEntry{{ProductId: "p1", DiscountPercent: "150"}}
		}), codes.InvalidArgument, []string{"campaign.entries[0].discount_percent"}},
		{"duplicate product", create(func(c *billingv1.Campaign) {
			c.Entries = append(c.Entries, &billingv1.CampaignEntry{ProductId: "p1", DiscountPercent: "5"})
		}), codes.InvalidArgument, []string{"campaign.entries[1].product_id"}},
		{"no end", create(func(c *billingv1.Campaign) { c.ValidTo = nil }), codes.InvalidArgument, []string{"campaign.valid_to"}},
		{"no entries", create(func(c *billingv1.Campaign) { c.Entries = nil }), codes.InvalidArgument, []string{"campaign.entries"}},
		{"unknown product", create(func(c *billingv1.Campaign) { c.Entries[0].ProductId = "nope" }), codes.NotFound, nil},
		{"unknown customer", create(func(c *billingv1.Campaign) { c.CustomerId = "nope" }), codes.NotFound, nil},
		{"update to a malformed price", update(&billingv1.Campaign{Id: "camp1", Entries: []*billingv1.CampaignEntry{{ProductId: "p1", UnitPrice: "ten"}}}, "entries"), codes.InvalidArgument, []string{"campaign.entries[0].unit_price"}},
		{"update to an inverted window", update(&billingv1.Campaign{Id: "camp1", ValidTo: at(2026, 1, 1)}, "valid_to"), codes.InvalidArgument, []string{"campaign.valid_to"}},
		{"update of the currency", update(&billingv1.Campaign{Id: "camp1", Currency: "USD"}, "currency"), codes.InvalidArgument, []string{"update_mask"}},
		{"update to an unknown product", update(&billingv1.Campaign{Id: "camp1", Entries: []*billingv1.CampaignEntry{{ProductId: "nope", UnitPrice: "1"}}}, "entries"), codes.NotFound, nil},
		{"update without resource", func() error {
			_, err := ps.UpdateCampaign(ctx, &billingv1.UpdateCampaignRequest{})
			return err
		}, codes.InvalidArgument, []string{"campaign"}},
		{"unknown campaign", func() error {
			_, err := ps.GetCampaign(ctx, &billingv1.GetCampaignRequest{CampaignId: "nope"})
			return err
		}, codes.NotFound, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if tc.code == codes.InvalidArgument {
				wantViolations(t, err, tc.fields...)
			} else {
				wantCode(t, err, tc.code)
			}
		})
	}
	wantEqual(t, cpMust[*billingv1.ListCampaignsResponse](t)(ps.ListCampaigns(ctx, &billingv1.ListCampaignsRequest{})), before)

	cpMust[*billingv1.DeleteCampaignResponse](t)(ps.DeleteCampaign(ctx, &billingv1.DeleteCampaignRequest{CampaignId: "camp1"}))
	_, err := ps.GetCampaign(ctx, &billingv1.GetCampaignRequest{CampaignId: "camp1"})
	wantCode(t, err, codes.NotFound)
	_, err = ps.DeleteCampaign(ctx, &billingv1.DeleteCampaignRequest{CampaignId: "camp1"})
	wantCode(t, err, codes.NotFound)
}

func TestContractRoundTrip(t *testing.T) {
	t.Parallel()
	env := newCPEnv(t)
	ctx := cpCtx(t)
	ps := env.pricing
	createCustomer(t, env, "c1")
	createCustomer(t, env, "c2")
	createProducts(t, env, "p1")

	k1 := cpMust[*billingv1.CreateContractResponse](t)(ps.CreateContract(ctx, &billingv1.CreateContractRequest{
		Contract: &billingv1.Contract{
			Id: "k1", CustomerId: "c1", ProductId: "p1", Model: billingv1.ContractModel_CONTRACT_MODEL_COMMITTED_OVERAGE,
			CommittedQuantity: "10", Fee: "100.50", FeeGranularity: billingv1.Granularity_GRANULARITY_MONTH, OverageUnitPrice: "0.02",
			Currency: "EUR", StartTime: at(2026, 1, 1), EndTime: at(2027, 1, 1), Proration: billingv1.Proration_PRORATION_DAILY,
		},
	})).GetContract()
	if k1.GetModel() != billingv1.ContractModel_CONTRACT_MODEL_COMMITTED_OVERAGE || k1.GetFee() != "100.5" || k1.GetCommittedQuantity() != "10" ||
		k1.GetOverageUnitPrice() != "0.02" || k1.GetFeeGranularity() != billingv1.Granularity_GRANULARITY_MONTH ||
		k1.GetProration() != billingv1.Proration_PRORATION_DAILY || k1.GetCreateTime() == nil {
		t.Fatalf("created %v", k1)
	}
	wantEqual(t, cpMust[*billingv1.GetContractResponse](t)(ps.GetContract(ctx, &billingv1.GetContractRequest{ContractId: "k1"})).GetContract(), k1)
	k2 := cpMust[*billingv1.CreateContractResponse](t)(ps.CreateContract(ctx, &billingv1.CreateContractRequest{
		Contract: &billingv1.Contract{
			Id: "k2", CustomerId: "c1", ProductId: "p1", Model: billingv1.ContractModel_CONTRACT_MODEL_COMMITTED,
			CommittedQuantity: "4", Fee: "40", FeeGranularity: billingv1.Granularity_GRANULARITY_DAY,
			Currency: "EUR", StartTime: at(2027, 1, 1), Proration: billingv1.Proration_PRORATION_NONE,
		},
	})).GetContract()
	if k2.GetOverageUnitPrice() != "" || k2.GetEndTime() != nil || k2.GetProration() != billingv1.Proration_PRORATION_NONE ||
		k2.GetModel() != billingv1.ContractModel_CONTRACT_MODEL_COMMITTED || k2.GetFeeGranularity() != billingv1.Granularity_GRANULARITY_DAY {
		t.Fatalf("created %v", k2)
	}
	k3 := cpMust[*billingv1.CreateContractResponse](t)(ps.CreateContract(ctx, &billingv1.CreateContractRequest{
		Contract: &billingv1.Contract{
			Id: "k3", CustomerId: "c2", ProductId: "p1", Model: billingv1.ContractModel_CONTRACT_MODEL_COMMITTED,
			CommittedQuantity: "1", Fee: "1", FeeGranularity: billingv1.Granularity_GRANULARITY_HOUR,
			Currency: "USD", StartTime: at(2026, 1, 1), Proration: billingv1.Proration_PRORATION_HOURLY,
		},
	})).GetContract()
	if k3.GetProration() != billingv1.Proration_PRORATION_HOURLY || k3.GetFeeGranularity() != billingv1.Granularity_GRANULARITY_HOUR {
		t.Fatalf("created %v", k3)
	}

	p1 := cpMust[*billingv1.ListContractsResponse](t)(ps.ListContracts(ctx, &billingv1.ListContractsRequest{PageSize: 2}))
	wantIDs(t, ids(p1.GetContracts()), "k1", "k2")
	p2 := cpMust[*billingv1.ListContractsResponse](t)(ps.ListContracts(ctx, &billingv1.ListContractsRequest{PageSize: 2, PageToken: p1.GetNextPageToken()}))
	wantIDs(t, ids(p2.GetContracts()), "k3")
	byCustomer := cpMust[*billingv1.ListContractsResponse](t)(ps.ListContracts(ctx, &billingv1.ListContractsRequest{CustomerId: "c2"}))
	wantIDs(t, ids(byCustomer.GetContracts()), "k3")

	upd := cpMust[*billingv1.UpdateContractResponse](t)(ps.UpdateContract(ctx, &billingv1.UpdateContractRequest{
		Contract:   &billingv1.Contract{Id: "k1", Fee: "120", CommittedQuantity: "99"},
		UpdateMask: mask("fee"),
	})).GetContract()
	if upd.GetFee() != "120" || upd.GetCommittedQuantity() != "10" || upd.GetOverageUnitPrice() != "0.02" {
		t.Fatalf("updated %v", upd)
	}
	wantEqual(t, cpMust[*billingv1.GetContractResponse](t)(ps.GetContract(ctx, &billingv1.GetContractRequest{ContractId: "k1"})).GetContract(), upd)
	before := cpMust[*billingv1.ListContractsResponse](t)(ps.ListContracts(ctx, &billingv1.ListContractsRequest{}))

	create := func(mod func(c *billingv1.Contract)) func() error {
		return func() error {
			c := &billingv1.Contract{
				CustomerId: "c2", ProductId: "p1", Model: billingv1.ContractModel_CONTRACT_MODEL_COMMITTED,
				CommittedQuantity: "1", Fee: "1", FeeGranularity: billingv1.Granularity_GRANULARITY_HOUR,
				Currency: "EUR", StartTime: at(2025, 1, 1), EndTime: at(2025, 6, 1), Proration: billingv1.Proration_PRORATION_NONE,
			}
			mod(c)
			_, err := ps.CreateContract(ctx, &billingv1.CreateContractRequest{Contract: c})
			return err
		}
	}
	update := func(c *billingv1.Contract, paths ...string) func() error {
		return func() error {
			_, err := ps.UpdateContract(ctx, &billingv1.UpdateContractRequest{Contract: c, UpdateMask: mask(paths...)})
			return err
		}
	}
	for _, tc := range []struct {
		name   string
		call   func() error
		code   codes.Code
		fields []string
	}{
		{"zero commitment", create(func(c *billingv1.Contract) { c.CommittedQuantity = "0" }), codes.InvalidArgument, []string{"contract.committed_quantity"}},
		{"no model", create(func(c *billingv1.Contract) { c.Model = billingv1.ContractModel_CONTRACT_MODEL_UNSPECIFIED }), codes.InvalidArgument, []string{"contract.model"}},
		{"overage price without overage model", create(func(c *billingv1.Contract) { c.OverageUnitPrice = "1" }), codes.InvalidArgument, []string{"contract"}},
		{"lower-case currency", create(func(c *billingv1.Contract) { c.Currency = "eur" }), codes.InvalidArgument, []string{"contract.currency"}},
		{"overlapping window", create(func(c *billingv1.Contract) { c.StartTime, c.EndTime = at(2026, 6, 1), nil }), codes.FailedPrecondition, nil},
		{"unknown customer", create(func(c *billingv1.Contract) { c.CustomerId = "nope" }), codes.NotFound, nil},
		{"unknown product", create(func(c *billingv1.Contract) { c.ProductId = "nope" }), codes.NotFound, nil},
		{"taken id", create(func(c *billingv1.Contract) { c.Id = "k1" }), codes.AlreadyExists, nil},

		{"update to a malformed fee", update(&billingv1.Contract{Id: "k1", Fee: "1,5"}, "fee"), codes.InvalidArgument, []string{"contract.fee"}},
		{"update to a model without its overage price", update(&billingv1.Contract{Id: "k1", Model: billingv1.ContractModel_CONTRACT_MODEL_COMMITTED}, "model"), codes.InvalidArgument, []string{"contract.overage_unit_price"}},
		{"update to an undefined proration", update(&billingv1.Contract{Id: "k1", Proration: billingv1.Proration(99)}, "proration"), codes.InvalidArgument, []string{"contract.proration"}},
		{"update of the customer", update(&billingv1.Contract{Id: "k1", CustomerId: "c2"}, "customer_id"), codes.InvalidArgument, []string{"update_mask"}},
		{"update into an overlap", update(&billingv1.Contract{Id: "k1", EndTime: at(2027, 2, 1)}, "end_time"), codes.FailedPrecondition, nil},
		{"update of an unknown contract", update(&billingv1.Contract{Id: "nope", Fee: "1"}, "fee"), codes.NotFound, nil},
		{"update without resource", func() error {
			_, err := ps.UpdateContract(ctx, &billingv1.UpdateContractRequest{})
			return err
		}, codes.InvalidArgument, []string{"contract"}},
		{"unknown contract", func() error {
			_, err := ps.GetContract(ctx, &billingv1.GetContractRequest{ContractId: "nope"})
			return err
		}, codes.NotFound, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if tc.code == codes.InvalidArgument {
				wantViolations(t, err, tc.fields...)
			} else {
				wantCode(t, err, tc.code)
			}
		})
	}
	wantEqual(t, cpMust[*billingv1.ListContractsResponse](t)(ps.ListContracts(ctx, &billingv1.ListContractsRequest{})), before)

	// An unspecified proration on update becomes none.
	none := cpMust[*billingv1.UpdateContractResponse](t)(ps.UpdateContract(ctx, &billingv1.UpdateContractRequest{
		Contract: &billingv1.Contract{Id: "k3"}, UpdateMask: mask("proration"),
	})).GetContract()
	if none.GetProration() != billingv1.Proration_PRORATION_NONE {
		t.Fatalf("updated %v", none)
	}

	for _, id := range []string{"k1", "k2", "k3"} {
		cpMust[*billingv1.DeleteContractResponse](t)(ps.DeleteContract(ctx, &billingv1.DeleteContractRequest{ContractId: id}))
	}
	_, err := ps.GetContract(ctx, &billingv1.GetContractRequest{ContractId: "k1"})
	wantCode(t, err, codes.NotFound)
	_, err = ps.DeleteContract(ctx, &billingv1.DeleteContractRequest{ContractId: "k1"})
	wantCode(t, err, codes.NotFound)
}
