package vcenter

import (
	"context"
	"fmt"
	"net/url"

	"github.com/vmware/govmomi/vapi/rest"
	"github.com/vmware/govmomi/vapi/tags"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
)

// Tags live in vCenter's vAPI (the REST endpoint, /rest), not in the
// vim25 inventory the property collector reads, so a tag rule costs calls
// of its own. They are bounded by the tags in use, never by the VMs:
//
//	1  list-attached-tags-on-objects for every VM at once
//	T  GET tag, once per distinct tag attached to some VM (for its name
//	   and category)
//	C  GET category, once per distinct category of those tags, only when
//	   a rule names a category
//
// plus a session check. Nothing is cached between polls: a tag renamed or
// moved between polls is seen at the next one.

// readTags returns the tags attached to each VM, by VM managed object id.
func readTags(ctx context.Context, rc *rest.Client, vms []vmInfo, withCategories bool) (map[string][]vmTag, error) {
	var refs []mo.Reference
	for _, vm := range vms {
		if !vm.template {
			refs = append(refs, vm.ref)
		}
	}
	if len(refs) == 0 {
		return nil, nil
	}
	m := tags.NewManager(rc)
	// Not GetAttachedTagsOnObjects: its error text lists every object id,
	// thousands of them; it makes the same calls otherwise.
	attached, err := m.ListAttachedTagsOnObjects(ctx, refs)
	if err != nil {
		return nil, fmt.Errorf("list the tags of %d VMs: %w", len(refs), err)
	}
	byID := map[string]*tags.Tag{}
	categories := map[string]string{} // category id → name
	for _, a := range attached {
		for _, id := range a.TagIDs {
			if _, ok := byID[id]; ok {
				continue
			}
			t, err := m.GetTag(ctx, id)
			if err != nil {
				return nil, fmt.Errorf("get tag %s: %w", id, err)
			}
			byID[id] = t
			if _, ok := categories[t.CategoryID]; ok || !withCategories {
				continue
			}
			c, err := m.GetCategory(ctx, t.CategoryID)
			if err != nil {
				return nil, fmt.Errorf("get category %s of tag %q: %w", t.CategoryID, t.Name, err)
			}
			categories[t.CategoryID] = c.Name
		}
	}
	out := make(map[string][]vmTag, len(attached))
	for _, a := range attached {
		ref := a.ObjectID.Reference()
		if ref.Type != "VirtualMachine" {
			continue
		}
		for _, id := range a.TagIDs {
			t := byID[id]
			out[ref.Value] = append(out[ref.Value], vmTag{category: categories[t.CategoryID], name: t.Name})
		}
	}
	return out, nil
}

// connectREST returns a vAPI client logged in with the source's
// credentials, logging in again when its session expired. c is the
// logged-in vim25 client: the vAPI client shares its address and TLS
// settings.
func (s *Source) connectREST(ctx context.Context, c *vim25.Client) (*rest.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rest != nil {
		if us, err := s.rest.Session(ctx); err == nil && us != nil {
			return s.rest, nil
		}
		s.rest = nil
	}
	rc := rest.NewClient(c)
	if err := rc.Login(ctx, url.UserPassword(s.cfg.Username, s.cfg.Password.Reveal())); err != nil {
		return nil, fmt.Errorf("log in to the vAPI endpoint of %s as %s: %w", c.URL().Host, s.cfg.Username, err)
	}
	s.rest = rc
	return rc, nil
}

// dropREST forgets the vAPI client after a failure.
func (s *Source) dropREST() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rest = nil
}
