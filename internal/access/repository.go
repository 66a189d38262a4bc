package access

import (
	"context"
	"time"

	"github.com/billingd/billingd/internal/resource"
)

// Repository stores API keys and reads the audit trail. Errors are apperr
// kinds: NotFound for a missing key (also for an unknown hash),
// AlreadyExists for a taken id, Invalid on "page_token" for a bad token.
type Repository interface {
	CreateKey(ctx context.Context, k Key) error
	GetKey(ctx context.Context, id string) (Key, error)
	// KeyByHash finds the key whose SecretHash is hash.
	KeyByHash(ctx context.Context, hash []byte) (Key, error)
	ListKeys(ctx context.Context, p ListKeysParams) ([]Key, string, error)
	// RevokeKey sets the revoke time of a key not revoked yet.
	RevokeKey(ctx context.Context, id string, at time.Time) error
	// HasUsableAdmin reports whether an admin key exists that is neither
	// revoked nor expired at now.
	HasUsableAdmin(ctx context.Context, now time.Time) (bool, error)
	// LockKeys holds a transaction-scoped lock that serialises bootstrap
	// across replicas starting together.
	LockKeys(ctx context.Context) error
	CustomerExists(ctx context.Context, id string) (bool, error)

	ListAuditEvents(ctx context.Context, p ListAuditEventsParams) ([]AuditEvent, string, error)

	AuditLog
	resource.RequestLog
}

// Store is a Repository that can also run several calls in one transaction.
// fn may run more than once when the database asks for a retry, so it must
// have no other side effects.
type Store interface {
	Repository
	InTx(ctx context.Context, fn func(tx Repository) error) error
}
