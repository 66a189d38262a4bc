package access

import (
	"context"
	"time"

	"github.com/billingd/billingd/internal/resource"
)

// Actions recorded in the audit trail.
const (
	ActionCreate = "create"
	ActionUpdate = "update"
	ActionDelete = "delete"
	ActionRevoke = "revoke"
)

// AuditEvent records one change: who, when, what, and the resource before
// and after it.
type AuditEvent struct {
	ID           string
	Time         time.Time
	Actor        string // Principal.ID; "" when the change ran without one
	Action       string
	ResourceType string // e.g. "metric", "price", "api_key"
	ResourceID   string // the id, or parent ids and id joined by "/"
	// Before and After are the resource as the domain holds it (nil for a
	// create's Before and a delete's After). The store encodes them as JSON
	// when it writes and returns the JSON (json.RawMessage) when it reads.
	Before, After any
	RequestID     string
}

// AuditLog stores audit events. Each domain Repository embeds it, so an
// event is written by the transaction of the change it records: a change
// that fails or rolls back leaves no event, and no change is left without one.
type AuditLog interface {
	RecordAudit(ctx context.Context, e AuditEvent) error
}

// Record writes one audit event through log, which must be bound to the
// transaction that makes the change. The actor and request id come from ctx.
func Record(ctx context.Context, log AuditLog, at time.Time, action, resourceType, resourceID string, before, after any) error {
	id, err := resource.NewID()
	if err != nil {
		return err
	}
	p, _ := FromContext(ctx)
	return log.RecordAudit(ctx, AuditEvent{
		ID: id, Time: at, Actor: p.ID, Action: action,
		ResourceType: resourceType, ResourceID: resourceID,
		Before: before, After: after, RequestID: RequestID(ctx),
	})
}

// ListAuditEventsParams pages through audit events newest first, filtered
// by every non-zero field; Start is inclusive, End exclusive.
type ListAuditEventsParams struct {
	PageSize     int
	PageToken    string
	ResourceType string
	ResourceID   string
	Actor        string
	Start, End   time.Time
}
