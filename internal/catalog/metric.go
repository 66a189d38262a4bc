package catalog

import (
	"errors"
	"fmt"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/formula"
	"github.com/billingd/billingd/internal/resource"
)

// CreateMetricInput creates a metric. RequestID (optional UUID) makes the
// create idempotent.
type CreateMetricInput struct {
	Metric    Metric
	RequestID string
}

// Validate reports every format problem of the input.
func (in CreateMetricInput) Validate() error {
	var v apperr.Invalid
	validateMetric(&v, in.Metric)
	resource.CheckRequestID(&v, in.RequestID)
	return v.Err()
}

// UpdateMetricInput changes the fields of Metric named by UpdateMask
// (snake_case; empty means every mutable field). Metric.Key selects the metric.
type UpdateMetricInput struct {
	Metric     Metric
	UpdateMask []string
}

// metricMask: aggregation is listed as mutable so that the service can answer
// a change with FailedPrecondition (history would be rewritten) and accept
// the unchanged value, as the domain spec asks.
var metricMask = resource.FieldMask{
	Mutable:   []string{"display_name", "description", "unit", "aggregation", "unique_dimension", "expression"},
	Immutable: []string{"key", "create_time", "update_time"},
}

// Validate checks the key and the mask; the merged metric is validated by
// the service.
func (in UpdateMetricInput) Validate() error {
	var v apperr.Invalid
	checkMetricKey(&v, "key", in.Metric.Key)
	metricMask.Check(&v, in.UpdateMask)
	return v.Err()
}

func validateMetric(v *apperr.Invalid, m Metric) {
	checkMetricKey(v, "key", m.Key)
	resource.CheckText(v, "display_name", m.DisplayName, false, maxDisplayNameLen)
	resource.CheckText(v, "description", m.Description, false, maxDescriptionLen)
	resource.CheckText(v, "unit", m.Unit, true, maxUnitLen)
	if !m.Aggregation.Valid() {
		v.Add("aggregation", "is required")
	}
	switch {
	case m.Aggregation == AggregationUniqueCount && m.UniqueDimension == "":
		v.Add("unique_dimension", "is required for aggregation unique_count")
	case m.Aggregation != AggregationUniqueCount && m.UniqueDimension != "":
		v.Add("unique_dimension", "is allowed only for aggregation unique_count")
	case m.UniqueDimension != "" && !dimensionKeyPattern.MatchString(m.UniqueDimension):
		v.Add("unique_dimension", "must match %s", dimensionKeyPattern)
	}
	if m.Derived() {
		resource.CheckText(v, "expression", m.Expression, false, formula.MaxLength)
		if m.Aggregation.Valid() && m.Aggregation.Kind() != KindGauge {
			v.Add("aggregation", "a derived metric is a level: time_weighted_avg, max or latest, not %s", m.Aggregation)
		}
	}
}

// compileExpression checks a derived metric's expression against the
// catalog: every metric it reads exists and is a level (a gauge or another
// derived metric), and none is the metric itself (with expressions
// immutable and inputs existing at create, no longer cycle can form).
func compileExpression(m Metric, metric func(key string) (Metric, error)) (*formula.Formula, error) {
	f, err := formula.Compile(m.Expression, func(key string) error {
		if key == m.Key {
			return fmt.Errorf("metric %q cannot refer to itself", key)
		}
		in, err := metric(key)
		if apperr.KindOf(err) == apperr.KindNotFound {
			return fmt.Errorf("unknown metric %q", key)
		}
		if err != nil {
			return err
		}
		if !in.Derived() && in.Aggregation.Kind() != KindGauge {
			return fmt.Errorf("metric %q aggregates by %s; an expression reads levels (time_weighted_avg, max, latest or derived metrics)", key, in.Aggregation)
		}
		return nil
	})
	var fe *formula.Error
	if errors.As(err, &fe) {
		return nil, apperr.InvalidField("expression", "%s", fe.Error())
	}
	return f, err
}

// applyMetricMask copies the masked fields of src onto dst. aggregation and
// unique_dimension are copied too; the service refuses a change of them.
func applyMetricMask(dst *Metric, src Metric, paths []string) {
	for _, p := range metricMask.Effective(paths) {
		switch p {
		case "display_name":
			dst.DisplayName = src.DisplayName
		case "description":
			dst.Description = src.Description
		case "unit":
			dst.Unit = src.Unit
		case "aggregation":
			if src.Aggregation != AggregationUnspecified || len(paths) > 0 {
				dst.Aggregation = src.Aggregation
			}
		case "unique_dimension":
			if src.Aggregation != AggregationUnspecified || len(paths) > 0 {
				dst.UniqueDimension = src.UniqueDimension
			}
		case "expression":
			if src.Aggregation != AggregationUnspecified || len(paths) > 0 {
				dst.Expression = src.Expression
			}
		}
	}
}
