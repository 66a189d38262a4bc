package pricing

import (
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/money"
	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// Format rules shared by the pricing inputs. They repeat the proto's
// protovalidate rules because the domain must not trust the transport.
var (
	idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)
)

const (
	maxDisplayNameLen = 200
	maxTiers          = 32
	maxEntries        = 1000
	maxPriority       = 1_000_000
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

// checkCurrency accepts upper-case ISO 4217 codes the money package knows.
func checkCurrency(v *apperr.Invalid, field, code string) {
	switch _, ok := money.Lookup(code); {
	case code == "":
		v.Add(field, "is required")
	case code != strings.ToUpper(code):
		v.Add(field, "must be an upper-case ISO 4217 code, e.g. %q", strings.ToUpper(code))
	case !ok:
		v.Add(field, "unknown ISO 4217 currency %q", code)
	}
}

func checkNonNegative(v *apperr.Invalid, field string, d decimal.Decimal) {
	if d.IsNegative() {
		v.Add(field, "must be ≥ 0")
	}
}

// checkWindow checks a half-open [from, to) window; a zero to is open unless
// toRequired.
func checkWindow(v *apperr.Invalid, fromField, toField string, from, to time.Time, toRequired bool) {
	if from.IsZero() {
		v.Add(fromField, "is required")
	}
	switch {
	case to.IsZero() && toRequired:
		v.Add(toField, "is required")
	case !to.IsZero() && !from.IsZero() && !to.After(from):
		v.Add(toField, "must be after %s", fromField)
	}
}
