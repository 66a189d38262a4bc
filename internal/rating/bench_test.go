package rating

import (
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// benchInput is a month (March 2026, Amsterdam: 743 hours) of 1,000
// resources × 4 products rated hourly: three gauges whose level changes
// every 3 hours and one counter with a record every 3 hours, 992,000 pieces.
func benchInput() (Config, Request) {
	cfg := Config{
		Metrics: []Metric{
			{Key: "vm.vcpu", Aggregation: AggregationTimeWeightedAvg},
			{Key: "vm.memory_gb", Aggregation: AggregationTimeWeightedAvg},
			{Key: "storage.gb", Aggregation: AggregationTimeWeightedAvg},
			{Key: "net.gb", Aggregation: AggregationSum},
		},
	}
	unit := []string{"0.0125", "0.0042", "0.00011", "0.01"}
	for i, m := range cfg.Metrics {
		id := fmt.Sprintf("p%d", i)
		cfg.Products = append(cfg.Products, Product{ID: id, GroupID: "g", MetricKey: m.Key})
		cfg.Prices = append(cfg.Prices, PriceEntry{ID: "e" + id, ListID: "L", Currency: "EUR", ProductID: id,
			UnitPrice: decimal.RequireFromString(unit[i]), Granularity: GranularityHour})
	}
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, amsterdam)
	to := time.Date(2026, 4, 1, 0, 0, 0, 0, amsterdam)
	req := Request{CustomerID: "acme", Location: amsterdam, Period: Period{From: from, To: to}}
	for r := range 1000 {
		dims := map[string]string{DimOrganisation: fmt.Sprintf("org%d", r%7), DimVDC: fmt.Sprintf("vdc%d", r%31), DimSite: fmt.Sprintf("site%d", r%3)}
		for mi, m := range cfg.Metrics {
			var samples []Sample
			var counters []Piece
			for t, k := from, 0; t.Before(to); t, k = t.Add(3*time.Hour), k+1 {
				v := decimal.New(int64(1+(r*7+k*3+mi)%16), -int32(mi%2))
				if m.Aggregation == AggregationSum {
					counters = append(counters, CounterPiece(t.Add(17*time.Minute), v))
				} else {
					samples = append(samples, Sample{At: t, Value: v})
				}
			}
			s := Series{MetricKey: m.Key, ResourceID: fmt.Sprintf("vm%d", r), Dimensions: dims, Pieces: counters}
			if samples != nil {
				s.Pieces = GaugePieces(samples, to)
			}
			req.Series = append(req.Series, s)
		}
	}
	return cfg, req
}

func BenchmarkRateMonth(b *testing.B) {
	cfg, req := benchInput()
	pieces := 0
	for _, s := range req.Series {
		pieces += len(s.Pieces)
	}
	e, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("stream", func(b *testing.B) {
		b.ReportAllocs()
		lines := 0
		for b.Loop() {
			sum, err := e.RateFunc(req, func(Line) error { return nil })
			if err != nil {
				b.Fatal(err)
			}
			lines = sum.Lines
		}
		b.ReportMetric(float64(pieces), "pieces")
		b.ReportMetric(float64(lines), "lines")
	})
	b.Run("collect", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := e.Rate(req); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDerived compares rating a derived metric over two inputs
// (vm.vcpu × vm.powered_on, 300 VMs, a month hourly, the inputs changing
// every 3 and 5 hours) with rating its two inputs as products of their
// own, on the same usage: the bar is derived/inputs ≤ 2.
func BenchmarkDerived(b *testing.B) {
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, amsterdam)
	to := time.Date(2026, 4, 1, 0, 0, 0, 0, amsterdam)
	req := Request{CustomerID: "acme", Location: amsterdam, Period: Period{From: from, To: to}}
	for r := range 300 {
		for mi, m := range []string{"vm.vcpu", "vm.powered_on"} {
			var samples []Sample
			step := time.Duration(3+2*mi) * time.Hour
			for t, k := from, 0; t.Before(to); t, k = t.Add(step), k+1 {
				samples = append(samples, Sample{At: t, Value: decimal.NewFromInt(int64((r + k*(mi+1)) % (4 - 2*mi)))})
			}
			req.Series = append(req.Series, Series{MetricKey: m, ResourceID: fmt.Sprintf("vm%d", r), Pieces: GaugePieces(samples, to)})
		}
	}
	metrics := []Metric{
		{Key: "vm.vcpu", Aggregation: AggregationTimeWeightedAvg},
		{Key: "vm.powered_on", Aggregation: AggregationTimeWeightedAvg},
		{Key: "vm.vcpu_on", Aggregation: AggregationTimeWeightedAvg, Formula: mustFormula("vm.vcpu * vm.powered_on")},
	}
	priced := func(keys ...string) *Engine {
		cfg := Config{Metrics: metrics}
		for _, k := range keys {
			cfg.Products = append(cfg.Products, Product{ID: k, GroupID: "g", MetricKey: k})
			cfg.Prices = append(cfg.Prices, PriceEntry{ID: k, ListID: "L", Currency: "EUR", ProductID: k,
				UnitPrice: decimal.RequireFromString("0.01"), Granularity: GranularityHour})
		}
		e, err := New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		return e
	}
	for _, c := range []struct {
		name string
		e    *Engine
	}{{"inputs", priced("vm.vcpu", "vm.powered_on")}, {"derived", priced("vm.vcpu_on")}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.e.RateFunc(req, func(Line) error { return nil }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
