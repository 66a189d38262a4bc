package customer

import (
	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/resource"
)

// CreateVdcInput creates a VDC of Vdc.CustomerID/Vdc.OrganisationID; an
// empty ID is generated.
type CreateVdcInput struct {
	Vdc       Vdc
	RequestID string
}

// Validate reports every format problem of the input.
func (in CreateVdcInput) Validate() error {
	var v apperr.Invalid
	validateVdc(&v, in.Vdc, false)
	resource.CheckRequestID(&v, in.RequestID)
	return v.Err()
}

// UpdateVdcInput changes the fields named by UpdateMask of the VDC selected
// by Vdc.CustomerID, Vdc.OrganisationID and Vdc.ID.
type UpdateVdcInput struct {
	Vdc        Vdc
	UpdateMask []string
}

var vdcMask = resource.FieldMask{
	Mutable:   []string{"display_name"},
	Immutable: []string{"customer_id", "organisation_id", "id", "create_time", "update_time"},
}

// Validate checks the ids and the mask.
func (in UpdateVdcInput) Validate() error {
	var v apperr.Invalid
	resource.CheckID(&v, "customer_id", in.Vdc.CustomerID, true)
	resource.CheckID(&v, "organisation_id", in.Vdc.OrganisationID, true)
	resource.CheckID(&v, "id", in.Vdc.ID, true)
	vdcMask.Check(&v, in.UpdateMask)
	return v.Err()
}

func validateVdc(v *apperr.Invalid, d Vdc, idRequired bool) {
	resource.CheckID(v, "customer_id", d.CustomerID, true)
	resource.CheckID(v, "organisation_id", d.OrganisationID, true)
	resource.CheckID(v, "id", d.ID, idRequired)
	resource.CheckText(v, "display_name", d.DisplayName, true, maxDisplayNameLen)
}

func applyVdcMask(dst *Vdc, src Vdc, paths []string) {
	for _, p := range vdcMask.Effective(paths) {
		if p == "display_name" {
			dst.DisplayName = src.DisplayName
		}
	}
}
