package collector_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"google.golang.org/grpc/codes"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/collector"
	"github.com/billingd/billingd/internal/collector/collectortest"
)

// memFeed is an in-memory broker queue: it redelivers what was neither
// acked nor dead-lettered, as a broker does after a give-back.
type memFeed struct {
	name string
	mu   sync.Mutex
	// queue holds the messages to deliver, as raw JSON bodies by id.
	queue   []string
	bodies  map[string]string
	acked   map[string]int
	dead    map[string]collector.Skip
	retried map[string]int
	// unsettled counts deliveries handed out and not yet settled.
	unsettled int
	// deadFails is how many more dead letters fail.
	deadFails int
}

func newMemFeed(name string) *memFeed {
	return &memFeed{name: name, bodies: map[string]string{}, acked: map[string]int{}, dead: map[string]collector.Skip{}, retried: map[string]int{}}
}

func (f *memFeed) publish(id, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bodies[id] = body
	f.queue = append(f.queue, id)
}

func (f *memFeed) Name() string { return f.name }

func (f *memFeed) Collect(context.Context, collector.Cursor, time.Time) (collector.Batch, error) {
	return collector.Batch{}, collector.ErrFeed
}

func (f *memFeed) Receive(ctx context.Context, max int, wait time.Duration) ([]collector.Message, error) {
	deadline := time.Now().Add(wait)
	for {
		f.mu.Lock()
		if len(f.queue) > 0 {
			n := min(max, len(f.queue))
			ids := f.queue[:n]
			f.queue = append([]string(nil), f.queue[n:]...)
			f.unsettled += n
			f.mu.Unlock()
			out := make([]collector.Message, n)
			for i, id := range ids {
				out[i] = collector.Message{ID: id, Delivery: memDelivery{f, id}}
				rec, err := collector.DecodeRecordJSON([]byte(f.bodies[id]))
				if err != nil {
					out[i].Poison = &collector.Skip{Resource: id, Reason: "not_json", Detail: err.Error()}
				} else {
					out[i].Record = rec
				}
			}
			return out, nil
		}
		f.mu.Unlock()
		if time.Now().After(deadline) {
			return nil, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

type memDelivery struct {
	f  *memFeed
	id string
}

func (d memDelivery) Ack(context.Context) error {
	d.f.mu.Lock()
	defer d.f.mu.Unlock()
	d.f.acked[d.id]++
	d.f.unsettled--
	return nil
}

func (d memDelivery) DeadLetter(_ context.Context, why collector.Skip) error {
	d.f.mu.Lock()
	defer d.f.mu.Unlock()
	if d.f.deadFails > 0 {
		d.f.deadFails--
		return fmt.Errorf("dead-letter queue unreachable")
	}
	d.f.dead[d.id] = why
	d.f.unsettled--
	return nil
}

func (d memDelivery) Retry(context.Context, time.Duration) error {
	d.f.mu.Lock()
	defer d.f.mu.Unlock()
	d.f.retried[d.id]++
	d.f.unsettled--
	d.f.queue = append(d.f.queue, d.id)
	return nil
}

func usageJSON(key, customer, qty string) string {
	return fmt.Sprintf(`{"idempotency_key":%q,"customer_id":%q,"metric_key":"backup.gb","quantity":%q,`+
		`"start_time":"2026-01-01T00:00:00Z","end_time":"2026-01-01T01:00:00Z","resource_id":"job-1","source":"queue:test"}`, key, customer, qty)
}

// TestFeedSettlesAfterBillingdAcks: a feed's good records are stored and
// acked once billingd acknowledged them; a message that is not JSON, a
// record breaking the format rules and a record billingd rejects are
// dead-lettered with their reasons; nothing is acked while billingd is
// down, and everything is once it is back.
func TestFeedSettlesAfterBillingdAcks(t *testing.T) {
	t.Parallel()
	fake := newFakeBillingd()
	fake.unavailable = true
	fake.reject = func(r *billingv1.UsageRecord) (string, string) {
		if r.GetCustomerId() == "hooli" {
			return "customer_id", `customer "hooli" not found`
		}
		return "", ""
	}
	feed := newMemFeed("q1")
	for i := range 25 {
		feed.publish(fmt.Sprintf("m%02d", i), usageJSON(fmt.Sprintf("k%02d", i), "acme", fmt.Sprintf("%d.25", i)))
	}
	feed.publish("bad-json", `{"idempotency_key": "x",`)
	feed.publish("bad-metric", strings.Replace(usageJSON("k-bad", "acme", "1"), "backup.gb", "Backup GB", 1))
	feed.publish("hooli", usageJSON("k-hooli", "hooli", "3"))
	feed.publish("m00-again", usageJSON("k00", "acme", "0.25")) // a producer's resend

	metrics := collector.NewMetrics(nil)
	r, err := collector.NewRunner(fake.serve(t), []collector.Schedule{{Source: feed, Interval: 20 * time.Millisecond}},
		collector.Options{StateDir: t.TempDir(), BatchSize: 10, Retry: fastRetry, Metrics: metrics})
	if err != nil {
		t.Fatal(err)
	}
	stop := collectortest.Background(r)

	collectortest.WaitFor(t, 15*time.Second, "push retries while billingd is down", func() bool {
		return collectortest.Value(metrics.Errors.WithLabelValues("q1", collector.StagePush)) >= 3
	})
	feed.mu.Lock()
	acked, unsettled := len(feed.acked), feed.unsettled
	feed.mu.Unlock()
	if acked != 0 || unsettled == 0 {
		t.Fatalf("while billingd is down: %d acked, %d unsettled; want none acked, some held", acked, unsettled)
	}
	fake.mu.Lock()
	fake.unavailable = false
	fake.mu.Unlock()
	collectortest.WaitFor(t, 15*time.Second, "every message settled", func() bool {
		feed.mu.Lock()
		defer feed.mu.Unlock()
		return len(feed.queue) == 0 && feed.unsettled == 0 && len(feed.acked)+len(feed.dead) == 29
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	stored, _, _ := fake.snapshot()
	total := decimal.Zero
	for _, rec := range stored {
		total = total.Add(decimal.RequireFromString(rec.GetQuantity()))
	}
	// 0.25 + 1.25 + … + 24.25 = 300 + 25 × 0.25
	if len(stored) != 25 || !total.Equal(decimal.RequireFromString("306.25")) {
		t.Errorf("stored %d records totalling %s, want 25 totalling 306.25", len(stored), total)
	}
	for id, n := range feed.acked {
		if n != 1 {
			t.Errorf("message %s acked %d times", id, n)
		}
	}
	if len(feed.acked) != 26 || feed.acked["m00-again"] != 1 {
		t.Errorf("acked %d messages (resend acked %d times); want 26 including the resend", len(feed.acked), feed.acked["m00-again"])
	}
	for id, reason := range map[string]string{"bad-json": "not_json", "bad-metric": "invalid_record", "hooli": "rejected"} {
		if got := feed.dead[id].Reason; got != reason {
			t.Errorf("message %s dead-lettered with %q, want %q", id, got, reason)
		}
	}
	if d := feed.dead["hooli"].Detail; !strings.Contains(d, `customer "hooli" not found`) || !strings.Contains(d, "k-hooli") {
		t.Errorf("rejection detail %q lacks the key and billingd's reason", d)
	}
	if len(feed.dead) != 3 {
		t.Errorf("dead letters %v, want 3", feed.dead)
	}
	for _, c := range []struct {
		name string
		got  float64
		want float64
	}{
		{"collected", collectortest.Value(metrics.Collected.WithLabelValues("q1")), 27},
		{"accepted", collectortest.Value(metrics.Pushed.WithLabelValues("q1", collector.ResultAccepted)), 25},
		{"duplicate", collectortest.Value(metrics.Pushed.WithLabelValues("q1", collector.ResultDuplicate)), 1},
		{"rejected", collectortest.Value(metrics.Pushed.WithLabelValues("q1", collector.ResultRejected)), 1},
		{"rejected customer_id", collectortest.Value(metrics.Rejected.WithLabelValues("q1", "customer_id")), 1},
		{"dead not_json", collectortest.Value(metrics.DeadLettered.WithLabelValues("q1", "not_json")), 1},
		{"dead invalid_record", collectortest.Value(metrics.DeadLettered.WithLabelValues("q1", "invalid_record")), 1},
		{"dead rejected", collectortest.Value(metrics.DeadLettered.WithLabelValues("q1", "rejected")), 1},
		{"skipped not_json", collectortest.Value(metrics.Skipped.WithLabelValues("q1", "not_json")), 1},
	} {
		if c.got != c.want {
			t.Errorf("metric %s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if collectortest.Value(metrics.LastSuccess.WithLabelValues("q1")) == 0 {
		t.Error("last success time not set")
	}
}

// TestFeedShutdownGivesMessagesBack: stopped while billingd is down, the
// runner gives the held messages back to the broker unacked.
func TestFeedShutdownGivesMessagesBack(t *testing.T) {
	t.Parallel()
	fake := newFakeBillingd()
	fake.unavailable = true
	feed := newMemFeed("q1")
	for i := range 5 {
		feed.publish(fmt.Sprintf("m%d", i), usageJSON(fmt.Sprintf("k%d", i), "acme", "1"))
	}
	metrics := collector.NewMetrics(nil)
	r, err := collector.NewRunner(fake.serve(t), []collector.Schedule{{Source: feed, Interval: 20 * time.Millisecond}},
		collector.Options{StateDir: t.TempDir(), Retry: fastRetry, Metrics: metrics})
	if err != nil {
		t.Fatal(err)
	}
	stop := collectortest.Background(r)
	collectortest.WaitFor(t, 15*time.Second, "push retries", func() bool {
		return collectortest.Value(metrics.Errors.WithLabelValues("q1", collector.StagePush)) >= 2
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	feed.mu.Lock()
	defer feed.mu.Unlock()
	if len(feed.acked) != 0 || len(feed.retried) != 5 || len(feed.queue) != 5 || feed.unsettled != 0 {
		t.Errorf("after shutdown: acked %v, retried %v, queued %v; want none acked, all 5 given back", feed.acked, feed.retried, feed.queue)
	}
}

// TestFailedDeadLetterIsNotAcked: while the dead letter cannot be stored,
// the poison message is given back, never acked, and dead-lettered at a
// later delivery.
func TestFailedDeadLetterIsNotAcked(t *testing.T) {
	t.Parallel()
	fake := newFakeBillingd()
	feed := newMemFeed("q1")
	feed.deadFails = 2
	feed.publish("poison", "{")
	feed.publish("good", usageJSON("k1", "acme", "1"))
	metrics := collector.NewMetrics(nil)
	r, err := collector.NewRunner(fake.serve(t), []collector.Schedule{{Source: feed, Interval: 10 * time.Millisecond}},
		collector.Options{StateDir: t.TempDir(), Retry: fastRetry, Metrics: metrics})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Poll(context.Background(), "q1"); err != nil {
		t.Fatal(err)
	}
	if feed.retried["poison"] != 2 || feed.acked["poison"] != 0 || feed.dead["poison"].Reason != "not_json" ||
		feed.acked["good"] != 1 || len(feed.queue) != 0 || feed.unsettled != 0 {
		t.Errorf("retried %v, acked %v, dead %v, queue %v; want the poison given back twice, then dead-lettered, never acked",
			feed.retried, feed.acked, feed.dead, feed.queue)
	}
	if n := collectortest.Value(metrics.Errors.WithLabelValues("q1", collector.StageSettle)); n != 2 {
		t.Errorf("settle errors = %v, want 2", n)
	}
}

// TestFeedOnceDrains: Poll of a feed receives until the queue stays empty
// for the interval, and Flush has nothing left to do.
func TestFeedOnceDrains(t *testing.T) {
	t.Parallel()
	fake := newFakeBillingd()
	feed := newMemFeed("q1")
	for i := range 23 {
		feed.publish(fmt.Sprintf("m%d", i), usageJSON(fmt.Sprintf("k%d", i), "acme", "2"))
	}
	r, err := collector.NewRunner(fake.serve(t), []collector.Schedule{{Source: feed, Interval: 10 * time.Millisecond}},
		collector.Options{StateDir: t.TempDir(), BatchSize: 5, Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Poll(context.Background(), "q1"); err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(context.Background(), "q1"); err != nil {
		t.Fatal(err)
	}
	stored, _, streams := fake.snapshot()
	if len(stored) != 23 || len(feed.acked) != 23 || streams != 5 {
		t.Errorf("stored %d, acked %d on %d streams; want 23, 23 on 5 (batches of 5)", len(stored), len(feed.acked), streams)
	}
}

// TestRefusedStreamRetriesAtLongestBackoff: a stream refused for the key
// (PermissionDenied, Unauthenticated) is retried, at the longest backoff,
// counted by code and logged as an error; an outage (Unavailable) is not
// a refusal and is retried at once.
func TestRefusedStreamRetriesAtLongestBackoff(t *testing.T) {
	t.Parallel()
	retry := collector.Backoff{Initial: time.Millisecond, Max: time.Second}
	run := func(codes ...codes.Code) (time.Duration, *collector.Metrics, string, int) {
		fake := newFakeBillingd()
		fake.refuse = codes
		log, logs := testLogger()
		metrics := collector.NewMetrics(nil)
		r := newRunner(t, fake.serve(t), t.TempDir(), &countingSource{name: "vc01", perWindow: 3},
			collector.Options{Log: log, Metrics: metrics, Retry: retry})
		if err := r.Poll(context.Background(), "vc01"); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := r.Flush(context.Background(), "vc01"); err != nil {
			t.Fatal(err)
		}
		stored, _, _ := fake.snapshot()
		return time.Since(start), metrics, logs.String(), len(stored)
	}

	took, metrics, logs, stored := run(codes.PermissionDenied, codes.Unauthenticated)
	// Each wait is in [max/2, max]: two of them take at least 1s.
	if took < time.Second || stored != 3 {
		t.Errorf("refused twice: delivered %d records after %v; want 3 after at least 1s", stored, took)
	}
	for code, want := range map[string]float64{"PermissionDenied": 1, "Unauthenticated": 1, "Unavailable": 0} {
		if got := collectortest.Value(metrics.Refused.WithLabelValues("vc01", code)); got != want {
			t.Errorf("push_refused_total{code=%s} = %v, want %v", code, got, want)
		}
	}
	if n := strings.Count(logs, `level=ERROR msg="usage stream failed: billingd refused it`); n != 2 {
		t.Errorf("%d refusals logged at error, want 2:\n%s", n, logs)
	}

	took, metrics, _, stored = run(codes.Unavailable, codes.Unavailable)
	// Waits of about 1ms and 2ms; far below the 500ms of one refused wait.
	if took > 500*time.Millisecond || stored != 3 || collectortest.Value(metrics.Refused.WithLabelValues("vc01", "Unavailable")) != 0 {
		t.Errorf("unavailable twice: delivered %d after %v; want 3 well under 500ms, no refusal counted", stored, took)
	}
}

func TestDecodeRecordJSON(t *testing.T) {
	t.Parallel()
	r, err := collector.DecodeRecordJSON([]byte(`{"idempotencyKey":"k1","customer_id":"acme","metricKey":"licence.sql",
		"quantity":"12.50","time":"2026-01-02T03:04:05Z","resource_id":"vm-1","organisationId":"org","vdc_id":"vdc",
		"site":"ams","source":"queue:q","dimensions":{"edition":"standard"}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := collector.Record{Key: "k1", CustomerID: "acme", Metric: "licence.sql", Quantity: decimal.RequireFromString("12.5"),
		Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), ResourceID: "vm-1", OrganisationID: "org", VdcID: "vdc",
		Site: "ams", Source: "queue:q", Dimensions: map[string]string{"edition": "standard"}}
	if fmt.Sprint(r) != fmt.Sprint(want) || !r.Quantity.Equal(want.Quantity) || r.Check() != nil {
		t.Errorf("decoded %+v\nwant    %+v (check: %v)", r, want, r.Check())
	}
	for body, wantErr := range map[string]string{
		`{"idempotency_key":"k","quantity":"1e3"}`:               `quantity: "1e3" is not a decimal`,
		`{"idempotency_key":"k","quantity":4}`:                   "not a usage record",
		`{"idempotency_key":"k","quantity":"4","colour":"blue"}`: "not a usage record",
		`[1,2]`: "not a usage record",
	} {
		if _, err := collector.DecodeRecordJSON([]byte(body)); err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%s: error %v, want %q", body, err, wantErr)
		}
	}
}
