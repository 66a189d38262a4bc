package queue_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/billingd/billingd/internal/collector"
	"github.com/billingd/billingd/internal/collector/collectortest"
	"github.com/billingd/billingd/internal/collector/queue"
)

const rabbitURL = "amqp://127.0.0.1:5672/"

// TestRabbitMQIntoBillingd: a RabbitMQ queue → rabbitmq source → runner →
// the real billingd on PostgreSQL, as TestNATSIntoBillingd:
//
//   - a delivery whose record billingd stored before the collector crashed
//     (connection closed, no ack) is requeued, comes back as a duplicate,
//     is acked and counted once;
//   - ten good records are stored once each and acked;
//   - a body that is not JSON, a malformed metric key, an unknown customer
//     and an unknown metric end in the dead-letter queue with their reasons
//     in headers, and are acked;
//   - while billingd is unreachable, five messages are received but not
//     acked: when that collector stops they are all back in the queue; a
//     new collector delivers them once billingd is back.
func TestRabbitMQIntoBillingd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := startBillingd(t)
	id := collectortest.Suffix(t)
	usageQ, deadQ := "billingd-test-"+id+"-usage", "billingd-test-"+id+"-dead"
	ch := collectortest.RabbitChannel(t)
	for _, q := range []string{usageQ, deadQ} {
		if _, err := ch.QueueDeclare(q, true, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _, _ = ch.QueueDelete(q, false, false, false) })
	}
	publish := func(body []byte) {
		t.Helper()
		if err := ch.PublishWithContext(ctx, "", usageQ, false, false, amqp.Publishing{ContentType: "application/json", Body: body, DeliveryMode: amqp.Persistent}); err != nil {
			t.Fatal(err)
		}
	}
	ready := func() int {
		t.Helper()
		q, err := ch.QueueDeclarePassive(usageQ, true, false, false, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		return q.Messages
	}
	pw := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(pw, []byte("guest\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	spec := fmt.Sprintf(`{url: %q, username: guest, password: {file: %s}, queue: %s, prefetch: 50, dead_letter_routing_key: %s}`, rabbitURL, pw, usageQ, deadQ)
	newFeed := func() *queue.RabbitMQ { return openFeed[*queue.RabbitMQ](t, queue.BuildRabbitMQ, "usage-amqp", spec) }
	crashAfterStoring(t, b, publish, func() receiver { return newFeed() })
	publishFirst(publish)

	metrics := collector.NewMetrics(nil)
	log, logs := collectortest.Log()
	count := func(result string) float64 {
		return collectortest.Value(metrics.Pushed.WithLabelValues("usage-amqp", result))
	}
	dead := func() float64 {
		n := 0.0
		for _, r := range []string{"not_json", "invalid_record", "rejected"} {
			n += collectortest.Value(metrics.DeadLettered.WithLabelValues("usage-amqp", r))
		}
		return n
	}
	feed := newFeed()
	stopRunner := run(t, b.usage, feed, metrics, log)
	collectortest.WaitFor(t, 30*time.Second, "the first 15 messages settled", func() bool {
		return count(collector.ResultAccepted) == 10 && count(collector.ResultDuplicate) == 1 && dead() == 4
	})

	// billingd unreachable: received, pushed in vain, not acked.
	b.proxy.down()
	publishOutage(publish)
	collectortest.WaitFor(t, 30*time.Second, "failed pushes", func() bool {
		return collectortest.Value(metrics.Errors.WithLabelValues("usage-amqp", collector.StagePush)) >= 3
	})
	stopRunner()
	_ = feed.Close() // as billingd-collect does at exit: prefetched messages go back too
	// Only unacknowledged messages can come back: all five are ready again.
	collectortest.WaitFor(t, 30*time.Second, "the five messages back in the queue", func() bool { return ready() == 5 })
	if n := count(collector.ResultAccepted); n != 10 {
		t.Fatalf("accepted %v while billingd was down, want still 10", n)
	}
	b.proxy.up()
	run(t, b.usage, newFeed(), metrics, log)
	collectortest.WaitFor(t, 30*time.Second, "the outage's messages settled", func() bool { return count(collector.ResultAccepted) == 15 && ready() == 0 })

	checkStored(t, b, "rabbitmq:usage-amqp")
	for name, c := range map[string]struct{ got, want float64 }{
		"duplicate":              {count(collector.ResultDuplicate), 1},
		"rejected":               {count(collector.ResultRejected), 2},
		"dead-lettered not_json": {collectortest.Value(metrics.DeadLettered.WithLabelValues("usage-amqp", "not_json")), 1},
		"dead-lettered invalid":  {collectortest.Value(metrics.DeadLettered.WithLabelValues("usage-amqp", "invalid_record")), 1},
		"dead-lettered rejected": {collectortest.Value(metrics.DeadLettered.WithLabelValues("usage-amqp", "rejected")), 2},
	} {
		if c.got != c.want {
			t.Errorf("metric %s = %v, want %v", name, c.got, c.want)
		}
	}

	var dl []string
	for {
		d, ok, err := ch.Get(deadQ, true)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		dl = append(dl, fmt.Sprint(d.Headers[queue.HeaderReason], " | ", d.Headers[queue.HeaderDetail], " | ",
			d.Headers[queue.HeaderOriginalSubject], " | ", d.DeliveryMode, " | ", string(d.Body)))
	}
	slices.Sort(dl)
	if len(dl) != 4 {
		t.Fatalf("dead letters:\n%s\nwant 4", strings.Join(dl, "\n"))
	}
	for i, want := range []string{
		"invalid_record | k-badmetric: metric \"Backup GB\" must match",
		"not_json | not a usage record: ",
		"rejected | billingd rejected k-hooli: customer_id: ",
		"rejected | billingd rejected k-unknown-metric: metric_key: ",
	} {
		if !strings.HasPrefix(dl[i], want) || !strings.Contains(dl[i], " | "+usageQ+" | 2 | ") {
			t.Errorf("dead letter %d = %q, want it to start with %q, name %s and be persistent", i, dl[i], want, usageQ)
		}
	}
	if !strings.HasSuffix(dl[1], "| backup.gb acme 12") || !strings.Contains(dl[2], `"customer_id":"hooli"`) {
		t.Errorf("dead letters do not carry the original bodies:\n%s", strings.Join(dl, "\n"))
	}
	if t.Failed() {
		t.Logf("collector log:\n%s", logs)
	}
}

// TestRabbitMQUnroutableDeadLetterIsNotAcked: with a dead-letter routing
// key that reaches no queue, the poison message is returned by the broker,
// so it is not acked: it stays in the queue for a later, fixed run.
func TestRabbitMQUnroutableDeadLetterIsNotAcked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	usageQ := "billingd-test-" + collectortest.Suffix(t) + "-usage"
	ch := collectortest.RabbitChannel(t)
	if _, err := ch.QueueDeclare(usageQ, false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = ch.QueueDelete(usageQ, false, false, false) })
	if err := ch.PublishWithContext(ctx, "", usageQ, false, false, amqp.Publishing{Body: []byte("not json")}); err != nil {
		t.Fatal(err)
	}
	f, err := queue.NewRabbitMQ("usage-amqp", queue.RabbitMQConfig{URL: rabbitURL, Username: "guest",
		Password: collector.NewSecret("guest", "test"), Queue: usageQ, DeadLetterRoutingKey: usageQ + "-nowhere"})
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := f.Receive(ctx, 10, 5*time.Second)
	if err != nil || len(msgs) != 1 || msgs[0].Poison == nil || msgs[0].Poison.Reason != queue.ReasonNotJSON {
		t.Fatalf("received %+v, %v; want one not_json message", msgs, err)
	}
	err = msgs[0].Delivery.DeadLetter(ctx, *msgs[0].Poison)
	if err == nil || !strings.Contains(err.Error(), "returned") {
		t.Errorf("dead letter to nowhere: %v, want a return error", err)
	}
	_ = f.Close()
	collectortest.WaitFor(t, 30*time.Second, "the message back in the queue", func() bool {
		q, err := ch.QueueDeclarePassive(usageQ, false, false, false, false, nil)
		return err == nil && q.Messages == 1
	})
}

func TestRabbitMQConfig(t *testing.T) {
	t.Parallel()
	_, err := queue.BuildRabbitMQ("q", collectortest.YAMLNode(t, `{url: "amqp://guest:guest@host/", queue: usage, dead_letter_routing_key: usage}`))
	for _, want := range []string{"must not hold credentials", "dead letters must not go to the consumed queue"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
}

// TestConfigFileBuildsQueueSources: a billingd-collect configuration with
// both queue types parses and builds into Feeds, as cmd/billingd-collect
// does with its builders map.
func TestConfigFileBuildsQueueSources(t *testing.T) {
	t.Parallel()
	pw := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(pw, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := collector.Parse([]byte(fmt.Sprintf(`
billingd: {address: "billingd.internal:9090"}
state_dir: /var/lib/billingd-collect
sources:
  - name: usage-nats
    interval: 2s
    nats: {url: "nats://nats1:4222", stream: USAGE, subjects: [usage.records], dead_letter_subject: usage.dead, allowed_sources: [veeam:ams]}
  - name: usage-amqp
    interval: 2s
    rabbitmq:
      url: amqps://rabbit:5671/billing
      username: billingd
      password: {file: %s}
      queue: usage
      dead_letter_routing_key: usage.dead
`, pw)))
	if err != nil {
		t.Fatal(err)
	}
	scheds, err := cfg.Build(map[string]collector.Builder{queue.NATSType: queue.BuildNATS, queue.RabbitMQType: queue.BuildRabbitMQ})
	if err != nil {
		t.Fatal(err)
	}
	if len(scheds) != 2 || scheds[0].Source.Name() != "usage-nats" || scheds[1].Source.Name() != "usage-amqp" || scheds[0].Interval != 2*time.Second {
		t.Fatalf("schedules %+v", scheds)
	}
	for _, s := range scheds {
		if _, ok := s.Source.(collector.Feed); !ok {
			t.Errorf("%s is not a collector.Feed", s.Source.Name())
		}
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if got := fmt.Sprintf(verb, scheds); strings.Contains(got, "s3cret") {
			t.Errorf("the password shows when the sources are printed with %s: %s", verb, got)
		}
	}
}
