package sim

import (
	"fmt"
	"time"
)

// vmSpec is one VM of the simulated vCenter, as it is at the start of the
// month (or when it is created).
type vmSpec struct {
	name, customer string
	cpu            int32
	memGB          int32
	windows        bool
	policy         string // Gold, Silver or Bronze: the datastore its disk is on
	diskGB, usedGB int64  // provisioned and used
	backup         bool   // protected by the simulated backup product
	publicIPs      int    // public IPv4 addresses routed to it
	reservedGB     int64  // memory reserved (the vRAM rule bills the higher of this and half the memory)
	off            bool   // powered off
}

// event changes the estate at an offset from the start of the month.
type event struct {
	at   time.Duration
	vm   string
	what string // for the progress output
	do   func(*vmSpec) (remove, powerOff bool)
}

func day(d int, hours int) time.Duration {
	return time.Duration(d-1)*24*time.Hour + time.Duration(hours)*time.Hour
}

// estate is the demo's VMs, in the tenant folders of their customers, and
// what happens to them during the month. It is a function so that each run
// starts from a fresh copy.
func estate(small bool) (vms []vmSpec, created map[string]vmSpec, events []event) {
	vms = []vmSpec{
		{name: "acme-web-01", customer: "acme", cpu: 4, memGB: 16, policy: "Gold", diskGB: 300, usedGB: 150, backup: true, publicIPs: 1},
		{name: "acme-db-01", customer: "acme", cpu: 8, memGB: 64, windows: true, policy: "Gold", diskGB: 500, usedGB: 420, backup: true, reservedGB: 40},
		{name: "globex-app-01", customer: "globex", cpu: 2, memGB: 8, policy: "Silver", diskGB: 200, usedGB: 60, publicIPs: 1},
		{name: "initech-fs-01", customer: "initech", cpu: 2, memGB: 8, windows: true, policy: "Bronze", diskGB: 2000, usedGB: 1500, backup: true},
	}
	if !small {
		vms = append(vms,
			vmSpec{name: "acme-web-02", customer: "acme", cpu: 4, memGB: 16, policy: "Gold", diskGB: 150, usedGB: 140, backup: true, publicIPs: 1},
			vmSpec{name: "acme-test-01", customer: "acme", cpu: 2, memGB: 4, policy: "Bronze", diskGB: 100, usedGB: 20},
			vmSpec{name: "globex-win-01", customer: "globex", cpu: 4, memGB: 8, windows: true, policy: "Silver", diskGB: 150, usedGB: 90, backup: true},
			vmSpec{name: "initech-build-01", customer: "initech", cpu: 8, memGB: 16, policy: "Silver", diskGB: 100, usedGB: 70},
		)
	}
	created = map[string]vmSpec{
		"globex-app-02": {name: "globex-app-02", customer: "globex", cpu: 2, memGB: 8, policy: "Silver", diskGB: 200, usedGB: 30, publicIPs: 1},
	}
	resize := func(cpu, memGB int32) func(*vmSpec) (bool, bool) {
		return func(v *vmSpec) (bool, bool) { v.cpu, v.memGB = cpu, memGB; return false, false }
	}
	events = []event{
		{at: day(2, 10), vm: "acme-db-01", what: "resized: 8 → 12 vCPU, 64 → 96 GB", do: resize(12, 96)},
		{at: day(3, 6), vm: "initech-fs-01", what: "disk grown: 2000 → 2500 GB Bronze", do: func(v *vmSpec) (bool, bool) {
			v.diskGB, v.usedGB = 2500, 1900
			return false, false
		}},
	}
	if !small {
		events = append(events,
			event{at: day(6, 18), vm: "acme-test-01", what: "powered off", do: func(*vmSpec) (bool, bool) { return false, true }},
			event{at: day(8, 10), vm: "globex-app-02", what: "created: 2 vCPU, 8 GB, 200 GB Silver, 1 public IP"},
			event{at: day(20, 14), vm: "acme-test-01", what: "deleted", do: func(*vmSpec) (bool, bool) { return true, false }},
			event{at: day(22, 9), vm: "acme-web-02", what: "disk grown: 150 → 450 GB Gold (ACME's Gold: 950 → 1250 GB, committed 1000)", do: func(v *vmSpec) (bool, bool) {
				v.diskGB = 450
				return false, false
			}},
			event{at: day(24, 8), vm: "globex-win-01", what: "resized: 4 → 2 vCPU", do: resize(2, 8)},
			event{at: day(27, 20), vm: "initech-build-01", what: "deleted", do: func(*vmSpec) (bool, bool) { return true, false }},
		)
	}
	return vms, created, events
}

func (v vmSpec) String() string {
	os := "Linux"
	if v.windows {
		os = "Windows"
	}
	mem := fmt.Sprintf("%d GB", v.memGB)
	if v.reservedGB > 0 {
		mem += fmt.Sprintf(" (%d GB reserved)", v.reservedGB)
	}
	return fmt.Sprintf("%s: %d vCPU, %s, %s, %d GB %s", v.name, v.cpu, mem, os, v.diskGB, v.policy)
}
