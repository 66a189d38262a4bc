package billing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/billingd/billingd/internal/pricing"
	"github.com/billingd/billingd/internal/rating"
)

// # Closed periods
//
// An admin closes a customer's month (package period); from then on its
// billing result is frozen: every query, grouping and report of the month
// returns what it returned at closing, byte for byte. The month is frozen
// by its inputs rather than its output, so that any grouping and
// granularity stays available:
//
//   - the price book at closing (FrozenBook: the catalog, the default and
//     the customer's own price lists, prices, campaigns and contracts);
//   - the usage stored before closing: records inserted later that rating
//     the month reads (starting in it or in its Lookback) are listed by the
//     store as late, and ScanFrozenUsage leaves them out.
//
// A query over a window that overlaps closed months rates it in segments:
// each closed month (the part of it in the window) with its frozen book
// and usage, the rest live. Segments are whole calendar months of the
// customer's time zone, which are granule boundaries of every rating
// granularity, so cutting there changes nothing but what each side reads.
//
// # Adjustments
//
// Whatever changed since closing — late usage, an edited price, campaign
// or contract — is posted to the first open month after the closed one
// (its booking month) as adjustment lines, so that the closed month plus
// its adjustments always equal what the month would be rated at today:
//
//	F = frozen book, frozen usage   (the closed result)
//	U = frozen book, today's usage  → late usage:   U − F
//	L = today's book, today's usage → price change: L − U
//
// minus what adjustment lines already booked in later closed months
// posted for the month (cumulative, so nothing is posted twice and
// nothing is lost whatever happens between two queries). Adjustments are
// computed per product and price (quantity and amount differences of the
// month's lines grouped by product, over the whole month): an adjustment
// line's amount is the exact difference of the rounded amounts, so the
// money adds up to the cent; its quantity is the difference of the
// quantities. A price change shows as a reversal at the old price and a
// charge at the new one. Adjustment lines span their booking month, are
// booked at its first instant (a query sees them iff its window contains
// that instant) and come after the customer's other lines, ungrouped by
// organisation, VDC, site, resource or dimension.
//
// When the booking month is closed in turn, the adjustments a query showed
// at that moment are stored with it (frozen too); later changes go to the
// next open month.

// AdjustmentCause says why an adjustment line exists; the values match
// billing.v1.AdjustmentCause.
type AdjustmentCause int32

const (
	CauseUnspecified AdjustmentCause = iota
	CauseLateUsage                   // usage received after closing
	CausePriceChange                 // a price, campaign, contract or catalog change after closing
)

func (c AdjustmentCause) String() string {
	switch c {
	case CauseLateUsage:
		return "usage received after the month was closed"
	case CausePriceChange:
		return "prices changed after the month was closed"
	}
	return "unspecified"
}

// ClosedPeriod is a customer's closed month as the store holds it.
type ClosedPeriod struct {
	ID         string
	CustomerID string
	Month      string // "YYYY-MM" in TimeZone
	TimeZone   string
	From, To   time.Time // the month's bounds in TimeZone at closing
	CloseTime  time.Time
	ClosedBy   string // API key id
	BookHash   string // HashBook of the frozen book
	// LateRecords counts usage records inserted after closing that the
	// month's rating reads (its ScanFrozenUsage leaves them out).
	LateRecords int64
	Totals      []Total // of the frozen result with its adjustments; nil until computed
}

// Adjustment is one adjustment line: Line has Model ModelAdjustment,
// AdjustedMonth and AdjustmentCause set, spans the month it is booked in
// and is described when computed (a frozen one keeps its words).
// OriginalModel is the model of the lines it corrects.
type Adjustment struct {
	Line
	OriginalModel rating.Model
}

// BookedAdjustment is an adjustment frozen with the closed month it is
// booked in.
type BookedAdjustment struct {
	PeriodID string
	Adjustment
}

// CustomerBook is the part of b that rates customerID: the whole catalog,
// the default and the customer's own price lists with their prices, the
// default and the customer's campaigns, and the customer's contracts. It
// is what a closed month freezes.
func CustomerBook(b Book, customerID string) Book {
	out := Book{Metrics: b.Metrics, Products: b.Products}
	lists := map[string]bool{}
	for _, l := range b.PriceLists {
		if l.CustomerID == "" || l.CustomerID == customerID {
			out.PriceLists = append(out.PriceLists, l)
			lists[l.ID] = true
		}
	}
	for _, p := range b.Prices {
		if lists[p.PriceListID] {
			out.Prices = append(out.Prices, p)
		}
	}
	for _, c := range b.Campaigns {
		if c.CustomerID == "" || c.CustomerID == customerID {
			out.Campaigns = append(out.Campaigns, c)
		}
	}
	for _, c := range b.Contracts {
		if c.CustomerID == customerID {
			out.Contracts = append(out.Contracts, c)
		}
	}
	return out
}

// EncodeBook is the stored form of a frozen book, and HashBook its digest:
// equal digests mean an equal book (the store reads it in a fixed order).
func EncodeBook(b Book) ([]byte, error) { return json.Marshal(b) }

// HashBook returns the hex SHA-256 of EncodeBook(b) without the times a
// record was created or updated, which change on a no-op edit.
func HashBook(b Book) (string, error) {
	c := b
	c.PriceLists = stripTimes(b.PriceLists, func(x *pricing.PriceList) { x.CreateTime, x.UpdateTime = time.Time{}, time.Time{} })
	c.Prices = stripTimes(b.Prices, func(x *pricing.Price) { x.CreateTime, x.UpdateTime = time.Time{}, time.Time{} })
	c.Campaigns = stripTimes(b.Campaigns, func(x *pricing.Campaign) { x.CreateTime, x.UpdateTime = time.Time{}, time.Time{} })
	c.Contracts = stripTimes(b.Contracts, func(x *pricing.Contract) { x.CreateTime, x.UpdateTime = time.Time{}, time.Time{} })
	j, err := EncodeBook(c)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(j)
	return hex.EncodeToString(sum[:]), nil
}

func stripTimes[T any](xs []T, strip func(*T)) []T {
	out := make([]T, len(xs))
	copy(out, xs)
	for i := range out {
		strip(&out[i])
	}
	return out
}

// DecodeBook reads a book EncodeBook wrote.
func DecodeBook(j []byte) (Book, error) {
	var b Book
	if err := json.Unmarshal(j, &b); err != nil {
		return Book{}, fmt.Errorf("frozen price book: %w", err)
	}
	return b, nil
}

// MonthBounds returns month ("YYYY-MM") in loc as [from, to).
func MonthBounds(month string, loc *time.Location) (time.Time, time.Time, error) {
	m, err := time.Parse("2006-01", month)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	from := time.Date(m.Year(), m.Month(), 1, 0, 0, 0, 0, loc)
	return from, from.AddDate(0, 1, 0), nil
}

// closedState is what a query needs to know about one customer's closed
// months: the months, sorted by start, and the adjustments booked in them.
type closedState struct {
	periods []ClosedPeriod
	booked  []BookedAdjustment
	books   map[string]*rater // frozen raters by period id, built on demand
}

// closedByCustomer groups closed months by customer, keeping their order:
// Store.ClosedPeriods returns them by customer and start.
func closedByCustomer(periods []ClosedPeriod) map[string]*closedState {
	by := map[string]*closedState{}
	for _, p := range periods {
		cs := by[p.CustomerID]
		if cs == nil {
			cs = &closedState{}
			by[p.CustomerID] = cs
		}
		cs.periods = append(cs.periods, p)
	}
	return by
}

// segment is a part of a job's window: live (p nil) or inside a closed month.
type segment struct {
	from, to time.Time
	p        *ClosedPeriod
}

// segments cuts [from, to) at the closed months it overlaps.
func (cs *closedState) segments(from, to time.Time) []segment {
	var out []segment
	at := from
	for i := range cs.periods {
		p := &cs.periods[i]
		if !p.To.After(at) || !p.From.Before(to) {
			continue
		}
		if p.From.After(at) {
			out = append(out, segment{from: at, to: p.From})
			at = p.From
		}
		end := minTime(p.To, to)
		out = append(out, segment{from: at, to: end, p: p})
		at = end
	}
	if at.Before(to) {
		out = append(out, segment{from: at, to: to})
	}
	return out
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// closedAt returns the closed month that starts at t, or nil.
func (cs *closedState) closedAt(t time.Time) *ClosedPeriod {
	for i := range cs.periods {
		if cs.periods[i].From.Equal(t) {
			return &cs.periods[i]
		}
	}
	return nil
}

// bookingMonth returns the start and end of the first open month after
// closed month p, in loc: where p's adjustments are posted.
func (cs *closedState) bookingMonth(p *ClosedPeriod, loc *time.Location) (time.Time, time.Time) {
	from := p.To.In(loc)
	for cs.closedAt(from) != nil {
		from = cs.closedAt(from).To.In(loc)
	}
	y, m, _ := from.Date()
	from = time.Date(y, m, 1, 0, 0, 0, 0, loc)
	return from, from.AddDate(0, 1, 0)
}

// frozen returns the rater of closed month p's frozen book.
func (s *Service) frozen(ctx context.Context, cs *closedState, p *ClosedPeriod) (*rater, error) {
	if r := cs.books[p.ID]; r != nil {
		return r, nil
	}
	// A period's book never changes, and periods whose books hash alike
	// (customers without prices of their own, closed between the same
	// edits) have equal books: one rater serves them all.
	key := "period:" + p.ID
	if p.BookHash != "" {
		key = "book:" + p.BookHash
	}
	r, ok := s.cache.books.get(key)
	if !ok {
		b, err := s.store.FrozenBook(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		if r, err = newRater(b); err != nil {
			return nil, err
		}
		s.cache.books.add(key, r, 1)
	}
	if cs.books == nil {
		cs.books = map[string]*rater{}
	}
	cs.books[p.ID] = r
	return r, nil
}
