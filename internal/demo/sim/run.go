package sim

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/collector"
	"github.com/billingd/billingd/internal/demo"
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
	p.say("billingd-demo: %s for %d customers, %d VMs on a simulated vCenter, hour by hour\n\n",
		monthLabel(from, to), len(demo.CustomerIDs()), len(vms)+len(created))

	p.step(1, "Catalog, price lists, campaigns and contract")
	n, err := demo.LoadCounting(ctx, conn)
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
		Granularity: billingv1.Granularity_GRANULARITY_PERIOD,
		GroupBy:     []billingv1.GroupBy{billingv1.GroupBy_GROUP_BY_CUSTOMER, billingv1.GroupBy_GROUP_BY_PRODUCT},
	}
	if to.Equal(from.AddDate(0, 1, 0)) {
		// The month by name, as billingctl and the API take it: each
		// customer's own month in its billing time zone.
		res.Query.Month = from.Format("2006-01")
	} else {
		res.Query.StartTime, res.Query.EndTime = timestamppb.New(from), timestamppb.New(to)
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
	loc, err := time.LoadLocation(demo.TimeZone)
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
	if m.Before(demo.Epoch) {
		return time.Time{}, time.Time{}, fmt.Errorf("demo: month %s is before the demo prices start (%s)", month, demo.Epoch.Format("2006-01"))
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
