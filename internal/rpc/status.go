package rpc

import (
	"context"
	"errors"
	"log/slog"

	"buf.build/go/protovalidate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/billingd/billingd/internal/apperr"
)

// kindCodes is the one mapping from domain error kinds to gRPC codes. The
// gateway maps the codes on to HTTP (InvalidArgument 400, NotFound 404,
// AlreadyExists 409, FailedPrecondition 400, PermissionDenied 403,
// Unauthenticated 401, Unavailable 503, ResourceExhausted 429).
var kindCodes = map[apperr.Kind]codes.Code{
	apperr.KindInvalid:            codes.InvalidArgument,
	apperr.KindNotFound:           codes.NotFound,
	apperr.KindAlreadyExists:      codes.AlreadyExists,
	apperr.KindFailedPrecondition: codes.FailedPrecondition,
	apperr.KindUnauthenticated:    codes.Unauthenticated,
	apperr.KindPermissionDenied:   codes.PermissionDenied,
	apperr.KindUnavailable:        codes.Unavailable,
	apperr.KindResourceExhausted:  codes.ResourceExhausted,
	apperr.KindUnimplemented:      codes.Unimplemented,
}

// ToStatus turns any error from a service into a gRPC status. Domain errors
// keep their message and field violations; anything else is logged and
// becomes a bare Internal so driver or library text never reaches clients.
func ToStatus(ctx context.Context, log *slog.Logger, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "request canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	}
	e, ok := apperr.As(err)
	if !ok || e.Kind == apperr.KindInternal {
		log.ErrorContext(ctx, "internal error", withCause(err, e)...)
		return status.Error(codes.Internal, "internal error")
	}
	if e.Kind == apperr.KindUnavailable {
		log.WarnContext(ctx, "unavailable", withCause(err, e)...)
	}
	st := status.New(kindCodes[e.Kind], e.Error())
	if len(e.Violations) == 0 {
		return st.Err()
	}
	br := &errdetails.BadRequest{}
	for _, v := range e.Violations {
		br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: v.Field, Description: v.Description})
	}
	if withDetails, derr := st.WithDetails(br); derr == nil {
		st = withDetails
	}
	return st.Err()
}

// violationMessage is the violation's message, in words where the rule is
// a regular expression.
func violationMessage(v *protovalidate.Violation) string {
	if v.Proto.GetRuleId() == "string.pattern" && v.RuleValue.IsValid() {
		if msg, ok := patternMessages[v.RuleValue.String()]; ok {
			return msg
		}
	}
	return v.Proto.GetMessage()
}

// withCause is the log attributes of err: its client-safe text and, when
// it wraps one, the cause it keeps for the log (a driver error), which
// err's own text leaves out.
func withCause(err error, e *apperr.Error) []any {
	args := []any{"err", err}
	if e != nil && e.Unwrap() != nil {
		args = append(args, "cause", e.Unwrap())
	}
	return args
}

// validate checks m against its protovalidate rules and for NUL in text,
// and returns every problem as one InvalidArgument, the same shape as
// domain validation: a BadRequest field violation per problem, with the
// field's path in the request.
func validate(v protovalidate.Validator, m proto.Message) error {
	var inv apperr.Invalid
	if err := v.Validate(m); err != nil {
		var verr *protovalidate.ValidationError
		if !errors.As(err, &verr) {
			return status.Error(codes.Internal, "request validation failed to run")
		}
		for _, v := range verr.Violations {
			field := protovalidate.FieldPathString(v.Proto.GetField())
			if field == "" {
				field = v.Proto.GetRuleId()
			}
			inv.Add(field, "%s", violationMessage(v))
		}
	}
	addNULs(&inv, m.ProtoReflect(), "")
	return ToStatus(context.Background(), slog.Default(), inv.Err())
}

var errPanic = errors.New("handler panicked")
