package rating

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/money"
	"github.com/shopspring/decimal"
)

var berlin = mustLoc("Europe/Berlin")

// cutProducts are the test catalog's products by aggregation.
var cutProducts = []struct {
	product, metric string
	agg             Aggregation
}{
	{"transfer", "net.gb", AggregationSum},
	{"vcpu", "vm.vcpu", AggregationTimeWeightedAvg},
	{"vcpu-peak", "vm.vcpu_peak", AggregationMax},
	{"vcpu-last", "vm.vcpu_last", AggregationLatest},
	{"backup", "backup.protected_vms", AggregationUniqueCount},
}

// cutPeriods are whole local months, across a DST change where the zone has one.
func cutPeriod(rng *rand.Rand, loc *time.Location) Period {
	m := []time.Month{time.March, time.October, time.November}[rng.IntN(3)]
	return Period{From: time.Date(2026, m, 1, 0, 0, 0, 0, loc), To: time.Date(2026, m+1, 1, 0, 0, 0, 0, loc)}
}

// cutAt is an instant inside p: a boundary of a granule of g, or any second.
func cutAt(rng *rand.Rand, p Period, g Granularity, loc *time.Location) time.Time {
	t := p.From.Add(time.Duration(1+rng.Int64N(int64(p.To.Sub(p.From)/time.Second)-1)) * time.Second)
	if rng.IntN(2) == 0 {
		if s := granuleStart(t, g, loc); s.After(p.From) {
			return s
		}
	}
	return t
}

// cutSeries is random usage of metric: gauge samples, counter records,
// unique values or hourly rollups, 1–3 resources.
func cutSeries(rng *rand.Rand, metric string, agg Aggregation, p Period) []Series {
	var out []Series
	span := int64(p.To.Sub(p.From) / time.Second)
	instant := func() time.Time { return p.From.Add(time.Duration(rng.Int64N(span)) * time.Second) }
	level := func() decimal.Decimal { return decimal.New(rng.Int64N(10000), -rng.Int32N(3)) }
	for r := range 1 + rng.IntN(3) {
		s := Series{MetricKey: metric, ResourceID: fmt.Sprintf("r%d", r)}
		switch {
		case agg == AggregationSum || rng.IntN(4) == 0 && agg == AggregationUniqueCount:
			for range 1 + rng.IntN(20) {
				pc := CounterPiece(instant(), level())
				pc.Unique = []string{fmt.Sprint("vm", rng.IntN(6))}
				s.Pieces = append(s.Pieces, pc)
			}
		case rng.IntN(3) == 0: // hourly rollups on UTC hours
			for h := p.From.Truncate(time.Hour); h.Before(p.To); h = h.Add(time.Duration(1+rng.IntN(30)) * time.Hour) {
				v := level()
				s.Pieces = append(s.Pieces, Piece{Start: h, End: h.Add(time.Hour), Sum: v, Integral: v.Mul(decimal.NewFromInt(3600)),
					Max: v, Last: v, LastAt: h.Add(time.Duration(rng.IntN(3600)) * time.Second), Unique: []string{fmt.Sprint("vm", rng.IntN(6))}})
			}
		default:
			var ss []Sample
			for range 1 + rng.IntN(8) {
				ss = append(ss, Sample{At: instant(), Value: level()})
			}
			s.Pieces = GaugePieces(ss, instant().Add(time.Duration(span/2)*time.Second))
			for i := range s.Pieces {
				s.Pieces[i].Unique = []string{fmt.Sprint("vm", i%5)}
			}
		}
		out = append(out, s)
	}
	return out
}

// TestPropertyCutKeepsTotal: cutting granules with a price, campaign or
// customer list boundary at the same price never changes the total, for
// every aggregation, price granularity, zone and flat, graduated or volume
// price, with cuts at and off granule boundaries.
func TestPropertyCutKeepsTotal(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 1))
	rated := 0
	for _, cp := range cutProducts {
		for g := GranularityHour; g <= GranularityMonth; g++ {
			for _, loc := range []*time.Location{time.UTC, berlin, kolkata} {
				for _, cause := range []string{"price", "campaign", "list"} {
					for range 3 {
						p := cutPeriod(rng, loc)
						cut := cutAt(rng, p, g, loc)
						base := PriceEntry{ID: "p", ListID: "L", Currency: []string{"EUR", "JPY", "KWD"}[rng.IntN(3)],
							ProductID: cp.product, UnitPrice: decimal.New(1+rng.Int64N(99999), -rng.Int32N(5)), Granularity: g}
						switch rng.IntN(3) {
						case 1:
							base = graduated(base, fmt.Sprint(1+rng.IntN(40)), "0", base.UnitPrice.String())
						case 2:
							base = volume(base, fmt.Sprint(1+rng.IntN(40)), "0.5", base.UnitPrice.String())
						}
						uncut := Config{Prices: []PriceEntry{base}}
						var cutCfg Config
						switch cause {
						case "price":
							a, b := base, base
							a.ValidTo, b.ID, b.ValidFrom = cut, "p2", cut
							cutCfg.Prices = []PriceEntry{a, b}
						case "campaign":
							ce := CampaignEntry{ProductID: cp.product, DiscountPercent: nd("0")}
							if base.Tiers == nil && rng.IntN(2) == 0 {
								ce = CampaignEntry{ProductID: cp.product, UnitPrice: decimal.NewNullDecimal(base.UnitPrice)}
							}
							cutCfg.Prices = uncut.Prices
							cutCfg.Campaigns = []Campaign{{ID: "c", Currency: base.Currency, ValidFrom: cut, Entries: []CampaignEntry{ce}}}
						case "list":
							own := base
							own.ID, own.ListID, own.CustomerID, own.ValidFrom = "own", "L-acme", "acme", cut
							cutCfg.Prices = []PriceEntry{base, own}
						}
						series := cutSeries(rng, cp.metric, cp.agg, p)
						whole := rateWith(t, uncut, loc, p, series)
						parts := rateWith(t, cutCfg, loc, p, series)
						if describeTotals(whole.Totals) != describeTotals(parts.Totals) {
							t.Errorf("%s, %s prices in %s, %s boundary at %s: uncut %s, cut %s\nuncut:\n\t%s\ncut:\n\t%s",
								cp.product, g, loc, cause, cut.In(loc), describeTotals(whole.Totals), describeTotals(parts.Totals),
								describeAllJoined(whole.Lines, loc), describeAllJoined(parts.Lines, loc))
							return
						}
						rated += len(parts.Lines)
					}
				}
			}
		}
	}
	if rated < 5000 {
		t.Errorf("only %d lines rated; the generator is too sparse", rated)
	}
}

// TestPropertyCutPiecesAtWeightedPrice: with a different price on each side
// of a cut, a level held constant is charged per granule at the
// time-weighted price: Σ over the granule's pieces of level × |piece| / |g| ×
// price, rounded once per granule (each line within a minor unit of its
// own product).
func TestPropertyCutPiecesAtWeightedPrice(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 3))
	for _, cp := range cutProducts[1:4] { // the aggregations of a level
		for g := GranularityHour; g <= GranularityMonth; g++ {
			for _, loc := range []*time.Location{time.UTC, berlin, kolkata} {
				for range 4 {
					p := cutPeriod(rng, loc)
					cut := cutAt(rng, p, g, loc)
					u1, u2 := decimal.New(1+rng.Int64N(9999), -3), decimal.New(1+rng.Int64N(9999), -3)
					cfg := Config{Prices: []PriceEntry{
						{ID: "p1", ListID: "L", Currency: "EUR", ProductID: cp.product, UnitPrice: u1, Granularity: g, ValidTo: cut},
						{ID: "p2", ListID: "L", Currency: "EUR", ProductID: cp.product, UnitPrice: u2, Granularity: g, ValidFrom: cut},
					}}
					lvl := decimal.New(1+rng.Int64N(5000), -rng.Int32N(3))
					s := Series{MetricKey: cp.metric, ResourceID: "r", Pieces: GaugePieces([]Sample{{At: p.From, Value: lvl}}, p.To)}
					res := rateWith(t, cfg, loc, p, []Series{s})
					want := decimal.Zero
					for _, gr := range Granules(p, g, loc) {
						a, b := gr.Start, gr.End
						exact := decimal.Zero
						for _, piece := range [][2]time.Time{{a, minTime(b, cut)}, {maxTime(a, cut), b}} {
							if !piece[0].Before(piece[1]) {
								continue
							}
							u := u1
							if !piece[0].Before(cut) {
								u = u2
							}
							exact = exact.Add(lvl.Mul(seconds(piece[1].Sub(piece[0]))).Div(seconds(b.Sub(a))).Mul(u))
						}
						want = want.Add(money.MustLookup("EUR").Round(exact))
					}
					if got := describeTotals(res.Totals); got != "EUR "+money.MustLookup("EUR").Format(want) {
						t.Errorf("%s, %s prices %s/%s in %s, cut at %s, level %s: total %s, want %s\n\t%s",
							cp.product, g, u1, u2, loc, cut.In(loc), lvl, got, want.StringFixed(2), describeAllJoined(res.Lines, loc))
						return
					}
				}
			}
		}
	}
}

// TestPropertyCommitmentExcess: for every aggregation, fee granularity,
// proration and zone, with contract edges at and off granule boundaries,
// usage at or below the commitment at every instant has no excess line,
// and the commitment + x held throughout has exactly x above it while the
// contract is in force (x × covered time / |fee granule| on the overage
// line; for a sum, x more than the prorated commitment).
func TestPropertyCommitmentExcess(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 2))
	checked := 0
	for _, cp := range cutProducts {
		for g := GranularityHour; g <= GranularityMonth; g++ {
			for _, pr := range []Proration{ProrationNone, ProrationDaily, ProrationHourly} {
				for _, loc := range []*time.Location{time.UTC, berlin, kolkata} {
					p := cutPeriod(rng, loc)
					start := cutAt(rng, p, g, loc)
					k := Contract{ID: "k", CustomerID: "acme", ProductID: cp.product, Model: ContractCommittedOverage,
						CommittedQuantity: decimal.NewFromInt(2 + rng.Int64N(8)), Fee: d("100"), FeeGranularity: g,
						OverageUnitPrice: d("1"), Currency: "EUR", Proration: pr, Start: start}
					if rng.IntN(2) == 0 {
						k.End = cutAt(rng, Period{From: start, To: p.To.Add(time.Hour)}, g, loc)
					}
					cfg := Config{Contracts: []Contract{k}}
					fees := rateWith(t, cfg, loc, p, nil)
					var series []Series
					x := decimal.New(1+rng.Int64N(999), -2)
					if cp.agg == AggregationSum {
						// per fee granule: the prorated commitment, then x more
						for _, l := range fees.Lines {
							series = append(series, Series{MetricKey: cp.metric, ResourceID: l.Start.String(), Pieces: []Piece{
								CounterPiece(l.Start, k.CommittedQuantity.Mul(l.Quantity)),
							}})
						}
					} else {
						series = levelAtMost(rng, cp.metric, cp.agg, k.CommittedQuantity, p)
					}
					under := rateWith(t, cfg, loc, p, series)
					for _, l := range under.Lines {
						if l.Model != ModelCommitted {
							t.Errorf("%s, %s fees, %v proration in %s: usage within the commitment gives %s",
								cp.product, g, pr, loc, describe(l, loc))
						}
					}
					if cp.agg == AggregationSum {
						for i, l := range fees.Lines {
							series[i].Pieces = append(series[i].Pieces, CounterPiece(l.Start, x))
						}
					} else if cp.agg == AggregationUniqueCount {
						continue // a count cannot be raised by a fraction
					} else {
						lvl := k.CommittedQuantity.Add(x)
						series = []Series{{MetricKey: cp.metric, ResourceID: "r", Pieces: GaugePieces([]Sample{{At: p.From, Value: lvl}}, p.To)}}
					}
					over := rateWith(t, cfg, loc, p, series)
					var overage []Line
					for _, l := range over.Lines {
						if l.Model == ModelOverage {
							overage = append(overage, l)
						}
					}
					if len(overage) != len(fees.Lines) {
						t.Errorf("%s, %s fees, %v proration in %s: %d overage lines for %d fee granules\n\t%s",
							cp.product, g, pr, loc, len(overage), len(fees.Lines), describeAllJoined(over.Lines, loc))
						continue
					}
					for i, l := range overage {
						want := x
						if cp.agg != AggregationSum {
							gr := Granules(Period{From: l.Start, To: l.End}, g, loc)[0]
							want = x.Mul(seconds(l.End.Sub(l.Start))).DivRound(seconds(gr.End.Sub(gr.Start)), RatioPlaces)
						}
						if !l.Quantity.Equal(want) || !l.Start.Equal(fees.Lines[i].Start) {
							t.Errorf("%s, %s fees, %v proration in %s: commitment + %s gives %s, want %s",
								cp.product, g, pr, loc, x, describe(l, loc), want)
						}
						checked++
					}
				}
			}
		}
	}
	if checked < 100 {
		t.Errorf("only %d overage lines checked", checked)
	}
}

// levelAtMost is usage of a level metric that never exceeds c.
func levelAtMost(rng *rand.Rand, metric string, agg Aggregation, c decimal.Decimal, p Period) []Series {
	var out []Series
	span := int64(p.To.Sub(p.From) / time.Second)
	n := c.IntPart()
	if agg == AggregationUniqueCount {
		s := Series{MetricKey: metric, ResourceID: "r"}
		for range 1 + rng.IntN(20) {
			at := p.From.Add(time.Duration(rng.Int64N(span)) * time.Second)
			s.Pieces = append(s.Pieces, Piece{Start: at, End: at, Unique: []string{fmt.Sprint("vm", rng.Int64N(n))}})
		}
		return append(out, s)
	}
	var ss []Sample
	for range 1 + rng.IntN(10) {
		ss = append(ss, Sample{At: p.From.Add(time.Duration(rng.Int64N(span)) * time.Second), Value: c.Mul(decimal.New(rng.Int64N(101), -2))})
	}
	return append(out, Series{MetricKey: metric, ResourceID: "r", Pieces: GaugePieces(ss, p.To)})
}

func rateWith(t *testing.T, cfg Config, loc *time.Location, p Period, series []Series) *Result {
	t.Helper()
	c := catalog()
	c.Prices, c.Campaigns, c.Contracts = cfg.Prices, cfg.Campaigns, cfg.Contracts
	res, err := engine(t, c).Rate(Request{CustomerID: "acme", Location: loc, Period: p, Series: series})
	if err != nil {
		t.Fatalf("Rate: %v", err)
	}
	checkInvariants(t, res)
	return res
}

func describeAllJoined(ls []Line, loc *time.Location) string {
	out := ""
	for i, s := range describeAll(ls, loc) {
		if i > 0 {
			out += "\n\t"
		}
		out += s
	}
	return out
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
