package postgres

import (
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/billingd/billingd/internal/usage"
)

// TestDirtyRunsOf: a batch's hours fold into runs of consecutive hours per
// (customer, metric); a gap starts a new run; records add up and a
// resource counts once per hour. The batch is put in billing order first,
// as Insert does.
func TestDirtyRunsOf(t *testing.T) {
	base := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	rec := func(key, customer, metric, resource string, minutes int) usage.Record {
		at := base.Add(time.Duration(minutes) * time.Minute)
		return usage.Record{Key: key, CustomerID: customer, MetricKey: metric, Quantity: decimal.NewFromInt(1),
			Start: at, End: at, ResourceID: resource}
	}
	records := []usage.Record{
		rec("a", "acme", "vm.vcpu", "vm-1", 10),  // hour 0
		rec("b", "acme", "vm.vcpu", "vm-1", 20),  // hour 0, same resource
		rec("c", "acme", "vm.vcpu", "vm-2", 70),  // hour 1
		rec("d", "acme", "vm.vcpu", "vm-1", 130), // hour 2
		rec("e", "acme", "vm.vcpu", "vm-1", 600), // hour 10: a gap
		rec("f", "acme", "vm.ram", "vm-1", 15),   // another metric
		rec("g", "beta", "vm.vcpu", "vm-9", 75),  // another customer
	}
	records = uniqueInBillingOrder(records)
	h := func(n int) int64 { return base.Add(time.Duration(n) * time.Hour).Unix() }
	want := []dirtyRun{
		{"acme", "vm.ram", h(0), h(0), 1, 1},
		{"acme", "vm.vcpu", h(0), h(2), 4, 3},
		{"acme", "vm.vcpu", h(10), h(10), 1, 1},
		{"beta", "vm.vcpu", h(1), h(1), 1, 1},
	}
	if got := dirtyRunsOf(records); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("runs\n got %v\nwant %v", got, want)
	}

	// A run ends after maxRunHours hours: 60 consecutive hours are three rows.
	var long []usage.Record
	for i := range 60 {
		long = append(long, rec(fmt.Sprint("l", i), "acme", "vm.vcpu", "vm-1", 60*i))
	}
	want = []dirtyRun{
		{"acme", "vm.vcpu", h(0), h(23), 24, 24},
		{"acme", "vm.vcpu", h(24), h(47), 24, 24},
		{"acme", "vm.vcpu", h(48), h(59), 12, 12},
	}
	if got := dirtyRunsOf(uniqueInBillingOrder(long)); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("runs of 60 hours\n got %v\nwant %v", got, want)
	}
}

// benchmarkBatch is a batch shaped like the usage benchmark's (5,000
// records of 100 customers, 3 metrics, about 4 hours) as it arrives:
// customers interleaved, time ascending.
func benchmarkBatch() []usage.Record {
	base := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	records := make([]usage.Record, 5000)
	for i := range records {
		at := base.Add(time.Duration(i/24) * time.Minute)
		records[i] = usage.Record{Key: fmt.Sprint("bench-", 100000+i), CustomerID: fmt.Sprintf("cust-%03d", i%100),
			MetricKey: []string{"vm.vcpu", "vm.memory_gb", "net.egress_gb"}[i%3], Quantity: decimal.NewFromInt(1),
			Start: at, End: at, ResourceID: fmt.Sprint("vm-", i%5000)}
	}
	return records
}

// BenchmarkDirtyRunsOf: the log rows of one benchmark-shaped batch, in
// billing order.
func BenchmarkDirtyRunsOf(b *testing.B) {
	records := uniqueInBillingOrder(benchmarkBatch())
	b.ReportAllocs()
	for b.Loop() {
		dirtyRunsOf(records)
	}
}

// BenchmarkUniqueInBillingOrder: one benchmark-shaped batch put in copy
// order.
func BenchmarkUniqueInBillingOrder(b *testing.B) {
	records := benchmarkBatch()
	b.ReportAllocs()
	for b.Loop() {
		uniqueInBillingOrder(records)
	}
}
