package pricing

import (
	"strings"
	"time"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/money"
	"github.com/billingd/billingd/internal/resource"
	"github.com/shopspring/decimal"
)

// Limits of the pricing inputs (ids, text, request ids and masks are
// checked by package resource). They repeat the proto's protovalidate rules
// because the domain must not trust the transport.
const (
	maxDisplayNameLen = 200
	maxTiers          = 32
	maxEntries        = 1000
	maxPriority       = 1_000_000
)

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
	} else {
		resource.CheckInstant(v, fromField, from)
	}
	if !to.IsZero() {
		resource.CheckInstant(v, toField, to)
	}
	switch {
	case to.IsZero() && toRequired:
		v.Add(toField, "is required")
	case !to.IsZero() && !from.IsZero() && !to.After(from):
		v.Add(toField, "must be after %s", fromField)
	}
}
