package rating

import (
	"math"
	"time"
)

// Granularity is the length of a rating or reporting granule. The values
// match billing.v1.Granularity.
type Granularity int32

const (
	GranularityUnspecified Granularity = iota
	GranularityHour
	GranularityDay
	GranularityMonth
	// GranularityPeriod is the whole rated period as one granule. It is a
	// reporting granularity (GroupLines); prices and contracts cannot use it.
	GranularityPeriod
)

func (g Granularity) String() string {
	switch g {
	case GranularityHour:
		return "hour"
	case GranularityDay:
		return "day"
	case GranularityMonth:
		return "month"
	case GranularityPeriod:
		return "period"
	default:
		return "unspecified"
	}
}

func (g Granularity) valid() bool { return g >= GranularityHour && g <= GranularityPeriod }

// validForPrice reports whether g can be a rating or fee granule.
func (g Granularity) validForPrice() bool { return g >= GranularityHour && g <= GranularityMonth }

// Model says how a line was rated. The values match billing.v1.BillingModel.
type Model int32

const (
	ModelUnspecified Model = iota
	ModelPAYG
	ModelCommitted
	ModelOverage
	// ModelAdjustment marks a correction to a closed period; the engine
	// never rates one (internal/billing posts them).
	ModelAdjustment
	// ModelMinimum tops a product's month up to the minimum charge of its
	// price entry.
	ModelMinimum
)

func (m Model) String() string {
	switch m {
	case ModelPAYG:
		return "payg"
	case ModelCommitted:
		return "committed"
	case ModelOverage:
		return "overage"
	case ModelAdjustment:
		return "adjustment"
	case ModelMinimum:
		return "minimum"
	default:
		return "unspecified"
	}
}

// Period is the half-open interval [From, To).
type Period struct {
	From, To time.Time
}

// Instants that rating works on (periods, pieces, samples) must lie in
// [minInstant, maxInstant], so that nanosecond arithmetic cannot overflow.
// Price, campaign and contract windows may use any instant.
var (
	minInstant = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	maxInstant = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

func inRange(t time.Time) bool { return !t.Before(minInstant) && !t.After(maxInstant) }

// nanos converts t to Unix nanoseconds; call it only for in-range instants.
func nanos(t time.Time) int64 { return t.UnixNano() }

// windowFrom and windowTo convert the bounds of a validity window, where
// the zero time means "open", to nanoseconds, saturating far instants.
func windowFrom(t time.Time) int64 {
	if t.IsZero() || t.Before(minInstant) {
		return math.MinInt64
	}
	if t.After(maxInstant) {
		return math.MaxInt64
	}
	return t.UnixNano()
}

func windowTo(t time.Time) int64 {
	if t.IsZero() || t.After(maxInstant) {
		return math.MaxInt64
	}
	if t.Before(minInstant) {
		return math.MinInt64
	}
	return t.UnixNano()
}
