package pricing

import (
	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/resource"
)

// CreatePriceListInput creates a price list; an empty ID is generated.
type CreatePriceListInput struct {
	PriceList PriceList
	RequestID string
}

// Validate reports every format problem of the input.
func (in CreatePriceListInput) Validate() error {
	var v apperr.Invalid
	validatePriceList(&v, in.PriceList, false)
	resource.CheckRequestID(&v, in.RequestID)
	return v.Err()
}

// UpdatePriceListInput changes the fields of PriceList named by UpdateMask.
type UpdatePriceListInput struct {
	PriceList  PriceList
	UpdateMask []string
}

// Currency and owner are immutable: changing them would silently re-denominate
// or re-assign every price of the list.
var priceListMask = resource.FieldMask{
	Mutable:   []string{"display_name"},
	Immutable: []string{"id", "currency", "customer_id", "create_time", "update_time"},
}

// Validate checks the id and the mask.
func (in UpdatePriceListInput) Validate() error {
	var v apperr.Invalid
	resource.CheckID(&v, "id", in.PriceList.ID, true)
	priceListMask.Check(&v, in.UpdateMask)
	return v.Err()
}

func validatePriceList(v *apperr.Invalid, l PriceList, idRequired bool) {
	resource.CheckID(v, "id", l.ID, idRequired)
	resource.CheckText(v, "display_name", l.DisplayName, true, maxDisplayNameLen)
	checkCurrency(v, "currency", l.Currency)
	resource.CheckID(v, "customer_id", l.CustomerID, false)
}

func applyPriceListMask(dst *PriceList, src PriceList, paths []string) {
	for _, p := range priceListMask.Effective(paths) {
		if p == "display_name" {
			dst.DisplayName = src.DisplayName
		}
	}
}
