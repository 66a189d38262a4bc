package rating

import (
	"slices"
	"time"

	"github.com/shopspring/decimal"
)

// Well-known dimension keys. They are ordinary dimensions (a product may
// filter on site like on any other key); GroupLines knows them by name.
const (
	DimOrganisation = "organisation"
	DimVDC          = "vdc"
	DimSite         = "site"
)

// Series is the usage of one metric by one resource of the rated customer,
// with the dimensions products filter on and lines are grouped by. It is the
// unit of aggregation: a quantity is computed per series and granule, and a
// customer-level quantity (tiers, commitments) is the sum of its series'.
type Series struct {
	MetricKey  string
	ResourceID string
	Dimensions map[string]string // shared with the lines rated from it; read only
	Pieces     []Piece
}

// Piece is usage over [Start, End), or at the instant Start when End equals
// Start (a counter record with a timestamp). A caller may feed raw records
// (one piece each; gauges through GaugePieces) or hourly rollups (one piece
// per resource and hour); the engine does not care, as long as each field
// holds what it says for the piece's interval:
//
//   - Sum: the amount counted in the piece (counters; metric "sum").
//   - Integral: ∫ quantity dt in quantity·seconds (gauges; "time_weighted_avg").
//   - Max: the highest level seen (gauges; "max").
//   - Last, LastAt: the last level seen and when (gauges; "latest"). A zero
//     LastAt means Start.
//   - Unique: the distinct values of the metric's unique dimension ("unique_count").
//
// Pieces may overlap and come in any order. A piece that straddles an
// interval boundary contributes Sum and Integral in proportion to the
// overlapping time, and its Max, Last and Unique to every interval it overlaps.
type Piece struct {
	Start, End time.Time
	Sum        decimal.Decimal
	Integral   decimal.Decimal
	Max        decimal.Decimal
	Last       decimal.Decimal
	LastAt     time.Time
	Unique     []string
}

// Sample is one reading of a gauge: the level Value from At on.
type Sample struct {
	At    time.Time
	Value decimal.Decimal
}

// GaugePieces turns the samples of one resource into pieces: each sample
// holds until the next sample or until end (the resource's end, or the end
// of the rated period while it still exists). Samples at or after end are
// dropped; of two samples at the same instant the later one in the input
// wins. The Integral of each piece is Value × seconds, exact.
func GaugePieces(samples []Sample, end time.Time) []Piece {
	s := slices.Clone(samples)
	slices.SortStableFunc(s, func(a, b Sample) int { return a.At.Compare(b.At) })
	out := make([]Piece, 0, len(s))
	for i, x := range s {
		if !x.At.Before(end) {
			break
		}
		if i+1 < len(s) && s[i+1].At.Equal(x.At) {
			continue // superseded by a later sample at the same instant
		}
		to := end
		if i+1 < len(s) && s[i+1].At.Before(end) {
			to = s[i+1].At
		}
		out = append(out, Piece{
			Start: x.At, End: to,
			Integral: x.Value.Mul(seconds(to.Sub(x.At))),
			Max:      x.Value, Last: x.Value, LastAt: x.At,
		})
	}
	return out
}

// CounterPiece is a counted amount at an instant (a delta record).
func CounterPiece(at time.Time, amount decimal.Decimal) Piece {
	return Piece{Start: at, End: at, Sum: amount, Max: amount, Last: amount, LastAt: at}
}

// seconds converts a duration to exact decimal seconds.
func seconds(d time.Duration) decimal.Decimal { return decimal.New(int64(d), -9) }
