package veeam

import (
	"context"
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/billingd/billingd/internal/collector"
	"github.com/billingd/billingd/internal/collector/restapi"
)

// Type is the key of a VSPC source's settings in the collector config.
const Type = "veeam"

// Skip reasons (metric label values); see also restapi's shared ones.
const (
	SkipNoCustomer    = restapi.SkipNoCustomer
	SkipBadCustomer   = restapi.SkipBadCustomer
	SkipUnknownTenant = restapi.SkipUnknownTenant
	SkipMissingField  = restapi.SkipMissingField
	SkipNegative      = restapi.SkipNegative
)

// DimensionBackupResource is the dimension of backup.storage_gb records:
// the VSPC cloud backup resource (a company's quota on one cloud
// repository), so that repositories can be priced apart.
const DimensionBackupResource = "backup_resource"

// Source collects protected VMs and cloud backup storage per company from
// one VSPC. Its cursor is the end of the last window (RFC 3339).
type Source struct {
	name   string
	site   string
	cfg    Config
	client *restapi.Client
}

var _ collector.Source = (*Source)(nil)

// Build is the collector.Builder of VSPC sources.
func Build(name string, spec *yaml.Node) (collector.Source, error) {
	var cfg Config
	if err := collector.DecodeStrict(spec, &cfg); err != nil {
		return nil, err
	}
	return New(name, cfg)
}

// New returns a Source; it logs in at the first Collect.
func New(name string, cfg Config) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.PageSize == 0 {
		cfg.PageSize = MaxPageSize
	}
	site := cfg.Site
	if site == "" {
		site = name
	}
	hc, err := cfg.HTTPClient()
	if err != nil {
		return nil, err
	}
	s := &Source{name: name, site: site, cfg: cfg}
	s.client, err = restapi.NewClient(cfg.Base(), hc, s.login)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Name returns the source's name.
func (s *Source) Name() string { return s.name }

// Collect reads the companies, protected VMs and backup resource usage and
// returns the records of the window [cursor, now). The first run only sets
// the start.
func (s *Source) Collect(ctx context.Context, cursor collector.Cursor, now time.Time) (collector.Batch, error) {
	w, next, ok, err := restapi.NextWindow(cursor, now)
	if err != nil || !ok {
		return collector.Batch{Next: next}, err
	}
	companies, err := list[company](ctx, s.client, pathCompanies, s.cfg.PageSize)
	if err != nil {
		return collector.Batch{}, fmt.Errorf("companies: %w", err)
	}
	vms, err := list[protectedVM](ctx, s.client, pathVMs, s.cfg.PageSize)
	if err != nil {
		return collector.Batch{}, fmt.Errorf("protected VMs: %w", err)
	}
	usage, err := list[backupResourceUsage](ctx, s.client, pathUsage, s.cfg.PageSize)
	if err != nil {
		return collector.Batch{}, fmt.Errorf("backup resource usage: %w", err)
	}
	t := restapi.NewTally()
	for _, c := range companies {
		if c.InstanceUID == "" {
			t.Skip("company "+c.Name, SkipMissingField, "no instanceUid")
			continue
		}
		t.Tenant(c.InstanceUID, c.Name)
	}
	for _, vm := range vms {
		if vm.InstanceUID == "" || vm.OrganizationUID == "" {
			t.Skip("VM "+vm.Name+" ("+vm.InstanceUID+")", SkipMissingField, "instanceUid %q, organizationUid %q", vm.InstanceUID, vm.OrganizationUID)
			continue
		}
		// One VM backed up by several jobs or servers is listed once per
		// job: the tally counts its instanceUid once.
		t.VM(vm.OrganizationUID, vm.InstanceUID)
	}
	// One entry per company and backup resource: an entry read twice
	// (the collection moved between two pages) must not count twice.
	seen := map[[2]string]bool{}
	for _, u := range usage {
		res := "backup resource " + u.BackupResourceUID + " of company " + u.CompanyUID
		pair := [2]string{u.CompanyUID, u.BackupResourceUID}
		switch {
		case u.CompanyUID == "" || u.BackupResourceUID == "" || u.UsedStorageQuota == nil:
			t.Skip(res, SkipMissingField, "companyUid, backupResourceUid and usedStorageQuota are required")
		case *u.UsedStorageQuota < 0:
			t.Skip(res, SkipNegative, "usedStorageQuota %d bytes", *u.UsedStorageQuota)
		case seen[pair]:
		default:
			seen[pair] = true
			t.Storage(u.CompanyUID, u.BackupResourceUID, *u.UsedStorageQuota)
		}
	}
	recs, skips := t.Records(restapi.Spec{Type: Type, Site: s.site, Dimension: DimensionBackupResource, PerVM: s.cfg.PerVM}, w, &s.cfg.Customers)
	return collector.Batch{Records: recs, Next: next, Skipped: skips}, nil
}
