package sim

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/billingd/billingd/internal/collector"
)

// world is the estate as it stands at the simulated now.
type world struct {
	vms map[string]*vmSpec
}

func (w *world) sorted() []*vmSpec {
	out := make([]*vmSpec, 0, len(w.vms))
	for _, v := range w.vms {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b *vmSpec) int { return strings.Compare(a.name, b.name) })
	return out
}

// estateSource stands in for the platforms vCenter does not measure: the
// backup product (protected VMs and the backup storage they use) and the
// network (public IPs routed to VMs). It reads the simulated estate
// directly, and otherwise behaves like a real collector source: interval
// gauges over [previous poll, this poll) with deterministic keys.
type estateSource struct {
	name, site, kind string
	w                *world
	records          func(v *vmSpec, add func(metric string, q decimal.Decimal, dims map[string]string))
}

var _ collector.Source = (*estateSource)(nil)

func backupSource(w *world) *estateSource {
	return &estateSource{name: "backup", kind: "veeam", site: "vbr01", w: w,
		records: func(v *vmSpec, add func(string, decimal.Decimal, map[string]string)) {
			if !v.backup {
				return
			}
			add("backup.protected_vm", decimal.NewFromInt(1), map[string]string{"vm_id": instanceUUID(v.name)})
			// Restore points of a month take about 1.3 times the VM's used disk.
			add("backup.stored_gb", decimal.NewFromInt(v.usedGB*13).Shift(-1), nil)
		}}
}

func networkSource(w *world) *estateSource {
	return &estateSource{name: "network", kind: "nsx", site: "nsx01", w: w,
		records: func(v *vmSpec, add func(string, decimal.Decimal, map[string]string)) {
			if v.publicIPs > 0 {
				add("network.public_ip", decimal.NewFromInt(int64(v.publicIPs)), nil)
			}
		}}
}

func (s *estateSource) Name() string { return s.name }

func (s *estateSource) Collect(_ context.Context, cursor collector.Cursor, now time.Time) (collector.Batch, error) {
	end := now.UTC().Truncate(time.Second)
	next := collector.Cursor(end.Format(time.RFC3339))
	if cursor == "" {
		return collector.Batch{Next: next}, nil
	}
	start, err := time.Parse(time.RFC3339, string(cursor))
	if err != nil {
		return collector.Batch{}, fmt.Errorf("cursor %q: %w", cursor, err)
	}
	if !end.After(start) {
		return collector.Batch{Next: cursor}, nil
	}
	var recs []collector.Record
	bucket := strconv.FormatInt(start.Unix(), 10)
	for _, v := range s.w.sorted() {
		id := instanceUUID(v.name)
		s.records(v, func(metric string, q decimal.Decimal, dims map[string]string) {
			recs = append(recs, collector.Record{
				Key: collector.Key(s.kind, s.site, id, metric, bucket), CustomerID: v.customer, Metric: metric, Quantity: q,
				Start: start, End: end, ResourceID: id, Site: s.site, Source: s.kind + ":" + s.site, Dimensions: dims,
			})
		})
	}
	return collector.Batch{Records: recs, Next: next}, nil
}
