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

	"github.com/billingd/billingd/internal/store/postgres"
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

// wantExactRollups checks that usage_hourly holds what recomputing every
// series-hour from usage_records afresh gives.
func (db *usageDB) wantExactRollups(t *testing.T) {
	t.Helper()
	got := db.hourlySnapshot(t)
	if _, err := db.conn.Exec(context.Background(), `SELECT usage_hourly_refresh(array_agg(customer_id), array_agg(metric_key), array_agg(h),
		array_agg(resource_id), array_agg(organisation_id), array_agg(vdc_id), array_agg(site), array_agg(dimensions))
		FROM (SELECT DISTINCT customer_id, metric_key, date_trunc('hour', start_time, 'UTC') AS h,
			resource_id, organisation_id, vdc_id, site, dimensions FROM usage_records) AS t`); err != nil {
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
	other, err := postgres.Open(ctx, db.url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(other.Close)
	repos := []usage.Repository{db.store.Usage(), other.Usage()}
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
	mustInsert(t, db.store.Usage(), mixedRecords("seed", 1, 1, 3), 1) // creates the partition and the row
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
