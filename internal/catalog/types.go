package catalog

import "time"

// Aggregation turns a metric's usage in one granule into one billable
// quantity. The numbers match billing.v1.Aggregation.
type Aggregation int

const (
	AggregationUnspecified     Aggregation = iota
	AggregationSum                         // counter: sum of quantities
	AggregationMax                         // gauge: highest level
	AggregationTimeWeightedAvg             // gauge: ∫ level dt / granule length
	AggregationLatest                      // gauge: last level
	AggregationUniqueCount                 // distinct: number of different UniqueDimension values
)

var aggregationNames = map[Aggregation]string{
	AggregationSum:             "sum",
	AggregationMax:             "max",
	AggregationTimeWeightedAvg: "time_weighted_avg",
	AggregationLatest:          "latest",
	AggregationUniqueCount:     "unique_count",
}

// String returns the snake_case name stored in the database ("" when unspecified).
func (a Aggregation) String() string { return aggregationNames[a] }

// Valid reports whether a is one of the defined aggregations.
func (a Aggregation) Valid() bool { _, ok := aggregationNames[a]; return ok }

// ParseAggregation is the inverse of String.
func ParseAggregation(s string) (Aggregation, bool) {
	for a, n := range aggregationNames {
		if n == s {
			return a, true
		}
	}
	return AggregationUnspecified, false
}

// MetricKind is implied by the aggregation.
type MetricKind int

const (
	KindUnspecified MetricKind = iota
	KindCounter                // an amount consumed (GB transferred)
	KindGauge                  // a level held over time (vCPU allocated)
	KindDistinct               // how many different resources (protected VMs)
)

// Kind returns the metric kind the aggregation implies.
func (a Aggregation) Kind() MetricKind {
	switch a {
	case AggregationSum:
		return KindCounter
	case AggregationMax, AggregationTimeWeightedAvg, AggregationLatest:
		return KindGauge
	case AggregationUniqueCount:
		return KindDistinct
	}
	return KindUnspecified
}

// Metric is a product atom: something collectors measure, e.g. "vm.vcpu".
// Its Key is its id.
type Metric struct {
	Key             string
	DisplayName     string
	Description     string
	Unit            string // e.g. "vCPU", "GB", "VM"
	Aggregation     Aggregation
	UniqueDimension string // the dimension counted by AggregationUniqueCount
	// Expression makes the metric derived (internal/formula): its level is
	// computed from other metrics of the same resource. Immutable. Omitted
	// from JSON when empty, so the frozen books of closed months keep
	// their hashes.
	Expression string `json:",omitempty"`
	CreateTime time.Time
	UpdateTime time.Time
}

// Derived reports whether the metric is computed from other metrics.
func (m *Metric) Derived() bool { return m.Expression != "" }

// ProductGroup groups products on reports (Compute, Storage, Backup…).
type ProductGroup struct {
	ID          string
	DisplayName string
	Description string
	CreateTime  time.Time
	UpdateTime  time.Time
}

// Product is a sellable item: a metric narrowed by a dimension filter.
type Product struct {
	ID              string
	GroupID         string            // wire/mask name: product_group_id
	MetricKey       string            // immutable
	DimensionFilter map[string]string // exact match on usage dimensions; empty matches all
	Unit            string            // billing unit label; defaults to the metric's unit
	DisplayName     string
	Description     string
	// PeakBasis says whose peak a max product charges (unspecified: each
	// resource's). Omitted from JSON when unspecified (see Metric.Expression).
	PeakBasis  PeakBasis `json:",omitempty"`
	CreateTime time.Time
	UpdateTime time.Time
}

// PeakBasis says whose peak a product of a max metric charges. The numbers
// match billing.v1.PeakBasis.
type PeakBasis int

const (
	PeakBasisUnspecified PeakBasis = iota // as PeakBasisResource
	PeakBasisResource                     // each resource at its own peak, summed
	PeakBasisCustomer                     // the peak of the customer's total level
)

var peakBasisNames = map[PeakBasis]string{PeakBasisResource: "resource", PeakBasisCustomer: "customer"}

// String returns the name stored in the database ("" when unspecified).
func (b PeakBasis) String() string { return peakBasisNames[b] }

// ParsePeakBasis is the inverse of String; "" parses as unspecified.
func ParsePeakBasis(s string) (PeakBasis, bool) {
	if s == "" {
		return PeakBasisUnspecified, true
	}
	for b, n := range peakBasisNames {
		if n == s {
			return b, true
		}
	}
	return PeakBasisUnspecified, false
}
