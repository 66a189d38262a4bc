package postgres_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// syncBuffer is a bytes.Buffer safe for the worker's goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestUsageRollupDrainFailuresAreLoggedAndCounted: a drain that fails (here
// its function is missing) is logged and counted in the store's metrics,
// which billingd serves on /metrics; once it works again the log empties.
func TestUsageRollupDrainFailuresAreLoggedAndCounted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newUsageDB(t)
	var logs syncBuffer
	db.store.SetLogger(slog.New(slog.NewTextHandler(&logs, nil)))
	reg := prometheus.NewRegistry()
	reg.MustRegister(db.store.Collectors()...)
	metric := func(name string) float64 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == name {
				return mf.GetMetric()[0].GetCounter().GetValue()
			}
		}
		t.Fatalf("metric %s not registered", name)
		return 0
	}
	if _, err := db.conn.Exec(ctx, "ALTER FUNCTION usage_hourly_drain(int) RENAME TO usage_hourly_drain_away"); err != nil {
		t.Fatal(err)
	}
	repo := db.store.Usage()
	mustInsert(t, repo, mixedRecords("fail", 12, 2, 3), 12)
	deadline := time.Now().Add(20 * time.Second)
	for metric("billingd_usage_rollup_drain_failures_total") == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := metric("billingd_usage_rollup_drain_failures_total"); n == 0 {
		t.Fatal("no drain failure counted")
	}
	if !strings.Contains(logs.String(), "draining the hourly rollup log failed") || !strings.Contains(logs.String(), "usage_hourly_drain") {
		t.Errorf("the failure is not logged with its cause:\n%s", logs.String())
	}
	if _, err := db.conn.Exec(ctx, "ALTER FUNCTION usage_hourly_drain_away(int) RENAME TO usage_hourly_drain"); err != nil {
		t.Fatal(err)
	}
	mustInsert(t, repo, mixedRecords("again", 12, 2, 4), 12) // kicks the worker
	deadline = time.Now().Add(20 * time.Second)
	for db.count(t, "SELECT count(*)::int FROM usage_hourly_dirty") > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := db.count(t, "SELECT count(*)::int FROM usage_hourly_dirty"); n > 0 {
		t.Errorf("%d dirty rows left after the drain works again", n)
	}
	if metric("billingd_usage_rollup_drained_runs_total") == 0 {
		t.Error("no drained runs counted")
	}
}
