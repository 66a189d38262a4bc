package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"buf.build/go/protovalidate"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/rpc"
	"github.com/billingd/billingd/internal/store/postgres"
	"github.com/billingd/billingd/internal/store/postgres/pgtest"
	"github.com/billingd/billingd/internal/usage"
)

// usageEnv is the usage service over a fresh database, served with the
// same validation interceptors as billingd on a loopback listener, plus a
// direct connection to count rows and to cut the server's connections.
type usageEnv struct {
	client billingv1.UsageServiceClient
	db     *pgx.Conn
	url    string
}

func newUsageEnv(t *testing.T) *usageEnv {
	t.Helper()
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	store, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	db := usageConnect(t, url)
	usageSeed(t, db)

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	validator, err := protovalidate.New()
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(
		grpc.ChainUnaryInterceptor(rpc.RecoverUnary(log), rpc.ValidateUnary(validator)),
		grpc.ChainStreamInterceptor(rpc.RecoverStream(log), rpc.ValidateStream(validator)),
	)
	billingv1.RegisterUsageServiceServer(srv, rpc.NewUsageServer(usage.New(store.Usage(), nil), log))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis) //nolint:errcheck // returns when the server stops
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &usageEnv{client: billingv1.NewUsageServiceClient(conn), db: db, url: url}
}

// usageConnect opens a plain connection to a pgtest database.
func usageConnect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(url) // drops the pool_* settings a plain connection refuses
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.ConnectConfig(context.Background(), cfg.ConnConfig)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// usageSeed creates the customers acme and globex and the metrics vm.vcpu
// (a gauge) and net.egress_gb (a counter).
func usageSeed(t *testing.T, db *pgx.Conn) {
	t.Helper()
	ctx := context.Background()
	for _, sql := range []string{
		`INSERT INTO customers (id, display_name, create_time, update_time) VALUES
			('acme', 'Acme', now(), now()), ('globex', 'Globex', now(), now())`,
		`INSERT INTO metrics (key, unit, aggregation, create_time, update_time) VALUES
			('vm.vcpu', 'vCPU', 'time_weighted_avg', now(), now()), ('net.egress_gb', 'GB', 'sum', now(), now())`,
	} {
		if _, err := db.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
}

// usageBase is where test records start: recent, so that they pass the
// service's real clock.
var usageBase = time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Hour)

// usageRecord is record i of a test stream: keyed by prefix and i, one per
// second, alternating customers, quantity i%7 + 0.5.
func usageRecord(prefix string, i int) *billingv1.UsageRecord {
	return &billingv1.UsageRecord{
		IdempotencyKey: fmt.Sprintf("%s-%06d", prefix, i),
		CustomerId:     []string{"acme", "globex"}[i%2],
		MetricKey:      "vm.vcpu",
		Quantity:       fmt.Sprintf("%d.5", i%7),
		Time:           timestamppb.New(usageBase.Add(time.Duration(i) * time.Second)),
		ResourceId:     fmt.Sprintf("vm-%d", i%10),
		Dimensions:     map[string]string{"policy": "Gold"},
	}
}

// usageSum is the sum of the quantities of records [0, n).
func usageSum(n int) decimal.Decimal {
	sum := decimal.Zero
	for i := range n {
		sum = sum.Add(decimal.RequireFromString(fmt.Sprintf("%d.5", i%7)))
	}
	return sum
}

// usageBatches cuts records [0, n) into batches of size.
func usageBatches(prefix string, n, size int) [][]*billingv1.UsageRecord {
	var out [][]*billingv1.UsageRecord
	for lo := 0; lo < n; lo += size {
		var b []*billingv1.UsageRecord
		for i := lo; i < min(lo+size, n); i++ {
			b = append(b, usageRecord(prefix, i))
		}
		out = append(out, b)
	}
	return out
}

// usageStream sends batches[from:] on one stream, batch i with sequence
// i+1, without waiting for acknowledgements, and reads them as they come.
// It returns the acknowledgements (in order) and the error that ended the
// stream, if any. onAck, when set, runs for each acknowledgement.
func usageStream(ctx context.Context, c billingv1.UsageServiceClient, batches [][]*billingv1.UsageRecord, from int,
	onAck func(*billingv1.IngestUsageResponse),
) ([]*billingv1.IngestUsageResponse, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s, err := c.IngestUsage(ctx)
	if err != nil {
		return nil, err
	}
	go func() {
		for i := from; i < len(batches); i++ {
			if s.Send(&billingv1.IngestUsageRequest{Sequence: uint64(i + 1), Records: batches[i]}) != nil {
				return // Recv reports why
			}
		}
		_ = s.CloseSend()
	}()
	var acks []*billingv1.IngestUsageResponse
	for {
		ack, err := s.Recv()
		if errors.Is(err, io.EOF) {
			if len(acks) != len(batches)-from {
				return acks, fmt.Errorf("stream ended after %d of %d acknowledgements", len(acks), len(batches)-from)
			}
			return acks, nil
		}
		if err != nil {
			return acks, err
		}
		if want := uint64(from + len(acks) + 1); ack.GetSequence() != want {
			return acks, fmt.Errorf("acknowledgement for sequence %d, want %d", ack.GetSequence(), want)
		}
		acks = append(acks, ack)
		if onAck != nil {
			onAck(ack)
		}
	}
}

// usageTotals adds up acknowledgements.
func usageTotals(acks []*billingv1.IngestUsageResponse) (accepted, duplicates, rejected int) {
	for _, a := range acks {
		accepted += int(a.GetAccepted())
		duplicates += int(a.GetDuplicates())
		rejected += len(a.GetRejected())
	}
	return
}

// wantUsageStored checks usage_records holds n rows with n distinct keys
// (the test keys are unique) and that the quantities add up.
func wantUsageStored(t *testing.T, db *pgx.Conn, n int) {
	t.Helper()
	var keys, recs int
	var sum decimal.Decimal
	err := db.QueryRow(context.Background(), `SELECT count(DISTINCT idempotency_key), count(*), COALESCE(sum(quantity), 0)
		FROM usage_records`).Scan(&keys, &recs, &sum)
	if err != nil {
		t.Fatal(err)
	}
	if keys != n || recs != n || !sum.Equal(usageSum(n)) {
		t.Fatalf("distinct keys=%d usage_records=%d sum=%s, want %d, %d, %s", keys, recs, sum, n, n, usageSum(n))
	}
}

func TestIngestUsageStoresGoodRecordsAndNamesBadOnes(t *testing.T) {
	t.Parallel()
	env := newUsageEnv(t)
	ctx := context.Background()
	at := func(d time.Duration) *timestamppb.Timestamp { return timestamppb.New(time.Now().Add(d)) }
	ok := func(key string) *billingv1.UsageRecord {
		return &billingv1.UsageRecord{IdempotencyKey: key, CustomerId: "acme", MetricKey: "vm.vcpu", Quantity: "4", Time: at(-time.Hour)}
	}
	with := func(f func(*billingv1.UsageRecord)) *billingv1.UsageRecord { r := ok("bad"); f(r); return r }
	type bad struct {
		rec    *billingv1.UsageRecord
		field  string
		reason string
	}
	bads := []bad{
		{with(func(r *billingv1.UsageRecord) { r.IdempotencyKey = "bad-customer"; r.CustomerId = "initech" }), "customer_id", "not found"},
		{with(func(r *billingv1.UsageRecord) { r.IdempotencyKey = "bad-metric"; r.MetricKey = "vm.gpu" }), "metric_key", "not found"},
		{with(func(r *billingv1.UsageRecord) { r.IdempotencyKey = "bad-exp"; r.Quantity = "1e3" }), "quantity", "plain decimal"},
		{with(func(r *billingv1.UsageRecord) { r.IdempotencyKey = "bad-abc"; r.Quantity = "abc" }), "quantity", "plain decimal"},
		{with(func(r *billingv1.UsageRecord) {
			r.IdempotencyKey, r.Time, r.StartTime, r.EndTime = "bad-window", nil, at(-time.Hour), at(-2*time.Hour)
		}), "end_time", "after start_time"},
		{with(func(r *billingv1.UsageRecord) { r.IdempotencyKey = "bad-future"; r.Time = at(3 * time.Hour) }), "time", "future"},
		{with(func(r *billingv1.UsageRecord) { r.IdempotencyKey = "" }), "idempotency_key", "required"},
		{with(func(r *billingv1.UsageRecord) {
			r.IdempotencyKey = "bad-nanos"
			r.Time.Nanos = -1
		}), "time", "valid timestamp"},
		{with(func(r *billingv1.UsageRecord) { r.IdempotencyKey = "bad-negative"; r.Quantity = "-1" }), "quantity", "negative"},
	}
	// Good and bad records interleaved: good ones at even positions.
	var batch []*billingv1.UsageRecord
	for i, b := range bads {
		batch = append(batch, ok(fmt.Sprintf("good-%d", i)), b.rec)
	}
	window := ok("good-window")
	window.Time, window.StartTime, window.EndTime = nil, at(-2*time.Hour), at(-time.Hour)
	correction := ok("good-correction")
	correction.MetricKey, correction.Quantity = "net.egress_gb", "-1.25"
	batch = append(batch, window, correction)

	acks, err := usageStream(ctx, env.client, [][]*billingv1.UsageRecord{batch, batch}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	first, again := acks[0], acks[1]
	if first.GetAccepted() != int32(len(bads)+2) || first.GetDuplicates() != 0 || len(first.GetRejected()) != len(bads) {
		t.Fatalf("first ack: %d accepted, %d duplicates, %d rejected: %v", first.GetAccepted(), first.GetDuplicates(), len(first.GetRejected()), first.GetRejected())
	}
	for i, r := range first.GetRejected() {
		b := bads[i]
		if r.GetIndex() != int32(2*i+1) || r.GetIdempotencyKey() != b.rec.GetIdempotencyKey() || r.GetField() != b.field || !strings.Contains(r.GetReason(), b.reason) {
			t.Errorf("rejection %d = %v, want index %d, key %q, field %q, reason containing %q", i, r, 2*i+1, b.rec.GetIdempotencyKey(), b.field, b.reason)
		}
	}
	if again.GetAccepted() != 0 || again.GetDuplicates() != int32(len(bads)+2) || len(again.GetRejected()) != len(bads) {
		t.Errorf("resent batch: %d accepted, %d duplicates, %d rejected", again.GetAccepted(), again.GetDuplicates(), len(again.GetRejected()))
	}

	// Stored as sent: a window with start and end, a point with time.
	list, err := env.client.ListUsage(ctx, &billingv1.ListUsageRequest{CustomerId: "acme", PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range list.GetUsageRecords() {
		keys = append(keys, r.GetIdempotencyKey())
		switch r.GetIdempotencyKey() {
		case "good-window":
			if r.GetTime() != nil || !r.GetStartTime().AsTime().Equal(window.StartTime.AsTime().Truncate(time.Microsecond)) || r.GetEndTime() == nil {
				t.Errorf("window read back as %v", r)
			}
		case "good-correction":
			if r.GetQuantity() != "-1.25" || r.GetTime() == nil || r.GetReceiveTime() == nil {
				t.Errorf("correction read back as %v", r)
			}
		}
	}
	if len(keys) != len(bads)+2 || slices.ContainsFunc(keys, func(k string) bool { return strings.HasPrefix(k, "bad") }) {
		t.Errorf("stored %v, want only the good records", keys)
	}
}

func TestBatchIngestUsageAndLimits(t *testing.T) {
	t.Parallel()
	env := newUsageEnv(t)
	ctx := context.Background()
	batch := usageBatches("unary", 250, 250)[0]
	res, err := env.client.BatchIngestUsage(ctx, &billingv1.BatchIngestUsageRequest{Records: batch})
	if err != nil || res.GetAccepted() != 250 {
		t.Fatalf("BatchIngestUsage = %v, %v", res, err)
	}
	res, err = env.client.BatchIngestUsage(ctx, &billingv1.BatchIngestUsageRequest{Records: batch[:10]})
	if err != nil || res.GetAccepted() != 0 || res.GetDuplicates() != 10 {
		t.Fatalf("resend = %v, %v", res, err)
	}
	wantUsageStored(t, env.db, 250)

	// One record over the limit fails the whole request, on "records", for
	// both calls; an empty one too.
	tooMany := usageBatches("big", usage.MaxBatch+1, usage.MaxBatch+1)[0]
	_, err = env.client.BatchIngestUsage(ctx, &billingv1.BatchIngestUsageRequest{Records: tooMany})
	wantUsageViolation(t, err, "records")
	_, err = env.client.BatchIngestUsage(ctx, &billingv1.BatchIngestUsageRequest{})
	wantUsageViolation(t, err, "records")
	_, err = usageStream(ctx, env.client, [][]*billingv1.UsageRecord{batch[:1], tooMany}, 0, nil)
	wantUsageViolation(t, err, "records")
	wantUsageStored(t, env.db, 250)
}

func wantUsageViolation(t *testing.T, err error, field string) {
	t.Helper()
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("error = %v, want InvalidArgument", err)
	}
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, fv := range br.GetFieldViolations() {
				if fv.GetField() == field {
					return
				}
			}
		}
	}
	t.Fatalf("error %v names no violation on %q", err, field)
}

func TestListUsagePagesAndFilters(t *testing.T) {
	t.Parallel()
	env := newUsageEnv(t)
	ctx := context.Background()
	if _, err := usageStream(ctx, env.client, usageBatches("list", 120, 50), 0, nil); err != nil {
		t.Fatal(err)
	}
	var keys []string
	req := &billingv1.ListUsageRequest{CustomerId: "acme", MetricKey: "vm.vcpu", PageSize: 25,
		StartTime: timestamppb.New(usageBase), EndTime: timestamppb.New(usageBase.Add(100 * time.Second))}
	for pages := 1; ; pages++ {
		res, err := env.client.ListUsage(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res.GetUsageRecords() {
			keys = append(keys, r.GetIdempotencyKey())
		}
		if res.GetNextPageToken() == "" {
			if pages != 2 {
				t.Errorf("%d pages, want 2", pages)
			}
			break
		}
		req.PageToken = res.GetNextPageToken()
	}
	// acme has the even records; [0s, 100s) holds 50 of them, in time order.
	if len(keys) != 50 || keys[0] != "list-000000" || keys[49] != "list-000098" || !slices.IsSorted(keys) {
		t.Errorf("listed %d keys %v…", len(keys), keys[:min(3, len(keys))])
	}
	_, err := env.client.ListUsage(ctx, &billingv1.ListUsageRequest{PageToken: "not-a-token"})
	wantUsageViolation(t, err, "page_token")
}

// TestIngestUsageSurvivesCutConnections terminates the server's database
// connections again and again while a collector streams: a batch hit by a
// cut ends the stream with Unavailable, the collector reconnects and
// resends from its last acknowledgement, and the totals are exact.
func TestIngestUsageSurvivesCutConnections(t *testing.T) {
	t.Parallel()
	env := newUsageEnv(t)
	ctx := context.Background()
	const n, size = 10_000, 500
	batches := usageBatches("cut", n, size)

	// After every fourth acknowledgement, with more batches in flight, the
	// server's connections are cut once (onAck runs on the receiving
	// goroutine, one at a time).
	killer := usageConnect(t, env.url)
	cutAt, kills := map[uint64]bool{}, 0
	onAck := func(ack *billingv1.IngestUsageResponse) {
		if seq := ack.GetSequence(); seq%4 == 0 && !cutAt[seq] && int(seq) < len(batches) {
			cutAt[seq] = true
			time.Sleep(time.Duration(rand.IntN(20)) * time.Millisecond)
			var k int
			_ = killer.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
				WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&k)
			kills += k
		}
	}

	next, unavailable, accepted, duplicates := 0, 0, 0, 0
	for attempt := 0; next < len(batches); attempt++ {
		if attempt > 3*len(batches) {
			t.Fatalf("no progress: %d of %d batches acknowledged", next, len(batches))
		}
		acks, err := usageStream(ctx, env.client, batches, next, onAck)
		a, d, r := usageTotals(acks)
		accepted, duplicates, next = accepted+a, duplicates+d, next+len(acks)
		if r != 0 {
			t.Fatalf("%d records rejected", r)
		}
		switch status.Code(err) {
		case codes.OK:
		case codes.Unavailable:
			unavailable++
		default:
			t.Fatalf("stream failed with %v, want Unavailable", err)
		}
	}
	t.Logf("%d connections terminated; %d streams ended with Unavailable and were resumed", kills, unavailable)
	if unavailable == 0 {
		t.Error("no stream ended with Unavailable: the test cut no batch")
	}
	// A batch whose commit succeeded but whose acknowledgement was lost is
	// acknowledged as duplicates when resent: together they cover every record once.
	if accepted > n || accepted+duplicates != n {
		t.Errorf("acknowledged %d accepted + %d duplicates, want %d records", accepted, duplicates, n)
	}
	wantUsageStored(t, killer, n) // the killer cut env.db too
}
