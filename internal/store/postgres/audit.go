package postgres

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/access"
	"github.com/billingd/billingd/internal/apperr"
)

const (
	tableAuditEvents = "audit_events"
	colsAuditEvent   = "id::text, time, actor, action, resource_type, resource_id, before, after, request_id"

	sqlInsertAuditEvent = "INSERT INTO " + tableAuditEvents + ` (id, time, actor, action, resource_type, resource_id, before, after, request_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`
	// sqlListAuditEvents pages newest first by (time, id); an empty filter
	// argument matches everything.
	sqlListAuditEvents = "SELECT " + colsAuditEvent + " FROM " + tableAuditEvents + `
		WHERE ($1 = '' OR resource_type = $1) AND ($2 = '' OR resource_id = $2) AND ($3 = '' OR actor = $3)
		  AND ($4::timestamptz IS NULL OR time >= $4) AND ($5::timestamptz IS NULL OR time < $5)
		  AND ($6::timestamptz IS NULL OR (time, id) < ($6, $7::uuid))
		ORDER BY time DESC, id DESC LIMIT $8`
)

// AuditEncoder turns the domain value an audit event holds as Before or
// After into the JSON stored in audit_events.
type AuditEncoder func(v any) ([]byte, error)

// SetAuditEncoder makes the store encode audit snapshots with enc instead of
// encoding/json (billingd sets the API's own JSON form, so the trail shows
// resources as clients see them). Call it before the store is used.
func (s *Store) SetAuditEncoder(enc AuditEncoder) { s.repo.audit = enc }

// RecordAudit inserts one audit event.
func (r *repo) RecordAudit(ctx context.Context, e access.AuditEvent) error {
	before, err := r.encodeAudit(e.Before)
	if err != nil {
		return err
	}
	after, err := r.encodeAudit(e.After)
	if err != nil {
		return err
	}
	return r.exec(ctx, opWrite, target{"audit event", e.ID}, sqlInsertAuditEvent,
		e.ID, e.Time, e.Actor, e.Action, e.ResourceType, e.ResourceID, before, after, e.RequestID)
}

// encodeAudit returns the JSON of v for a jsonb column, nil for NULL.
func (r *repo) encodeAudit(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	enc := r.audit
	if enc == nil {
		enc = json.Marshal
	}
	b, err := enc(v)
	if err != nil {
		return nil, apperr.Wrap(apperr.KindInternal, err, "cannot record the change in the audit trail")
	}
	return string(b), nil
}

// ListAuditEvents reads one page of audit events, newest first.
func (r *repo) ListAuditEvents(ctx context.Context, p access.ListAuditEventsParams) ([]access.AuditEvent, string, error) {
	size, after, err := auditPage(p.PageSize, p.PageToken)
	if err != nil {
		return nil, "", err
	}
	var afterTime *time.Time
	afterID := "00000000-0000-0000-0000-000000000000"
	if after != nil {
		afterTime, afterID = &after.time, after.id
	}
	rows, err := r.q.Query(ctx, sqlListAuditEvents, p.ResourceType, p.ResourceID, p.Actor,
		nullTime(p.Start), nullTime(p.End), afterTime, afterID, size+1)
	if err != nil {
		return nil, "", mapErr(err)
	}
	events, err := pgx.CollectRows(rows, scanAuditEvent)
	if err != nil {
		return nil, "", mapErr(err)
	}
	if len(events) <= size {
		return events, "", nil
	}
	events = events[:size]
	last := events[len(events)-1]
	return events, auditToken(last.Time, last.ID), nil
}

func scanAuditEvent(row pgx.CollectableRow) (access.AuditEvent, error) {
	var (
		e             access.AuditEvent
		before, after []byte
	)
	if err := row.Scan(&e.ID, &e.Time, &e.Actor, &e.Action, &e.ResourceType, &e.ResourceID, &before, &after, &e.RequestID); err != nil {
		return e, err
	}
	e.Time = e.Time.UTC()
	if before != nil {
		e.Before = json.RawMessage(before)
	}
	if after != nil {
		e.After = json.RawMessage(after)
	}
	return e, nil
}

// auditCursor is where a page of audit events ends.
type auditCursor struct {
	time time.Time
	id   string
}

// auditPage decodes a page size and token. The token is base64url of the
// last event's time (RFC 3339, nanoseconds) and id, opaque to clients.
func auditPage(size int, token string) (int, *auditCursor, error) {
	var v apperr.Invalid
	switch {
	case size < 0:
		v.Add("page_size", "must be ≥ 0")
	case size == 0:
		size = defaultPageSize
	case size > maxPageSize:
		size = maxPageSize
	}
	var c *auditCursor
	if token != "" {
		c = &auditCursor{}
		b, err := base64.RawURLEncoding.DecodeString(token)
		ts, id, ok := strings.Cut(string(b), " ")
		t, terr := time.Parse(time.RFC3339Nano, ts)
		if _, uerr := uuid.Parse(id); err != nil || !ok || terr != nil || uerr != nil || len(id) != 36 {
			v.Add("page_token", "is not a token this server issued")
		}
		c.time, c.id = t, id
	}
	return size, c, v.Err()
}

func auditToken(t time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(t.UTC().Format(time.RFC3339Nano) + " " + id))
}
