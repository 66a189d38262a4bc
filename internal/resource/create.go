package resource

import (
	"context"

	"github.com/billingd/billingd/internal/apperr"
)

// RequestLog remembers which resource a create with a request_id made. Each
// domain Repository embeds it.
type RequestLog interface {
	// LookupRequest returns the kind and resource id recorded for requestID.
	LookupRequest(ctx context.Context, requestID string) (kind, resourceID string, found bool, err error)
	SaveRequest(ctx context.Context, requestID, kind, resourceID string) error
}

// Store is what CreateOnce needs of a domain Store whose transactions see
// the Repository R: its request log, and a way to run fn in one transaction.
// fn may run more than once when the database asks for a retry.
type Store[R RequestLog] interface {
	RequestLog
	InTx(ctx context.Context, fn func(tx R) error) error
}

// CreateOnce runs create in one transaction and records requestID with the
// id it returns, under kind. A requestID seen before returns the resource
// recorded then, read with get, instead of creating another; one recorded
// under another kind is AlreadyExists. An empty requestID just creates.
func CreateOnce[T any, R RequestLog](ctx context.Context, s Store[R], requestID, kind string,
	create func(tx R) (T, string, error), get func(ctx context.Context, id string) (T, error),
) (T, error) {
	var (
		out      T
		replayID string
	)
	err := s.InTx(ctx, func(tx R) error {
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
