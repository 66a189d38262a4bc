// Package billing answers billing queries: for a period and some customers
// (or all), it reads the catalog, the price book and raw usage through a
// Store, rates each customer with internal/rating in the customer's billing
// time zone, groups the lines as asked and returns them in a deterministic
// order with totals per currency and the usage no price covered. It also
// counts a month's billing results (Stats). It computes no money itself —
// that is the engine's — and must not import the store, pgx or gRPC.
//
// # What a usage record becomes
//
// Records of one customer are gathered into series: one per (metric,
// resource_id, organisation, VDC, site, dimensions). A series' dimensions
// are the record's dimensions plus the organisation, VDC and site columns,
// when set, under rating.DimOrganisation, DimVDC and DimSite; products
// match series by their dimension filters inside the engine. A record is an
// interval when end_time > start_time and a point when they are equal:
//
//   - sum (counter): a point is rating.CounterPiece (an amount at an
//     instant); an interval is its amount over [start, end), which the
//     engine shares among granules in proportion to time.
//   - time_weighted_avg, max, latest (gauges): a point is a sample, a level
//     that holds until the next point sample of the same series or the end
//     of the query period (rating.GaugePieces); of two samples at one
//     instant the one received last holds. An interval is the level over
//     [start, end), cut at the end of the period: Integral = quantity ×
//     seconds, Max = Last = quantity.
//   - unique_count: each record is a piece (at its instant, or over its
//     interval) whose Unique value is the series' value of the metric's
//     unique dimension; "resource_id" as that dimension counts resource ids
//     unless the records carry a dimension of that name.
//
// Records of metrics the catalog does not have are not read.
//
// # Pools: resources rated as one
//
// When a query's lines are not grouped by resource, the resource of a line
// is dropped anyway, so the series of a linear metric (sum, or
// time_weighted_avg; not derived) that differ only in their resource are
// rated as one series, a pool: (metric, organisation, VDC, site,
// dimensions). Its pieces are those of its resources (a gauge's samples
// still make their levels per resource, then join the pool), so its
// quantity in a granule is exactly the sum of theirs, with one difference:
// a time-weighted average is divided by the granule's length once for the
// pool instead of once per resource, so a quotient rounded to
// rating.RatioPlaces is rounded once, not n times. Max, latest and
// unique_count are levels of a resource and are never pooled; nor is
// anything when the catalog combines levels (derived metrics, a
// customer's peak). Unpriced usage names its resource, so when a pool has
// unpriced usage the customer is rated again per resource for that report
// (its lines still come from the pooled rating).
//
// A pool is what lets the store hand over usage whose size does not grow
// with the number of resources: pooled hours (UsageRow.Pooled), the sums
// of a pool's records inside one UTC hour, kept by the store as usage
// arrives (store/postgres, migration 0014), wherever hourly rollups would
// rate the same and the hour holds no record that reaches past it and, for
// a gauge, no sample.
//
// # The rated period
//
// A query names its period as a month ("YYYY-MM") or as instants [From,
// To). A month is each customer's own month: from midnight on the 1st in
// its billing time zone to the next 1st, so one query over customers in
// several zones rates each over different instants, and a monthly fee or
// price covers exactly one month. Instants are the same for every
// customer: a custom window, cut into the customer's local granules.
//
// # What is read
//
// For a period [from, to): every record that starts in it; records that
// started up to Lookback (40 days) before from and end after from; and,
// per gauge series, the last point sample in those 40 days, whose level is
// carried into the period until the series' next sample. A gauge not
// sampled for 40 days before a period starts at zero, and a record that
// started more than 40 days before is not seen. Usage is read afresh for
// every query, so late records change the next query's result (a later
// page is a slice of its first page's result, and a closed month is rated
// once from its frozen usage: see Kept results).
//
// The catalog and price book are not read whole for every query: a query
// reads the book's version (Store.BookVersion), which every write to the
// book raises in its own transaction, and rates with the engines built
// for that version when the service has them (bookcache.go); only a new
// version is read and built again. So an edit acknowledged before a query
// starts, on any replica, is in that query's book, as if the book were
// read afresh.
//
// # Billing currency
//
// The pricing domain allows one price list per owner (the default, or a
// customer) and currency, so a product may have a default EUR and a default
// USD price at once. billingd bills each customer in one currency and rates
// it with the price entries, campaigns and contracts of that currency only:
// each currency's book goes to an engine of its own, so prices of one owner
// and product overlap only within a currency and no usage is billed twice.
// A customer's billing currency is decided by the first of these it has:
//
//  1. its own price lists: their currency. A list declares the currency
//     even without prices: an empty USD list bills a customer in USD at the
//     default USD prices.
//  2. the default price lists: their currency.
//  3. its contracts: their currency.
//  4. its own campaigns, then the default campaigns: their currency.
//
// When 1 or 2 name several currencies, the customer's contracts settle it
// if they are all in one of them. Otherwise several currencies fail the
// query with FailedPrecondition naming the customer and the currencies
// ("customer acme has price lists in EUR and USD; billingd bills a customer
// in one currency"). A customer with none of these has no currency: all its
// usage is unpriced. Default lists and campaigns in other currencies do not
// apply to a customer. A contract or campaign of the customer's own in
// another currency, in force during the rated period, would be left out of
// the bill: it fails the query with FailedPrecondition naming it. A query
// fails if any of its customers does (the first in id order is named).
// Totals are per currency; lines in different currencies never merge.
//
// A price book an engine refuses fails the query with FailedPrecondition
// naming the prices, campaigns or contracts.
//
// # Grouping and order
//
// Lines are grouped with rating.GroupLines per customer, in the customer's
// time zone. When lines are not grouped by customer and the query covers
// several customers, lines of different customers that agree on every key
// merge too; their time buckets are then in the customers' common time
// zone, or UTC when they differ. A query of exactly one customer sets the
// customer on every line. Lines are sorted by customer, product group,
// product, model, organisation, VDC, site, resource, grouped dimensions,
// start, end, tier, currency, unit price and price source. Totals are the
// engine's sums of the rounded line amounts, per currency, over the whole
// result whatever the page.
//
// # Kept results
//
// A paged query's later pages are slices of its first page's rating, and a
// closed month's rated lines are rated once; both are kept in bounded
// memory (cache.go). Neither changes what a query returns: pages are a
// snapshot as of the first page (QueryPage), and a closed month is frozen.
package billing
