package usage

import (
	"fmt"
	"regexp"
	"slices"
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
// look at the customer or metric it names. It returns every problem, in
// field order, so that one rejection tells a collector all it must fix.
// Times are truncated to the microsecond, the database's precision, before
// they are compared, so an interval that PostgreSQL would store empty is
// refused here.
func check(in Input, now time.Time, memo *formatMemo) (Record, []FieldError) {
	if in.DecodeError != nil {
		return Record{}, []FieldError{*in.DecodeError}
	}
	var problems []FieldError
	bad := func(field, reason string) {
		if reason != "" {
			problems = append(problems, FieldError{Field: field, Reason: reason})
		}
	}
	if in.Key == "" {
		bad("idempotency_key", "is required")
	} else {
		bad("idempotency_key", textProblem(in.Key, maxKeyLen))
	}
	bad("customer_id", memo.customerID(in.CustomerID))
	bad("metric_key", memo.metricKey(in.MetricKey))
	q, fe := checkQuantity(in.Quantity)
	if fe != nil {
		problems = append(problems, *fe)
	}
	start, end, fe := checkTimes(in, now)
	if fe != nil {
		problems = append(problems, *fe)
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
		bad(f.name, textProblem(f.value, f.max))
	}
	problems = append(problems, memo.checkDimensions(in.Dimensions)...)
	dims := in.Dimensions
	if dims == nil {
		dims = map[string]string{}
	}
	return Record{
		Key: in.Key, CustomerID: in.CustomerID, MetricKey: in.MetricKey, Quantity: q,
		Start: start, End: end,
		ResourceID: in.ResourceID, OrganisationID: in.OrganisationID, VdcID: in.VdcID,
		Site: in.Site, Source: in.Source, Dimensions: dims, ReceiveTime: now,
	}, problems
}

// referencesCheckable reports whether a record's customer and metric are
// well-formed (and were read: a record the transport could not decode has
// none), so that looking them up can tell whether they exist.
func referencesCheckable(r Record, problems []FieldError) bool {
	if r.CustomerID == "" || r.MetricKey == "" {
		return false
	}
	for _, p := range problems {
		if p.Field == "customer_id" || p.Field == "metric_key" {
			return false
		}
	}
	return true
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

func (m *formatMemo) checkDimensions(dims map[string]string) []FieldError {
	if len(dims) > maxDimensions {
		return []FieldError{{"dimensions", fmt.Sprintf("must have at most %d entries", maxDimensions)}}
	}
	var problems []FieldError
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
			problems = append(problems, FieldError{fmt.Sprintf("dimensions[%q]", k), reason})
		}
	}
	// In key order, not the map's, so that answers repeat.
	slices.SortFunc(problems, func(a, b FieldError) int { return strings.Compare(a.Field, b.Field) })
	return problems
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
func checkReferences(r Record, customers map[string]bool, metrics map[string]MetricRule) []FieldError {
	var problems []FieldError
	if !customers[r.CustomerID] {
		problems = append(problems, FieldError{"customer_id", fmt.Sprintf("customer %q not found", r.CustomerID)})
	}
	m, ok := metrics[r.MetricKey]
	if !ok {
		return append(problems, FieldError{"metric_key", fmt.Sprintf("metric %q not found, or derived from other metrics (send usage for its inputs)", r.MetricKey)})
	}
	if r.Quantity.IsNegative() && m.Aggregation != catalog.AggregationSum {
		problems = append(problems, FieldError{"quantity", fmt.Sprintf("must not be negative: metric %q aggregates by %s; only sum metrics take corrections", r.MetricKey, m.Aggregation)})
	}
	if m.Aggregation == catalog.AggregationUniqueCount {
		if fe := checkCounted(r, m.UniqueDimension); fe != nil {
			problems = append(problems, *fe)
		}
	}
	return problems
}

// fieldOrder ranks a record's fields as the proto lists them, so that
// problems read in the order of the record.
var fieldOrder = map[string]int{
	"idempotency_key": 1, "customer_id": 2, "metric_key": 3, "quantity": 4,
	"time": 5, "start_time": 6, "end_time": 7, "resource_id": 8, "organisation_id": 9,
	"vdc_id": 10, "site": 11, "source": 12, // then dimensions
}

func rank(field string) int {
	if r, ok := fieldOrder[field]; ok {
		return r
	}
	return len(fieldOrder) + 1
}

// sortedByField orders problems by field, keeping the order within one.
func sortedByField(problems []FieldError) []FieldError {
	slices.SortStableFunc(problems, func(a, b FieldError) int { return rank(a.Field) - rank(b.Field) })
	return problems
}

// rejection is the rejection of the record at index i: its first field,
// and a reason that names every field when there are several problems.
func rejection(i int, key string, problems []FieldError) Rejection {
	r := Rejection{Index: i, Key: key, Field: problems[0].Field, Reason: problems[0].Reason, Problems: problems}
	if len(problems) > 1 {
		parts := make([]string, len(problems))
		for j, p := range problems {
			parts[j] = p.Field + ": " + p.Reason
		}
		r.Reason = strings.Join(parts, "; ")
	}
	return r
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
