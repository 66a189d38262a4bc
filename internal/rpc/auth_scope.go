package rpc

import (
	"context"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/access"
	"github.com/billingd/billingd/internal/apperr"
)

// The reads the interceptor cannot hold to a customer-scoped key's
// customer, because the request names a resource whose owner only the
// store knows (access.ScopeHandler). Each answers access.ErrOutOfScope for
// another customer's resource and for one that does not exist alike.

// listScopedCustomers lists what a scoped key may see of the customers:
// its own customer, on one page, if it exists and matches the filter.
func (s *CustomerServer) listScopedCustomers(ctx context.Context, p access.Principal, req *billingv1.ListCustomersRequest) (*billingv1.ListCustomersResponse, error) {
	out := &billingv1.ListCustomersResponse{}
	if req.GetPageToken() != "" {
		return out, nil // the first page held everything
	}
	c, err := s.svc.GetCustomer(ctx, p.CustomerID)
	switch {
	case apperr.KindOf(err) == apperr.KindNotFound:
		return out, nil
	case err != nil:
		return nil, s.err(ctx, err)
	}
	if ext := req.GetExternalId(); ext == "" || ext == c.ExternalID {
		out.Customers = append(out.Customers, customerToProto(c))
	}
	return out, nil
}

// checkListOwner holds a scoped key to price lists of its customer and the
// default lists; unscoped callers pass without a read.
func (s *PricingServer) checkListOwner(ctx context.Context, priceListID string) error {
	if p, ok := access.FromContext(ctx); !ok || !p.Scoped() {
		return nil
	}
	l, err := s.svc.GetPriceList(ctx, priceListID)
	return access.CheckOwner(ctx, l.CustomerID, err)
}
