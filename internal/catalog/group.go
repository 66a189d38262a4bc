package catalog

import "github.com/billingd/billingd/internal/apperr"

// CreateProductGroupInput creates a product group; an empty ID is generated.
type CreateProductGroupInput struct {
	Group     ProductGroup
	RequestID string
}

// Validate reports every format problem of the input.
func (in CreateProductGroupInput) Validate() error {
	var v apperr.Invalid
	validateGroup(&v, in.Group, false)
	checkRequestID(&v, in.RequestID)
	return v.Err()
}

// UpdateProductGroupInput changes the fields of Group named by UpdateMask.
type UpdateProductGroupInput struct {
	Group      ProductGroup
	UpdateMask []string
}

var groupMask = fieldMask{
	mutable:   []string{"display_name", "description"},
	immutable: []string{"id", "create_time", "update_time"},
}

// Validate checks the id and the mask.
func (in UpdateProductGroupInput) Validate() error {
	var v apperr.Invalid
	checkID(&v, "id", in.Group.ID, true)
	groupMask.check(&v, in.UpdateMask)
	return v.Err()
}

func validateGroup(v *apperr.Invalid, g ProductGroup, idRequired bool) {
	checkID(v, "id", g.ID, idRequired)
	checkText(v, "display_name", g.DisplayName, true, maxDisplayNameLen)
	checkText(v, "description", g.Description, false, maxDescriptionLen)
}

func applyGroupMask(dst *ProductGroup, src ProductGroup, paths []string) {
	for _, p := range groupMask.effective(paths) {
		switch p {
		case "display_name":
			dst.DisplayName = src.DisplayName
		case "description":
			dst.Description = src.Description
		}
	}
}
