package restapi

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/shopspring/decimal"

	"github.com/billingd/billingd/internal/collector"
)

// Metric keys every backup source emits. Both are interval gauges: the
// level a poll observed, over the window since the previous poll.
const (
	MetricProtectedVMs = "backup.protected_vms" // distinct protected VMs of the tenant
	MetricStorageGB    = "backup.storage_gb"    // backup storage the tenant consumes, GB (GiB)
	// MetricProtectedVM is 1 per protected VM with its id in dimension
	// vm_id (Spec.PerVM): with aggregation unique_count over vm_id it
	// bills each VM protected at any time of a granule once.
	MetricProtectedVM = "backup.protected_vm"
	DimensionVMID     = "vm_id"
)

// Skip reasons shared by the backup sources (metric label values).
const (
	SkipNoCustomer    = "no_customer"      // no customers rule maps the tenant
	SkipBadCustomer   = "invalid_customer" // the rule gives an id billingd refuses
	SkipUnknownTenant = "unknown_tenant"   // usage of a tenant the tenant list does not have
	SkipMissingField  = "missing_field"    // an entry without its id, tenant or size
	SkipNegative      = "negative_size"    // a size below zero
)

// Tally gathers the usage one poll reads, per tenant, and turns it into
// records. The zero value is not usable; call NewTally.
type Tally struct {
	tenants map[string]*tenantUsage
	skips   []collector.Skip
}

type tenantUsage struct {
	name    string
	known   bool // listed by the platform's tenant list
	vms     map[string]struct{}
	storage map[string]int64 // bytes by dimension value ("" when the source has none)
}

// NewTally returns an empty tally.
func NewTally() *Tally { return &Tally{tenants: map[string]*tenantUsage{}} }

func (t *Tally) tenant(id string) *tenantUsage {
	u := t.tenants[id]
	if u == nil {
		u = &tenantUsage{vms: map[string]struct{}{}, storage: map[string]int64{}}
		t.tenants[id] = u
	}
	return u
}

// Tenant registers a tenant of the platform's tenant list.
func (t *Tally) Tenant(id, name string) {
	u := t.tenant(id)
	u.known, u.name = true, name
}

// VM counts a protected VM of a tenant; the same vmID counts once.
func (t *Tally) VM(tenantID, vmID string) { t.tenant(tenantID).vms[vmID] = struct{}{} }

// Storage adds bytes to a tenant's storage under a dimension value.
func (t *Tally) Storage(tenantID, dim string, bytes int64) { t.tenant(tenantID).storage[dim] += bytes }

// Skip records source data that gives no record.
func (t *Tally) Skip(resource, reason, format string, args ...any) {
	t.skips = append(t.skips, collector.Skip{Resource: resource, Reason: reason, Detail: fmt.Sprintf(format, args...)})
}

// Spec says how a source names its records.
type Spec struct {
	Type string // source type, first part of every key, e.g. "veeam"
	Site string // the platform instance, second part of every key
	// Dimension is the key under which storage records carry the value
	// passed to Storage (e.g. "backup_resource"); empty: none.
	Dimension string
	// PerVM adds a backup.protected_vm record per protected VM.
	PerVM bool
}

// Records returns, for each tenant with usage, in tenant id order: one
// backup.protected_vms record (the distinct VMs, 0 when it only has
// storage) and one backup.storage_gb record per dimension value, all over
// the window; with spec.PerVM, also one backup.protected_vm record per VM.
// Keys are <type>:<site>:<tenant id>:<metric>[:<dimension value or VM
// id>]:<window start, unix seconds>: collecting the same window again
// gives the same keys.
func (t *Tally) Records(spec Spec, w Window, customers *Customers) ([]collector.Record, []collector.Skip) {
	ids := slices.Sorted(maps.Keys(t.tenants))
	var out []collector.Record
	skips := slices.Clone(t.skips)
	bucket := strconv.FormatInt(w.Start.Unix(), 10)
	for _, id := range ids {
		u := t.tenants[id]
		if len(u.vms) == 0 && len(u.storage) == 0 {
			continue
		}
		res := id
		if u.name != "" {
			res = u.name + " (" + id + ")"
		}
		cust, ignored := customers.Resolve(id, u.name)
		switch {
		case ignored:
			continue
		case !u.known:
			skips = append(skips, collector.Skip{Resource: res, Reason: SkipUnknownTenant,
				Detail: fmt.Sprintf("%d VMs and %d storage entries name a tenant the tenant list does not have", len(u.vms), len(u.storage))})
			continue
		case cust == "":
			skips = append(skips, collector.Skip{Resource: res, Reason: SkipNoCustomer, Detail: "no customers rule maps the tenant"})
			continue
		case !collector.ValidCustomerID(cust):
			skips = append(skips, collector.Skip{Resource: res, Reason: SkipBadCustomer, Detail: fmt.Sprintf("customer id %q is not valid", cust)})
			continue
		}
		add := func(metric string, q decimal.Decimal, dims map[string]string, keyParts ...string) {
			parts := append([]string{spec.Type, spec.Site, id, metric}, keyParts...)
			out = append(out, collector.Record{
				Key: collector.Key(append(parts, bucket)...), CustomerID: cust, Metric: metric, Quantity: q,
				Start: w.Start, End: w.End, ResourceID: id, OrganisationID: id, Site: spec.Site,
				Source: spec.Type + ":" + spec.Site, Dimensions: dims,
			})
		}
		add(MetricProtectedVMs, decimal.NewFromInt(int64(len(u.vms))), nil)
		if spec.PerVM {
			for _, vm := range slices.Sorted(maps.Keys(u.vms)) {
				add(MetricProtectedVM, decimal.NewFromInt(1), map[string]string{DimensionVMID: vm}, vm)
				out[len(out)-1].ResourceID = vm
			}
		}
		dims := slices.Sorted(maps.Keys(u.storage))
		for _, d := range dims {
			var m map[string]string
			if spec.Dimension != "" && d != "" {
				m = map[string]string{spec.Dimension: d}
			}
			add(MetricStorageGB, collector.BytesToGB(u.storage[d]), m, d)
		}
	}
	return out, skips
}
