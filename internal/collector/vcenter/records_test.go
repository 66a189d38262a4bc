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

// TestReservationsAreSentWhereVSphereHasThem: the vRAM rule needs the
// memory reserved (GB) and the CPU reserved (MHz); a VM without them in its
// config sends neither.
func TestReservationsAreSentWhereVSphereHasThem(t *testing.T) {
	t.Parallel()
	cfg := Config{URL: "https://vc/sdk", Username: "u", Password: collector.NewSecret("p", "t"), DefaultCustomer: "acme", Reservations: true}
	src, err := New("vc01", cfg)
	if err != nil {
		t.Fatal(err)
	}
	vm := func(name string, memMB, mhz int64, has bool) vmInfo {
		return vmInfo{ref: types.ManagedObjectReference{Type: "VirtualMachine", Value: "vm-" + name}, name: name,
			instanceUUID: "u-" + name, numCPU: 2, memoryMB: 16384, hasCPU: true, hasMemory: true, customValues: map[int32]string{},
			memoryReservationMB: memMB, cpuReservationMHz: mhz, hasMemoryReservation: has, hasCPUReservation: has}
	}
	snap := &snapshot{entities: map[types.ManagedObjectReference]entity{}, fields: map[int32]string{},
		vms: []vmInfo{vm("reserved", 4096, 2000, true), vm("plain", 0, 0, false)}}
	recs, skips := src.records(snap, t0(), t0().Add(time.Hour))
	if len(skips) != 0 {
		t.Fatalf("skips %v", skips)
	}
	var got []string
	for _, r := range recs {
		if r.Metric == MetricMemoryReservationGB || r.Metric == MetricCPUReservationMHz {
			got = append(got, r.ResourceID+" "+r.Metric+"="+r.Quantity.String())
		}
	}
	slices.Sort(got)
	want := []string{"u-reserved vm.cpu_reservation_mhz=2000", "u-reserved vm.memory_reservation_gb=4"}
	if !slices.Equal(got, want) {
		t.Errorf("reservation records %q, want %q", got, want)
	}
	cfg.Reservations = false // the default: none
	if src, err = New("vc01", cfg); err != nil {
		t.Fatal(err)
	}
	recs, _ = src.records(snap, t0(), t0().Add(time.Hour))
	for _, r := range recs {
		if r.Metric == MetricMemoryReservationGB || r.Metric == MetricCPUReservationMHz {
			t.Errorf("reservations off, yet %s", r.Key)
		}
	}
}
