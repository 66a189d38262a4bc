package pricing_test

import (
	"strings"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/customer"
	"github.com/billingd/billingd/internal/pricing"
)

func commitment(id string, from, to time.Time) pricing.Contract {
	return pricing.Contract{ID: id, CustomerID: "acme", ProductID: "p1", Model: pricing.ContractModelCommittedOverage,
		CommittedQuantity: dec("16"), Fee: dec("120"), FeeGranularity: pricing.GranularityMonth,
		OverageUnitPrice: nullDec("0.02"), Currency: "EUR", StartTime: from, EndTime: to}
}

func TestContracts(t *testing.T) {
	t.Parallel()
	svc, store := newService(t)
	seed(t, svc, store)
	k, err := svc.CreateContract(ctx, pricing.CreateContractInput{Contract: commitment("k1", day(0), day(365))})
	must(t, err)
	same(t, k.Proration, pricing.ProrationNone) // the default
	got, err := svc.GetContract(ctx, "k1")
	must(t, err)
	same(t, got, k)

	err = func() error {
		_, err := svc.CreateContract(ctx, pricing.CreateContractInput{Contract: commitment("k2", day(300), time.Time{})})
		return err
	}()
	wantKind(t, err, apperr.KindFailedPrecondition)
	if !strings.Contains(err.Error(), `"k1"`) {
		t.Fatalf("message %q does not name the other contract", err)
	}
	_, err = svc.CreateContract(ctx, pricing.CreateContractInput{Contract: commitment("k2", day(365), time.Time{})})
	must(t, err)

	k, err = svc.UpdateContract(ctx, pricing.UpdateContractInput{
		Contract:   pricing.Contract{ID: "k1", Model: pricing.ContractModelCommitted, Proration: pricing.ProrationDaily},
		UpdateMask: []string{"model", "overage_unit_price", "proration"},
	})
	must(t, err)
	same(t, []any{k.Model, k.OverageUnitPrice.Valid, k.Proration}, []any{pricing.ContractModelCommitted, false, pricing.ProrationDaily})
	_, err = svc.UpdateContract(ctx, pricing.UpdateContractInput{Contract: pricing.Contract{ID: "k1", EndTime: day(400)}, UpdateMask: []string{"end_time"}})
	wantKind(t, err, apperr.KindFailedPrecondition)
	_, err = svc.UpdateContract(ctx, pricing.UpdateContractInput{Contract: pricing.Contract{ID: "k1", CustomerID: "x"}, UpdateMask: []string{"customer_id"}})
	wantFields(t, err, "update_mask")

	cs, _, err := svc.ListContracts(ctx, pricing.ListContractsParams{CustomerID: "acme"})
	must(t, err)
	same(t, len(cs), 2)

	err = customer.New(store.Customers(), nil).DeleteCustomer(ctx, "acme")
	wantKind(t, err, apperr.KindFailedPrecondition)
	must(t, svc.DeleteContract(ctx, "k1"))
	wantKind(t, svc.DeleteContract(ctx, "k1"), apperr.KindNotFound)
}

func TestContractValidation(t *testing.T) {
	t.Parallel()
	svc, store := newService(t)
	seed(t, svc, store)
	for _, tc := range []struct {
		name   string
		edit   func(c *pricing.Contract)
		fields []string
	}{
		{"no customer", func(c *pricing.Contract) { c.CustomerID = "" }, []string{"customer_id"}},
		{"no product", func(c *pricing.Contract) { c.ProductID = "" }, []string{"product_id"}},
		{"no model", func(c *pricing.Contract) { c.Model, c.OverageUnitPrice.Valid = 0, false }, []string{"model"}},
		{"zero quantity", func(c *pricing.Contract) { c.CommittedQuantity = dec("0") }, []string{"committed_quantity"}},
		{"negative fee", func(c *pricing.Contract) { c.Fee = dec("-1") }, []string{"fee"}},
		{"no fee granularity", func(c *pricing.Contract) { c.FeeGranularity = 0 }, []string{"fee_granularity"}},
		{"overage price missing", func(c *pricing.Contract) { c.OverageUnitPrice.Valid = false }, []string{"overage_unit_price"}},
		{"overage price not allowed", func(c *pricing.Contract) { c.Model = pricing.ContractModelCommitted }, []string{"overage_unit_price"}},
		{"negative overage price", func(c *pricing.Contract) { c.OverageUnitPrice = nullDec("-0.1") }, []string{"overage_unit_price"}},
		{"unknown currency", func(c *pricing.Contract) { c.Currency = "XXX" }, []string{"currency"}},
		{"lower-case currency", func(c *pricing.Contract) { c.Currency = "eur" }, []string{"currency"}},
		{"no start", func(c *pricing.Contract) { c.StartTime = zeroTime }, []string{"start_time"}},
		{"end before start", func(c *pricing.Contract) { c.EndTime = day(-1) }, []string{"end_time"}},
		{"unknown proration", func(c *pricing.Contract) { c.Proration = 9 }, []string{"proration"}},
	} {
		c := commitment("k", day(0), day(30))
		tc.edit(&c)
		_, err := svc.CreateContract(ctx, pricing.CreateContractInput{Contract: c})
		t.Run(tc.name, func(t *testing.T) { wantFields(t, err, tc.fields...) })
	}
	c := commitment("k", day(0), day(30))
	c.CustomerID = "ghost"
	_, err := svc.CreateContract(ctx, pricing.CreateContractInput{Contract: c})
	wantKind(t, err, apperr.KindNotFound)
	c = commitment("k", day(0), day(30))
	c.ProductID = "ghost"
	_, err = svc.CreateContract(ctx, pricing.CreateContractInput{Contract: c})
	wantKind(t, err, apperr.KindNotFound)
	cs, _, err := svc.ListContracts(ctx, pricing.ListContractsParams{})
	must(t, err)
	same(t, len(cs), 0)
}
