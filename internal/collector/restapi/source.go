package restapi

import (
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/billingd/billingd/internal/collector"
)

// Build decodes a source's YAML block strictly into its settings C and
// makes the source with newSource: the collector.Builder of every backup
// product is Build with its Config and New.
func Build[C any, S collector.Source](name string, spec *yaml.Node, newSource func(string, C) (S, error)) (collector.Source, error) {
	var cfg C
	if err := collector.DecodeStrict(spec, &cfg); err != nil {
		return nil, err
	}
	s, err := newSource(name, cfg)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Kind is what a backup product tells about its source.
type Kind struct {
	Type      string // the settings' key and the first part of every record key
	Dimension string // of backup.storage_gb records (Spec.Dimension)
	Pages     Pages
}

// Base is the part of a backup source that is not the product's: its
// name, site and client, and the window each poll measures. A product's
// Source embeds it.
type Base struct {
	name      string
	spec      Spec
	customers *Customers
	Client    *Client
}

// Open fills in the defaults of c (page_size, site) and returns the Base
// of the source name, whose client logs in with login at the first
// request. c must stay where it is: the customers rules are read from it.
func Open(kind Kind, name string, c *Common, login Login, opts ...Option) (Base, error) {
	if c.PageSize == 0 {
		c.PageSize = kind.Pages.Default
	}
	site := c.Site
	if site == "" {
		site = name
	}
	hc, err := c.HTTPClient()
	if err != nil {
		return Base{}, err
	}
	client, err := NewClient(c.Base(), hc, login, opts...)
	if err != nil {
		return Base{}, err
	}
	return Base{
		name:      name,
		spec:      Spec{Type: kind.Type, Site: site, Dimension: kind.Dimension, PerVM: c.PerVM},
		customers: &c.Customers,
		Client:    client,
	}, nil
}

// Name returns the source's name.
func (b *Base) Name() string { return b.name }

// Poll collects the window [cursor, now): read fills a tally with what the
// platform reports now, and its records cover the window. The first run
// and an empty window only return the cursor, without calling read; an
// error of read fails the poll, so the window is collected again.
func (b *Base) Poll(cursor collector.Cursor, now time.Time, read func(*Tally) error) (collector.Batch, error) {
	w, next, ok, err := NextWindow(cursor, now)
	if err != nil || !ok {
		return collector.Batch{Next: next}, err
	}
	t := NewTally()
	if err := read(t); err != nil {
		return collector.Batch{}, err
	}
	recs, skips := t.Records(b.spec, w, b.customers)
	return collector.Batch{Records: recs, Next: next, Skipped: skips}, nil
}
