package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// querier is what a pool and a transaction have in common.
type querier interface {
	Begin(ctx context.Context) (pgx.Tx, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// repo implements every domain Repository on a pool or a transaction.
// audit encodes audit snapshots; nil means encoding/json.
type repo struct {
	q     querier
	audit AuditEncoder
}

// exec runs a write that must touch exactly one row; none is NotFound.
func (r *repo) exec(ctx context.Context, o op, t target, sql string, args ...any) error {
	tag, err := r.q.Exec(ctx, sql, args...)
	if err != nil {
		return mapErrFor(err, o, t)
	}
	if tag.RowsAffected() == 0 {
		return mapErrFor(pgx.ErrNoRows, o, t)
	}
	return nil
}

// atomically runs a multi-statement write in a transaction of its own on a
// pool, or in a savepoint inside a caller's transaction.
func (r *repo) atomically(ctx context.Context, fn func(q querier) error) error {
	return pgx.BeginFunc(ctx, r.q, func(tx pgx.Tx) error { return fn(tx) })
}

// nullString stores "" as NULL (optional references, optional unique keys).
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// nullTime stores the zero time (an open end) as NULL.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// utcTime reads a nullable timestamptz as UTC, NULL as the zero time.
func utcTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
