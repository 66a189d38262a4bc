package querybench

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
)

var october = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

// TestFleetSendsOneRecordPerResourceHourAndMetric: every VM of every
// customer sends exactly one record per metric and hour of the loaded
// hours, each an interval of exactly one hour starting on the hour, with a
// unique key, a positive whole level, and a storage policy on storage only.
func TestFleetSendsOneRecordPerResourceHourAndMetric(t *testing.T) {
	f := newFleet(october, 24, customer{ID: "big", VMs: 3}, customer{ID: "small", VMs: 1})
	if got, want := f.Records(), 24*4*3; got != want {
		t.Fatalf("Records() = %d, want %d", got, want)
	}
	seen := map[string]int{}
	keys := map[string]bool{}
	perCustomer := map[string]int{}
	var rec billingv1.UsageRecord
	for i := range f.Records() {
		f.fill(&rec, i) // one message reused, as the ingestion clients do
		start, end := rec.GetStartTime().AsTime(), rec.GetEndTime().AsTime()
		if !start.Equal(start.Truncate(time.Hour)) || end.Sub(start) != time.Hour {
			t.Fatalf("record %d covers [%v, %v), want one whole hour", i, start, end)
		}
		if start.Before(october) || !end.After(start) || end.After(october.Add(24*time.Hour)) {
			t.Fatalf("record %d covers [%v, %v), outside the loaded 24 hours", i, start, end)
		}
		id := fmt.Sprint(rec.GetCustomerId(), rec.GetResourceId(), rec.GetMetricKey(), start)
		seen[id]++
		if keys[rec.GetIdempotencyKey()] {
			t.Fatalf("record %d repeats the key %s", i, rec.GetIdempotencyKey())
		}
		keys[rec.GetIdempotencyKey()] = true
		perCustomer[rec.GetCustomerId()]++
		if q, err := strconv.Atoi(rec.GetQuantity()); err != nil || q <= 0 {
			t.Fatalf("record %d has quantity %q, want a positive whole number", i, rec.GetQuantity())
		}
		policy, has := rec.GetDimensions()["policy"]
		if (rec.GetMetricKey() == metricStorage) != has || (has && policy != "gold" && policy != "silver") {
			t.Fatalf("record %d of %s has dimensions %v", i, rec.GetMetricKey(), rec.GetDimensions())
		}
	}
	if len(seen) != f.Records() {
		t.Errorf("%d distinct (customer, resource, metric, hour) in %d records", len(seen), f.Records())
	}
	if perCustomer["big"] != f.CustomerRecords(0) || perCustomer["big"] != 24*3*3 || perCustomer["small"] != 24*1*3 {
		t.Errorf("records per customer %v, want big %d, small %d", perCustomer, 24*3*3, 24*3)
	}
}

// TestDefaultScenarioCounts: the scenario, a 744-hour October of
// 200 VMs against 1, is 446,400 and 2,232 records, in hour order.
func TestDefaultScenarioCounts(t *testing.T) {
	cfg := Default()
	f := newFleet(october, monthHours(october), customer{ID: "big", VMs: cfg.BigVMs}, customer{ID: "small", VMs: cfg.SmallVMs})
	if f.Hours != 744 || f.CustomerRecords(0) != 446_400 || f.CustomerRecords(1) != 2_232 || f.Records() != 448_632 {
		t.Fatalf("hours %d, big %d, small %d, all %d records", f.Hours, f.CustomerRecords(0), f.CustomerRecords(1), f.Records())
	}
	var rec billingv1.UsageRecord
	last := october
	small := 0
	for i := range f.Records() {
		f.fill(&rec, i)
		start := rec.GetStartTime().AsTime()
		if start.Before(last) {
			t.Fatalf("record %d starts at %v, before the previous record's %v", i, start, last)
		}
		last = start
		if rec.GetCustomerId() == "small" {
			small++
		}
	}
	if want := october.Add(743 * time.Hour); !last.Equal(want) || small != 2_232 {
		t.Errorf("last hour %v (want %v), %d records of the small customer", last, want, small)
	}
}

func TestPercentileIsNearestRank(t *testing.T) {
	ds := make([]time.Duration, 200)
	for i := range ds {
		ds[i] = time.Duration(i+1) * time.Millisecond
	}
	if p50, p99 := percentile(ds, 50), percentile(ds, 99); p50 != 100*time.Millisecond || p99 != 198*time.Millisecond {
		t.Errorf("p50 %v, p99 %v of 1..200 ms, want 100 ms and 198 ms", p50, p99)
	}
	if p99 := percentile(ds[:1], 99); p99 != time.Millisecond {
		t.Errorf("p99 of one latency = %v", p99)
	}
}
