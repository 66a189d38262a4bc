package billing

import (
	"testing"
	"time"

	"github.com/billingd/billingd/internal/pricing"
)

// TestHourAligned: aggregates of UTC hours rate like their records only
// where every cut of the rating is a UTC hour.
func TestHourAligned(t *testing.T) {
	utc := func(d, h, m int) time.Time { return time.Date(2026, 10, d, h, m, 0, 0, time.UTC) }
	zone := func(name string) *time.Location {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		return loc
	}
	c := newCuts(Book{
		Prices:    []pricing.Price{{ValidFrom: utc(1, 0, 0), ValidTo: utc(14, 7, 30)}, {ValidFrom: utc(14, 7, 30)}},
		Campaigns: []pricing.Campaign{{ValidFrom: utc(20, 9, 0), ValidTo: utc(22, 9, 0)}},
		Contracts: []pricing.Contract{{CustomerID: "acme", StartTime: utc(25, 12, 15)}},
	})
	day := 24 * time.Hour
	for _, tc := range []struct {
		name     string
		customer string
		loc      *time.Location
		from, to time.Time
		lookback time.Duration
		want     bool
	}{
		{"a week without cuts off the hour", "acme", time.UTC, utc(1, 0, 0), utc(8, 0, 0), day, true},
		{"a price change at 07:30 inside", "acme", time.UTC, utc(10, 0, 0), utc(17, 0, 0), day, false},
		{"the price change at the window's start is no cut inside", "acme", time.UTC, utc(14, 7, 30), utc(15, 0, 0), 0, false},
		{"a campaign on the hour", "acme", time.UTC, utc(18, 0, 0), utc(24, 0, 0), day, true},
		{"the customer's contract at 12:15", "acme", time.UTC, utc(25, 0, 0), utc(26, 0, 0), day, false},
		{"another customer's contract", "globex", time.UTC, utc(25, 0, 0), utc(26, 0, 0), day, true},
		{"Berlin across its DST change", "globex", zone("Europe/Berlin"), utc(24, 22, 0), utc(31, 23, 0), day, true},
		{"Kolkata: granules at hh:30 UTC", "globex", zone("Asia/Kolkata"), utc(18, 0, 0), utc(24, 0, 0), day, false},
		{"a window starting off the hour", "globex", time.UTC, utc(18, 0, 30), utc(24, 0, 0), day, false},
		{"a lookback ending off the hour", "globex", time.UTC, utc(18, 0, 0), utc(24, 0, 0), 90 * time.Minute, false},
	} {
		if got := c.hourAligned(tc.customer, tc.loc, tc.from, tc.to, tc.lookback); got != tc.want {
			t.Errorf("%s: aligned %v, want %v", tc.name, got, tc.want)
		}
	}
}
