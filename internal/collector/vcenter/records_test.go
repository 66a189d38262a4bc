package vcenter

import (
	"slices"
	"testing"
	"time"

	"github.com/vmware/govmomi/vim25/types"

	"github.com/billingd/billingd/internal/collector"
)

// TestBadSourceDataIsSkippedWithAReason feeds records() VMs with missing,
// negative, duplicate or unexpected data: each is skipped with its reason,
// the good VM still yields its records, and nothing panics.
func TestBadSourceDataIsSkippedWithAReason(t *testing.T) {
	t.Parallel()
	src, err := New("vc01", Config{URL: "https://vc/sdk", Username: "u", Password: collector.NewSecret("p", "t"),
		Tenants: []TenantRule{{Attribute: "Customer"}}, DefaultCustomer: "fallback"})
	if err != nil {
		t.Fatal(err)
	}
	ds := types.ManagedObjectReference{Type: "Datastore", Value: "datastore-1"}
	good := func(name, uuid string) vmInfo {
		return vmInfo{ref: types.ManagedObjectReference{Type: "VirtualMachine", Value: "vm-" + name}, name: name,
			instanceUUID: uuid, numCPU: 2, memoryMB: 1024, hasCPU: true, hasMemory: true,
			powerState: types.VirtualMachinePowerStatePoweredOn, customValues: map[int32]string{}}
	}
	noConfig := good("noconfig", "u-1")
	noConfig.hasCPU, noConfig.hasMemory = false, false
	noUUID := good("nouuid", "")
	dup := good("dup", "u-ok")
	negative := good("negative", "u-neg")
	negative.numCPU = -1
	badStorage := good("badstorage", "u-bs")
	badStorage.storage = []types.VirtualMachineUsageOnDatastore{{Datastore: ds, Committed: -5, Uncommitted: 1}}
	badCustomer := good("badcustomer", "u-bc")
	badCustomer.customValues[1] = "not a valid id!"
	odd := good("odd", "u-odd")
	odd.problems = []string{"config.hardware.numCPU has type string"}
	orphan := good("orphan", "u-orphan") // no attribute: the default customer
	snap := &snapshot{
		entities: map[types.ManagedObjectReference]entity{},
		fields:   map[int32]string{1: "Customer"},
		vms:      []vmInfo{good("ok", "u-ok"), noConfig, noUUID, dup, negative, badStorage, badCustomer, odd, orphan},
	}
	recs, skips := src.records(snap, t0(), t0().Add(time.Hour))

	var got []string
	for _, s := range skips {
		got = append(got, s.Resource+" "+s.Reason)
	}
	slices.Sort(got)
	want := []string{
		"badcustomer (vm-badcustomer) " + SkipBadCustomer,
		"badstorage (vm-badstorage) " + SkipNegative,
		"negative (vm-negative) " + SkipNegative,
		"noconfig (vm-noconfig) " + SkipNoConfig,
		"nouuid (vm-nouuid) " + SkipNoUUID,
		"odd (vm-odd) " + SkipUnexpected,
		"ok (vm-ok) " + SkipDuplicateUUID, // vm-dup sorts first and keeps the UUID
	}
	if !slices.Equal(got, want) {
		t.Errorf("skips\n got %q\nwant %q", got, want)
	}
	perVM := map[string]int{}
	for _, r := range recs {
		perVM[r.ResourceID+" "+r.CustomerID]++
		if err := r.Check(); err != nil {
			t.Errorf("record %s: %v", r.Key, err)
		}
	}
	// badstorage keeps its VM records, without storage.
	wantVM := map[string]int{"u-ok fallback": 3, "u-bs fallback": 3, "u-orphan fallback": 3}
	if len(perVM) != len(wantVM) {
		t.Errorf("records per VM %v, want %v", perVM, wantVM)
	}
	for k, n := range wantVM {
		if perVM[k] != n {
			t.Errorf("records per VM %v, want %v", perVM, wantVM)
		}
	}
}

func t0() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
