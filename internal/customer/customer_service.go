package customer

import (
	"context"

	"github.com/billingd/billingd/internal/access"
	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/resource"
)

const kindCustomer = "customer"

// CreateCustomer creates a customer; the external id must be free.
func (s *Service) CreateCustomer(ctx context.Context, in CreateCustomerInput) (Customer, error) {
	if err := in.Validate(); err != nil {
		return Customer{}, err
	}
	c := withDefaults(in.Customer)
	if c.ID == "" {
		id, err := resource.NewID()
		if err != nil {
			return Customer{}, err
		}
		c.ID = id
	}
	c.CreateTime = s.now()
	c.UpdateTime = c.CreateTime
	return resource.CreateOnce(ctx, s.store, in.RequestID, kindCustomer, func(tx Repository) (Customer, string, error) {
		if err := externalIDFree(ctx, tx, c); err != nil {
			return c, "", err
		}
		if err := tx.CreateCustomer(ctx, c); err != nil {
			return c, "", err
		}
		id := c.ID
		return c, id, s.audit(ctx, tx, access.ActionCreate, kindCustomer, id, nil, c)
	}, s.GetCustomer)
}

// externalIDFree names the customer already holding c's external id; the
// unique index stays the guard against a concurrent create.
func externalIDFree(ctx context.Context, tx Repository, c Customer) error {
	if c.ExternalID == "" {
		return nil
	}
	cs, _, err := tx.ListCustomers(ctx, ListCustomersParams{ExternalID: c.ExternalID, PageSize: 1})
	if err != nil {
		return err
	}
	if len(cs) > 0 && cs[0].ID != c.ID {
		return apperr.New(apperr.KindAlreadyExists, "external_id %q is already used by customer %q", c.ExternalID, cs[0].ID)
	}
	return nil
}

// GetCustomer returns the customer with this id.
func (s *Service) GetCustomer(ctx context.Context, id string) (Customer, error) {
	return s.store.GetCustomer(ctx, id)
}

// ListCustomers returns one page of customers in id order and the next page's token.
func (s *Service) ListCustomers(ctx context.Context, p ListCustomersParams) ([]Customer, string, error) {
	return s.store.ListCustomers(ctx, p)
}

// UpdateCustomer changes the masked fields.
func (s *Service) UpdateCustomer(ctx context.Context, in UpdateCustomerInput) (Customer, error) {
	if err := in.Validate(); err != nil {
		return Customer{}, err
	}
	var out Customer
	err := s.store.InTx(ctx, func(tx Repository) error {
		cur, err := tx.GetCustomer(ctx, in.Customer.ID)
		if err != nil {
			return err
		}
		next := cur
		applyCustomerMask(&next, in.Customer, in.UpdateMask)
		var v apperr.Invalid
		validateCustomer(&v, next, true)
		if err := v.Err(); err != nil {
			return err
		}
		next = withDefaults(next)
		if next.ExternalID != cur.ExternalID {
			if err := externalIDFree(ctx, tx, next); err != nil {
				return err
			}
		}
		next.UpdateTime = s.now()
		if err := tx.UpdateCustomer(ctx, next); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, access.ActionUpdate, kindCustomer, next.ID, cur, next); err != nil {
			return err
		}
		out = next
		return nil
	})
	return out, err
}

// DeleteCustomer deletes a customer that has no organisations, price lists,
// campaigns or contracts.
func (s *Service) DeleteCustomer(ctx context.Context, id string) error {
	return s.store.InTx(ctx, func(tx Repository) error {
		cur, err := tx.GetCustomer(ctx, id)
		if err != nil {
			return err
		}
		ref, err := tx.CustomerReferrer(ctx, id)
		if err != nil {
			return err
		}
		if ref != "" {
			return apperr.FailedPrecondition("customer %q is still referred to by %s", id, ref)
		}
		if err := tx.DeleteCustomer(ctx, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, access.ActionDelete, kindCustomer, id, cur, nil)
	})
}
