package postgres

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"
	"testing"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestMapErr: kinds come from SQLSTATE (and the op for foreign keys); the
// driver's text never reaches the message, but stays reachable as the cause.
func TestMapErr(t *testing.T) {
	t.Parallel()
	const secret = "DETAIL: Key (id)=(x) secret driver text"
	pg := func(code, constraint string) error {
		return fmt.Errorf("exec: %w", &pgconn.PgError{Code: code, ConstraintName: constraint, Message: secret})
	}
	tgt := target{"price", "l/p"}
	for _, tc := range []struct {
		name string
		err  error
		op   op
		want apperr.Kind
	}{
		{"no rows", pgx.ErrNoRows, opRead, apperr.KindNotFound},
		{"unique", pg("23505", "prices_pkey"), opWrite, apperr.KindAlreadyExists},
		{"named unique", pg("23505", "price_lists_owner_currency_key"), opWrite, apperr.KindAlreadyExists},
		{"fk on write", pg("23503", "prices_product_id_fkey"), opWrite, apperr.KindNotFound},
		{"fk on delete", pg("23503", "prices_product_id_fkey"), opDelete, apperr.KindFailedPrecondition},
		{"exclusion", pg("23P01", "prices_no_overlap"), opWrite, apperr.KindFailedPrecondition},
		{"check", pg("23514", "prices_unit_price_check"), opWrite, apperr.KindInvalid},
		{"serialization", pg("40001", ""), opWrite, apperr.KindUnavailable},
		{"deadlock", pg("40P01", ""), opWrite, apperr.KindUnavailable},
		{"admin shutdown", pg("57P01", ""), opRead, apperr.KindUnavailable},
		{"connection failure", pg("08006", ""), opRead, apperr.KindUnavailable},
		{"refused", fmt.Errorf("connect: %w", syscall.ECONNREFUSED), opRead, apperr.KindUnavailable},
		{"connection closed", fmt.Errorf("query: %w", io.ErrUnexpectedEOF), opRead, apperr.KindUnavailable},
		{"other", pg("42P01", ""), opRead, apperr.KindInternal},
		{"not postgres", errors.New(secret), opRead, apperr.KindInternal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := mapErrFor(tc.err, tc.op, tgt)
			if got := apperr.KindOf(err); got != tc.want {
				t.Fatalf("kind %v, want %v (%v)", got, tc.want, err)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("message leaks driver text: %q", err)
			}
			if tc.err != pgx.ErrNoRows && !errors.Is(err, tc.err) && !errors.Is(err, errors.Unwrap(tc.err)) {
				t.Fatalf("cause lost: %v", err)
			}
		})
	}
	if !retryable(mapErrFor(pg("40001", ""), opWrite, tgt)) || retryable(pg("23505", "")) {
		t.Fatal("retryable must see a serialization failure through the apperr wrapper, and only that")
	}
	if mapErr(nil) != nil {
		t.Fatal("mapErr(nil) != nil")
	}
}

func TestPage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		size      int
		token     string
		wantLimit int
		wantAfter string
		badField  string
	}{
		{0, "", defaultPageSize, "", ""},
		{7, "", 7, "", ""},
		{5000, "", maxPageSize, "", ""},
		{-1, "", 0, "", "page_size"},
		{3, pageToken("g2"), 3, "g2", ""},
		{3, "not base64!", 0, "", "page_token"},
		{3, "_w", 0, "", "page_token"},               // decodes to invalid UTF-8
		{3, pageToken("a\x00"), 0, "", "page_token"}, // PostgreSQL text cannot hold NUL
	} {
		p, err := newPage(tc.size, tc.token)
		if tc.badField != "" {
			e, ok := apperr.As(err)
			if !ok || len(e.Violations) == 0 || e.Violations[0].Field != tc.badField {
				t.Errorf("newPage(%d, %q) = %v, want Invalid on %s", tc.size, tc.token, err, tc.badField)
			}
			continue
		}
		if err != nil || p.limit != tc.wantLimit || p.after != tc.wantAfter {
			t.Errorf("newPage(%d, %q) = %+v, %v; want limit %d after %q", tc.size, tc.token, p, err, tc.wantLimit, tc.wantAfter)
		}
	}
}
