package customer

import (
	"context"
	"time"

	"github.com/billingd/billingd/internal/access"
	"github.com/billingd/billingd/internal/clock"
	"github.com/billingd/billingd/internal/resource"
)

// Service enforces the customer rules: inputs are validated before any
// write, and every create, update and delete runs in one transaction that
// checks references, immutability and request idempotency.
type Service struct {
	store Store
	clock clock.Clock
}

// New returns a Service over store; a nil clock means the system clock.
func New(store Store, c clock.Clock) *Service {
	if c == nil {
		c = clock.Real()
	}
	return &Service{store: store, clock: c}
}

// now is UTC at the database's precision, so what a create returns equals
// what a later get reads.
func (s *Service) now() time.Time { return resource.Now(s.clock) }

// audit records a change in tx, the transaction that makes it, so that the
// change and its audit event commit or roll back together.
func (s *Service) audit(ctx context.Context, tx Repository, action, kind, id string, before, after any) error {
	return access.Record(ctx, tx, s.now(), action, kind, id, before, after)
}
