package collectortest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/collector"
)

// Collect runs one poll of src over [cursor, now).
func Collect(t *testing.T, src collector.Source, cursor collector.Cursor, now time.Time) collector.Batch {
	t.Helper()
	b, err := src.Collect(context.Background(), cursor, now)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Lines renders records one per line, sorted, with every field a test
// checks: key, customer, metric=quantity, window, resource, organisation,
// site, source and the dimensions in key order.
func Lines(recs []collector.Record) []string {
	var out []string
	for _, r := range recs {
		dims := ""
		for _, k := range slices.Sorted(maps.Keys(r.Dimensions)) {
			dims += " " + k + "=" + r.Dimensions[k]
		}
		out = append(out, fmt.Sprintf("%s %s %s=%s [%s,%s) res=%s org=%s site=%s src=%s%s", r.Key, r.CustomerID, r.Metric, r.Quantity,
			r.Start.Format(time.RFC3339), r.End.Format(time.RFC3339), r.ResourceID, r.OrganisationID, r.Site, r.Source, dims))
	}
	slices.Sort(out)
	return out
}

// SkipReasons lists a batch's skips as "reason resource", sorted.
func SkipReasons(b collector.Batch) []string {
	var out []string
	for _, s := range b.Skipped {
		out = append(out, s.Reason+" "+s.Resource)
	}
	slices.Sort(out)
	return out
}
