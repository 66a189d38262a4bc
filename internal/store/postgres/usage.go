package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/catalog"
	"github.com/billingd/billingd/internal/usage"
)

const (
	tableUsageRecords = "usage_records"

	colsUsageRecord = "idempotency_key, customer_id, metric_key, quantity, start_time, end_time, " +
		"resource_id, organisation_id, vdc_id, site, source, dimensions, receive_time"
)

const (
	sqlKnownCustomers = "SELECT id FROM " + tableCustomers + " WHERE id = ANY($1)"
	sqlMetricRules    = "SELECT key, aggregation, unique_dimension FROM " + tableMetrics + " WHERE key = ANY($1) AND expression = ''"

	// sqlKnownRecords returns the positions (from 1, ascending) of the
	// identities $2…$5 that are stored; $1 lists their customers. On Citus
	// the customers are of one shard, and "customer_id = ANY($1)" lets it
	// send the statement to that shard alone.
	sqlKnownRecords = `SELECT t.i FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::text[]) WITH ORDINALITY AS t(c, m, s, k, i)
		JOIN ` + tableUsageRecords + ` r ON r.customer_id = t.c AND r.metric_key = t.m AND r.start_time = t.s AND r.idempotency_key = t.k
		WHERE r.customer_id = ANY($1) AND r.start_time >= $6 AND r.start_time <= $7
		ORDER BY t.i`
	// sqlShardsOf returns the shard of usage_records each customer's rows are in (Citus only).
	sqlShardsOf = "SELECT c, get_shard_id_for_distribution_column('" + tableUsageRecords + "', c) FROM unnest($1::text[]) AS c"
	// sqlStageUsage is the last way's staging table, dropped at commit.
	sqlStageUsage = "CREATE TEMP TABLE usage_stage (LIKE " + tableUsageRecords + " INCLUDING DEFAULTS) ON COMMIT DROP"
	// sqlCopyStage loads the batch into usage_stage.
	sqlCopyStage = "COPY usage_stage (" + colsUsageRecord + ") FROM STDIN (FORMAT binary)"
	// sqlInsertNew stores the staged records whose identity is new and
	// returns those identities. A record another transaction holds
	// uncommitted makes this one wait for it, then skip the record if that
	// transaction committed.
	sqlInsertNew = "INSERT INTO " + tableUsageRecords + " SELECT * FROM usage_stage ORDER BY customer_id, metric_key, start_time, idempotency_key " +
		"ON CONFLICT DO NOTHING RETURNING customer_id, metric_key, start_time, idempotency_key"
)

// Usage returns the store as a usage.Repository. Call it once and keep the
// result: it remembers which monthly partitions exist.
// It also starts draining the hourly rollup log that earlier runs left.
func (s *Store) Usage() usage.Repository {
	u := &usageRepo{store: s, rollups: &rollupWorker{pool: s.pool, log: s.log, metrics: s.metrics, closed: &s.closed}}
	u.rollups.kick()
	return u
}

type usageRepo struct {
	store   *Store
	parts   partitions
	shards  shardCache
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

// MetricRules returns the aggregation and unique dimension of each of keys
// that exists.
func (u *usageRepo) MetricRules(ctx context.Context, keys []string) (map[string]usage.MetricRule, error) {
	rows, _ := u.store.pool.Query(ctx, sqlMetricRules, keys)
	out := make(map[string]usage.MetricRule, len(keys))
	var key, agg, dim string
	_, err := pgx.ForEachRow(rows, []any{&key, &agg, &dim}, func() error {
		a, ok := catalog.ParseAggregation(agg)
		if !ok {
			return fmt.Errorf("metric %q: unknown aggregation %q in database", key, agg)
		}
		out[key] = usage.MetricRule{Aggregation: a, UniqueDimension: dim}
		return nil
	})
	if err != nil {
		return nil, ingestErr(err, false)
	}
	return out, nil
}

// Insert stores the records whose identity (customer, metric, start,
// idempotency key) is new, in one transaction that COPYs them into
// usage_records, whose unique index on the usage.Identity is the dedupe
// authority (migration 0007), and marks the hours they fall in for the
// rollup worker (usage_rollup.go), which it kicks after the commit. When
// an identity repeats within records, the first is kept.
//
// It tries three ways, each after the one before met a stored record
// (a unique violation rolls its transaction back before anything stays):
//   - copyAll: every record is new, as it is unless a collector resends;
//   - copyUnknown: a resend: look the batch's identities up, COPY the
//     records not found;
//   - stageAll: a record found missing was being stored by another
//     transaction meanwhile: COPY the batch into a staging table and insert
//     from there with ON CONFLICT DO NOTHING, which waits for that
//     transaction and skips what it committed.
//
// A deadlock or serialization failure runs the transaction again (up to
// three times in all); a stale partition cache once more after a refresh.
func (u *usageRepo) Insert(ctx context.Context, records []usage.Record) (int, error) {
	if len(records) == 0 {
		return 0, nil
	}
	records = uniqueInBillingOrder(records)
	way := copyAll
	for attempt, refreshed := 1, false; ; attempt++ {
		accepted, err := u.insertOnce(ctx, records, way)
		switch {
		case err == nil:
			if accepted > 0 {
				u.rollups.kick()
			}
			return accepted, nil
		case way < stageAll && isUniqueViolation(err):
			way++
		case isNoPartition(err) && !refreshed:
			u.parts.forget()
			refreshed = true
		case retryInTx(err) && attempt < maxTxAttempts && ctx.Err() == nil:
		default:
			return 0, ingestErr(err, false)
		}
	}
}

// insertWay is how insertOnce stores a batch; see Insert.
type insertWay int

const (
	copyAll insertWay = iota
	copyUnknown
	stageAll
)

// insertOnce runs one transaction. Errors it returns are raw when Insert
// may retry them and mapped otherwise.
func (u *usageRepo) insertOnce(ctx context.Context, records []usage.Record, way insertWay) (int, error) {
	conn, err := u.store.pool.Acquire(ctx)
	if err != nil {
		return 0, ingestErr(err, false)
	}
	defer conn.Release()
	if err := u.parts.ensure(ctx, conn, monthsOf(records)); err != nil {
		return 0, ingestErr(err, conn.Conn().IsClosed())
	}
	var stored []usage.Record
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		var err error
		switch way {
		case copyAll:
			stored, err = records, copyRecords(ctx, tx, records)
		case copyUnknown:
			if stored, err = u.unknown(ctx, tx, records); err == nil {
				err = copyRecords(ctx, tx, stored)
			}
		default:
			stored, err = insertStaged(ctx, tx, records)
		}
		if err != nil || len(stored) == 0 {
			return err
		}
		if err := markLate(ctx, tx, stored); err != nil {
			return err
		}
		return markDirty(ctx, tx, stored)
	})
	if err != nil {
		if isNoPartition(err) || retryInTx(err) || isUniqueViolation(err) {
			return 0, err // Insert retries; it maps the error when it gives up
		}
		return 0, ingestErr(err, conn.Conn().IsClosed())
	}
	return len(stored), nil
}

const (
	// sqlClosedFor reads the closed months of customers $1 that records
	// starting in [$2, $3] can be late for (billing.Lookback before them).
	sqlClosedFor = `SELECT id::text, customer_id, start_time, end_time FROM closed_periods
		WHERE customer_id = ANY($1) AND end_time > $2 AND start_time <= $3::timestamptz + $4::interval`
	sqlInsertLate = `INSERT INTO usage_late (period_id, metric_key, start_time, idempotency_key)
		SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::text[]) ORDER BY 1, 2, 3, 4
		ON CONFLICT DO NOTHING`
)

// markLate lists in usage_late the stored records that a closed month
// reads (they start in it or up to billing.Lookback before it), so that
// the month stays as it was closed (migration 0011). It runs after the
// records were written, so tx holds ROW EXCLUSIVE on usage_records: a
// close (which takes SHARE) either committed before, and this read sees
// it, or waits for this transaction, and its month has the records.
func markLate(ctx context.Context, tx pgx.Tx, records []usage.Record) error {
	var customers []string
	lo, hi := records[0].Start, records[0].Start
	for i := range records {
		r := &records[i]
		if len(customers) == 0 || customers[len(customers)-1] != r.CustomerID {
			customers = append(customers, r.CustomerID) // billing order: a customer's records are neighbours
		}
		if r.Start.Before(lo) {
			lo = r.Start
		}
		if r.Start.After(hi) {
			hi = r.Start
		}
	}
	type closed struct {
		id, customer string
		from, to     time.Time
	}
	rows, _ := tx.Query(ctx, sqlClosedFor, customers, lo, hi, billing.Lookback)
	periods, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (closed, error) {
		var p closed
		err := row.Scan(&p.id, &p.customer, &p.from, &p.to)
		return p, err
	})
	if err != nil || len(periods) == 0 {
		return err
	}
	var ids, metrics, keys []string
	var starts []time.Time
	for i := range records {
		r := &records[i]
		for _, p := range periods {
			if p.customer == r.CustomerID && !r.Start.Before(p.from.Add(-billing.Lookback)) && r.Start.Before(p.to) {
				ids, metrics, starts, keys = append(ids, p.id), append(metrics, r.MetricKey), append(starts, r.Start), append(keys, r.Key)
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	_, err = tx.Exec(ctx, sqlInsertLate, ids, metrics, starts, keys)
	return err
}

// copyRecords COPYs records into usage_records; one that is stored already
// fails it with a unique violation.
func copyRecords(ctx context.Context, tx pgx.Tx, records []usage.Record) error {
	if len(records) == 0 {
		return nil
	}
	tag, err := tx.Conn().PgConn().CopyFrom(ctx, &copyEncoder{records: records}, sqlCopyRecords)
	if n := tag.RowsAffected(); err == nil && int(n) != len(records) {
		err = fmt.Errorf("usage: copied %d of %d records", n, len(records))
	}
	return err
}

// unknown returns the records whose identity is not stored (as tx sees it),
// in their order. It looks the identities up with one statement per shard
// (on one node: one in all), all sent in one round trip: on Citus one
// statement over the whole batch would join it with every shard.
func (u *usageRepo) unknown(ctx context.Context, tx pgx.Tx, records []usage.Record) ([]usage.Record, error) {
	shardOf, err := u.shards.of(ctx, tx, records, u.store.citus)
	if err != nil {
		return nil, err
	}
	type group struct {
		customers, cs, metrics, keys []string
		starts                       []time.Time
		at                           []int // positions in records
	}
	var groups []*group
	byShard := map[int64]*group{}
	for i := range records {
		r := &records[i]
		g := byShard[shardOf[r.CustomerID]]
		if g == nil {
			g = &group{}
			byShard[shardOf[r.CustomerID]] = g
			groups = append(groups, g)
		}
		if n := len(g.customers); n == 0 || g.customers[n-1] != r.CustomerID { // billing order: a customer's records are neighbours
			g.customers = append(g.customers, r.CustomerID)
		}
		g.cs, g.metrics, g.starts, g.keys = append(g.cs, r.CustomerID), append(g.metrics, r.MetricKey), append(g.starts, r.Start), append(g.keys, r.Key)
		g.at = append(g.at, i)
	}
	var batch pgx.Batch
	for _, g := range groups {
		lo, hi := slices.MinFunc(g.starts, time.Time.Compare), slices.MaxFunc(g.starts, time.Time.Compare)
		batch.Queue(sqlKnownRecords, g.customers, g.cs, g.metrics, g.starts, g.keys, lo, hi)
	}
	results := tx.SendBatch(ctx, &batch)
	defer results.Close()
	known := make([]bool, len(records))
	for _, g := range groups {
		rows, _ := results.Query()
		pos, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return nil, err
		}
		for _, p := range pos {
			known[g.at[p-1]] = true
		}
	}
	if err := results.Close(); err != nil {
		return nil, err
	}
	out := make([]usage.Record, 0, len(records))
	for i := range records {
		if !known[i] {
			out = append(out, records[i])
		}
	}
	return out, nil
}

// shardCache remembers the Citus shard of each customer's usage, to group
// a resend's lookups by shard. A stale entry (after shards were split or
// moved) costs only speed: the lookup is exact whichever shards it reads.
type shardCache struct {
	mu    sync.Mutex
	known map[string]int64
}

// of returns the shard of each customer of records (all 0 without Citus).
func (c *shardCache) of(ctx context.Context, tx pgx.Tx, records []usage.Record, citus bool) (map[string]int64, error) {
	out := map[string]int64{}
	if !citus {
		return out, nil
	}
	c.mu.Lock()
	var missing []string
	for i := range records {
		id := records[i].CustomerID
		if _, done := out[id]; done {
			continue
		}
		if s, ok := c.known[id]; ok {
			out[id] = s
		} else if !slices.Contains(missing, id) {
			missing = append(missing, id)
		}
	}
	c.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	rows, _ := tx.Query(ctx, sqlShardsOf, missing)
	var (
		id    string
		shard int64
	)
	_, err := pgx.ForEachRow(rows, []any{&id, &shard}, func() error { out[id] = shard; return nil })
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.known == nil {
		c.known = map[string]int64{}
	}
	for _, id := range missing {
		c.known[id] = out[id]
	}
	return out, nil
}

// insertStaged stores, in tx, the records whose identity is not stored yet
// and returns them, in their order.
func insertStaged(ctx context.Context, tx pgx.Tx, records []usage.Record) ([]usage.Record, error) {
	if _, err := tx.Exec(ctx, sqlStageUsage); err != nil {
		return nil, err
	}
	if _, err := tx.Conn().PgConn().CopyFrom(ctx, &copyEncoder{records: records}, sqlCopyStage); err != nil {
		return nil, err
	}
	rows, _ := tx.Query(ctx, sqlInsertNew)
	inserted := make(map[usage.Identity]struct{}, len(records))
	var (
		id    usage.Identity
		start time.Time
	)
	_, err := pgx.ForEachRow(rows, []any{&id.CustomerID, &id.MetricKey, &start, &id.Key}, func() error {
		id.Start = start.UnixMicro()
		inserted[id] = struct{}{}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]usage.Record, 0, len(inserted))
	for i := range records {
		if _, ok := inserted[records[i].Identity()]; ok {
			out = append(out, records[i])
		}
	}
	return out, nil
}

// uniqueInBillingOrder returns the records in the order to copy them in,
// by customer, metric, start and key (the unique index's order), and of
// records with one identity only the first. A batch of many customers then
// lands in the heap one customer after another, so a customer's month is
// read from far fewer pages than if its records were spread over every
// page of the batch; index insertions come in key order; and two
// transactions with overlapping batches wait on each other's records in
// one order, so they do not deadlock. Sorting brings repeats together, so
// no map is needed to find them.
func uniqueInBillingOrder(records []usage.Record) []usage.Record {
	order := make([]int, len(records))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return compareIdentity(&records[a], &records[b]) })
	out := make([]usage.Record, 0, len(records))
	for i, j := range order {
		if i > 0 && compareIdentity(&records[order[i-1]], &records[j]) == 0 {
			continue // stable: the first of the identity came before
		}
		out = append(out, records[j])
	}
	return out
}

func compareIdentity(x, y *usage.Record) int {
	if c := strings.Compare(x.CustomerID, y.CustomerID); c != 0 {
		return c
	}
	if c := strings.Compare(x.MetricKey, y.MetricKey); c != 0 {
		return c
	}
	if c := cmp.Compare(x.Start.UnixMicro(), y.Start.UnixMicro()); c != 0 {
		return c
	}
	return strings.Compare(x.Key, y.Key)
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
