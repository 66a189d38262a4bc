package storetest

import (
	"testing"
	"time"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/pricing"
)

func priceList(id, customerID, currency string) pricing.PriceList {
	return pricing.PriceList{ID: id, DisplayName: "List " + id, Currency: currency, CustomerID: customerID, CreateTime: t0, UpdateTime: t0}
}

func price(listID, id, productID string, from, to time.Time) pricing.Price {
	return pricing.Price{PriceListID: listID, ID: id, ProductID: productID, UnitPrice: dec("0.0125"),
		Granularity: pricing.GranularityHour, ValidFrom: from, ValidTo: to, CreateTime: t0, UpdateTime: t0}
}

func testPriceLists(t *testing.T, s Stores) {
	r := s.Pricing
	must(t, s.Customers.CreateCustomer(ctx, cust("c1")))
	l := priceList("default-eur", "", "EUR")
	must(t, r.CreatePriceList(ctx, l))
	wantKind(t, r.CreatePriceList(ctx, l), apperr.KindAlreadyExists)
	// One list per owner and currency, the default owner included.
	wantKind(t, r.CreatePriceList(ctx, priceList("default-eur-2", "", "EUR")), apperr.KindAlreadyExists)
	must(t, r.CreatePriceList(ctx, priceList("default-usd", "", "USD")))
	must(t, r.CreatePriceList(ctx, priceList("c1-eur", "c1", "EUR")))
	wantKind(t, r.CreatePriceList(ctx, priceList("c1-eur-2", "c1", "EUR")), apperr.KindAlreadyExists)
	wantKind(t, r.CreatePriceList(ctx, priceList("x", "nope", "EUR")), apperr.KindNotFound)

	got, found, err := r.FindPriceList(ctx, "", "EUR")
	must(t, err)
	same(t, []any{found, got}, []any{true, l})
	got, found, err = r.FindPriceList(ctx, "c1", "EUR")
	must(t, err)
	same(t, []any{found, got.ID}, []any{true, "c1-eur"})
	_, found, err = r.FindPriceList(ctx, "c1", "USD")
	must(t, err)
	same(t, found, false)

	ls, _, err := r.ListPriceLists(ctx, pricing.ListPriceListsParams{CustomerID: "c1"})
	must(t, err)
	same(t, len(ls), 1)
	ls, _, err = r.ListPriceLists(ctx, pricing.ListPriceListsParams{DefaultOnly: true})
	must(t, err)
	same(t, []string{ls[0].ID, ls[1].ID}, []string{"default-eur", "default-usd"})
	ref, _ := s.Customers.CustomerReferrer(ctx, "c1")
	same(t, ref, "priceLists/c1-eur")

	l.DisplayName, l.UpdateTime = "Default", day(1)
	must(t, r.UpdatePriceList(ctx, l))
	got, err = r.GetPriceList(ctx, l.ID)
	must(t, err)
	same(t, got, l)
	must(t, r.DeletePriceList(ctx, "default-usd"))
	_, err = r.GetPriceList(ctx, "default-usd")
	wantKind(t, err, apperr.KindNotFound)
}

func testPrices(t *testing.T, s Stores) {
	r := s.Pricing
	seedProduct(t, s, "p1")
	seedProduct(t, s, "p2")
	must(t, r.CreatePriceList(ctx, priceList("eur", "", "EUR")))

	open := price("eur", "open", "p1", day(10), time.Time{})
	open.UnitPrice = dec("0")
	open.TierMode = pricing.TierModeGraduated
	open.Tiers = []pricing.Tier{{UpTo: dec("100"), UnitPrice: dec("0.50")}, {UnitPrice: dec("0.25")}}
	must(t, r.CreatePrice(ctx, open))
	got, err := r.GetPrice(ctx, "eur", "open")
	must(t, err)
	same(t, got, open)

	// [day0, day10) touches the open price at day10 without overlapping it.
	before := price("eur", "before", "p1", day(0), day(10))
	must(t, r.CreatePrice(ctx, before))
	wantKind(t, r.CreatePrice(ctx, before), apperr.KindAlreadyExists)
	must(t, r.CreatePrice(ctx, price("eur", "other-product", "p2", day(0), day(10))))

	// The exclusion constraint refuses an overlap even without the service's check.
	overlap := price("eur", "overlap", "p1", day(5), day(6))
	wantKind(t, r.CreatePrice(ctx, overlap), apperr.KindFailedPrecondition)
	other, found, err := r.OverlappingPrice(ctx, overlap)
	must(t, err)
	same(t, []any{found, other.ID}, []any{true, "before"})
	late := price("eur", "late", "p1", day(40), time.Time{})
	other, found, err = r.OverlappingPrice(ctx, late)
	must(t, err)
	same(t, []any{found, other.ID}, []any{true, "open"})
	_, found, err = r.OverlappingPrice(ctx, before) // itself does not count
	must(t, err)
	same(t, found, false)

	wantKind(t, r.CreatePrice(ctx, price("eur", "x", "nope", day(50), day(51))), apperr.KindNotFound)
	wantKind(t, r.CreatePrice(ctx, price("nope", "x", "p1", day(50), day(51))), apperr.KindNotFound)
	missing, err := r.MissingProducts(ctx, []string{"p1", "zz", "p2", "aa"})
	must(t, err)
	same(t, missing, []string{"zz", "aa"})

	ps, _, err := r.ListPrices(ctx, pricing.ListPricesParams{PriceListID: "eur", ProductID: "p1"})
	must(t, err)
	same(t, len(ps), 2)
	for _, tc := range []struct {
		at   time.Time
		want []string
	}{
		{day(0), []string{"before", "other-product"}},
		{day(10), []string{"open"}}, // valid_to is exclusive, valid_from inclusive
		{day(1000), []string{"open"}},
		{day(-1), nil},
	} {
		ps, _, err := r.ListPrices(ctx, pricing.ListPricesParams{PriceListID: "eur", ValidAt: tc.at})
		must(t, err)
		var ids []string
		for _, p := range ps {
			ids = append(ids, p.ID)
		}
		same(t, ids, tc.want)
	}

	before.UnitPrice, before.Granularity, before.ValidTo, before.UpdateTime = dec("1.5"), pricing.GranularityMonth, day(9), day(1)
	must(t, r.UpdatePrice(ctx, before))
	got, _ = r.GetPrice(ctx, "eur", "before")
	same(t, got, before)
	before.ValidTo = day(11)
	wantKind(t, r.UpdatePrice(ctx, before), apperr.KindFailedPrecondition)

	wantKind(t, r.DeletePriceList(ctx, "eur"), apperr.KindFailedPrecondition)
	must(t, r.DeletePrice(ctx, "eur", "before"))
	wantKind(t, r.DeletePrice(ctx, "eur", "before"), apperr.KindNotFound)
}

func testCampaigns(t *testing.T, s Stores) {
	r := s.Pricing
	seedProduct(t, s, "p1")
	seedProduct(t, s, "p2")
	must(t, s.Customers.CreateCustomer(ctx, cust("c1")))
	c := pricing.Campaign{ID: "spring", DisplayName: "Spring", CustomerID: "c1", Currency: "EUR",
		ValidFrom: day(0), ValidTo: day(30), Priority: 5, CreateTime: t0, UpdateTime: t0,
		Entries: []pricing.CampaignEntry{
			{ProductID: "p2", DiscountPercent: nullDec("12.5")}, // order is kept, not sorted
			{ProductID: "p1", UnitPrice: nullDec("0.01")},
		}}
	must(t, r.CreateCampaign(ctx, c))
	wantKind(t, r.CreateCampaign(ctx, c), apperr.KindAlreadyExists)
	got, err := r.GetCampaign(ctx, c.ID)
	must(t, err)
	same(t, got, c)

	bad := c
	bad.ID, bad.Entries = "bad", []pricing.CampaignEntry{{ProductID: "nope", UnitPrice: nullDec("1")}}
	wantKind(t, r.CreateCampaign(ctx, bad), apperr.KindNotFound)
	_, err = r.GetCampaign(ctx, "bad") // the failed create left nothing behind
	wantKind(t, err, apperr.KindNotFound)

	empty := pricing.Campaign{ID: "all", DisplayName: "All", Currency: "EUR", ValidFrom: day(0), ValidTo: day(1), CreateTime: t0, UpdateTime: t0}
	must(t, r.CreateCampaign(ctx, empty))
	cs, _, err := r.ListCampaigns(ctx, pricing.ListCampaignsParams{})
	must(t, err)
	same(t, cs, []pricing.Campaign{empty, c})
	cs, _, err = r.ListCampaigns(ctx, pricing.ListCampaignsParams{CustomerID: "c1"})
	must(t, err)
	same(t, len(cs), 1)
	cs, _, err = r.ListCampaigns(ctx, pricing.ListCampaignsParams{ValidAt: day(1)}) // "all" ended at day 1
	must(t, err)
	same(t, []any{len(cs), cs[0].ID}, []any{1, "spring"})

	ref, _ := s.Catalog.ProductReferrer(ctx, "p1")
	same(t, ref, "campaigns/spring")

	c.Entries = []pricing.CampaignEntry{{ProductID: "p1", DiscountPercent: nullDec("100")}}
	c.Priority, c.ValidTo, c.UpdateTime = -1, day(20), day(1)
	must(t, r.UpdateCampaign(ctx, c))
	got, _ = r.GetCampaign(ctx, c.ID)
	same(t, got, c)
	ref, _ = s.Catalog.ProductReferrer(ctx, "p2")
	same(t, ref, "")

	must(t, r.DeleteCampaign(ctx, c.ID)) // entries go with it
	ref, _ = s.Catalog.ProductReferrer(ctx, "p1")
	same(t, ref, "")
	wantKind(t, r.UpdateCampaign(ctx, c), apperr.KindNotFound)
}

func contract(id, customerID, productID string, from, to time.Time) pricing.Contract {
	return pricing.Contract{ID: id, CustomerID: customerID, ProductID: productID, Model: pricing.ContractModelCommittedOverage,
		CommittedQuantity: dec("16"), Fee: dec("120.00"), FeeGranularity: pricing.GranularityMonth,
		OverageUnitPrice: nullDec("0.02"), Currency: "EUR", StartTime: from, EndTime: to,
		Proration: pricing.ProrationDaily, CreateTime: t0, UpdateTime: t0}
}

func testContracts(t *testing.T, s Stores) {
	r := s.Pricing
	seedProduct(t, s, "p1")
	must(t, s.Customers.CreateCustomer(ctx, cust("c1")))
	must(t, s.Customers.CreateCustomer(ctx, cust("c2")))
	k := contract("k1", "c1", "p1", day(0), day(30))
	must(t, r.CreateContract(ctx, k))
	wantKind(t, r.CreateContract(ctx, k), apperr.KindAlreadyExists)
	got, err := r.GetContract(ctx, "k1")
	must(t, err)
	same(t, got, k)

	committed := contract("k2", "c1", "p1", day(30), time.Time{})
	committed.Model, committed.OverageUnitPrice, committed.Proration = pricing.ContractModelCommitted, nullDec("0"), pricing.ProrationNone
	committed.OverageUnitPrice.Valid = false
	must(t, r.CreateContract(ctx, committed))
	got, _ = r.GetContract(ctx, "k2")
	same(t, got, committed)
	must(t, r.CreateContract(ctx, contract("k3", "c2", "p1", day(0), time.Time{}))) // another customer

	wantKind(t, r.CreateContract(ctx, contract("k4", "c1", "p1", day(29), day(31))), apperr.KindFailedPrecondition)
	other, found, err := r.OverlappingContract(ctx, contract("k4", "c1", "p1", day(40), day(41)))
	must(t, err)
	same(t, []any{found, other.ID}, []any{true, "k2"})
	wantKind(t, r.CreateContract(ctx, contract("k5", "nope", "p1", day(100), day(101))), apperr.KindNotFound)

	cs, _, err := r.ListContracts(ctx, pricing.ListContractsParams{CustomerID: "c1"})
	must(t, err)
	same(t, []string{cs[0].ID, cs[1].ID}, []string{"k1", "k2"})
	cs, _, err = r.ListContracts(ctx, pricing.ListContractsParams{ActiveAt: day(30)})
	must(t, err)
	same(t, []string{cs[0].ID, cs[1].ID}, []string{"k2", "k3"})

	ref, _ := s.Customers.CustomerReferrer(ctx, "c2")
	same(t, ref, "contracts/k3")
	wantKind(t, s.Customers.DeleteCustomer(ctx, "c2"), apperr.KindFailedPrecondition)
	wantKind(t, s.Catalog.DeleteProduct(ctx, "p1"), apperr.KindFailedPrecondition)

	k.Fee, k.EndTime, k.Proration, k.UpdateTime = dec("99.5"), day(20), pricing.ProrationHourly, day(1)
	must(t, r.UpdateContract(ctx, k))
	got, _ = r.GetContract(ctx, "k1")
	same(t, got, k)
	must(t, r.DeleteContract(ctx, "k1"))
	wantKind(t, r.DeleteContract(ctx, "k1"), apperr.KindNotFound)
}
