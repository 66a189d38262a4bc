package catalog

import (
	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/resource"
)

// CreateProductGroupInput creates a product group; an empty ID is generated.
type CreateProductGroupInput struct {
	Group     ProductGroup
	RequestID string
}

// Validate reports every format problem of the input.
func (in CreateProductGroupInput) Validate() error {
	var v apperr.Invalid
	validateGroup(&v, in.Group, false)
	resource.CheckRequestID(&v, in.RequestID)
	return v.Err()
}

// UpdateProductGroupInput changes the fields of Group named by UpdateMask.
type UpdateProductGroupInput struct {
	Group      ProductGroup
	UpdateMask []string
}

var groupMask = resource.FieldMask{
	Mutable:   []string{"display_name", "description"},
	Immutable: []string{"id", "create_time", "update_time"},
}

// Validate checks the id and the mask.
func (in UpdateProductGroupInput) Validate() error {
	var v apperr.Invalid
	resource.CheckID(&v, "id", in.Group.ID, true)
	groupMask.Check(&v, in.UpdateMask)
	return v.Err()
}

func validateGroup(v *apperr.Invalid, g ProductGroup, idRequired bool) {
	resource.CheckID(v, "id", g.ID, idRequired)
	resource.CheckText(v, "display_name", g.DisplayName, true, maxDisplayNameLen)
	resource.CheckText(v, "description", g.Description, false, maxDescriptionLen)
}

func applyGroupMask(dst *ProductGroup, src ProductGroup, paths []string) {
	for _, p := range groupMask.Effective(paths) {
		switch p {
		case "display_name":
			dst.DisplayName = src.DisplayName
		case "description":
			dst.Description = src.Description
		}
	}
}
