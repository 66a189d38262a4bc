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
//     (distinct Unique values): over the pieces of the granule.
//
// A piece that straddles an interval boundary contributes Sum and Integral
// in proportion to its overlap, and its Max, Last and Unique to each interval
// it touches. An instant piece (End == Start) belongs to the interval
// containing Start. Customer-level quantities (tiers, commitments) are the
// sum of the series' quantities, so feed one series per resource when
// counting distinct resources.
//
// # A cut granule is charged once
//
// A granule is cut when a price, campaign, list or contract boundary or the
// period's edge falls inside it. Each piece carries its share, and the
// pieces add up exactly to the uncut granule:
//
//   - sum and time_weighted_avg: as above (additive by construction);
//   - max, latest, unique_count: the level of the granule's pay-as-you-go
//     part P (the granule inside the period less the time under a contract),
//     times |P| / |granule|, shared among the pieces of P that hold usage of
//     the series in proportion to their length. A piece's share is F(its
//     end) − F(its start) of one running quotient, so shares are exact
//     where the figure is (10 × 6/30 = 2).
//
// A tier ladder runs over the granule's whole customer quantity: pieces
// climb it in time order, each at its own price's tiers (graduated); a
// volume price takes the tier of the granule's whole quantity.
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
// A tiered price applies to the customer's quantity (Σ series) per granule:
// graduated prices give one line per tier band, volume prices one line at
// the price of the tier the granule's quantity falls in; such lines carry
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
// Usage above the commitment counts where and while the contract is in
// force. A sum Q over the covered part is compared with CommittedQuantity ×
// f (what the prorated fee pays for). A level L (the mean of a
// time_weighted_avg over the covered part; max, latest and unique_count
// over it, each Σ series) is compared with CommittedQuantity, and its excess
// is (L − CommittedQuantity) held for the covered time: in fee granules,
// (L − C) × |covered| / |fee granule|. So usage at or below the commitment
// at every instant has no excess, and the commitment + x has exactly x,
// whatever the proration. With CommittedOverage the excess is an OVERAGE
// line at OverageUnitPrice. With Committed it is rated pay-as-you-go at the
// resolved (list or campaign) price, on PAYG lines that name the contract,
// one per price segment of the covered part: a sum's excess is shared in
// proportion to the usage in each segment (the last takes the remainder)
// and carries over as is; a level's excess is shared by time and converted
// exactly to the price's granules (1 vCPU for 20 days at an hourly price is
// 480 vCPU-hours). Excess without a price is reported unpriced.
//
// # Exactness and rounding
//
// Quantities and prices are exact, except quotients: time-weighted
// averages, proration fractions and shares of a cut granule or of an excess
// are divided to RatioPlaces (12) decimal places, half away from zero; the
// share of a piece that straddles a boundary is computed to 24 places
// (exact for pieces that hold one level). A line's Amount is
// money.Currency.Round(Quantity × UnitPrice) — half away from zero to the
// currency's minor unit — once, except that the lines of one granule (the
// pieces of a cut granule and the bands of a graduated price, per series,
// per customer for tiered prices, per contract for excess) are rounded as a
// running total: each gets the rounded sum so far minus the rounded sum
// before it. The granule's lines then add up to their exact total rounded
// once (cutting at the same price never changes it), and each is within one
// minor unit of its own product. Totals per currency are sums of the
// rounded amounts and are never rounded again. GroupLines merges only lines
// with the same unit price and price source, summing quantities and
// re-rounding the merged amount.
//
// Invalid configs and requests are apperr invalid-argument errors listing
// every problem. An Engine is immutable and safe for concurrent use.
package rating
