package customer

import "github.com/billingd/billingd/internal/apperr"

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
	checkRequestID(&v, in.RequestID)
	return v.Err()
}

// UpdateVdcInput changes the fields named by UpdateMask of the VDC selected
// by Vdc.CustomerID, Vdc.OrganisationID and Vdc.ID.
type UpdateVdcInput struct {
	Vdc        Vdc
	UpdateMask []string
}

var vdcMask = fieldMask{
	mutable:   []string{"display_name"},
	immutable: []string{"customer_id", "organisation_id", "id", "create_time", "update_time"},
}

// Validate checks the ids and the mask.
func (in UpdateVdcInput) Validate() error {
	var v apperr.Invalid
	checkID(&v, "customer_id", in.Vdc.CustomerID, true)
	checkID(&v, "organisation_id", in.Vdc.OrganisationID, true)
	checkID(&v, "id", in.Vdc.ID, true)
	vdcMask.check(&v, in.UpdateMask)
	return v.Err()
}

func validateVdc(v *apperr.Invalid, d Vdc, idRequired bool) {
	checkID(v, "customer_id", d.CustomerID, true)
	checkID(v, "organisation_id", d.OrganisationID, true)
	checkID(v, "id", d.ID, idRequired)
	checkText(v, "display_name", d.DisplayName, true, maxDisplayNameLen)
}

func applyVdcMask(dst *Vdc, src Vdc, paths []string) {
	for _, p := range vdcMask.effective(paths) {
		if p == "display_name" {
			dst.DisplayName = src.DisplayName
		}
	}
}
