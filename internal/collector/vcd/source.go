package vcd

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/billingd/billingd/internal/collector"
)

// Source collects usage from one VMware Cloud Director. Its cursor is a
// JSON state (see state); its first poll only sets the start.
type Source struct {
	name      string
	site      string
	cfg       Config
	client    *client
	customers customers

	notifications *notifier // nil without notifications
	startOnce     sync.Once
}

var _ collector.Source = (*Source)(nil)

// Type is the key of a VCD source's settings in the collector config.
const Type = "vcd"

// Build is the collector.Builder of VCD sources.
func Build(name string, spec *yaml.Node) (collector.Source, error) {
	var cfg Config
	if err := collector.DecodeStrict(spec, &cfg); err != nil {
		return nil, err
	}
	return New(name, cfg, nil)
}

// New returns a Source; it logs in at the first Collect, and starts
// consuming notifications then. log may be nil (slog.Default).
func New(name string, cfg Config, log *slog.Logger) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	site := cfg.Site
	if site == "" {
		site = name
	}
	if log == nil {
		log = slog.Default()
	}
	s := &Source{name: name, site: site, cfg: cfg, client: c, customers: newCustomers(cfg.Customers, cfg.DefaultCustomer)}
	if cfg.Notifications != nil {
		s.notifications = &notifier{
			cfg: *cfg.Notifications, log: log.With("source", name),
			lookup: func(ctx context.Context, vm string) (*vmRecord, error) { return lookupVM(ctx, c, vm) },
		}
	}
	return s, nil
}

// Name returns the source's name.
func (s *Source) Name() string { return s.name }

// Collect reads the inventory (five queries) and returns the records of
// the window [cursor, now), now truncated to the second, cut by the
// notifications received for it. A window that would be empty returns
// nothing and keeps the cursor.
func (s *Source) Collect(ctx context.Context, cursor collector.Cursor, now time.Time) (collector.Batch, error) {
	end := now.UTC().Truncate(time.Second)
	prev, err := parseCursor(cursor)
	if err != nil {
		return collector.Batch{}, err
	}
	if s.notifications != nil {
		s.startOnce.Do(s.notifications.start)
		s.notifications.settle(prev.T)
	}
	if !prev.T.IsZero() && !end.After(prev.T) {
		return collector.Batch{Next: cursor}, nil
	}
	snap, err := read(ctx, s.client)
	if err != nil {
		return collector.Batch{}, err
	}
	var evs []event
	if s.notifications != nil {
		evs = s.notifications.peek(end)
	}
	recs, skips, next := s.build(window{start: prev.T, end: end, prev: prev, snap: snap, events: evs})
	c, err := next.cursor()
	if err != nil {
		return collector.Batch{}, err
	}
	if s.notifications != nil {
		s.notifications.used(end, evs)
	}
	return collector.Batch{Records: recs, Next: c, Skipped: skips}, nil
}

// Close stops consuming notifications; unacknowledged ones go back to the
// queue.
func (s *Source) Close() error {
	if s.notifications != nil {
		s.notifications.stop()
	}
	return nil
}
