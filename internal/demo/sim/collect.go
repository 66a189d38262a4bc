package sim

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"google.golang.org/grpc"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/clock"
	"github.com/billingd/billingd/internal/collector"
)

// demoRunner is the real collector's Runner, one per source (each pushes
// with its own key), on a simulated clock.
type demoRunner struct {
	runners map[string]*collector.Runner
	clock   *clock.Fake
	counts  *counter
}

// newRunner builds the runners with a throw-away state directory and a
// fake clock at from.
func newRunner(ctx context.Context, conn grpc.ClientConnInterface, o Options, sources []schedule, from time.Time) (
	r *demoRunner, c *counter, keys int, cleanup func(), err error) {
	dir, err := os.MkdirTemp(spoolParent(), "billingd-demo-collector-")
	if err != nil {
		return nil, nil, 0, nil, err
	}
	var closers []func()
	cleanup = func() {
		for _, f := range closers {
			f()
		}
		_ = os.RemoveAll(dir)
	}
	defer func() {
		if err != nil {
			cleanup()
		}
	}()
	c = &counter{}
	r = &demoRunner{runners: map[string]*collector.Runner{}, clock: clock.NewFake(from), counts: c}
	for _, s := range sources {
		client := billingv1.NewUsageServiceClient(conn)
		if o.Dial != nil {
			kind, site := sourceScope(s.Source)
			secret, err := collectorKey(ctx, conn, s.Name(), kind+":"+site, site)
			if err != nil {
				return nil, nil, 0, nil, err
			}
			cc, err := o.Dial(secret)
			if err != nil {
				return nil, nil, 0, nil, err
			}
			if cl, ok := cc.(interface{ Close() error }); ok {
				closers = append(closers, func() { _ = cl.Close() })
			}
			client = billingv1.NewUsageServiceClient(cc)
			keys++
		}
		run, err := collector.NewRunner(countingClient{UsageServiceClient: client, c: c},
			[]collector.Schedule{{Source: s.Source, Interval: s.every}}, collector.Options{
				StateDir: dir, Clock: r.clock, Log: o.Log, BatchSize: 5000,
				Retry: collector.Backoff{Initial: 10 * time.Millisecond, Max: time.Second},
			})
		if err != nil {
			return nil, nil, 0, nil, err
		}
		r.runners[s.Name()] = run
	}
	return r, c, keys, cleanup, nil
}

// spoolParent is where the collectors' throw-away spool goes: memory when
// the machine has a tmpfs at /dev/shm, where the spool's fsyncs cost nothing.
func spoolParent() string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if f, err := os.CreateTemp("/dev/shm", "billingd-demo-probe-"); err == nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
			return "/dev/shm"
		}
	}
	return ""
}

// sourceScope is the source and site a source's records carry.
func sourceScope(s collector.Source) (kind, site string) {
	if e, ok := s.(*estateSource); ok {
		return e.kind, e.site
	}
	return "vcenter", vcSite
}

// collect moves the clock from from to to by Step and polls each source on
// its schedule (and all at to); before each step, before(at) makes the
// changes due and shows progress. Pushing runs
// behind polling, one pusher per source, as in the collector's own Run loop:
// each window is still pushed on its own and acknowledged before the
// source's cursor moves on.
func collect(ctx context.Context, r *demoRunner, sources []schedule, from, to time.Time, before func(at time.Time) error) error {
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		errMu sync.Mutex
		first error
	)
	fail := func(err error) {
		errMu.Lock()
		defer errMu.Unlock()
		if first == nil {
			first = err
			cancel()
		}
	}
	// The runner retries a failed push forever, as a collector must; an
	// error that retrying cannot cure ends the demo instead.
	r.counts.onFatal(func(err error) { fail(fmt.Errorf("demo: billingd refused the usage: %w", err)) })
	wakes := make([]chan struct{}, len(sources))
	for i, s := range sources {
		wake := make(chan struct{}, 1)
		wakes[i] = wake
		wg.Go(func() {
			flush := func() bool {
				if err := r.runners[s.Name()].Flush(pctx, s.Name()); err != nil {
					fail(fmt.Errorf("demo: push %s: %w", s.Name(), err))
					return false
				}
				return true
			}
			for range wake {
				if !flush() {
					return
				}
			}
			flush() // whatever the last poll spooled
		})
	}
	// The sources are polled at once, as their own collectors would.
	poll := func(at time.Time) error {
		r.clock.Set(at)
		errs := make([]error, len(sources))
		var polls sync.WaitGroup
		for i, s := range sources {
			if at.Sub(from)%s.every != 0 && !at.Equal(to) {
				continue
			}
			polls.Go(func() {
				if errs[i] = r.runners[s.Name()].Poll(pctx, s.Name()); errs[i] != nil {
					errs[i] = fmt.Errorf("demo: collect %s at %s: %w", s.Name(), at.Format(time.RFC3339), errs[i])
					return
				}
				select {
				case wakes[i] <- struct{}{}:
				default:
				}
			})
		}
		polls.Wait()
		return errors.Join(errs...)
	}
	err := poll(from) // the baseline: a first poll measures nothing
	for at := from.Add(Step); err == nil && !at.After(to) && pctx.Err() == nil; at = at.Add(Step) {
		if err = before(at); err == nil {
			err = poll(at)
		}
	}
	if err != nil {
		fail(err)
	}
	for _, w := range wakes {
		close(w)
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// errNoKeys is returned when billingd refuses to make collector keys.
var errNoKeys = errors.New("demo: cannot create collector keys")

// collectorKey revokes the collector keys earlier runs made for a source
// and makes a new one, limited to the source's records.
func collectorKey(ctx context.Context, conn grpc.ClientConnInterface, name, source, site string) (string, error) {
	ac := billingv1.NewAccessServiceClient(conn)
	display := "demo collector " + name
	req := &billingv1.ListApiKeysRequest{PageSize: 1000}
	for {
		list, err := ac.ListApiKeys(ctx, req)
		if err != nil {
			return "", fmt.Errorf("%w: %w", errNoKeys, err)
		}
		for _, k := range list.GetApiKeys() {
			if k.GetDisplayName() == display && k.GetRevokeTime() == nil {
				if _, err := ac.RevokeApiKey(ctx, &billingv1.RevokeApiKeyRequest{ApiKeyId: k.GetId()}); err != nil {
					return "", fmt.Errorf("%w: revoke %s: %w", errNoKeys, k.GetId(), err)
				}
			}
		}
		if list.GetNextPageToken() == "" {
			break
		}
		req.PageToken = list.GetNextPageToken()
	}
	res, err := ac.CreateApiKey(ctx, &billingv1.CreateApiKeyRequest{ApiKey: &billingv1.ApiKey{
		DisplayName: display, Role: billingv1.Role_ROLE_COLLECTOR, Sources: []string{source}, Sites: []string{site},
	}})
	if err != nil {
		return "", fmt.Errorf("%w: %w", errNoKeys, err)
	}
	return res.GetSecret(), nil
}
