package vcd

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/billingd/billingd/internal/collector"
)

// Metric keys the VCD source emits. Every record is an interval gauge: a
// level over an interval of the window [previous poll, this poll).
const (
	MetricVCPU        = "vm.vcpu"                  // vCPUs of a VM
	MetricMemoryGB    = "vm.memory_gb"             // memory of a VM, GB (GiB)
	MetricPoweredOn   = "vm.powered_on"            // 1 powered on, 0 off or suspended
	MetricStorageGB   = "storage.gb"               // storage allocated to a VM (all disks), GB, dimension policy
	MetricVdcCPU      = "vdc.cpu_allocation_ghz"   // CPU allocation of a non-PAYG VDC, GHz
	MetricVdcMemory   = "vdc.memory_allocation_gb" // memory allocation of a non-PAYG VDC, GB
	MetricVdcStorage  = "vdc.storage_limit_gb"     // storage limit of a non-PAYG VDC, GB
	MetricVdcCPUUsed  = "vdc.cpu_used_ghz"         // CPU its VMs use of a non-PAYG VDC, GHz (when VCD reports it)
	MetricVdcMemUsed  = "vdc.memory_used_gb"       // memory its VMs use of a non-PAYG VDC, GB (when VCD reports it)
	MetricEdgeGateway = "network.edge_gateway"     // 1 per edge gateway
	MetricPublicIPs   = "network.public_ips"       // allocated external IP addresses of an org
)

// Skip reasons (metric label values).
const (
	SkipNoCustomer  = "no_customer"      // no customer rule matches the VM's org
	SkipBadCustomer = "invalid_customer" // the rules give an id billingd would refuse
	SkipUnknownVdc  = "unknown_vdc"      // the VM's (or gateway's) VDC is not in the VDC query
	SkipMissingSize = "missing_size"     // numberOfCpus, memoryMB or totalStorageAllocatedMb absent
	SkipNegative    = "negative_size"
	SkipUnexpected  = "unexpected_data" // a size that is not an integer
	SkipDuplicate   = "duplicate_id"    // two records of one id in a poll: the first is billed
	SkipNoLevel     = "event_without_level"
	SkipVanished    = "deleted_without_notification"
)

// Dimension values of allocation_model, from the VDC's allocationModel.
var allocationModels = map[string]string{
	"AllocationVApp":  "payg",
	"AllocationPool":  "allocation_pool",
	"ReservationPool": "reservation_pool",
	"Flex":            "flex",
}

var (
	one      = decimal.NewFromInt(1)
	thousand = decimal.NewFromInt(1000)
)

// present is a VM the poll saw, resolved to a billable level.
type present struct {
	level   level
	created time.Time
}

// window is what one Collect bills.
type window struct {
	start, end time.Time // start zero: the first poll
	prev       state
	snap       *snapshot
	events     []event // taken for this window (At < end), in arrival order
}

// build turns a poll and the notifications of its window into records and
// the next state.
//
// Per VM, the window is cut into segments at the notifications' times:
// the level at the start is the previous poll's (or the VM's creation),
// a create, modify or power notification starts a segment with the level
// read right after it (power state forced by the event), a delete ends the
// VM; the last segment is billed at the level this poll saw (as the vCenter
// source bills a whole window), so a lost notification costs precision,
// never a gap. Adjacent segments of one level are merged. A VM this poll
// does not list and no delete notification covers is kept in the state for
// one window, so that a late delete still bills it up to its deletion.
// Notifications of earlier times than the window (late ones) apply from
// its start. Keys are vcd:<site>:<uuid>:<metric>:<segment start>, so the
// same cursor and notifications give the same keys.
func (s *Source) build(w window) ([]collector.Record, []collector.Skip, state) {
	var (
		out   []collector.Record
		skips []collector.Skip
	)
	skip := func(resource, reason, format string, args ...any) {
		skips = append(skips, collector.Skip{Resource: resource, Reason: reason, Detail: fmt.Sprintf(format, args...)})
	}
	next := state{T: w.end, VMs: map[string]level{}, Gone: map[string]vanished{}, SeenPrev: w.prev.Seen}

	vms := map[string]present{}
	reported := map[string]bool{} // VMs skipped by this poll: their events are not reported again
	for _, r := range w.snap.vms {
		id := uuidOf(r.ID, r.Href)
		res := r.Name + " (" + id + ")"
		if _, dup := vms[id]; dup {
			skip(res, SkipDuplicate, "listed twice by the adminVM query")
			continue
		}
		l, reason, detail := s.resolve(w.snap, r)
		switch reason {
		case "":
			vms[id] = present{level: l, created: parseTime(r.DateCreated)}
		case "ignore":
		default:
			skip(res, reason, "%s", detail)
			reported[id] = true
		}
	}

	seen := map[string]bool{}
	for _, id := range slices.Concat(w.prev.Seen, w.prev.SeenPrev) {
		seen[id] = true
	}
	byVM := map[string][]event{}
	for _, e := range w.events {
		if seen[e.ID] {
			continue // delivered again after a crash; already applied
		}
		seen[e.ID] = true
		next.Seen = append(next.Seen, e.ID)
		byVM[e.VM] = append(byVM[e.VM], e)
	}

	if w.start.IsZero() { // first poll: only the start of measurement
		for id, p := range vms {
			next.VMs[id] = p.level
		}
		return nil, skips, next
	}

	ids := slices.Collect(maps.Keys(vms))
	ids = append(ids, slices.Collect(maps.Keys(w.prev.VMs))...)
	ids = append(ids, slices.Collect(maps.Keys(w.prev.Gone))...)
	ids = append(ids, slices.Collect(maps.Keys(byVM))...)
	slices.Sort(ids)
	ids = slices.Compact(ids)

	for _, id := range ids {
		evs := byVM[id]
		slices.SortStableFunc(evs, func(a, b event) int { return a.At.Compare(b.At) })
		p, isPresent := vms[id]
		var pts []point
		if g, ok := w.prev.Gone[id]; ok {
			if i := slices.IndexFunc(evs, func(e event) bool { return e.Kind == kindDelete }); i >= 0 {
				at := maxTime(evs[i].At, g.Since)
				out = s.vmRecords(out, id, []segment{{g.Since, at, g.Level}})
				continue
			}
			if !isPresent {
				skip(id, SkipVanished, "gone from VCD since %s without a delete notification: not billed after %s",
					g.Since.Format(time.RFC3339), g.Since.Format(time.RFC3339))
				continue
			}
			pts = append(pts, point{at: g.Since, lvl: &g.Level}) // listed again: it was never gone
		} else if l, ok := w.prev.VMs[id]; ok {
			pts = append(pts, point{at: w.start, lvl: &l})
		} else if isPresent && !slices.ContainsFunc(evs, func(e event) bool { return e.Kind == kindCreate }) {
			// New since the previous poll, its creation not notified: from
			// its creation date (dateCreated) or the window start.
			l := p.level
			if i := slices.IndexFunc(evs, func(e event) bool { return e.Kind == kindOn || e.Kind == kindOff }); i >= 0 {
				l.On = evs[i].Kind == kindOff // the state before the first power operation
			}
			at := w.start
			if p.created.After(w.start) && p.created.Before(w.end) {
				at = p.created.Truncate(time.Second)
			}
			pts = append(pts, point{at: at, lvl: &l})
		}
		for _, e := range evs {
			at := maxTime(e.At, w.start) // taken events are before end
			if e.Kind == kindDelete {
				pts = append(pts, point{at: at, del: true})
				continue
			}
			var lv *level
			if e.Rec != nil {
				l, reason, detail := s.resolve(w.snap, *e.Rec)
				switch {
				case reason == "":
					lv = &l
				case reason == "ignore":
					continue // the provider's own VM
				case !reported[id]:
					reported[id] = true
					skip(e.Rec.Name+" ("+id+")", reason, "%s", detail)
					continue
				default:
					continue
				}
			}
			if lv == nil { // not re-read (gone already, or unbillable): the last known level
				if last := lastLevel(pts); last != nil {
					l := *last
					lv = &l
				} else if isPresent {
					l := p.level
					lv = &l
				}
			}
			if lv == nil {
				skip(id, SkipNoLevel, "%s notification at %s, but the VM could not be read after it", e.Type, e.At.Format(time.RFC3339))
				continue
			}
			switch e.Kind {
			case kindOn:
				lv.On = true
			case kindOff:
				lv.On = false
			}
			pts = append(pts, point{at: at, lvl: lv})
		}
		slices.SortStableFunc(pts, func(a, b point) int { return a.at.Compare(b.at) })

		var (
			segs    []segment
			cur     *level
			from    time.Time
			deleted bool
		)
		for _, pt := range pts {
			if cur != nil && pt.at.After(from) {
				segs = append(segs, segment{from, pt.at, *cur})
			}
			if pt.del {
				deleted = true
				break
			}
			if cur == nil || pt.at.After(from) {
				from = pt.at
			}
			cur = pt.lvl
		}
		switch {
		case isPresent && !deleted:
			if cur == nil {
				from = w.start
			}
			segs = append(segs, segment{from, w.end, p.level})
			next.VMs[id] = p.level
		case !isPresent && !deleted && cur != nil && s.notifications != nil:
			next.Gone[id] = vanished{Level: *cur, Since: from}
		}
		out = s.vmRecords(out, id, segs)
	}
	out, skips = s.vdcRecords(out, skips, w)
	return out, skips, next
}

type point struct {
	at  time.Time
	lvl *level
	del bool
}

type segment struct {
	start, end time.Time
	level      level
}

func lastLevel(pts []point) *level {
	for i := len(pts) - 1; i >= 0; i-- {
		if pts[i].lvl != nil {
			return pts[i].lvl
		}
	}
	return nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// resolve turns a VM record into its billable level, or a skip reason
// ("ignore" for the provider's own orgs).
func (s *Source) resolve(snap *snapshot, r vmRecord) (level, string, string) {
	vdcID := uuidOf("", r.Vdc)
	vdc, ok := snap.vdcs[vdcID]
	if !ok {
		return level{}, SkipUnknownVdc, fmt.Sprintf("VDC %q is not in the adminOrgVdc query", r.Vdc)
	}
	orgID := uuidOf("", vdc.Org)
	if orgID == "" {
		orgID = uuidOf("", r.Org)
	}
	cust, reason, detail := s.customer(snap, orgID, vdc.OrgName)
	if reason != "" {
		return level{}, reason, detail
	}
	for _, f := range []struct {
		name string
		n    optInt
	}{{"numberOfCpus", r.NumberOfCpus}, {"memoryMB", r.MemoryMB}, {"totalStorageAllocatedMb", r.TotalStorageAllocatedMb}} {
		name, n := f.name, f.n
		switch {
		case n.Bad != "":
			return level{}, SkipUnexpected, fmt.Sprintf("%s %q is not an integer", name, n.Bad)
		case !n.OK:
			return level{}, SkipMissingSize, fmt.Sprintf("%s is missing", name)
		case n.V < 0:
			return level{}, SkipNegative, fmt.Sprintf("%s is %d", name, n.V)
		}
	}
	policy := r.StorageProfileName
	if policy == "" {
		policy = "default"
	}
	return level{
		Customer: cust, Org: orgID, Vdc: vdcID, Model: model(vdc.AllocationModel),
		CPU: r.NumberOfCpus.V, MemMB: r.MemoryMB.V, StorMB: r.TotalStorageAllocatedMb.V, Policy: policy,
		On: r.Status == "POWERED_ON",
	}, "", ""
}

// customer maps an org to its customer; reason "ignore" for the provider's.
func (s *Source) customer(snap *snapshot, orgID, fallbackName string) (cust, reason, detail string) {
	name := fallbackName
	if o, ok := snap.orgs[orgID]; ok {
		name = o.Name
	}
	cust, ignore := s.customers.resolve(name)
	switch {
	case ignore:
		return "", "ignore", ""
	case cust == "":
		return "", SkipNoCustomer, fmt.Sprintf("no customer rule matches org %q (%s)", name, orgID)
	case !collector.ValidCustomerID(cust):
		return "", SkipBadCustomer, fmt.Sprintf("customer id %q of org %q is not valid", cust, name)
	}
	return cust, "", ""
}

func model(m string) string {
	if v, ok := allocationModels[m]; ok {
		return v
	}
	return m
}

// vmRecords appends the records of a VM's segments; per metric, adjacent
// segments of one quantity are merged (a power-off splits vm.powered_on,
// not vm.vcpu).
func (s *Source) vmRecords(out []collector.Record, id string, segs []segment) []collector.Record {
	type piece struct {
		start, end time.Time
		q          decimal.Decimal
		l          level
	}
	for _, metric := range []string{MetricVCPU, MetricMemoryGB, MetricPoweredOn, MetricStorageGB} {
		var ps []piece
		for _, sg := range segs {
			if !sg.end.After(sg.start) {
				continue
			}
			l := sg.level
			var q decimal.Decimal
			switch metric {
			case MetricVCPU:
				q = decimal.NewFromInt(l.CPU)
			case MetricMemoryGB:
				q = collector.MiBToGB(l.MemMB)
			case MetricPoweredOn:
				q = decimal.Zero
				if l.On {
					q = one
				}
			case MetricStorageGB:
				q = collector.MiBToGB(l.StorMB)
			}
			// What else a record carries must match too for a merge.
			l.CPU, l.MemMB, l.StorMB, l.On = 0, 0, 0, false
			if metric != MetricStorageGB {
				l.Policy = ""
			}
			if n := len(ps); n > 0 && ps[n-1].end.Equal(sg.start) && ps[n-1].l == l && ps[n-1].q.Equal(q) {
				ps[n-1].end = sg.end
				continue
			}
			ps = append(ps, piece{sg.start, sg.end, q, l})
		}
		for _, p := range ps {
			dims := map[string]string{}
			if p.l.Model != "" {
				dims["allocation_model"] = p.l.Model
			}
			if metric == MetricStorageGB {
				dims["policy"] = p.l.Policy
			}
			out = append(out, s.record(id, metric, p.q, p.start, p.end, p.l.Customer, p.l.Org, p.l.Vdc, dims))
		}
	}
	return out
}

func (s *Source) record(resource, metric string, q decimal.Decimal, start, end time.Time, cust, org, vdc string, dims map[string]string) collector.Record {
	if len(dims) == 0 {
		dims = nil
	}
	return collector.Record{
		Key:        collector.Key("vcd", s.site, resource, metric, strconv.FormatInt(start.Unix(), 10)),
		CustomerID: cust, Metric: metric, Quantity: q, Start: start, End: end,
		ResourceID: resource, OrganisationID: org, VdcID: vdc, Site: s.site, Source: "vcd:" + s.site,
		Dimensions: dims,
	}
}

// vdcRecords appends the window's records of VDC allocations, edge
// gateways and public IPs: levels this poll saw, over the whole window.
func (s *Source) vdcRecords(out []collector.Record, skips []collector.Skip, w window) ([]collector.Record, []collector.Skip) {
	skip := func(resource, reason, format string, args ...any) {
		skips = append(skips, collector.Skip{Resource: resource, Reason: reason, Detail: fmt.Sprintf(format, args...)})
	}
	for _, id := range slices.Sorted(maps.Keys(w.snap.vdcs)) {
		v := w.snap.vdcs[id]
		m := model(v.AllocationModel)
		if m == "payg" {
			continue // billed by its VMs
		}
		orgID := uuidOf("", v.Org)
		cust, reason, detail := s.customer(w.snap, orgID, v.OrgName)
		switch reason {
		case "":
		case "ignore":
			continue
		default:
			skip("vdc "+v.Name+" ("+id+")", reason, "%s", detail)
			continue
		}
		for _, a := range []struct {
			metric, field string
			n             optInt
			conv          func(int64) decimal.Decimal
		}{
			{MetricVdcCPU, "cpuAllocationMhz", v.CPUAllocationMhz, func(x int64) decimal.Decimal { return decimal.NewFromInt(x).Div(thousand) }},
			{MetricVdcMemory, "memoryAllocationMB", v.MemoryAllocationMB, collector.MiBToGB},
			{MetricVdcStorage, "storageLimitMB", v.StorageLimitMB, collector.MiBToGB},
		} {
			res := "vdc " + v.Name + " (" + id + ")"
			switch {
			case a.n.Bad != "":
				skip(res, SkipUnexpected, "%s %q is not an integer", a.field, a.n.Bad)
			case !a.n.OK:
				skip(res, SkipMissingSize, "%s is missing", a.field)
			case a.n.V < 0:
				skip(res, SkipNegative, "%s is %d", a.field, a.n.V)
			default:
				out = append(out, s.record(id, a.metric, a.conv(a.n.V), w.start, w.end, cust, orgID, id, map[string]string{"allocation_model": m}))
			}
		}
		// usage of the allocation, for rules such as max(allocation, used),
		// when asked for; a VCD that does not report it is not an error
		for _, u := range []struct {
			metric string
			n      optInt
			conv   func(int64) decimal.Decimal
		}{
			{MetricVdcCPUUsed, v.CPUUsedMhz, func(x int64) decimal.Decimal { return decimal.NewFromInt(x).Div(thousand) }},
			{MetricVdcMemUsed, v.MemoryUsedMB, collector.MiBToGB},
		} {
			if s.cfg.VDCUsage && u.n.OK && u.n.V >= 0 {
				out = append(out, s.record(id, u.metric, u.conv(u.n.V), w.start, w.end, cust, orgID, id, map[string]string{"allocation_model": m}))
			}
		}
	}
	edges := slices.Clone(w.snap.edges)
	slices.SortFunc(edges, func(a, b edgeRecord) int { return cmp.Compare(uuidOf(a.ID, a.Href), uuidOf(b.ID, b.Href)) })
	for _, e := range edges {
		id := uuidOf(e.ID, e.Href)
		res := "edge gateway " + e.Name + " (" + id + ")"
		vdcID := uuidOf("", e.Vdc)
		v, ok := w.snap.vdcs[vdcID]
		if !ok {
			skip(res, SkipUnknownVdc, "VDC %q is not in the adminOrgVdc query", e.Vdc)
			continue
		}
		orgID := uuidOf("", v.Org)
		cust, reason, detail := s.customer(w.snap, orgID, v.OrgName)
		switch reason {
		case "":
			out = append(out, s.record(id, MetricEdgeGateway, one, w.start, w.end, cust, orgID, vdcID, nil))
		case "ignore":
		default:
			skip(res, reason, "%s", detail)
		}
	}
	for _, orgID := range slices.Sorted(maps.Keys(w.snap.ips)) {
		cust, reason, detail := s.customer(w.snap, orgID, "")
		switch reason {
		case "":
			out = append(out, s.record(orgID, MetricPublicIPs, decimal.NewFromInt(w.snap.ips[orgID]), w.start, w.end, cust, orgID, "", nil))
		case "ignore":
		default:
			skip("public IPs of org "+orgID, reason, "%s", detail)
		}
	}
	return out, skips
}
