package pricing

import (
	"context"

	"github.com/billingd/billingd/internal/access"
	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/resource"
)

const kindCampaign = "campaign"

// CreateCampaign creates a campaign whose customer (if any) and entry
// products exist. Overlapping campaigns are allowed; Priority orders them.
func (s *Service) CreateCampaign(ctx context.Context, in CreateCampaignInput) (Campaign, error) {
	if err := in.Validate(); err != nil {
		return Campaign{}, err
	}
	c := in.Campaign
	c.ValidFrom, c.ValidTo = utc(c.ValidFrom), utc(c.ValidTo)
	if c.ID == "" {
		id, err := resource.NewID()
		if err != nil {
			return Campaign{}, err
		}
		c.ID = id
	}
	c.CreateTime = s.now()
	c.UpdateTime = c.CreateTime
	return resource.CreateOnce(ctx, s.store, in.RequestID, kindCampaign, func(tx Repository) (Campaign, string, error) {
		if err := customerExists(ctx, tx, c.CustomerID); err != nil {
			return c, "", err
		}
		if err := productsExist(ctx, tx, entryProductIDs(c.Entries)...); err != nil {
			return c, "", err
		}
		if err := tx.CreateCampaign(ctx, c); err != nil {
			return c, "", err
		}
		id := c.ID
		return c, id, s.audit(ctx, tx, access.ActionCreate, kindCampaign, id, nil, c)
	}, s.GetCampaign)
}

// GetCampaign returns the campaign with this id and its entries.
func (s *Service) GetCampaign(ctx context.Context, id string) (Campaign, error) {
	return s.store.GetCampaign(ctx, id)
}

// ListCampaigns returns one page of campaigns in id order and the next page's token.
func (s *Service) ListCampaigns(ctx context.Context, p ListCampaignsParams) ([]Campaign, string, error) {
	return s.store.ListCampaigns(ctx, p)
}

// UpdateCampaign changes the masked fields; "entries" replaces all entries.
func (s *Service) UpdateCampaign(ctx context.Context, in UpdateCampaignInput) (Campaign, error) {
	if err := in.Validate(); err != nil {
		return Campaign{}, err
	}
	src := in.Campaign
	src.ValidFrom, src.ValidTo = utc(src.ValidFrom), utc(src.ValidTo)
	var out Campaign
	err := s.store.InTx(ctx, func(tx Repository) error {
		cur, err := tx.GetCampaign(ctx, src.ID)
		if err != nil {
			return err
		}
		next := cur
		applyCampaignMask(&next, src, in.UpdateMask)
		var v apperr.Invalid
		validateCampaign(&v, next, true)
		if err := v.Err(); err != nil {
			return err
		}
		if err := productsExist(ctx, tx, entryProductIDs(next.Entries)...); err != nil {
			return err
		}
		next.UpdateTime = s.now()
		if err := tx.UpdateCampaign(ctx, next); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, access.ActionUpdate, kindCampaign, next.ID, cur, next); err != nil {
			return err
		}
		out = next
		return nil
	})
	return out, err
}

// DeleteCampaign deletes a campaign with its entries.
func (s *Service) DeleteCampaign(ctx context.Context, id string) error {
	return s.store.InTx(ctx, func(tx Repository) error {
		cur, err := tx.GetCampaign(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteCampaign(ctx, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, access.ActionDelete, kindCampaign, id, cur, nil)
	})
}
