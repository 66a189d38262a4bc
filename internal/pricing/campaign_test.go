package pricing_test

import (
	"strings"
	"testing"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/catalog"
	"github.com/billingd/billingd/internal/pricing"
)

func spring() pricing.Campaign {
	return pricing.Campaign{ID: "spring", DisplayName: "Spring sale", CustomerID: "acme", Currency: "EUR",
		ValidFrom: day(0), ValidTo: day(30), Priority: 10, Entries: []pricing.CampaignEntry{
			{ProductID: "p1", UnitPrice: nullDec("0.01")},
			{ProductID: "p2", DiscountPercent: nullDec("25")},
		}}
}

func TestCampaigns(t *testing.T) {
	t.Parallel()
	svc, store := newService(t)
	seed(t, svc, store)
	c, err := svc.CreateCampaign(ctx, pricing.CreateCampaignInput{Campaign: spring()})
	must(t, err)
	got, err := svc.GetCampaign(ctx, "spring")
	must(t, err)
	same(t, got, c)

	// Overlapping campaigns are allowed; priority orders them.
	all := spring()
	all.ID, all.CustomerID, all.Priority = "all", "", 1
	_, err = svc.CreateCampaign(ctx, pricing.CreateCampaignInput{Campaign: all})
	must(t, err)
	cs, _, err := svc.ListCampaigns(ctx, pricing.ListCampaignsParams{CustomerID: "acme"})
	must(t, err)
	same(t, []any{len(cs), len(cs[0].Entries)}, []any{1, 2})
	cs, _, err = svc.ListCampaigns(ctx, pricing.ListCampaignsParams{ValidAt: day(30)}) // valid_to is exclusive
	must(t, err)
	same(t, len(cs), 0)

	c, err = svc.UpdateCampaign(ctx, pricing.UpdateCampaignInput{
		Campaign:   pricing.Campaign{ID: "spring", Entries: []pricing.CampaignEntry{{ProductID: "p2", DiscountPercent: nullDec("100")}}},
		UpdateMask: []string{"entries"},
	})
	must(t, err)
	got, _ = svc.GetCampaign(ctx, "spring")
	same(t, got, c)
	same(t, len(got.Entries), 1)
	_, err = svc.UpdateCampaign(ctx, pricing.UpdateCampaignInput{Campaign: pricing.Campaign{ID: "spring", Currency: "USD"}, UpdateMask: []string{"currency"}})
	wantFields(t, err, "update_mask")
	_, err = svc.UpdateCampaign(ctx, pricing.UpdateCampaignInput{
		Campaign:   pricing.Campaign{ID: "spring", Entries: []pricing.CampaignEntry{{ProductID: "ghost", UnitPrice: nullDec("1")}}},
		UpdateMask: []string{"entries"},
	})
	wantKind(t, err, apperr.KindNotFound)

	// A product in a campaign cannot be deleted.
	err = catalog.New(store.Catalog(), nil).DeleteProduct(ctx, "p2")
	wantKind(t, err, apperr.KindFailedPrecondition)
	if !strings.Contains(err.Error(), "campaigns/") {
		t.Fatalf("message %q does not name the campaign", err)
	}
	must(t, svc.DeleteCampaign(ctx, "spring"))
	must(t, svc.DeleteCampaign(ctx, "all"))
	must(t, catalog.New(store.Catalog(), nil).DeleteProduct(ctx, "p2"))
}

func TestCampaignValidation(t *testing.T) {
	t.Parallel()
	svc, store := newService(t)
	seed(t, svc, store)
	for _, tc := range []struct {
		name   string
		edit   func(c *pricing.Campaign)
		fields []string
	}{
		{"no display name", func(c *pricing.Campaign) { c.DisplayName = "" }, []string{"display_name"}},
		{"unknown currency", func(c *pricing.Campaign) { c.Currency = "XXX" }, []string{"currency"}},
		{"lower-case currency", func(c *pricing.Campaign) { c.Currency = "eur" }, []string{"currency"}},
		{"no valid_to", func(c *pricing.Campaign) { c.ValidTo = zeroTime }, []string{"valid_to"}},
		{"valid_to before valid_from", func(c *pricing.Campaign) { c.ValidTo = day(-1) }, []string{"valid_to"}},
		{"no valid_from", func(c *pricing.Campaign) { c.ValidFrom = zeroTime }, []string{"valid_from"}},
		{"entry with both prices", func(c *pricing.Campaign) { c.Entries[0].DiscountPercent = nullDec("5") }, []string{"entries[0]"}},
		{"entry with neither price", func(c *pricing.Campaign) { c.Entries[1].DiscountPercent.Valid = false }, []string{"entries[1]"}},
		{"zero discount", func(c *pricing.Campaign) { c.Entries[1].DiscountPercent = nullDec("0") }, []string{"entries[1].discount_percent"}},
		{"discount over 100", func(c *pricing.Campaign) { c.Entries[1].DiscountPercent = nullDec("100.01") }, []string{"entries[1].discount_percent"}},
		{"negative price", func(c *pricing.Campaign) { c.Entries[0].UnitPrice = nullDec("-1") }, []string{"entries[0].unit_price"}},
		{"no product", func(c *pricing.Campaign) { c.Entries[0].ProductID = "" }, []string{"entries[0].product_id"}},
		{"no entries", func(c *pricing.Campaign) { c.Entries = nil }, []string{"entries"}},
		{"negative priority", func(c *pricing.Campaign) { c.Priority = -1 }, []string{"priority"}},
		{"priority too high", func(c *pricing.Campaign) { c.Priority = 1_000_001 }, []string{"priority"}},
		{"product twice", func(c *pricing.Campaign) { c.Entries[1].ProductID = "p1" }, []string{"entries[1].product_id"}},
	} {
		c := spring()
		tc.edit(&c)
		_, err := svc.CreateCampaign(ctx, pricing.CreateCampaignInput{Campaign: c})
		t.Run(tc.name, func(t *testing.T) { wantFields(t, err, tc.fields...) })
	}
	c := spring()
	c.Entries[1].ProductID = "ghost"
	_, err := svc.CreateCampaign(ctx, pricing.CreateCampaignInput{Campaign: c})
	wantKind(t, err, apperr.KindNotFound)
	c = spring()
	c.CustomerID = "ghost"
	_, err = svc.CreateCampaign(ctx, pricing.CreateCampaignInput{Campaign: c})
	wantKind(t, err, apperr.KindNotFound)
	cs, _, err := svc.ListCampaigns(ctx, pricing.ListCampaignsParams{})
	must(t, err)
	same(t, len(cs), 0)
}
