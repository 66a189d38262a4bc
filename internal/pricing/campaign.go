package pricing

import (
	"fmt"
	"slices"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/resource"
	"github.com/shopspring/decimal"
)

// CreateCampaignInput creates a campaign with its entries; an empty ID is generated.
type CreateCampaignInput struct {
	Campaign  Campaign
	RequestID string
}

// Validate reports every format problem of the input.
func (in CreateCampaignInput) Validate() error {
	var v apperr.Invalid
	validateCampaign(&v, in.Campaign, false)
	resource.CheckRequestID(&v, in.RequestID)
	return v.Err()
}

// UpdateCampaignInput changes the fields of Campaign named by UpdateMask;
// "entries" replaces all entries.
type UpdateCampaignInput struct {
	Campaign   Campaign
	UpdateMask []string
}

var campaignMask = resource.FieldMask{
	Mutable:   []string{"display_name", "valid_from", "valid_to", "priority", "entries"},
	Immutable: []string{"id", "customer_id", "currency", "create_time", "update_time"},
}

// Validate checks the id and the mask.
func (in UpdateCampaignInput) Validate() error {
	var v apperr.Invalid
	resource.CheckID(&v, "id", in.Campaign.ID, true)
	campaignMask.Check(&v, in.UpdateMask)
	return v.Err()
}

var hundred = decimal.NewFromInt(100)

func validateCampaign(v *apperr.Invalid, c Campaign, idRequired bool) {
	resource.CheckID(v, "id", c.ID, idRequired)
	resource.CheckText(v, "display_name", c.DisplayName, true, maxDisplayNameLen)
	resource.CheckID(v, "customer_id", c.CustomerID, false)
	checkCurrency(v, "currency", c.Currency)
	checkWindow(v, "valid_from", "valid_to", c.ValidFrom, c.ValidTo, true)
	if c.Priority < 0 || c.Priority > maxPriority {
		v.Add("priority", "must be in [0, %d]", maxPriority)
	}
	if len(c.Entries) == 0 {
		v.Add("entries", "must have at least one entry")
	}
	if len(c.Entries) > maxEntries {
		v.Add("entries", "must have at most %d entries", maxEntries)
	}
	seen := map[string]int{}
	for i, e := range c.Entries {
		f := fmt.Sprintf("entries[%d]", i)
		resource.CheckID(v, f+".product_id", e.ProductID, true)
		if j, dup := seen[e.ProductID]; dup && e.ProductID != "" {
			v.Add(f+".product_id", "product %q is already in entries[%d]", e.ProductID, j)
		} else {
			seen[e.ProductID] = i
		}
		switch {
		case e.UnitPrice.Valid == e.DiscountPercent.Valid:
			v.Add(f, "must set exactly one of unit_price or discount_percent")
		case e.UnitPrice.Valid:
			checkNonNegative(v, f+".unit_price", e.UnitPrice.Decimal)
		case !e.DiscountPercent.Decimal.IsPositive() || e.DiscountPercent.Decimal.GreaterThan(hundred):
			v.Add(f+".discount_percent", "must be in (0, 100]")
		}
	}
}

func applyCampaignMask(dst *Campaign, src Campaign, paths []string) {
	for _, p := range campaignMask.Effective(paths) {
		switch p {
		case "display_name":
			dst.DisplayName = src.DisplayName
		case "valid_from":
			dst.ValidFrom = src.ValidFrom
		case "valid_to":
			dst.ValidTo = src.ValidTo
		case "priority":
			dst.Priority = src.Priority
		case "entries":
			dst.Entries = slices.Clone(src.Entries)
		}
	}
}

func entryProductIDs(es []CampaignEntry) []string {
	ids := make([]string, len(es))
	for i, e := range es {
		ids[i] = e.ProductID
	}
	return ids
}
