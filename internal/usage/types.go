package usage

import (
	"time"

	"github.com/shopspring/decimal"
)

// MaxBatch is the most records one Ingest call (one stream message, one
// BatchIngestUsage request) may carry.
const MaxBatch = 10000

// Input is a record as a client sent it, before validation. Times are UTC;
// the zero time means "not given". Give Time, or Start and End.
type Input struct {
	Key            string // idempotency key: with customer, metric and start, the record's Identity
	CustomerID     string
	MetricKey      string
	Quantity       string // plain decimal string, e.g. "12.5"
	Time           time.Time
	Start, End     time.Time
	ResourceID     string
	OrganisationID string
	VdcID          string
	Site           string
	Source         string
	Dimensions     map[string]string
	// DecodeError is set by a transport that could not decode one of the
	// record's fields (e.g. a timestamp out of range); the record is rejected
	// with it.
	DecodeError *FieldError
}

// FieldError names one field of a record and what is wrong with it.
type FieldError struct {
	Field  string // wire name, e.g. "quantity"
	Reason string
}

// Record is a validated, stored usage record. A point record (a gauge
// sample or an event) has End == Start; an interval record covers
// [Start, End).
type Record struct {
	Key            string
	CustomerID     string
	MetricKey      string
	Quantity       decimal.Decimal
	Start, End     time.Time
	ResourceID     string
	OrganisationID string
	VdcID          string
	Site           string
	Source         string
	Dimensions     map[string]string // never nil
	ReceiveTime    time.Time         // when billingd stored it
}

// Identity is what makes a record unique. A record sent again, on any
// stream, to any replica, has the same identity and is a duplicate;
// another record may reuse a key only for another customer, metric or
// start (so a collector can never pre-empt another customer's records).
type Identity struct {
	CustomerID, MetricKey string
	Start                 int64 // Unix microseconds, the precision stored
	Key                   string
}

// Identity returns the record's identity.
func (r *Record) Identity() Identity {
	return Identity{r.CustomerID, r.MetricKey, r.Start.UnixMicro(), r.Key}
}

// IsPoint reports whether the record is a sample or event rather than an interval.
func (r Record) IsPoint() bool { return r.End.Equal(r.Start) }

// Rejection says why one record of a batch was not stored.
type Rejection struct {
	Index  int    // position in the batch, from 0
	Key    string // the record's idempotency key as sent
	Field  string // the first offending field, "" when none applies
	Reason string // every problem; "field: reason; …" when there are several
	// Problems lists every problem of the record, in field order.
	Problems []FieldError
}

// Result is the outcome of one batch. Accepted + Duplicates + len(Rejected)
// is the batch size.
type Result struct {
	Accepted   int // stored for the first time
	Duplicates int // key stored before, or repeated earlier in the same batch
	Rejected   []Rejection
}

// ListParams selects stored records: all filters are optional; the window
// [From, To) applies to Start. Records come in (Start, Key) order.
type ListParams struct {
	CustomerID string
	MetricKey  string
	ResourceID string
	From, To   time.Time // zero: unbounded
	PageSize   int       // 0 means 50; at most 1000
	PageToken  string
}
