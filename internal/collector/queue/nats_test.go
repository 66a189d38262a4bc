package queue_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/billingd/billingd/internal/collector"
	"github.com/billingd/billingd/internal/collector/collectortest"
	"github.com/billingd/billingd/internal/collector/queue"
)

const natsURL = "nats://127.0.0.1:4222"

// TestNATSIntoBillingd: a JetStream stream → nats source → runner → the real
// billingd on PostgreSQL.
//
//   - A collector "crashed" after billingd stored record k-crash and before
//     it acked the broker; JetStream redelivers it after ack_wait, billingd
//     answers duplicate, the message is acked and the record counted once.
//   - Ten good records are stored once each and acked.
//   - A body that is not JSON, a record with a malformed metric key, one for
//     an unknown customer and one for an unknown metric end in the
//     dead-letter subject, with their reasons in headers, and are acked.
//   - While billingd is unreachable (longer than ack_wait), five more
//     messages are delivered but stay unacknowledged; once it is back they
//     are stored and acked.
//
// In the end billingd holds exactly the 16 good records and the consumer
// has nothing pending or unacknowledged.
func TestNATSIntoBillingd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := startBillingd(t)
	id := collectortest.Suffix(t)
	usageSubj, deadSubj := "billingd-test."+id+".usage", "billingd-test."+id+".dead"
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	streamName := "BILLINGD_TEST_" + id
	stream, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: streamName, Subjects: []string{usageSubj, deadSubj}, Storage: jetstream.MemoryStorage})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = js.DeleteStream(context.Background(), streamName) })
	publish := func(body []byte) {
		t.Helper()
		if _, err := js.Publish(ctx, usageSubj, body); err != nil {
			t.Fatal(err)
		}
	}
	spec := fmt.Sprintf(`{url: %q, stream: %s, subjects: [%s], dead_letter_subject: %s, ack_wait: 1s}`, natsURL, streamName, usageSubj, deadSubj)
	newFeed := func() *queue.NATS { return openFeed[*queue.NATS](t, queue.BuildNATS, "usage-nats", spec) }
	crashAfterStoring(t, b, publish, func() receiver { return newFeed() })
	publishFirst(publish)

	metrics := collector.NewMetrics(nil)
	log, logs := collectortest.Log()
	stopRunner := run(t, b.usage, newFeed(), metrics, log)
	count := func(result string) float64 {
		return collectortest.Value(metrics.Pushed.WithLabelValues("usage-nats", result))
	}
	cons, err := js.Consumer(ctx, streamName, "billingd-usage-nats")
	if err != nil {
		t.Fatal(err)
	}
	settled := func() bool {
		info, err := cons.Info(ctx)
		return err == nil && info.NumPending == 0 && info.NumAckPending == 0
	}
	collectortest.WaitFor(t, 30*time.Second, "the first 15 messages settled", func() bool {
		return count(collector.ResultAccepted) == 10 && count(collector.ResultDuplicate) == 1 && settled()
	})

	// billingd unreachable: delivered, pushed in vain, not acked.
	before, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b.proxy.down()
	publishOutage(publish)
	collectortest.WaitFor(t, 30*time.Second, "failed pushes", func() bool {
		return collectortest.Value(metrics.Errors.WithLabelValues("usage-nats", collector.StagePush)) >= 3
	})
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The batch being pushed is delivered and unacknowledged; the messages
	// published after it wait in the stream; the ack floor has not moved.
	if info.NumAckPending == 0 || info.NumAckPending+int(info.NumPending) != 5 || info.AckFloor.Stream != before.AckFloor.Stream ||
		count(collector.ResultAccepted) != 10 {
		t.Fatalf("while billingd is down: %d unacknowledged, %d undelivered, ack floor %d (was %d), %v accepted; want 5 in all, some delivered, floor unmoved, 10",
			info.NumAckPending, info.NumPending, info.AckFloor.Stream, before.AckFloor.Stream, count(collector.ResultAccepted))
	}
	// An outage longer than ack_wait: the late acks still count, so no
	// message is delivered again (the duplicate count stays 1).
	time.Sleep(1500 * time.Millisecond)
	b.proxy.up()
	collectortest.WaitFor(t, 30*time.Second, "the outage's messages settled", func() bool { return count(collector.ResultAccepted) == 15 && settled() })
	stopRunner()

	checkStored(t, b, "nats:usage-nats")
	for name, c := range map[string]struct{ got, want float64 }{
		"accepted":                    {count(collector.ResultAccepted), 15},
		"duplicate":                   {count(collector.ResultDuplicate), 1},
		"rejected":                    {count(collector.ResultRejected), 2},
		"dead-lettered not_json":      {collectortest.Value(metrics.DeadLettered.WithLabelValues("usage-nats", "not_json")), 1},
		"dead-lettered invalid":       {collectortest.Value(metrics.DeadLettered.WithLabelValues("usage-nats", "invalid_record")), 1},
		"dead-lettered rejected":      {collectortest.Value(metrics.DeadLettered.WithLabelValues("usage-nats", "rejected")), 2},
		"collected (good, received)":  {collectortest.Value(metrics.Collected.WithLabelValues("usage-nats")), 18},
		"settle errors":               {collectortest.Value(metrics.Errors.WithLabelValues("usage-nats", collector.StageSettle)), 0},
		"rejected field customer_id":  {collectortest.Value(metrics.Rejected.WithLabelValues("usage-nats", "customer_id")), 1},
		"rejected field metric_key":   {collectortest.Value(metrics.Rejected.WithLabelValues("usage-nats", "metric_key")), 1},
		"last success set (non-zero)": {min(collectortest.Value(metrics.LastSuccess.WithLabelValues("usage-nats")), 1), 1},
	} {
		if c.got != c.want {
			t.Errorf("metric %s = %v, want %v", name, c.got, c.want)
		}
	}

	// The dead letters: original bodies, reasons in headers.
	dl, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{FilterSubject: deadSubj, AckPolicy: jetstream.AckNonePolicy})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := dl.Fetch(10, jetstream.FetchMaxWait(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var dead []string
	for m := range batch.Messages() {
		h := m.Headers()
		dead = append(dead, h.Get(queue.HeaderReason)+" | "+h.Get(queue.HeaderDetail)+" | "+h.Get(queue.HeaderOriginalSubject)+" | "+string(m.Data()))
	}
	slices.Sort(dead)
	if len(dead) != 4 {
		t.Fatalf("dead letters:\n%s\nwant 4", strings.Join(dead, "\n"))
	}
	for i, want := range []string{
		"invalid_record | k-badmetric: metric \"Backup GB\" must match",
		"not_json | not a usage record: ",
		"rejected | billingd rejected k-hooli: customer_id: ",
		"rejected | billingd rejected k-unknown-metric: metric_key: ",
	} {
		if !strings.HasPrefix(dead[i], want) || !strings.Contains(dead[i], " | "+usageSubj+" | ") {
			t.Errorf("dead letter %d = %q, want it to start with %q and name %s", i, dead[i], want, usageSubj)
		}
	}
	if !strings.Contains(dead[1], "| backup.gb acme 12") || !strings.Contains(dead[2], `"customer_id":"hooli"`) {
		t.Errorf("dead letters do not carry the original bodies:\n%s", strings.Join(dead, "\n"))
	}
	if t.Failed() {
		t.Logf("collector log:\n%s", logs)
	}
}

func TestNATSConfig(t *testing.T) {
	t.Parallel()
	_, err := queue.BuildNATS("q", collectortest.YAMLNode(t, `{url: "nats://x:4222", stream: S, subjects: [usage.>], dead_letter_subject: usage.dead, ack_wait: 10ms, colour: blue}`))
	if err == nil || !strings.Contains(err.Error(), "colour") {
		t.Errorf("unknown key: %v", err)
	}
	src, err := queue.BuildNATS("q", collectortest.YAMLNode(t, `{url: "nats://x:4222", stream: S, dead_letter_subject: dead, allowed_sources: [a], allowed_sites: [b]}`))
	if err != nil || src.Name() != "q" {
		t.Errorf("allowed_sources and allowed_sites: %v", err)
	}
	_, err = queue.BuildNATS("q", collectortest.YAMLNode(t, `{url: "nats://x:4222", subjects: [usage.>], dead_letter_subject: usage.dead, ack_wait: 10ms}`))
	for _, want := range []string{"stream is required", `"usage.dead" matches subject "usage.>"`, "ack_wait 10ms must be at least 1s"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
}
