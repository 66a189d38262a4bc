package pricing

import (
	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/resource"
)

// CreateContractInput creates a contract; an empty ID is generated and an
// unspecified Proration becomes ProrationNone.
type CreateContractInput struct {
	Contract  Contract
	RequestID string
}

// Validate reports every format problem of the input.
func (in CreateContractInput) Validate() error {
	var v apperr.Invalid
	validateContract(&v, in.Contract, false)
	resource.CheckRequestID(&v, in.RequestID)
	return v.Err()
}

// UpdateContractInput changes the fields of Contract named by UpdateMask.
type UpdateContractInput struct {
	Contract   Contract
	UpdateMask []string
}

var contractMask = resource.FieldMask{
	Mutable: []string{"model", "committed_quantity", "fee", "fee_granularity", "overage_unit_price",
		"start_time", "end_time", "proration"},
	// currency is immutable: the fee and overage price are amounts in it.
	Immutable: []string{"id", "customer_id", "product_id", "currency", "create_time", "update_time"},
}

// Validate checks the id and the mask.
func (in UpdateContractInput) Validate() error {
	var v apperr.Invalid
	resource.CheckID(&v, "id", in.Contract.ID, true)
	contractMask.Check(&v, in.UpdateMask)
	return v.Err()
}

func validateContract(v *apperr.Invalid, c Contract, idRequired bool) {
	resource.CheckID(v, "id", c.ID, idRequired)
	resource.CheckID(v, "customer_id", c.CustomerID, true)
	resource.CheckID(v, "product_id", c.ProductID, true)
	if !c.Model.Valid() {
		v.Add("model", "must be committed or committed_overage")
	}
	if !c.CommittedQuantity.IsPositive() {
		v.Add("committed_quantity", "must be > 0")
	}
	checkNonNegative(v, "fee", c.Fee)
	if !c.FeeGranularity.Valid() {
		v.Add("fee_granularity", "must be hour, day or month")
	}
	switch {
	case c.Model == ContractModelCommittedOverage && !c.OverageUnitPrice.Valid:
		v.Add("overage_unit_price", "is required for model committed_overage")
	case c.Model != ContractModelCommittedOverage && c.OverageUnitPrice.Valid:
		v.Add("overage_unit_price", "is allowed only for model committed_overage")
	case c.OverageUnitPrice.Valid:
		checkNonNegative(v, "overage_unit_price", c.OverageUnitPrice.Decimal)
	}
	checkCurrency(v, "currency", c.Currency)
	checkWindow(v, "start_time", "end_time", c.StartTime, c.EndTime, false)
	if c.Proration != ProrationUnspecified && !c.Proration.Valid() {
		v.Add("proration", "must be none, daily or hourly")
	}
}

func applyContractMask(dst *Contract, src Contract, paths []string) {
	for _, p := range contractMask.Effective(paths) {
		switch p {
		case "model":
			dst.Model = src.Model
		case "committed_quantity":
			dst.CommittedQuantity = src.CommittedQuantity
		case "fee":
			dst.Fee = src.Fee
		case "fee_granularity":
			dst.FeeGranularity = src.FeeGranularity
		case "overage_unit_price":
			dst.OverageUnitPrice = src.OverageUnitPrice
		case "currency":
			dst.Currency = src.Currency
		case "start_time":
			dst.StartTime = src.StartTime
		case "end_time":
			dst.EndTime = src.EndTime
		case "proration":
			dst.Proration = src.Proration
		}
	}
}
