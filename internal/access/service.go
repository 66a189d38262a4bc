package access

import (
	"context"
	"time"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/clock"
	"github.com/billingd/billingd/internal/resource"
)

const (
	kindKey = "api_key"
	// BootstrapKeyName is the display name of keys made at start.
	BootstrapKeyName = "bootstrap admin"
)

// Service manages API keys, authenticates secrets and reads the audit trail.
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

func (s *Service) now() time.Time { return resource.Now(s.clock) }

// CreateKey creates a key and returns it with its secret, which is shown
// this once: only its hash is stored. A request id used before is
// AlreadyExists, because the first call's secret cannot be shown again.
func (s *Service) CreateKey(ctx context.Context, in CreateKeyInput) (Key, string, error) {
	if err := in.Validate(); err != nil {
		return Key{}, "", err
	}
	if exp := in.Key.ExpireTime; !exp.IsZero() && !exp.After(s.now()) {
		return Key{}, "", apperr.InvalidField("expire_time", "must be in the future (it is %s)", exp.UTC().Format(time.RFC3339))
	}
	secret, err := NewSecret()
	if err != nil {
		return Key{}, "", apperr.Wrap(apperr.KindInternal, err, "cannot generate a secret")
	}
	k := in.Key
	if k.ID == "" {
		if k.ID, err = resource.NewID(); err != nil {
			return Key{}, "", err
		}
	}
	k.SecretHash, k.SecretPrefix = HashSecret(secret), shownPrefix(secret)
	k.CreateTime, k.RevokeTime = s.now(), time.Time{}
	k.ExpireTime = utc(k.ExpireTime)
	err = s.store.InTx(ctx, func(tx Repository) error {
		if in.RequestID != "" {
			_, id, found, err := tx.LookupRequest(ctx, in.RequestID)
			if err != nil {
				return err
			}
			if found {
				return apperr.New(apperr.KindAlreadyExists, "request_id was already used to create %q; its secret was shown once and cannot be shown again: revoke that key if the secret is lost", id)
			}
		}
		if k.CustomerID != "" {
			ok, err := tx.CustomerExists(ctx, k.CustomerID)
			if err != nil {
				return err
			}
			if !ok {
				return apperr.NotFound("customer", k.CustomerID)
			}
		}
		if err := tx.CreateKey(ctx, k); err != nil {
			return err
		}
		if in.RequestID != "" {
			if err := tx.SaveRequest(ctx, in.RequestID, kindKey, k.ID); err != nil {
				return err
			}
		}
		return Record(ctx, tx, k.CreateTime, ActionCreate, kindKey, k.ID, nil, k)
	})
	if err != nil {
		return Key{}, "", err
	}
	return k, secret, nil
}

// GetKey returns the key with this id.
func (s *Service) GetKey(ctx context.Context, id string) (Key, error) {
	return s.store.GetKey(ctx, id)
}

// ListKeys returns one page of keys in id order and the next page's token.
func (s *Service) ListKeys(ctx context.Context, p ListKeysParams) ([]Key, string, error) {
	return s.store.ListKeys(ctx, p)
}

// RevokeKey makes a key unusable from now on; it stays listed (with
// IncludeRevoked) for the audit trail. Revoking a revoked key changes
// nothing and returns it as it is.
func (s *Service) RevokeKey(ctx context.Context, id string) (Key, error) {
	var out Key
	err := s.store.InTx(ctx, func(tx Repository) error {
		cur, err := tx.GetKey(ctx, id)
		if err != nil {
			return err
		}
		out = cur
		if !cur.RevokeTime.IsZero() {
			return nil
		}
		out.RevokeTime = s.now()
		if err := tx.RevokeKey(ctx, id, out.RevokeTime); err != nil {
			return err
		}
		return Record(ctx, tx, out.RevokeTime, ActionRevoke, kindKey, id, cur, out)
	})
	return out, err
}

// Authenticate returns the principal of a bearer secret: Unauthenticated
// for an unknown, revoked or expired key.
func (s *Service) Authenticate(ctx context.Context, secret string) (Principal, error) {
	if secret == "" || len(secret) > maxSecretLen {
		return Principal{}, errInvalidKey
	}
	k, err := s.store.KeyByHash(ctx, HashSecret(secret))
	if apperr.KindOf(err) == apperr.KindNotFound {
		return Principal{}, errInvalidKey
	}
	if err != nil {
		return Principal{}, err
	}
	if err := k.Usable(s.clock.Now()); err != nil {
		return Principal{}, err
	}
	return k.Principal(), nil
}

var errInvalidKey = apperr.New(apperr.KindUnauthenticated, "invalid API key")

// EnsureKey makes secret an admin key (the --bootstrap-admin-key flag) and
// reports whether it created one. A key with this secret that exists
// already is left as it is, even when revoked: revocation wins over a flag
// that was not changed; give another secret to regain access.
func (s *Service) EnsureKey(ctx context.Context, secret string) (Key, bool, error) {
	if len(secret) < MinBootstrapSecretLen {
		return Key{}, false, apperr.InvalidField("bootstrap_admin_key", "must be at least %d characters", MinBootstrapSecretLen)
	}
	hash := HashSecret(secret)
	var (
		out     Key
		created bool
	)
	err := s.store.InTx(ctx, func(tx Repository) error {
		if err := tx.LockKeys(ctx); err != nil {
			return err
		}
		k, err := tx.KeyByHash(ctx, hash)
		if err == nil {
			out, created = k, false
			return nil
		}
		if apperr.KindOf(err) != apperr.KindNotFound {
			return err
		}
		out, err = s.createBootstrap(ctx, tx, secret)
		created = err == nil
		return err
	})
	return out, created, err
}

// EnsureAdmin creates an admin key when no usable one exists and returns
// its secret (to be shown once), or "" when an admin key exists. Replicas
// starting together serialise on a lock, so at most one key is made.
func (s *Service) EnsureAdmin(ctx context.Context) (Key, string, error) {
	var (
		out    Key
		secret string
	)
	err := s.store.InTx(ctx, func(tx Repository) error {
		out, secret = Key{}, ""
		if err := tx.LockKeys(ctx); err != nil {
			return err
		}
		ok, err := tx.HasUsableAdmin(ctx, s.clock.Now())
		if err != nil || ok {
			return err
		}
		if secret, err = NewSecret(); err != nil {
			return apperr.Wrap(apperr.KindInternal, err, "cannot generate a secret")
		}
		out, err = s.createBootstrap(ctx, tx, secret)
		return err
	})
	if err != nil {
		return Key{}, "", err
	}
	return out, secret, nil
}

func (s *Service) createBootstrap(ctx context.Context, tx Repository, secret string) (Key, error) {
	id, err := resource.NewID()
	if err != nil {
		return Key{}, err
	}
	k := Key{
		ID: "bootstrap-" + id, DisplayName: BootstrapKeyName, Role: RoleAdmin,
		SecretHash: HashSecret(secret), SecretPrefix: shownPrefix(secret), CreateTime: s.now(),
	}
	if err := tx.CreateKey(ctx, k); err != nil {
		return Key{}, err
	}
	return k, Record(WithPrincipal(ctx, System), tx, k.CreateTime, ActionCreate, kindKey, k.ID, nil, k)
}

// ListAuditEvents returns one page of audit events, newest first.
func (s *Service) ListAuditEvents(ctx context.Context, p ListAuditEventsParams) ([]AuditEvent, string, error) {
	if !p.Start.IsZero() && !p.End.IsZero() && !p.End.After(p.Start) {
		return nil, "", apperr.InvalidField("end_time", "must be after start_time")
	}
	return s.store.ListAuditEvents(ctx, p)
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return resource.Timestamp(t)
}
