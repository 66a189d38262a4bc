package customer_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/customer"
	"github.com/billingd/billingd/internal/pricing"
)

func TestCustomerCRUD(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t)
	c, err := svc.CreateCustomer(ctx, customer.CreateCustomerInput{Customer: acme()})
	must(t, err)
	want := acme()
	want.BillingTimeZone, want.CreateTime, want.UpdateTime = "UTC", t0, t0 // default zone
	same(t, c, want)
	got, err := svc.GetCustomer(ctx, "acme")
	must(t, err)
	same(t, got, want)

	c, err = svc.UpdateCustomer(ctx, customer.UpdateCustomerInput{
		Customer:   customer.Customer{ID: "acme", BillingTimeZone: "Europe/Amsterdam", Labels: map[string]string{"segment": "enterprise"}},
		UpdateMask: []string{"billing_time_zone", "labels"},
	})
	must(t, err)
	same(t, []any{c.BillingTimeZone, c.Labels, c.DisplayName, c.ExternalID},
		[]any{"Europe/Amsterdam", map[string]string{"segment": "enterprise"}, "Acme", "ERP-1"})

	cs, _, err := svc.ListCustomers(ctx, customer.ListCustomersParams{ExternalID: "ERP-1"})
	must(t, err)
	same(t, len(cs), 1)
	must(t, svc.DeleteCustomer(ctx, "acme"))
	_, err = svc.GetCustomer(ctx, "acme")
	wantKind(t, err, apperr.KindNotFound)
}

func TestCustomerValidation(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t)
	for _, tc := range []struct {
		name   string
		edit   func(c *customer.Customer)
		fields []string
	}{
		{"bad id", func(c *customer.Customer) { c.ID = "a/b" }, []string{"id"}},
		{"no display name", func(c *customer.Customer) { c.DisplayName = "" }, []string{"display_name"}},
		{"long external id", func(c *customer.Customer) { c.ExternalID = strings.Repeat("e", 129) }, []string{"external_id"}},
		{"unknown time zone", func(c *customer.Customer) { c.BillingTimeZone = "Mars/Olympus_Mons" }, []string{"billing_time_zone"}},
		{"host time zone", func(c *customer.Customer) { c.BillingTimeZone = "Local" }, []string{"billing_time_zone"}},
		{"path as time zone", func(c *customer.Customer) { c.BillingTimeZone = "../../etc/passwd" }, []string{"billing_time_zone"}},
		{"bad label key", func(c *customer.Customer) { c.Labels = map[string]string{"1x": "v"} }, []string{"labels"}},
		{"long label value", func(c *customer.Customer) { c.Labels = map[string]string{"k": strings.Repeat("v", 257)} }, []string{"labels[k]"}},
		{"several", func(c *customer.Customer) { c.DisplayName, c.BillingTimeZone = "", "Nowhere/Land" }, []string{"display_name", "billing_time_zone"}},
	} {
		c := acme()
		tc.edit(&c)
		_, err := svc.CreateCustomer(ctx, customer.CreateCustomerInput{Customer: c})
		t.Run(tc.name, func(t *testing.T) { wantFields(t, err, tc.fields...) })
	}
	cs, _, err := svc.ListCustomers(ctx, customer.ListCustomersParams{})
	must(t, err)
	same(t, len(cs), 0)

	_, err = svc.CreateCustomer(ctx, customer.CreateCustomerInput{Customer: acme()})
	must(t, err)
	_, err = svc.UpdateCustomer(ctx, customer.UpdateCustomerInput{Customer: customer.Customer{ID: "acme", BillingTimeZone: "Moon/Base"}, UpdateMask: []string{"billing_time_zone"}})
	wantFields(t, err, "billing_time_zone")
	_, err = svc.UpdateCustomer(ctx, customer.UpdateCustomerInput{Customer: customer.Customer{ID: "acme"}, UpdateMask: []string{"id", "colour"}})
	wantFields(t, err, "update_mask")
	got, _ := svc.GetCustomer(ctx, "acme")
	same(t, got.BillingTimeZone, "UTC")
}

func TestCustomerExternalIDUnique(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t)
	_, err := svc.CreateCustomer(ctx, customer.CreateCustomerInput{Customer: acme()})
	must(t, err)
	other := acme()
	other.ID = "other"
	_, err = svc.CreateCustomer(ctx, customer.CreateCustomerInput{Customer: other})
	wantKind(t, err, apperr.KindAlreadyExists)
	if !strings.Contains(err.Error(), `"acme"`) {
		t.Fatalf("message %q does not name the holder", err)
	}
	other.ExternalID = "ERP-2"
	_, err = svc.CreateCustomer(ctx, customer.CreateCustomerInput{Customer: other})
	must(t, err)
	_, err = svc.UpdateCustomer(ctx, customer.UpdateCustomerInput{Customer: customer.Customer{ID: "other", ExternalID: "ERP-1"}, UpdateMask: []string{"external_id"}})
	wantKind(t, err, apperr.KindAlreadyExists)
}

func TestCustomerPagination(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t)
	for i := range 7 {
		_, err := svc.CreateCustomer(ctx, customer.CreateCustomerInput{Customer: customer.Customer{ID: fmt.Sprintf("c%d", i), DisplayName: "C"}})
		must(t, err)
	}
	var sizes []int
	token := ""
	for {
		cs, next, err := svc.ListCustomers(ctx, customer.ListCustomersParams{PageSize: 3, PageToken: token})
		must(t, err)
		sizes = append(sizes, len(cs))
		if next == "" {
			break
		}
		token = next
	}
	same(t, sizes, []int{3, 3, 1})
}

func TestCustomerDeleteBlocked(t *testing.T) {
	t.Parallel()
	svc, store := newService(t)
	_, err := svc.CreateCustomer(ctx, customer.CreateCustomerInput{Customer: acme()})
	must(t, err)
	ps := pricing.New(store.Pricing(), nil)
	_, err = ps.CreatePriceList(ctx, pricing.CreatePriceListInput{PriceList: pricing.PriceList{ID: "acme-eur", DisplayName: "Acme", Currency: "EUR", CustomerID: "acme"}})
	must(t, err)
	err = svc.DeleteCustomer(ctx, "acme")
	wantKind(t, err, apperr.KindFailedPrecondition)
	if !strings.Contains(err.Error(), "priceLists/acme-eur") {
		t.Fatalf("message %q does not name the price list", err)
	}
}
