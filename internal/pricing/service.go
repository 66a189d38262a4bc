package pricing

import (
	"context"
	"time"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/clock"
	"github.com/google/uuid"
)

// Service enforces the pricing rules: inputs are validated before any
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
func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

func newID() (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", apperr.Wrap(apperr.KindInternal, err, "cannot generate an id")
	}
	return id.String(), nil
}

// createOnce runs create in one transaction and records requestID with the
// id it returns. A requestID seen before returns the resource recorded then,
// read with get, instead of creating another.
func createOnce[T any](ctx context.Context, s Store, requestID, kind string,
	create func(tx Repository) (T, string, error), get func(ctx context.Context, id string) (T, error),
) (T, error) {
	var (
		out      T
		replayID string
	)
	err := s.InTx(ctx, func(tx Repository) error {
		if requestID != "" {
			k, id, found, err := tx.LookupRequest(ctx, requestID)
			if err != nil {
				return err
			}
			if found {
				if k != kind {
					return apperr.AlreadyExists("request", requestID)
				}
				replayID = id
				return nil
			}
		}
		v, id, err := create(tx)
		if err != nil {
			return err
		}
		if requestID != "" {
			if err := tx.SaveRequest(ctx, requestID, kind, id); err != nil {
				return err
			}
		}
		out = v
		return nil
	})
	if err != nil && requestID != "" && apperr.KindOf(err) == apperr.KindAlreadyExists {
		// A concurrent create with the same request id may have won the race.
		if k, id, found, lerr := s.LookupRequest(ctx, requestID); lerr == nil && found && k == kind {
			return get(ctx, id)
		}
	}
	if err != nil {
		var zero T
		return zero, err
	}
	if replayID != "" {
		return get(ctx, replayID)
	}
	return out, nil
}

// utc normalises a client time to UTC at the database's precision; zero stays zero.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Microsecond)
}

func customerExists(ctx context.Context, tx Repository, id string) error {
	if id == "" {
		return nil
	}
	ok, err := tx.CustomerExists(ctx, id)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.NotFound("customer", id)
	}
	return nil
}

func productsExist(ctx context.Context, tx Repository, ids ...string) error {
	missing, err := tx.MissingProducts(ctx, ids)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return apperr.NotFound("product", missing[0])
	}
	return nil
}
