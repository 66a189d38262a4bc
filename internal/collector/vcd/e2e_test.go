package vcd

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/clock"
	"github.com/billingd/billingd/internal/collector"
	"github.com/billingd/billingd/internal/collector/collectortest"
)

// TestEndToEndIntoBillingd: a VCD (httptest, answering like a 10.5 cell)
// and its notifications on the real RabbitMQ → the VCD source → the
// collector runner → the real billingd (TLS, API keys) on PostgreSQL.
//
// Between the polls of 00:00 and 01:00 a VM is created (00:10) and deleted
// (00:40) — no poll ever lists it — and web01 is powered off (00:30). The
// collector is restarted between the 01:00 and 02:00 polls, before the
// 01:00 window's messages were acknowledged, so they are delivered again to
// the new process, which must not apply them twice. acme's January bill is
// then checked against the sum by hand.
func TestEndToEndIntoBillingd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bd := collectortest.StartBillingd(t)
	seedBillingd(t, bd)
	usage := bd.CollectorUsage(t, "vcd:vcd01", "vcd01")

	f := newFakeVCD(t)
	f.seed()
	br := newBroker(t)
	cfg := testConfig(f)
	cfg.Notifications = br.config()
	clk := clock.NewFake(t0)
	dir := t.TempDir()
	log, logs := collectortest.Log()
	start := func() (*Source, *collector.Runner) {
		s, err := New("vcd01", cfg, log)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		r, err := collector.NewRunner(usage, []collector.Schedule{{Source: s, Interval: time.Hour}},
			collector.Options{StateDir: dir, Clock: clk, Log: log, BatchSize: 10, Retry: collector.Backoff{Initial: time.Millisecond, Max: 10 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		return s, r
	}
	pollAndPush := func(r *collector.Runner, at time.Time) {
		t.Helper()
		clk.Set(at)
		if err := r.Poll(ctx, "vcd01"); err != nil {
			t.Fatal(err)
		}
		if err := r.Flush(ctx, "vcd01"); err != nil {
			t.Fatal(err)
		}
	}

	s, r := start()
	pollAndPush(r, t0) // baseline; starts consuming
	tmp := f.vm(vmTmp, "tmp", orgAcme, vdcAcme, 4, 8192, 20480, "POWERED_ON", "Gold")
	tmp["dateCreated"] = "2026-01-01T00:10:00.000Z"
	f.add(qtVM, tmp)
	br.publish(t, "create", vmTmp, orgAcme, t0.Add(10*time.Minute), "e2e-create-tmp")
	waitPending(t, s, 1)
	f.setVM(vmWeb, map[string]any{"status": "POWERED_OFF", "isDeployed": false})
	br.publish(t, "undeploy", vmWeb, orgAcme, t0.Add(30*time.Minute), "e2e-off-web")
	f.removeVM(vmTmp)
	br.publish(t, "delete", vmTmp, orgAcme, t0.Add(40*time.Minute), "e2e-delete-tmp")
	waitPending(t, s, 3)
	pollAndPush(r, t0.Add(time.Hour))

	_ = s.Close() // restart: window 1 is acknowledged by billingd, its messages not yet by us
	s, r = start()
	s.startOnce.Do(s.notifications.start)
	waitPending(t, s, 3) // delivered again
	pollAndPush(r, t0.Add(2*time.Hour))
	pollAndPush(r, t0.Add(3*time.Hour)) // acknowledges them
	_ = s.Close()
	if n := br.ready(t); n != 0 {
		t.Errorf("%d messages left in the queue, want 0", n)
	}

	var tmpLines []string
	for _, u := range bd.Usage(t, "acme") {
		if u.GetResourceId() == vmTmp {
			tmpLines = append(tmpLines, u.GetIdempotencyKey()+" "+u.GetMetricKey()+"="+u.GetQuantity()+" "+
				u.GetStartTime().AsTime().Format("15:04")+"-"+u.GetEndTime().AsTime().Format("15:04")+" "+u.GetOrganisationId()+" "+u.GetVdcId())
		}
	}
	k, ids := "vcd:vcd01:"+vmTmp+":", " 00:10-00:40 "+orgAcme+" "+vdcAcme
	wantTmp := []string{
		k + "storage.gb:1767226200 storage.gb=20" + ids, k + "vm.memory_gb:1767226200 vm.memory_gb=8" + ids,
		k + "vm.powered_on:1767226200 vm.powered_on=1" + ids, k + "vm.vcpu:1767226200 vm.vcpu=4" + ids,
	}
	if d := diffLines(wantTmp, slices.Sorted(slices.Values(tmpLines))); d != "" {
		t.Errorf("the VM no poll saw, in billingd (-want +got):\n%s", d)
	}
	// globex: 8 records per window (its VM 4, its allocation pool VDC 3,
	// its IPs 1); hooli's VM was skipped by the source (no customer).
	bd.CheckRecordCounts(t, map[string]int{"globex": 24})
	if c := strings.Count(logs.String(), "reason=no_customer"); c != 4 {
		t.Errorf("%d no_customer skips logged, want hooli's VM at each of the 4 polls", c)
	}

	// acme's January bill, by hand (hour granules; a line is the sum of
	// quantity × hours). Levels over the three windows 00:00–03:00:
	//	web01  2 vCPU, 4 GB, 40 GB Gold; on 00:00–00:30, off after
	//	db01   4 vCPU, 16 GB, 100 GB Silver (not priced); off
	//	app01  1 vCPU, 1.5 GB, 10 GB default (not priced); suspended
	//	tmp    4 vCPU, 8 GB, 20 GB Gold, on; 00:10–00:40 only
	//	2 public IPs, 1 edge gateway
	//
	//	vcpu   (2+4+1)×3 + 4×0.5       = 23 vCPU-h   × 0.01  = 0.23
	//	ram    (4+16+1.5)×3 + 8×0.5    = 68.5 GB-h   × 0.02  = 1.37
	//	vm-on  web 0.5 + tmp 0.5       = 1 h         × 0.02  = 0.02
	//	gold   40×3 + 20×0.5           = 130 GB-h    × 0.001 = 0.13
	//	ip     2×3                     = 6 IP-h      × 0.01  = 0.06
	//	edge   1×3                     = 3 h         × 0.03  = 0.09
	//	                                               total   1.90 EUR
	// Per hour the amounts are whole cents too (hour 1: vcpu 9, ram 25.5,
	// on 1, gold 50; hours 2 and 3: 7, 21.5, 0, 40), so rounding per granule
	// or per line gives the same.
	bd.CheckMonthBill(t, "acme", t0, map[string]string{
		"vcpu": "23 × 0.01 = 0.23", "ram": "68.5 × 0.02 = 1.37", "vm-on": "1 × 0.02 = 0.02",
		"gold": "130 × 0.001 = 0.13", "public-ip": "6 × 0.01 = 0.06", "edge": "3 × 0.03 = 0.09",
	}, "1.90")
}

// seedBillingd creates acme and globex (not hooli), the metrics the VCD
// source emits, and hourly EUR prices for acme's products:
//
//	vcpu       vm.vcpu                    0.01  per vCPU-hour
//	ram        vm.memory_gb               0.02  per GB-hour
//	vm-on      vm.powered_on              0.02  per powered-on hour
//	gold       storage.gb {policy: Gold}  0.001 per GB-hour
//	public-ip  network.public_ips         0.01  per IP-hour
//	edge       network.edge_gateway       0.03  per gateway-hour
func seedBillingd(t *testing.T, bd *collectortest.Billingd) {
	t.Helper()
	bd.Customers(t, "acme", "globex")
	bd.Metrics(t, collectortest.Gauges(map[string]string{
		MetricVCPU: "vCPU", MetricMemoryGB: "GB", MetricPoweredOn: "VM", MetricStorageGB: "GB",
		MetricVdcCPU: "GHz", MetricVdcMemory: "GB", MetricVdcStorage: "GB", MetricEdgeGateway: "gateway", MetricPublicIPs: "IP",
	})...)
	bd.Prices(t, "cloud", []collectortest.Price{
		{Product: "vcpu", Metric: MetricVCPU, UnitPrice: "0.01"},
		{Product: "ram", Metric: MetricMemoryGB, UnitPrice: "0.02"},
		{Product: "vm-on", Metric: MetricPoweredOn, UnitPrice: "0.02"},
		{Product: "gold", Metric: MetricStorageGB, UnitPrice: "0.001", Filter: map[string]string{"policy": "Gold"}},
		{Product: "public-ip", Metric: MetricPublicIPs, UnitPrice: "0.01"},
		{Product: "edge", Metric: MetricEdgeGateway, UnitPrice: "0.03"},
	})
}
