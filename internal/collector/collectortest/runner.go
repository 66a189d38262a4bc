package collectortest

import (
	"context"
	"sync"
	"testing"
	"time"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/clock"
	"github.com/billingd/billingd/internal/collector"
)

// PushWindows runs src in a collector.Runner against usage: at each of
// times (in order) it polls once and pushes until billingd acknowledged
// everything. before, if not nil, runs ahead of each poll with its index,
// so that a test can change the fake platform between windows. It returns
// the runner's log.
func PushWindows(t *testing.T, usage billingv1.UsageServiceClient, src collector.Source, times []time.Time, before func(i int)) string {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewFake(times[0])
	log, logs := Log()
	r, err := collector.NewRunner(usage, []collector.Schedule{{Source: src, Interval: time.Hour}}, collector.Options{
		StateDir: t.TempDir(), Clock: clk, Log: log, BatchSize: 3,
		Retry: collector.Backoff{Initial: time.Millisecond, Max: 10 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, at := range times {
		if before != nil {
			before(i)
		}
		clk.Set(at)
		if err := r.Poll(ctx, src.Name()); err != nil {
			t.Fatalf("poll %d: %v", i, err)
		}
		if err := r.Flush(ctx, src.Name()); err != nil {
			t.Fatalf("flush %d: %v", i, err)
		}
	}
	return logs.String()
}

// Background runs r until stop, which cancels it and returns what Run
// returned; stop may be called more than once.
func Background(r *collector.Runner) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	return sync.OnceValue(func() error {
		cancel()
		return <-done
	})
}
