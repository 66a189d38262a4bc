package querybench

import (
	"fmt"
	"io"
	"runtime"
	"time"
)

// The goals of issue 16 that this harness measures.
const (
	goalP50       = 50 * time.Millisecond
	goalP99       = 150 * time.Millisecond
	goalRatio     = 3.0
	goalClients   = 50
	goalQPS       = 200.0
	goalRSSBytes  = 400 << 20
	goalRSSString = "400 MB"
)

// Print writes the figures as a table and one line per goal, met or not.
func (r Result) Print(w io.Writer) {
	where := "billingd a subprocess"
	if r.InProcess {
		where = "billingd in this process (its RSS includes the clients)"
	}
	fmt.Fprintf(w, "querybench: month %s (%d h), one interval record per resource-hour and metric (vCPU, RAM, storage), %s, %d CPUs\n",
		r.Month, r.Hours, where, runtime.NumCPU())
	fmt.Fprintf(w, "load: %d records by %d streams in %.2fs (%.0f records/s); rollup worker caught up %.2fs after the last ack (%d dirty hours then)\n",
		r.Records, r.LoadClients, r.Ingest.Seconds(), float64(r.Records)/r.Ingest.Seconds(), r.CatchUp.Seconds(), r.DirtyAtAck)
	fmt.Fprintf(w, "\nQueryBilling, month %s, group by product, granularity month; single client, %d queries after %d warm-ups:\n", r.Month, r.Queries, r.Warmups)
	fmt.Fprintf(w, "  %-16s %4s %8s %6s %18s %10s %10s %10s %7s\n", "customer", "VMs", "records", "lines", "total", "p50", "p99", "mean", "failed")
	for _, c := range []struct {
		id           string
		vms, records int
		l            Latency
		a            answer
	}{{BigCustomer, r.BigVMs, r.BigRecords, r.Big, r.BigAnswer}, {SmallCustomer, r.SmallVMs, r.SmallRecords, r.Small, r.SmallAnswer}} {
		fmt.Fprintf(w, "  %-16s %4d %8d %6d %18s %10s %10s %10s %7d\n", c.id, c.vms, c.records, len(c.a.Lines), c.a.Total,
			ms(c.l.P50), ms(c.l.P99), ms(c.l.Mean), c.l.Failed)
	}
	ratio := ratioOf(r.Big.P50, r.Small.P50)
	fmt.Fprintf(w, "  big/small: p50 %.1f×, mean %.1f×\n", ratio, ratioOf(r.Big.Mean, r.Small.Mean))
	for _, c := range []struct {
		id string
		a  answer
	}{{BigCustomer, r.BigAnswer}, {SmallCustomer, r.SmallAnswer}} {
		for _, l := range c.a.Lines {
			fmt.Fprintf(w, "    %-14s %-14s %16s %-9s × %6s = %10s %s\n", c.id, l.GetProductId(), l.GetQuantity(), l.GetUnit(), l.GetUnitPrice(), l.GetAmount(), l.GetCurrency())
		}
	}
	c := r.Concurrent
	fmt.Fprintf(w, "\n%d concurrent clients on %s's month, starting queries for %v:\n", c.Clients, BigCustomer, r.Duration)
	fmt.Fprintf(w, "  %d queries in %.2fs (until the last answer): %.1f queries/s, p50 %s, p99 %s, mean %s, failed %d\n",
		c.N, c.Elapsed.Seconds(), c.QueriesPerSecond, ms(c.P50), ms(c.P99), ms(c.Mean), c.Failed)
	peak := "peak during the run"
	if r.PeakSinceStart {
		peak = "peak since start (the peak could not be reset)"
	}
	fmt.Fprintf(w, "  billingd RSS: %s before, %s %s (after the load and single-client queries: %s)\n",
		mb(r.RSSBefore), mb(r.PeakRSS), peak, mb(r.PeakAfterLoad))

	fmt.Fprintln(w)
	goal(w, "1", fmt.Sprintf("single client, big customer p50 ≤ %v", goalP50), r.Big.N > 0 && r.Big.P50 <= goalP50, ms(r.Big.P50))
	goal(w, "1", fmt.Sprintf("single client, big customer p99 ≤ %v", goalP99), r.Big.N > 0 && r.Big.P99 <= goalP99, ms(r.Big.P99))
	goal(w, "1", fmt.Sprintf("big/small p50 ≤ %.0f×", goalRatio), r.Small.N > 0 && ratio <= goalRatio, fmt.Sprintf("%.1f×", ratio))
	scope := ""
	if c.Clients != goalClients {
		scope = fmt.Sprintf("; measured with %d clients, the goal is for %d", c.Clients, goalClients)
	}
	goal(w, "2", fmt.Sprintf("%d clients ≥ %.0f queries/s", goalClients, goalQPS), c.QueriesPerSecond >= goalQPS, fmt.Sprintf("%.1f/s%s", c.QueriesPerSecond, scope))
	goal(w, "2", "billingd peak RSS < "+goalRSSString, r.PeakRSS > 0 && r.PeakRSS < goalRSSBytes, mb(r.PeakRSS)+scope)
}

func goal(w io.Writer, n, what string, met bool, got string) {
	verdict := "not met"
	if met {
		verdict = "met"
	}
	fmt.Fprintf(w, "goal %s: %s: %s (%s)\n", n, what, verdict, got)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func mb(b int64) string {
	if b < 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.0f MB", float64(b)/(1<<20))
}

func ratioOf(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}
