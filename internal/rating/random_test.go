package rating

import (
	"fmt"

	"github.com/billingd/billingd/internal/formula"
	"math/rand/v2"
	"time"

	"github.com/shopspring/decimal"
)

// gen builds random but valid inputs for the property and fuzz tests.
type gen struct {
	rng *rand.Rand
	// splitSafe keeps to inputs whose PAYG lines are additive over a split
	// at a local day boundary: hourly and daily prices, no contracts.
	splitSafe bool
	// extra, if set, is injected as a piece value and a price.
	extra *decimal.Decimal
}

var genLocations = []*time.Location{time.UTC, amsterdam, kolkata, lordHowe, newYork, helsinki}

func (g *gen) amount(places int32) decimal.Decimal {
	if g.extra != nil && g.rng.IntN(8) == 0 {
		return *g.extra
	}
	return decimal.New(g.rng.Int64N(100000), -g.rng.Int32N(places+1))
}

// instant is a random instant in [from − margin, to + margin), at a
// random second.
func (g *gen) instant(p Period, margin time.Duration) time.Time {
	span := p.To.Sub(p.From) + 2*margin
	return p.From.Add(-margin + time.Duration(g.rng.Int64N(int64(span/time.Second)))*time.Second)
}

func (g *gen) granularity() Granularity {
	if g.splitSafe {
		return GranularityHour + Granularity(g.rng.IntN(2))
	}
	return GranularityHour + Granularity(g.rng.IntN(3))
}

// input returns a config and a request for customer "acme" over a period
// of 1–40 local days, starting at a local midnight.
func (g *gen) input() (Config, Request) {
	r := g.rng
	loc := genLocations[r.IntN(len(genLocations))]
	start := time.Date(2026, 1, 1+r.IntN(330), 0, 0, 0, 0, loc)
	p := Period{From: start, To: start.AddDate(0, 0, 1+r.IntN(40))}
	cfg := catalog()
	if r.IntN(2) == 0 {
		// the VMware rules: a derived metric (of a derived one) and a customer peak
		cfg.Metrics = append(cfg.Metrics,
			Metric{Key: "vm.vcpu_on", Aggregation: AggregationTimeWeightedAvg, Formula: mustFormula("vm.vcpu * vm.vcpu_last")},
			Metric{Key: "vm.vcpu_top", Aggregation: AggregationMax, Formula: mustFormula("max(vm.vcpu_on, vm.vcpu_peak * 0.5) - 1")})
		cfg.Products = append(cfg.Products,
			Product{ID: "vcpu-on", GroupID: "compute", MetricKey: "vm.vcpu_on"},
			Product{ID: "vcpu-top", GroupID: "compute", MetricKey: "vm.vcpu_top", CustomerPeak: r.IntN(2) == 0},
			Product{ID: "peak-customer", GroupID: "compute", MetricKey: "vm.vcpu_peak", CustomerPeak: true})
	}
	for _, prod := range cfg.Products {
		for _, cust := range []string{"", "acme"} {
			if r.IntN(3) == 0 {
				continue
			}
			// 1–3 consecutive windows with random bounds
			cuts := []time.Time{{}}
			for range r.IntN(3) {
				cuts = append(cuts, g.instant(p, 0))
			}
			sortTimes(cuts[1:])
			cuts = append(cuts, time.Time{})
			for i := 0; i+1 < len(cuts); i++ {
				e := PriceEntry{
					ID: fmt.Sprintf("%s-%s-%d", prod.ID, cust, i), ListID: "L" + cust, CustomerID: cust, Currency: []string{"EUR", "EUR", "JPY", "KWD"}[r.IntN(4)],
					ProductID: prod.ID, UnitPrice: g.amount(4), Granularity: g.granularity(), ValidFrom: cuts[i], ValidTo: cuts[i+1],
				}
				if !g.splitSafe && r.IntN(4) == 0 { // a monthly minimum is not additive over a split
					e.MinimumCharge = decimal.NewNullDecimal(g.amount(2))
				}
				if r.IntN(5) == 0 {
					e.Tiers = &Tiers{Mode: TierGraduated + TierMode(r.IntN(2)), Tiers: []Tier{
						{UpTo: decimal.NewNullDecimal(decimal.New(1+r.Int64N(50), 0)), UnitPrice: g.amount(3)},
						{UpTo: decimal.NewNullDecimal(decimal.New(60+r.Int64N(500), 0)), UnitPrice: g.amount(3)},
						{UnitPrice: g.amount(3)},
					}}
				}
				if !e.ValidTo.IsZero() && !e.ValidTo.After(e.ValidFrom) {
					continue
				}
				cfg.Prices = append(cfg.Prices, e)
			}
		}
	}
	cfg.Prices = dropOverlaps(cfg.Prices)
	for i := range r.IntN(4) {
		c := Campaign{ID: fmt.Sprintf("c%d", i), Currency: "EUR", Priority: r.IntN(3), ValidFrom: g.instant(p, 24*time.Hour)}
		c.ValidTo = c.ValidFrom.Add(time.Duration(1+r.IntN(300)) * time.Hour)
		if r.IntN(2) == 0 {
			c.CustomerID = "acme"
		}
		for _, prod := range cfg.Products {
			if r.IntN(3) != 0 {
				continue
			}
			ce := CampaignEntry{ProductID: prod.ID}
			if r.IntN(2) == 0 {
				ce.DiscountPercent = decimal.NewNullDecimal(decimal.New(r.Int64N(101), 0))
			} else {
				ce.UnitPrice = decimal.NewNullDecimal(g.amount(3))
				if r.IntN(2) == 0 {
					ce.Granularity = g.granularity()
				}
			}
			c.Entries = append(c.Entries, ce)
		}
		cfg.Campaigns = append(cfg.Campaigns, c)
	}
	if !g.splitSafe {
		for i, prod := range cfg.Products {
			if r.IntN(4) != 0 {
				continue
			}
			c := Contract{
				ID: fmt.Sprintf("k%d", i), CustomerID: "acme", ProductID: prod.ID,
				Model: ContractCommitted + ContractModel(r.IntN(2)), CommittedQuantity: g.amount(2), Fee: g.amount(2),
				FeeGranularity: g.granularity(), OverageUnitPrice: g.amount(3), Currency: "EUR",
				Proration: ProrationNone + Proration(r.IntN(3)), Start: g.instant(p, 48*time.Hour),
			}
			if r.IntN(2) == 0 {
				c.End = c.Start.Add(time.Duration(1+r.IntN(1000)) * time.Hour)
			}
			cfg.Contracts = append(cfg.Contracts, c)
		}
	}
	req := Request{CustomerID: "acme", Location: loc, Period: p}
	for i := range 1 + r.IntN(6) {
		m := cfg.Metrics[r.IntN(len(cfg.Metrics))]
		s := Series{MetricKey: m.Key, ResourceID: fmt.Sprintf("r%d", i)}
		if r.IntN(2) == 0 {
			s.Dimensions = map[string]string{"policy": "gold", DimSite: "s1"}
		}
		switch r.IntN(3) {
		case 0: // gauge samples
			var ss []Sample
			for range 1 + r.IntN(20) {
				ss = append(ss, Sample{At: g.instant(p, 12*time.Hour), Value: g.amount(3)})
			}
			s.Pieces = GaugePieces(ss, g.instant(p, 12*time.Hour))
		case 1: // counter records
			for range r.IntN(30) {
				s.Pieces = append(s.Pieces, CounterPiece(g.instant(p, 12*time.Hour), g.amount(3)))
			}
		default: // hourly rollups on UTC hours
			h := p.From.Truncate(time.Hour)
			for h.Before(p.To) {
				if r.IntN(3) != 0 {
					v := g.amount(2)
					s.Pieces = append(s.Pieces, Piece{
						Start: h, End: h.Add(time.Hour), Sum: v, Integral: v.Mul(decimal.NewFromInt(3600)), Max: v, Last: v,
						LastAt: h.Add(time.Duration(r.IntN(3600)) * time.Second), Unique: []string{"a", "b", "c", "d"}[:r.IntN(5)],
					})
				}
				h = h.Add(time.Duration(1+r.IntN(5)) * time.Hour)
			}
		}
		req.Series = append(req.Series, s)
	}
	return cfg, req
}

func sortTimes(ts []time.Time) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].Before(ts[j-1]); j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}

// dropOverlaps keeps, per customer and product, entries that do not overlap
// the ones kept before them.
func dropOverlaps(ps []PriceEntry) []PriceEntry {
	var out []PriceEntry
	for _, p := range ps {
		ok := true
		for _, q := range out {
			if p.CustomerID == q.CustomerID && p.ProductID == q.ProductID &&
				windowFrom(p.ValidFrom) < windowTo(q.ValidTo) && windowFrom(q.ValidFrom) < windowTo(p.ValidTo) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, p)
		}
	}
	return out
}

// mustFormula compiles a formula over the test catalog's metrics.
func mustFormula(src string) Formula {
	f, err := formula.Compile(src, nil)
	if err != nil {
		panic(err)
	}
	return f
}
