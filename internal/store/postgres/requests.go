package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
)

const (
	sqlLookupRequest = "SELECT kind, resource_id FROM " + tableIdempotentRequests + " WHERE request_id = $1"
	sqlSaveRequest   = "INSERT INTO " + tableIdempotentRequests + " (request_id, kind, resource_id) VALUES ($1, $2, $3)"
)

// LookupRequest returns what a create with requestID made, if any.
func (r *repo) LookupRequest(ctx context.Context, requestID string) (kind, resourceID string, found bool, err error) {
	err = r.q.QueryRow(ctx, sqlLookupRequest, requestID).Scan(&kind, &resourceID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, mapErr(err)
	}
	return kind, resourceID, true, nil
}

// SaveRequest records what a create with requestID made.
func (r *repo) SaveRequest(ctx context.Context, requestID, kind, resourceID string) error {
	return r.exec(ctx, opWrite, target{"request", requestID}, sqlSaveRequest, requestID, kind, resourceID)
}
