package resource

import (
	"regexp"
	"slices"
	"unicode/utf8"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/google/uuid"
)

// idPattern is the format of every resource id. It repeats the proto's
// protovalidate rule because the domain must not trust the transport.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)

// CheckID adds a violation on field unless id is a well-formed resource id;
// an empty id is a violation only when required.
func CheckID(v *apperr.Invalid, field, id string, required bool) {
	if id == "" {
		if required {
			v.Add(field, "is required")
		}
		return
	}
	if !idPattern.MatchString(id) {
		v.Add(field, "must match %s", idPattern)
	}
}

// CheckText adds a violation on field when s is empty but required, or
// longer than max characters (runes, not bytes).
func CheckText(v *apperr.Invalid, field, s string, required bool, max int) {
	switch {
	case s == "" && required:
		v.Add(field, "is required")
	case utf8.RuneCountInString(s) > max:
		v.Add(field, "must be at most %d characters", max)
	}
}

// CheckRequestID adds a violation on "request_id" unless id is empty or a
// UUID in its canonical 36-character form.
func CheckRequestID(v *apperr.Invalid, id string) {
	if id == "" {
		return
	}
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		v.Add("request_id", "must be a UUID")
	}
}

// FieldMask lists the update_mask paths (snake_case) an entity accepts.
type FieldMask struct {
	Mutable   []string
	Immutable []string // known paths a client may not change (ids, output-only times)
}

// Check adds a violation on "update_mask" for every unknown or immutable path.
func (m FieldMask) Check(v *apperr.Invalid, paths []string) {
	for _, p := range paths {
		switch {
		case slices.Contains(m.Mutable, p):
		case slices.Contains(m.Immutable, p):
			v.Add("update_mask", "field %q cannot be changed", p)
		default:
			v.Add("update_mask", "unknown field %q", p)
		}
	}
}

// Effective returns the paths to apply: all mutable ones when none are given.
func (m FieldMask) Effective(paths []string) []string {
	if len(paths) == 0 {
		return m.Mutable
	}
	return paths
}
