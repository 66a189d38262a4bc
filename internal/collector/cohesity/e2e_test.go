package cohesity_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/collector/collectortest"
)

// TestEndToEndIntoBillingd: fake Cohesity → cohesity source →
// collector.Runner → the real billingd on PostgreSQL, with a collector API
// key limited to the source and site. Polls at t0 (baseline), t0+1h and
// t0+3h; before the last, acme-db01 lost its protection and acme's
// storage on DefaultStorageDomain grew to 200 GiB.
func TestEndToEndIntoBillingd(t *testing.T) {
	t.Parallel()
	bd := collectortest.StartBillingd(t)
	bd.SeedBackup(t, []string{"acme", "globex"}, []collectortest.Price{
		{Product: "backup-vm", Metric: "backup.protected_vms", UnitPrice: "0.01"},
		{Product: "backup-default", Metric: "backup.storage_gb", UnitPrice: "0.0001", Filter: map[string]string{"storage_domain": "DefaultStorageDomain"}},
		{Product: "backup-gold", Metric: "backup.storage_gb", UnitPrice: "0.0002", Filter: map[string]string{"storage_domain": "Gold"}},
	})
	usage := bd.CollectorUsage(t, "cohesity:coh01", "coh01")
	c := newCluster(t)
	src := newSource(t, c)

	log := collectortest.PushWindows(t, usage, src, []time.Time{t0, t0.Add(time.Hour), t0.Add(3 * time.Hour)}, func(i int) {
		if i != 2 {
			return
		}
		c.edit("protected_objects_acme.json", func(doc any) {
			m := doc.(map[string]any)
			m["objects"] = slices.DeleteFunc(m["objects"].([]any), func(o any) bool { return o.(map[string]any)["name"] == "acme-db01" })
		})
		c.edit("stats_tenants_page1.json", func(doc any) {
			first := doc.(map[string]any)["statsList"].([]any)[0].(map[string]any)
			first["stats"].(map[string]any)["storageConsumedBytes"] = 200 << 30
		})
	})

	bd.CheckRecordCounts(t, map[string]int{"acme": 6, "globex": 4})
	if strings.Contains(log, "rejected") {
		t.Errorf("billingd rejected records:\n%s", log)
	}

	// acme's January bill, by hand (hourly prices, whole cents per hour):
	//	[00:00, 01:00): 2 VMs, 100 GiB DefaultStorageDomain, 50 GiB Gold
	//	[01:00, 03:00): 1 VM,  200 GiB DefaultStorageDomain, 50 GiB Gold
	//	backup-vm       2×1 + 1×2     = 4 VM-h   × 0.01   = 0.04
	//	backup-default  100×1 + 200×2 = 500 GB-h × 0.0001 = 0.05
	//	backup-gold     50×3          = 150 GB-h × 0.0002 = 0.03
	//	                                             total  0.12 EUR
	bd.CheckMonthBill(t, "acme", t0, map[string]string{
		"backup-vm": "4 × 0.01 = 0.04", "backup-default": "500 × 0.0001 = 0.05", "backup-gold": "150 × 0.0002 = 0.03",
	}, "0.12")
}
