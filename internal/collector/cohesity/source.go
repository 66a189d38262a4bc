package cohesity

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/billingd/billingd/internal/collector"
	"github.com/billingd/billingd/internal/collector/restapi"
)

// Type is the key of a Cohesity source's settings in the collector config.
const Type = "cohesity"

// DimensionStorageDomain is the dimension of backup.storage_gb records: the
// Cohesity storage domain (view box) the tenant's backups are written to.
const DimensionStorageDomain = "storage_domain"

// objectTypeVM is the v2 object type of a VM in every hypervisor environment.
const objectTypeVM = "kVirtualMachine"

// Source collects protected VMs and consumed storage per tenant from one
// Cohesity cluster. Its cursor is the end of the last window (RFC 3339).
type Source struct {
	restapi.Base
	cfg Config
}

var _ collector.Source = (*Source)(nil)

// Build is the collector.Builder of Cohesity sources.
func Build(name string, spec *yaml.Node) (collector.Source, error) {
	return restapi.Build(name, spec, New)
}

// New returns a Source; it logs in at the first Collect.
func New(name string, cfg Config) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Domain == "" {
		cfg.Domain = "LOCAL"
	}
	if len(cfg.Environments) == 0 {
		cfg.Environments = DefaultEnvironments
	}
	var opts []restapi.Option
	if !cfg.APIKey.IsZero() {
		opts = append(opts, restapi.WithHeader("apiKey"))
	}
	s := &Source{cfg: cfg}
	var err error
	if s.Base, err = restapi.Open(kind, name, &s.cfg.Common, s.login, opts...); err != nil {
		return nil, err
	}
	return s, nil
}

// Collect reads the tenants, their protected VMs and the tenants' storage
// and returns the records of the window [cursor, now). The first run only
// sets the start.
func (s *Source) Collect(ctx context.Context, cursor collector.Cursor, now time.Time) (collector.Batch, error) {
	return s.Poll(cursor, now, func(t *restapi.Tally) error { return s.read(ctx, t) })
}

// read tallies the tenants, each one's protected VMs, and the tenants'
// storage per storage domain.
func (s *Source) read(ctx context.Context, t *restapi.Tally) error {
	var tenants []tenant
	if err := s.Client.Get(ctx, pathTenants, nil, &tenants); err != nil {
		return fmt.Errorf("tenants: %w", err)
	}
	for _, tn := range tenants {
		if tn.TenantID == "" {
			t.Skip("tenant "+tn.Name, restapi.SkipMissingField, "no tenantId")
			continue
		}
		t.Tenant(tn.TenantID, tn.Name)
		if _, ignored := s.cfg.Customers.Resolve(tn.TenantID, tn.Name); ignored {
			continue // the provider's own: not worth a search
		}
		objs, err := s.protectedObjects(ctx, tn.TenantID)
		if err != nil {
			return fmt.Errorf("protected objects of tenant %s: %w", tn.TenantID, err)
		}
		for _, o := range objs {
			switch {
			case o.ID == nil:
				t.Skip("object "+o.Name+" of tenant "+tn.TenantID, restapi.SkipMissingField, "no id")
			case o.ObjectType != "" && o.ObjectType != objectTypeVM:
				// a container (vCenter, host) listed by the search: not a VM
			default:
				// An object protected by several groups is listed once per
				// group: the tally counts its id once.
				t.VM(tn.TenantID, strconv.FormatInt(*o.ID, 10))
			}
		}
	}
	stats, err := s.tenantStats(ctx)
	if err != nil {
		return fmt.Errorf("tenant stats: %w", err)
	}
	seen := map[string]bool{} // an entry read twice across pages counts once
	for _, st := range stats {
		res := "storage of tenant " + st.ID
		switch {
		case st.ID == "" || st.Stats == nil || st.Stats.StorageConsumedBytes == nil:
			t.Skip(res, restapi.SkipMissingField, "id and stats.storageConsumedBytes are required")
		case *st.Stats.StorageConsumedBytes < 0:
			t.Skip(res, restapi.SkipNegative, "storageConsumedBytes %d", *st.Stats.StorageConsumedBytes)
		case seen[entryKey(st)]:
		default:
			seen[entryKey(st)] = true
			t.Storage(st.ID, storageDomain(st), *st.Stats.StorageConsumedBytes)
		}
	}
	return nil
}

// entryKey identifies a stats entry: its tenant and its groups.
func entryKey(st tenantStats) string {
	k := st.ID
	for _, g := range st.GroupList {
		k += "|" + strconv.FormatInt(g.ID, 10)
	}
	return k
}

// storageDomain names the one storage domain an entry's groups are in; ""
// when they span several (the entry is then the tenant's total).
func storageDomain(st tenantStats) string {
	name := ""
	for i, g := range st.GroupList {
		if i > 0 && g.ViewBoxName != name {
			return ""
		}
		name = g.ViewBoxName
	}
	return name
}
