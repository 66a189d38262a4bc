package vcenter

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/billingd/billingd/internal/collector"
)

// Metric keys the vCenter source emits. Each record is an interval gauge
// (see records): the level over [previous poll, this poll).
const (
	MetricVCPU      = "vm.vcpu"       // vCPUs allocated
	MetricMemoryGB  = "vm.memory_gb"  // memory allocated, GB (GiB)
	MetricPoweredOn = "vm.powered_on" // 1 powered on, 0 otherwise: time-weighted, it gives powered-on hours
	// Reservations, for rules such as the vRAM rule max(50 % of configured,
	// reserved); sent with Config.Reservations, for VMs whose config has
	// them (0 when none is set).
	MetricMemoryReservationGB = "vm.memory_reservation_gb" // memory reserved, GB (GiB)
	MetricCPUReservationMHz   = "vm.cpu_reservation_mhz"   // CPU reserved, MHz
	MetricStorageGB           = "storage.gb"               // provisioned per datastore (committed + uncommitted), GB
	MetricStorageUsedGB       = "storage.used_gb"          // used per datastore (committed), GB
	MetricWindows             = "licence.windows"          // 1 per VM whose guest OS is Windows
	licencePrefix             = "licence."
)

// Skip reasons (metric label values).
const (
	SkipNoConfig      = "no_config"
	SkipNoUUID        = "no_instance_uuid"
	SkipDuplicateUUID = "duplicate_instance_uuid"
	SkipNoCustomer    = "no_customer"
	SkipBadCustomer   = "invalid_customer"
	SkipAmbiguousTag  = "ambiguous_tag" // several tags of a tag_category rule's category
	SkipNegative      = "negative_size"
	SkipBadLicence    = "invalid_licence"
	SkipUnexpected    = "unexpected_data"
)

var one = decimal.NewFromInt(1)

// records turns a snapshot into the records of the window [start, end).
//
// Each record is an INTERVAL gauge over exactly that window: the level the
// poll at end observed is taken as the level over the whole window since
// the previous poll. billingd aggregates an interval record of a gauge as
// that level over the interval (∫ level dt), whereas a point sample would
// hold until the next sample of the series — which, for a VM that was
// deleted, never comes. With intervals, a deleted VM simply stops producing
// records, and a poll that is late or lost makes the next window longer,
// never a gap or an overlap.
//
// Keys are vcenter:<site>:<instance uuid>:<metric>[:<datastore>]:<window
// start, unix seconds>, so collecting the same window again yields the
// same keys and billingd stores it once.
func (s *Source) records(snap *snapshot, start, end time.Time) ([]collector.Record, []collector.Skip) {
	vms := slices.Clone(snap.vms)
	slices.SortFunc(vms, func(a, b vmInfo) int {
		return cmp.Or(cmp.Compare(a.instanceUUID, b.instanceUUID), cmp.Compare(a.ref.Value, b.ref.Value))
	})
	var (
		out   []collector.Record
		skips []collector.Skip
		seen  = map[string]bool{}
	)
	bucket := strconv.FormatInt(start.Unix(), 10)
	for _, vm := range vms {
		if vm.template {
			continue // templates are not running workloads
		}
		id := vm.name + " (" + vm.ref.Value + ")"
		skip := func(reason, format string, args ...any) {
			skips = append(skips, collector.Skip{Resource: id, Reason: reason, Detail: fmt.Sprintf(format, args...)})
		}
		switch {
		case len(vm.problems) > 0:
			skip(SkipUnexpected, "%s", strings.Join(vm.problems, "; "))
			continue
		case !vm.hasCPU || !vm.hasMemory:
			skip(SkipNoConfig, "no hardware configuration (inaccessible or orphaned VM)")
			continue
		case vm.instanceUUID == "":
			skip(SkipNoUUID, "no config.instanceUuid")
			continue
		case seen[vm.instanceUUID]:
			skip(SkipDuplicateUUID, "instance UUID %s is used by another VM; only the first is billed", vm.instanceUUID)
			continue
		case vm.numCPU < 0 || vm.memoryMB < 0:
			skip(SkipNegative, "numCPU %d, memoryMB %d", vm.numCPU, vm.memoryMB)
			continue
		}
		seen[vm.instanceUUID] = true
		attrs := make(map[string]string, len(vm.customValues))
		for k, v := range vm.customValues {
			if name, ok := snap.fields[k]; ok {
				attrs[name] = v
			}
		}
		owner := vmOwner{name: vm.name, folder: snap.path(vm.parent), pool: snap.path(vm.pool), attrs: attrs,
			tags: snap.tags[vm.ref.Value]}
		m := customer(s.rules, owner)
		if m.conflict != nil {
			skip(SkipAmbiguousTag, "tenants[%d]: tags %q of category %q; a VM may carry only one",
				m.rule, m.conflict, s.rules[m.rule].TagCategory)
			continue
		}
		if m.rule >= 0 && s.rules[m.rule].Ignore {
			continue // the provider's own VM
		}
		cust := m.customer
		if cust == "" {
			cust = s.cfg.DefaultCustomer
		}
		if cust == "" {
			skip(SkipNoCustomer, "no tenant rule matches (folder %q, resource pool %q)", owner.folder, owner.pool)
			continue
		}
		if !collector.ValidCustomerID(cust) {
			skip(SkipBadCustomer, "customer id %q from the tenant rules is not valid", cust)
			continue
		}

		add := func(metric string, q decimal.Decimal, dims map[string]string, keyParts ...string) {
			parts := append([]string{"vcenter", s.site, vm.instanceUUID, metric}, keyParts...)
			out = append(out, collector.Record{
				Key: collector.Key(append(parts, bucket)...), CustomerID: cust, Metric: metric, Quantity: q,
				Start: start, End: end, ResourceID: vm.instanceUUID, Site: s.site, Source: "vcenter:" + s.site,
				Dimensions: dims,
			})
		}
		add(MetricVCPU, decimal.NewFromInt32(vm.numCPU), nil)
		add(MetricMemoryGB, collector.MiBToGB(int64(vm.memoryMB)), nil)
		powered := decimal.Zero
		if vm.powerState == types.VirtualMachinePowerStatePoweredOn {
			powered = one
		}
		add(MetricPoweredOn, powered, nil)
		if s.cfg.Reservations && vm.hasMemoryReservation && vm.memoryReservationMB >= 0 {
			add(MetricMemoryReservationGB, collector.MiBToGB(vm.memoryReservationMB), nil)
		}
		if s.cfg.Reservations && vm.hasCPUReservation && vm.cpuReservationMHz >= 0 {
			add(MetricCPUReservationMHz, decimal.NewFromInt(vm.cpuReservationMHz), nil)
		}
		for _, l := range s.licences(vm, attrs, skip) {
			add(licencePrefix+l, one, nil)
		}
		for _, u := range vm.storage {
			if u.Committed < 0 || u.Uncommitted < 0 {
				skip(SkipNegative, "datastore %s: committed %d, uncommitted %d bytes", u.Datastore.Value, u.Committed, u.Uncommitted)
				continue
			}
			ds := u.Datastore.Value
			if e, ok := snap.entities[u.Datastore]; ok && e.name != "" {
				ds = e.name
			}
			dims := map[string]string{"datastore": ds, "policy": s.policy(ds)}
			add(MetricStorageGB, collector.BytesToGB(u.Committed+u.Uncommitted), dims, u.Datastore.Value)
			add(MetricStorageUsedGB, collector.BytesToGB(u.Committed), maps.Clone(dims), u.Datastore.Value)
		}
	}
	return out, skips
}

// licences returns the licence products of a VM: windows when its guest OS
// is Windows, and those its licence attribute lists, sorted and unique.
func (s *Source) licences(vm vmInfo, attrs map[string]string, skip func(reason, format string, args ...any)) []string {
	var out []string
	if isWindows(vm) {
		out = append(out, "windows")
	}
	if s.cfg.LicenceAttribute != "" {
		for l := range strings.SplitSeq(attrs[s.cfg.LicenceAttribute], ",") {
			l = strings.ToLower(strings.TrimSpace(l))
			switch {
			case l == "":
			case !licencePattern.MatchString(l):
				skip(SkipBadLicence, "attribute %s: licence %q must match %s", s.cfg.LicenceAttribute, l, licencePattern)
			default:
				out = append(out, l)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// isWindows tells from the configured guest OS (config.guestId, e.g.
// windows2019srv_64Guest) or, failing that, from VMware Tools' report.
func isWindows(vm vmInfo) bool {
	if vm.guestID != "" && vm.guestID != "otherGuest" && vm.guestID != "otherGuest64" {
		return strings.HasPrefix(strings.ToLower(vm.guestID), "win")
	}
	return vm.guestFamily == string(types.VirtualMachineGuestOsFamilyWindowsGuest)
}

func (s *Source) policy(datastore string) string {
	if p, ok := s.cfg.StoragePolicies[datastore]; ok {
		return p
	}
	return s.cfg.DefaultPolicy
}
