package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/access"
)

const (
	tableAPIKeys = "api_keys"
	colsAPIKey   = "id, display_name, role, COALESCE(customer_id, ''), sources, sites, secret_hash, secret_prefix, expire_time, create_time, revoke_time"

	// keysLockKey is the pg_advisory_xact_lock key that serialises making
	// the bootstrap admin key across replicas ("billkeys" in ASCII).
	keysLockKey int64 = 0x62696c6c6b657973
)

const (
	sqlInsertKey = "INSERT INTO " + tableAPIKeys + " (" + `id, display_name, role, customer_id, sources, sites,
		secret_hash, secret_prefix, expire_time, create_time, revoke_time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`
	sqlGetKey         = "SELECT " + colsAPIKey + " FROM " + tableAPIKeys + " WHERE id = $1"
	sqlKeyByHash      = "SELECT " + colsAPIKey + " FROM " + tableAPIKeys + " WHERE secret_hash = $1"
	sqlListKeys       = "SELECT " + colsAPIKey + " FROM " + tableAPIKeys + " WHERE id > $1 AND ($2 OR revoke_time IS NULL) ORDER BY id LIMIT $3"
	sqlRevokeKey      = "UPDATE " + tableAPIKeys + " SET revoke_time = $2 WHERE id = $1 AND revoke_time IS NULL"
	sqlHasUsableAdmin = "SELECT EXISTS (SELECT 1 FROM " + tableAPIKeys + " WHERE role = 'admin' AND revoke_time IS NULL AND (expire_time IS NULL OR expire_time > $1))"
	sqlLockKeys       = "SELECT pg_advisory_xact_lock($1)"
)

// Access returns the store as an access.Store.
func (s *Store) Access() access.Store { return accessStore{s} }

// Access returns the access repository bound to the transaction.
func (t *Tx) Access() access.Repository { return &t.repo }

type accessStore struct{ *Store }

func (s accessStore) InTx(ctx context.Context, fn func(access.Repository) error) error {
	return s.Store.InTx(ctx, func(tx *Tx) error { return fn(tx.Access()) })
}

var (
	_ access.Store      = accessStore{}
	_ access.Repository = (*repo)(nil)
)

func scanKey(row pgx.CollectableRow) (access.Key, error) {
	var (
		k              access.Key
		role           string
		expire, revoke *time.Time
	)
	err := row.Scan(&k.ID, &k.DisplayName, &role, &k.CustomerID, &k.Sources, &k.Sites,
		&k.SecretHash, &k.SecretPrefix, &expire, &k.CreateTime, &revoke)
	if err != nil {
		return k, err
	}
	k.Role, _ = access.ParseRole(role) // the CHECK constraint admits only known roles
	k.ExpireTime, k.RevokeTime, k.CreateTime = utcTime(expire), utcTime(revoke), k.CreateTime.UTC()
	if len(k.Sources) == 0 {
		k.Sources = nil
	}
	if len(k.Sites) == 0 {
		k.Sites = nil
	}
	return k, nil
}

// CreateKey inserts a key.
func (r *repo) CreateKey(ctx context.Context, k access.Key) error {
	return r.exec(ctx, opWrite, target{"api key", k.ID}, sqlInsertKey,
		k.ID, k.DisplayName, k.Role.String(), nullString(k.CustomerID), nonNil(k.Sources), nonNil(k.Sites),
		k.SecretHash, k.SecretPrefix, nullTime(k.ExpireTime), k.CreateTime, nullTime(k.RevokeTime))
}

// GetKey reads a key by id.
func (r *repo) GetKey(ctx context.Context, id string) (access.Key, error) {
	rows, _ := r.q.Query(ctx, sqlGetKey, id)
	k, err := pgx.CollectExactlyOneRow(rows, scanKey)
	return k, mapErrFor(err, opRead, target{"api key", id})
}

// KeyByHash reads the key with this secret hash; NotFound names no key.
func (r *repo) KeyByHash(ctx context.Context, hash []byte) (access.Key, error) {
	rows, _ := r.q.Query(ctx, sqlKeyByHash, hash)
	k, err := pgx.CollectExactlyOneRow(rows, scanKey)
	return k, mapErrFor(err, opRead, target{"api key", "(by secret)"})
}

// ListKeys reads one page of keys in id order.
func (r *repo) ListKeys(ctx context.Context, p access.ListKeysParams) ([]access.Key, string, error) {
	pg, err := newPage(p.PageSize, p.PageToken)
	if err != nil {
		return nil, "", err
	}
	rows, err := r.q.Query(ctx, sqlListKeys, pg.after, p.IncludeRevoked, pg.limit+1)
	return collectPage(rows, err, pg, scanKey, func(k access.Key) string { return k.ID })
}

// RevokeKey sets the revoke time of a key that is not revoked yet.
func (r *repo) RevokeKey(ctx context.Context, id string, at time.Time) error {
	return r.exec(ctx, opWrite, target{"api key", id}, sqlRevokeKey, id, at)
}

// HasUsableAdmin reports whether an unrevoked, unexpired admin key exists.
func (r *repo) HasUsableAdmin(ctx context.Context, now time.Time) (bool, error) {
	var ok bool
	err := r.q.QueryRow(ctx, sqlHasUsableAdmin, now).Scan(&ok)
	return ok, mapErr(err)
}

// LockKeys takes the bootstrap lock until the transaction ends.
func (r *repo) LockKeys(ctx context.Context) error {
	_, err := r.q.Exec(ctx, sqlLockKeys, keysLockKey)
	return mapErr(err)
}

// nonNil stores a nil list as an empty array (the columns are NOT NULL).
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
