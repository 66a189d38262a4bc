package collector_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/collector"
	"github.com/billingd/billingd/internal/collector/collectortest"
)

// fakeBillingd is an in-process UsageService that stores records by
// idempotency key, as billingd does, and can misbehave on cue.
type fakeBillingd struct {
	billingv1.UnimplementedUsageServiceServer

	mu       sync.Mutex
	stored   map[string]*billingv1.UsageRecord
	order    []string // keys in the order first stored
	received int      // records received, resends included
	batches  int      // batches received
	streams  int

	// dropAfterCommit ends the stream with Unavailable after committing
	// batch number n (counted over all streams) and before acking it: the
	// ack is lost, the data is not.
	dropAfterCommit map[int]bool
	// unavailable refuses every stream while set.
	unavailable bool
	// refuse ends the next streams at once with these codes, one per stream.
	refuse []codes.Code
	// gate, when set, is received from before each ack.
	gate chan struct{}
	// hang is how many more committed batches never get their ack (the
	// stream stays open until the client gives up).
	hang int
	// seen is signalled (non-blocking) after each committed batch.
	seen chan struct{}
	// reject gives the reason a record is rejected, or "".
	reject func(*billingv1.UsageRecord) (field, reason string)
}

func newFakeBillingd() *fakeBillingd {
	return &fakeBillingd{stored: map[string]*billingv1.UsageRecord{}, dropAfterCommit: map[int]bool{}, seen: make(chan struct{}, 100)}
}

func (f *fakeBillingd) IngestUsage(stream grpc.BidiStreamingServer[billingv1.IngestUsageRequest, billingv1.IngestUsageResponse]) error {
	f.mu.Lock()
	f.streams++
	down := f.unavailable
	var refusal codes.Code
	if len(f.refuse) > 0 {
		refusal, f.refuse = f.refuse[0], f.refuse[1:]
	}
	f.mu.Unlock()
	if down {
		return status.Error(codes.Unavailable, "billingd is down")
	}
	if refusal != codes.OK {
		return status.Error(refusal, "refused: "+refusal.String())
	}
	var last uint64
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if req.GetSequence() <= last {
			return status.Errorf(codes.InvalidArgument, "sequence %d after %d", req.GetSequence(), last)
		}
		last = req.GetSequence()
		ack := &billingv1.IngestUsageResponse{Sequence: req.GetSequence()}
		f.mu.Lock()
		f.batches++
		n := f.batches
		for i, r := range req.GetRecords() {
			f.received++
			if f.reject != nil {
				if field, reason := f.reject(r); reason != "" {
					ack.Rejected = append(ack.Rejected, &billingv1.RecordRejection{Index: int32(i), IdempotencyKey: r.GetIdempotencyKey(), Field: field, Reason: reason})
					continue
				}
			}
			if _, dup := f.stored[r.GetIdempotencyKey()]; dup {
				ack.Duplicates++
				continue
			}
			f.stored[r.GetIdempotencyKey()] = r
			f.order = append(f.order, r.GetIdempotencyKey())
			ack.Accepted++
		}
		drop := f.dropAfterCommit[n]
		gate := f.gate
		hang := f.hang > 0
		if hang {
			f.hang--
		}
		f.mu.Unlock()
		select {
		case f.seen <- struct{}{}:
		default:
		}
		if drop {
			return status.Error(codes.Unavailable, "connection reset after commit")
		}
		if hang {
			<-stream.Context().Done()
			return stream.Context().Err()
		}
		if gate != nil {
			select {
			case <-gate:
			case <-stream.Context().Done():
				return stream.Context().Err()
			}
		}
		if err := stream.Send(ack); err != nil {
			return err
		}
	}
}

func (f *fakeBillingd) snapshot() (stored map[string]*billingv1.UsageRecord, received, streams int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]*billingv1.UsageRecord, len(f.stored))
	for k, v := range f.stored {
		out[k] = v
	}
	return out, f.received, f.streams
}

// serve starts f on an in-memory listener and returns a client of it.
func (f *fakeBillingd) serve(t *testing.T) billingv1.UsageServiceClient {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer()
	billingv1.RegisterUsageServiceServer(srv, f)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return billingv1.NewUsageServiceClient(conn)
}

// countingSource yields perWindow interval records per window; its cursor
// is the window number, and it remembers the cursors it was given.
type countingSource struct {
	name      string
	perWindow int
	mu        sync.Mutex
	cursors   []collector.Cursor
	fail      int // fail this many next Collects
}

var base = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func (s *countingSource) Name() string { return s.name }

func (s *countingSource) Collect(_ context.Context, cursor collector.Cursor, _ time.Time) (collector.Batch, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cursors = append(s.cursors, cursor)
	if s.fail > 0 {
		s.fail--
		return collector.Batch{}, errors.New("platform unreachable")
	}
	w := 0
	if cursor != "" {
		var err error
		if w, err = strconv.Atoi(string(cursor)); err != nil {
			return collector.Batch{}, err
		}
	}
	recs := make([]collector.Record, s.perWindow)
	for i := range recs {
		res := fmt.Sprintf("vm-%03d", i)
		recs[i] = collector.Record{
			Key: collector.Key("fake", s.name, res, "vm.vcpu", strconv.Itoa(w)), CustomerID: "acme", Metric: "vm.vcpu",
			Quantity: decimal.NewFromInt(int64(i%4 + 1)), Start: base.Add(time.Duration(w) * time.Hour),
			End: base.Add(time.Duration(w+1) * time.Hour), ResourceID: res, Source: "fake:" + s.name,
		}
	}
	return collector.Batch{Records: recs, Next: collector.Cursor(strconv.Itoa(w + 1))}, nil
}

func (s *countingSource) given() []collector.Cursor {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]collector.Cursor(nil), s.cursors...)
}

// progress is state.json as the runner writes it.
type progress struct {
	Cursor collector.Cursor `json:"cursor"`
	Window uint64           `json:"window"`
}

func readProgress(t *testing.T, dir, source string) (progress, []string) {
	t.Helper()
	var p progress
	b, err := os.ReadFile(filepath.Join(dir, source, "state.json"))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		t.Fatal(err)
	default:
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatal(err)
		}
	}
	windows, err := filepath.Glob(filepath.Join(dir, source, "window-*.json"))
	if err != nil {
		t.Fatal(err)
	}
	return p, windows
}

// testLogger logs at Debug too, so that tests see the runner's every step.
func testLogger() (*slog.Logger, *collectortest.LockedBuffer) {
	buf := &collectortest.LockedBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

var fastRetry = collector.Backoff{Initial: time.Millisecond, Max: 20 * time.Millisecond}
