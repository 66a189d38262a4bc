package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/billingd/billingd/internal/usage"
)

// hourlySnapshot is usage_hourly as text, row by row.
func (db *usageDB) hourlySnapshot(t *testing.T) map[string]string {
	t.Helper()
	rows, err := db.conn.Query(context.Background(), "SELECT customer_id || metric_key || hour::text || series_key, u::text FROM usage_hourly u")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		out[k] = v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// sqlSparseHours are the (customer, metric, hour)s with fewer than two
// records per resource on average, which must not be rolled up.
const sqlSparseHours = `SELECT customer_id, metric_key, h AS hour FROM (
		SELECT customer_id, metric_key, date_trunc('hour', start_time, 'UTC') AS h, count(*) AS n,
			count(DISTINCT resource_id) AS s
		FROM usage_records GROUP BY 1, 2, 3) AS t
	WHERE n < 2 * s`

// wantExactRollups drains the rollup log and checks that usage_hourly
// holds what recomputing every series-hour marked rolled from
// usage_records afresh gives, that no sparse hour is marked or has rollup
// rows, and that rollup rows and marks go together.
func (db *usageDB) wantExactRollups(t *testing.T) {
	t.Helper()
	if err := db.store.FlushRollups(context.Background()); err != nil {
		t.Fatal(err)
	}
	db.wantCurrentRollups(t)
}

// wantCurrentRollups is wantExactRollups without the drain: for after the
// workers have emptied the log.
func (db *usageDB) wantCurrentRollups(t *testing.T) {
	t.Helper()
	if n := db.count(t, "SELECT count(*)::int FROM usage_hourly_dirty"); n != 0 {
		t.Fatalf("%d dirty hours after the drain", n)
	}
	// A dense hour may be left unrolled (the drain's hint errs towards
	// sparse), which costs speed, not exactness; a sparse one must be.
	if n := db.count(t, `SELECT count(*)::int FROM (`+sqlSparseHours+`) AS s JOIN usage_hourly_rolled x USING (customer_id, metric_key, hour)`); n != 0 {
		t.Errorf("%d sparse hours marked rolled", n)
	}
	if n := db.count(t, `SELECT count(*)::int FROM usage_hourly u LEFT JOIN usage_hourly_rolled x USING (customer_id, metric_key, hour)
		WHERE x.customer_id IS NULL`); n != 0 {
		t.Errorf("%d rollup rows in hours not marked rolled", n)
	}
	if n := db.count(t, `SELECT count(*)::int FROM usage_hourly_rolled x
		WHERE NOT EXISTS (SELECT 1 FROM usage_hourly u WHERE (u.customer_id, u.metric_key, u.hour) = (x.customer_id, x.metric_key, x.hour))`); n != 0 {
		t.Errorf("%d hours marked rolled without rollup rows", n)
	}
	got := db.hourlySnapshot(t)
	if _, err := db.conn.Exec(context.Background(), `SELECT usage_hourly_refresh(array_agg(customer_id), array_agg(metric_key), array_agg(h),
		array_agg(resource_id), array_agg(organisation_id), array_agg(vdc_id), array_agg(site), array_agg(dimensions))
		FROM (SELECT DISTINCT customer_id, metric_key, date_trunc('hour', start_time, 'UTC') AS h,
			resource_id, organisation_id, vdc_id, site, dimensions FROM usage_records
			WHERE (customer_id, metric_key, date_trunc('hour', start_time, 'UTC')) IN (SELECT * FROM usage_hourly_rolled)) AS t`); err != nil {
		t.Fatal(err)
	}
	want := db.hourlySnapshot(t)
	if len(got) != len(want) {
		t.Errorf("%d hourly rows, want %d", len(got), len(want))
	}
	bad := 0
	for k, w := range want {
		if got[k] != w {
			if bad++; bad <= 5 {
				t.Errorf("hourly row\n got %s\nwant %s", got[k], w)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d hourly rows differ", bad, len(want))
	}
}

// mixedRecords are n records of few series and hours (one series when
// hours is 1), so that batches of
// different writers land in the same rollup rows: points, intervals
// inside an hour and across hours.
func mixedRecords(prefix string, n, hours int, seed uint64) []usage.Record {
	rnd := rand.New(rand.NewPCG(seed, 1))
	out := make([]usage.Record, n)
	for i := range out {
		at := june.Add(time.Duration(rnd.IntN(hours*3600)) * time.Second)
		end := at
		switch rnd.IntN(3) {
		case 1:
			end = at.Add(time.Duration(1+rnd.IntN(600)) * time.Second)
		case 2:
			end = at.Add(time.Duration(1+rnd.IntN(5*3600)) * time.Second)
		}
		out[i] = usage.Record{
			Key: fmt.Sprintf("%s-%d", prefix, i), CustomerID: "acme", MetricKey: "vm.vcpu",
			Quantity: decimal.New(int64(rnd.IntN(10000)), -2), Start: at, End: end,
			ResourceID: fmt.Sprintf("vm-%d", rnd.IntN(hours)), Dimensions: map[string]string{"policy": []string{"gold", "silver"}[rnd.IntN(min(2, hours))]},
			ReceiveTime: june.Add(time.Duration(rnd.IntN(100)) * time.Second),
		}
	}
	return out
}

// TestUsageRollupsExactUnderConcurrentReplicas has two stores (two
// billingd replicas) write interleaved batches into the same series-hours
// at once, with resends: the rollups equal a recomputation from scratch.
func TestUsageRollupsExactUnderConcurrentReplicas(t *testing.T) {
	t.Parallel()
	db := newUsageDB(t)
	ctx := context.Background()
	repos := db.twoReplicas(t)
	var wg sync.WaitGroup
	for w := range 6 {
		repo := repos[w%2]
		rs := mixedRecords(fmt.Sprint("w", w%5), 600, 1, uint64(w%5)) // writers 0 and 5 send the same records
		wg.Go(func() {
			for i := 0; i < len(rs); i += 10 {
				if _, err := repo.Insert(ctx, rs[i:min(i+10, len(rs))]); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	db.wantStored(t, 5*600)
	db.wantExactRollups(t)
	if n := db.count(t, "SELECT sum(records)::int FROM usage_hourly"); n != 5*600 {
		t.Errorf("rollups count %d records, want %d", n, 5*600)
	}
}

// TestUsageRollupsFollowLateRecords: a record that arrives after its hour
// was rolled up changes the row at once.
func TestUsageRollupsFollowLateRecords(t *testing.T) {
	t.Parallel()
	db := newUsageDB(t)
	repo := db.store.Usage()
	rs := mixedRecords("a", 300, 3, 7)
	mustInsert(t, repo, rs[:200], 200)
	db.wantExactRollups(t)
	before := db.hourlySnapshot(t)
	mustInsert(t, repo, rs[200:], 100)
	mustInsert(t, repo, rs, 0) // a resend changes nothing
	db.wantExactRollups(t)
	if after := db.hourlySnapshot(t); fmt.Sprint(after) == fmt.Sprint(before) {
		t.Error("late records left the rollups as they were")
	}
}

// TestUsageRollupRefreshWaitsForTheOtherWriter runs the interleaving that
// loses an update unless the refresh locks its rows before it reads:
// transaction A stores a record and refreshes its hour but has not
// committed when B does the same in that hour; B must wait for A and then
// count A's record too.
func TestUsageRollupRefreshWaitsForTheOtherWriter(t *testing.T) {
	t.Parallel()
	db := newUsageDB(t)
	ctx := context.Background()
	// No background drain: a drain that read before A committed would
	// overwrite A's refresh (the two paths must not run side by side; see
	// migration 0006). The seed is drained here.
	db.pauseRollupWorkers(t)
	mustInsert(t, db.store.Usage(), mixedRecords("seed", 2, 1, 3), 2) // creates the partition and the row (dense: rolled up)
	if err := db.store.FlushRollups(ctx); err != nil {
		t.Fatal(err)
	}
	other, err := pgx.ConnectConfig(ctx, db.conn.Config().Copy())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	const ins = `INSERT INTO usage_records (idempotency_key, customer_id, metric_key, quantity, start_time, end_time, resource_id, dimensions, receive_time)
		VALUES ($1, 'acme', 'vm.vcpu', 1, $2, $2, 'vm-0', '{"policy":"gold"}', $2)`
	const refresh = `SELECT usage_hourly_refresh('{acme}', '{vm.vcpu}', ARRAY[$1::timestamptz], '{vm-0}', '{""}', '{""}', '{""}', '{"{\"policy\":\"gold\"}"}'::jsonb[])`
	hour := june.Truncate(time.Hour)
	txA, err := db.conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{{ins, []any{"a", june.Add(time.Minute)}}, {refresh, []any{hour}}} {
		if _, err := txA.Exec(ctx, q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() {
		txB, err := other.Begin(ctx)
		if err == nil {
			if _, err = txB.Exec(ctx, ins, "b", june.Add(2*time.Minute)); err == nil {
				if _, err = txB.Exec(ctx, refresh, hour); err == nil {
					err = txB.Commit(ctx)
				}
			}
		}
		done <- err
	}()
	time.Sleep(300 * time.Millisecond) // B is waiting for A's rows by now
	if err := txA.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	db.wantExactRollups(t)
}

// TestUsageRollupWorkersCatchUpAcrossReplicas has two stores (two
// replicas) ingest overlapping and resent batches, then late records into
// hours already rolled up, while their background workers drain the log
// concurrently: the workers alone must empty it, and the rollups they
// leave equal a recomputation from scratch.
func TestUsageRollupWorkersCatchUpAcrossReplicas(t *testing.T) {
	t.Parallel()
	db := newUsageDB(t)
	ctx := context.Background()
	repos := db.twoReplicas(t)
	ingest := func(round int) {
		var wg sync.WaitGroup
		for w := range 4 {
			repo := repos[w%2]
			rs := mixedRecords(fmt.Sprint("r", round, "w", w%3), 400, 3, uint64(10*round+w%3)) // writers 0 and 3 send the same records
			wg.Go(func() {
				for i := 0; i < len(rs); i += 25 {
					if _, err := repo.Insert(ctx, rs[i:min(i+25, len(rs))]); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
	}
	waitDrained := func() {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for db.count(t, "SELECT count(*)::int FROM usage_hourly_dirty") > 0 {
			if time.Now().After(deadline) {
				t.Fatal("the workers left dirty hours for a minute")
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	ingest(0)
	waitDrained()
	db.wantCurrentRollups(t)
	before := db.hourlySnapshot(t)
	ingest(1) // late: the same three hours
	waitDrained()
	if fmt.Sprint(db.hourlySnapshot(t)) == fmt.Sprint(before) {
		t.Error("late records left the rollups as they were")
	}
	db.wantCurrentRollups(t)
	db.wantStored(t, 2*3*400)
	if n := db.count(t, "SELECT sum(records)::int FROM usage_hourly"); n != 2*3*400 {
		t.Errorf("rollups count %d records, want %d", n, 2*3*400)
	}
}

// TestUsageRollupDrainKeepsHoursCommittedAfterIt: a batch whose
// transaction commits after a drain took its snapshot leaves its hour
// dirty (the drain did not see its log row), so the hour is read raw and
// the next drain folds the batch in.
func TestUsageRollupDrainKeepsHoursCommittedAfterIt(t *testing.T) {
	t.Parallel()
	db := newUsageDB(t)
	ctx := context.Background()
	db.pauseRollupWorkers(t)
	mustInsert(t, db.store.Usage(), mixedRecords("seed", 5, 1, 3), 5) // creates the partition
	other, err := pgx.ConnectConfig(ctx, db.conn.Config().Copy())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	tx, err := other.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	for _, sql := range []string{
		`INSERT INTO usage_records (idempotency_key, customer_id, metric_key, quantity, start_time, end_time, resource_id, dimensions, receive_time)
			VALUES ('late', 'acme', 'vm.vcpu', 7, $1, $1, 'vm-0', '{"policy":"gold"}', $1)`,
		`INSERT INTO usage_hourly_dirty (customer_id, metric_key, first_hour, last_hour)
			VALUES ('acme', 'vm.vcpu', date_trunc('hour', $1::timestamptz, 'UTC'), date_trunc('hour', $1::timestamptz, 'UTC'))`,
	} {
		if _, err := tx.Exec(ctx, sql, june.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.store.FlushRollups(ctx); err != nil { // does not see the open transaction
		t.Fatal(err)
	}
	if n := db.count(t, "SELECT sum(records)::int FROM usage_hourly"); n != 5 {
		t.Fatalf("rollups count %d records, want the 5 committed", n)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if n := db.count(t, "SELECT count(*)::int FROM usage_hourly_dirty"); n != 1 {
		t.Fatalf("%d dirty rows after the commit, want 1", n)
	}
	db.wantExactRollups(t)
	if n := db.count(t, "SELECT sum(records)::int FROM usage_hourly"); n != 6 {
		t.Errorf("rollups count %d records, want 6", n)
	}
}

// TestUsageRollupSparseHoursReadRaw: an hour with one record per resource
// is not rolled up (nor marked); late records that make it dense roll it
// up and mark it; new resources that make it sparse again remove its
// rollup rows and its mark.
func TestUsageRollupSparseHoursReadRaw(t *testing.T) {
	t.Parallel()
	db := newUsageDB(t)
	repo := db.store.Usage()
	at := func(key, resource string, minute int) usage.Record {
		ts := june.Truncate(time.Hour).Add(time.Duration(minute) * time.Minute)
		return usage.Record{Key: key, CustomerID: "acme", MetricKey: "net.gb", Quantity: decimal.NewFromInt(int64(minute)),
			Start: ts, End: ts, ResourceID: resource, Dimensions: map[string]string{}, ReceiveTime: june}
	}
	marked := func() int { return db.count(t, "SELECT count(*)::int FROM usage_hourly_rolled") }
	rolled := func() int { return db.count(t, "SELECT count(*)::int FROM usage_hourly") }

	mustInsert(t, repo, []usage.Record{at("a", "vm-1", 1), at("b", "vm-2", 2)}, 2) // 2 records, 2 resources
	db.wantExactRollups(t)
	if marked() != 0 || rolled() != 0 {
		t.Fatalf("sparse: %d marks, %d rollup rows, want none", marked(), rolled())
	}
	mustInsert(t, repo, []usage.Record{at("c", "vm-1", 3), at("d", "vm-1", 4)}, 2) // 4 records, 2 resources
	db.wantExactRollups(t)
	if marked() != 1 || rolled() != 2 {
		t.Fatalf("dense: %d marks, %d rollup rows, want 1 and 2", marked(), rolled())
	}
	mustInsert(t, repo, []usage.Record{at("e", "vm-3", 5), at("f", "vm-4", 6), at("g", "vm-5", 7)}, 3) // 7 records, 5 resources
	db.wantExactRollups(t)
	if marked() != 0 || rolled() != 0 {
		t.Fatalf("sparse again: %d marks, %d rollup rows, want none", marked(), rolled())
	}
}

// TestUsageRollupHintMarksThenRecomputes: two batches of one record each
// of one resource in an hour, drained together, look sparse to the drain's
// hint (a resource counted once per batch), so the hour is left unrolled
// without reading it although it is dense; the next batch into it is
// recomputed exactly, which rolls it up.
func TestUsageRollupHintMarksThenRecomputes(t *testing.T) {
	t.Parallel()
	db := newUsageDB(t)
	ctx := context.Background()
	db.pauseRollupWorkers(t)
	repo := db.store.Usage()
	at := func(key string, minute int) usage.Record {
		ts := june.Truncate(time.Hour).Add(time.Duration(minute) * time.Minute)
		return usage.Record{Key: key, CustomerID: "acme", MetricKey: "net.gb", Quantity: decimal.NewFromInt(int64(minute)),
			Start: ts, End: ts, ResourceID: "vm-1", Dimensions: map[string]string{}, ReceiveTime: june}
	}
	mustInsert(t, repo, []usage.Record{at("a", 1)}, 1)
	mustInsert(t, repo, []usage.Record{at("b", 2)}, 1)
	if err := db.store.FlushRollups(ctx); err != nil {
		t.Fatal(err)
	}
	if m, r := db.count(t, "SELECT count(*)::int FROM usage_hourly_rolled"), db.count(t, "SELECT count(*)::int FROM usage_hourly"); m != 0 || r != 0 {
		t.Fatalf("after the hint: %d marks, %d rollup rows, want none", m, r)
	}
	mustInsert(t, repo, []usage.Record{at("c", 3), at("d", 4)}, 2)
	db.wantExactRollups(t)
	if m, r := db.count(t, "SELECT count(*)::int FROM usage_hourly_rolled"), db.count(t, "SELECT sum(records)::int FROM usage_hourly"); m != 1 || r != 4 {
		t.Fatalf("after the exact path: %d marks, rollups of %d records, want 1 and 4", m, r)
	}
}
