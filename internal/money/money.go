// Package money holds the currency table and the one rounding rule of
// billingd. Amounts are shopspring/decimal values built from strings or
// integers, never from floats.
package money

import (
	"fmt"

	"github.com/shopspring/decimal"
)

// Currency is an ISO 4217 currency with its number of minor units.
type Currency struct {
	Code  string
	Scale int32 // digits after the decimal point of an amount (EUR 2, JPY 0, KWD 3)
}

// Lookup returns the currency for an ISO 4217 alphabetic code.
func Lookup(code string) (Currency, bool) {
	s, ok := minorUnits[code]
	return Currency{Code: code, Scale: s}, ok
}

// MustLookup is Lookup for codes known at compile time (tests, defaults).
func MustLookup(code string) Currency {
	c, ok := Lookup(code)
	if !ok {
		panic(fmt.Sprintf("money: unknown currency %q", code))
	}
	return c
}

// Round is the rounding rule of billingd: half away from zero ("half-up" on
// magnitudes) to the currency's minor unit. It is applied once per billing
// line amount; totals are sums of rounded lines and are never rounded again.
func (c Currency) Round(d decimal.Decimal) decimal.Decimal {
	return d.Round(c.Scale)
}

// Format renders an amount with exactly the currency's number of decimals.
func (c Currency) Format(d decimal.Decimal) string {
	return d.StringFixed(c.Scale)
}

// ParseDecimal parses a plain decimal string ("12", "-0.125"). It rejects
// exponents, spaces and thousands separators so that wire values are
// unambiguous.
func ParseDecimal(s string) (decimal.Decimal, error) {
	if !isPlainDecimal(s) {
		return decimal.Decimal{}, fmt.Errorf("%q is not a plain decimal number", s)
	}
	return decimal.NewFromString(s)
}

func isPlainDecimal(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == start {
		return false
	}
	if i == len(s) {
		return true
	}
	if s[i] != '.' {
		return false
	}
	i++
	start = i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i > start && i == len(s)
}
