package postgres

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/catalog"
	"github.com/billingd/billingd/internal/usage"
)

const (
	tableUsageKeys    = "usage_keys"
	tableUsageRecords = "usage_records"

	colsUsageRecord = "idempotency_key, customer_id, metric_key, quantity, start_time, end_time, " +
		"resource_id, organisation_id, vdc_id, site, source, dimensions, receive_time"
)

const (
	sqlKnownCustomers     = "SELECT id FROM " + tableCustomers + " WHERE id = ANY($1)"
	sqlMetricAggregations = "SELECT key, aggregation FROM " + tableMetrics + " WHERE key = ANY($1)"

	// sqlClaimKeys claims the keys of a batch that are all new (the fast
	// path): COPY writes them with multi-row heap inserts, and a key that
	// exists fails it with a unique violation. Keys come sorted, so two
	// transactions with overlapping batches wait on each other in one order
	// and never deadlock.
	sqlClaimKeys = "COPY " + tableUsageKeys + " (idempotency_key, receive_time) FROM STDIN (FORMAT binary)"
	// sqlClaimNewKeys claims the keys of a batch that are new and returns
	// them. A key another transaction holds uncommitted makes this one wait
	// for it, then skip the key if that transaction committed.
	sqlClaimNewKeys = "INSERT INTO " + tableUsageKeys + ` (idempotency_key, receive_time)
		SELECT * FROM unnest($1::text[], $2::timestamptz[]) ON CONFLICT DO NOTHING RETURNING idempotency_key`
)

// Usage returns the store as a usage.Repository. Call it once and keep the
// result: it remembers which monthly partitions exist.
// It also starts draining the hourly rollup log that earlier runs left.
func (s *Store) Usage() usage.Repository {
	u := &usageRepo{store: s, rollups: &rollupWorker{pool: s.pool}}
	u.rollups.kick()
	return u
}

type usageRepo struct {
	store   *Store
	parts   partitions
	rollups *rollupWorker
}

var _ usage.Repository = (*usageRepo)(nil)

// KnownCustomers returns which of ids exist.
func (u *usageRepo) KnownCustomers(ctx context.Context, ids []string) (map[string]bool, error) {
	rows, _ := u.store.pool.Query(ctx, sqlKnownCustomers, ids)
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, ingestErr(err, false)
	}
	out := make(map[string]bool, len(found))
	for _, id := range found {
		out[id] = true
	}
	return out, nil
}

// MetricAggregations returns the aggregation of each of keys that exists.
func (u *usageRepo) MetricAggregations(ctx context.Context, keys []string) (map[string]catalog.Aggregation, error) {
	rows, _ := u.store.pool.Query(ctx, sqlMetricAggregations, keys)
	out := make(map[string]catalog.Aggregation, len(keys))
	var key, agg string
	_, err := pgx.ForEachRow(rows, []any{&key, &agg}, func() error {
		a, ok := catalog.ParseAggregation(agg)
		if !ok {
			return fmt.Errorf("metric %q: unknown aggregation %q in database", key, agg)
		}
		out[key] = a
		return nil
	})
	if err != nil {
		return nil, ingestErr(err, false)
	}
	return out, nil
}

// Insert stores the records whose keys are new, in one transaction that
// claims their keys in usage_keys, COPYs the records into usage_records and
// marks the hours they fall in for the rollup worker (usage_rollup.go),
// which it kicks after the commit.
// When keys repeat within records, the first is kept.
//
// The fast path assumes every key is new, as it is unless a collector
// resends: a plain INSERT of the keys costs less than half of an INSERT …
// ON CONFLICT (no speculative insertion), and with nothing to filter the
// records go to COPY as they are. When a key exists the transaction is
// rolled back before anything else is written and the batch runs again on
// the slow path, which claims the new keys with ON CONFLICT DO NOTHING and
// COPYs only their records. A deadlock or serialization failure runs the
// transaction again (up to three times in all); a stale partition cache
// once more after a refresh.
func (u *usageRepo) Insert(ctx context.Context, records []usage.Record) (int, error) {
	records = firstOfEachKey(records)
	if len(records) == 0 {
		return 0, nil
	}
	keys, times := sortedKeys(records)
	order := billingOrder(records)
	onlyNew := true // try the fast path first
	for attempt, refreshed := 1, false; ; attempt++ {
		accepted, err := u.insertOnce(ctx, records, order, keys, times, onlyNew)
		switch {
		case err == nil:
			if accepted > 0 {
				u.rollups.kick()
			}
			return accepted, nil
		case onlyNew && isUniqueViolation(err):
			onlyNew = false
		case isNoPartition(err) && !refreshed:
			u.parts.forget()
			refreshed = true
		case retryInTx(err) && attempt < maxTxAttempts && ctx.Err() == nil:
		default:
			return 0, ingestErr(err, false)
		}
	}
}

// insertOnce runs one transaction. Errors it returns are raw when Insert
// may retry them and mapped otherwise.
func (u *usageRepo) insertOnce(ctx context.Context, records []usage.Record, order []int, keys []string, times []time.Time, onlyNew bool) (int, error) {
	conn, err := u.store.pool.Acquire(ctx)
	if err != nil {
		return 0, ingestErr(err, false)
	}
	defer conn.Release()
	if err := u.parts.ensure(ctx, conn, monthsOf(records)); err != nil {
		return 0, ingestErr(err, conn.Conn().IsClosed())
	}
	stored := len(records)
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		src := &copyEncoder{records: records, order: order}
		if onlyNew {
			if _, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(encodeKeys(keys, times)), sqlClaimKeys); err != nil {
				return err
			}
		} else {
			rows, _ := tx.Query(ctx, sqlClaimNewKeys, keys, times)
			claimed, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			src.keep = make(map[string]struct{}, len(claimed))
			for _, k := range claimed {
				src.keep[k] = struct{}{}
			}
			stored = len(claimed)
			if stored == 0 {
				return nil
			}
		}
		tag, err := tx.Conn().PgConn().CopyFrom(ctx, src, sqlCopyRecords)
		if n := tag.RowsAffected(); err == nil && int(n) != stored {
			err = fmt.Errorf("usage: copied %d records for %d claimed keys", n, stored)
		}
		if err != nil {
			return err
		}
		return markDirty(ctx, tx, records, src.keep)
	})
	if err != nil {
		if isNoPartition(err) || retryInTx(err) || isUniqueViolation(err) {
			return 0, err // Insert retries; it maps the error when it gives up
		}
		return 0, ingestErr(err, conn.Conn().IsClosed())
	}
	return stored, nil
}

// sortedKeys returns the records' keys in byte order (COLLATE "C") with
// their receive times, the order in which they are claimed.
func sortedKeys(records []usage.Record) ([]string, []time.Time) {
	order := make([]int, len(records))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(records[a].Key, records[b].Key) })
	keys, times := make([]string, len(records)), make([]time.Time, len(records))
	for i, o := range order {
		keys[i], times[i] = records[o].Key, records[o].ReceiveTime
	}
	return keys, times
}

// billingOrder is the order to copy records in: by customer, metric and
// start, as billing reads them. A batch of many customers then lands in
// the heap one customer after another, so a customer's month is read from
// far fewer pages than if its records were spread over every page of the
// batch, and index insertions come in key order.
func billingOrder(records []usage.Record) []int {
	order := make([]int, len(records))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		x, y := &records[a], &records[b]
		if c := strings.Compare(x.CustomerID, y.CustomerID); c != 0 {
			return c
		}
		if c := strings.Compare(x.MetricKey, y.MetricKey); c != 0 {
			return c
		}
		return x.Start.Compare(y.Start)
	})
	return order
}

// firstOfEachKey drops records whose key an earlier record has; it copies
// only when there is something to drop.
func firstOfEachKey(records []usage.Record) []usage.Record {
	seen := make(map[string]struct{}, len(records))
	var out []usage.Record // nil until the first repeat
	for i, r := range records {
		if _, dup := seen[r.Key]; dup {
			if out == nil {
				out = slices.Clone(records[:i])
			}
			continue
		}
		seen[r.Key] = struct{}{}
		if out != nil {
			out = append(out, r)
		}
	}
	if out == nil {
		return records
	}
	return out
}

// appendJSONObject appends m as a JSON object with sorted keys. It is
// json.Marshal without reflection: the hot path encodes one map per record.
func appendJSONObject(b []byte, m map[string]string) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = appendJSONString(b, m[k])
	}
	return append(b, '}')
}

// appendJSONString quotes s (valid UTF-8, as the service guarantees) as a
// JSON string: quote, backslash and control characters are escaped, the
// rest is copied.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\t':
			b = append(b, '\\', 't')
		case '\r':
			b = append(b, '\\', 'r')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
