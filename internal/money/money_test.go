package money

import (
	"testing"

	"github.com/shopspring/decimal"
)

func TestRoundHalfAwayFromZero(t *testing.T) {
	cases := []struct {
		code, in, want string
	}{
		{"EUR", "1.005", "1.01"},
		{"EUR", "1.004999", "1"},
		{"EUR", "-1.005", "-1.01"},
		{"JPY", "100.5", "101"},
		{"KWD", "0.0005", "0.001"},
		{"CLF", "1.00005", "1.0001"},
	}
	for _, c := range cases {
		got := MustLookup(c.code).Round(decimal.RequireFromString(c.in))
		if !got.Equal(decimal.RequireFromString(c.want)) {
			t.Errorf("%s Round(%s) = %s, want %s", c.code, c.in, got, c.want)
		}
	}
}

func TestFormatUsesMinorUnits(t *testing.T) {
	if got := MustLookup("EUR").Format(decimal.RequireFromString("3")); got != "3.00" {
		t.Errorf("EUR Format(3) = %q", got)
	}
	if got := MustLookup("JPY").Format(decimal.RequireFromString("3")); got != "3" {
		t.Errorf("JPY Format(3) = %q", got)
	}
}

func TestLookupRejectsUnknown(t *testing.T) {
	for _, code := range []string{"", "EU", "XXX", "eur", "ABC"} {
		if _, ok := Lookup(code); ok {
			t.Errorf("Lookup(%q) accepted", code)
		}
	}
}

func TestParseDecimal(t *testing.T) {
	good := []string{"0", "12", "-0.125", "100000000000000000000.000000000001"}
	bad := []string{"", "-", "1.", ".5", "1e3", " 1", "1,000", "+1", "NaN", "0x10"}
	for _, s := range good {
		if _, err := ParseDecimal(s); err != nil {
			t.Errorf("ParseDecimal(%q): %v", s, err)
		}
	}
	for _, s := range bad {
		if _, err := ParseDecimal(s); err == nil {
			t.Errorf("ParseDecimal(%q) accepted", s)
		}
	}
}
