package resource

import (
	"time"

	"github.com/billingd/billingd/internal/apperr"
)

// The instants billingd rates lie in [FirstInstant, EndInstant), the range
// of the rating engine (internal/rating). Every time a client sets on a
// price, campaign, contract or query, and every month it names, must lie
// in it, so that all paths refuse the same inputs with the same words.
var (
	FirstInstant = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	EndInstant   = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// boundsText says the bounds in violations.
const boundsText = "must lie between 1970-01-01 and 2200-01-01 (UTC)"

// CheckInstant adds a violation on field when t lies outside
// [FirstInstant, EndInstant).
func CheckInstant(v *apperr.Invalid, field string, t time.Time) {
	if t.Before(FirstInstant) || !t.Before(EndInstant) {
		v.Add(field, "%s", boundsText)
	}
}

// monthLayout is how clients name a month: "2026-10".
const monthLayout = "2006-01"

// CheckMonth adds a violation on field unless month is a month like
// "2026-10" from 1970-01 to 2199-12, and returns its first day (UTC).
func CheckMonth(v *apperr.Invalid, field, month string) time.Time {
	m, err := time.Parse(monthLayout, month)
	switch {
	case err != nil || len(month) != len(monthLayout):
		v.Add(field, "must be a month like \"2026-10\"")
	case m.Before(FirstInstant) || !m.Before(EndInstant):
		v.Add(field, "must be a month from 1970-01 to 2199-12")
	}
	return m
}
