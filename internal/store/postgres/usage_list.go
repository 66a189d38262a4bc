package postgres

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/usage"
)

// usageCursor is the keyset position of a usage page: the last record's
// (start_time, idempotency_key), the order the list is in.
type usageCursor struct {
	start time.Time
	key   string
}

// The token is base64url of the start in Unix microseconds (8 bytes, big
// endian) followed by the key; opaque to clients.
func (c usageCursor) token() string {
	b := binary.BigEndian.AppendUint64(nil, uint64(c.start.UnixMicro()))
	return base64.RawURLEncoding.EncodeToString(append(b, c.key...))
}

var errNotOurToken = apperr.InvalidField("page_token", "is not a token this server issued")

func parseUsageCursor(token string) (usageCursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) < 9 || !validText(b[8:]) {
		return usageCursor{}, errNotOurToken
	}
	c := usageCursor{
		start: time.UnixMicro(int64(binary.BigEndian.Uint64(b[:8]))).UTC(),
		key:   string(b[8:]),
	}
	// PostgreSQL's timestamptz ends in year 294276; the records' starts
	// lie well inside years 1–9999.
	if c.start.Year() < 1 || c.start.Year() > 9999 {
		return usageCursor{}, errNotOurToken
	}
	return c, nil
}

// List returns one page of records in (start_time, idempotency_key) order.
// Only the filters given become conditions, so the planner sees constants:
// it prunes partitions by the window and uses the (customer_id, metric_key,
// start_time) index when a customer is given.
func (u *usageRepo) List(ctx context.Context, p usage.ListParams) ([]usage.Record, string, error) {
	pg, err := newPage(p.PageSize, "")
	if err != nil {
		return nil, "", err
	}
	var (
		conds []string
		args  []any
	)
	where := func(cond string, arg ...any) {
		for _, a := range arg {
			args = append(args, a)
			cond = strings.Replace(cond, "?", fmt.Sprintf("$%d", len(args)), 1)
		}
		conds = append(conds, cond)
	}
	if p.CustomerID != "" {
		where("customer_id = ?", p.CustomerID)
	}
	if p.MetricKey != "" {
		where("metric_key = ?", p.MetricKey)
	}
	if p.ResourceID != "" {
		where("resource_id = ?", p.ResourceID)
	}
	if !p.From.IsZero() {
		where("start_time >= ?", p.From)
	}
	if !p.To.IsZero() {
		where("start_time < ?", p.To)
	}
	if p.PageToken != "" {
		c, err := parseUsageCursor(p.PageToken)
		if err != nil {
			return nil, "", err
		}
		where("(start_time, idempotency_key) > (?, ?)", c.start, c.key)
	}
	sql := "SELECT " + colsUsageRecord + " FROM " + tableUsageRecords
	if len(conds) > 0 {
		sql += " WHERE " + strings.Join(conds, " AND ")
	}
	args = append(args, pg.limit+1)
	sql += fmt.Sprintf(" ORDER BY start_time, idempotency_key LIMIT $%d", len(args))

	rows, err := u.store.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, "", ingestErr(err, false)
	}
	recs, err := pgx.CollectRows(rows, scanUsageRecord)
	if err != nil {
		return nil, "", ingestErr(err, false)
	}
	if len(recs) <= pg.limit {
		return recs, "", nil
	}
	recs = recs[:pg.limit]
	last := recs[len(recs)-1]
	return recs, usageCursor{start: last.Start, key: last.Key}.token(), nil
}

func scanUsageRecord(row pgx.CollectableRow) (usage.Record, error) {
	var r usage.Record
	err := row.Scan(&r.Key, &r.CustomerID, &r.MetricKey, &r.Quantity, &r.Start, &r.End,
		&r.ResourceID, &r.OrganisationID, &r.VdcID, &r.Site, &r.Source, &r.Dimensions, &r.ReceiveTime)
	r.Start, r.End, r.ReceiveTime = r.Start.UTC(), r.End.UTC(), r.ReceiveTime.UTC()
	if r.Dimensions == nil {
		r.Dimensions = map[string]string{}
	}
	return r, err
}
