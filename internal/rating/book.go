package rating

import (
	"time"

	"github.com/shopspring/decimal"
)

// PriceEntry is one product's price in a price list. CustomerID "" is the
// default list. Entries of the same customer (or of the default lists) for
// the same product must not overlap in time.
type PriceEntry struct {
	ID         string
	ListID     string
	CustomerID string
	Currency   string // ISO 4217
	ProductID  string
	UnitPrice  decimal.Decimal // per unit of quantity per granule; unused when Tiers is set
	// Granularity is the pay-as-you-go rating granule (hour, day or month).
	Granularity Granularity
	ValidFrom   time.Time // inclusive; zero = since always
	ValidTo     time.Time // exclusive; zero = open
	Tiers       *Tiers    // optional tiered price
	// MinimumCharge, if set, is the least the customer pays for the product
	// per calendar month while this entry prices it (see minimums).
	MinimumCharge decimal.NullDecimal
}

// TierMode says how a tiered price applies to a quantity.
type TierMode int32

const (
	TierModeUnspecified TierMode = iota
	// TierGraduated rates each band of the quantity at its own tier's price
	// (one line per band).
	TierGraduated
	// TierVolume rates the whole quantity at the price of the tier it falls in.
	TierVolume
)

// Tiers is a tiered price. Bounds ascend; the last tier has no bound.
type Tiers struct {
	Mode  TierMode
	Tiers []Tier
}

// Tier covers quantities up to and including UpTo (no bound when !UpTo.Valid).
type Tier struct {
	UpTo      decimal.NullDecimal
	UnitPrice decimal.Decimal
}

// Campaign is a scheduled price override for a set of products.
// CustomerID "" applies to every customer.
type Campaign struct {
	ID         string
	CustomerID string
	Currency   string // of the entries' unit prices; may be "" if all are discounts
	ValidFrom  time.Time
	ValidTo    time.Time
	Priority   int // the highest priority active campaign of a level wins
	Entries    []CampaignEntry
}

// CampaignEntry sets exactly one of UnitPrice and DiscountPercent.
type CampaignEntry struct {
	ProductID       string
	UnitPrice       decimal.NullDecimal // replaces the price (tiers included)
	DiscountPercent decimal.NullDecimal // 0..100, off the price it overrides
	// Granularity of a UnitPrice entry; unspecified means that of the list
	// entry it overrides.
	Granularity Granularity
}

// ContractModel is the billing model of a contract.
type ContractModel int32

const (
	ContractModelUnspecified ContractModel = iota
	// ContractCommitted charges the fee per fee granule and covers the
	// product's usage; usage above the commitment is rated pay-as-you-go.
	ContractCommitted
	// ContractCommittedOverage charges the fee per fee granule and rates usage
	// above the commitment at OverageUnitPrice on a separate line.
	ContractCommittedOverage
)

// Proration says how the fee of a fee granule that the contract (or the
// rated period) covers only partly is reduced.
type Proration int32

const (
	ProrationUnspecified Proration = iota
	// ProrationNone charges the full fee for any partly covered granule.
	ProrationNone
	// ProrationDaily charges fee × covered local days / local days in the
	// granule; a day counts as covered if any part of it is.
	ProrationDaily
	// ProrationHourly charges fee × covered hours / hours in the granule; an
	// hour counts as covered if any part of it is.
	ProrationHourly
)

// Contract is a customer's commitment on one product. Contracts of the same
// customer and product must not overlap.
type Contract struct {
	ID                string
	CustomerID        string
	ProductID         string
	Model             ContractModel
	CommittedQuantity decimal.Decimal // per fee granule, in the product's aggregated unit
	Fee               decimal.Decimal // per fee granule
	FeeGranularity    Granularity     // hour, day or month
	OverageUnitPrice  decimal.Decimal // ContractCommittedOverage only
	Currency          string
	Start             time.Time // inclusive
	End               time.Time // exclusive; zero = open
	Proration         Proration
}
