package rpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/billingd/billingd/internal/apperr"
)

func TestToStatusMapsEveryKind(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cases := []struct {
		err  error
		want codes.Code
	}{
		{apperr.NotFound("product", "p1"), codes.NotFound},
		{apperr.AlreadyExists("product", "p1"), codes.AlreadyExists},
		{apperr.FailedPrecondition("overlaps price %q", "oct"), codes.FailedPrecondition},
		{apperr.InvalidField("unit_price", "must be non-negative"), codes.InvalidArgument},
		{apperr.New(apperr.KindUnauthenticated, "no key"), codes.Unauthenticated},
		{apperr.New(apperr.KindPermissionDenied, "reader"), codes.PermissionDenied},
		{apperr.New(apperr.KindUnavailable, "database unavailable"), codes.Unavailable},
		{apperr.New(apperr.KindResourceExhausted, "too many"), codes.ResourceExhausted},
		{fmt.Errorf("wrapped: %w", apperr.NotFound("customer", "c")), codes.NotFound},
		{context.Canceled, codes.Canceled},
		{fmt.Errorf("query: %w", context.DeadlineExceeded), codes.DeadlineExceeded},
		{status.Error(codes.Aborted, "as is"), codes.Aborted},
	}
	for _, c := range cases {
		if got := status.Code(ToStatus(context.Background(), log, c.err)); got != c.want {
			t.Errorf("ToStatus(%v) = %v, want %v", c.err, got, c.want)
		}
	}
	if ToStatus(context.Background(), log, nil) != nil {
		t.Error("ToStatus(nil) != nil")
	}
}

func TestToStatusHidesInternalText(t *testing.T) {
	var logged strings.Builder
	log := slog.New(slog.NewTextHandler(&logged, nil))
	driver := errors.New(`ERROR: relation "prices" does not exist (SQLSTATE 42P01)`)
	for _, err := range []error{driver, apperr.Wrap(apperr.KindInternal, driver, "cannot read prices")} {
		st := status.Convert(ToStatus(context.Background(), log, err))
		if st.Code() != codes.Internal || st.Message() != "internal error" {
			t.Errorf("got %v %q, want Internal with no detail", st.Code(), st.Message())
		}
	}
	if !strings.Contains(logged.String(), "42P01") {
		t.Error("the cause was not logged")
	}
}

func TestToStatusCarriesFieldViolations(t *testing.T) {
	var inv apperr.Invalid
	inv.Add("unit_price", "must be non-negative")
	inv.Add("tiers[1].up_to", "must be greater than tiers[0].up_to")
	st := status.Convert(ToStatus(context.Background(), slog.Default(), within("price", inv.Err())))
	var got []string
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, fv := range br.GetFieldViolations() {
				got = append(got, fv.GetField()+": "+fv.GetDescription())
			}
		}
	}
	want := "price.unit_price: must be non-negative|price.tiers[1].up_to: must be greater than tiers[0].up_to"
	if strings.Join(got, "|") != want {
		t.Errorf("violations = %q, want %q", got, want)
	}
	if !strings.Contains(st.Message(), "price.unit_price") {
		t.Errorf("message %q should name the field too", st.Message())
	}
}

// TestToStatusLogsTheWrappedCause: the log line of an internal or
// unavailable error carries the driver's text behind the client-safe
// message, whichever way the error was wrapped; the client never sees it.
func TestToStatusLogsTheWrappedCause(t *testing.T) {
	driver := errors.New(`ERROR: relation "prices" does not exist (SQLSTATE 42P01)`)
	for _, err := range []error{
		apperr.Wrap(apperr.KindInternal, driver, "database error"),
		fmt.Errorf("list prices: %w", apperr.Wrap(apperr.KindInternal, driver, "database error")),
		apperr.Wrap(apperr.KindUnavailable, driver, "database unavailable, retry"),
	} {
		var logged strings.Builder
		st := status.Convert(ToStatus(context.Background(), slog.New(slog.NewTextHandler(&logged, nil)), err))
		if !strings.Contains(logged.String(), "42P01") {
			t.Errorf("%v: log %q lacks the cause", err, logged.String())
		}
		if strings.Contains(st.Message(), "42P01") {
			t.Errorf("%v: the client sees the cause: %q", err, st.Message())
		}
	}
}
