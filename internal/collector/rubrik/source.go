package rubrik

import (
	"context"
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/billingd/billingd/internal/collector"
	"github.com/billingd/billingd/internal/collector/restapi"
)

// Type is the key of an RSC source's settings in the collector config.
const Type = "rubrik"

// Skip reasons (metric label values), shared with the other backup sources.
const (
	SkipNoCustomer   = restapi.SkipNoCustomer
	SkipBadCustomer  = restapi.SkipBadCustomer
	SkipMissingField = restapi.SkipMissingField
	SkipNegative     = restapi.SkipNegative
)

// DimensionSLADomain is the dimension of backup.storage_gb records: the SLA
// Domain of the workload, which sets retention and thus the storage tier.
const DimensionSLADomain = "sla_domain"

// protected is the protectionStatus of a workload an SLA Domain protects.
const protected = "Protected"

// Source collects protected VMs and their snapshots' storage per
// organisation from RSC. Its cursor is the end of the last window (RFC 3339).
type Source struct {
	name   string
	site   string
	cfg    Config
	client *restapi.Client
}

var _ collector.Source = (*Source)(nil)

// Build is the collector.Builder of RSC sources.
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
	if len(cfg.ObjectTypes) == 0 {
		cfg.ObjectTypes = DefaultObjectTypes
	}
	if cfg.PageSize == 0 {
		cfg.PageSize = 500
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

// Collect reads every VM workload and returns the records of the window
// [cursor, now). The first run only sets the start.
func (s *Source) Collect(ctx context.Context, cursor collector.Cursor, now time.Time) (collector.Batch, error) {
	w, next, ok, err := restapi.NextWindow(cursor, now)
	if err != nil || !ok {
		return collector.Batch{Next: next}, err
	}
	nodes, err := s.vms(ctx)
	if err != nil {
		return collector.Batch{}, fmt.Errorf("VM workloads: %w", err)
	}
	t := restapi.NewTally()
	seen := map[string]bool{}
	for _, n := range nodes {
		res := "VM " + n.Name + " (" + n.ID + ")"
		if n.ID == "" || n.WorkloadOrg == nil || n.WorkloadOrg.ID == "" {
			t.Skip(res, SkipMissingField, "id and workloadOrg.id are required")
			continue
		}
		// The same snappable (fid) read twice across pages counts once; a
		// workload's copies on other clusters (same id, other fid) add
		// their bytes.
		fid := cmpOr(n.FID, n.ID)
		if seen[fid] {
			continue
		}
		seen[fid] = true
		org := n.WorkloadOrg
		t.Tenant(org.ID, cmpOr(org.FullName, org.Name))
		if n.ProtectionStatus == protected {
			t.VM(org.ID, n.ID) // a workload with copies on two clusters counts once

		}
		switch {
		case n.PhysicalBytes == nil:
			t.Skip(res, SkipMissingField, "no physicalBytes")
		case *n.PhysicalBytes < 0:
			t.Skip(res, SkipNegative, "physicalBytes %d", *n.PhysicalBytes)
		case *n.PhysicalBytes > 0:
			sla := ""
			if n.SLADomain != nil {
				sla = n.SLADomain.Name
			}
			t.Storage(org.ID, sla, int64(*n.PhysicalBytes))
		}
	}
	recs, skips := t.Records(restapi.Spec{Type: Type, Site: s.site, Dimension: DimensionSLADomain, PerVM: s.cfg.PerVM}, w, &s.cfg.Customers)
	return collector.Batch{Records: recs, Next: next, Skipped: skips}, nil
}
