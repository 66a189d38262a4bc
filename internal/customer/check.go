package customer

import (
	"maps"
	"regexp"
	"slices"
	"unicode/utf8"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/google/uuid"
)

// Format rules shared by the customer inputs. They repeat the proto's
// protovalidate rules because the domain must not trust the transport.
var (
	idPattern       = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)
	labelKeyPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]{0,63}$`)
)

const (
	maxDisplayNameLen = 200
	maxExternalIDLen  = 128
	maxTimeZoneLen    = 64
	maxLabels         = 64
	maxLabelValueLen  = 256
)

func checkID(v *apperr.Invalid, field, id string, required bool) {
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

func checkText(v *apperr.Invalid, field, s string, required bool, max int) {
	switch {
	case s == "" && required:
		v.Add(field, "is required")
	case utf8.RuneCountInString(s) > max:
		v.Add(field, "must be at most %d characters", max)
	}
}

func checkRequestID(v *apperr.Invalid, id string) {
	if id == "" {
		return
	}
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		v.Add("request_id", "must be a UUID")
	}
}

// fieldMask lists the update_mask paths an entity accepts.
type fieldMask struct {
	mutable   []string
	immutable []string // known paths a client may not change (ids, output-only times)
}

// check adds a violation on "update_mask" for every unknown or immutable path.
func (m fieldMask) check(v *apperr.Invalid, paths []string) {
	for _, p := range paths {
		switch {
		case slices.Contains(m.mutable, p):
		case slices.Contains(m.immutable, p):
			v.Add("update_mask", "field %q cannot be changed", p)
		default:
			v.Add("update_mask", "unknown field %q", p)
		}
	}
}

// effective returns the paths to apply: all mutable ones when none are given.
func (m fieldMask) effective(paths []string) []string {
	if len(paths) == 0 {
		return m.mutable
	}
	return paths
}

// sortedKeys makes violations on maps come out in a stable order.
func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}
