package rpc

import (
	"time"

	"github.com/shopspring/decimal"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/money"
)

// ts converts a domain time to the wire; the zero time (an open end) is unset.
func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// fromTS converts a wire time to UTC; unset is the zero time. A time set
// to the zero instant (0001-01-01T00:00:00Z) becomes 1 µs later, so the
// domain sees it set, and out of its bounds, rather than missing.
func fromTS(t *timestamppb.Timestamp) time.Time {
	if t == nil {
		return time.Time{}
	}
	if at := t.AsTime().UTC(); !at.IsZero() {
		return at
	}
	return time.Time{}.Add(time.Microsecond)
}

// paths returns an update mask's paths; nil means "every mutable field".
func paths(m *fieldmaskpb.FieldMask) []string {
	if m == nil {
		return nil
	}
	return m.GetPaths()
}

// parseDecimal reads an optional wire decimal ("" is zero); the domain
// validates ranges. Only plain decimals are accepted, as the proto rules
// say, also on update paths that skip those rules: "1e3" is refused.
func parseDecimal(v *apperr.Invalid, field, s string) decimal.Decimal {
	if s == "" {
		return decimal.Decimal{}
	}
	d, err := money.ParseDecimal(s)
	if err != nil {
		v.Add(field, "must be a plain decimal number like \"12.50\"")
	}
	return d
}

// within prefixes the field paths of a domain validation error with the
// request field that holds the resource ("metric.unit"), so clients see
// paths of their own request.
func within(prefix string, err error) error {
	e, ok := apperr.As(err)
	if !ok || len(e.Violations) == 0 {
		return err
	}
	out := *e
	out.Violations = make([]apperr.FieldViolation, len(e.Violations))
	for i, fv := range e.Violations {
		out.Violations[i] = apperr.FieldViolation{Field: prefix + "." + fv.Field, Description: fv.Description}
		if fv.Field == "" || fv.Field == "update_mask" || fv.Field == "request_id" || fv.Field == "page_token" {
			out.Violations[i].Field = fv.Field
		}
	}
	return &out
}

// required reports a missing resource message in a request.
func required(field string) error {
	return apperr.InvalidField(field, "is required")
}
