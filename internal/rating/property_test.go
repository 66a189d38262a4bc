package rating

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestPropertyTotalsAndSigns: for random valid inputs, totals are exactly
// the sums of the line amounts, each amount is its quantity × unit price
// rounded once, and nothing is negative when no input is.
func TestPropertyTotalsAndSigns(t *testing.T) {
	for seed := range uint64(300) {
		g := &gen{rng: rand.New(rand.NewPCG(seed, 1))}
		cfg, req := g.input()
		e, err := New(cfg)
		if err != nil {
			t.Fatalf("seed %d: New: %v", seed, err)
		}
		res, err := e.Rate(req)
		if err != nil {
			t.Fatalf("seed %d: Rate: %v", seed, err)
		}
		checkInvariants(t, res)
		for _, l := range res.Lines {
			if l.Amount.Sign() < 0 || l.Quantity.Sign() < 0 || l.UnitPrice.Sign() < 0 {
				t.Errorf("seed %d: negative line %s", seed, describe(l, time.UTC))
			}
			if !l.Start.Before(l.End) || l.Start.Before(req.Period.From) || l.Start.After(req.Period.To) {
				t.Errorf("seed %d: line outside the period %s", seed, describe(l, time.UTC))
			}
		}
		for _, u := range res.Unpriced {
			if u.Quantity.Sign() < 0 {
				t.Errorf("seed %d: negative unpriced quantity %s", seed, u.Quantity)
			}
		}
		if t.Failed() {
			return
		}
	}
}

// TestPropertySplitPeriod: rating [a, c) gives the same pay-as-you-go lines
// as rating [a, b) and [b, c), for hourly and daily prices and b at a local
// midnight (a granule boundary of both).
func TestPropertySplitPeriod(t *testing.T) {
	lines := func(e *Engine, req Request, p Period) []string {
		req.Period = p
		res, err := e.Rate(req)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, l := range res.Lines {
			out = append(out, l.ResourceID+" "+describe(l, time.UTC))
		}
		return out
	}
	compared := 0
	for seed := range uint64(200) {
		g := &gen{rng: rand.New(rand.NewPCG(seed, 2)), splitSafe: true}
		cfg, req := g.input()
		days := Granules(req.Period, GranularityDay, req.Location)
		if len(days) < 2 {
			continue
		}
		b := days[1+g.rng.IntN(len(days)-1)].Start
		e, err := New(cfg)
		if err != nil {
			t.Fatalf("seed %d: New: %v", seed, err)
		}
		whole := lines(e, req, req.Period)
		halves := append(lines(e, req, Period{From: req.Period.From, To: b}), lines(e, req, Period{From: b, To: req.Period.To})...)
		slices.Sort(whole)
		slices.Sort(halves)
		if !slices.Equal(whole, halves) {
			t.Errorf("seed %d: split at %s changes the lines", seed, b)
			diff(t, "halves vs whole", halves, whole)
			return
		}
		compared += len(whole)
	}
	if compared < 1000 {
		t.Errorf("only %d lines compared; the generator is too sparse", compared)
	}
}
