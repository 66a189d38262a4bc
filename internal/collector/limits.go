package collector

import (
	"fmt"
	"slices"
)

// Limits mirror a collector API key limited to sources and sites. billingd
// refuses a whole IngestUsage message (PermissionDenied) for one record
// beyond them, and the push retries it forever, which would stall the
// source; a source given its key's limits turns such a record into a Skip
// (or a dead letter) instead. Empty means any, as for the key.
type Limits struct {
	AllowedSources []string `yaml:"allowed_sources"`
	AllowedSites   []string `yaml:"allowed_sites"`
}

// ReasonNotAllowed is the skip or dead-letter reason of a record beyond Limits.
const ReasonNotAllowed = "not_allowed"

// Check reports why r is beyond l, or nil.
func (l Limits) Check(r Record) error {
	if len(l.AllowedSources) > 0 && !slices.Contains(l.AllowedSources, r.Source) {
		return fmt.Errorf("source %q is not in allowed_sources %q", r.Source, l.AllowedSources)
	}
	if len(l.AllowedSites) > 0 && !slices.Contains(l.AllowedSites, r.Site) {
		return fmt.Errorf("site %q is not in allowed_sites %q", r.Site, l.AllowedSites)
	}
	return nil
}
