package collector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"sync"
	"time"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/clock"
)

// Schedule is a source and how often it runs.
type Schedule struct {
	Source   Source
	Interval time.Duration // between the starts of two collects
	Timeout  time.Duration // of one collect; 0: Interval
}

// Options tune a Runner; zero values take the defaults.
type Options struct {
	StateDir   string        // required: one sub-directory per source
	BatchSize  int           // records per IngestUsage message; default 1000, at most 10000
	InFlight   int           // unacknowledged batches per stream; default 4
	MaxPending int           // spooled windows per source before collecting pauses; default 1000
	AckTimeout time.Duration // longest wait for one ack before the stream is reopened; default 2m
	Retry      Backoff       // of collects and push streams; default DefaultBackoff
	Clock      clock.Clock   // default the system clock
	Log        *slog.Logger
	Metrics    *Metrics // default: unregistered series
}

// Runner polls sources on their schedules and pushes what they collect.
//
// Guarantees, per source:
//   - Windows are collected in order, each from the cursor the previous one
//     ended at, so there is no gap between windows, and spooled to disk
//     before anything is pushed.
//   - Windows are pushed in order; the persisted cursor moves past a window
//     only after billingd acknowledged all its records (stored, duplicate or
//     rejected). A record is therefore delivered at least once, and stored
//     at most once thanks to its idempotency key.
//   - A failed collect is retried with exponential backoff and jitter (never
//     later than the next interval); a failed stream is reopened with
//     backoff and the unacknowledged batches resent, without limit; one
//     billingd refuses (a bad key, a key not allowed the source) is retried
//     at the longest backoff and counted in push_refused_total.
//   - While billingd is unreachable, collecting goes on into the spool (up
//     to MaxPending windows; beyond, collecting pauses and the next window
//     simply spans longer), so the levels stay measured at every interval.
//   - Skipped source data and rejected records are logged and counted.
type Runner struct {
	opts    Options
	pusher  *pusher
	sources []*run
	byName  map[string]*run
}

// run is one source's schedule and state.
type run struct {
	Schedule
	log *slog.Logger
	// collectMu keeps collects of the source from overlapping (Run's loop
	// and Poll); mu guards st and is never held during I/O with a platform.
	collectMu sync.Mutex
	mu        sync.Mutex
	st        *sourceState
	// pushMu serialises pushers of the source (Run's loop and Flush).
	pushMu sync.Mutex
	wake   chan struct{}
}

// SourceNamePattern is what a source name must match: it names a directory.
var SourceNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,62}$`)

// NewRunner opens the state of every source (resuming spooled windows) and
// returns a Runner that pushes to client.
func NewRunner(client billingv1.UsageServiceClient, sources []Schedule, opts Options) (*Runner, error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 1000
	}
	if opts.InFlight <= 0 {
		opts.InFlight = 4
	}
	if opts.MaxPending <= 0 {
		opts.MaxPending = 1000
	}
	if opts.AckTimeout <= 0 {
		opts.AckTimeout = 2 * time.Minute
	}
	if opts.Retry == (Backoff{}) {
		opts.Retry = DefaultBackoff
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real()
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(nil)
	}
	opts.Metrics.fillMissing()
	var errs []error
	switch {
	case client == nil:
		errs = append(errs, errors.New("a UsageService client is required"))
	case opts.StateDir == "":
		errs = append(errs, errors.New("a state directory is required"))
	case opts.BatchSize > 10000:
		errs = append(errs, fmt.Errorf("batch size %d is over billingd's 10000", opts.BatchSize))
	case opts.Retry.Initial <= 0 || opts.Retry.Max < opts.Retry.Initial:
		errs = append(errs, fmt.Errorf("retry needs 0 < initial <= max, got %v and %v", opts.Retry.Initial, opts.Retry.Max))
	}
	r := &Runner{opts: opts, byName: map[string]*run{}, pusher: &pusher{
		client: client, batchSize: opts.BatchSize, inFlight: opts.InFlight, ackTimeout: opts.AckTimeout,
		backoff: opts.Retry, metrics: opts.Metrics,
	}}
	for _, s := range sources {
		name := s.Source.Name()
		switch {
		case !SourceNamePattern.MatchString(name):
			errs = append(errs, fmt.Errorf("source name %q must match %s", name, SourceNamePattern))
			continue
		case r.byName[name] != nil:
			errs = append(errs, fmt.Errorf("source %q is listed twice", name))
			continue
		case s.Interval <= 0:
			errs = append(errs, fmt.Errorf("source %q: interval must be positive", name))
		}
		if s.Timeout <= 0 {
			s.Timeout = s.Interval
		}
		rn := &run{Schedule: s, log: opts.Log.With("source", name), wake: make(chan struct{}, 1)}
		r.sources = append(r.sources, rn)
		r.byName[name] = rn
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, rn := range r.sources {
		if _, ok := rn.Source.(Feed); ok {
			continue // the broker keeps a feed's position and unacknowledged messages
		}
		st, err := openState(opts.StateDir, rn.Source.Name())
		if err != nil {
			return nil, fmt.Errorf("source %q: state: %w", rn.Source.Name(), err)
		}
		rn.st = st
		opts.Metrics.Pending.WithLabelValues(rn.Source.Name()).Set(float64(len(st.pending)))
		if len(st.pending) > 0 {
			rn.log.Info("resuming unacknowledged windows", "windows", len(st.pending), "cursor", st.acked.Cursor)
		}
	}
	return r, nil
}

// Run polls every source on its schedule and pushes continuously until ctx
// is done. The first poll of each source is immediate; spooled windows from
// a previous run are pushed first.
func (r *Runner) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, rn := range r.sources {
		if f, ok := rn.Source.(Feed); ok {
			wg.Go(func() { r.feedLoop(ctx, rn, f) })
			continue
		}
		wg.Go(func() { r.pollLoop(ctx, rn) })
		wg.Go(func() { r.pushLoop(ctx, rn) })
	}
	wg.Wait()
	return nil
}

func (r *Runner) pollLoop(ctx context.Context, rn *run) {
	failures := 0
	for {
		start := time.Now()
		wait := rn.Interval
		if err := r.poll(ctx, rn); err != nil {
			if ctx.Err() != nil {
				return
			}
			wait = min(r.opts.Retry.Delay(failures), rn.Interval)
			failures++
			rn.log.ErrorContext(ctx, "collect failed", "err", err, "attempt", failures, "retry_in", wait)
		} else {
			failures = 0
			wait -= time.Since(start)
		}
		if !sleep(ctx, max(wait, 0)) {
			return
		}
	}
}

func (r *Runner) pushLoop(ctx context.Context, rn *run) {
	for {
		if err := r.flush(ctx, rn); err != nil {
			if ctx.Err() != nil {
				return
			}
			// Only state-directory failures get here; the push itself retries.
			rn.log.ErrorContext(ctx, "push failed", "err", err)
			if !sleep(ctx, r.opts.Retry.Max) {
				return
			}
			continue
		}
		select {
		case <-rn.wake:
		case <-ctx.Done():
			return
		}
	}
}

// Poll collects one window of the named source now and spools it; Flush
// pushes it. Together they make a one-shot run (cron, tests).
//
// For a Feed, Poll receives, pushes and settles batches until a receive
// waits the source's interval without a message, and Flush does nothing.
func (r *Runner) Poll(ctx context.Context, source string) error {
	rn, ok := r.byName[source]
	if !ok {
		return fmt.Errorf("no source %q", source)
	}
	if f, ok := rn.Source.(Feed); ok {
		return r.drain(ctx, rn, f)
	}
	return r.poll(ctx, rn)
}

// Flush pushes every spooled window of the named source and returns once
// all are acknowledged (or ctx is done).
func (r *Runner) Flush(ctx context.Context, source string) error {
	rn, ok := r.byName[source]
	if !ok {
		return fmt.Errorf("no source %q", source)
	}
	if _, ok := rn.Source.(Feed); ok {
		return nil // settled as received
	}
	return r.flush(ctx, rn)
}

func (r *Runner) poll(ctx context.Context, rn *run) error {
	rn.collectMu.Lock()
	defer rn.collectMu.Unlock()
	name := rn.Source.Name()
	rn.mu.Lock()
	n, from := len(rn.st.pending), rn.st.cursor()
	rn.mu.Unlock()
	if n >= r.opts.MaxPending {
		rn.log.WarnContext(ctx, "spool full; collecting paused until billingd acknowledges", "pending_windows", n)
		return nil
	}
	now := r.opts.Clock.Now()
	cctx, cancel := context.WithTimeout(ctx, rn.Timeout)
	b, err := rn.Source.Collect(cctx, from, now)
	cancel()
	if err != nil {
		r.opts.Metrics.Errors.WithLabelValues(name, StageCollect).Inc()
		return err
	}
	b.Records, b.Skipped = checkRecords(b)
	for _, s := range b.Skipped {
		r.opts.Metrics.Skipped.WithLabelValues(name, s.Reason).Inc()
		rn.log.WarnContext(ctx, "skipped source data", "resource", s.Resource, "reason", s.Reason, "detail", s.Detail)
	}
	rn.mu.Lock()
	w, err := rn.st.spool(from, b, now)
	pending := len(rn.st.pending)
	rn.mu.Unlock()
	if err != nil {
		r.opts.Metrics.Errors.WithLabelValues(name, StageState).Inc()
		return fmt.Errorf("spool: %w", err)
	}
	r.opts.Metrics.Collected.WithLabelValues(name).Add(float64(len(b.Records)))
	r.opts.Metrics.LastCollect.WithLabelValues(name).Set(float64(now.Unix()))
	r.opts.Metrics.Pending.WithLabelValues(name).Set(float64(pending))
	rn.log.InfoContext(ctx, "collected", "window", w.Seq, "from", from, "next", b.Next, "records", len(b.Records), "skipped", len(b.Skipped))
	select {
	case rn.wake <- struct{}{}:
	default:
	}
	return nil
}

// checkRecords moves the records that break billingd's format rules to the
// batch's skips, so that one bad record cannot block its window.
func checkRecords(b Batch) ([]Record, []Skip) {
	ok := make([]Record, 0, len(b.Records))
	skipped := b.Skipped
	for _, rec := range b.Records {
		if err := rec.Check(); err != nil {
			skipped = append(skipped, Skip{Resource: rec.ResourceID, Reason: "invalid_record", Detail: rec.Key + ": " + err.Error()})
			continue
		}
		ok = append(ok, rec)
	}
	return ok, skipped
}

func (r *Runner) flush(ctx context.Context, rn *run) error {
	rn.pushMu.Lock()
	defer rn.pushMu.Unlock()
	name := rn.Source.Name()
	for {
		rn.mu.Lock()
		if len(rn.st.pending) == 0 {
			rn.mu.Unlock()
			return nil
		}
		head := rn.st.pending[0]
		w, err := rn.st.load(head.Seq)
		rn.mu.Unlock()
		if err != nil {
			r.opts.Metrics.Errors.WithLabelValues(name, StageState).Inc()
			return err
		}
		log := rn.log.With("window", w.Seq)
		if _, err := r.pusher.push(ctx, log, name, w.Records); err != nil {
			return err
		}
		rn.mu.Lock()
		err = rn.st.ack(w.Seq, r.opts.Clock.Now())
		pending := len(rn.st.pending)
		rn.mu.Unlock()
		if err != nil {
			r.opts.Metrics.Errors.WithLabelValues(name, StageState).Inc()
			return fmt.Errorf("ack window %d: %w", w.Seq, err)
		}
		r.opts.Metrics.Pending.WithLabelValues(name).Set(float64(pending))
		r.opts.Metrics.LastSuccess.WithLabelValues(name).Set(float64(r.opts.Clock.Now().Unix()))
		log.InfoContext(ctx, "window acknowledged", "records", len(w.Records), "cursor", w.Next)
	}
}
