package restapi_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/collector/restapi"
)

// TestTallyRecords: a tenant with storage only still gets its VM count (0);
// per-VM records come sorted by VM id; unknown and ignored tenants give no
// record, the unknown one a skip.
func TestTallyRecords(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := restapi.Window{Start: start, End: start.Add(30 * time.Minute)}
	c := restapi.Customers{Ignore: []string{"own"}, Use: "id"}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	tl := restapi.NewTally()
	tl.Tenant("acme", "Acme")
	tl.Tenant("globex", "Globex")
	tl.Tenant("own", "Provider")
	tl.Tenant("idle", "Idle") // no usage: no record, no skip
	tl.VM("acme", "vm-2")
	tl.VM("acme", "vm-1")
	tl.VM("acme", "vm-2")
	tl.Storage("acme", "", 3<<29)   // 1.5 GiB
	tl.Storage("globex", "", 1<<20) // 1 MiB = 0.000977 GB (6 decimals)
	tl.VM("own", "vm-9")
	tl.VM("ghost", "vm-7")
	recs, skips := tl.Records(restapi.Spec{Type: "t", Site: "s", PerVM: true}, w, &c)
	var got []string
	for _, r := range recs {
		got = append(got, fmt.Sprintf("%s %s %s=%s %v", r.Key, r.CustomerID, r.Metric, r.Quantity, r.Dimensions))
	}
	want := []string{
		"t:s:acme:backup.protected_vms:1767225600 acme backup.protected_vms=2 map[]",
		"t:s:acme:backup.protected_vm:vm-1:1767225600 acme backup.protected_vm=1 map[vm_id:vm-1]",
		"t:s:acme:backup.protected_vm:vm-2:1767225600 acme backup.protected_vm=1 map[vm_id:vm-2]",
		"t:s:acme:backup.storage_gb::1767225600 acme backup.storage_gb=1.5 map[]",
		"t:s:globex:backup.protected_vms:1767225600 globex backup.protected_vms=0 map[]",
		"t:s:globex:backup.storage_gb::1767225600 globex backup.storage_gb=0.000977 map[]",
	}
	if !slices.Equal(got, want) {
		t.Errorf("records\n got %q\nwant %q", got, want)
	}
	if len(skips) != 1 || skips[0].Reason != restapi.SkipUnknownTenant || skips[0].Resource != "ghost" {
		t.Errorf("skips %+v, want ghost as unknown_tenant", skips)
	}
}
