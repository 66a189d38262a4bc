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
