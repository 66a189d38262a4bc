package pricing

import (
	"context"
	"strings"

	"github.com/billingd/billingd/internal/access"
	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/resource"
)

const kindPrice = "price"

// CreatePrice adds a price to an existing list for an existing product; its
// window must not overlap another price of the same list and product.
func (s *Service) CreatePrice(ctx context.Context, in CreatePriceInput) (Price, error) {
	if err := in.Validate(); err != nil {
		return Price{}, err
	}
	p := normalisePrice(in.Price)
	if p.ID == "" {
		id, err := resource.NewID()
		if err != nil {
			return Price{}, err
		}
		p.ID = id
	}
	p.CreateTime = s.now()
	p.UpdateTime = p.CreateTime
	return resource.CreateOnce(ctx, s.store, in.RequestID, kindPrice, func(tx Repository) (Price, string, error) {
		if _, err := tx.GetPriceList(ctx, p.PriceListID); err != nil {
			return p, "", err
		}
		if err := productsExist(ctx, tx, p.ProductID); err != nil {
			return p, "", err
		}
		if err := noOverlappingPrice(ctx, tx, p); err != nil {
			return p, "", err
		}
		if err := tx.CreatePrice(ctx, p); err != nil {
			return p, "", err
		}
		id := p.PriceListID + "/" + p.ID
		return p, id, s.audit(ctx, tx, access.ActionCreate, kindPrice, id, nil, p)
	}, s.getPriceByPath)
}

func (s *Service) getPriceByPath(ctx context.Context, path string) (Price, error) {
	list, id, _ := strings.Cut(path, "/")
	return s.GetPrice(ctx, list, id)
}

func normalisePrice(p Price) Price {
	p.ValidFrom, p.ValidTo = utc(p.ValidFrom), utc(p.ValidTo)
	return p
}

// noOverlappingPrice names the other price in its error; the database's
// exclusion constraint is the guard against a concurrent write.
func noOverlappingPrice(ctx context.Context, tx Repository, p Price) error {
	other, found, err := tx.OverlappingPrice(ctx, p)
	if err != nil || !found {
		return err
	}
	return apperr.FailedPrecondition("price window %s of product %q overlaps price %q %s in price list %q",
		window(p.ValidFrom, p.ValidTo), p.ProductID, other.ID, window(other.ValidFrom, other.ValidTo), p.PriceListID)
}

// GetPrice returns one price of a list.
func (s *Service) GetPrice(ctx context.Context, priceListID, id string) (Price, error) {
	return s.store.GetPrice(ctx, priceListID, id)
}

// ListPrices returns one page of a list's prices in id order; NotFound when
// the list does not exist.
func (s *Service) ListPrices(ctx context.Context, p ListPricesParams) ([]Price, string, error) {
	if _, err := s.store.GetPriceList(ctx, p.PriceListID); err != nil {
		return nil, "", err
	}
	return s.store.ListPrices(ctx, p)
}

// UpdatePrice changes the masked fields; the product is immutable and the
// new window must not overlap another price.
func (s *Service) UpdatePrice(ctx context.Context, in UpdatePriceInput) (Price, error) {
	if err := in.Validate(); err != nil {
		return Price{}, err
	}
	var out Price
	err := s.store.InTx(ctx, func(tx Repository) error {
		cur, err := tx.GetPrice(ctx, in.Price.PriceListID, in.Price.ID)
		if err != nil {
			return err
		}
		next := cur
		applyPriceMask(&next, normalisePrice(in.Price), in.UpdateMask)
		var v apperr.Invalid
		validatePrice(&v, next, true)
		if err := v.Err(); err != nil {
			return err
		}
		if err := noOverlappingPrice(ctx, tx, next); err != nil {
			return err
		}
		next.UpdateTime = s.now()
		if err := tx.UpdatePrice(ctx, next); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, access.ActionUpdate, kindPrice, next.PriceListID+"/"+next.ID, cur, next); err != nil {
			return err
		}
		out = next
		return nil
	})
	return out, err
}

// DeletePrice deletes one price of a list.
func (s *Service) DeletePrice(ctx context.Context, priceListID, id string) error {
	return s.store.InTx(ctx, func(tx Repository) error {
		cur, err := tx.GetPrice(ctx, priceListID, id)
		if err != nil {
			return err
		}
		if err := tx.DeletePrice(ctx, priceListID, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, access.ActionDelete, kindPrice, priceListID+"/"+id, cur, nil)
	})
}
