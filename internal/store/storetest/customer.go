package storetest

import (
	"testing"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/customer"
)

func cust(id string) customer.Customer {
	return customer.Customer{ID: id, DisplayName: "Acme " + id, BillingTimeZone: "Europe/Amsterdam",
		Labels: map[string]string{"tier": "gold"}, CreateTime: t0, UpdateTime: t0}
}

func org(customerID, id string) customer.Organisation {
	return customer.Organisation{CustomerID: customerID, ID: id, DisplayName: "Org " + id, CreateTime: t0, UpdateTime: t0}
}

func vdc(customerID, orgID, id string) customer.Vdc {
	return customer.Vdc{CustomerID: customerID, OrganisationID: orgID, ID: id, DisplayName: "VDC " + id, CreateTime: t0, UpdateTime: t0}
}

func testCustomers(t *testing.T, s Stores) {
	r := s.Customers
	c := cust("acme")
	c.ExternalID = "ERP-1"
	must(t, r.CreateCustomer(ctx, c))
	wantKind(t, r.CreateCustomer(ctx, c), apperr.KindAlreadyExists)
	dup := cust("other")
	dup.ExternalID = "ERP-1"
	wantKind(t, r.CreateCustomer(ctx, dup), apperr.KindAlreadyExists) // unique external id
	got, err := r.GetCustomer(ctx, c.ID)
	must(t, err)
	same(t, got, c)

	// Customers without an external id do not collide.
	must(t, r.CreateCustomer(ctx, cust("b1")))
	must(t, r.CreateCustomer(ctx, cust("b2")))
	cs, _, err := r.ListCustomers(ctx, customer.ListCustomersParams{ExternalID: "ERP-1"})
	must(t, err)
	if len(cs) != 1 || cs[0].ID != "acme" {
		t.Fatalf("filter by external_id: %+v", cs)
	}

	c.ExternalID, c.Labels, c.BillingTimeZone, c.UpdateTime = "", nil, "UTC", day(1)
	must(t, r.UpdateCustomer(ctx, c))
	got, _ = r.GetCustomer(ctx, c.ID)
	same(t, got, c)

	ok, err := s.Pricing.CustomerExists(ctx, "acme")
	must(t, err)
	same(t, ok, true)
	ok, _ = s.Pricing.CustomerExists(ctx, "nope")
	same(t, ok, false)

	must(t, r.DeleteCustomer(ctx, c.ID))
	wantKind(t, r.DeleteCustomer(ctx, c.ID), apperr.KindNotFound)
}

func testOrganisationsAndVdcs(t *testing.T, s Stores) {
	r := s.Customers
	must(t, r.CreateCustomer(ctx, cust("c1")))
	must(t, r.CreateCustomer(ctx, cust("c2")))
	o := org("c1", "o1")
	must(t, r.CreateOrganisation(ctx, o))
	must(t, r.CreateOrganisation(ctx, org("c2", "o1"))) // ids are unique per customer only
	wantKind(t, r.CreateOrganisation(ctx, o), apperr.KindAlreadyExists)
	wantKind(t, r.CreateOrganisation(ctx, org("nope", "o1")), apperr.KindNotFound)
	got, err := r.GetOrganisation(ctx, "c1", "o1")
	must(t, err)
	same(t, got, o)

	d := vdc("c1", "o1", "v1")
	must(t, r.CreateVdc(ctx, d))
	wantKind(t, r.CreateVdc(ctx, vdc("c1", "o9", "v1")), apperr.KindNotFound)
	gotV, err := r.GetVdc(ctx, "c1", "o1", "v1")
	must(t, err)
	same(t, gotV, d)
	d.DisplayName, d.UpdateTime = "renamed", day(1)
	must(t, r.UpdateVdc(ctx, d))
	gotV, _ = r.GetVdc(ctx, "c1", "o1", "v1")
	same(t, gotV, d)

	ref, err := r.CustomerReferrer(ctx, "c1")
	must(t, err)
	same(t, ref, "customers/c1/organisations/o1")
	wantKind(t, r.DeleteCustomer(ctx, "c1"), apperr.KindFailedPrecondition)
	wantKind(t, r.DeleteOrganisation(ctx, "c1", "o1"), apperr.KindFailedPrecondition)
	must(t, r.DeleteVdc(ctx, "c1", "o1", "v1"))
	o.DisplayName, o.UpdateTime = "renamed", day(1)
	must(t, r.UpdateOrganisation(ctx, o))
	must(t, r.DeleteOrganisation(ctx, "c1", "o1"))
	_, err = r.GetOrganisation(ctx, "c1", "o1")
	wantKind(t, err, apperr.KindNotFound)
	_, err = r.GetOrganisation(ctx, "c2", "o1")
	must(t, err)
}
