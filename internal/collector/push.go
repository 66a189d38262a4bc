package collector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
)

// pusher delivers records over UsageService.IngestUsage.
//
// The records of one push are cut into batches numbered 1, 2, 3…; at most
// inFlight batches are unacknowledged at a time, and billingd acknowledges
// each in order after committing it. When the stream breaks, a new stream
// resends every batch after the last acknowledged one, under its original
// sequence number (still increasing on the new stream). A batch that was
// committed but whose ack was lost comes back as duplicates: the idempotency
// keys make resending safe.
type pusher struct {
	client    billingv1.UsageServiceClient
	batchSize int
	inFlight  int
	// ackTimeout bounds the wait for the next ack: a billingd that hangs
	// (rather than failing) gets its stream cancelled and the batches resent.
	ackTimeout time.Duration
	backoff    Backoff
	metrics    *Metrics
}

// maxRejectionLogs bounds the rejections logged one by one per batch; the
// rest are summarised in one line and all are counted.
const maxRejectionLogs = 20

// push returns once billingd acknowledged every record, or with ctx's error.
// Stream failures are retried with backoff, without limit: a window is never
// given up, since its records would be lost.
//
// The result maps the index (in recs) of every record billingd rejected to
// its rejection; the Runner only logs and counts them, a Feed dead-letters
// the messages they came from.
func (p *pusher) push(ctx context.Context, log *slog.Logger, source string, recs []Record) (map[int]*billingv1.RecordRejection, error) {
	var reqs []*billingv1.IngestUsageRequest
	for i, seq := 0, uint64(1); i < len(recs); i, seq = i+p.batchSize, seq+1 {
		part := recs[i:min(i+p.batchSize, len(recs))]
		req := &billingv1.IngestUsageRequest{Sequence: seq, Records: make([]*billingv1.UsageRecord, len(part))}
		for j, r := range part {
			req.Records[j] = r.proto()
		}
		reqs = append(reqs, req)
	}
	rejected := map[int]*billingv1.RecordRejection{}
	onAck := func(ack *billingv1.IngestUsageResponse) {
		first := int(ack.GetSequence()-1) * p.batchSize // sequence n holds recs[(n-1)·batchSize:]
		for _, r := range ack.GetRejected() {
			rejected[first+int(r.GetIndex())] = r
		}
	}
	done, failures := 0, 0
	for done < len(reqs) {
		n, err := p.stream(ctx, log, source, reqs[done:], onAck)
		done += n
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return rejected, ctx.Err()
		}
		if n > 0 {
			failures = 0
		}
		p.metrics.Errors.WithLabelValues(source, StagePush).Inc()
		code := status.Code(err)
		if refused(code) {
			// Resending cannot cure a refusal; retry at the slowest rate so
			// that an operator's fix (a new key, a widened scope) is picked
			// up without a restart, and count it so that it can alert.
			delay := p.backoff.Delay(maxDoublings)
			p.metrics.Refused.WithLabelValues(source, code.String()).Inc()
			log.ErrorContext(ctx, "usage stream failed: billingd refused it; retrying at the longest backoff until the key or billingd is fixed",
				"err", err, "code", code.String(), "acknowledged_batches", done, "unacknowledged_batches", len(reqs)-done, "retry_in", delay)
			if !sleep(ctx, delay) {
				return rejected, ctx.Err()
			}
			continue
		}
		delay := p.backoff.Delay(failures)
		failures++
		log.WarnContext(ctx, "usage stream failed; resending the unacknowledged batches",
			"err", err, "acknowledged_batches", done, "unacknowledged_batches", len(reqs)-done, "retry_in", delay)
		if !sleep(ctx, delay) {
			return rejected, ctx.Err()
		}
	}
	return rejected, nil
}

// maxDoublings is enough doublings of any initial backoff to reach its max.
const maxDoublings = 64

// stream sends reqs on one IngestUsage stream and returns how many were
// acknowledged, in order; a nil error means all of them.
func (p *pusher) stream(ctx context.Context, log *slog.Logger, source string, reqs []*billingv1.IngestUsageRequest,
	onAck func(*billingv1.IngestUsageResponse)) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var timedOut atomic.Bool
	watchdog := time.AfterFunc(p.ackTimeout, func() { timedOut.Store(true); cancel() })
	defer watchdog.Stop()
	st, err := p.client.IngestUsage(ctx)
	if err != nil {
		return 0, err
	}
	credit := make(chan struct{}, p.inFlight) // one token per unacknowledged batch
	var (
		wg      sync.WaitGroup
		sendErr error
	)
	wg.Go(func() {
		for _, r := range reqs {
			select {
			case credit <- struct{}{}:
			case <-ctx.Done():
				return
			}
			if err := st.Send(r); err != nil {
				// io.EOF: the server ended the stream; Recv tells why.
				sendErr = err
				cancel()
				return
			}
		}
		sendErr = st.CloseSend()
	})
	fail := func(acked int, err error) (int, error) {
		cancel()
		wg.Wait()
		if sendErr != nil && !errors.Is(sendErr, io.EOF) {
			err = fmt.Errorf("%w (send: %v)", err, sendErr)
		}
		return acked, err
	}
	for acked := range reqs {
		ack, err := st.Recv()
		if err != nil {
			switch {
			case timedOut.Load():
				err = fmt.Errorf("no ack within %v: %w", p.ackTimeout, err)
			case errors.Is(err, io.EOF):
				err = fmt.Errorf("stream ended after %d of %d batches were acknowledged", acked, len(reqs))
			}
			return fail(acked, err)
		}
		watchdog.Reset(p.ackTimeout)
		want := reqs[acked]
		if ack.GetSequence() != want.GetSequence() {
			return fail(acked, fmt.Errorf("ack for sequence %d, want %d", ack.GetSequence(), want.GetSequence()))
		}
		p.tally(ctx, log, source, want, ack)
		onAck(ack)
		<-credit
	}
	wg.Wait()
	return len(reqs), nil
}

// tally counts an ack and logs its rejections: a rejected record is never
// retried (billingd would reject it again) and never silently dropped.
func (p *pusher) tally(ctx context.Context, log *slog.Logger, source string, req *billingv1.IngestUsageRequest, ack *billingv1.IngestUsageResponse) {
	p.metrics.Pushed.WithLabelValues(source, ResultAccepted).Add(float64(ack.GetAccepted()))
	p.metrics.Pushed.WithLabelValues(source, ResultDuplicate).Add(float64(ack.GetDuplicates()))
	rej := ack.GetRejected()
	if len(rej) == 0 {
		return
	}
	p.metrics.Pushed.WithLabelValues(source, ResultRejected).Add(float64(len(rej)))
	reasons := map[string]int{}
	for i, r := range rej {
		field := r.GetField()
		if field == "" {
			field = "record"
		}
		p.metrics.Rejected.WithLabelValues(source, field).Inc()
		reasons[r.GetField()+": "+r.GetReason()]++
		if i >= maxRejectionLogs {
			continue
		}
		var metric, customer string
		if idx := int(r.GetIndex()); idx >= 0 && idx < len(req.GetRecords()) {
			metric, customer = req.GetRecords()[idx].GetMetricKey(), req.GetRecords()[idx].GetCustomerId()
		}
		log.WarnContext(ctx, "billingd rejected a record", "key", r.GetIdempotencyKey(), "metric", metric,
			"customer", customer, "field", r.GetField(), "reason", r.GetReason())
	}
	if len(rej) > maxRejectionLogs {
		log.WarnContext(ctx, "billingd rejected more records of the batch", "sequence", ack.GetSequence(),
			"rejected", len(rej), "logged", maxRejectionLogs, "by_reason", reasons)
	}
}

// refused reports the codes of a stream that billingd refused outright (a
// wrong or revoked key, a key not allowed this source or site, an
// incompatible billingd): resending the same batches cannot cure them.
//
// The push keeps retrying them rather than stopping the source: the spool
// (or the broker) keeps the data meanwhile, a source that stopped would
// need a restart once the operator fixed the key, and a poller that stopped
// would stop measuring. It retries at the longest backoff so that a
// refused key does not hammer billingd's authentication, logs at error
// level and counts billingd_collector_push_refused_total{code} to alert on.
func refused(c codes.Code) bool {
	switch c {
	case codes.Unauthenticated, codes.PermissionDenied, codes.InvalidArgument, codes.FailedPrecondition, codes.Unimplemented:
		return true
	}
	return false
}
