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

// DimensionBackupResource is the dimension of backup.storage_gb records:
// the VSPC cloud backup resource (a company's quota on one cloud
// repository), so that repositories can be priced apart.
const DimensionBackupResource = "backup_resource"

// Source collects protected VMs and cloud backup storage per company from
// one VSPC. Its cursor is the end of the last window (RFC 3339).
type Source struct {
	restapi.Base
	cfg Config
}

var _ collector.Source = (*Source)(nil)

// Build is the collector.Builder of VSPC sources.
func Build(name string, spec *yaml.Node) (collector.Source, error) {
	return restapi.Build(name, spec, New)
}

// New returns a Source; it logs in at the first Collect.
func New(name string, cfg Config) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Source{cfg: cfg}
	var err error
	if s.Base, err = restapi.Open(kind, name, &s.cfg.Common, s.login); err != nil {
		return nil, err
	}
	return s, nil
}

// Collect reads the companies, protected VMs and backup resource usage and
// returns the records of the window [cursor, now). The first run only sets
// the start.
func (s *Source) Collect(ctx context.Context, cursor collector.Cursor, now time.Time) (collector.Batch, error) {
	return s.Poll(cursor, now, func(t *restapi.Tally) error { return s.read(ctx, t) })
}

// read tallies the companies, their protected VMs and their backup
// resources' used storage.
func (s *Source) read(ctx context.Context, t *restapi.Tally) error {
	companies, err := list[company](ctx, s.Client, pathCompanies, s.cfg.PageSize)
	if err != nil {
		return fmt.Errorf("companies: %w", err)
	}
	vms, err := list[protectedVM](ctx, s.Client, pathVMs, s.cfg.PageSize)
	if err != nil {
		return fmt.Errorf("protected VMs: %w", err)
	}
	usage, err := list[backupResourceUsage](ctx, s.Client, pathUsage, s.cfg.PageSize)
	if err != nil {
		return fmt.Errorf("backup resource usage: %w", err)
	}
	for _, c := range companies {
		if c.InstanceUID == "" {
			t.Skip("company "+c.Name, restapi.SkipMissingField, "no instanceUid")
			continue
		}
		t.Tenant(c.InstanceUID, c.Name)
	}
	for _, vm := range vms {
		if vm.InstanceUID == "" || vm.OrganizationUID == "" {
			t.Skip("VM "+vm.Name+" ("+vm.InstanceUID+")", restapi.SkipMissingField, "instanceUid %q, organizationUid %q", vm.InstanceUID, vm.OrganizationUID)
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
			t.Skip(res, restapi.SkipMissingField, "companyUid, backupResourceUid and usedStorageQuota are required")
		case *u.UsedStorageQuota < 0:
			t.Skip(res, restapi.SkipNegative, "usedStorageQuota %d bytes", *u.UsedStorageQuota)
		case seen[pair]:
		default:
			seen[pair] = true
			t.Storage(u.CompanyUID, u.BackupResourceUID, *u.UsedStorageQuota)
		}
	}
	return nil
}
