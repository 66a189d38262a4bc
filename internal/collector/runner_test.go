package collector_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/collector"
	"github.com/billingd/billingd/internal/collector/collectortest"
)

func newRunner(t *testing.T, client billingv1.UsageServiceClient, dir string, src collector.Source, opts collector.Options) *collector.Runner {
	t.Helper()
	opts.StateDir = dir
	if opts.Retry == (collector.Backoff{}) {
		opts.Retry = fastRetry
	}
	if opts.BatchSize == 0 {
		opts.BatchSize = 10
	}
	r, err := collector.NewRunner(client, []collector.Schedule{{Source: src, Interval: time.Hour}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestDroppedStreamDeliversEverythingOnce: billingd commits batch 2 and 5
// but the stream breaks before their acks. Every record ends stored once,
// the lost acks come back as duplicates, and the cursor ends past both
// windows.
func TestDroppedStreamDeliversEverythingOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake := newFakeBillingd()
	fake.dropAfterCommit[2], fake.dropAfterCommit[5] = true, true
	dir := t.TempDir()
	src := &countingSource{name: "vc01", perWindow: 35} // 4 batches of ≤10
	metrics := collector.NewMetrics(prometheus.NewRegistry())
	r := newRunner(t, fake.serve(t), dir, src, collector.Options{Metrics: metrics, InFlight: 2})

	for range 3 { // baseline-less source: three windows of 35
		if err := r.Poll(ctx, "vc01"); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Flush(ctx, "vc01"); err != nil {
		t.Fatal(err)
	}

	stored, received, streams := fake.snapshot()
	if len(stored) != 105 {
		t.Errorf("stored %d records, want 105", len(stored))
	}
	for w := range 3 {
		for i := range 35 {
			key := collector.Key("fake", "vc01", fmt.Sprintf("vm-%03d", i), "vm.vcpu", fmt.Sprint(w))
			if _, ok := stored[key]; !ok {
				t.Errorf("record %s was never stored", key)
			}
		}
	}
	if received <= 105 || streams < 3 {
		t.Errorf("received %d records on %d streams; want resends on at least 3 streams", received, streams)
	}
	accepted := collectortest.Value(metrics.Pushed.WithLabelValues("vc01", collector.ResultAccepted))
	dups := collectortest.Value(metrics.Pushed.WithLabelValues("vc01", collector.ResultDuplicate))
	// The client sees each record acknowledged once: as accepted, or as a
	// duplicate when the ack of its first delivery was lost.
	if accepted+dups != 105 || int(dups) != received-105 || dups == 0 {
		t.Errorf("metrics: %v accepted + %v duplicates; want 105 in all, %d duplicates", accepted, dups, received-105)
	}
	if n := collectortest.Value(metrics.Errors.WithLabelValues("vc01", collector.StagePush)); n != 2 {
		t.Errorf("push errors = %v, want 2", n)
	}
	p, windows := readProgress(t, dir, "vc01")
	if p.Cursor != "3" || p.Window != 3 || len(windows) != 0 {
		t.Errorf("state = %+v with %d window files; want cursor 3 after window 3 and none left", p, len(windows))
	}
}

// TestCursorAdvancesOnlyAfterAcks holds billingd's acks: while they are
// held the persisted cursor stays put and the window stays spooled.
func TestCursorAdvancesOnlyAfterAcks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake := newFakeBillingd()
	fake.gate = make(chan struct{})
	dir := t.TempDir()
	src := &countingSource{name: "vc01", perWindow: 25}
	r := newRunner(t, fake.serve(t), dir, src, collector.Options{})
	if err := r.Poll(ctx, "vc01"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Flush(ctx, "vc01") }()

	for i := range 3 { // three batches: 10, 10, 5
		<-fake.seen // committed, ack held
		p, windows := readProgress(t, dir, "vc01")
		if p.Cursor != "" || len(windows) != 1 {
			t.Fatalf("after %d committed batches: state %+v, %d windows; want no cursor and the window spooled", i+1, p, len(windows))
		}
		fake.gate <- struct{}{}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if p, windows := readProgress(t, dir, "vc01"); p.Cursor != "1" || len(windows) != 0 {
		t.Errorf("after all acks: state %+v, %d windows; want cursor 1, none", p, len(windows))
	}
}

// TestRestartResumes: a first runner collects two windows while billingd is
// down and is stopped; a second one on the same state directory pushes
// them, collects the next window from where the first left off, and every
// record is stored once with no window missing.
func TestRestartResumes(t *testing.T) {
	t.Parallel()
	fake := newFakeBillingd()
	fake.unavailable = true
	client := fake.serve(t)
	dir := t.TempDir()

	src1 := &countingSource{name: "vc01", perWindow: 12}
	r1 := newRunner(t, client, dir, src1, collector.Options{})
	for range 2 {
		if err := r1.Poll(context.Background(), "vc01"); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	if err := r1.Flush(ctx, "vc01"); err == nil {
		t.Fatal("flush succeeded while billingd was down")
	}
	cancel()
	if p, windows := readProgress(t, dir, "vc01"); p.Cursor != "" || len(windows) != 2 {
		t.Fatalf("after the first run: state %+v, %d windows; want no cursor, 2 windows", p, len(windows))
	}

	// "Restart": a new runner and a new source instance.
	fake.mu.Lock()
	fake.unavailable = false
	fake.mu.Unlock()
	src2 := &countingSource{name: "vc01", perWindow: 12}
	log, logs := testLogger()
	r2 := newRunner(t, client, dir, src2, collector.Options{Log: log})
	if !strings.Contains(logs.String(), "resuming unacknowledged windows") {
		t.Errorf("no resume log:\n%s", logs)
	}
	if err := r2.Poll(context.Background(), "vc01"); err != nil {
		t.Fatal(err)
	}
	if got := src2.given(); len(got) != 1 || got[0] != "2" {
		t.Errorf("the restarted source was given cursors %q, want [2]", got)
	}
	if err := r2.Flush(context.Background(), "vc01"); err != nil {
		t.Fatal(err)
	}
	stored, _, _ := fake.snapshot()
	if len(stored) != 36 {
		t.Errorf("stored %d records, want 3 windows × 12", len(stored))
	}
	// Windows are pushed in order: all of window 0 before window 1…
	fake.mu.Lock()
	order := append([]string(nil), fake.order...)
	fake.mu.Unlock()
	for i, k := range order {
		if want := fmt.Sprintf(":%d", i/12); !strings.HasSuffix(k, want) {
			t.Fatalf("record %d stored is %s, want one of window %s", i, k, want)
		}
	}
	if p, windows := readProgress(t, dir, "vc01"); p.Cursor != "3" || len(windows) != 0 {
		t.Errorf("final state %+v, %d windows; want cursor 3, none", p, len(windows))
	}
}

// TestRejectedRecordsAreLoggedAndCounted: billingd rejects the records of
// an unknown customer; they are logged with key and reason, counted, and do
// not hold the cursor back.
func TestRejectedRecordsAreLoggedAndCounted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake := newFakeBillingd()
	fake.reject = func(r *billingv1.UsageRecord) (string, string) {
		if strings.HasSuffix(r.GetResourceId(), "7") {
			return "customer_id", `customer "acme" not found`
		}
		return "", ""
	}
	dir := t.TempDir()
	log, logs := testLogger()
	metrics := collector.NewMetrics(nil)
	r := newRunner(t, fake.serve(t), dir, &countingSource{name: "vc01", perWindow: 30}, collector.Options{Log: log, Metrics: metrics})
	if err := r.Poll(ctx, "vc01"); err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx, "vc01"); err != nil {
		t.Fatal(err)
	}
	if n := collectortest.Value(metrics.Pushed.WithLabelValues("vc01", collector.ResultRejected)); n != 3 {
		t.Errorf("rejected = %v, want 3 (vm-007, vm-017, vm-027)", n)
	}
	for _, res := range []string{"vm-007", "vm-017", "vm-027"} {
		key := collector.Key("fake", "vc01", res, "vm.vcpu", "0")
		if !strings.Contains(logs.String(), "key="+key) || !strings.Contains(logs.String(), "billingd rejected a record") {
			t.Errorf("rejection of %s not logged:\n%s", key, logs)
		}
	}
	if p, _ := readProgress(t, dir, "vc01"); p.Cursor != "1" {
		t.Errorf("cursor %q, want 1", p.Cursor)
	}
}

// TestRunPollsOnScheduleAndRetries runs the loop for real: a collect that
// fails is retried with backoff, and windows keep flowing to billingd.
func TestRunPollsOnScheduleAndRetries(t *testing.T) {
	t.Parallel()
	fake := newFakeBillingd()
	fake.dropAfterCommit[1] = true
	client := fake.serve(t)
	src := &countingSource{name: "vc01", perWindow: 5, fail: 2}
	metrics := collector.NewMetrics(nil)
	r, err := collector.NewRunner(client, []collector.Schedule{{Source: src, Interval: 20 * time.Millisecond}},
		collector.Options{StateDir: t.TempDir(), Retry: fastRetry, Metrics: metrics})
	if err != nil {
		t.Fatal(err)
	}
	stop := collectortest.Background(r)
	collectortest.WaitFor(t, 10*time.Second, "at least 20 records stored", func() bool {
		stored, _, _ := fake.snapshot()
		return len(stored) >= 20
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if n := collectortest.Value(metrics.Errors.WithLabelValues("vc01", collector.StageCollect)); n != 2 {
		t.Errorf("collect errors = %v, want 2", n)
	}
	// The failed collects were retried from the same cursor: no window lost.
	given := src.given()
	if len(given) < 5 || given[0] != "" || given[1] != "" || given[2] != "" || given[3] != "1" {
		t.Errorf("cursors given %q; want \"\" three times (two failures), then 1, 2…", given)
	}
}

func TestNewRunnerValidates(t *testing.T) {
	t.Parallel()
	fake := newFakeBillingd()
	client := fake.serve(t)
	src := &countingSource{name: "Bad Name"}
	_, err := collector.NewRunner(client, []collector.Schedule{{Source: src}, {Source: &countingSource{name: "ok"}, Interval: time.Second}, {Source: &countingSource{name: "ok"}, Interval: time.Second}},
		collector.Options{BatchSize: 20000})
	for _, want := range []string{"state directory", "must match", "listed twice"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
}

// TestStreamErrorsAreRetriedAndMisconfigurationStandsOut: a refused key
// (PermissionDenied) is logged as an error, a blip (Unavailable) as a
// warning; both are retried and the window is delivered.
func TestStreamErrorsAreRetriedAndMisconfigurationStandsOut(t *testing.T) {
	t.Parallel()
	fake := newFakeBillingd()
	fake.refuse = []codes.Code{codes.PermissionDenied, codes.Unavailable}
	log, logs := testLogger()
	r := newRunner(t, fake.serve(t), t.TempDir(), &countingSource{name: "vc01", perWindow: 3}, collector.Options{Log: log})
	if err := r.Poll(context.Background(), "vc01"); err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(context.Background(), "vc01"); err != nil {
		t.Fatal(err)
	}
	if stored, _, streams := fake.snapshot(); len(stored) != 3 || streams != 3 {
		t.Errorf("stored %d records on the %d-th stream, want 3 on the 3rd", len(stored), streams)
	}
	for _, want := range []string{"level=ERROR msg=\"usage stream failed", "PermissionDenied", "level=WARN msg=\"usage stream failed", "Unavailable"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

// TestHungBillingdIsGivenUp: billingd commits but never acks; after the ack
// timeout the stream is reopened and the batch resent (a duplicate), and
// the window completes once acks flow again.
func TestHungBillingdIsGivenUp(t *testing.T) {
	t.Parallel()
	fake := newFakeBillingd()
	fake.hang = 1 // the first batch is committed, its ack never comes
	log, logs := testLogger()
	r := newRunner(t, fake.serve(t), t.TempDir(), &countingSource{name: "vc01", perWindow: 4},
		collector.Options{Log: log, AckTimeout: 100 * time.Millisecond})
	if err := r.Poll(context.Background(), "vc01"); err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(context.Background(), "vc01"); err != nil {
		t.Fatal(err)
	}
	stored, received, streams := fake.snapshot()
	if len(stored) != 4 || received != 8 || streams != 2 {
		t.Errorf("stored %d, received %d on %d streams; want 4, 8 (one resend), 2", len(stored), received, streams)
	}
	if !strings.Contains(logs.String(), "no ack within 100ms") {
		t.Errorf("log does not say why the stream was given up:\n%s", logs)
	}
}
