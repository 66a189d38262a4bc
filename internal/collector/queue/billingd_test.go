package queue_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/collector"
	"github.com/billingd/billingd/internal/collector/collectortest"
)

// testBillingd is the real billingd on a fresh PostgreSQL database, reached
// through a TCP proxy that the test can cut to make billingd unreachable.
type testBillingd struct {
	*collectortest.Billingd
	usage billingv1.UsageServiceClient // as the collector: a collector key, through the proxy
	proxy *proxy
}

func startBillingd(t *testing.T) *testBillingd {
	t.Helper()
	bd := collectortest.StartBillingd(t)
	seed(t, bd)
	reach := bd.CollectorKey(t, "queue collector", nil, nil)
	p := startProxy(t, reach.Address)
	reach.Address = p.addr
	return &testBillingd{Billingd: bd, usage: billingv1.NewUsageServiceClient(collectortest.Dial(t, reach)), proxy: p}
}

// seed creates customer acme and the metrics backup.gb and licence.sql
// (both summed); customer hooli and metric backup.unknown do not exist.
func seed(t *testing.T, bd *collectortest.Billingd) {
	t.Helper()
	bd.Customers(t, "acme")
	bd.Metrics(t, collectortest.Sums("backup.gb", "licence.sql")...)
}

// total sums acme's stored quantities of metric.
func (b *testBillingd) total(t *testing.T, metric string) decimal.Decimal {
	t.Helper()
	sum := decimal.Zero
	for _, u := range b.Usage(t, "acme") {
		if u.GetMetricKey() == metric {
			sum = sum.Add(decimal.RequireFromString(u.GetQuantity()))
		}
	}
	return sum
}

// stored lists acme's usage in billingd as "key metric=quantity source" lines, sorted.
func (b *testBillingd) stored(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, u := range b.Usage(t, "acme") {
		out = append(out, u.GetIdempotencyKey()+" "+u.GetMetricKey()+"="+u.GetQuantity()+" "+u.GetSource())
	}
	slices.Sort(out)
	return out
}

// receiver is what the broker sources are to a test that plays a
// collector by hand.
type receiver interface {
	Receive(ctx context.Context, max int, wait time.Duration) ([]collector.Message, error)
	Close() error
}

// openFeed builds a queue source of type F from spec, closed when the test ends.
func openFeed[F receiver](t *testing.T, build collector.Builder, name, spec string) F {
	t.Helper()
	src, err := build(name, collectortest.YAMLNode(t, spec))
	if err != nil {
		t.Fatal(err)
	}
	f := src.(F)
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// crashAfterStoring plays a collector that received k-crash, had billingd
// store it, and died before it acked the broker.
func crashAfterStoring(t *testing.T, b *testBillingd, publish func([]byte), open func() receiver) {
	t.Helper()
	publish(record("k-crash", "acme", "licence.sql", "3"))
	crashed := open()
	msgs, err := crashed.Receive(context.Background(), 10, 5*time.Second)
	if err != nil || len(msgs) != 1 || msgs[0].Record.Key != "k-crash" {
		t.Fatalf("crashed collector received %+v, %v", msgs, err)
	}
	ingest(t, b.usage, msgs[0])
	_ = crashed.Close()
}

// publishFirst publishes ten good records k-00…k-09 (backup.gb 0.5…9.5) and
// four poison messages: not JSON, a malformed metric key, an unknown
// customer and an unknown metric.
func publishFirst(publish func([]byte)) {
	for i := range 10 {
		publish(record(fmt.Sprintf("k-%02d", i), "acme", "backup.gb", fmt.Sprintf("%d.5", i)))
	}
	publish([]byte("backup.gb acme 12"))
	publish(record("k-badmetric", "acme", "Backup GB", "1"))
	publish(record("k-hooli", "hooli", "backup.gb", "2"))
	publish(record("k-unknown-metric", "acme", "backup.unknown", "2"))
}

// publishOutage publishes the five good records k-10…k-14 of the outage.
func publishOutage(publish func([]byte)) {
	for i := 10; i < 15; i++ {
		publish(record(fmt.Sprintf("k-%02d", i), "acme", "backup.gb", fmt.Sprintf("%d.5", i)))
	}
}

// checkStored checks that billingd holds exactly k-crash and k-00…k-14,
// each once, from source.
func checkStored(t *testing.T, b *testBillingd, source string) {
	t.Helper()
	want := []string{"k-crash licence.sql=3 " + source}
	for i := range 15 {
		want = append(want, fmt.Sprintf("k-%02d backup.gb=%d.5 %s", i, i, source))
	}
	slices.Sort(want)
	if got := b.stored(t); !slices.Equal(got, want) {
		t.Errorf("acme's usage in billingd:\n got %q\nwant %q", got, want)
	}
	// 0.5 + 1.5 + … + 14.5 = 15²/2
	if got := b.total(t, "backup.gb"); got.String() != "112.5" {
		t.Errorf("acme's backup.gb total = %s, want 112.5", got)
	}
}

// proxy forwards TCP to billingd; down() cuts every connection and refuses
// new ones (accepted and closed at once) until up().
type proxy struct {
	addr   string
	target string
	mu     sync.Mutex
	isDown bool
	conns  map[net.Conn]bool
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{addr: lis.Addr().String(), target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { _ = lis.Close(); p.down() })
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *proxy) serve(c net.Conn) {
	p.mu.Lock()
	if p.isDown {
		p.mu.Unlock()
		_ = c.Close()
		return
	}
	p.mu.Unlock()
	u, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	if p.isDown {
		p.mu.Unlock()
		_ = c.Close()
		_ = u.Close()
		return
	}
	p.conns[c], p.conns[u] = true, true
	p.mu.Unlock()
	go func() { _, _ = io.Copy(u, c); _ = u.Close() }()
	_, _ = io.Copy(c, u)
	_ = c.Close()
}

func (p *proxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.isDown = true
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

func (p *proxy) up() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.isDown = false
}

// record is a usage record message body, as a producer writes it.
func record(key, customer, metric, qty string) []byte {
	return fmt.Appendf(nil, `{"idempotency_key":%q,"customer_id":%q,"metric_key":%q,"quantity":%q,`+
		`"start_time":"2026-01-01T00:00:00Z","end_time":"2026-02-01T00:00:00Z","resource_id":"contract-1"}`, key, customer, metric, qty)
}

// ingest stores a record in billingd the way a collector that crashed
// before acking the broker would have.
func ingest(t *testing.T, usage billingv1.UsageServiceClient, m collector.Message) {
	t.Helper()
	res, err := usage.BatchIngestUsage(context.Background(), &billingv1.BatchIngestUsageRequest{Records: []*billingv1.UsageRecord{{
		IdempotencyKey: m.Record.Key, CustomerId: m.Record.CustomerID, MetricKey: m.Record.Metric, Quantity: m.Record.Quantity.String(),
		StartTime: timestamp(m.Record.Start), EndTime: timestamp(m.Record.End), ResourceId: m.Record.ResourceID, Source: m.Record.Source,
	}}})
	if err != nil || res.GetAccepted() != 1 {
		t.Fatalf("storing the crashed delivery: %v, %v", res, err)
	}
}

// run runs a Runner of src in the background until the test ends or
// stop is called.
func run(t *testing.T, usage billingv1.UsageServiceClient, src collector.Source, metrics *collector.Metrics, log *slog.Logger) (stop func()) {
	t.Helper()
	r, err := collector.NewRunner(usage, []collector.Schedule{{Source: src, Interval: 200 * time.Millisecond}}, collector.Options{
		StateDir: t.TempDir(), BatchSize: 4, Retry: collector.Backoff{Initial: 10 * time.Millisecond, Max: 200 * time.Millisecond},
		Metrics: metrics, Log: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	background := collectortest.Background(r)
	stop = func() {
		if err := background(); err != nil && !errors.Is(err, context.Canceled) {
			panic(err)
		}
	}
	t.Cleanup(stop)
	return stop
}

func timestamp(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t) }
