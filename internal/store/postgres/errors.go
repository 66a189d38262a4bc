package postgres

import (
	"errors"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// SQLSTATE codes the store reacts to
// (https://www.postgresql.org/docs/current/errcodes-appendix.html).
const (
	codeUniqueViolation      = "23505"
	codeForeignKeyViolation  = "23503"
	codeExclusionViolation   = "23P01"
	codeCheckViolation       = "23514"
	codeNotNullViolation     = "23502"
	codeSerializationFailure = "40001"
	codeDeadlock             = "40P01"
)

// op says what a statement was doing, which decides what a violated foreign
// key means: a missing referenced row on a write, a row still referenced on
// a delete.
type op int

const (
	opRead op = iota
	opWrite
	opDelete
)

// target names the row a statement was about, for messages.
type target struct {
	resource string // "metric", "price"
	id       string
}

// mapErr turns a driver error into an apperr error with a message safe for
// clients; the driver error stays the cause, for logs and errors.Is. It
// decides by SQLSTATE and constraint name, never by message text.
func mapErr(err error) error { return mapErrFor(err, opRead, target{}) }

func mapErrFor(err error, o op, t target) error {
	if err == nil {
		return nil
	}
	if _, ok := apperr.As(err); ok {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return apperr.NotFound(t.resource, t.id)
	}
	if retryInTx(err) {
		return apperr.Wrap(apperr.KindUnavailable, err, "concurrent update, retry")
	}
	if transient(err) {
		// A lost connection, a server going down or asking for a retry:
		// the request was fine, the database is not; the client retries.
		return apperr.Wrap(apperr.KindUnavailable, err, "database unavailable, retry")
	}
	var pg *pgconn.PgError
	if !errors.As(err, &pg) {
		return apperr.Wrap(apperr.KindInternal, err, "database error")
	}
	switch pg.Code {
	case codeUniqueViolation:
		if msg, ok := uniqueMessages[pg.ConstraintName]; ok {
			return apperr.Wrap(apperr.KindAlreadyExists, err, "%s", msg)
		}
		return apperr.Wrap(apperr.KindAlreadyExists, err, "%s %q already exists", t.resource, t.id)
	case codeForeignKeyViolation:
		if o == opDelete {
			return apperr.Wrap(apperr.KindFailedPrecondition, err, "%s %q is still referred to", t.resource, t.id)
		}
		return apperr.Wrap(apperr.KindNotFound, err, "%s %q refers to a resource that does not exist", t.resource, t.id)
	case codeExclusionViolation:
		return apperr.Wrap(apperr.KindFailedPrecondition, err, "%s %q: %s", t.resource, t.id, exclusionMessages[pg.ConstraintName])
	case codeCheckViolation, codeNotNullViolation:
		// The domain validates first; reaching this means domain and schema disagree.
		return apperr.Wrap(apperr.KindInvalid, err, "%s %q violates a data constraint", t.resource, t.id)
	}
	return apperr.Wrap(apperr.KindInternal, err, "database error")
}

// Messages for named constraints, so that a race the service's own checks
// could not see still gets a useful message.
var (
	uniqueMessages = map[string]string{
		"customers_external_id_key":      "another customer has this external_id",
		"price_lists_owner_currency_key": "the owner already has a price list in this currency",
		"campaign_entries_pkey":          "a campaign lists a product twice",
		"idempotent_requests_pkey":       "request_id was already used",
	}
	exclusionMessages = map[string]string{
		"prices_no_overlap":    "its window overlaps another price of the same list and product",
		"contracts_no_overlap": "its window overlaps another contract of the same customer and product",
	}
)
