// Package rating is the only place billingd computes money: it turns one
// customer's usage, the catalog, the price book and the contracts into
// billing lines and totals. It is pure — no I/O, no database, no clock, no
// floats — and works on shopspring/decimal values and half-open [from, to)
// intervals. The store feeds it; the billing service groups its lines.
//
// # Inputs
//
// New(Config) validates and indexes metrics, products, price entries,
// campaigns and contracts; Engine.Rate (or RateFunc, which streams) rates a
// Request: a customer, its billing time zone, a period and usage Series.
// A Series is one metric of one resource with its dimensions and Pieces;
// pieces may be raw records (GaugePieces, CounterPiece) or hourly rollups.
//
// # Time
//
// Granules are calendar granules in the billing time zone, cut by the
// period: an hour runs between two instants at which the local clock reads
// minute 0 (hh:30 UTC in Asia/Kolkata; a DST day has 23 or 25 of them; around
// a 30-minute DST shift one hour lasts 30 or 90 minutes); days and months start
// at local midnight. Rating granules come from the price entry (hour, day,
// month); GranularityPeriod is for reporting only.
//
// # Aggregation (per series and rated interval)
//
//   - sum: Σ Sum of the pieces in the interval.
//   - time_weighted_avg: ∫ quantity dt over the interval / length of the
//     WHOLE calendar granule — also when the period or a price boundary cuts
//     the granule. So a VM with 4 vCPU for half a day averages 2 vCPU that
//     day, and the parts of a cut granule add up to the whole granule.
//   - max, latest (the Last of the piece with the latest LastAt), unique_count
//     (distinct Unique values): over the pieces in the interval only.
//
// A piece that straddles an interval boundary contributes Sum and Integral
// in proportion to its overlap, and its Max, Last and Unique to each interval
// it touches. An instant piece (End == Start) belongs to the interval
// containing Start. Customer-level quantities (tiers, commitments) are the
// sum of the series' quantities, so feed one series per resource when
// counting distinct resources.
//
// # Prices
//
// At every instant: customer campaign → customer list → default campaign →
// default list. Of the campaigns of a level, the highest Priority wins (then
// the later start, then the smaller id). A unit-price campaign or a list
// entry ends the walk; a percent campaign discounts the price found further
// down the chain, so discounts of two levels stack (CampaignID "a+b"). A
// unit-price campaign entry without a granularity takes that of the list
// entry it overrides; with neither the usage is unpriced. Every price,
// campaign or contract boundary inside a granule splits the line; each
// line names its price entry, list, campaign and contract.
//
// Pay-as-you-go lines are per series, product and sub-interval (granule ∩
// price segment); intervals with no usage or a zero quantity make no line.
// A tiered price applies to the customer's quantity (Σ series) per
// sub-interval: graduated prices give one line per tier band, volume prices
// one line at the price of the tier the quantity falls in; such lines carry
// no resource keys. Usage with no price is returned as UnpricedUsage, once
// per series and unpriced interval (a time-weighted average over that
// interval); a series no product matches is reported the same way.
//
// # Contracts
//
// For each fee granule, its covered part is granule ∩ contract window ∩
// period. A COMMITTED line has Quantity = the prorated fraction f of the
// granule and UnitPrice = Fee. Proration of a partly covered granule:
// None: f = 1; Daily: covered local days / local days in the granule;
// Hourly: covered hours / hours in the granule (743 in a spring-forward
// March). A partly covered day or hour counts whole. The period cuts a
// granule like a contract edge does, so with None every query touching a
// fee granule shows its full fee: bill whole fee granules.
//
// Usage of the product inside the window never gives pay-as-you-go lines.
// Its quantity Q over the covered part (Σ series, as above) is compared with
// CommittedQuantity × f. With CommittedOverage the excess is an OVERAGE line
// at OverageUnitPrice. With Committed the excess is rated pay-as-you-go at
// the resolved (list or campaign) price, on PAYG lines that name the
// contract: a sum carries over as is; a level (time_weighted_avg, max,
// latest, unique_count) is multiplied by the number of price granules in the
// fee granule (20 GB of monthly average at an hourly price is 20 × 720
// GB-hours in April). When the price changes inside the covered part, the
// excess is shared among the price segments in proportion to their usage,
// the last taking the remainder. Excess without a price is reported unpriced.
//
// # Exactness and rounding
//
// Quantities and prices are exact, except quotients: time-weighted
// averages, proration fractions and excess shares are divided to
// RatioPlaces (12) decimal places, half away from zero; the share of a piece
// that straddles a boundary is computed to 24 places (exact for pieces that
// hold one level). Each line's Amount is money.Currency.Round(Quantity ×
// UnitPrice) — half away from zero to the currency's minor unit — once.
// Totals per currency are sums of the rounded amounts and are never rounded
// again. GroupLines merges only lines with the same unit price and price
// source, summing quantities and the already rounded amounts.
//
// Invalid configs and requests are apperr invalid-argument errors listing
// every problem. An Engine is immutable and safe for concurrent use.
package rating
