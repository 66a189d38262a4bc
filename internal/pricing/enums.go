package pricing

// Granularity is the period a quantity or a fee is rated per. The numbers
// match billing.v1.Granularity.
type Granularity int

const (
	GranularityUnspecified Granularity = iota
	GranularityHour
	GranularityDay
	GranularityMonth
)

// TierMode says how tiers apply. Graduated: each tier's price applies to the
// part of the quantity inside it. Volume: the tier the whole quantity falls
// in prices all of it.
type TierMode int

const (
	TierModeUnspecified TierMode = iota
	TierModeGraduated
	TierModeVolume
)

// ContractModel says whether usage above the commitment is billed.
type ContractModel int

const (
	ContractModelUnspecified      ContractModel = iota
	ContractModelCommitted                      // fee only
	ContractModelCommittedOverage               // fee plus usage above the commitment at the overage price
)

// Proration says how a fee is charged for a granule the contract covers only
// partly. Unspecified is stored as None.
type Proration int

const (
	ProrationUnspecified Proration = iota
	ProrationNone                  // the full fee for any partial granule
	ProrationDaily                 // fee × covered days / days in the granule
	ProrationHourly                // fee × covered hours / hours in the granule
)

var (
	granularityNames = []string{"", "hour", "day", "month"}
	tierModeNames    = []string{"", "graduated", "volume"}
	modelNames       = []string{"", "committed", "committed_overage"}
	prorationNames   = []string{"", "none", "daily", "hourly"}
)

func name(names []string, i int) string {
	if i < 0 || i >= len(names) {
		return ""
	}
	return names[i]
}

func parse(names []string, s string) (int, bool) {
	for i, n := range names {
		if n == s && s != "" {
			return i, true
		}
	}
	return 0, false
}

// String returns the snake_case name stored in the database ("" when unspecified).
func (g Granularity) String() string { return name(granularityNames, int(g)) }

// Valid reports whether g is hour, day or month.
func (g Granularity) Valid() bool { return g.String() != "" }

// ParseGranularity is the inverse of String.
func ParseGranularity(s string) (Granularity, bool) {
	i, ok := parse(granularityNames, s)
	return Granularity(i), ok
}

func (m TierMode) String() string { return name(tierModeNames, int(m)) }

// Valid reports whether m is graduated or volume.
func (m TierMode) Valid() bool { return m.String() != "" }

// ParseTierMode is the inverse of String; "" parses as unspecified.
func ParseTierMode(s string) (TierMode, bool) {
	if s == "" {
		return TierModeUnspecified, true
	}
	i, ok := parse(tierModeNames, s)
	return TierMode(i), ok
}

func (m ContractModel) String() string { return name(modelNames, int(m)) }

// Valid reports whether m is committed or committed_overage.
func (m ContractModel) Valid() bool { return m.String() != "" }

// ParseContractModel is the inverse of String.
func ParseContractModel(s string) (ContractModel, bool) {
	i, ok := parse(modelNames, s)
	return ContractModel(i), ok
}

func (p Proration) String() string { return name(prorationNames, int(p)) }

// Valid reports whether p is none, daily or hourly.
func (p Proration) Valid() bool { return p.String() != "" }

// ParseProration is the inverse of String.
func ParseProration(s string) (Proration, bool) {
	i, ok := parse(prorationNames, s)
	return Proration(i), ok
}
