package customer_test

import (
	"testing"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/customer"
)

func TestOrganisationsAndVdcs(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t)
	_, err := svc.CreateOrganisation(ctx, customer.CreateOrganisationInput{Organisation: customer.Organisation{CustomerID: "acme", ID: "o1", DisplayName: "Org"}})
	wantKind(t, err, apperr.KindNotFound) // no such customer
	_, _, err = svc.ListOrganisations(ctx, customer.ListOrganisationsParams{CustomerID: "acme"})
	wantKind(t, err, apperr.KindNotFound)

	_, err = svc.CreateCustomer(ctx, customer.CreateCustomerInput{Customer: acme()})
	must(t, err)
	_, err = svc.CreateOrganisation(ctx, customer.CreateOrganisationInput{Organisation: customer.Organisation{CustomerID: "acme", ID: "o 1"}})
	wantFields(t, err, "id", "display_name")

	const rid = "0190f7c6-8a3e-7cc1-b2b0-5c1d8a2f0e99"
	in := customer.CreateOrganisationInput{Organisation: customer.Organisation{CustomerID: "acme", DisplayName: "VCD org"}, RequestID: rid}
	o, err := svc.CreateOrganisation(ctx, in)
	must(t, err)
	again, err := svc.CreateOrganisation(ctx, in) // replay returns the first, with its generated id
	must(t, err)
	same(t, again, o)

	os, next, err := svc.ListOrganisations(ctx, customer.ListOrganisationsParams{CustomerID: "acme"})
	must(t, err)
	same(t, []any{len(os), next}, []any{1, ""})

	o, err = svc.UpdateOrganisation(ctx, customer.UpdateOrganisationInput{Organisation: customer.Organisation{CustomerID: "acme", ID: o.ID, DisplayName: "Renamed"}})
	must(t, err)
	same(t, o.DisplayName, "Renamed")
	_, err = svc.UpdateOrganisation(ctx, customer.UpdateOrganisationInput{Organisation: o, UpdateMask: []string{"customer_id"}})
	wantFields(t, err, "update_mask")

	_, err = svc.CreateVdc(ctx, customer.CreateVdcInput{Vdc: customer.Vdc{CustomerID: "acme", OrganisationID: "nope", ID: "v1", DisplayName: "V"}})
	wantKind(t, err, apperr.KindNotFound)
	d, err := svc.CreateVdc(ctx, customer.CreateVdcInput{Vdc: customer.Vdc{CustomerID: "acme", OrganisationID: o.ID, ID: "v1", DisplayName: "V"}, RequestID: rid[:35] + "8"})
	must(t, err)
	got, err := svc.GetVdc(ctx, "acme", o.ID, "v1")
	must(t, err)
	same(t, got, d)
	d, err = svc.UpdateVdc(ctx, customer.UpdateVdcInput{Vdc: customer.Vdc{CustomerID: "acme", OrganisationID: o.ID, ID: "v1", DisplayName: "Prod"}, UpdateMask: []string{"display_name"}})
	must(t, err)
	same(t, d.DisplayName, "Prod")
	_, err = svc.UpdateVdc(ctx, customer.UpdateVdcInput{Vdc: d, UpdateMask: []string{"organisation_id"}})
	wantFields(t, err, "update_mask")
	ds, _, err := svc.ListVdcs(ctx, customer.ListVdcsParams{CustomerID: "acme", OrganisationID: o.ID})
	must(t, err)
	same(t, len(ds), 1)

	wantKind(t, svc.DeleteOrganisation(ctx, "acme", o.ID), apperr.KindFailedPrecondition)
	wantKind(t, svc.DeleteCustomer(ctx, "acme"), apperr.KindFailedPrecondition)
	must(t, svc.DeleteVdc(ctx, "acme", o.ID, "v1"))
	must(t, svc.DeleteOrganisation(ctx, "acme", o.ID))
	must(t, svc.DeleteCustomer(ctx, "acme"))
}
