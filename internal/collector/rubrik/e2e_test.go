package rubrik_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/collector/collectortest"
)

// TestEndToEndIntoBillingd: fake RSC → rubrik source → collector.Runner →
// the real billingd on PostgreSQL, with a collector API key limited to the
// source and site. Polls at t0 (baseline), t0+1h and t0+3h; before the
// last, acme-db01 (40 GiB Gold) was removed from RSC.
func TestEndToEndIntoBillingd(t *testing.T) {
	t.Parallel()
	bd := collectortest.StartBillingd(t)
	bd.SeedBackup(t, []string{"acme", "globex"}, []collectortest.Price{
		{Product: "backup-vm", Metric: "backup.protected_vms", UnitPrice: "0.01"},
		{Product: "backup-gold", Metric: "backup.storage_gb", UnitPrice: "0.00025", Filter: map[string]string{"sla_domain": "Gold"}},
		{Product: "backup-unprotected", Metric: "backup.storage_gb", UnitPrice: "0.0002", Filter: map[string]string{"sla_domain": "Unprotected"}},
	})
	usage := bd.CollectorUsage(t, "rubrik:rsc01", "rsc01")
	r := newRSC(t)
	src := newSource(t, r)

	log := collectortest.PushWindows(t, usage, src, []time.Time{t0, t0.Add(time.Hour), t0.Add(3 * time.Hour)}, func(i int) {
		if i == 2 {
			r.nodes("", func(n []any) []any {
				return slices.DeleteFunc(n, func(v any) bool { return v.(map[string]any)["name"] == "acme-db01" })
			})
		}
	})

	bd.CheckRecordCounts(t, map[string]int{"acme": 6, "globex": 4})
	if strings.Contains(log, "rejected") {
		t.Errorf("billingd rejected records:\n%s", log)
	}

	// acme's January bill, by hand (hourly prices, whole cents per hour):
	//	[00:00, 01:00): 3 VMs, 120 GiB Gold, 50 GiB Unprotected
	//	[01:00, 03:00): 2 VMs,  80 GiB Gold, 50 GiB Unprotected
	//	backup-vm           3×1 + 2×2     = 7 VM-h   × 0.01    = 0.07
	//	backup-gold         120×1 + 80×2  = 280 GB-h × 0.00025 = 0.07
	//	backup-unprotected  50×3          = 150 GB-h × 0.0002  = 0.03
	//	                                                 total   0.17 EUR
	bd.CheckMonthBill(t, "acme", t0, map[string]string{
		"backup-vm": "7 × 0.01 = 0.07", "backup-gold": "280 × 0.00025 = 0.07", "backup-unprotected": "150 × 0.0002 = 0.03",
	}, "0.17")
}
