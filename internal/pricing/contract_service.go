package pricing

import (
	"context"

	"github.com/billingd/billingd/internal/access"
	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/resource"
)

const kindContract = "contract"

// CreateContract creates a contract of an existing customer and product;
// its window must not overlap another contract of the same pair.
func (s *Service) CreateContract(ctx context.Context, in CreateContractInput) (Contract, error) {
	if err := in.Validate(); err != nil {
		return Contract{}, err
	}
	c := normaliseContract(in.Contract)
	if c.ID == "" {
		id, err := resource.NewID()
		if err != nil {
			return Contract{}, err
		}
		c.ID = id
	}
	c.CreateTime = s.now()
	c.UpdateTime = c.CreateTime
	return resource.CreateOnce(ctx, s.store, in.RequestID, kindContract, func(tx Repository) (Contract, string, error) {
		if err := customerExists(ctx, tx, c.CustomerID); err != nil {
			return c, "", err
		}
		if err := productsExist(ctx, tx, c.ProductID); err != nil {
			return c, "", err
		}
		if err := noOverlappingContract(ctx, tx, c); err != nil {
			return c, "", err
		}
		if err := tx.CreateContract(ctx, c); err != nil {
			return c, "", err
		}
		id := c.ID
		return c, id, s.audit(ctx, tx, access.ActionCreate, kindContract, id, nil, c)
	}, s.GetContract)
}

func normaliseContract(c Contract) Contract {
	c.StartTime, c.EndTime = utc(c.StartTime), utc(c.EndTime)
	if c.Proration == ProrationUnspecified {
		c.Proration = ProrationNone
	}
	return c
}

func noOverlappingContract(ctx context.Context, tx Repository, c Contract) error {
	other, found, err := tx.OverlappingContract(ctx, c)
	if err != nil || !found {
		return err
	}
	return apperr.FailedPrecondition("contract window %s of customer %q for product %q overlaps contract %q %s",
		window(c.StartTime, c.EndTime), c.CustomerID, c.ProductID, other.ID, window(other.StartTime, other.EndTime))
}

// GetContract returns the contract with this id.
func (s *Service) GetContract(ctx context.Context, id string) (Contract, error) {
	return s.store.GetContract(ctx, id)
}

// ListContracts returns one page of contracts in id order and the next page's token.
func (s *Service) ListContracts(ctx context.Context, p ListContractsParams) ([]Contract, string, error) {
	return s.store.ListContracts(ctx, p)
}

// UpdateContract changes the masked fields; customer and product are
// immutable and the new window must not overlap another contract.
func (s *Service) UpdateContract(ctx context.Context, in UpdateContractInput) (Contract, error) {
	if err := in.Validate(); err != nil {
		return Contract{}, err
	}
	var out Contract
	err := s.store.InTx(ctx, func(tx Repository) error {
		cur, err := tx.GetContract(ctx, in.Contract.ID)
		if err != nil {
			return err
		}
		next := cur
		applyContractMask(&next, in.Contract, in.UpdateMask)
		var v apperr.Invalid
		validateContract(&v, next, true)
		if err := v.Err(); err != nil {
			return err
		}
		next = normaliseContract(next)
		if err := noOverlappingContract(ctx, tx, next); err != nil {
			return err
		}
		next.UpdateTime = s.now()
		if err := tx.UpdateContract(ctx, next); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, access.ActionUpdate, kindContract, next.ID, cur, next); err != nil {
			return err
		}
		out = next
		return nil
	})
	return out, err
}

// DeleteContract deletes a contract.
func (s *Service) DeleteContract(ctx context.Context, id string) error {
	return s.store.InTx(ctx, func(tx Repository) error {
		cur, err := tx.GetContract(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteContract(ctx, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, access.ActionDelete, kindContract, id, cur, nil)
	})
}
