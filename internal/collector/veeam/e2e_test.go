package veeam_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/collector/collectortest"
)

// TestEndToEndIntoBillingd: fake VSPC → veeam source → collector.Runner →
// the real billingd on PostgreSQL, pushing with a collector API key
// limited to the source and site. Three polls: t0 (baseline), t0+1h, and
// t0+3h after acme-db01 left protection and acme's usage on resource 1
// grew to 200 GiB. The source also sends one backup.protected_vm record
// per VM (per_vm), billed monthly per distinct VM. acme's January bill is
// then computed by hand.
func TestEndToEndIntoBillingd(t *testing.T) {
	t.Parallel()
	bd := collectortest.StartBillingd(t)
	bd.SeedBackup(t, []string{"acme", "globex"}, []collectortest.Price{
		{Product: "backup-vm", Metric: "backup.protected_vms", UnitPrice: "0.01"},
		{Product: "backup-r1", Metric: "backup.storage_gb", UnitPrice: "0.0001", Filter: map[string]string{"backup_resource": res1}},
		{Product: "backup-r2", Metric: "backup.storage_gb", UnitPrice: "0.0002", Filter: map[string]string{"backup_resource": res2}},
		{Product: "backup-vm-month", Metric: "backup.protected_vm", UnitPrice: "5.00", Monthly: true},
	})
	usage := bd.CollectorUsage(t, "veeam:vspc01", "vspc01")
	v := newVSPC(t)
	src := newPerVMSource(t, v)

	log := collectortest.PushWindows(t, usage, src, []time.Time{t0, t0.Add(time.Hour), t0.Add(3 * time.Hour)}, func(i int) {
		if i != 2 {
			return
		}
		v.edit("/api/v3/protectedWorkloads/virtualMachines", func(vms []map[string]any) []map[string]any {
			return slices.DeleteFunc(vms, func(vm map[string]any) bool { return vm["name"] == "acme-db01" })
		})
		v.edit("/api/v3/organizations/companies/sites/backupResources/usage", func(us []map[string]any) []map[string]any {
			for _, u := range us {
				if u["companyUid"] == acmeUID && u["backupResourceUid"] == res1 {
					u["usedStorageQuota"] = 200 << 30
				}
			}
			return us
		})
	})

	// acme: 3 records + 2 VMs, then 3 + 1; globex: 2 + 1 per window.
	bd.CheckRecordCounts(t, map[string]int{"acme": 9, "globex": 6})
	if strings.Contains(log, "rejected") {
		t.Errorf("billingd rejected records:\n%s", log)
	}

	// acme's January bill, by hand (hourly prices; every hour's amount is
	// whole cents, since billingd rounds each rated granule):
	//	[00:00, 01:00): 2 VMs, 100 GiB on resource 1, 50 GiB on resource 2
	//	[01:00, 03:00): 1 VM,  200 GiB on resource 1, 50 GiB on resource 2
	//	backup-vm  2×1 + 1×2     = 4 VM-h     × 0.01   = 0.04
	//	backup-r1  100×1 + 200×2 = 500 GB-h   × 0.0001 = 0.05
	//	backup-r2  50×3          = 150 GB-h   × 0.0002 = 0.03
	//	backup-vm-month: distinct vm_id in January: acme-web01, acme-db01
	//	                                 = 2 VM   × 5.00   = 10.00
	//	                                          total  10.12 EUR
	bd.CheckMonthBill(t, "acme", t0, map[string]string{
		"backup-vm": "4 × 0.01 = 0.04", "backup-r1": "500 × 0.0001 = 0.05", "backup-r2": "150 × 0.0002 = 0.03",
		"backup-vm-month": "2 × 5 = 10.00",
	}, "10.12")
}
