package customer

import (
	"context"
	"strings"

	"github.com/billingd/billingd/internal/access"
	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/resource"
)

const kindVdc = "vdc"

// CreateVdc creates a VDC of an existing organisation.
func (s *Service) CreateVdc(ctx context.Context, in CreateVdcInput) (Vdc, error) {
	if err := in.Validate(); err != nil {
		return Vdc{}, err
	}
	d := in.Vdc
	if d.ID == "" {
		id, err := resource.NewID()
		if err != nil {
			return Vdc{}, err
		}
		d.ID = id
	}
	d.CreateTime = s.now()
	d.UpdateTime = d.CreateTime
	return resource.CreateOnce(ctx, s.store, in.RequestID, kindVdc, func(tx Repository) (Vdc, string, error) {
		if _, err := tx.GetOrganisation(ctx, d.CustomerID, d.OrganisationID); err != nil {
			return d, "", err
		}
		if err := tx.CreateVdc(ctx, d); err != nil {
			return d, "", err
		}
		id := d.CustomerID + "/" + d.OrganisationID + "/" + d.ID
		return d, id, s.audit(ctx, tx, access.ActionCreate, kindVdc, id, nil, d)
	}, s.getVdcByPath)
}

func (s *Service) getVdcByPath(ctx context.Context, path string) (Vdc, error) {
	ids := splitPath(path, 3)
	return s.GetVdc(ctx, ids[0], ids[1], ids[2])
}

// splitPath splits a recorded "a/b/c" resource id; ids never contain "/".
func splitPath(path string, n int) []string {
	ids := strings.SplitN(path, "/", n)
	for len(ids) < n {
		ids = append(ids, "")
	}
	return ids
}

// GetVdc returns one VDC of an organisation.
func (s *Service) GetVdc(ctx context.Context, customerID, organisationID, id string) (Vdc, error) {
	return s.store.GetVdc(ctx, customerID, organisationID, id)
}

// ListVdcs returns one page of an organisation's VDCs in id order; NotFound
// when the organisation does not exist.
func (s *Service) ListVdcs(ctx context.Context, p ListVdcsParams) ([]Vdc, string, error) {
	if _, err := s.store.GetOrganisation(ctx, p.CustomerID, p.OrganisationID); err != nil {
		return nil, "", err
	}
	return s.store.ListVdcs(ctx, p)
}

// UpdateVdc changes the masked fields.
func (s *Service) UpdateVdc(ctx context.Context, in UpdateVdcInput) (Vdc, error) {
	if err := in.Validate(); err != nil {
		return Vdc{}, err
	}
	var out Vdc
	err := s.store.InTx(ctx, func(tx Repository) error {
		cur, err := tx.GetVdc(ctx, in.Vdc.CustomerID, in.Vdc.OrganisationID, in.Vdc.ID)
		if err != nil {
			return err
		}
		next := cur
		applyVdcMask(&next, in.Vdc, in.UpdateMask)
		var v apperr.Invalid
		validateVdc(&v, next, true)
		if err := v.Err(); err != nil {
			return err
		}
		next.UpdateTime = s.now()
		if err := tx.UpdateVdc(ctx, next); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, access.ActionUpdate, kindVdc, next.CustomerID+"/"+next.OrganisationID+"/"+next.ID, cur, next); err != nil {
			return err
		}
		out = next
		return nil
	})
	return out, err
}

// DeleteVdc deletes a VDC.
func (s *Service) DeleteVdc(ctx context.Context, customerID, organisationID, id string) error {
	return s.store.InTx(ctx, func(tx Repository) error {
		cur, err := tx.GetVdc(ctx, customerID, organisationID, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteVdc(ctx, customerID, organisationID, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, access.ActionDelete, kindVdc, customerID+"/"+organisationID+"/"+id, cur, nil)
	})
}
