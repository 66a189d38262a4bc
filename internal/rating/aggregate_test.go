package rating

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

func TestGaugePieces(t *testing.T) {
	// Unsorted samples, two at 02:00 (the later in the input wins), one after
	// the end (dropped): 4 from 00:00, 6 from 02:00 until the end at 05:00.
	ps := GaugePieces([]Sample{
		{At: at("2026-04-01 02:00"), Value: d("5")},
		{At: at("2026-04-01 06:00"), Value: d("9")},
		{At: at("2026-04-01 00:00"), Value: d("4")},
		{At: at("2026-04-01 02:00"), Value: d("6")},
	}, at("2026-04-01 05:00"))
	want := []struct{ from, to, integral string }{
		{"2026-04-01 00:00", "2026-04-01 02:00", "28800"}, // 4 × 7200 s
		{"2026-04-01 02:00", "2026-04-01 05:00", "64800"}, // 6 × 10800 s
	}
	if len(ps) != len(want) {
		t.Fatalf("%d pieces, want %d: %+v", len(ps), len(want), ps)
	}
	for i, w := range want {
		p := ps[i]
		if !p.Start.Equal(at(w.from)) || !p.End.Equal(at(w.to)) || !p.Integral.Equal(d(w.integral)) {
			t.Errorf("piece %d = %s..%s ∫%s, want %v", i, p.Start, p.End, p.Integral, w)
		}
	}
}

func TestAggregation(t *testing.T) {
	hour := func(h int) time.Time { return at("2026-04-01 00:00").Add(time.Duration(h) * time.Hour) }
	rollup := func(h int, level string, unique ...string) Piece {
		v := d(level)
		return Piece{Start: hour(h), End: hour(h + 1), Sum: v, Integral: v.Mul(d("3600")), Max: v, Last: v, LastAt: hour(h).Add(30 * time.Minute), Unique: unique}
	}
	cases := []struct {
		name   string
		agg    Aggregation
		pieces []Piece
		from   int // hours after April 1 00:00
		to     int
		gran   int // the whole granule's length in hours (the twa divisor)
		want   string
	}{
		// hourly rollups of 2, 4, 6 over 3 hours: ∫ = (2+4+6) × 3600 / (3 × 3600) = 4
		{"twa of rollups", AggregationTimeWeightedAvg, []Piece{rollup(0, "2"), rollup(1, "4"), rollup(2, "6")}, 0, 3, 3, "4"},
		// the same, but the interval is the first two hours of a 3-hour granule: (2+4)/3 = 2
		{"twa over a sub-interval divides by the whole granule", AggregationTimeWeightedAvg, []Piece{rollup(0, "2"), rollup(1, "4"), rollup(2, "6")}, 0, 2, 3, "2"},
		// one piece of 8 GB counted over 00–04 h, read for 01–02 h: 8 × 1/4 = 2
		{"sum prorates a straddling piece", AggregationSum, []Piece{{Start: hour(0), End: hour(4), Sum: d("8")}}, 1, 2, 1, "2"},
		// a counter at exactly 01:00 belongs to [01, 02), not to [00, 01)
		{"instant piece at the start", AggregationSum, []Piece{CounterPiece(hour(1), d("3"))}, 1, 2, 1, "3"},
		{"instant piece at the end", AggregationSum, []Piece{CounterPiece(hour(1), d("3"))}, 0, 1, 1, "absent"},
		{"max", AggregationMax, []Piece{rollup(0, "2"), rollup(1, "7"), rollup(2, "6")}, 0, 3, 3, "7"},
		// latest: the piece with the latest LastAt, not the latest start
		{"latest by LastAt", AggregationLatest, []Piece{
			{Start: hour(0), End: hour(3), Last: d("5"), LastAt: hour(2)},
			{Start: hour(1), End: hour(2), Last: d("9"), LastAt: hour(1)},
		}, 0, 3, 3, "5"},
		{"unique across pieces", AggregationUniqueCount, []Piece{rollup(0, "1", "a", "b"), rollup(1, "1", "b", "c"), rollup(5, "1", "z")}, 0, 3, 3, "3"},
		{"no piece in the interval", AggregationSum, []Piece{rollup(5, "1")}, 0, 3, 3, "absent"},
		// unsorted, overlapping pieces: ∫ = 1×3600 + 2×2×3600 (the 2-level piece
		// over 01–03 h) = 18000 s over 3 h = 1.666666666667 (RatioPlaces, half up)
		{"twa of unsorted, overlapping pieces", AggregationTimeWeightedAvg, []Piece{
			{Start: hour(1), End: hour(3), Integral: d("14400")},
			{Start: hour(0), End: hour(1), Integral: d("3600")},
		}, 0, 3, 3, "1.666666666667"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ix := indexSeries(&Series{Pieces: c.pieces}, &Metric{Aggregation: c.agg})
			cur := cursor{ix: ix}
			q, ok := cur.quantity(hour(c.from).UnixNano(), hour(c.to).UnixNano(), &gran{start: hour(0).UnixNano(), end: hour(c.gran).UnixNano(), seconds: decimal.NewFromInt(int64(c.gran) * 3600)}, map[string]struct{}{})
			got := "absent"
			if ok {
				got = q.String()
			}
			if got != c.want {
				t.Errorf("quantity = %s, want %s", got, c.want)
			}
		})
	}
}
