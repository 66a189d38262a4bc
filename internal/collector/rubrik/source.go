package rubrik

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/billingd/billingd/internal/collector"
	"github.com/billingd/billingd/internal/collector/restapi"
)

// Type is the key of an RSC source's settings in the collector config.
const Type = "rubrik"

// DimensionSLADomain is the dimension of backup.storage_gb records: the SLA
// Domain of the workload, which sets retention and thus the storage tier.
const DimensionSLADomain = "sla_domain"

// protected is the protectionStatus of a workload an SLA Domain protects.
const protected = "Protected"

// Source collects protected VMs and their snapshots' storage per
// organisation from RSC. Its cursor is the end of the last window (RFC 3339).
type Source struct {
	restapi.Base
	cfg Config
}

var _ collector.Source = (*Source)(nil)

// Build is the collector.Builder of RSC sources.
func Build(name string, spec *yaml.Node) (collector.Source, error) {
	return restapi.Build(name, spec, New)
}

// New returns a Source; it logs in at the first Collect.
func New(name string, cfg Config) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(cfg.ObjectTypes) == 0 {
		cfg.ObjectTypes = DefaultObjectTypes
	}
	s := &Source{cfg: cfg}
	var err error
	if s.Base, err = restapi.Open(kind, name, &s.cfg.Common, s.login); err != nil {
		return nil, err
	}
	return s, nil
}

// Collect reads every VM workload and returns the records of the window
// [cursor, now). The first run only sets the start.
func (s *Source) Collect(ctx context.Context, cursor collector.Cursor, now time.Time) (collector.Batch, error) {
	return s.Poll(cursor, now, func(t *restapi.Tally) error { return s.read(ctx, t) })
}

// read tallies every VM workload: its organisation, whether it is
// protected, and its physical bytes per SLA Domain.
func (s *Source) read(ctx context.Context, t *restapi.Tally) error {
	nodes, err := s.vms(ctx)
	if err != nil {
		return fmt.Errorf("VM workloads: %w", err)
	}
	seen := map[string]bool{}
	for _, n := range nodes {
		res := "VM " + n.Name + " (" + n.ID + ")"
		if n.ID == "" || n.WorkloadOrg == nil || n.WorkloadOrg.ID == "" {
			t.Skip(res, restapi.SkipMissingField, "id and workloadOrg.id are required")
			continue
		}
		// The same snappable (fid) read twice across pages counts once; a
		// workload's copies on other clusters (same id, other fid) add
		// their bytes.
		fid := cmp.Or(n.FID, n.ID)
		if seen[fid] {
			continue
		}
		seen[fid] = true
		org := n.WorkloadOrg
		t.Tenant(org.ID, cmp.Or(org.FullName, org.Name))
		if n.ProtectionStatus == protected {
			t.VM(org.ID, n.ID) // a workload with copies on two clusters counts once
		}
		switch {
		case n.PhysicalBytes == nil:
			t.Skip(res, restapi.SkipMissingField, "no physicalBytes")
		case *n.PhysicalBytes < 0:
			t.Skip(res, restapi.SkipNegative, "physicalBytes %d", *n.PhysicalBytes)
		case *n.PhysicalBytes > 0:
			sla := ""
			if n.SLADomain != nil {
				sla = n.SLADomain.Name
			}
			t.Storage(org.ID, sla, int64(*n.PhysicalBytes))
		}
	}
	return nil
}
