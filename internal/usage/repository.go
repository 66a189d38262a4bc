package usage

import (
	"context"

	"github.com/billingd/billingd/internal/catalog"
)

// MetricRule is what ingestion checks a record against in its metric.
type MetricRule struct {
	Aggregation catalog.Aggregation
	// UniqueDimension is the dimension a unique_count metric counts the
	// distinct values of; a record must carry it.
	UniqueDimension string
}

// Repository stores usage. Errors are apperr kinds; a transient database
// failure (connection lost, server shutting down, serialization failure) is
// KindUnavailable, after which the batch may or may not be committed and
// resending it is safe.
type Repository interface {
	// KnownCustomers returns which of ids name existing customers, in one query.
	KnownCustomers(ctx context.Context, ids []string) (map[string]bool, error)
	// MetricRules returns what records of each of keys that names an
	// existing metric are checked against, in one query.
	MetricRules(ctx context.Context, keys []string) (map[string]MetricRule, error)
	// Insert stores, in one transaction, every record whose Identity was
	// never stored before, and returns how many it stored. When an identity
	// repeats within records, its first record is the one stored.
	// It returns after the commit.
	Insert(ctx context.Context, records []Record) (accepted int, err error)
	// List returns one page of records in (Start, Key) order and the token
	// of the next page ("" on the last); a bad token is Invalid on "page_token".
	List(ctx context.Context, p ListParams) ([]Record, string, error)
}
