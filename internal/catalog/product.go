package catalog

import (
	"maps"

	"github.com/billingd/billingd/internal/apperr"
)

// CreateProductInput creates a product; an empty ID is generated and an
// empty Unit defaults to the metric's unit.
type CreateProductInput struct {
	Product   Product
	RequestID string
}

// Validate reports every format problem of the input.
func (in CreateProductInput) Validate() error {
	var v apperr.Invalid
	validateProduct(&v, in.Product, false)
	checkRequestID(&v, in.RequestID)
	return v.Err()
}

// UpdateProductInput changes the fields of Product named by UpdateMask.
type UpdateProductInput struct {
	Product    Product
	UpdateMask []string
}

var productMask = fieldMask{
	mutable:   []string{"product_group_id", "dimension_filter", "unit", "display_name", "description"},
	immutable: []string{"id", "metric_key", "create_time", "update_time"},
}

// Validate checks the id and the mask.
func (in UpdateProductInput) Validate() error {
	var v apperr.Invalid
	checkID(&v, "id", in.Product.ID, true)
	productMask.check(&v, in.UpdateMask)
	return v.Err()
}

func validateProduct(v *apperr.Invalid, p Product, idRequired bool) {
	checkID(v, "id", p.ID, idRequired)
	checkID(v, "product_group_id", p.GroupID, true)
	checkMetricKey(v, "metric_key", p.MetricKey)
	if len(p.DimensionFilter) > maxFilterPairs {
		v.Add("dimension_filter", "must have at most %d pairs", maxFilterPairs)
	}
	for _, k := range sortedKeys(p.DimensionFilter) {
		if !dimensionKeyPattern.MatchString(k) {
			v.Add("dimension_filter", "key %q must match %s", k, dimensionKeyPattern)
		}
		checkText(v, "dimension_filter["+k+"]", p.DimensionFilter[k], false, maxDimensionValLen)
	}
	checkText(v, "unit", p.Unit, false, maxUnitLen)
	checkText(v, "display_name", p.DisplayName, true, maxDisplayNameLen)
	checkText(v, "description", p.Description, false, maxDescriptionLen)
}

func applyProductMask(dst *Product, src Product, paths []string) {
	for _, p := range productMask.effective(paths) {
		switch p {
		case "product_group_id":
			dst.GroupID = src.GroupID
		case "dimension_filter":
			dst.DimensionFilter = maps.Clone(src.DimensionFilter)
		case "unit":
			dst.Unit = src.Unit
		case "display_name":
			dst.DisplayName = src.DisplayName
		case "description":
			dst.Description = src.Description
		}
	}
}
