package gateway

import (
	"context"
	"net/http"
	"regexp"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The gateway reports a body or query parameter it cannot decode as a bare
// InvalidArgument with the decoder's text: protojson's (whose space after
// "proto:" is at times a no-break space, on purpose) or its own query
// parser's. These expressions find the field in that text.
var (
	jsonError   = regexp.MustCompile(`^proto:[\s\x{00a0}]+(?:syntax error[\s\x{00a0}]+)?\(line (\d+):(\d+)\):[\s\x{00a0}]+(.*)$`)
	enumValue   = regexp.MustCompile(`^invalid value for enum field (\w+): (.*)$`)
	typedValue  = regexp.MustCompile(`^invalid value for (\w+) field (\w+): (.*)$`)
	namedField  = regexp.MustCompile(`^(unknown|duplicate) field "([^"]*)"$`)
	queryError  = regexp.MustCompile(`^parsing field "([^"]*)": (.*)$`)
	proseErrors = map[string]string{"unknown": "is not a field of this request", "duplicate": "is given twice"}
)

// decodeViolation names the field and the problem of a decoding error the
// gateway made, or returns ok false for any other error.
func decodeViolation(msg string) (field, desc string, ok bool) {
	if m := queryError.FindStringSubmatch(msg); m != nil {
		return m[1], "cannot be read: " + m[2], true
	}
	if msg == "unexpected EOF" || strings.HasSuffix(msg, "unexpected EOF") && strings.HasPrefix(msg, "proto:") {
		return "body", "is not valid JSON: it ends too early", true
	}
	m := jsonError.FindStringSubmatch(msg)
	if m == nil {
		return "", "", false
	}
	at, what := "line "+m[1]+", column "+m[2], m[3]
	if e := enumValue.FindStringSubmatch(what); e != nil {
		return e[1], "unknown value " + e[2] + " (" + at + "); see the enum's values in /openapi.json", true
	}
	if e := typedValue.FindStringSubmatch(what); e != nil {
		return e[2], "must be a " + e[1] + ", not " + e[3] + " (" + at + ")", true
	}
	if e := namedField.FindStringSubmatch(what); e != nil {
		return e[2], proseErrors[e[1]] + " (" + at + ")", true
	}
	return "body", "is not valid JSON for this request: " + what + " (" + at + ")", true
}

// errorHandler is the gateway's error handler, adding a BadRequest that
// names the field to the errors of decoding a request (which come without
// details), so that they read like every other validation error.
func errorHandler(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	if st, ok := status.FromError(err); ok && st.Code() == codes.InvalidArgument && len(st.Details()) == 0 {
		if field, desc, ok := decodeViolation(st.Message()); ok {
			withField := status.New(codes.InvalidArgument, field+": "+desc)
			if d, derr := withField.WithDetails(&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: field, Description: desc}}}); derr == nil {
				err = d.Err()
			}
		}
	}
	runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, err)
}
