package storetest

import (
	"fmt"
	"testing"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/catalog"
	"github.com/billingd/billingd/internal/customer"
)

// testPagination: 7 rows at page size 3 come as 3, 3, 1 in id order, with a
// token after each full page and none after the last.
func testPagination(t *testing.T, s Stores) {
	for i := 6; i >= 0; i-- { // created out of order: pages follow ids, not insertion
		must(t, s.Catalog.CreateProductGroup(ctx, group(fmt.Sprintf("g%d", i))))
	}
	var (
		token string
		sizes []int
		ids   []string
	)
	for range 4 {
		gs, next, err := s.Catalog.ListProductGroups(ctx, catalog.ListProductGroupsParams{PageSize: 3, PageToken: token})
		must(t, err)
		sizes = append(sizes, len(gs))
		for _, g := range gs {
			ids = append(ids, g.ID)
		}
		if next == "" {
			break
		}
		token = next
	}
	same(t, sizes, []int{3, 3, 1})
	same(t, ids, []string{"g0", "g1", "g2", "g3", "g4", "g5", "g6"})

	all, next, err := s.Catalog.ListProductGroups(ctx, catalog.ListProductGroupsParams{})
	must(t, err)
	if len(all) != 7 || next != "" {
		t.Fatalf("default page: %d rows, next %q; want 7 and none", len(all), next)
	}

	_, _, err = s.Catalog.ListProductGroups(ctx, catalog.ListProductGroupsParams{PageToken: "%%% not base64"})
	wantField(t, err, "page_token")
	_, _, err = s.Catalog.ListProductGroups(ctx, catalog.ListProductGroupsParams{PageSize: -1})
	wantField(t, err, "page_size")
	big, _, err := s.Catalog.ListProductGroups(ctx, catalog.ListProductGroupsParams{PageSize: 5000})
	must(t, err) // coerced to the maximum
	same(t, len(big), 7)

	// Nested resources page within their parent.
	must(t, s.Customers.CreateCustomer(ctx, cust("c1")))
	must(t, s.Customers.CreateCustomer(ctx, cust("c2")))
	for i := range 4 {
		must(t, s.Customers.CreateOrganisation(ctx, org("c1", fmt.Sprintf("o%d", i))))
	}
	must(t, s.Customers.CreateOrganisation(ctx, org("c2", "o9")))
	os, next, err := s.Customers.ListOrganisations(ctx, customer.ListOrganisationsParams{CustomerID: "c1", PageSize: 2})
	must(t, err)
	same(t, len(os), 2)
	os, next, err = s.Customers.ListOrganisations(ctx, customer.ListOrganisationsParams{CustomerID: "c1", PageSize: 2, PageToken: next})
	must(t, err)
	same(t, []string{os[0].ID, os[1].ID, next}, []string{"o2", "o3", ""})
}

// wantField fails unless err is Invalid with a violation on field.
func wantField(t *testing.T, err error, field string) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Kind != apperr.KindInvalid {
		t.Fatalf("error = %v, want Invalid on %q", err, field)
	}
	for _, v := range e.Violations {
		if v.Field == field {
			return
		}
	}
	t.Fatalf("violations %+v do not name %q", e.Violations, field)
}
