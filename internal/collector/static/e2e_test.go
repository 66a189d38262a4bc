package static_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/collector"
	"github.com/billingd/billingd/internal/collector/collectortest"
)

// TestImportIntoBillingd: testdata/contracts → static source → runner → the
// real billingd on PostgreSQL. The eight good rows are stored with their
// exact quantities; the bad ones are counted by reason. Importing again
// from scratch (state lost) stores nothing new: every record is a duplicate.
func TestImportIntoBillingd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bd, usage := startBillingd(t)
	metrics := collector.NewMetrics(prometheus.NewRegistry())
	importAll := func() {
		t.Helper()
		r, err := collector.NewRunner(usage, []collector.Schedule{{Source: build(t, `{paths: [testdata/contracts]}`), Interval: time.Hour}},
			collector.Options{StateDir: t.TempDir(), Metrics: metrics, BatchSize: 3, Retry: collector.Backoff{Initial: time.Millisecond, Max: 10 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Poll(ctx, "contracts"); err != nil {
			t.Fatal(err)
		}
		if err := r.Flush(ctx, "contracts"); err != nil {
			t.Fatal(err)
		}
	}
	importAll()

	var got []string
	for _, customer := range []string{"acme", "globex", "initech"} {
		for _, u := range bd.Usage(t, customer) {
			got = append(got, customer+" "+u.GetMetricKey()+"="+u.GetQuantity()+" "+u.GetResourceId()+" "+u.GetSource())
		}
	}
	slices.Sort(got)
	want := []string{
		"acme backup.gb=100  static:contracts",
		"acme backup.gb=50  static:contracts",
		"acme licence.rhel=2.5 rhel-07 static:contracts",
		"acme licence.sql=4 sql-01 static:contracts",
		"acme licence.sql=4 sql-01 static:contracts",
		"acme support.hours=12.75  static:contracts",
		"globex licence.sql=2 sql-07 static:contracts",
		"initech support.hours=5  static:contracts",
	}
	if !slices.Equal(got, want) {
		t.Errorf("stored:\n got %q\nwant %q", got, want)
	}
	for name, c := range map[string]struct{ got, want float64 }{
		"collected":        {collectortest.Value(metrics.Collected.WithLabelValues("contracts")), 8},
		"accepted":         {collectortest.Value(metrics.Pushed.WithLabelValues("contracts", collector.ResultAccepted)), 8},
		"skipped not_json": {collectortest.Value(metrics.Skipped.WithLabelValues("contracts", "not_json")), 3},
		"skipped invalid":  {collectortest.Value(metrics.Skipped.WithLabelValues("contracts", "invalid_record")), 2},
		"skipped quantity": {collectortest.Value(metrics.Skipped.WithLabelValues("contracts", "invalid_quantity")), 2},
	} {
		if c.got != c.want {
			t.Errorf("metric %s = %v, want %v", name, c.got, c.want)
		}
	}

	importAll() // the state directory is new: the cursor is lost
	if a, d := collectortest.Value(metrics.Pushed.WithLabelValues("contracts", collector.ResultAccepted)),
		collectortest.Value(metrics.Pushed.WithLabelValues("contracts", collector.ResultDuplicate)); a != 8 || d != 8 {
		t.Errorf("re-import: %v accepted, %v duplicates in all; want 8 and 8", a, d)
	}
}

// startBillingd runs billingd seeded with the customers and metrics of
// testdata/contracts; it returns it and a collector's UsageService client.
func startBillingd(t *testing.T) (*collectortest.Billingd, billingv1.UsageServiceClient) {
	t.Helper()
	bd := collectortest.StartBillingd(t)
	bd.Customers(t, "acme", "globex", "initech")
	bd.Metrics(t, collectortest.Sums("licence.sql", "licence.rhel", "support.hours", "backup.gb")...)
	reach := bd.CollectorKey(t, "static import", []string{"static:contracts"}, nil)
	return bd, billingv1.NewUsageServiceClient(collectortest.Dial(t, reach))
}
