// Package period closes and reopens customers' months. Closing freezes a
// month's billing result (see internal/billing/periods.go for what is
// frozen and how later changes become adjustment lines); reopening is an
// explicit, audited act that gives the month back to live rating.
//
// Rules:
//   - a month can be closed once it has ended in the customer's billing
//     time zone, and only once (AlreadyExists);
//   - closing freezes the adjustments that changes to earlier closed months
//     have posted to the month so far, together with the month;
//   - only the customer's latest closed month can be reopened: a later
//     closed month may hold adjustments computed against the earlier one
//     (FailedPrecondition names it);
//   - both are recorded in the audit trail in the transaction that makes
//     them; reopening records its reason.
package period

import (
	"context"
	"encoding/base64"
	"time"

	"github.com/billingd/billingd/internal/access"
	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/clock"
	"github.com/billingd/billingd/internal/rating"
	"github.com/billingd/billingd/internal/resource"
)

// Audit vocabulary.
const (
	ResourceType  = "closed_period"
	ActionClose   = "close"
	ActionReopen  = "reopen"
	maxPageSize   = 1000
	monthLayout   = "2006-01"
	maxReasonSize = 1000
)

// Reopening is what the audit trail records as a reopened month's After.
type Reopening struct {
	CustomerID, Month, Reason string
}

// Repository reads and writes closed months, inside a transaction.
type Repository interface {
	access.AuditLog
	// CustomerTimeZone reads a customer's billing time zone (NotFound).
	CustomerTimeZone(ctx context.Context, customerID string) (string, error)
	// LockUsage waits for every ingest transaction in flight and keeps new
	// ones waiting until the transaction ends, so that each usage record
	// commits either before the close or after it (and is then late).
	LockUsage(ctx context.Context) error
	// Book reads the catalog and price book.
	Book(ctx context.Context) (billing.Book, error)
	// InsertClosedPeriod stores p with its frozen book (AlreadyExists for a
	// month closed already) and the adjustments booked in it.
	InsertClosedPeriod(ctx context.Context, p billing.ClosedPeriod, book []byte, adj []billing.Adjustment) error
	// GetClosedPeriod reads one closed month (NotFound).
	GetClosedPeriod(ctx context.Context, customerID, month string) (billing.ClosedPeriod, error)
	// LaterClosed returns a closed month of the customer that starts at or
	// after t, if any.
	LaterClosed(ctx context.Context, customerID string, t time.Time) (string, bool, error)
	// DeleteClosedPeriod drops a closed month, its late-usage list and the
	// adjustments booked in it.
	DeleteClosedPeriod(ctx context.Context, id string) error
	// SetTotals stores the totals of a closed month's frozen result.
	SetTotals(ctx context.Context, id string, totals []billing.Total) error
	// ListClosedPeriods reads up to limit closed months of a customer with
	// a month after afterMonth ("" from the first), oldest first.
	ListClosedPeriods(ctx context.Context, customerID, afterMonth string, limit int) ([]billing.ClosedPeriod, error)
}

// Store runs Repository calls in transactions.
type Store interface {
	InTx(ctx context.Context, fn func(Repository) error) error
}

// Service closes, reopens and lists closed months.
type Service struct {
	store   Store
	billing *billing.Service
	clock   clock.Clock
}

// New returns a Service; c nil means the system clock.
func New(store Store, b *billing.Service, c clock.Clock) *Service {
	if c == nil {
		c = clock.Real()
	}
	return &Service{store: store, billing: b, clock: c}
}

func check(customerID, month string) error {
	var v apperr.Invalid
	checkMonth(&v, customerID, month)
	return v.Err()
}

func checkMonth(v *apperr.Invalid, customerID, month string) {
	resource.CheckID(v, "customer_id", customerID, true)
	resource.CheckMonth(v, "month", month)
}

// Close freezes customerID's month ("YYYY-MM" in its billing time zone).
func (s *Service) Close(ctx context.Context, customerID, month string) (billing.ClosedPeriod, error) {
	if err := check(customerID, month); err != nil {
		return billing.ClosedPeriod{}, err
	}
	var tz string
	err := s.store.InTx(ctx, func(tx Repository) (err error) {
		tz, err = tx.CustomerTimeZone(ctx, customerID)
		return err
	})
	if err != nil {
		return billing.ClosedPeriod{}, err
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return billing.ClosedPeriod{}, apperr.Wrap(apperr.KindInternal, err, "customer %q: unknown billing time zone %q", customerID, tz)
	}
	from, to, _ := billing.MonthBounds(month, loc)
	now := resource.Now(s.clock)
	if to.After(now) {
		return billing.ClosedPeriod{}, apperr.FailedPrecondition("%s has not ended yet in %s (it ends %s); a month can be closed once it has ended",
			month, tz, to.Format(time.RFC3339))
	}
	// What changes to earlier closed months post to this one so far; they
	// are frozen with it. Computed before the lock so ingestion waits only
	// for the inserts: anything that changes meanwhile is posted later,
	// since adjustments net against what was booked.
	adj, err := s.billing.Adjustments(ctx, customerID, from, to)
	if err != nil {
		return billing.ClosedPeriod{}, err
	}
	id, err := resource.NewID()
	if err != nil {
		return billing.ClosedPeriod{}, err
	}
	p := billing.ClosedPeriod{ID: id, CustomerID: customerID, Month: month, TimeZone: tz, From: from, To: to, CloseTime: now}
	if pr, ok := access.FromContext(ctx); ok {
		p.ClosedBy = pr.ID
	}
	err = s.store.InTx(ctx, func(tx Repository) error {
		if _, err := tx.GetClosedPeriod(ctx, customerID, month); err == nil {
			return apperr.AlreadyExists("closed period", customerID+"/"+month)
		} else if apperr.KindOf(err) != apperr.KindNotFound {
			return err
		}
		if err := tx.LockUsage(ctx); err != nil {
			return err
		}
		b, err := tx.Book(ctx)
		if err != nil {
			return err
		}
		b = billing.CustomerBook(b, customerID)
		if p.BookHash, err = billing.HashBook(b); err != nil {
			return err
		}
		j, err := billing.EncodeBook(b)
		if err != nil {
			return err
		}
		if err := tx.InsertClosedPeriod(ctx, p, j, adj); err != nil {
			return err
		}
		return access.Record(ctx, tx, now, ActionClose, ResourceType, customerID+"/"+month, nil, p)
	})
	if err != nil {
		return billing.ClosedPeriod{}, err
	}
	if tot, err := s.totals(ctx, p); err == nil {
		p.Totals = tot
	} // else ListClosedPeriods computes them later; the month is closed either way
	return p, nil
}

// totals rates the frozen month and stores its totals.
func (s *Service) totals(ctx context.Context, p billing.ClosedPeriod) ([]billing.Total, error) {
	sum, err := s.billing.QueryFunc(ctx, billing.Query{CustomerIDs: []string{p.CustomerID}, From: p.From, To: p.To,
		Granularity: rating.GranularityPeriod}, func([]billing.Line) error { return nil })
	if err != nil {
		return nil, err
	}
	err = s.store.InTx(ctx, func(tx Repository) error { return tx.SetTotals(ctx, p.ID, sum.Totals) })
	return sum.Totals, err
}

// Reopen gives a closed month back to live rating; reason is audited.
func (s *Service) Reopen(ctx context.Context, customerID, month, reason string) error {
	var v apperr.Invalid
	checkMonth(&v, customerID, month)
	if reason == "" || len(reason) > maxReasonSize {
		v.Add("reason", "must say why, in 1 to %d bytes", maxReasonSize)
	}
	if err := v.Err(); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Repository) error {
		p, err := tx.GetClosedPeriod(ctx, customerID, month)
		if err != nil {
			return err
		}
		later, ok, err := tx.LaterClosed(ctx, customerID, p.To)
		if err != nil {
			return err
		}
		if ok {
			return apperr.FailedPrecondition("%s of customer %q is closed after %s and may hold adjustments to it: reopen %s first",
				later, customerID, month, later)
		}
		if err := tx.DeleteClosedPeriod(ctx, p.ID); err != nil {
			return err
		}
		return access.Record(ctx, tx, resource.Now(s.clock), ActionReopen, ResourceType, customerID+"/"+month, p,
			Reopening{CustomerID: customerID, Month: month, Reason: reason})
	})
}

// List pages through a customer's closed months, oldest first. Totals not
// stored yet (a close whose rating failed) are computed and stored.
func (s *Service) List(ctx context.Context, customerID string, pageSize int, token string) ([]billing.ClosedPeriod, string, error) {
	var v apperr.Invalid
	resource.CheckID(&v, "customer_id", customerID, true)
	after := ""
	if token != "" {
		b, err := base64.RawURLEncoding.DecodeString(token)
		if _, perr := time.Parse(monthLayout, string(b)); err != nil || perr != nil {
			v.Add("page_token", "is not a token of this list")
		}
		after = string(b)
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	if pageSize <= 0 || pageSize > maxPageSize {
		pageSize = 100
	}
	var ps []billing.ClosedPeriod
	err := s.store.InTx(ctx, func(tx Repository) error {
		if _, err := tx.CustomerTimeZone(ctx, customerID); err != nil {
			return err
		}
		var err error
		ps, err = tx.ListClosedPeriods(ctx, customerID, after, pageSize+1)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(ps) > pageSize {
		ps = ps[:pageSize]
		next = base64.RawURLEncoding.EncodeToString([]byte(ps[pageSize-1].Month))
	}
	for i := range ps {
		if ps[i].Totals == nil {
			if ps[i].Totals, err = s.totals(ctx, ps[i]); err != nil {
				return nil, "", err
			}
		}
	}
	return ps, next, nil
}
