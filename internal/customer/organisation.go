package customer

import (
	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/resource"
)

// CreateOrganisationInput creates an organisation of Organisation.CustomerID;
// an empty ID is generated.
type CreateOrganisationInput struct {
	Organisation Organisation
	RequestID    string
}

// Validate reports every format problem of the input.
func (in CreateOrganisationInput) Validate() error {
	var v apperr.Invalid
	validateOrganisation(&v, in.Organisation, false)
	resource.CheckRequestID(&v, in.RequestID)
	return v.Err()
}

// UpdateOrganisationInput changes the fields named by UpdateMask of the
// organisation Organisation.CustomerID/Organisation.ID.
type UpdateOrganisationInput struct {
	Organisation Organisation
	UpdateMask   []string
}

var organisationMask = resource.FieldMask{
	Mutable:   []string{"display_name"},
	Immutable: []string{"customer_id", "id", "create_time", "update_time"},
}

// Validate checks the ids and the mask.
func (in UpdateOrganisationInput) Validate() error {
	var v apperr.Invalid
	resource.CheckID(&v, "customer_id", in.Organisation.CustomerID, true)
	resource.CheckID(&v, "id", in.Organisation.ID, true)
	organisationMask.Check(&v, in.UpdateMask)
	return v.Err()
}

func validateOrganisation(v *apperr.Invalid, o Organisation, idRequired bool) {
	resource.CheckID(v, "customer_id", o.CustomerID, true)
	resource.CheckID(v, "id", o.ID, idRequired)
	resource.CheckText(v, "display_name", o.DisplayName, true, maxDisplayNameLen)
}

func applyOrganisationMask(dst *Organisation, src Organisation, paths []string) {
	for _, p := range organisationMask.Effective(paths) {
		if p == "display_name" {
			dst.DisplayName = src.DisplayName
		}
	}
}
