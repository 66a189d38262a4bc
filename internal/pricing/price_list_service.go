package pricing

import (
	"context"

	"github.com/billingd/billingd/internal/access"
	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/resource"
)

const kindPriceList = "price_list"

// CreatePriceList creates a price list; an owner may have one per currency.
func (s *Service) CreatePriceList(ctx context.Context, in CreatePriceListInput) (PriceList, error) {
	if err := in.Validate(); err != nil {
		return PriceList{}, err
	}
	l := in.PriceList
	if l.ID == "" {
		id, err := resource.NewID()
		if err != nil {
			return PriceList{}, err
		}
		l.ID = id
	}
	l.CreateTime = s.now()
	l.UpdateTime = l.CreateTime
	return resource.CreateOnce(ctx, s.store, in.RequestID, kindPriceList, func(tx Repository) (PriceList, string, error) {
		if err := customerExists(ctx, tx, l.CustomerID); err != nil {
			return l, "", err
		}
		other, found, err := tx.FindPriceList(ctx, l.CustomerID, l.Currency)
		if err != nil {
			return l, "", err
		}
		if found {
			owner := "the default owner"
			if l.CustomerID != "" {
				owner = "customer " + quote(l.CustomerID)
			}
			return l, "", apperr.New(apperr.KindAlreadyExists,
				"%s already has a %s price list: %q", owner, l.Currency, other.ID)
		}
		if err := tx.CreatePriceList(ctx, l); err != nil {
			return l, "", err
		}
		id := l.ID
		return l, id, s.audit(ctx, tx, access.ActionCreate, kindPriceList, id, nil, l)
	}, s.GetPriceList)
}

// GetPriceList returns the price list with this id.
func (s *Service) GetPriceList(ctx context.Context, id string) (PriceList, error) {
	return s.store.GetPriceList(ctx, id)
}

// ListPriceLists returns one page of price lists in id order and the next page's token.
func (s *Service) ListPriceLists(ctx context.Context, p ListPriceListsParams) ([]PriceList, string, error) {
	if p.DefaultOnly && p.CustomerID != "" {
		return nil, "", apperr.InvalidField("customer_id", "must be empty with default_only")
	}
	return s.store.ListPriceLists(ctx, p)
}

// UpdatePriceList changes the masked fields; currency and owner are immutable.
func (s *Service) UpdatePriceList(ctx context.Context, in UpdatePriceListInput) (PriceList, error) {
	if err := in.Validate(); err != nil {
		return PriceList{}, err
	}
	var out PriceList
	err := s.store.InTx(ctx, func(tx Repository) error {
		cur, err := tx.GetPriceList(ctx, in.PriceList.ID)
		if err != nil {
			return err
		}
		next := cur
		applyPriceListMask(&next, in.PriceList, in.UpdateMask)
		var v apperr.Invalid
		validatePriceList(&v, next, true)
		if err := v.Err(); err != nil {
			return err
		}
		next.UpdateTime = s.now()
		if err := tx.UpdatePriceList(ctx, next); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, access.ActionUpdate, kindPriceList, next.ID, cur, next); err != nil {
			return err
		}
		out = next
		return nil
	})
	return out, err
}

// DeletePriceList deletes a price list that has no prices.
func (s *Service) DeletePriceList(ctx context.Context, id string) error {
	return s.store.InTx(ctx, func(tx Repository) error {
		cur, err := tx.GetPriceList(ctx, id)
		if err != nil {
			return err
		}
		ps, _, err := tx.ListPrices(ctx, ListPricesParams{PriceListID: id, PageSize: 1})
		if err != nil {
			return err
		}
		if len(ps) > 0 {
			return apperr.FailedPrecondition("price list %q still has prices (e.g. %q)", id, ps[0].ID)
		}
		if err := tx.DeletePriceList(ctx, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, access.ActionDelete, kindPriceList, id, cur, nil)
	})
}

func quote(s string) string { return `"` + s + `"` }
