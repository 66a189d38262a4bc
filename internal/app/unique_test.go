package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
)

// A unique_count metric counts the distinct values of its dimension; a
// record without that dimension could never be counted, so it is refused
// alone, naming the dimension, instead of billing nothing silently.
func TestUniqueCountRecordsMustCarryTheCountedDimension(t *testing.T) {
	s := startOnTestDB(t)
	ctx := context.Background()
	if _, err := billingv1.NewCustomerServiceClient(s.conn).CreateCustomer(ctx, &billingv1.CreateCustomerRequest{Customer: &billingv1.Customer{Id: "acme", DisplayName: "ACME"}}); err != nil {
		t.Fatal(err)
	}
	for _, m := range []*billingv1.Metric{
		{Key: "backup.protected_vms", Unit: "VM", Aggregation: billingv1.Aggregation_AGGREGATION_UNIQUE_COUNT, UniqueDimension: "vm_id"},
		{Key: "backup.jobs", Unit: "VM", Aggregation: billingv1.Aggregation_AGGREGATION_UNIQUE_COUNT, UniqueDimension: "resource_id"},
		{Key: "net.orgs", Unit: "org", Aggregation: billingv1.Aggregation_AGGREGATION_UNIQUE_COUNT, UniqueDimension: "organisation"},
	} {
		if _, err := s.catalog().CreateMetric(ctx, &billingv1.CreateMetricRequest{Metric: m}); err != nil {
			t.Fatal(err)
		}
	}
	at := timestamppb.New(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC))
	rec := func(key, metric string, f func(*billingv1.UsageRecord)) *billingv1.UsageRecord {
		r := &billingv1.UsageRecord{IdempotencyKey: key, CustomerId: "acme", MetricKey: metric, Quantity: "1", Time: at}
		if f != nil {
			f(r)
		}
		return r
	}
	res, err := billingv1.NewUsageServiceClient(s.conn).BatchIngestUsage(ctx, &billingv1.BatchIngestUsageRequest{Records: []*billingv1.UsageRecord{
		rec("no-vm-id", "backup.protected_vms", func(r *billingv1.UsageRecord) { r.ResourceId = "vm1" }),
		rec("empty-vm-id", "backup.protected_vms", func(r *billingv1.UsageRecord) { r.Dimensions = map[string]string{"vm_id": ""} }),
		rec("vm-id", "backup.protected_vms", func(r *billingv1.UsageRecord) { r.Dimensions = map[string]string{"vm_id": "vm1"} }),
		rec("no-resource", "backup.jobs", nil),
		rec("resource", "backup.jobs", func(r *billingv1.UsageRecord) { r.ResourceId = "vm1" }),
		rec("resource-dim", "backup.jobs", func(r *billingv1.UsageRecord) { r.Dimensions = map[string]string{"resource_id": "vm2"} }),
		rec("no-org", "net.orgs", nil),
		rec("org", "net.orgs", func(r *billingv1.UsageRecord) { r.OrganisationId = "org1" }),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if res.GetAccepted() != 4 {
		t.Errorf("accepted %d, want 4 (vm-id, resource, resource-dim, org)", res.GetAccepted())
	}
	want := map[string]string{"no-vm-id": "dimensions.vm_id", "empty-vm-id": "dimensions.vm_id", "no-resource": "resource_id", "no-org": "organisation_id"}
	for _, r := range res.GetRejected() {
		field, ok := want[r.GetIdempotencyKey()]
		if !ok || r.GetField() != field || !strings.Contains(r.GetReason(), "unique_count") {
			t.Errorf("rejected %s on %q: %q; want only %v, naming the counted dimension", r.GetIdempotencyKey(), r.GetField(), r.GetReason(), want)
		}
		delete(want, r.GetIdempotencyKey())
	}
	if len(want) > 0 {
		t.Errorf("not rejected: %v", want)
	}
}
