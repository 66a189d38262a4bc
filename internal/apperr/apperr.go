// Package apperr defines the neutral error kinds that services and stores
// return. It must not import gRPC or HTTP: internal/rpc owns the one
// translation from these kinds to transport status codes.
package apperr

import (
	"errors"
	"fmt"
	"strings"
)

// Kind classifies an error for the transport layer.
type Kind int

const (
	KindInternal Kind = iota
	KindInvalid
	KindNotFound
	KindAlreadyExists
	KindFailedPrecondition
	KindUnauthenticated
	KindPermissionDenied
	KindUnavailable
	KindResourceExhausted
	KindUnimplemented
)

func (k Kind) String() string {
	switch k {
	case KindInvalid:
		return "invalid"
	case KindNotFound:
		return "not_found"
	case KindAlreadyExists:
		return "already_exists"
	case KindFailedPrecondition:
		return "failed_precondition"
	case KindUnauthenticated:
		return "unauthenticated"
	case KindPermissionDenied:
		return "permission_denied"
	case KindUnavailable:
		return "unavailable"
	case KindResourceExhausted:
		return "resource_exhausted"
	case KindUnimplemented:
		return "unimplemented"
	default:
		return "internal"
	}
}

// FieldViolation names one invalid input field, with a path in the
// request's own field names (e.g. "price.unit_price").
type FieldViolation struct {
	Field       string
	Description string
}

// Error is an error with a kind and a message safe to show to clients.
type Error struct {
	Kind       Kind
	Message    string
	Violations []FieldViolation
	cause      error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Message)
	for i, v := range e.Violations {
		if i == 0 && e.Message != "" {
			b.WriteString(": ")
		} else if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(v.Field)
		b.WriteString(": ")
		b.WriteString(v.Description)
	}
	return b.String()
}

// Unwrap returns the underlying cause, which is never shown to clients.
func (e *Error) Unwrap() error { return e.cause }

// New returns an error of the given kind.
func New(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error of the given kind whose message is safe for clients
// and whose cause is kept only for logs and errors.Is.
func Wrap(kind Kind, cause error, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...), cause: cause}
}

// NotFound reports that a resource of the given type and id does not exist.
func NotFound(resource, id string) *Error {
	return New(KindNotFound, "%s %q not found", resource, id)
}

// AlreadyExists reports that a resource with this id exists already.
func AlreadyExists(resource, id string) *Error {
	return New(KindAlreadyExists, "%s %q already exists", resource, id)
}

// FailedPrecondition reports a request that is valid but conflicts with the
// current state (an overlapping price window, a group that still has products).
func FailedPrecondition(format string, args ...any) *Error {
	return New(KindFailedPrecondition, format, args...)
}

// Invalid collects field violations. Add problems with Add; Err returns nil
// when there are none, so validation code reads top to bottom.
type Invalid struct{ violations []FieldViolation }

// Add records one violation.
func (v *Invalid) Add(field, format string, args ...any) {
	v.violations = append(v.violations, FieldViolation{Field: field, Description: fmt.Sprintf(format, args...)})
}

// Err returns an InvalidArgument error holding every violation, or nil.
func (v *Invalid) Err() error {
	if len(v.violations) == 0 {
		return nil
	}
	return &Error{Kind: KindInvalid, Message: "invalid request", Violations: v.violations}
}

// InvalidField is a shortcut for a single violation.
func InvalidField(field, format string, args ...any) error {
	var v Invalid
	v.Add(field, format, args...)
	return v.Err()
}

// KindOf returns the kind of err; errors that are not *Error are internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// As returns err as *Error if it is one.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
