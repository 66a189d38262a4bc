package catalog

import (
	"context"

	"github.com/billingd/billingd/internal/access"
	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/resource"
)

const kindProductGroup = "product_group"

// CreateProductGroup creates a product group, generating its id when empty.
func (s *Service) CreateProductGroup(ctx context.Context, in CreateProductGroupInput) (ProductGroup, error) {
	if err := in.Validate(); err != nil {
		return ProductGroup{}, err
	}
	g := in.Group
	if g.ID == "" {
		id, err := resource.NewID()
		if err != nil {
			return ProductGroup{}, err
		}
		g.ID = id
	}
	g.CreateTime = s.now()
	g.UpdateTime = g.CreateTime
	return resource.CreateOnce(ctx, s.store, in.RequestID, kindProductGroup, func(tx Repository) (ProductGroup, string, error) {
		if err := tx.CreateProductGroup(ctx, g); err != nil {
			return g, "", err
		}
		id := g.ID
		return g, id, s.audit(ctx, tx, access.ActionCreate, kindProductGroup, id, nil, g)
	}, s.GetProductGroup)
}

// GetProductGroup returns the product group with this id.
func (s *Service) GetProductGroup(ctx context.Context, id string) (ProductGroup, error) {
	return s.store.GetProductGroup(ctx, id)
}

// ListProductGroups returns one page of groups in id order and the next page's token.
func (s *Service) ListProductGroups(ctx context.Context, p ListProductGroupsParams) ([]ProductGroup, string, error) {
	return s.store.ListProductGroups(ctx, p)
}

// UpdateProductGroup changes the masked fields.
func (s *Service) UpdateProductGroup(ctx context.Context, in UpdateProductGroupInput) (ProductGroup, error) {
	if err := in.Validate(); err != nil {
		return ProductGroup{}, err
	}
	var out ProductGroup
	err := s.store.InTx(ctx, func(tx Repository) error {
		cur, err := tx.GetProductGroup(ctx, in.Group.ID)
		if err != nil {
			return err
		}
		next := cur
		applyGroupMask(&next, in.Group, in.UpdateMask)
		var v apperr.Invalid
		validateGroup(&v, next, true)
		if err := v.Err(); err != nil {
			return err
		}
		next.UpdateTime = s.now()
		if err := tx.UpdateProductGroup(ctx, next); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, access.ActionUpdate, kindProductGroup, next.ID, cur, next); err != nil {
			return err
		}
		out = next
		return nil
	})
	return out, err
}

// DeleteProductGroup deletes a group that has no products.
func (s *Service) DeleteProductGroup(ctx context.Context, id string) error {
	return s.store.InTx(ctx, func(tx Repository) error {
		cur, err := tx.GetProductGroup(ctx, id)
		if err != nil {
			return err
		}
		ps, _, err := tx.ListProducts(ctx, ListProductsParams{GroupID: id, PageSize: 1})
		if err != nil {
			return err
		}
		if len(ps) > 0 {
			return apperr.FailedPrecondition("product group %q still has products (e.g. %q)", id, ps[0].ID)
		}
		if err := tx.DeleteProductGroup(ctx, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, access.ActionDelete, kindProductGroup, id, cur, nil)
	})
}
