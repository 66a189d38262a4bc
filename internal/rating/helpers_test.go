package rating

import (
	"fmt"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // tests must not depend on the machine's zoneinfo

	"github.com/billingd/billingd/internal/money"
	"github.com/shopspring/decimal"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func nd(s string) decimal.NullDecimal { return decimal.NewNullDecimal(d(s)) }

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

var (
	amsterdam = mustLoc("Europe/Amsterdam")
	helsinki  = mustLoc("Europe/Helsinki")
	kolkata   = mustLoc("Asia/Kolkata")
	lordHowe  = mustLoc("Australia/Lord_Howe")
	newYork   = mustLoc("America/New_York")
)

// at parses "2006-01-02 15:04" in UTC.
func at(s string) time.Time { return atIn(time.UTC, s) }

func atIn(loc *time.Location, s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		panic(err)
	}
	return t
}

// April 2026 has 30 days (720 hours); most examples rate it.
var april = Period{From: at("2026-04-01 00:00"), To: at("2026-05-01 00:00")}

// catalog is the test catalog: one product per metric, plus a Gold storage
// product that filters on a dimension.
func catalog() Config {
	return Config{
		Metrics: []Metric{
			{Key: "vm.vcpu", Aggregation: AggregationTimeWeightedAvg},
			{Key: "vm.vcpu_peak", Aggregation: AggregationMax},
			{Key: "vm.vcpu_last", Aggregation: AggregationLatest},
			{Key: "storage.gb", Aggregation: AggregationTimeWeightedAvg},
			{Key: "net.gb", Aggregation: AggregationSum},
			{Key: "backup.protected_vms", Aggregation: AggregationUniqueCount, UniqueDimension: "vm"},
			{Key: "orphan.metric", Aggregation: AggregationSum},
		},
		Products: []Product{
			{ID: "vcpu", GroupID: "compute", MetricKey: "vm.vcpu"},
			{ID: "vcpu-peak", GroupID: "compute", MetricKey: "vm.vcpu_peak"},
			{ID: "vcpu-last", GroupID: "compute", MetricKey: "vm.vcpu_last"},
			{ID: "storage", GroupID: "storage", MetricKey: "storage.gb"},
			{ID: "storage-gold", GroupID: "storage", MetricKey: "storage.gb", DimensionFilter: map[string]string{"policy": "gold"}},
			{ID: "transfer", GroupID: "network", MetricKey: "net.gb"},
			{ID: "backup", GroupID: "backup", MetricKey: "backup.protected_vms"},
		},
	}
}

// price is a flat price entry; from/to "" mean open.
func price(id, customer, product, unit string, g Granularity, from, to string) PriceEntry {
	list := "L-default"
	if customer != "" {
		list = "L-" + customer
	}
	p := PriceEntry{ID: id, ListID: list, CustomerID: customer, Currency: "EUR", ProductID: product, UnitPrice: d(unit), Granularity: g}
	if from != "" {
		p.ValidFrom = at(from)
	}
	if to != "" {
		p.ValidTo = at(to)
	}
	return p
}

// gauge is a series held at the given levels: "from", level, "from", level…
// until end.
func gauge(metric, resource string, end time.Time, steps ...string) Series {
	var ss []Sample
	for i := 0; i+1 < len(steps); i += 2 {
		ss = append(ss, Sample{At: at(steps[i]), Value: d(steps[i+1])})
	}
	return Series{MetricKey: metric, ResourceID: resource, Pieces: GaugePieces(ss, end)}
}

func engine(t testing.TB, cfg Config) *Engine {
	t.Helper()
	e, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

// describe renders a line for comparison in tests:
// "payg vcpu 04-01 00:00..04-02 00:00 152 × 0.01 = 1.52 EUR [entry:p1 list:L-default]".
func describe(l Line, loc *time.Location) string {
	var src []string
	for _, kv := range [][2]string{{"entry", l.PriceEntryID}, {"campaign", l.CampaignID}, {"contract", l.ContractID}} {
		if kv[1] != "" {
			src = append(src, kv[0]+":"+kv[1])
		}
	}
	if l.Tier > 0 {
		src = append(src, fmt.Sprintf("tier:%d", l.Tier))
	}
	const f = "01-02 15:04"
	return fmt.Sprintf("%s %s %s..%s %s × %s = %s %s [%s]", l.Model, l.ProductID,
		l.Start.In(loc).Format(f), l.End.In(loc).Format(f), l.Quantity, l.UnitPrice,
		money.MustLookup(l.Currency).Format(l.Amount), l.Currency, strings.Join(src, " "))
}

func describeAll(ls []Line, loc *time.Location) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = describe(l, loc)
	}
	return out
}

func describeTotals(ts []Total) string {
	var parts []string
	for _, t := range ts {
		parts = append(parts, t.Currency+" "+money.MustLookup(t.Currency).Format(t.Amount))
	}
	return strings.Join(parts, ", ")
}

func describeUnpriced(us []UnpricedUsage, loc *time.Location) []string {
	var out []string
	for _, u := range us {
		const f = "01-02 15:04"
		out = append(out, fmt.Sprintf("%s %s/%s %s %s..%s %s", u.Reason, u.ProductID, u.MetricKey, u.ResourceID,
			u.Start.In(loc).Format(f), u.End.In(loc).Format(f), u.Quantity))
	}
	return out
}

func diff(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\ngot\n\t%s\nwant\n\t%s", what, strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}
