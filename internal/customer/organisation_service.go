package customer

import (
	"context"

	"github.com/billingd/billingd/internal/access"
	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/resource"
)

const kindOrganisation = "organisation"

// CreateOrganisation creates an organisation of an existing customer.
func (s *Service) CreateOrganisation(ctx context.Context, in CreateOrganisationInput) (Organisation, error) {
	if err := in.Validate(); err != nil {
		return Organisation{}, err
	}
	o := in.Organisation
	if o.ID == "" {
		id, err := resource.NewID()
		if err != nil {
			return Organisation{}, err
		}
		o.ID = id
	}
	o.CreateTime = s.now()
	o.UpdateTime = o.CreateTime
	return resource.CreateOnce(ctx, s.store, in.RequestID, kindOrganisation, func(tx Repository) (Organisation, string, error) {
		if _, err := tx.GetCustomer(ctx, o.CustomerID); err != nil {
			return o, "", err
		}
		if err := tx.CreateOrganisation(ctx, o); err != nil {
			return o, "", err
		}
		id := o.CustomerID + "/" + o.ID
		return o, id, s.audit(ctx, tx, access.ActionCreate, kindOrganisation, id, nil, o)
	}, s.getOrganisationByPath)
}

// getOrganisationByPath reads an organisation recorded as "customer/id".
func (s *Service) getOrganisationByPath(ctx context.Context, path string) (Organisation, error) {
	ids := splitPath(path, 2)
	return s.GetOrganisation(ctx, ids[0], ids[1])
}

// GetOrganisation returns one organisation of a customer.
func (s *Service) GetOrganisation(ctx context.Context, customerID, id string) (Organisation, error) {
	return s.store.GetOrganisation(ctx, customerID, id)
}

// ListOrganisations returns one page of a customer's organisations in id
// order; NotFound when the customer does not exist.
func (s *Service) ListOrganisations(ctx context.Context, p ListOrganisationsParams) ([]Organisation, string, error) {
	if _, err := s.store.GetCustomer(ctx, p.CustomerID); err != nil {
		return nil, "", err
	}
	return s.store.ListOrganisations(ctx, p)
}

// UpdateOrganisation changes the masked fields.
func (s *Service) UpdateOrganisation(ctx context.Context, in UpdateOrganisationInput) (Organisation, error) {
	if err := in.Validate(); err != nil {
		return Organisation{}, err
	}
	var out Organisation
	err := s.store.InTx(ctx, func(tx Repository) error {
		cur, err := tx.GetOrganisation(ctx, in.Organisation.CustomerID, in.Organisation.ID)
		if err != nil {
			return err
		}
		next := cur
		applyOrganisationMask(&next, in.Organisation, in.UpdateMask)
		var v apperr.Invalid
		validateOrganisation(&v, next, true)
		if err := v.Err(); err != nil {
			return err
		}
		next.UpdateTime = s.now()
		if err := tx.UpdateOrganisation(ctx, next); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, access.ActionUpdate, kindOrganisation, next.CustomerID+"/"+next.ID, cur, next); err != nil {
			return err
		}
		out = next
		return nil
	})
	return out, err
}

// DeleteOrganisation deletes an organisation that has no VDCs.
func (s *Service) DeleteOrganisation(ctx context.Context, customerID, id string) error {
	return s.store.InTx(ctx, func(tx Repository) error {
		cur, err := tx.GetOrganisation(ctx, customerID, id)
		if err != nil {
			return err
		}
		ds, _, err := tx.ListVdcs(ctx, ListVdcsParams{CustomerID: customerID, OrganisationID: id, PageSize: 1})
		if err != nil {
			return err
		}
		if len(ds) > 0 {
			return apperr.FailedPrecondition("organisation %q of customer %q still has VDCs (e.g. %q)", id, customerID, ds[0].ID)
		}
		if err := tx.DeleteOrganisation(ctx, customerID, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, access.ActionDelete, kindOrganisation, customerID+"/"+id, cur, nil)
	})
}
