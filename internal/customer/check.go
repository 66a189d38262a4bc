package customer

import "regexp"

// Format rules of the customer inputs (ids, text, request ids and masks are
// checked by package resource). They repeat the proto's protovalidate rules
// because the domain must not trust the transport.
var labelKeyPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]{0,63}$`)

const (
	maxDisplayNameLen = 200
	maxExternalIDLen  = 128
	maxTimeZoneLen    = 64
	maxLabels         = 64
	maxLabelValueLen  = 256
)
