package rating

import "github.com/shopspring/decimal"

// Aggregation turns a metric's pieces into one quantity per granule.
type Aggregation int32

const (
	AggregationUnspecified Aggregation = iota
	// AggregationSum is Σ Sum, for counters.
	AggregationSum
	// AggregationTimeWeightedAvg is ∫ quantity dt / |granule|, for gauges.
	// |granule| is the whole calendar granule, so a VM that exists for half
	// a day at 4 vCPU has a daily average of 2.
	AggregationTimeWeightedAvg
	// AggregationMax is the highest Max, for gauges.
	AggregationMax
	// AggregationLatest is the Last of the piece seen last, for gauges.
	AggregationLatest
	// AggregationUniqueCount is the number of distinct Unique values.
	AggregationUniqueCount
)

func (a Aggregation) String() string {
	switch a {
	case AggregationSum:
		return "sum"
	case AggregationTimeWeightedAvg:
		return "time_weighted_avg"
	case AggregationMax:
		return "max"
	case AggregationLatest:
		return "latest"
	case AggregationUniqueCount:
		return "unique_count"
	default:
		return "unspecified"
	}
}

// Metric is what collectors measure ("product atom"), or a level derived
// from other metrics of the same resource.
type Metric struct {
	Key             string
	Aggregation     Aggregation
	UniqueDimension string // the dimension whose distinct values unique_count counts
	// Formula, when set, makes the metric derived: its level at every
	// instant is computed from the levels of its inputs (gauges or other
	// derived metrics) of the same resource (see derive). Its records, if
	// any were stored, are not read.
	Formula Formula
}

// Formula computes a derived metric's level from its inputs' levels at one
// instant (internal/formula implements it).
type Formula interface {
	Inputs() []string                              // metric keys, each once
	Eval(levels []decimal.Decimal) decimal.Decimal // levels[i] of Inputs()[i]
}

// Product is a sellable item: a metric narrowed by a dimension filter.
type Product struct {
	ID              string
	GroupID         string
	MetricKey       string
	DimensionFilter map[string]string // every pair must be present in a series' dimensions
	// CustomerPeak (max metrics only) rates the peak of the customer's total
	// level — Σ of its resources' levels at each instant — instead of each
	// resource at its own peak. Its lines carry no resource keys.
	CustomerPeak bool
}

// matches reports whether a series with these dimensions is usage of p.
func (p *Product) matches(dims map[string]string) bool {
	for k, v := range p.DimensionFilter {
		if got, ok := dims[k]; !ok || got != v {
			return false
		}
	}
	return true
}
