package pricing

import (
	"time"

	"github.com/shopspring/decimal"
)

// PriceList is a currency's prices for everyone (CustomerID "") or for one
// customer. There is at most one list per owner and currency.
type PriceList struct {
	ID          string
	DisplayName string
	Currency    string // ISO 4217, upper case; immutable
	CustomerID  string // "" = the default list; immutable
	CreateTime  time.Time
	UpdateTime  time.Time
}

// Tier is one step of a tiered price. UpTo is the tier's upper bound of the
// quantity; zero means no bound and is allowed only on the last tier.
type Tier struct {
	UpTo      decimal.Decimal
	UnitPrice decimal.Decimal
}

// Price is an entry of a price list: a product's pay-as-you-go price valid
// in [ValidFrom, ValidTo) (zero ValidTo = open end). With Tiers, UnitPrice
// must be zero and TierMode says how the tiers apply.
type Price struct {
	PriceListID string
	ID          string
	ProductID   string // immutable
	UnitPrice   decimal.Decimal
	Granularity Granularity
	ValidFrom   time.Time
	ValidTo     time.Time
	TierMode    TierMode
	Tiers       []Tier
	// MinimumCharge is the least a customer pays for the product per
	// calendar month while this price is in force (unset: none). Omitted
	// from JSON when unset, so the frozen books of closed months keep their
	// hashes.
	MinimumCharge decimal.NullDecimal `json:",omitzero"`
	CreateTime    time.Time
	UpdateTime    time.Time
}

// Campaign is a scheduled price override in [ValidFrom, ValidTo) for one
// customer or, with CustomerID "", for every customer. When campaigns
// overlap the higher Priority wins, then the lower id.
type Campaign struct {
	ID          string
	DisplayName string
	CustomerID  string // immutable
	Currency    string // immutable
	ValidFrom   time.Time
	ValidTo     time.Time
	Priority    int32
	Entries     []CampaignEntry
	CreateTime  time.Time
	UpdateTime  time.Time
}

// CampaignEntry overrides one product's price: exactly one of UnitPrice (a
// new price ≥ 0) or DiscountPercent (in (0, 100]) is set.
type CampaignEntry struct {
	ProductID       string
	UnitPrice       decimal.NullDecimal
	DiscountPercent decimal.NullDecimal
}

// Contract commits a customer to a quantity of a product for a fee per
// FeeGranularity from StartTime to EndTime (zero = open end). With
// ContractModelCommittedOverage, usage above the commitment is rated at
// OverageUnitPrice, which is set iff the model says so.
type Contract struct {
	ID                string
	CustomerID        string // immutable
	ProductID         string // immutable
	Model             ContractModel
	CommittedQuantity decimal.Decimal
	Fee               decimal.Decimal
	FeeGranularity    Granularity
	OverageUnitPrice  decimal.NullDecimal
	Currency          string
	StartTime         time.Time
	EndTime           time.Time
	Proration         Proration
	CreateTime        time.Time
	UpdateTime        time.Time
}

// window renders [from, to) for messages.
func window(from, to time.Time) string {
	end := "∞"
	if !to.IsZero() {
		end = to.UTC().Format(time.RFC3339)
	}
	return "[" + from.UTC().Format(time.RFC3339) + ", " + end + ")"
}
