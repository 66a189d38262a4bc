package rpc

import (
	"slices"

	"github.com/shopspring/decimal"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/pricing"
)

// withinPath is within for a create of a nested resource: the parent ids are
// taken from the request path, so violations on those fields (pathFields,
// e.g. "customer_id") name the request's own field instead of the one inside
// the resource.
func withinPath(prefix string, err error, pathFields ...string) error {
	e, ok := apperr.As(err)
	if !ok || len(e.Violations) == 0 {
		return err
	}
	out := *e
	out.Violations = make([]apperr.FieldViolation, len(e.Violations))
	for i, fv := range e.Violations {
		out.Violations[i] = fv
		if !slices.Contains(pathFields, fv.Field) {
			out.Violations[i] = apperr.FieldViolation{Field: prefix + "." + fv.Field, Description: fv.Description}
			if fv.Field == "" || fv.Field == "update_mask" || fv.Field == "request_id" || fv.Field == "page_token" {
				out.Violations[i].Field = fv.Field
			}
		}
	}
	return &out
}

// parseNullDecimal reads an optional wire decimal whose absence matters
// (campaign entry prices, the overage price): "" is not set.
func parseNullDecimal(v *apperr.Invalid, field, s string) decimal.NullDecimal {
	if s == "" {
		return decimal.NullDecimal{}
	}
	return decimal.NullDecimal{Decimal: parseDecimal(v, field, s), Valid: true}
}

// nullDecimalString renders an optional decimal; unset is "".
func nullDecimalString(d decimal.NullDecimal) string {
	if !d.Valid {
		return ""
	}
	return d.Decimal.String()
}

// optionalDecimalString renders a decimal whose zero means "not set" on the
// wire (a tiered price's unit_price, the last tier's up_to) as "".
func optionalDecimalString(d decimal.Decimal) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}

// Enum mappings. The wire and domain enums are mapped name by name; a wire
// value the domain does not know (GRANULARITY_PERIOD, an undefined number)
// becomes the domain's unspecified value, which the domain rejects.

func granularityFromProto(g billingv1.Granularity) pricing.Granularity {
	switch g {
	case billingv1.Granularity_GRANULARITY_HOUR:
		return pricing.GranularityHour
	case billingv1.Granularity_GRANULARITY_DAY:
		return pricing.GranularityDay
	case billingv1.Granularity_GRANULARITY_MONTH:
		return pricing.GranularityMonth
	}
	return pricing.GranularityUnspecified
}

func granularityToProto(g pricing.Granularity) billingv1.Granularity {
	switch g {
	case pricing.GranularityHour:
		return billingv1.Granularity_GRANULARITY_HOUR
	case pricing.GranularityDay:
		return billingv1.Granularity_GRANULARITY_DAY
	case pricing.GranularityMonth:
		return billingv1.Granularity_GRANULARITY_MONTH
	}
	return billingv1.Granularity_GRANULARITY_UNSPECIFIED
}

func tierModeFromProto(m billingv1.TierMode) pricing.TierMode {
	switch m {
	case billingv1.TierMode_TIER_MODE_GRADUATED:
		return pricing.TierModeGraduated
	case billingv1.TierMode_TIER_MODE_VOLUME:
		return pricing.TierModeVolume
	}
	return pricing.TierModeUnspecified
}

func tierModeToProto(m pricing.TierMode) billingv1.TierMode {
	switch m {
	case pricing.TierModeGraduated:
		return billingv1.TierMode_TIER_MODE_GRADUATED
	case pricing.TierModeVolume:
		return billingv1.TierMode_TIER_MODE_VOLUME
	}
	return billingv1.TierMode_TIER_MODE_UNSPECIFIED
}

func contractModelFromProto(m billingv1.ContractModel) pricing.ContractModel {
	switch m {
	case billingv1.ContractModel_CONTRACT_MODEL_COMMITTED:
		return pricing.ContractModelCommitted
	case billingv1.ContractModel_CONTRACT_MODEL_COMMITTED_OVERAGE:
		return pricing.ContractModelCommittedOverage
	}
	return pricing.ContractModelUnspecified
}

func contractModelToProto(m pricing.ContractModel) billingv1.ContractModel {
	switch m {
	case pricing.ContractModelCommitted:
		return billingv1.ContractModel_CONTRACT_MODEL_COMMITTED
	case pricing.ContractModelCommittedOverage:
		return billingv1.ContractModel_CONTRACT_MODEL_COMMITTED_OVERAGE
	}
	return billingv1.ContractModel_CONTRACT_MODEL_UNSPECIFIED
}

// prorationFromProto maps an undefined wire value to a value the domain
// rejects ("must be none, daily or hourly") rather than to unspecified,
// which the domain would silently turn into none.
func prorationFromProto(p billingv1.Proration) pricing.Proration {
	switch p {
	case billingv1.Proration_PRORATION_UNSPECIFIED:
		return pricing.ProrationUnspecified
	case billingv1.Proration_PRORATION_NONE:
		return pricing.ProrationNone
	case billingv1.Proration_PRORATION_DAILY:
		return pricing.ProrationDaily
	case billingv1.Proration_PRORATION_HOURLY:
		return pricing.ProrationHourly
	}
	return pricing.Proration(-1)
}

func prorationToProto(p pricing.Proration) billingv1.Proration {
	switch p {
	case pricing.ProrationNone:
		return billingv1.Proration_PRORATION_NONE
	case pricing.ProrationDaily:
		return billingv1.Proration_PRORATION_DAILY
	case pricing.ProrationHourly:
		return billingv1.Proration_PRORATION_HOURLY
	}
	return billingv1.Proration_PRORATION_UNSPECIFIED
}
