package collector

import (
	"context"
	"time"

	"github.com/shopspring/decimal"
)

// Source reads usage from one platform.
//
// Collect measures what happened since cursor (the Next of the source's
// previous Batch; empty on the first run) up to now. It must be
// deterministic in its keys: called again with the same cursor, it returns
// records with the same idempotency keys, so a window that is collected
// twice (after a crash) is billed once. A Source need not be safe for
// concurrent use: the Runner calls Collect of one source at a time.
type Source interface {
	// Name identifies the source in logs, metrics and the state directory.
	Name() string
	Collect(ctx context.Context, cursor Cursor, now time.Time) (Batch, error)
}

// Cursor is a source's opaque position, persisted between runs: a time for
// pollers, an event id or offset for feeds. Empty means "never ran".
type Cursor string

// Batch is what one Collect returns.
type Batch struct {
	Records []Record
	// Next is the cursor to pass to the next Collect once every record has
	// been acknowledged.
	Next Cursor
	// Skipped lists source data that yields no record (an unknown owner, a
	// missing field, a negative size); the Runner logs and counts each.
	Skipped []Skip
}

// Skip says why one resource produced no record (or fewer than usual).
type Skip struct {
	Resource string // e.g. the VM's name and instance UUID
	// Reason is a short, fixed code used as a metric label, e.g. "no_customer".
	Reason string
	Detail string // free text for the log
}

// Record is one usage record as billingd's UsageService takes it. Give
// either Time (a point sample or event) or [Start, End) (an interval).
//
// Quantities are in billing units (GB, vCPU, count); sources convert from
// base units (bytes, MiB) with the helpers in units.go so that the
// conversion lives in one place.
type Record struct {
	Key            string            `json:"key"`
	CustomerID     string            `json:"customer_id"`
	Metric         string            `json:"metric"`
	Quantity       decimal.Decimal   `json:"quantity"`
	Time           time.Time         `json:"time,omitzero"`
	Start          time.Time         `json:"start,omitzero"`
	End            time.Time         `json:"end,omitzero"`
	ResourceID     string            `json:"resource_id,omitempty"`
	OrganisationID string            `json:"organisation_id,omitempty"`
	VdcID          string            `json:"vdc_id,omitempty"`
	Site           string            `json:"site,omitempty"`
	Source         string            `json:"source,omitempty"`
	Dimensions     map[string]string `json:"dimensions,omitempty"`
}
