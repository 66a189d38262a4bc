package catalog

import (
	"maps"
	"slices"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/resource"
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
	resource.CheckRequestID(&v, in.RequestID)
	return v.Err()
}

// UpdateProductInput changes the fields of Product named by UpdateMask.
type UpdateProductInput struct {
	Product    Product
	UpdateMask []string
}

var productMask = resource.FieldMask{
	Mutable:   []string{"product_group_id", "dimension_filter", "unit", "display_name", "description", "peak_basis"},
	Immutable: []string{"id", "metric_key", "create_time", "update_time"},
}

// Validate checks the id and the mask.
func (in UpdateProductInput) Validate() error {
	var v apperr.Invalid
	resource.CheckID(&v, "id", in.Product.ID, true)
	productMask.Check(&v, in.UpdateMask)
	return v.Err()
}

func validateProduct(v *apperr.Invalid, p Product, idRequired bool) {
	resource.CheckID(v, "id", p.ID, idRequired)
	resource.CheckID(v, "product_group_id", p.GroupID, true)
	checkMetricKey(v, "metric_key", p.MetricKey)
	if len(p.DimensionFilter) > maxFilterPairs {
		v.Add("dimension_filter", "must have at most %d pairs", maxFilterPairs)
	}
	for _, k := range slices.Sorted(maps.Keys(p.DimensionFilter)) {
		if !dimensionKeyPattern.MatchString(k) {
			v.Add("dimension_filter", "key %q must match %s", k, dimensionKeyPattern)
		}
		resource.CheckText(v, "dimension_filter["+k+"]", p.DimensionFilter[k], false, maxDimensionValLen)
	}
	resource.CheckText(v, "unit", p.Unit, false, maxUnitLen)
	resource.CheckText(v, "display_name", p.DisplayName, true, maxDisplayNameLen)
	resource.CheckText(v, "description", p.Description, false, maxDescriptionLen)
	if p.PeakBasis != PeakBasisUnspecified && p.PeakBasis.String() == "" {
		v.Add("peak_basis", "unknown peak basis %d", p.PeakBasis)
	}
}

// checkPeakBasis: only a max metric has a peak to choose.
func checkPeakBasis(p Product, m Metric) error {
	if p.PeakBasis == PeakBasisCustomer && m.Aggregation != AggregationMax {
		return apperr.InvalidField("peak_basis", "the customer's peak needs a max metric; %q aggregates by %s", m.Key, m.Aggregation)
	}
	return nil
}

func applyProductMask(dst *Product, src Product, paths []string) {
	for _, p := range productMask.Effective(paths) {
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
		case "peak_basis":
			dst.PeakBasis = src.PeakBasis
		}
	}
}
