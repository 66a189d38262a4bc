package rating

import (
	"sort"
	"time"

	"github.com/shopspring/decimal"
)

// Granule is one calendar granule: [Start, End) is the whole granule in the
// billing time zone, [From, To) the part of it inside the rated period.
type Granule struct {
	Start, End time.Time
	From, To   time.Time
}

// Granules cuts p into calendar granules of g in loc (nil means UTC), in
// order; the first and last are clipped to p. GranularityPeriod yields p
// itself. It returns nil for an empty period or an unknown granularity.
//
// Hours are the intervals between instants at which the local clock reads
// minute 0, so in Asia/Kolkata (+05:30) they start at hh:30 UTC, a 23-hour
// DST day has 23 of them and a 25-hour day 25. Days and months start at local
// midnight (or the first instant of the day where midnight does not exist).
func Granules(p Period, g Granularity, loc *time.Location) []Granule {
	if loc == nil {
		loc = time.UTC
	}
	if !p.From.Before(p.To) || !inRange(p.From) || !inRange(p.To) {
		return nil
	}
	gs := granules(nanos(p.From), nanos(p.To), g, loc)
	out := make([]Granule, len(gs))
	for i, x := range gs {
		out[i] = Granule{
			Start: time.Unix(0, x.start).In(loc), End: time.Unix(0, x.end).In(loc),
			From: time.Unix(0, x.from).In(loc), To: time.Unix(0, x.to).In(loc),
		}
	}
	return out
}

// gran is a Granule in Unix nanoseconds, with the whole granule's length in
// seconds, the divisor of time-weighted averages.
type gran struct {
	start, end int64 // whole granule
	from, to   int64 // clipped to the period
	seconds    decimal.Decimal
}

func granules(from, to int64, g Granularity, loc *time.Location) []gran {
	if from >= to {
		return nil
	}
	var out []gran
	add := func(s, e int64) {
		out = append(out, gran{start: s, end: e, from: max(s, from), to: min(e, to), seconds: decimal.New(e-s, -9)})
	}
	switch g {
	case GranularityPeriod:
		add(from, to)
	case GranularityHour:
		out = make([]gran, 0, (to-from)/int64(time.Hour)+2)
		s := hourFloor(time.Unix(0, from), loc)
		for nanos(s) < to {
			e := hourNext(s, loc)
			add(nanos(s), nanos(e))
			s = e
		}
	case GranularityDay, GranularityMonth:
		t := time.Unix(0, from).In(loc)
		y, m, d := t.Date()
		if g == GranularityMonth {
			d = 1
		}
		at := func(k int) time.Time {
			if g == GranularityMonth {
				return time.Date(y, m+time.Month(k), 1, 0, 0, 0, 0, loc)
			}
			return time.Date(y, m, d+k, 0, 0, 0, 0, loc)
		}
		k := 0
		if nanos(at(0)) > from { // midnight normalised past from: start a day earlier
			k = -1
		}
		for s := at(k); nanos(s) < to; {
			k++
			e := at(k)
			if !e.After(s) { // cannot happen with real zones; never loop forever
				e = s.Add(time.Hour)
			}
			add(nanos(s), nanos(e))
			s = e
		}
	}
	return out
}

// sinceLocalHour is how long ago the local clock read minute 0.
func sinceLocalHour(lt time.Time) time.Duration {
	return time.Duration(lt.Minute())*time.Minute + time.Duration(lt.Second())*time.Second +
		time.Duration(lt.Nanosecond())
}

// hourFloor is the last instant ≤ t at which the local clock read minute 0.
// Across an offset change that is not a whole number of hours (Lord Howe
// Island's 30-minute DST) that instant can lie before the change.
func hourFloor(t time.Time, loc *time.Location) time.Time {
	for range 4 {
		lt := t.In(loc)
		c := t.Add(-sinceLocalHour(lt))
		zs, _ := lt.ZoneBounds()
		if zs.IsZero() || !c.Before(zs) {
			return c
		}
		t = zs.Add(-time.Nanosecond)
	}
	return t.Add(-sinceLocalHour(t.In(loc)))
}

// hourNext is the first instant after s at which the local clock reads minute 0.
func hourNext(s time.Time, loc *time.Location) time.Time {
	ls := s.In(loc)
	f := s.Add(time.Hour - sinceLocalHour(ls))
	_, ze := ls.ZoneBounds()
	if ze.IsZero() || ze.After(f) {
		return f
	}
	d := sinceLocalHour(ze.In(loc))
	if d == 0 {
		return ze
	}
	return ze.Add(time.Hour - d)
}

// whole is [from, to) as a granule of its own.
func whole(from, to int64) *gran {
	return &gran{start: from, end: to, from: from, to: to, seconds: decimal.New(to-from, -9)}
}

// granuleAt returns the index of the first granule whose end is after t.
func granuleAt(gs []gran, t int64) int {
	return sort.Search(len(gs), func(i int) bool { return gs[i].end > t })
}

// granuleStart is the start of the granule of g containing t.
func granuleStart(t time.Time, g Granularity, loc *time.Location) time.Time {
	switch g {
	case GranularityHour:
		return hourFloor(t, loc)
	case GranularityDay:
		y, m, d := t.In(loc).Date()
		s := time.Date(y, m, d, 0, 0, 0, 0, loc)
		if s.After(t) {
			s = time.Date(y, m, d-1, 0, 0, 0, 0, loc)
		}
		return s
	case GranularityMonth:
		y, m, _ := t.In(loc).Date()
		s := time.Date(y, m, 1, 0, 0, 0, 0, loc)
		if s.After(t) {
			s = time.Date(y, m-1, 1, 0, 0, 0, 0, loc)
		}
		return s
	}
	return time.Time{}
}
