package rating

import (
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"
)

func TestTotalsAreExactSums(t *testing.T) {
	// Amounts of every size, including ones past the integer fast path and
	// ones with other exponents, must add up exactly as decimals do.
	rng := rand.New(rand.NewPCG(7, 7))
	var lines []Line
	want := map[string]decimal.Decimal{}
	for i := range 20000 {
		var a decimal.Decimal
		switch i % 5 {
		case 0:
			a = decimal.New(rng.Int64N(1_000_000), -2)
		case 1:
			a = decimal.New(rng.Int64()-rng.Int64(), -2) // up to ±9.2e18 minor units
		case 2:
			a = decimal.RequireFromString("123456789012345678901234567890.12")
		case 3:
			a = decimal.New(rng.Int64N(1000), 0) // another exponent
		default:
			a = decimal.New(-rng.Int64N(1_000_000), -3)
		}
		cur := []string{"EUR", "JPY", "KWD"}[i%3]
		lines = append(lines, Line{Currency: cur, Amount: a})
		want[cur] = want[cur].Add(a)
	}
	got := Totals(lines)
	if len(got) != 3 {
		t.Fatalf("%d totals", len(got))
	}
	for _, tot := range got {
		if !tot.Amount.Equal(want[tot.Currency]) {
			t.Errorf("%s total %s, want %s", tot.Currency, tot.Amount, want[tot.Currency])
		}
	}
}
