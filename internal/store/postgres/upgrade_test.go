package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/billingd/billingd/internal/store/postgres/pgtest"
	"github.com/billingd/billingd/internal/usage"
)

// TestUpgradeFrom0006MovesUsageToItsIdentity writes usage as the schema of
// migration 0006 held it (keys in usage_keys, a rolled-up dense hour, sparse
// hours marked raw, a dirty hour, a record listed late for a closed month),
// then migrates, and checks that 0007-0009 carried all of it over: the late
// record by its identity, rolled hours marked, the dirty hour as a run,
// every stored record a duplicate when resent, and rollups exact after the
// drain.
func TestUpgradeFrom0006MovesUsageToItsIdentity(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := usageDBAt(t, pgtest.NewEmptyDatabase(t))
	st, conn := db.store, db.conn
	if err := st.MigrateTo(ctx, 6); err != nil {
		t.Fatal(err)
	}

	day := time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC)
	at := func(key, resource string, hour, minute int, q int64) usage.Record {
		ts := day.Add(time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute)
		return usage.Record{Key: key, CustomerID: "acme", MetricKey: "vm.vcpu", Quantity: decimal.NewFromInt(q),
			Start: ts, End: ts, ResourceID: resource, Dimensions: map[string]string{}, ReceiveTime: ts}
	}
	records := []usage.Record{
		at("k1", "vm-1", 10, 0, 2), at("k2", "vm-1", 10, 30, 4), // 10:00: dense, rolled up
		at("k3", "vm-2", 11, 15, 8),  // 11:00: sparse, marked raw
		at("k4", "vm-3", 12, 10, 16), // 12:00: dirty, not drained yet
		at("k5", "vm-1", 33, 0, 32),  // the next day 09:00: late for the closed October
	}
	for _, sql := range []string{
		`INSERT INTO customers (id, display_name, create_time, update_time) VALUES ('acme', 'Acme', now(), now())`,
		`CREATE TABLE usage_records_2026_10 PARTITION OF usage_records FOR VALUES FROM ('2026-10-01') TO ('2026-11-01')`,
		`INSERT INTO closed_periods (id, customer_id, month, time_zone, start_time, end_time, close_time, closed_by, book, book_hash)
			VALUES ('00000000-0000-0000-0000-000000000001', 'acme', '2026-10', 'UTC', '2026-10-01', '2026-11-01', '2026-11-02', 'test', '{}', 'x')`,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	for _, r := range records {
		if _, err := conn.Exec(ctx, `INSERT INTO usage_keys (idempotency_key, receive_time) VALUES ($1, $2)`, r.Key, r.ReceiveTime); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, `INSERT INTO usage_records (idempotency_key, customer_id, metric_key, quantity, start_time, end_time, resource_id, receive_time)
			VALUES ($1, $2, $3, $4, $5, $5, $6, $7)`, r.Key, r.CustomerID, r.MetricKey, r.Quantity, r.Start, r.ResourceID, r.ReceiveTime); err != nil {
			t.Fatal(err)
		}
	}
	hour := func(h int) time.Time { return day.Add(time.Duration(h) * time.Hour) }
	// The trigger of 0005 listed k5 late (inserted after the close); the worker of 0006 drained all but 12:00.
	if _, err := conn.Exec(ctx, `SELECT usage_hourly_recompute(ARRAY['acme','acme','acme'], ARRAY['vm.vcpu','vm.vcpu','vm.vcpu'], ARRAY[$1, $2, $3]::timestamptz[])`,
		hour(10), hour(11), hour(33)); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO usage_hourly_dirty (customer_id, metric_key, hour) VALUES ('acme', 'vm.vcpu', $1)`, hour(12)); err != nil {
		t.Fatal(err)
	}
	if n := db.count(t, "SELECT count(*)::int FROM usage_late"); n != 5 {
		// every record was inserted after the close: the 0005 trigger listed each
		t.Fatalf("%d records listed late before the upgrade, want 5", n)
	}
	if n := db.count(t, "SELECT count(*)::int FROM usage_hourly_raw"); n != 2 {
		t.Fatalf("%d hours marked raw before the upgrade, want 2 (11:00 and the next day's 09:00)", n)
	}

	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}

	if n := db.count(t, "SELECT count(*)::int FROM pg_class WHERE relname IN ('usage_keys', 'usage_hourly_raw')"); n != 0 {
		t.Errorf("%d of usage_keys and usage_hourly_raw left", n)
	}
	if n := db.count(t, `SELECT count(*)::int FROM usage_late l JOIN usage_records r
		USING (metric_key, start_time, idempotency_key) WHERE r.customer_id = 'acme'`); n != 5 {
		t.Errorf("%d late records found by their identity, want 5", n)
	}
	if n := db.count(t, "SELECT count(*)::int FROM usage_hourly_rolled WHERE hour = $1", hour(10)); n != 1 {
		t.Errorf("the rolled-up hour has %d marks, want 1", n)
	}
	if n := db.count(t, "SELECT count(*)::int FROM usage_hourly_rolled"); n != 1 {
		t.Errorf("%d hours marked rolled, want only 10:00", n)
	}
	if n := db.count(t, "SELECT count(*)::int FROM usage_hourly_dirty WHERE first_hour = $1 AND last_hour = $1", hour(12)); n != 1 {
		t.Errorf("the dirty hour became %d runs of itself, want 1", n)
	}
	repo := st.Usage()
	if got, err := repo.Insert(ctx, records); err != nil || got != 0 {
		t.Fatalf("resending the records stored before the upgrade: %d stored, %v; want all duplicates", got, err)
	}
	db.wantStored(t, len(records))
	db.wantExactRollups(t)
}
