package collector

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Feed is a Source whose records arrive as broker messages (a NATS
// JetStream consumer, a RabbitMQ queue) instead of being polled. The Runner
// recognises it and, rather than spooling windows, pushes each received
// batch through the same pusher (sequence numbers, in-flight limit, stream
// reconnects, backoff) and settles every message only after billingd
// acknowledged its record:
//
//   - stored or duplicate: Ack;
//   - poison (not a usage record, failing billingd's format rules, or
//     rejected by billingd: unknown customer or metric): DeadLetter with the
//     reason, which acknowledges the original once the dead letter is stored;
//   - billingd unreachable: nothing; the push is retried with backoff while
//     the messages stay unacknowledged at the broker.
//
// The broker is the spool: a crash anywhere before the ack leaves the
// message unacknowledged and the broker delivers it again; its idempotency
// key is unchanged, so billingd stores it once and acknowledges the
// redelivery as a duplicate, which is then acked.
//
// Collect is never called on a Feed by the Runner; an implementation may
// return ErrFeed from it.
type Feed interface {
	Source
	// Receive returns up to max messages. It waits up to wait for the first
	// one and then returns what is at hand; none (and no error) when wait
	// passed without a message. Receive reconnects by itself after an error
	// reported by a previous call.
	Receive(ctx context.Context, max int, wait time.Duration) ([]Message, error)
}

// ErrFeed is what a Feed's Collect returns: feeds are received, not polled.
var ErrFeed = errors.New("a feed is received from, not polled")

// Message is one received broker message.
type Message struct {
	// ID names the message in logs, e.g. the stream sequence or delivery tag.
	ID string
	// Record is the usage record the message carries, unless Poison is set.
	Record Record
	// Poison says why the message cannot become a record (Reason "not_json",
	// "invalid_record"…); it is dead-lettered without being pushed.
	Poison *Skip
	// Delivery settles the message with its broker.
	Delivery Delivery
}

// Delivery settles one message with its broker.
type Delivery interface {
	// Ack removes the message from the broker: billingd stored the record.
	Ack(ctx context.Context) error
	// DeadLetter stores the message, with why, where dead letters go, waits
	// for the broker to confirm it, and then acknowledges the original.
	DeadLetter(ctx context.Context, why Skip) error
	// Retry gives the message back to the broker for a later delivery,
	// after about delay where the broker supports it.
	Retry(ctx context.Context, delay time.Duration) error
}

// Dead-letter reasons the Runner gives besides the Feed's own (label "reason").
const (
	ReasonInvalidRecord = "invalid_record" // breaks billingd's format rules
	ReasonRejected      = "rejected"       // billingd rejected it in its ack
)

// settleTimeout bounds one settlement, and the give-backs at shutdown.
const settleTimeout = 30 * time.Second

// feedLoop receives and delivers until ctx is done.
func (r *Runner) feedLoop(ctx context.Context, rn *run, f Feed) {
	failures := 0
	for ctx.Err() == nil {
		_, err := r.receive(ctx, rn, f)
		if err == nil {
			failures = 0
			continue
		}
		if ctx.Err() != nil {
			return
		}
		wait := r.opts.Retry.Delay(failures)
		failures++
		rn.log.ErrorContext(ctx, "receive failed", "err", err, "attempt", failures, "retry_in", wait)
		if !sleep(ctx, wait) {
			return
		}
	}
}

// drain receives and delivers until a receive waits the source's interval
// without a message: the one-shot Poll of a feed.
func (r *Runner) drain(ctx context.Context, rn *run, f Feed) error {
	for {
		n, err := r.receive(ctx, rn, f)
		if err != nil || n == 0 {
			return err
		}
	}
}

// receive takes one batch from f, pushes its records and settles every
// message; it returns how many messages it received.
func (r *Runner) receive(ctx context.Context, rn *run, f Feed) (int, error) {
	rn.collectMu.Lock()
	defer rn.collectMu.Unlock()
	name := f.Name()
	msgs, err := f.Receive(ctx, r.opts.BatchSize, rn.Interval)
	if err != nil {
		if ctx.Err() == nil { // not a shutdown
			r.opts.Metrics.Errors.WithLabelValues(name, StageCollect).Inc()
		}
		return 0, fmt.Errorf("receive: %w", err)
	}
	if len(msgs) == 0 {
		return 0, nil
	}
	r.opts.Metrics.LastCollect.WithLabelValues(name).Set(float64(r.opts.Clock.Now().Unix()))
	var (
		recs []Record
		from []int // recs[i] came from msgs[from[i]]
	)
	for i := range msgs {
		m := &msgs[i]
		if m.Poison == nil {
			if err := m.Record.Check(); err != nil {
				m.Poison = &Skip{Resource: m.ID, Reason: ReasonInvalidRecord, Detail: m.Record.Key + ": " + err.Error()}
			}
		}
		if m.Poison != nil {
			r.opts.Metrics.Skipped.WithLabelValues(name, m.Poison.Reason).Inc()
			r.deadLetter(ctx, rn, *m, *m.Poison)
			continue
		}
		recs = append(recs, m.Record)
		from = append(from, i)
	}
	r.opts.Metrics.Collected.WithLabelValues(name).Add(float64(len(recs)))
	if len(recs) == 0 {
		r.opts.Metrics.LastSuccess.WithLabelValues(name).Set(float64(r.opts.Clock.Now().Unix()))
		return len(msgs), nil
	}
	rn.pushMu.Lock()
	rejected, err := r.pusher.push(ctx, rn.log, name, recs)
	rn.pushMu.Unlock()
	if err != nil {
		// Only ctx ends a push: give the messages back now rather than
		// after the broker's ack wait (closing the connection does the
		// same; a crash leaves it to the ack wait).
		gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
		defer cancel()
		for _, i := range from {
			_ = msgs[i].Delivery.Retry(gctx, 0)
		}
		return len(msgs), err
	}
	for j, i := range from {
		if rej, ok := rejected[j]; ok {
			r.deadLetter(ctx, rn, msgs[i], Skip{Resource: msgs[i].ID, Reason: ReasonRejected,
				Detail: fmt.Sprintf("billingd rejected %s: %s: %s", rej.GetIdempotencyKey(), rej.GetField(), rej.GetReason())})
			continue
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
		err := msgs[i].Delivery.Ack(sctx)
		cancel()
		if err != nil {
			// billingd has the record: the redelivery will be a duplicate.
			r.opts.Metrics.Errors.WithLabelValues(name, StageSettle).Inc()
			rn.log.WarnContext(ctx, "ack to the broker failed; the message will come again as a duplicate",
				"message", msgs[i].ID, "key", msgs[i].Record.Key, "err", err)
		}
	}
	r.opts.Metrics.LastSuccess.WithLabelValues(name).Set(float64(r.opts.Clock.Now().Unix()))
	rn.log.DebugContext(ctx, "batch settled", "messages", len(msgs), "records", len(recs), "rejected", len(rejected))
	return len(msgs), nil
}

// deadLetter moves m to the dead letter with why; if that fails the message
// is given back to the broker, to be dead-lettered at its next delivery.
func (r *Runner) deadLetter(ctx context.Context, rn *run, m Message, why Skip) {
	name := rn.Source.Name()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	if err := m.Delivery.DeadLetter(sctx, why); err != nil {
		r.opts.Metrics.Errors.WithLabelValues(name, StageSettle).Inc()
		delay := r.opts.Retry.Max
		rn.log.ErrorContext(ctx, "dead letter failed; giving the message back to the broker",
			"message", m.ID, "reason", why.Reason, "detail", why.Detail, "err", err, "retry_in", delay)
		if err := m.Delivery.Retry(sctx, delay); err != nil {
			rn.log.WarnContext(ctx, "give-back failed; the broker redelivers after its ack wait", "message", m.ID, "err", err)
		}
		return
	}
	r.opts.Metrics.DeadLettered.WithLabelValues(name, why.Reason).Inc()
	rn.log.WarnContext(ctx, "message dead-lettered", "message", m.ID, "reason", why.Reason, "detail", why.Detail)
}
