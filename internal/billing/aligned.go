package billing

import (
	"slices"
	"time"
)

// cuts are the instants off a UTC hour at which a book's prices,
// campaigns and contracts begin or end: rating cuts usage there, so an
// aggregate of a UTC hour does not rate like its records in a window that
// holds one. They are the book's, found once per rater.
type cuts struct {
	all        []time.Time            // of prices and campaigns (every owner's: a superset is safe), sorted
	byCustomer map[string][]time.Time // of each customer's contracts, sorted
}

func newCuts(b Book) cuts {
	c := cuts{byCustomer: map[string][]time.Time{}}
	add := func(to []time.Time, ts ...time.Time) []time.Time {
		for _, t := range ts {
			if !t.IsZero() && !onHour(t) {
				to = append(to, t)
			}
		}
		return to
	}
	for _, p := range b.Prices {
		c.all = add(c.all, p.ValidFrom, p.ValidTo)
	}
	for _, p := range b.Campaigns {
		c.all = add(c.all, p.ValidFrom, p.ValidTo)
	}
	for _, k := range b.Contracts {
		c.byCustomer[k.CustomerID] = add(c.byCustomer[k.CustomerID], k.StartTime, k.EndTime)
	}
	slices.SortFunc(c.all, time.Time.Compare)
	for _, ts := range c.byCustomer {
		slices.SortFunc(ts, time.Time.Compare)
	}
	return c
}

// hourAligned reports whether every instant at which rating customer in
// loc over [from, to) cuts usage is a UTC hour: from, to and from minus
// lookback, the granules of loc (whole-hour UTC offsets throughout), and
// the book's boundaries inside the window. Hourly rollups and pooled hours
// then rate exactly like their records (UsageWindow.Aligned): a piece of
// one never straddles a cut, as its records do not.
func (c cuts) hourAligned(customer string, loc *time.Location, from, to time.Time, lookback time.Duration) bool {
	if !onHour(from) || !onHour(to) || !onHour(from.Add(-lookback)) || !wholeHourOffsets(loc, from, to) {
		return false
	}
	within := func(ts []time.Time) bool {
		i, _ := slices.BinarySearchFunc(ts, from, time.Time.Compare)
		for ; i < len(ts) && ts[i].Before(to); i++ {
			if ts[i].After(from) {
				return true
			}
		}
		return false
	}
	return !within(c.all) && !within(c.byCustomer[customer])
}

func onHour(t time.Time) bool { return t.Equal(t.Truncate(time.Hour)) }

// wholeHourOffsets reports whether loc's UTC offset is a whole number of
// hours at every instant of [from, to].
func wholeHourOffsets(loc *time.Location, from, to time.Time) bool {
	for t := from.In(loc); ; {
		if _, off := t.Zone(); off%3600 != 0 {
			return false
		}
		_, end := t.ZoneBounds()
		if end.IsZero() || end.After(to) {
			return true
		}
		t = end.In(loc)
	}
}
