package querybench

import (
	"crypto/sha256"
	"fmt"
	"strconv"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
)

// The catalog's metrics, in the order a VM's records of one hour are sent.
const (
	metricVCPU    = "vm.vcpu"
	metricMemory  = "vm.memory_gb"
	metricStorage = "storage.gb"
)

var metricKeys = [3]string{metricVCPU, metricMemory, metricStorage}

// customer is one customer of the fleet and its VMs' share of it.
type customer struct {
	ID, Name string
	VMs      int
	first    int // the fleet number of its first VM
}

// fleet is the synthetic usage: customers' VMs, numbered consecutively
// across customers, each sending one interval record [h, h+1h) per metric
// for every hour h of the month's first Hours hours, hour after hour as a
// collector does (all VMs of hour 0, then hour 1…). Record i is a pure
// function of i, so the load streams without being held in memory.
type fleet struct {
	Customers []customer
	Start     time.Time // the month's first instant, UTC
	Hours     int
	vms       int
	// formatted once per VM: generating the load should cost the clients
	// as little as possible, so that the two cores measure billingd
	resources []string
	keys      [][3]string // "vcenter:vc01:<VM UUID>:<metric>:"
}

func newFleet(start time.Time, hours int, customers ...customer) *fleet {
	f := &fleet{Start: start, Hours: hours}
	for i := range customers {
		customers[i].first = f.vms
		f.vms += customers[i].VMs
	}
	f.Customers = customers
	for v := range f.vms {
		h := sha256.Sum256([]byte("querybench-vm-" + strconv.Itoa(v)))
		uuid := fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
		f.resources = append(f.resources, "vm-"+uuid)
		var k [3]string
		for m, key := range metricKeys {
			k[m] = "vcenter:vc01:" + uuid + ":" + key + ":"
		}
		f.keys = append(f.keys, k)
	}
	return f
}

// Records is how many records the fleet sends in all.
func (f *fleet) Records() int { return f.Hours * f.vms * len(metricKeys) }

// CustomerRecords is how many of them are customer c's.
func (f *fleet) CustomerRecords(c int) int { return f.Hours * f.Customers[c].VMs * len(metricKeys) }

// at is what record i is: the VM (fleet number), the hour from Start and
// the metric (an index of metricKeys).
func (f *fleet) at(i int) (vm, hour, metric int) {
	perHour := f.vms * len(metricKeys)
	return (i % perHour) / len(metricKeys), i / perHour, i % len(metricKeys)
}

// customerOf is the index of the customer that owns VM vm.
func (f *fleet) customerOf(vm int) int {
	for c := len(f.Customers) - 1; c > 0; c-- {
		if vm >= f.Customers[c].first {
			return c
		}
	}
	return 0
}

// The VMs' sizes: realistic, different per VM, and some VMs resized in
// the middle of the month, so that a month is not one level repeated.
var vcpuSizes = [...]int64{1, 2, 2, 4, 4, 4, 8, 8, 16}

// vcpu is VM vm's vCPUs in hour h: every tenth VM doubles half-way.
func (f *fleet) vcpu(vm, h int) int64 {
	n := vcpuSizes[vm*7%len(vcpuSizes)]
	if vm%10 == 3 && h >= f.Hours/2 {
		n *= 2
	}
	return n
}

// memoryGB is 2, 4 or 8 GB per vCPU.
func (f *fleet) memoryGB(vm, h int) int64 { return f.vcpu(vm, h) * [...]int64{2, 4, 4, 8}[vm%4] }

// storageGB is a disk of 40–1,000 GB that grows by a GB a day.
func (f *fleet) storageGB(vm, h int) int64 { return 40 + int64(vm*37%961) + int64(h/24) }

// policy is the storage policy of VM vm's disk: every third VM is on gold.
func policy(vm int) string {
	if vm%3 == 0 {
		return "gold"
	}
	return "silver"
}

// quantity is record (vm, h, metric)'s level.
func (f *fleet) quantity(vm, h, metric int) int64 {
	switch metricKeys[metric] {
	case metricVCPU:
		return f.vcpu(vm, h)
	case metricMemory:
		return f.memoryGB(vm, h)
	default:
		return f.storageGB(vm, h)
	}
}

// fill makes rec record i, reusing its timestamps and map.
func (f *fleet) fill(rec *billingv1.UsageRecord, i int) {
	vm, h, m := f.at(i)
	start := f.Start.Add(time.Duration(h) * time.Hour)
	if rec.StartTime == nil {
		rec.StartTime, rec.EndTime = &timestamppb.Timestamp{}, &timestamppb.Timestamp{}
	}
	rec.StartTime.Seconds, rec.StartTime.Nanos = start.Unix(), 0
	rec.EndTime.Seconds, rec.EndTime.Nanos = start.Unix()+3600, 0
	if metricKeys[m] == metricStorage {
		if rec.Dimensions == nil {
			rec.Dimensions = map[string]string{}
		}
		rec.Dimensions["policy"] = policy(vm)
	} else {
		delete(rec.Dimensions, "policy")
	}
	rec.IdempotencyKey = f.keys[vm][m] + strconv.FormatInt(start.Unix(), 10)
	rec.CustomerId = f.Customers[f.customerOf(vm)].ID
	rec.MetricKey = metricKeys[m]
	rec.Quantity = strconv.FormatInt(f.quantity(vm, h, m), 10)
	rec.ResourceId = f.resources[vm]
	rec.Site, rec.Source = "fra1", "vcenter:vc01"
}
