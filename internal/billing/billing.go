package billing

import (
	"context"
	"runtime"
	"time"

	"github.com/shopspring/decimal"

	"github.com/billingd/billingd/internal/catalog"
	"github.com/billingd/billingd/internal/clock"
	"github.com/billingd/billingd/internal/customer"
	"github.com/billingd/billingd/internal/pricing"
	"github.com/billingd/billingd/internal/rating"
)

// Lookback is how far before a query's start the reader looks for usage
// that reaches into the period: the last point sample of each gauge series
// (its level holds into the period) and interval records that started
// earlier and end inside or after the period's start. A gauge not sampled
// for longer, or an interval record longer than this, is not seen.
const Lookback = 40 * 24 * time.Hour

// Book is the whole catalog and price book, read at one instant.
type Book struct {
	Metrics    []catalog.Metric
	Products   []catalog.Product
	PriceLists []pricing.PriceList
	Prices     []pricing.Price
	Campaigns  []pricing.Campaign // with their entries
	Contracts  []pricing.Contract
}

// UsageWindow asks the store for the usage records of one customer that
// rating [From, To) needs; see Store.ScanUsage.
type UsageWindow struct {
	CustomerID string
	From, To   time.Time
	Lookback   time.Duration
	Metrics    []string // metric keys to read (those of the catalog)
	Gauges     []string // the gauge metrics among them, whose samples carry a level into the period
	// Raw asks for the raw records even where hourly rollups would rate the
	// same: levels are combined instant by instant (derived metrics, a
	// customer's peak), which an hour's aggregate cannot give.
	Raw bool
	// Pool are the metrics among Metrics whose usage may come as pooled
	// hours (UsageRow.Pooled): the query rates their resources as one.
	Pool []string
	// Aligned says that every instant the rating cuts usage at is a UTC
	// hour: From, To, From − Lookback, the granules of the customer's time
	// zone and the price, campaign and contract boundaries in the window.
	// Only then may a store hand over hourly aggregates (UsageRow.Hourly,
	// UsageRow.Pooled): a piece of one never straddles a cut, as its
	// records do not, so it rates exactly like them.
	Aligned bool
}

// UsageRow is one usage record as the store hands it over. To read a
// million rows without a million allocations per field, the byte slices
// alias the driver's buffer: they are valid only during the callback.
type UsageRow struct {
	MetricKey      []byte
	Quantity       []byte // a decimal number as text
	Start, End     time.Time
	Received       time.Time // of two samples of a series at one instant, the one received last holds
	ResourceID     []byte
	OrganisationID []byte
	VDCID          []byte
	Site           []byte
	Dimensions     []byte // a JSON object of string values, as jsonb renders it (keys in a canonical order)
	// Hourly, when set, makes the row an hourly rollup of its series rather
	// than a record: Start is the UTC hour, End = Start + 1h, and Hour sums
	// up the records of the series that start in the hour and end by its
	// end (records reaching past the hour come as records). Quantity and
	// Received are unset.
	Hourly bool
	Hour   HourlyUsage
	// Pooled, when set, makes the row a pooled hour: one UTC hour [Start,
	// End) of the records of a pool (UsageWindow.Pool), those that start
	// and end inside it, of every resource with the row's metric,
	// organisation, VDC, site and dimensions (ResourceID is empty). Hour
	// holds Sum (Σ quantity), Integral (Σ quantity × seconds of the
	// interval records, nil when there are none) and Records.
	Pooled bool
}

// HourlyUsage sums up the records of one series that lie inside one UTC
// hour, whatever the metric's aggregation. Numbers are decimal text; nil
// means none of the kind.
type HourlyUsage struct {
	Sum       []byte    // Σ quantity of the records (points and intervals); nil when there are none
	Integral  []byte    // Σ quantity × seconds of the interval records
	Max       []byte    // the highest quantity of the interval records
	LastStart time.Time // the start of the interval record that starts last,
	LastValue []byte    // and its quantity
	// Point samples, of each instant only the one received last (the
	// larger on a tie): the first at FirstAt, the last (LastSample) at
	// LastAt; InnerIntegral and InnerMax are ∫ and max of the levels from
	// FirstAt to LastAt (nil when there is one sample). Zero LastAt: none.
	FirstAt       time.Time
	InnerIntegral []byte
	InnerMax      []byte
	LastAt        time.Time
	LastSample    []byte
	Records       int64 // of a pooled hour: how many records it sums up
}

// UsageCount is what GetBillingStats needs to know about raw usage.
type UsageCount struct {
	Records int64 // records in the windows
	Atoms   int64 // distinct (customer, metric) pairs among them
}

// Store reads what billing queries need. It never writes.
type Store interface {
	// Book reads the catalog and price book and its version (see
	// BookVersion) in one snapshot.
	Book(ctx context.Context) (Book, int64, error)
	// BookVersion reads the version of the catalog and price book: every
	// committed write to the book raises it, in the write's transaction,
	// so that two snapshots that see the same version see the same book.
	BookVersion(ctx context.Context) (int64, error)
	// Customers reads the customers with these ids, or every customer when
	// ids is empty, in id order. Unknown ids are left out.
	Customers(ctx context.Context, ids []string) ([]customer.Customer, error)
	// ScanUsage calls fn for each record of w.CustomerID whose metric is in
	// w.Metrics and that
	//   - starts in [From, To), or
	//   - starts in [From−Lookback, From) and ends after From (an interval
	//     reaching into the period), or
	//   - is the last point record (End = Start) in [From−Lookback, From) of
	//     its series (metric, resource, organisation, VDC, site, dimensions)
	//     for a metric in w.Gauges.
	// Records come in no particular order. When w.Aligned, a store may hand
	// over hourly rollups (UsageRow.Hourly) instead of the records inside
	// an hour, and pooled hours (UsageRow.Pooled) for the metrics in
	// w.Pool. An error from fn stops the scan and is returned.
	ScanUsage(ctx context.Context, w UsageWindow, fn func(*UsageRow) error) error
	// CountUsage counts the records that start in each window's [From, To)
	// (Lookback and Gauges are ignored).
	CountUsage(ctx context.Context, ws []UsageWindow) (UsageCount, error)

	// ClosedPeriods reads the closed months of these customers (every
	// customer when ids is empty), by customer and start.
	ClosedPeriods(ctx context.Context, ids []string) ([]ClosedPeriod, error)
	// FrozenBook reads the price book a closed month froze.
	FrozenBook(ctx context.Context, periodID string) (Book, error)
	// ScanFrozenUsage is ScanUsage without the records inserted after the
	// closed month periodID was closed (see periods.go).
	ScanFrozenUsage(ctx context.Context, periodID string, w UsageWindow, fn func(*UsageRow) error) error
	// BookedAdjustments reads the adjustment lines frozen with the closed
	// months of a customer, in the order they were stored.
	BookedAdjustments(ctx context.Context, customerID string) ([]BookedAdjustment, error)
}

// Query is what to rate and how to present it.
type Query struct {
	CustomerIDs []string // empty: every customer
	// Month ("YYYY-MM") is the rated period as each customer's own month
	// in its billing time zone: customers in different zones are rated
	// over different instants. It excludes From and To.
	Month    string
	From, To time.Time // the rated period [From, To), the same instants for every customer
	// Granularity of the lines' periods: hour, day, month or the whole
	// period; unspecified keeps the lines as rated.
	Granularity rating.Granularity
	GroupBy     []rating.GroupKey
	// GroupByDimensions are usage dimensions lines are grouped by as well.
	GroupByDimensions []string
}

// Line is a billing line with what a reader of an invoice needs besides
// the numbers.
type Line struct {
	rating.Line
	MetricKey string
	PriceID   string // the price's id in PriceListID (PriceEntryID is the engine's list-qualified id)
	// Unit of Quantity: the product's unit; for a committed fee the fee
	// granule ("month"), of which Quantity is the covered fraction.
	Unit        string
	Description string // e.g. "Storage Gold — overage above 100 GB"
	// Set on adjustment lines (Model ModelAdjustment): the closed month
	// corrected, "YYYY-MM", and why.
	AdjustedMonth   string
	AdjustmentCause AdjustmentCause
}

// Total is the sum of the rounded amounts of one currency's lines.
type Total struct {
	Currency string
	Amount   decimal.Decimal
	Lines    int
}

// Result is a rated query: lines in a deterministic order, totals per
// currency in currency order, and usage no price covered.
type Result struct {
	Lines    []Line
	Totals   []Total
	Unpriced []rating.UnpricedUsage
}

// Config configures a Service.
type Config struct {
	// Workers is how many customers are read and rated at once; 0 means
	// GOMAXPROCS + 1 (one more than the CPUs, so that a CPU is busy while
	// a worker waits for the database), at most 8.
	Workers int
	// Cache bounds the results kept between reads (cache.go).
	Cache CacheConfig
	// Clock ages kept pages; nil means the system clock.
	Clock clock.Clock
}

// Service answers billing queries: it reads usage and the price book from
// the store, rates each customer with the rating engine and groups lines.
// It is safe for concurrent use.
type Service struct {
	store   Store
	workers int
	books   bookCache // the live book's rater, by version
	cache   caches
}

// New returns a Service reading from store.
func New(store Store, cfg Config) *Service {
	w := cfg.Workers
	if w <= 0 {
		w = min(runtime.GOMAXPROCS(0)+1, 8)
	}
	c := cfg.Clock
	if c == nil {
		c = clock.Real()
	}
	return &Service{store: store, workers: w, cache: newCaches(cfg.Cache, c.Now)}
}
