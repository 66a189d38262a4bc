package usagebench

import (
	"crypto/sha256"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
)

// The synthetic load: Customers customers with vms VMs that report three
// metrics, 24 records a minute in time order from the start of June 2025
// (a million records fill 29 days), as collectors send what they measured
// last. Record i is a pure function of i, so every phase and every resend
// produces the same rows without holding a million of them in memory.
const (
	Customers = 100
	vms       = 5000
)

var (
	month   = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	metrics = []struct{ key, unit, aggregation string }{
		{"vm.vcpu", "vCPU", "time_weighted_avg"},
		{"vm.memory_gb", "GB", "max"},
		{"net.egress_gb", "GB", "sum"},
	}
	policies = []string{"Gold", "Silver", "Bronze"}
)

// CustomerID is the customer of record i.
func CustomerID(i int) string { return customerIDs[i%Customers] }

// The repeating parts of the rows, formatted once: generating the load
// should cost the clients (and the COPY baselines, which read the same
// rows) as little as possible, so that the machine's two cores measure
// billingd and PostgreSQL.
var (
	customerIDs = formatted(Customers, func(i int) string { return fmt.Sprintf("cust-%03d", i) })
	resourceIDs = formatted(vms, func(i int) string { return "vm-" + strconv.Itoa(i) })
	// VM instance UUIDs as vSphere prints them, from a hash of the VM's number
	vmUUIDs = formatted(vms, func(i int) string {
		h := sha256.Sum256([]byte(resourceIDs[i]))
		return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
	})
	// quantity i%16 and i%100 repeat every 400 records
	quantities = formatted(400, func(i int) string { return strconv.Itoa(1+i%16) + "." + strconv.Itoa(i%100) })
)

func formatted(n int, f func(int) string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

type row struct {
	key, customer, metric, quantity, resource, site, source, policy string
	start                                                           time.Time
}

// sequentialKeys makes keys "bench-<i>" instead of collector-shaped ones;
// Run sets it from Config.SequentialKeys before any row is made.
var sequentialKeys bool

func makeRow(i int) row {
	minute := i / 24
	start := month.Add(time.Duration(minute) * time.Minute)
	metric := metrics[i%len(metrics)].key
	key := "bench-" + strconv.Itoa(i)
	if !sequentialKeys {
		// as the vCenter collector names a sample: source, VM, metric, time
		// (unique: a VM reports a metric at most once a minute here)
		key = "vcenter:vc01:" + vmUUIDs[i%vms] + ":" + metric + ":" + strconv.FormatInt(start.Unix(), 10)
	}
	return row{
		key:      key,
		customer: CustomerID(i),
		metric:   metric,
		quantity: quantities[i%400],
		resource: resourceIDs[i%vms],
		site:     "fra1",
		source:   "bench",
		policy:   policies[i%len(policies)],
		start:    start,
	}
}

// Record is record i on the wire.
func Record(i int) *billingv1.UsageRecord {
	var out billingv1.UsageRecord
	fill(&out, i)
	return &out
}

// fill makes rec record i, reusing its timestamp and map: a client sends
// a message before it builds the next, so one message's records serve
// every batch.
func fill(rec *billingv1.UsageRecord, i int) {
	r := makeRow(i)
	if rec.Time == nil {
		rec.Time = &timestamppb.Timestamp{}
	}
	rec.Time.Seconds, rec.Time.Nanos = r.start.Unix(), 0
	if rec.Dimensions == nil {
		rec.Dimensions = map[string]string{}
	}
	rec.Dimensions["policy"] = r.policy
	rec.IdempotencyKey, rec.CustomerId, rec.MetricKey, rec.Quantity = r.key, r.customer, r.metric, r.quantity
	rec.ResourceId, rec.Site, rec.Source = r.resource, r.site, r.source
}

// copyRows feeds rows [0, n) of usage_records' shape to COPY.
type copyRows struct {
	n, i     int
	received time.Time
	vals     [13]any
}

func (c *copyRows) Next() bool { c.i++; return c.i <= c.n }
func (c *copyRows) Err() error { return nil }

func (c *copyRows) Values() ([]any, error) {
	r := makeRow(c.i - 1)
	var q pgtype.Numeric
	if err := q.Scan(r.quantity); err != nil {
		return nil, err
	}
	c.vals = [13]any{r.key, r.customer, r.metric, q, r.start, r.start, r.resource, "", "", r.site, r.source,
		[]byte(`{"policy":"` + r.policy + `"}`), c.received}
	return c.vals[:], nil
}

var columns = []string{"idempotency_key", "customer_id", "metric_key", "quantity", "start_time", "end_time",
	"resource_id", "organisation_id", "vdc_id", "site", "source", "dimensions", "receive_time"}
