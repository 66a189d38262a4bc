package rating

import (
	"slices"
	"time"

	"github.com/shopspring/decimal"
)

// Derived metrics and customer peaks both need several series of levels
// turned into one: on the union of the instants at which any of them
// changes, the inputs' levels are combined (by a formula, or summed).
//
// The level of an input at an instant is the sum of the levels of its
// pieces that cover the instant (one piece in the usual case). A piece's
// level is its Max when it holds one level (a raw record or sample), its
// average Integral / length otherwise (an hourly rollup of several
// levels), which is why billing reads raw records for them. Counters and
// instant pieces have no level and are skipped. An input without a piece
// at an instant has level 0 there; where no input has a piece, the result
// has none. A result below zero counts as zero: usage is never negative.

// levelEvent is an input's level starting (+) or stopping (−) at an instant.
type levelEvent struct {
	at    int64
	input int
	delta decimal.Decimal
	open  int // +1 or −1 covering piece
}

// combineLevels returns the pieces of the combination of inputs, each a
// list of level pieces; combine gets the inputs' levels at an instant.
func combineLevels(inputs [][]Piece, combine func(levels []decimal.Decimal) decimal.Decimal) []Piece {
	var evs []levelEvent
	for k, ps := range inputs {
		for i := range ps {
			p := &ps[i]
			if !p.End.After(p.Start) {
				continue
			}
			lvl := p.Max
			if ns := nanos(p.End) - nanos(p.Start); !oneLevel(p, ns) {
				lvl = ratio(p.Integral, decimal.New(ns, -9))
			}
			evs = append(evs, levelEvent{nanos(p.Start), k, lvl, 1}, levelEvent{nanos(p.End), k, lvl.Neg(), -1})
		}
	}
	slices.SortStableFunc(evs, func(a, b levelEvent) int { return cmpInt(a.at, b.at) })
	levels := make([]decimal.Decimal, len(inputs))
	covered := make([]int, len(inputs))
	var out []Piece
	open := 0
	for i := 0; i < len(evs); {
		at := evs[i].at
		for ; i < len(evs) && evs[i].at == at; i++ {
			e := &evs[i]
			levels[e.input] = levels[e.input].Add(e.delta)
			covered[e.input] += e.open
			open += e.open
			if covered[e.input] == 0 {
				levels[e.input] = decimal.Zero // exactly, whatever the additions left
			}
		}
		if open == 0 || i == len(evs) {
			continue
		}
		next := evs[i].at
		v := decimal.Max(decimal.Zero, combine(levels))
		start, end := timeOf(at), timeOf(next)
		if n := len(out); n > 0 && out[n-1].End.Equal(start) && out[n-1].Max.Equal(v) {
			out[n-1].End = end // the same level goes on
			out[n-1].Integral = v.Mul(seconds(end.Sub(out[n-1].Start)))
			continue
		}
		out = append(out, Piece{Start: start, End: end, Integral: v.Mul(seconds(end.Sub(start))), Max: v, Last: v, LastAt: start})
	}
	return out
}

// derive appends to series one series per derived metric and resource
// that has any of the metric's inputs, in catalog order (so a derived
// input is derived before the metrics that read it).
func (e *Engine) derive(series []Series) []Series {
	if len(e.derived) == 0 {
		return series
	}
	// records stored under a derived metric's key are not its usage
	out := slices.DeleteFunc(slices.Clone(series), func(s Series) bool {
		m := e.metrics[s.MetricKey]
		return m != nil && m.Formula != nil
	})
	for _, m := range e.derived {
		ins := m.Formula.Inputs()
		type resource struct {
			id     string
			dims   map[string]string
			pieces [][]Piece
		}
		byID := map[string]*resource{}
		var order []*resource
		for i := range out {
			s := &out[i]
			k := slices.Index(ins, s.MetricKey)
			if k < 0 {
				continue
			}
			r := byID[s.ResourceID]
			if r == nil {
				r = &resource{id: s.ResourceID, dims: s.Dimensions, pieces: make([][]Piece, len(ins))}
				byID[s.ResourceID] = r
				order = append(order, r)
			}
			r.pieces[k] = append(r.pieces[k], s.Pieces...)
		}
		for _, r := range order {
			if ps := combineLevels(r.pieces, m.Formula.Eval); len(ps) > 0 {
				out = append(out, Series{MetricKey: m.Key, ResourceID: r.id, Dimensions: r.dims, Pieces: ps})
			}
		}
	}
	return out
}

// sumLevels is combineLevels' combination for a customer's total.
func sumLevels(levels []decimal.Decimal) decimal.Decimal {
	t := decimal.Zero
	for _, l := range levels {
		t = t.Add(l)
	}
	return t
}

func timeOf(ns int64) time.Time { return time.Unix(0, ns).UTC() }
