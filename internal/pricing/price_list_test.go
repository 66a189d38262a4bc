package pricing_test

import (
	"strings"
	"testing"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/pricing"
)

func TestPriceLists(t *testing.T) {
	t.Parallel()
	svc, store := newService(t)
	seed(t, svc, store)
	create := func(l pricing.PriceList) (pricing.PriceList, error) {
		return svc.CreatePriceList(ctx, pricing.CreatePriceListInput{PriceList: l})
	}

	for _, tc := range []struct {
		name   string
		l      pricing.PriceList
		fields []string
	}{
		{"unknown currency", pricing.PriceList{DisplayName: "x", Currency: "XXX"}, []string{"currency"}},
		{"lower-case currency", pricing.PriceList{DisplayName: "x", Currency: "usd"}, []string{"currency"}},
		{"no currency", pricing.PriceList{DisplayName: "x"}, []string{"currency"}},
		{"no display name", pricing.PriceList{Currency: "USD"}, []string{"display_name"}},
		{"bad customer id", pricing.PriceList{DisplayName: "x", Currency: "USD", CustomerID: "a b"}, []string{"customer_id"}},
	} {
		_, err := create(tc.l)
		t.Run(tc.name, func(t *testing.T) { wantFields(t, err, tc.fields...) })
	}

	// At most one list per owner and currency.
	_, err := create(pricing.PriceList{DisplayName: "again", Currency: "EUR"})
	wantKind(t, err, apperr.KindAlreadyExists)
	if !strings.Contains(err.Error(), `"eur"`) {
		t.Fatalf("message %q does not name the existing list", err)
	}
	_, err = create(pricing.PriceList{ID: "acme-eur", DisplayName: "Acme", Currency: "EUR", CustomerID: "acme"})
	must(t, err)
	_, err = create(pricing.PriceList{DisplayName: "Acme 2", Currency: "EUR", CustomerID: "acme"})
	wantKind(t, err, apperr.KindAlreadyExists)
	_, err = create(pricing.PriceList{DisplayName: "Ghost", Currency: "EUR", CustomerID: "ghost"})
	wantKind(t, err, apperr.KindNotFound)
	_, err = create(pricing.PriceList{ID: "usd", DisplayName: "USD", Currency: "USD"})
	must(t, err)

	ls, _, err := svc.ListPriceLists(ctx, pricing.ListPriceListsParams{})
	must(t, err)
	same(t, len(ls), 3)
	ls, _, err = svc.ListPriceLists(ctx, pricing.ListPriceListsParams{CustomerID: "acme"})
	must(t, err)
	same(t, len(ls), 1)
	ls, _, err = svc.ListPriceLists(ctx, pricing.ListPriceListsParams{DefaultOnly: true})
	must(t, err)
	same(t, len(ls), 2)
	_, _, err = svc.ListPriceLists(ctx, pricing.ListPriceListsParams{DefaultOnly: true, CustomerID: "acme"})
	wantFields(t, err, "customer_id")

	l, err := svc.UpdatePriceList(ctx, pricing.UpdatePriceListInput{PriceList: pricing.PriceList{ID: "usd", DisplayName: "Dollars", Currency: "JPY"}})
	must(t, err)
	same(t, []any{l.DisplayName, l.Currency}, []any{"Dollars", "USD"}) // an empty mask leaves the currency
	_, err = svc.UpdatePriceList(ctx, pricing.UpdatePriceListInput{PriceList: pricing.PriceList{ID: "usd", Currency: "JPY"}, UpdateMask: []string{"currency"}})
	wantFields(t, err, "update_mask")
	_, err = svc.UpdatePriceList(ctx, pricing.UpdatePriceListInput{PriceList: pricing.PriceList{ID: "usd"}, UpdateMask: []string{"customer_id"}})
	wantFields(t, err, "update_mask")

	must(t, svc.DeletePriceList(ctx, "usd"))
	wantKind(t, svc.DeletePriceList(ctx, "usd"), apperr.KindNotFound)
}
