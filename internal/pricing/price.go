package pricing

import (
	"fmt"
	"slices"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/resource"
)

// CreatePriceInput creates a price in Price.PriceListID; an empty ID is generated.
type CreatePriceInput struct {
	Price     Price
	RequestID string
}

// Validate reports every format problem of the input.
func (in CreatePriceInput) Validate() error {
	var v apperr.Invalid
	validatePrice(&v, in.Price, false)
	resource.CheckRequestID(&v, in.RequestID)
	return v.Err()
}

// UpdatePriceInput changes the fields named by UpdateMask of the price
// Price.PriceListID/Price.ID.
type UpdatePriceInput struct {
	Price      Price
	UpdateMask []string
}

var priceMask = resource.FieldMask{
	Mutable:   []string{"unit_price", "granularity", "valid_from", "valid_to", "tier_mode", "tiers", "minimum_charge"},
	Immutable: []string{"price_list_id", "id", "product_id", "create_time", "update_time"},
}

// Validate checks the ids and the mask.
func (in UpdatePriceInput) Validate() error {
	var v apperr.Invalid
	resource.CheckID(&v, "price_list_id", in.Price.PriceListID, true)
	resource.CheckID(&v, "id", in.Price.ID, true)
	priceMask.Check(&v, in.UpdateMask)
	return v.Err()
}

func validatePrice(v *apperr.Invalid, p Price, idRequired bool) {
	resource.CheckID(v, "price_list_id", p.PriceListID, true)
	resource.CheckID(v, "id", p.ID, idRequired)
	resource.CheckID(v, "product_id", p.ProductID, true)
	checkNonNegative(v, "unit_price", p.UnitPrice)
	if !p.Granularity.Valid() {
		v.Add("granularity", "must be hour, day or month")
	}
	checkWindow(v, "valid_from", "valid_to", p.ValidFrom, p.ValidTo, false)
	if p.MinimumCharge.Valid {
		checkNonNegative(v, "minimum_charge", p.MinimumCharge.Decimal)
	}
	if len(p.Tiers) == 0 {
		if p.TierMode != TierModeUnspecified {
			v.Add("tier_mode", "must be unspecified when there are no tiers")
		}
		return
	}
	if !p.TierMode.Valid() {
		v.Add("tier_mode", "must be graduated or volume when tiers are set")
	}
	if !p.UnitPrice.IsZero() {
		v.Add("unit_price", "must be 0 or empty when tiers are set")
	}
	if len(p.Tiers) > maxTiers {
		v.Add("tiers", "must have at most %d tiers", maxTiers)
	}
	last := len(p.Tiers) - 1
	for i, t := range p.Tiers {
		f := fmt.Sprintf("tiers[%d]", i)
		checkNonNegative(v, f+".unit_price", t.UnitPrice)
		switch {
		case i == last && !t.UpTo.IsZero():
			v.Add(f+".up_to", "must be empty on the last tier (it has no upper bound)")
		case i < last && !t.UpTo.IsPositive():
			v.Add(f+".up_to", "must be > 0 (only the last tier has no upper bound)")
		case i > 0 && i < last && !t.UpTo.GreaterThan(p.Tiers[i-1].UpTo):
			v.Add(f+".up_to", "must be greater than tiers[%d].up_to", i-1)
		}
	}
}

func applyPriceMask(dst *Price, src Price, paths []string) {
	for _, p := range priceMask.Effective(paths) {
		switch p {
		case "unit_price":
			dst.UnitPrice = src.UnitPrice
		case "granularity":
			dst.Granularity = src.Granularity
		case "valid_from":
			dst.ValidFrom = src.ValidFrom
		case "valid_to":
			dst.ValidTo = src.ValidTo
		case "tier_mode":
			dst.TierMode = src.TierMode
		case "tiers":
			dst.Tiers = slices.Clone(src.Tiers)
		case "minimum_charge":
			dst.MinimumCharge = src.MinimumCharge
		}
	}
}
