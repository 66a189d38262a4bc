package vcenter

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/vapi/rest"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/soap"
	"go.yaml.in/yaml/v3"

	"github.com/billingd/billingd/internal/collector"
)

// Source collects VM usage from one vCenter. Its cursor is the end of the
// last window (RFC 3339, whole seconds).
type Source struct {
	name  string
	site  string
	cfg   Config
	rules []rule

	// wantTags: a tenant rule looks at vSphere tags; tagCategories: one
	// names a tag category.
	wantTags, tagCategories bool

	mu     sync.Mutex // guards client and rest
	client *vim25.Client
	rest   *rest.Client // vAPI, for tags
}

var _ collector.Source = (*Source)(nil)

// Type is the key of a vCenter source's settings in the collector config.
const Type = "vcenter"

// Build is the collector.Builder of vCenter sources.
func Build(name string, spec *yaml.Node) (collector.Source, error) {
	var cfg Config
	if err := collector.DecodeStrict(spec, &cfg); err != nil {
		return nil, err
	}
	return New(name, cfg)
}

// New returns a Source; it connects at the first Collect.
func New(name string, cfg Config) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.DefaultPolicy == "" {
		cfg.DefaultPolicy = "default"
	}
	site := cfg.Site
	if site == "" {
		site = name
	}
	src := &Source{name: name, site: site, cfg: cfg, rules: compileRules(cfg.Tenants)}
	src.wantTags, src.tagCategories = usesTags(cfg.Tenants)
	return src, nil
}

// Name returns the source's name.
func (s *Source) Name() string { return s.name }

// Collect reads the inventory once and returns the records of the window
// [cursor, now), now truncated to the second. The first run (no cursor)
// only sets the start: there is no earlier poll to measure from. A window
// that would be empty (now not after the cursor) returns nothing and keeps
// the cursor.
func (s *Source) Collect(ctx context.Context, cursor collector.Cursor, now time.Time) (collector.Batch, error) {
	end := now.UTC().Truncate(time.Second)
	if cursor == "" {
		return collector.Batch{Next: formatCursor(end)}, nil
	}
	start, err := time.Parse(time.RFC3339, string(cursor))
	if err != nil {
		return collector.Batch{}, fmt.Errorf("cursor %q: %w", cursor, err)
	}
	if !end.After(start) {
		return collector.Batch{Next: cursor}, nil
	}
	c, err := s.connect(ctx)
	if err != nil {
		return collector.Batch{}, err
	}
	snap, err := retrieve(ctx, c)
	if err != nil {
		s.drop()
		return collector.Batch{}, err
	}
	if s.wantTags {
		// A failed tag read fails the poll: falling through to later rules
		// or the default customer would bill VMs to the wrong customer.
		rc, err := s.connectREST(ctx, c)
		if err != nil {
			return collector.Batch{}, err
		}
		if snap.tags, err = readTags(ctx, rc, snap.vms, s.tagCategories); err != nil {
			s.dropREST()
			return collector.Batch{}, err
		}
	}
	recs, skips := s.records(snap, start, end)
	return collector.Batch{Records: recs, Next: formatCursor(end), Skipped: skips}, nil
}

func formatCursor(t time.Time) collector.Cursor {
	return collector.Cursor(t.UTC().Format(time.RFC3339))
}

// connect returns a logged-in client, logging in again when the session
// expired (vCenter drops idle sessions, e.g. between hourly polls).
func (s *Source) connect(ctx context.Context) (*vim25.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client != nil {
		if us, err := session.NewManager(s.client).UserSession(ctx); err == nil && us != nil {
			return s.client, nil
		}
		s.client = nil
	}
	u, err := soap.ParseURL(s.cfg.URL)
	if err != nil {
		return nil, err
	}
	sc := soap.NewClient(u, s.cfg.Insecure)
	if s.cfg.CAFile != "" {
		if err := sc.SetRootCAs(s.cfg.CAFile); err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
	}
	c, err := vim25.NewClient(ctx, sc)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", u.Host, err)
	}
	if err := session.NewManager(c).Login(ctx, url.UserPassword(s.cfg.Username, s.cfg.Password.Reveal())); err != nil {
		// The fault names the user at most, never the password.
		return nil, fmt.Errorf("log in to %s as %s: %w", u.Host, s.cfg.Username, err)
	}
	s.client = c
	return c, nil
}

// drop forgets the client after a failure so that the next Collect
// connects afresh.
func (s *Source) drop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.client = nil
}

// Close logs out of both sessions.
func (s *Source) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	if s.rest != nil {
		if err := s.rest.Logout(ctx); err != nil {
			errs = append(errs, fmt.Errorf("vAPI logout: %w", err))
		}
		s.rest = nil
	}
	if s.client != nil {
		if err := session.NewManager(s.client).Logout(ctx); err != nil {
			errs = append(errs, fmt.Errorf("logout: %w", err))
		}
		s.client = nil
	}
	return errors.Join(errs...)
}
