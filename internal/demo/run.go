package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/clock"
	"github.com/billingd/billingd/internal/collector"
)

// Options tune Run.
type Options struct {
	Out  io.Writer // progress and the bill
	Live bool      // Out is a terminal: redraw the progress bar in place
	// Month to simulate, "YYYY-MM" in the customers' time zone; default 2026-10.
	Month string
	Days  int  // simulate only the first Days days of the month; 0: all of it
	Small bool // four VMs and two changes instead of eight VMs and eight (tests)
	// ReportDir receives the five report formats; empty writes none.
	ReportDir string
	// Dial connects to billingd with another API key. When set, Run creates
	// a collector key per source (scoped to it) and pushes usage with it, as
	// separate collectors would; nil pushes on conn.
	Dial func(token string) (grpc.ClientConnInterface, error)
	Log  *slog.Logger // the collector runner's log; nil discards it
}

// Result is what Run did and printed.
type Result struct {
	From, To   time.Time // the simulated, billed window
	Usage      Counts    // IngestUsage acknowledgements
	Totals     []*billingv1.CurrencyTotal
	Subtotals  map[string]map[string]string // customer → currency → amount, as printed
	Lines      int
	Reports    []string // files written
	Query      *billingv1.BillingQuery
	Customers  []string
	SourceKeys int // collector keys created
}

// Step is how far the simulated clock moves at a time: the vCenter
// collector's poll interval.
const Step = time.Hour

// schedule is a source and how often the demo polls it, a multiple of Step.
type schedule struct {
	collector.Source
	every time.Duration
	what  string
}

// Run loads the demo catalog (Load), simulates a month of a vCenter and
// the demo's backup and network sources, pushes what the collectors measure
// through UsageService.IngestUsage, then prints the month's bill and writes
// its reports. conn needs an admin key when billingd requires keys.
//
// Run is repeatable: the simulation is deterministic, so a second run
// sends the same idempotency keys and billingd stores no record twice.
func Run(ctx context.Context, conn grpc.ClientConnInterface, o Options) (Result, error) {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	from, to, err := window(o.Month, o.Days)
	if err != nil {
		return Result{}, err
	}
	res := Result{From: from, To: to}
	p := &printer{w: o.Out, live: o.Live}
	started := time.Now()

	vms, created, events := estate(o.Small)
	p.say("billingd demo: %s for %d customers, %d VMs on a simulated vCenter, hour by hour\n\n",
		monthLabel(from, to), len(customers), len(vms)+len(created))

	p.step(1, "Catalog, price lists, campaigns and contract")
	n, err := load(ctx, conn)
	if err != nil {
		return res, err
	}
	if n == 0 {
		p.say("already loaded\n")
	} else {
		p.say("%d objects created\n", n)
	}

	p.step(2, "Simulated vCenter (govmomi vcsim)")
	vc, err := startVCenter(ctx)
	if err != nil {
		return res, err
	}
	defer vc.close()
	w := &world{vms: map[string]*vmSpec{}}
	for _, s := range vms {
		if err := vc.create(ctx, s); err != nil {
			return res, err
		}
		w.vms[s.name] = &s
	}
	p.say("%s, %d VMs in %s/{customer}\n", vc.server.URL.Host, len(vms), tenantFolder)
	for _, s := range w.sorted() {
		p.say("      %-8s %s\n", s.customer, s)
	}

	vcSource, err := vc.source()
	if err != nil {
		return res, err
	}
	defer func() { _ = vcSource.Close() }()
	// vCenter is polled hourly; the backup product reports once a day and
	// the network every six hours, as such collectors typically do.
	sources := []schedule{
		{vcSource, Step, "vCenter hourly"},
		{networkSource(w), 6 * time.Hour, "network every 6 h"},
		{backupSource(w), 24 * time.Hour, "backup daily"},
	}
	runner, counts, keys, cleanup, err := newRunner(ctx, conn, o, sources, from)
	if err != nil {
		return res, err
	}
	defer cleanup()
	res.SourceKeys = keys

	var cadence []string
	for _, s := range sources {
		cadence = append(cadence, s.what)
	}
	p.step(3, fmt.Sprintf("Collecting %s, %d simulated hours: %s", monthLabel(from, to), int(to.Sub(from)/time.Hour), strings.Join(cadence, ", ")))
	if keys > 0 {
		p.say("\n      (each collector pushes with its own API key, role collector, limited to its source)\n")
	} else {
		p.say("\n")
	}
	collectStart := time.Now()
	if err := collect(ctx, runner, sources, from, to, func(at time.Time) error {
		for len(events) > 0 && events[0].at < at.Sub(from) {
			e := events[0]
			events = events[1:]
			if err := apply(ctx, vc, w, created, e); err != nil {
				return err
			}
			p.event(from.Add(e.at), e.vm, e.what)
		}
		p.progress(at.Sub(from), to.Sub(from), counts.get())
		return nil
	}); err != nil {
		return res, err
	}
	res.Usage = counts.get()
	p.done(fmt.Sprintf("%s records stored, %s duplicates, %s rejected in %.1fs",
		thousands(res.Usage.Accepted), thousands(res.Usage.Duplicates), thousands(res.Usage.Rejected), time.Since(collectStart).Seconds()))
	if res.Usage.Duplicates > 0 && res.Usage.Accepted == 0 {
		p.say("      (all duplicates: an earlier run stored this month; idempotency keys make a re-run harmless)\n")
	}
	if res.Usage.Rejected > 0 {
		p.say("      first rejection: %s\n", counts.firstRejection())
	}

	p.step(4, "The bill: BillingService.QueryBilling")
	p.say("\n\n")
	res.Query = &billingv1.BillingQuery{
		StartTime: ts(from), EndTime: ts(to), Granularity: billingv1.Granularity_GRANULARITY_PERIOD,
		GroupBy: []billingv1.GroupBy{billingv1.GroupBy_GROUP_BY_CUSTOMER, billingv1.GroupBy_GROUP_BY_PRODUCT},
	}
	bill, err := queryAll(ctx, billingv1.NewBillingServiceClient(conn), res.Query)
	if err != nil {
		return res, fmt.Errorf("demo: query the bill: %w", err)
	}
	res.Lines, res.Totals = len(bill.GetLines()), bill.GetTotals()
	res.Subtotals, res.Customers = writeBill(o.Out, bill)

	if o.ReportDir != "" {
		p.step(5, "Reports: ReportService.ExportReport → "+o.ReportDir+"/")
		p.say("\n")
		if res.Reports, err = writeReports(ctx, billingv1.NewReportServiceClient(conn), res.Query, o.ReportDir, p); err != nil {
			return res, err
		}
	}
	p.say("\nDone in %.1fs.\n", time.Since(started).Seconds())
	return res, nil
}

// window is the simulated period: the month (or its first days) from
// midnight in the customers' time zone.
func window(month string, days int) (time.Time, time.Time, error) {
	if month == "" {
		month = "2026-10"
	}
	loc, err := time.LoadLocation(TimeZone)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("demo: %w", err)
	}
	m, err := time.ParseInLocation("2006-01", month, loc)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("demo: month %q: want YYYY-MM", month)
	}
	to := m.AddDate(0, 1, 0)
	if days > 0 && m.AddDate(0, 0, days).Before(to) {
		to = m.AddDate(0, 0, days)
	}
	if m.Before(Epoch) {
		return time.Time{}, time.Time{}, fmt.Errorf("demo: month %s is before the demo prices start (%s)", month, Epoch.Format("2006-01"))
	}
	return m, to, nil
}

func monthLabel(from, to time.Time) string {
	if to.Equal(from.AddDate(0, 1, 0)) {
		return from.Format("January 2006")
	}
	return from.Format("2 Jan 2006") + " – " + to.Add(-time.Second).Format("2 Jan 2006")
}

// apply makes one change in the simulated vCenter and the world.
func apply(ctx context.Context, vc *simVCenter, w *world, created map[string]vmSpec, e event) error {
	if s, ok := created[e.vm]; ok {
		if err := vc.create(ctx, s); err != nil {
			return err
		}
		w.vms[s.name] = &s
		return nil
	}
	v, ok := w.vms[e.vm]
	if !ok {
		return fmt.Errorf("demo: event on unknown VM %s", e.vm)
	}
	remove, off := e.do(v)
	switch {
	case remove:
		delete(w.vms, e.vm)
		return vc.destroy(ctx, *v)
	case off:
		v.off = true
		return vc.powerOff(ctx, e.vm)
	default:
		return vc.update(ctx, *v)
	}
}

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

// queryAll runs a billing query and gathers every page.
func queryAll(ctx context.Context, c billingv1.BillingServiceClient, q *billingv1.BillingQuery) (*billingv1.QueryBillingResponse, error) {
	req := &billingv1.QueryBillingRequest{Query: q, PageSize: 10000}
	var all *billingv1.QueryBillingResponse
	for {
		res, err := c.QueryBilling(ctx, req)
		if err != nil {
			return nil, err
		}
		if all == nil {
			all = res
		} else {
			all.Lines = append(all.Lines, res.GetLines()...)
		}
		if res.GetNextPageToken() == "" {
			return all, nil
		}
		req.PageToken = res.GetNextPageToken()
	}
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

func thousands(n int) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}
