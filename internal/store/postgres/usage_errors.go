package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/billingd/billingd/internal/apperr"
)

// SQLSTATE codes after which a client should simply try again.
const (
	codeAdminShutdown      = "57P01" // pg_terminate_backend, fast shutdown
	codeCrashShutdown      = "57P02"
	codeCannotConnectNow   = "57P03" // starting up, shutting down, in recovery
	codeTooManyConnections = "53300"
	classConnection        = "08"               // connection_exception and its subclasses
	codeNoPartition        = codeCheckViolation // "no partition of relation … found for row"
)

// ingestErr maps an error of the usage write path. Transient failures
// (the connection was lost or cut, the server is shutting down or asked
// for a retry) become Unavailable, so clients resend the batch: idempotency
// keys make that safe even when the commit did happen. connClosed says the
// connection the statement ran on is closed, which marks a non-PostgreSQL
// error as an I/O failure rather than a bug.
func ingestErr(err error, connClosed bool) error {
	if err == nil {
		return nil
	}
	if _, ok := apperr.As(err); ok {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err // the caller gave up; rpc.ToStatus maps these
	}
	if transient(err) || connClosed {
		return apperr.Wrap(apperr.KindUnavailable, err, "database unavailable, retry")
	}
	return mapErr(err)
}

// transient reports whether err is a failure that resending cures.
func transient(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch {
		case pg.Code == codeSerializationFailure, pg.Code == codeDeadlock,
			pg.Code == codeAdminShutdown, pg.Code == codeCrashShutdown, pg.Code == codeCannotConnectNow,
			pg.Code == codeTooManyConnections, len(pg.Code) == 5 && pg.Code[:2] == classConnection:
			return true
		}
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) ||
		errors.Is(err, pgconn.ErrConnClosed) || pgconn.SafeToRetry(err) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNREFUSED)
}

// retryInTx reports whether the server rolled the transaction back and
// asked for it to run again (as opposed to a lost connection, where the
// outcome of a commit is unknown and the client must decide).
func retryInTx(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && (pg.Code == codeSerializationFailure || pg.Code == codeDeadlock)
}

// isNoPartition reports a row routed to a month without a partition: the
// partition cache is stale (someone detached or dropped the month). It is
// recognised by what it is, not by SQLSTATE alone: Citus's COPY reports a
// worker's error as XX000 with the message of the shard (whose name is
// usage_records_<shard id>).
func isNoPartition(err error) bool {
	var pg *pgconn.PgError
	if !errors.As(err, &pg) {
		return false
	}
	return pg.Code == codeNoPartition && pg.TableName == tableUsageRecords ||
		strings.HasPrefix(pg.Message, `no partition of relation "`+tableUsageRecords)
}

// isUniqueViolation reports a duplicate key. Citus's COPY reports the
// shard's unique violation as XX000 with PostgreSQL's message, so the
// message counts as well as SQLSTATE 23505.
func isUniqueViolation(err error) bool {
	var pg *pgconn.PgError
	if !errors.As(err, &pg) {
		return false
	}
	return pg.Code == codeUniqueViolation || strings.HasPrefix(pg.Message, "duplicate key value violates unique constraint")
}
