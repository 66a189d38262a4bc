package customer

import (
	"maps"
	"regexp"
	"slices"
	"time"
	_ "time/tzdata" // validate zone names the same on every host, with or without system tzdata

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/resource"
)

// DefaultTimeZone is the billing time zone of a customer that names none.
const DefaultTimeZone = "UTC"

var timeZonePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_+/-]*$`)

// CreateCustomerInput creates a customer; an empty ID is generated and an
// empty BillingTimeZone becomes "UTC".
type CreateCustomerInput struct {
	Customer  Customer
	RequestID string
}

// Validate reports every format problem of the input.
func (in CreateCustomerInput) Validate() error {
	var v apperr.Invalid
	validateCustomer(&v, in.Customer, false)
	resource.CheckRequestID(&v, in.RequestID)
	return v.Err()
}

// UpdateCustomerInput changes the fields of Customer named by UpdateMask.
type UpdateCustomerInput struct {
	Customer   Customer
	UpdateMask []string
}

var customerMask = resource.FieldMask{
	Mutable:   []string{"external_id", "display_name", "billing_time_zone", "labels"},
	Immutable: []string{"id", "create_time", "update_time"},
}

// Validate checks the id and the mask.
func (in UpdateCustomerInput) Validate() error {
	var v apperr.Invalid
	resource.CheckID(&v, "id", in.Customer.ID, true)
	customerMask.Check(&v, in.UpdateMask)
	return v.Err()
}

func validateCustomer(v *apperr.Invalid, c Customer, idRequired bool) {
	resource.CheckID(v, "id", c.ID, idRequired)
	resource.CheckText(v, "external_id", c.ExternalID, false, maxExternalIDLen)
	resource.CheckText(v, "display_name", c.DisplayName, true, maxDisplayNameLen)
	checkTimeZone(v, "billing_time_zone", c.BillingTimeZone)
	if len(c.Labels) > maxLabels {
		v.Add("labels", "must have at most %d pairs", maxLabels)
	}
	for _, k := range slices.Sorted(maps.Keys(c.Labels)) {
		if !labelKeyPattern.MatchString(k) {
			v.Add("labels", "key %q must match %s", k, labelKeyPattern)
		}
		resource.CheckText(v, "labels["+k+"]", c.Labels[k], false, maxLabelValueLen)
	}
}

// checkTimeZone accepts "" (meaning UTC) and IANA names; "Local" is refused
// because it would depend on the host billingd runs on.
func checkTimeZone(v *apperr.Invalid, field, tz string) {
	if tz == "" {
		return
	}
	if len(tz) > maxTimeZoneLen || !timeZonePattern.MatchString(tz) || tz == "Local" {
		v.Add(field, "must be an IANA time zone name such as \"Europe/Amsterdam\"")
		return
	}
	if _, err := time.LoadLocation(tz); err != nil {
		v.Add(field, "unknown time zone %q", tz)
	}
}

func applyCustomerMask(dst *Customer, src Customer, paths []string) {
	for _, p := range customerMask.Effective(paths) {
		switch p {
		case "external_id":
			dst.ExternalID = src.ExternalID
		case "display_name":
			dst.DisplayName = src.DisplayName
		case "billing_time_zone":
			dst.BillingTimeZone = src.BillingTimeZone
		case "labels":
			dst.Labels = maps.Clone(src.Labels)
		}
	}
}

func withDefaults(c Customer) Customer {
	if c.BillingTimeZone == "" {
		c.BillingTimeZone = DefaultTimeZone
	}
	if c.Labels == nil {
		c.Labels = map[string]string{}
	}
	return c
}
