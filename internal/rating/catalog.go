package rating

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

// Metric is what collectors measure ("product atom").
type Metric struct {
	Key             string
	Aggregation     Aggregation
	UniqueDimension string // the dimension whose distinct values unique_count counts
}

// Product is a sellable item: a metric narrowed by a dimension filter.
type Product struct {
	ID              string
	GroupID         string
	MetricKey       string
	DimensionFilter map[string]string // every pair must be present in a series' dimensions
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
