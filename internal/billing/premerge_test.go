package billing

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/billingd/billingd/internal/rating"
)

// Pre-merging as lines are emitted must not change what GroupLines makes
// of them: for random runs of engine-like lines and every grouping,
// GroupLines(premerged) = GroupLines(all), once both are sorted.
func TestPremergeDoesNotChangeGrouping(t *testing.T) {
	t.Parallel()
	hel, err := time.LoadLocation("Europe/Helsinki")
	if err != nil {
		t.Fatal(err)
	}
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	groupings := []rating.Grouping{
		{Granularity: rating.GranularityPeriod},
		{Granularity: rating.GranularityMonth, Keys: []rating.GroupKey{rating.GroupCustomer, rating.GroupProduct}},
		{Granularity: rating.GranularityDay, Keys: []rating.GroupKey{rating.GroupResource}},
		{Granularity: rating.GranularityDay, Keys: []rating.GroupKey{rating.GroupOrganisation, rating.GroupSite}, Dimensions: []string{"policy"}},
		{Granularity: rating.GranularityHour, Keys: []rating.GroupKey{rating.GroupModel}},
		{Granularity: rating.GranularityUnspecified},
		{Granularity: rating.GranularityMonth, Dimensions: []string{"policy", "tier"}},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for run := range 60 {
		loc := []*time.Location{time.UTC, hel, kolkata}[run%3]
		lines := randomLines(rng, loc)
		for _, g := range groupings {
			g.Location = loc
			want, err := rating.GroupLines(lines, g)
			if err != nil {
				t.Fatal(err)
			}
			pm := newPremerger(g, loc)
			for _, l := range lines {
				_ = pm.add(l)
			}
			got, err := rating.GroupLines(pm.lines(), g)
			if err != nil {
				t.Fatal(err)
			}
			sortLines(want, g.Dimensions)
			sortLines(got, g.Dimensions)
			if w, h := render(want), render(got); w != h {
				t.Fatalf("run %d, grouping %+v:\npremerged: %s\nall:       %s", run, g, h, w)
			}
		}
	}
}

// randomLines imitates the engine: per series and product, lines in time
// order (hours, days or whole months, around the October DST change), with
// a price change now and then.
func randomLines(rng *rand.Rand, loc *time.Location) []rating.Line {
	var out []rating.Line
	dims := []map[string]string{
		{rating.DimOrganisation: "o1", rating.DimSite: "ams", "policy": "gold"},
		{rating.DimOrganisation: "o1", rating.DimSite: "fra", "policy": "gold"},
		{rating.DimOrganisation: "o2", "policy": "silver", "tier": "1"},
		{},
	}
	prices := []string{"1.5", "1.50", "2", "0.01"}
	start := time.Date(2026, 10, 20, 0, 0, 0, 0, loc)
	for s := range 1 + rng.IntN(6) {
		for _, product := range []string{"p1", "p2"}[:1+rng.IntN(2)] {
			gran := rating.Granularity(1 + rng.IntN(3))
			t := start
			entry, price := "e1", prices[rng.IntN(len(prices))]
			for range rng.IntN(60) {
				var end time.Time
				switch gran {
				case rating.GranularityHour:
					end = t.Add(time.Hour)
				case rating.GranularityDay:
					end = t.AddDate(0, 0, 1)
				default:
					end = t.AddDate(0, 1, 0)
				}
				if rng.IntN(10) == 0 { // a price boundary: the next line has another price
					entry, price = fmt.Sprintf("e%d", rng.IntN(3)), prices[rng.IntN(len(prices))]
				}
				q := decimal.New(int64(rng.IntN(1000)), -int32(rng.IntN(3)))
				up := decimal.RequireFromString(price)
				out = append(out, rating.Line{
					CustomerID: "c", ProductID: product, GroupID: "g", Model: rating.Model(1 + rng.IntN(3)), Granularity: gran,
					Start: t, End: end, Quantity: q, UnitPrice: up, Amount: q.Mul(up).Round(2), Currency: "EUR",
					PriceEntryID: entry, PriceListID: "l", Tier: rng.IntN(2),
					ResourceID: fmt.Sprintf("r%d", s%3), Dimensions: dims[s%len(dims)],
				})
				t = end
			}
		}
	}
	return out
}

func render(ls []rating.Line) string {
	var b strings.Builder
	for _, l := range ls {
		keys := make([]string, 0, len(l.Dimensions))
		for k, v := range l.Dimensions {
			keys = append(keys, k+"="+v)
		}
		slices.Sort(keys)
		fmt.Fprintf(&b, "\n%s %s %s %d %d %s..%s %s %s %s %s %s %d %v", l.CustomerID, l.ResourceID, l.ProductID, l.Model, l.Granularity,
			l.Start.UTC().Format(time.RFC3339), l.End.UTC().Format(time.RFC3339), l.Quantity, l.UnitPrice, l.Amount, l.PriceEntryID, l.Currency, l.Tier, keys)
	}
	return b.String()
}
