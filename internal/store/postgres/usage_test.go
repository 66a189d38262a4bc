package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/store/postgres"
	"github.com/billingd/billingd/internal/store/postgres/pgtest"
	"github.com/billingd/billingd/internal/usage"
)

// usageDB is a migrated database with a store and a direct connection for
// looking behind the store's back.
type usageDB struct {
	url   string
	store *postgres.Store
	conn  *pgx.Conn
}

func newUsageDB(t *testing.T) *usageDB {
	t.Helper()
	return usageDBAt(t, pgtest.NewDatabase(t))
}

// usageDBAt opens a store and a connection on the database at url.
func usageDBAt(t *testing.T, url string) *usageDB {
	t.Helper()
	ctx := context.Background()
	st, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	cfg, err := pgxpool.ParseConfig(url) // drops the pool_* settings a plain connection refuses
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return &usageDB{url: url, store: st, conn: conn}
}

// twoReplicas returns the usage repositories of two stores on the database,
// as two billingd replicas would have: db's and one opened for the test.
func (db *usageDB) twoReplicas(t *testing.T) []usage.Repository {
	t.Helper()
	other, err := postgres.Open(context.Background(), db.url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(other.Close)
	return []usage.Repository{db.store.Usage(), other.Usage()}
}

// pauseRollupWorkers keeps the store's rollup workers from draining for
// the rest of the test, so that it sees hours dirty until it flushes them.
func (db *usageDB) pauseRollupWorkers(t *testing.T) {
	postgres.PauseRollupWorkers(db.store, true)
	t.Cleanup(func() { postgres.PauseRollupWorkers(db.store, false) })
}

func (db *usageDB) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := db.conn.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// wantStored checks that usage_records holds exactly n rows, each once.
func (db *usageDB) wantStored(t *testing.T, n int) {
	t.Helper()
	recs := db.count(t, "SELECT count(*) FROM usage_records")
	ids := db.count(t, "SELECT count(*) FROM (SELECT DISTINCT customer_id, metric_key, start_time, idempotency_key FROM usage_records) AS d")
	if recs != n || ids != n {
		t.Fatalf("usage_records=%d distinct identities=%d, want %d each", recs, ids, n)
	}
}

var june = time.Date(2025, 6, 10, 12, 0, 0, 0, time.UTC)

// rec is a valid point record at june + i minutes.
func rec(key string, i int) usage.Record {
	at := june.Add(time.Duration(i) * time.Minute)
	return usage.Record{
		Key: key, CustomerID: "acme", MetricKey: "vm.vcpu", Quantity: decimal.NewFromInt(int64(i)),
		Start: at, End: at, ResourceID: "vm-1", Dimensions: map[string]string{}, ReceiveTime: june,
	}
}

func recs(prefix string, from, to int) []usage.Record {
	out := make([]usage.Record, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, rec(fmt.Sprintf("%s-%06d", prefix, i), i))
	}
	return out
}

func mustInsert(t *testing.T, repo usage.Repository, rs []usage.Record, wantAccepted int) {
	t.Helper()
	got, err := repo.Insert(context.Background(), rs)
	if err != nil {
		t.Fatalf("Insert: %v", err)
	}
	if got != wantAccepted {
		t.Fatalf("Insert accepted %d, want %d", got, wantAccepted)
	}
}

func TestUsageInsertIsExactlyOncePerIdentity(t *testing.T) {
	t.Parallel()
	db := newUsageDB(t)
	repo := db.store.Usage()
	mustInsert(t, repo, recs("a", 0, 100), 100)
	mustInsert(t, repo, recs("a", 50, 150), 50) // 50 old, 50 new
	// A record repeated within one batch is stored from its first copy.
	first, second := rec("dup", 1), rec("dup", 1)
	second.Quantity = decimal.NewFromInt(99)
	mustInsert(t, repo, []usage.Record{first, second, rec("x", 3)}, 2)
	db.wantStored(t, 152)
	var q decimal.Decimal
	if err := db.conn.QueryRow(context.Background(), "SELECT quantity FROM usage_records WHERE idempotency_key = 'dup'").Scan(&q); err != nil {
		t.Fatal(err)
	}
	if !q.Equal(first.Quantity) {
		t.Errorf("stored quantity %s of the second record, want the first's %s", q, first.Quantity)
	}
	// The identity is (customer, metric, start, key): the same key for
	// another time, metric or customer is another record, stored beside
	// the first; resending any of them stores nothing.
	later, metric, customer := rec("dup", 2), rec("dup", 1), rec("dup", 1)
	metric.MetricKey, customer.CustomerID = "vm.memory_gb", "globex"
	mustInsert(t, repo, []usage.Record{later, metric, customer}, 3)
	mustInsert(t, repo, []usage.Record{customer, first, later, metric}, 0)
	db.wantStored(t, 155)
}

// TestUsageInsertStagedStoresOnlyNew: the way Insert takes after a race
// (staging table, ON CONFLICT DO NOTHING) stores exactly the new records
// of a batch, marks only their hours dirty, and counts them.
func TestUsageInsertStagedStoresOnlyNew(t *testing.T) {
	t.Parallel()
	db := newUsageDB(t)
	ctx := context.Background()
	db.pauseRollupWorkers(t)
	repo := db.store.Usage()
	mustInsert(t, repo, recs("s", 0, 60), 60) // minutes 0-59: the first hour
	if err := db.store.FlushRollups(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := postgres.InsertStaged(ctx, repo, recs("s", 30, 150)) // 30 known, 90 new, up to minute 149
	if err != nil || got != 90 {
		t.Fatalf("InsertStaged = %d, %v; want 90 stored", got, err)
	}
	db.wantStored(t, 150)
	// the known records' hour 12:00 is not dirty again; 13:00 and 14:00 are
	if n := db.count(t, "SELECT count(*)::int FROM usage_hourly_dirty WHERE first_hour = $1", june.Truncate(time.Hour)); n != 0 {
		t.Errorf("%d dirty rows start at the hour of the known records only", n)
	}
	if n := db.count(t, "SELECT count(*)::int FROM usage_hourly_dirty"); n != 1 {
		t.Errorf("%d dirty rows, want 1 (13:00-14:00)", n)
	}
	got, err = postgres.InsertStaged(ctx, repo, recs("s", 0, 150))
	if err != nil || got != 0 {
		t.Fatalf("InsertStaged of a resend = %d, %v; want 0", got, err)
	}
	db.wantStored(t, 150)
	db.wantExactRollups(t)
}

func TestUsageRoundTripAndList(t *testing.T) {
	t.Parallel()
	db := newUsageDB(t)
	repo := db.store.Usage()
	ctx := context.Background()
	in := usage.Record{
		Key: "k1", CustomerID: "acme", MetricKey: "net.egress_gb", Quantity: decimal.RequireFromString("-12.500"),
		Start: june, End: june.Add(time.Hour), ResourceID: "vm-9", OrganisationID: "org", VdcID: "vdc", Site: "fra",
		Source: "vcenter:vc01", Dimensions: map[string]string{"policy": "Gold", "ünï": "cödé"}, ReceiveTime: june.Add(time.Minute),
	}
	mustInsert(t, repo, append([]usage.Record{in}, recs("b", 0, 25)...), 26)

	got, next, err := repo.List(ctx, usage.ListParams{MetricKey: "net.egress_gb"})
	if err != nil || next != "" || len(got) != 1 {
		t.Fatalf("List = %v, %q, %v", got, next, err)
	}
	g := got[0]
	if g.Key != in.Key || !g.Quantity.Equal(in.Quantity) || !g.Start.Equal(in.Start) || !g.End.Equal(in.End) ||
		g.Dimensions["ünï"] != "cödé" || g.Source != in.Source || g.Site != in.Site || g.VdcID != in.VdcID ||
		!g.ReceiveTime.Equal(in.ReceiveTime) || g.Start.Location() != time.UTC {
		t.Errorf("read back %+v, want %+v", g, in)
	}

	// 25 point records of vm-1 in pages of 10: (start, key) order, no gaps.
	var keys []string
	p := usage.ListParams{CustomerID: "acme", ResourceID: "vm-1", PageSize: 10}
	for pages := 0; ; pages++ {
		page, next, err := repo.List(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page {
			keys = append(keys, r.Key)
		}
		if next == "" {
			break
		}
		if pages > 3 {
			t.Fatal("pagination does not end")
		}
		p.PageToken = next
	}
	if len(keys) != 25 || keys[0] != "b-000000" || keys[24] != "b-000024" {
		t.Errorf("paged keys %v", keys)
	}
	// Window on start time.
	page, _, err := repo.List(ctx, usage.ListParams{From: june.Add(5 * time.Minute), To: june.Add(8 * time.Minute)})
	if err != nil || len(page) != 3 {
		t.Errorf("window: %d records, %v; want 3", len(page), err)
	}
	if _, _, err := repo.List(ctx, usage.ListParams{PageToken: "!!"}); apperr.KindOf(err) != apperr.KindInvalid {
		t.Errorf("bad token: %v, want Invalid", err)
	}
}

func TestUsagePartitionsAreCreatedPerMonth(t *testing.T) {
	t.Parallel()
	db := newUsageDB(t)
	ctx := context.Background()
	months := []time.Time{
		time.Date(2001, 2, 28, 23, 59, 59, 0, time.UTC),
		time.Date(2024, 12, 31, 23, 0, 0, 0, time.FixedZone("x", -2*3600)), // 2025-01-01 01:00 UTC
		time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC),
	}
	// Replicas (separate repositories, so separate caches) needing the same
	// new months at once create each month once.
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Go(func() {
			var rs []usage.Record
			for i, m := range months {
				r := rec(fmt.Sprintf("w%d-%d", w, i), 0)
				r.Start, r.End = m.UTC(), m.UTC()
				rs = append(rs, r)
			}
			if _, err := db.store.Usage().Insert(ctx, rs); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	db.wantStored(t, 12)
	rows, _ := db.conn.Query(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'usage_records'::regclass AND c.relkind = 'r' ORDER BY 1`)
	parts, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"usage_records_2001_02", "usage_records_2025_01", "usage_records_2025_06"}
	if fmt.Sprint(parts) != fmt.Sprint(want) {
		t.Errorf("partitions %v, want %v", parts, want)
	}
}

func TestUsagePartitionDroppedBehindTheCache(t *testing.T) {
	t.Parallel()
	db := newUsageDB(t)
	ctx := context.Background()
	repo := db.store.Usage()
	mustInsert(t, repo, recs("a", 0, 10), 10)
	// An operator archives June: the repository still believes it exists.
	for _, sql := range []string{
		"ALTER TABLE usage_records DETACH PARTITION usage_records_2025_06",
		"DROP TABLE usage_records_2025_06",
	} {
		if _, err := db.conn.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	mustInsert(t, repo, recs("b", 0, 10), 10) // the month is created again
	if n := db.count(t, "SELECT count(*) FROM usage_records"); n != 10 {
		t.Errorf("%d records, want 10", n)
	}

	// A month detached but kept as a table is refused, not written next to.
	if _, err := db.conn.Exec(ctx, "ALTER TABLE usage_records DETACH PARTITION usage_records_2025_06"); err != nil {
		t.Fatal(err)
	}
	_, err := db.store.Usage().Insert(ctx, recs("c", 0, 1))
	if apperr.KindOf(err) != apperr.KindFailedPrecondition {
		t.Errorf("insert into a detached month: %v, want FailedPrecondition", err)
	}
}

// TestUsageConcurrentOverlappingBatches: writers that send the same keys in
// different orders and groupings neither deadlock nor store a key twice.
func TestUsageConcurrentOverlappingBatches(t *testing.T) {
	t.Parallel()
	db := newUsageDB(t)
	ctx := context.Background()
	all := recs("k", 0, 2000)
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for w := range 4 {
		repo := db.store.Usage()
		wg.Go(func() {
			rs := append([]usage.Record(nil), all...)
			if w%2 == 1 { // reversed order
				for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
					rs[i], rs[j] = rs[j], rs[i]
				}
			}
			size := 300 + 100*w
			for i := 0; i < len(rs); i += size {
				n, err := repo.Insert(ctx, rs[i:min(i+size, len(rs))])
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				total += n
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if total != len(all) {
		t.Errorf("accepted %d in all, want %d", total, len(all))
	}
	db.wantStored(t, len(all))
}

// TestUsageConnectionsCutMidIngest terminates the store's connections
// while every fourth batch is being written: a batch that fails says
// Unavailable, the writer resends it, and the totals are exact.
func TestUsageConnectionsCutMidIngest(t *testing.T) {
	t.Parallel()
	db := newUsageDB(t)
	ctx := context.Background()
	repo := db.store.Usage()
	const batches, size = 40, 500
	accepted, unavailable, kills := 0, 0, 0
	for b := range batches {
		batch := recs("cut", b*size, (b+1)*size)
		for attempt := 0; ; attempt++ {
			var killed chan int
			if b%4 == 1 && attempt == 0 {
				killed = cutConnections(ctx, db.conn, time.Duration(rand.IntN(15))*time.Millisecond)
			}
			n, err := repo.Insert(ctx, batch)
			if killed != nil {
				kills += <-killed
			}
			if err == nil {
				accepted += n
				break
			}
			if apperr.KindOf(err) != apperr.KindUnavailable {
				t.Fatalf("batch %d: %v (kind %v), want Unavailable", b, err, apperr.KindOf(err))
			}
			var ae *apperr.Error
			if errors.As(err, &ae) && ae.Message != "database unavailable, retry" {
				t.Errorf("message %q leaks more than it should", ae.Message)
			}
			unavailable++
			if attempt > 3 {
				t.Fatalf("batch %d: still failing after %d attempts: %v (%v)", b, attempt, err, errors.Unwrap(err))
			}
		}
	}
	t.Logf("%d connections terminated, %d batches failed with Unavailable and were resent", kills, unavailable)
	if unavailable == 0 {
		t.Error("no batch failed: the test did not cut a connection")
	}
	db.wantStored(t, batches*size)
	if accepted > batches*size {
		t.Errorf("accepted %d > %d", accepted, batches*size)
	}
}

// cutConnections terminates, after delay, every other connection to the
// database conn is connected to, and sends how many it terminated.
func cutConnections(ctx context.Context, conn *pgx.Conn, delay time.Duration) chan int {
	done := make(chan int, 1)
	go func() {
		time.Sleep(delay)
		var n int
		_ = conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&n)
		done <- n
	}()
	return done
}

// TestUsageCopyEncoding: the store writes COPY's binary format itself, so
// every numeric shape and every character a dimension may hold must come
// back exactly as PostgreSQL's own text input would have stored it.
func TestUsageCopyEncoding(t *testing.T) {
	t.Parallel()
	db := newUsageDB(t)
	ctx := context.Background()
	quantities := []string{
		"0", "-0", "007", "1", "-1", "12.50", "-0.5", "0.0001", "0.00000", "5.000", "10000", "9999", "10001",
		"100000000.0001", "-99999999.99999999", "123456789012345678", "1234567890123456789",
		"1234567890123456789012345.000000001", "0.000000000000000000000000000001", "-4200000000000000000000",
	}
	values := []string{`plain`, `quote " and backslash \`, "new\nline\ttab\rcr", "\x01\x1f\x7f", "ünïcødé ✓ 🚀", ""}
	var rs []usage.Record
	for i, q := range quantities {
		r := rec(fmt.Sprintf("q%02d", i), i)
		r.Quantity = decimal.RequireFromString(q)
		r.Dimensions = map[string]string{"v": values[i%len(values)], "a.b-c_d": "x"}
		rs = append(rs, r)
	}
	mustInsert(t, db.store.Usage(), rs, len(rs))
	for i, q := range quantities {
		var got, v, ab string
		err := db.conn.QueryRow(ctx, `SELECT quantity::text, dimensions->>'v', dimensions->>'a.b-c_d'
			FROM usage_records WHERE idempotency_key = $1`, fmt.Sprintf("q%02d", i)).Scan(&got, &v, &ab)
		if err != nil {
			t.Fatal(err)
		}
		var want string
		if err := db.conn.QueryRow(ctx, "SELECT $1::numeric::text", q).Scan(&want); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("quantity %s stored as %s, want %s", q, got, want)
		}
		if v != values[i%len(values)] || ab != "x" {
			t.Errorf("dimension stored as %q, want %q", v, values[i%len(values)])
		}
	}
}
