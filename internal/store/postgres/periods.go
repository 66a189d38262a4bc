package postgres

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/period"
)

// Closed periods (migration 0005_closed_periods): the months, their frozen
// books, the usage inserted after closing (usage_late, filled by the ingest
// transaction: markLate in usage.go) and the adjustments frozen with them.
const (
	colsClosedPeriod = `p.id::text, p.customer_id, p.month, p.time_zone, p.start_time, p.end_time, p.close_time,
		p.closed_by, p.book_hash, p.totals, (SELECT count(*) FROM usage_late l WHERE l.period_id = p.id)`

	sqlClosedPeriodsAll  = "SELECT " + colsClosedPeriod + " FROM closed_periods p ORDER BY p.customer_id, p.start_time"
	sqlClosedPeriodsSome = "SELECT " + colsClosedPeriod + " FROM closed_periods p WHERE p.customer_id = ANY($1) ORDER BY p.customer_id, p.start_time"
	sqlClosedPeriod      = "SELECT " + colsClosedPeriod + " FROM closed_periods p WHERE p.customer_id = $1 AND p.month = $2"
	sqlClosedPeriodsPage = "SELECT " + colsClosedPeriod + ` FROM closed_periods p
		WHERE p.customer_id = $1 AND p.month > $2 ORDER BY p.month LIMIT $3`
	sqlLaterClosed = "SELECT month FROM closed_periods WHERE customer_id = $1 AND start_time >= $2 ORDER BY start_time LIMIT 1"

	sqlFrozenBook = "SELECT book::text FROM closed_periods WHERE id = $1"

	sqlInsertClosedPeriod = `INSERT INTO closed_periods (id, customer_id, month, time_zone, start_time, end_time, close_time, closed_by, book, book_hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`
	sqlInsertAdjustment  = "INSERT INTO period_adjustments (period_id, seq, adjusted_month, cause, line) VALUES ($1, $2, $3, $4, $5)"
	sqlBookedAdjustments = `SELECT a.period_id::text, a.line::text FROM period_adjustments a
		JOIN closed_periods p ON p.id = a.period_id WHERE p.customer_id = $1 ORDER BY p.start_time, a.seq`
	sqlDeleteClosedPeriod = "DELETE FROM closed_periods WHERE id = $1"
	sqlSetTotals          = "UPDATE closed_periods SET totals = $2 WHERE id = $1"
	sqlCustomerTimeZone   = "SELECT billing_time_zone FROM " + tableCustomers + " WHERE id = $1"

	// Ingest transactions take ROW EXCLUSIVE on usage_records; SHARE waits for
	// those in flight and holds new ones off until the close commits.
	sqlLockUsage = "LOCK TABLE usage_records IN SHARE MODE"
	// lockTimeout bounds the wait for ingestion in flight.
	lockTimeout = "SET LOCAL lock_timeout = '30s'"
)

// sqlScanFrozen is sqlScanUsage without the records listed late for the
// closed period $7: each branch reads usage_records through an anti-join
// with usage_late. (Citus refuses the correlated NOT EXISTS over the
// reference table usage_late that this was; the join runs on the worker
// that holds the customer's records, in one snapshot there.)
var sqlScanFrozen = strings.ReplaceAll(sqlScanUsage, "FROM "+billingUsageTable+"\n",
	"FROM (SELECT r.* FROM "+billingUsageTable+" r LEFT JOIN usage_late l ON l.period_id = $7 AND l.metric_key = r.metric_key\n"+
		"\t\t\tAND l.start_time = r.start_time AND l.idempotency_key = r.idempotency_key\n"+
		"\t\t\tWHERE l.period_id IS NULL AND r.customer_id = $1) AS "+billingUsageTable+"\n")

// storedTotal is a total as closed_periods.totals holds it.
type storedTotal struct {
	Currency string          `json:"currency"`
	Amount   decimal.Decimal `json:"amount"`
	Lines    int             `json:"lines"`
}

func scanClosedPeriod(row pgx.CollectableRow) (billing.ClosedPeriod, error) {
	var (
		p      billing.ClosedPeriod
		totals []byte
	)
	err := row.Scan(&p.ID, &p.CustomerID, &p.Month, &p.TimeZone, &p.From, &p.To, &p.CloseTime, &p.ClosedBy, &p.BookHash, &totals, &p.LateRecords)
	if err != nil {
		return p, err
	}
	if loc, err := time.LoadLocation(p.TimeZone); err == nil {
		p.From, p.To = p.From.In(loc), p.To.In(loc)
	}
	p.CloseTime = p.CloseTime.UTC()
	if totals != nil {
		var ts []storedTotal
		if err := json.Unmarshal(totals, &ts); err != nil {
			return p, err
		}
		p.Totals = make([]billing.Total, len(ts))
		for i, t := range ts {
			p.Totals[i] = billing.Total{Currency: t.Currency, Amount: t.Amount, Lines: t.Lines}
		}
	}
	return p, nil
}

// ClosedPeriods reads the closed months of these customers, or of all.
func (b billingReader) ClosedPeriods(ctx context.Context, ids []string) ([]billing.ClosedPeriod, error) {
	var (
		rows pgx.Rows
		err  error
	)
	if len(ids) == 0 {
		rows, err = b.s.pool.Query(ctx, sqlClosedPeriodsAll)
	} else {
		rows, err = b.s.pool.Query(ctx, sqlClosedPeriodsSome, ids)
	}
	if err != nil {
		return nil, mapErr(err)
	}
	ps, err := pgx.CollectRows(rows, scanClosedPeriod)
	return ps, mapErr(err)
}

// FrozenBook reads the price book a closed month froze.
func (b billingReader) FrozenBook(ctx context.Context, periodID string) (billing.Book, error) {
	var j string
	if err := b.s.pool.QueryRow(ctx, sqlFrozenBook, periodID).Scan(&j); err != nil {
		return billing.Book{}, mapErrFor(err, opRead, target{"closed period", periodID})
	}
	book, err := billing.DecodeBook([]byte(j))
	if err != nil {
		return billing.Book{}, apperr.Wrap(apperr.KindInternal, err, "closed period %s", periodID)
	}
	return book, nil
}

// ScanFrozenUsage reads raw records (rollups include late records), leaving
// out those listed late for the period. It is one statement on purpose: a
// separate "is anything late?" check would see the state before a batch
// committed and the scan the state after it, counting that batch's records
// though they are late.
func (b billingReader) ScanFrozenUsage(ctx context.Context, periodID string, w billing.UsageWindow, fn func(*billing.UsageRow) error) error {
	if len(w.Metrics) == 0 {
		return nil
	}
	return b.scan(ctx, sqlScanFrozen, w, fn, periodID)
}

// BookedAdjustments reads the adjustments frozen with a customer's closed months.
func (b billingReader) BookedAdjustments(ctx context.Context, customerID string) ([]billing.BookedAdjustment, error) {
	rows, err := b.s.pool.Query(ctx, sqlBookedAdjustments, customerID)
	if err != nil {
		return nil, mapErr(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (billing.BookedAdjustment, error) {
		var (
			a billing.BookedAdjustment
			j string
		)
		if err := row.Scan(&a.PeriodID, &j); err != nil {
			return a, err
		}
		err := json.Unmarshal([]byte(j), &a.Adjustment)
		return a, err
	})
	return out, mapErr(err)
}

// Periods returns the store as the period service's store.
func (s *Store) Periods() period.Store { return periodStore{s} }

type periodStore struct{ *Store }

func (s periodStore) InTx(ctx context.Context, fn func(period.Repository) error) error {
	return s.Store.InTx(ctx, func(tx *Tx) error { return fn(&tx.repo) })
}

var _ period.Repository = (*repo)(nil)

func (r *repo) CustomerTimeZone(ctx context.Context, customerID string) (string, error) {
	var tz string
	if err := r.q.QueryRow(ctx, sqlCustomerTimeZone, customerID).Scan(&tz); err != nil {
		return "", mapErrFor(err, opRead, target{"customer", customerID})
	}
	if tz == "" {
		tz = "UTC"
	}
	return tz, nil
}

func (r *repo) LockUsage(ctx context.Context) error {
	if _, err := r.q.Exec(ctx, lockTimeout); err != nil {
		return mapErr(err)
	}
	if _, err := r.q.Exec(ctx, sqlLockUsage); err != nil {
		if apperr.KindOf(mapErr(err)) == apperr.KindInternal {
			return apperr.Wrap(apperr.KindUnavailable, err, "usage ingestion kept the usage tables busy for 30 s; try again")
		}
		return mapErr(err)
	}
	return nil
}

func (r *repo) Book(ctx context.Context) (billing.Book, error) {
	b, err := readBook(ctx, r.q)
	return b, mapErr(err)
}

func (r *repo) InsertClosedPeriod(ctx context.Context, p billing.ClosedPeriod, book []byte, adj []billing.Adjustment) error {
	t := target{"closed period", p.CustomerID + "/" + p.Month}
	_, err := r.q.Exec(ctx, sqlInsertClosedPeriod, p.ID, p.CustomerID, p.Month, p.TimeZone, p.From, p.To, p.CloseTime, p.ClosedBy, string(book), p.BookHash)
	if err != nil {
		return mapErrFor(err, opWrite, t)
	}
	for i, a := range adj {
		j, err := json.Marshal(a)
		if err != nil {
			return apperr.Wrap(apperr.KindInternal, err, "adjustment %d", i)
		}
		if _, err := r.q.Exec(ctx, sqlInsertAdjustment, p.ID, i, a.AdjustedMonth, int16(a.AdjustmentCause), string(j)); err != nil {
			return mapErrFor(err, opWrite, t)
		}
	}
	return nil
}

func (r *repo) GetClosedPeriod(ctx context.Context, customerID, month string) (billing.ClosedPeriod, error) {
	rows, err := r.q.Query(ctx, sqlClosedPeriod, customerID, month)
	if err != nil {
		return billing.ClosedPeriod{}, mapErr(err)
	}
	p, err := pgx.CollectExactlyOneRow(rows, scanClosedPeriod)
	return p, mapErrFor(err, opRead, target{"closed period", customerID + "/" + month})
}

func (r *repo) LaterClosed(ctx context.Context, customerID string, t time.Time) (string, bool, error) {
	var m string
	err := r.q.QueryRow(ctx, sqlLaterClosed, customerID, t).Scan(&m)
	if err == pgx.ErrNoRows {
		return "", false, nil
	}
	return m, err == nil, mapErr(err)
}

func (r *repo) DeleteClosedPeriod(ctx context.Context, id string) error {
	return r.exec(ctx, opWrite, target{"closed period", id}, sqlDeleteClosedPeriod, id)
}

func (r *repo) SetTotals(ctx context.Context, id string, totals []billing.Total) error {
	ts := make([]storedTotal, len(totals))
	for i, t := range totals {
		ts[i] = storedTotal{Currency: t.Currency, Amount: t.Amount, Lines: t.Lines}
	}
	j, err := json.Marshal(ts)
	if err != nil {
		return apperr.Wrap(apperr.KindInternal, err, "totals")
	}
	return r.exec(ctx, opWrite, target{"closed period", id}, sqlSetTotals, id, string(j))
}

func (r *repo) ListClosedPeriods(ctx context.Context, customerID, afterMonth string, limit int) ([]billing.ClosedPeriod, error) {
	rows, err := r.q.Query(ctx, sqlClosedPeriodsPage, customerID, afterMonth, limit)
	if err != nil {
		return nil, mapErr(err)
	}
	ps, err := pgx.CollectRows(rows, scanClosedPeriod)
	return ps, mapErr(err)
}
