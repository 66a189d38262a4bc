package rating

import (
	"math/rand/v2"
	"testing"

	"github.com/billingd/billingd/internal/money"
)

// FuzzRate builds a random catalog, price book, contracts and usage from
// the seed, injects raw (when it is a plain decimal) as a piece value and a
// price, and rates it. It must never panic; a config or request it rejects
// must be rejected with an error, and a result must keep its invariants.
func FuzzRate(f *testing.F) {
	f.Add(uint64(0), "")
	f.Add(uint64(1), "0.005")
	f.Add(uint64(2), "-1")
	f.Add(uint64(3), "123456789012345678901234567890.123456789012345678901234567890")
	f.Add(uint64(4), "0.000000000000000000000000000001")
	f.Fuzz(func(t *testing.T, seed uint64, raw string) {
		g := &gen{rng: rand.New(rand.NewPCG(seed, 3))}
		if len(raw) <= 80 {
			if v, err := money.ParseDecimal(raw); err == nil {
				g.extra = &v
			}
		}
		cfg, req := g.input()
		e, err := New(cfg)
		if err != nil {
			return // e.g. a negative injected price
		}
		res, err := e.Rate(req)
		if err != nil {
			return
		}
		checkInvariants(t, res)
		if _, err := GroupLines(res.Lines, Grouping{Keys: []GroupKey{GroupCustomer, GroupSite}, Granularity: GranularityDay, Location: req.Location}); err != nil {
			t.Fatal(err)
		}
	})
}
