package catalog

import (
	"context"

	"github.com/billingd/billingd/internal/access"
	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/resource"
)

const kindProduct = "product"

// CreateProduct creates a product of an existing group and metric. An empty
// id is generated; an empty unit becomes the metric's unit.
func (s *Service) CreateProduct(ctx context.Context, in CreateProductInput) (Product, error) {
	if err := in.Validate(); err != nil {
		return Product{}, err
	}
	p := in.Product
	if p.ID == "" {
		id, err := resource.NewID()
		if err != nil {
			return Product{}, err
		}
		p.ID = id
	}
	p.CreateTime = s.now()
	p.UpdateTime = p.CreateTime
	return resource.CreateOnce(ctx, s.store, in.RequestID, kindProduct, func(tx Repository) (Product, string, error) {
		if _, err := tx.GetProductGroup(ctx, p.GroupID); err != nil {
			return p, "", err
		}
		m, err := tx.GetMetric(ctx, p.MetricKey)
		if err != nil {
			return p, "", err
		}
		if p.Unit == "" {
			p.Unit = m.Unit
		}
		if err := checkPeakBasis(p, m); err != nil {
			return p, "", err
		}
		if err := tx.CreateProduct(ctx, p); err != nil {
			return p, "", err
		}
		id := p.ID
		return p, id, s.audit(ctx, tx, access.ActionCreate, kindProduct, id, nil, p)
	}, s.GetProduct)
}

// GetProduct returns the product with this id.
func (s *Service) GetProduct(ctx context.Context, id string) (Product, error) {
	return s.store.GetProduct(ctx, id)
}

// ListProducts returns one page of products in id order, filtered by group
// and metric when given, and the next page's token.
func (s *Service) ListProducts(ctx context.Context, p ListProductsParams) ([]Product, string, error) {
	return s.store.ListProducts(ctx, p)
}

// UpdateProduct changes the masked fields; the metric is immutable.
func (s *Service) UpdateProduct(ctx context.Context, in UpdateProductInput) (Product, error) {
	if err := in.Validate(); err != nil {
		return Product{}, err
	}
	var out Product
	err := s.store.InTx(ctx, func(tx Repository) error {
		cur, err := tx.GetProduct(ctx, in.Product.ID)
		if err != nil {
			return err
		}
		next := cur
		applyProductMask(&next, in.Product, in.UpdateMask)
		var v apperr.Invalid
		validateProduct(&v, next, true)
		if err := v.Err(); err != nil {
			return err
		}
		if next.GroupID != cur.GroupID {
			if _, err := tx.GetProductGroup(ctx, next.GroupID); err != nil {
				return err
			}
		}
		if next.Unit == "" || next.PeakBasis != cur.PeakBasis {
			m, err := tx.GetMetric(ctx, next.MetricKey)
			if err != nil {
				return err
			}
			if next.Unit == "" {
				next.Unit = m.Unit
			}
			if err := checkPeakBasis(next, m); err != nil {
				return err
			}
		}
		next.UpdateTime = s.now()
		if err := tx.UpdateProduct(ctx, next); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, access.ActionUpdate, kindProduct, next.ID, cur, next); err != nil {
			return err
		}
		out = next
		return nil
	})
	return out, err
}

// DeleteProduct deletes a product no price, campaign or contract refers to.
func (s *Service) DeleteProduct(ctx context.Context, id string) error {
	return s.store.InTx(ctx, func(tx Repository) error {
		cur, err := tx.GetProduct(ctx, id)
		if err != nil {
			return err
		}
		ref, err := tx.ProductReferrer(ctx, id)
		if err != nil {
			return err
		}
		if ref != "" {
			return apperr.FailedPrecondition("product %q is used by %s", id, ref)
		}
		if err := tx.DeleteProduct(ctx, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, access.ActionDelete, kindProduct, id, cur, nil)
	})
}
