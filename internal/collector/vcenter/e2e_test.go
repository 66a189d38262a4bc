package vcenter_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/clock"
	"github.com/billingd/billingd/internal/collector"
	"github.com/billingd/billingd/internal/collector/collectortest"
)

// seedBillingd creates the customers the tenant rules name (all but hooli),
// the metrics the vCenter source emits, and products and a default EUR
// price list, all hourly:
//
//	vcpu      vm.vcpu                   0.01   per vCPU-hour
//	ram       vm.memory_gb              0.005  per GB-hour
//	vm-on     vm.powered_on             0.02   per powered-on hour
//	gold      storage.gb {policy: Gold} 0.0005 per GB-hour (provisioned)
//	windows   licence.windows           0.04   per licence-hour
func seedBillingd(t *testing.T, bd *collectortest.Billingd) {
	t.Helper()
	bd.Customers(t, "acme", "globex", "initech")
	bd.Metrics(t, collectortest.Gauges(map[string]string{
		"vm.vcpu": "vCPU", "vm.memory_gb": "GB", "vm.powered_on": "VM", "storage.gb": "GB", "storage.used_gb": "GB",
		"licence.windows": "licence", "licence.sql_standard": "licence", "licence.rhel": "licence",
	})...)
	bd.Prices(t, "compute", []collectortest.Price{
		{Product: "vcpu", Metric: "vm.vcpu", UnitPrice: "0.01"},
		{Product: "ram", Metric: "vm.memory_gb", UnitPrice: "0.005"},
		{Product: "vm-on", Metric: "vm.powered_on", UnitPrice: "0.02"},
		{Product: "gold", Metric: "storage.gb", UnitPrice: "0.0005", Filter: map[string]string{"policy": "Gold"}},
		{Product: "windows", Metric: "licence.windows", UnitPrice: "0.04"},
	})
}

// TestEndToEndIntoBillingd: simulated vCenter → vCenter source → runner →
// the real billingd on PostgreSQL, pushing with a collector API key limited
// to the source and site. Three windows with changes between them
// and a restart of the collector before the third; a crash between
// spooling and the ack is replayed by pushing a copy of the spool again.
// ListUsage then shows every record once, with the collector's keys.
func TestEndToEndIntoBillingd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bd := collectortest.StartBillingd(t)
	seedBillingd(t, bd)
	usage := bd.CollectorUsage(t, "vcenter:vc01", "vc01")
	s := newSim(t)
	clk := clock.NewFake(t0)
	dir := t.TempDir()
	log, logs := collectortest.Log()
	newRunner := func() *collector.Runner {
		r, err := collector.NewRunner(usage, []collector.Schedule{{Source: newSource(t, s), Interval: time.Hour}},
			collector.Options{StateDir: dir, Clock: clk, Log: log, BatchSize: 7, Retry: collector.Backoff{Initial: time.Millisecond, Max: 10 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	pollAndPush := func(r *collector.Runner) {
		t.Helper()
		if err := r.Poll(ctx, "vc01"); err != nil {
			t.Fatal(err)
		}
		if err := r.Flush(ctx, "vc01"); err != nil {
			t.Fatal(err)
		}
	}

	r := newRunner()
	pollAndPush(r) // t0: baseline, no records
	clk.Set(t0.Add(time.Hour))
	if err := r.Poll(ctx, "vc01"); err != nil {
		t.Fatal(err)
	}
	// Keep the spool as a crash right after spooling would have left it.
	crashed := filepath.Join(t.TempDir(), "state")
	if err := os.CopyFS(crashed, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx, "vc01"); err != nil {
		t.Fatal(err)
	}

	s.wait(t, must(s.vm(t, "DC0_H0_VM0").PowerOff(ctx))(t))
	s.reconfigure(t, "DC0_H0_VM1", 4, 16384, "")
	s.setStorage(t, "DC0_H0_VM1", 3*gib/2+512, 2*gib)
	s.wait(t, must(s.vm(t, "DC0_C0_RP0_VM1").Destroy(ctx))(t))
	clk.Set(t0.Add(90 * time.Minute))
	pollAndPush(r)

	r = newRunner() // restart
	clk.Set(t0.Add(150 * time.Minute))
	pollAndPush(r)

	// The crashed copy resumes and pushes window 1 again: all duplicates.
	r2, err := collector.NewRunner(usage, []collector.Schedule{{Source: newSource(t, s), Interval: time.Hour}},
		collector.Options{StateDir: crashed, Clock: clk, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := r2.Flush(ctx, "vc01"); err != nil {
		t.Fatal(err)
	}

	acme := s.instanceUUID(t, "DC0_H0_VM0")
	got := bd.Usage(t, "acme")
	var lines []string
	for _, u := range got {
		lines = append(lines, u.GetIdempotencyKey()+" "+u.GetMetricKey()+"="+u.GetQuantity()+" "+
			u.GetStartTime().AsTime().Format("15:04")+"-"+u.GetEndTime().AsTime().Format("15:04")+" "+u.GetDimensions()["policy"])
	}
	slices.Sort(lines)
	var want []string
	for _, w := range []struct {
		start, end, on string
		bucket         string
	}{{"00:00", "01:00", "1", "1767225600"}, {"01:00", "01:30", "0", "1767229200"}, {"01:30", "02:30", "0", "1767231000"}} {
		k := "vcenter:vc01:" + acme + ":"
		win := " " + w.start + "-" + w.end + " "
		want = append(want,
			k+"licence.windows:"+w.bucket+" licence.windows=1"+win,
			k+"storage.gb:"+s.ds.Value+":"+w.bucket+" storage.gb=40"+win+"Gold",
			k+"storage.used_gb:"+s.ds.Value+":"+w.bucket+" storage.used_gb=10"+win+"Gold",
			k+"vm.memory_gb:"+w.bucket+" vm.memory_gb=8"+win,
			k+"vm.powered_on:"+w.bucket+" vm.powered_on="+w.on+win,
			k+"vm.vcpu:"+w.bucket+" vm.vcpu=4"+win,
		)
	}
	slices.Sort(want)
	if diff := diffLines(want, lines); diff != "" {
		t.Errorf("acme's usage in billingd (-want +got):\n%s", diff)
	}
	// globex 5 and initech 7 records per window; hooli's 5 of window 1 are
	// rejected (no such customer in billingd) and logged, once per push:
	// the replay of the crashed spool pushes them a second time.
	bd.CheckRecordCounts(t, map[string]int{"globex": 15, "initech": 21, "hooli": 0})
	if c := strings.Count(logs.String(), "billingd rejected a record"); c != 10 {
		t.Errorf("%d rejections logged, want hooli's 5 twice:\n%s", c, logs)
	}

	// acme's January bill, by hand. Its VM: 4 vCPU, 8 GB, Windows, 40 GB
	// Gold provisioned, powered on over [00:00, 01:00) and off over
	// [01:00, 02:30); hour granules, so the half hour 02:00–02:30 counts
	// as half the level:
	//	vcpu     4 × 2.5 h = 10 vCPU-h    × 0.01   = 0.10
	//	ram      8 × 2.5 h = 20 GB-h      × 0.005  = 0.10
	//	vm-on    1 × 1 h   = 1 h          × 0.02   = 0.02
	//	gold    40 × 2.5 h = 100 GB-h     × 0.0005 = 0.05
	//	windows  1 × 2.5 h = 2.5 h        × 0.04   = 0.10
	//	                                     total   0.37 EUR
	// (Prices are chosen so that every hour's amount is whole cents too:
	// billingd rounds per rated granule before summing a line.)
	bd.CheckMonthBill(t, "acme", t0, map[string]string{
		"vcpu": "10 × 0.01 = 0.10", "ram": "20 × 0.005 = 0.10", "vm-on": "1 × 0.02 = 0.02",
		"gold": "100 × 0.0005 = 0.05", "windows": "2.5 × 0.04 = 0.10",
	}, "0.37")
}
