package usage

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/billingd/billingd/internal/catalog"
	"github.com/billingd/billingd/internal/money"
)

// Format rules of a record. They repeat the proto's protovalidate rules
// (the transport skips them per record, so that one bad record does not
// fail its batch) and add what the database needs: valid UTF-8 without NUL.
var (
	customerIDPattern   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)
	metricKeyPattern    = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$`)
	dimensionKeyPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]{0,63}$`)
)

const (
	maxKeyLen          = 256
	maxMetricKeyLen    = 100
	maxQuantityLen     = 64
	maxResourceIDLen   = 256
	maxNameLen         = 128 // organisation_id, vdc_id, site, source
	maxDimensions      = 32
	maxDimensionValLen = 256

	// MaxFuture is how far past the service's clock a record may reach:
	// collectors' clocks drift, but a record from tomorrow is a bug.
	MaxFuture = time.Hour
)

// Earliest is the earliest time a record may have; anything before is
// taken for a collector bug (an unset clock, seconds read as milliseconds).
var Earliest = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// check validates the format of one record and converts it; it does not
// look at the customer or metric it names. Times are truncated to the
// microsecond, the database's precision, before they are compared, so an
// interval that PostgreSQL would store empty is refused here.
func check(in Input, now time.Time, memo *formatMemo) (Record, *FieldError) {
	if in.DecodeError != nil {
		return Record{}, in.DecodeError
	}
	bad := func(field, format string, args ...any) (Record, *FieldError) {
		return Record{}, &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
	}
	if in.Key == "" {
		return bad("idempotency_key", "is required")
	}
	if reason := textProblem(in.Key, maxKeyLen); reason != "" {
		return bad("idempotency_key", "%s", reason)
	}
	if reason := memo.customerID(in.CustomerID); reason != "" {
		return bad("customer_id", "%s", reason)
	}
	if reason := memo.metricKey(in.MetricKey); reason != "" {
		return bad("metric_key", "%s", reason)
	}
	q, fe := checkQuantity(in.Quantity)
	if fe != nil {
		return Record{}, fe
	}
	start, end, fe := checkTimes(in, now)
	if fe != nil {
		return Record{}, fe
	}
	for _, f := range []struct {
		name, value string
		max         int
	}{
		{"resource_id", in.ResourceID, maxResourceIDLen},
		{"organisation_id", in.OrganisationID, maxNameLen},
		{"vdc_id", in.VdcID, maxNameLen},
		{"site", in.Site, maxNameLen},
		{"source", in.Source, maxNameLen},
	} {
		if reason := textProblem(f.value, f.max); reason != "" {
			return bad(f.name, "%s", reason)
		}
	}
	if fe := memo.checkDimensions(in.Dimensions); fe != nil {
		return Record{}, fe
	}
	dims := in.Dimensions
	if dims == nil {
		dims = map[string]string{}
	}
	return Record{
		Key: in.Key, CustomerID: in.CustomerID, MetricKey: in.MetricKey, Quantity: q,
		Start: start, End: end,
		ResourceID: in.ResourceID, OrganisationID: in.OrganisationID, VdcID: in.VdcID,
		Site: in.Site, Source: in.Source, Dimensions: dims, ReceiveTime: now,
	}, nil
}

// formatMemo remembers the verdicts on customer ids, metric keys and
// dimension keys within one batch: a batch names few of them many times,
// and a map lookup costs less than a regular expression.
type formatMemo struct{ customers, metrics, dimKeys map[string]string }

func (m *formatMemo) customerID(id string) string {
	reason, ok := m.customers[id]
	if !ok {
		switch {
		case id == "":
			reason = "is required"
		case !customerIDPattern.MatchString(id):
			reason = "must match " + customerIDPattern.String()
		}
		if m.customers == nil {
			m.customers = map[string]string{}
		}
		m.customers[id] = reason
	}
	return reason
}

func (m *formatMemo) metricKey(key string) string {
	reason, ok := m.metrics[key]
	if !ok {
		switch {
		case key == "":
			reason = "is required"
		case len(key) > maxMetricKeyLen:
			reason = fmt.Sprintf("must be at most %d characters", maxMetricKeyLen)
		case !metricKeyPattern.MatchString(key):
			reason = "must match " + metricKeyPattern.String()
		}
		if m.metrics == nil {
			m.metrics = map[string]string{}
		}
		m.metrics[key] = reason
	}
	return reason
}

func checkQuantity(s string) (decimal.Decimal, *FieldError) {
	if s == "" {
		return decimal.Decimal{}, &FieldError{"quantity", "is required"}
	}
	if len(s) > maxQuantityLen {
		return decimal.Decimal{}, &FieldError{"quantity", fmt.Sprintf("must be at most %d characters", maxQuantityLen)}
	}
	q, err := money.ParseDecimal(s)
	if err != nil {
		return decimal.Decimal{}, &FieldError{"quantity", `must be a plain decimal number like "12.5" (no exponent)`}
	}
	return q, nil
}

// checkTimes returns [start, end) of the record; end == start for a point record.
func checkTimes(in Input, now time.Time) (start, end time.Time, fe *FieldError) {
	latest := now.Add(MaxFuture)
	hasTime, hasStart, hasEnd := !in.Time.IsZero(), !in.Start.IsZero(), !in.End.IsZero()
	fail := func(field, format string, args ...any) (time.Time, time.Time, *FieldError) {
		return time.Time{}, time.Time{}, &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case hasTime && (hasStart || hasEnd):
		return fail("time", "set either time or both start_time and end_time, not both")
	case hasTime:
		t := in.Time.UTC().Truncate(time.Microsecond)
		if t.Before(Earliest) {
			return fail("time", "is before %s", Earliest.Format(time.DateOnly))
		}
		if t.After(latest) {
			return fail("time", "is more than %s in the future", MaxFuture)
		}
		return t, t, nil
	case !hasStart && !hasEnd:
		return fail("time", "is required (or start_time and end_time)")
	case !hasStart:
		return fail("start_time", "is required with end_time")
	case !hasEnd:
		return fail("end_time", "is required with start_time")
	}
	start = in.Start.UTC().Truncate(time.Microsecond)
	end = in.End.UTC().Truncate(time.Microsecond)
	switch {
	case !end.After(start):
		return fail("end_time", "must be after start_time")
	case start.Before(Earliest):
		return fail("start_time", "is before %s", Earliest.Format(time.DateOnly))
	case end.After(latest):
		return fail("end_time", "is more than %s in the future", MaxFuture)
	}
	return start, end, nil
}

func (m *formatMemo) checkDimensions(dims map[string]string) *FieldError {
	if len(dims) > maxDimensions {
		return &FieldError{"dimensions", fmt.Sprintf("must have at most %d entries", maxDimensions)}
	}
	for k, v := range dims {
		reason, ok := m.dimKeys[k]
		if !ok {
			if !dimensionKeyPattern.MatchString(k) {
				reason = "key must match " + dimensionKeyPattern.String()
			}
			if m.dimKeys == nil {
				m.dimKeys = map[string]string{}
			}
			m.dimKeys[k] = reason
		}
		if reason == "" {
			reason = textProblem(v, maxDimensionValLen)
		}
		if reason != "" {
			return &FieldError{fmt.Sprintf("dimensions[%q]", k), reason}
		}
	}
	return nil
}

// textProblem says what is wrong with a free-text value, or "". PostgreSQL
// text cannot hold NUL, and a NUL in one record must not fail its batch.
func textProblem(s string, max int) string {
	switch {
	case !utf8.ValidString(s):
		return "must be valid UTF-8"
	case strings.IndexByte(s, 0) >= 0:
		return "must not contain NUL characters"
	case utf8.RuneCountInString(s) > max:
		return fmt.Sprintf("must be at most %d characters", max)
	}
	return ""
}

// checkReferences applies the rules that need the catalog: the customer and
// the metric exist, and only counters (aggregation sum) take negative
// quantities, which correct an earlier record.
func checkReferences(r Record, customers map[string]bool, metrics map[string]MetricRule) *FieldError {
	if !customers[r.CustomerID] {
		return &FieldError{"customer_id", fmt.Sprintf("customer %q not found", r.CustomerID)}
	}
	m, ok := metrics[r.MetricKey]
	if !ok {
		return &FieldError{"metric_key", fmt.Sprintf("metric %q not found, or derived from other metrics (send usage for its inputs)", r.MetricKey)}
	}
	agg := m.Aggregation
	if r.Quantity.IsNegative() && agg != catalog.AggregationSum {
		return &FieldError{"quantity", fmt.Sprintf("must not be negative: metric %q aggregates by %s; only sum metrics take corrections", r.MetricKey, agg)}
	}
	if agg == catalog.AggregationUniqueCount {
		return checkCounted(r, m.UniqueDimension)
	}
	return nil
}

// checkCounted refuses a record of a unique_count metric that lacks the
// dimension the metric counts: billing counts distinct values of it, so
// such a record could never be counted and would bill nothing, silently.
// Refusing it at once tells the collector, which alone can fix it. The
// dimension is read as billing reads it: "resource_id" may come from the
// record's resource_id, and "organisation", "vdc" and "site" from the
// columns of those names (rating.DimOrganisation, DimVDC, DimSite).
func checkCounted(r Record, dim string) *FieldError {
	field := "dimensions." + dim
	have := r.Dimensions[dim] != ""
	switch dim {
	case "resource_id":
		field, have = "resource_id", have || r.ResourceID != ""
	case "organisation":
		field, have = "organisation_id", have || r.OrganisationID != ""
	case "vdc":
		field, have = "vdc_id", have || r.VdcID != ""
	case "site":
		field, have = "site", have || r.Site != ""
	}
	if have {
		return nil
	}
	return &FieldError{field, fmt.Sprintf("is required: metric %q (unique_count) counts distinct values of dimension %q, and this record has none", r.MetricKey, dim)}
}
