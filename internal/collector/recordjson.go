package collector

import (
	"fmt"
	"regexp"

	"github.com/shopspring/decimal"
	"google.golang.org/protobuf/encoding/protojson"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
)

// quantityPattern is billingd's format of a quantity (usage.proto).
var quantityPattern = regexp.MustCompile(`^-?\d+(\.\d+)?$`)

// FieldError says which field of a usage record is wrong and why.
type FieldError struct {
	Field  string // JSON name, e.g. "quantity"
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// DecodeRecordJSON reads one usage record written as billingd's API writes
// billing.v1.UsageRecord in JSON (protojson: idempotency_key or
// idempotencyKey, customer_id, metric_key, quantity as a decimal string,
// time or start_time and end_time in RFC 3339, resource_id,
// organisation_id, vdc_id, site, source, dimensions). Unknown fields are
// errors; receive_time (output only) is ignored. The result is not yet
// checked against billingd's format rules: call Record.Check.
func DecodeRecordJSON(b []byte) (Record, error) {
	var pb billingv1.UsageRecord
	if err := protojson.Unmarshal(b, &pb); err != nil {
		return Record{}, fmt.Errorf("not a usage record: %w", err)
	}
	return RecordFromProto(&pb)
}

// ParseQuantity reads a quantity in billingd's format: a decimal number
// such as "4", "-1" or "12.5" (no exponent, no sign "+", at most 64 characters).
func ParseQuantity(q string) (decimal.Decimal, error) {
	if len(q) > 64 || !quantityPattern.MatchString(q) {
		return decimal.Decimal{}, fmt.Errorf("%q is not a decimal number like 4 or 12.5", q)
	}
	return decimal.NewFromString(q)
}

// RecordFromProto converts a wire record, parsing its quantity.
func RecordFromProto(pb *billingv1.UsageRecord) (Record, error) {
	qty, err := ParseQuantity(pb.GetQuantity())
	if err != nil {
		return Record{}, &FieldError{Field: "quantity", Reason: err.Error()}
	}
	r := Record{
		Key: pb.GetIdempotencyKey(), CustomerID: pb.GetCustomerId(), Metric: pb.GetMetricKey(), Quantity: qty,
		ResourceID: pb.GetResourceId(), OrganisationID: pb.GetOrganisationId(), VdcID: pb.GetVdcId(),
		Site: pb.GetSite(), Source: pb.GetSource(), Dimensions: pb.GetDimensions(),
	}
	if pb.GetTime() != nil {
		r.Time = pb.GetTime().AsTime()
	}
	if pb.GetStartTime() != nil {
		r.Start = pb.GetStartTime().AsTime()
	}
	if pb.GetEndTime() != nil {
		r.End = pb.GetEndTime().AsTime()
	}
	if len(r.Dimensions) == 0 {
		r.Dimensions = nil
	}
	return r, nil
}
