package rating

import (
	"testing"
	"time"
)

func TestGranules(t *testing.T) {
	cases := []struct {
		name   string
		loc    *time.Location
		from   string // local
		to     string
		g      Granularity
		n      int           // granules
		length time.Duration // total length of the whole granules
	}{
		// Amsterdam springs forward on 2026-03-29 (02:00 → 03:00): 23 hours.
		{"Amsterdam spring-forward day, hourly", amsterdam, "2026-03-29 00:00", "2026-03-30 00:00", GranularityHour, 23, 23 * time.Hour},
		// …and falls back on 2026-10-25 (03:00 → 02:00): 25 hours.
		{"Amsterdam fall-back day, hourly", amsterdam, "2026-10-25 00:00", "2026-10-26 00:00", GranularityHour, 25, 25 * time.Hour},
		{"Amsterdam fall-back day, daily", amsterdam, "2026-10-25 00:00", "2026-10-26 00:00", GranularityDay, 1, 25 * time.Hour},
		// March 2026 in Amsterdam: 31 × 24 − 1 = 743 hours.
		{"Amsterdam March, monthly", amsterdam, "2026-03-01 00:00", "2026-04-01 00:00", GranularityMonth, 1, 743 * time.Hour},
		{"Amsterdam March, daily", amsterdam, "2026-03-01 00:00", "2026-04-01 00:00", GranularityDay, 31, 743 * time.Hour},
		// Lord Howe Island ends DST on 2026-04-05 (02:00 → 01:30): a 24.5-hour day
		// whose hours are still the instants the clock reads minute 0.
		{"Lord Howe 30-minute fall-back, hourly", lordHowe, "2026-04-05 00:00", "2026-04-06 00:00", GranularityHour, 24, 24*time.Hour + 30*time.Minute},
		// …and starts it on 2026-10-04 (02:00 → 02:30): 23.5 hours.
		{"Lord Howe 30-minute spring-forward, hourly", lordHowe, "2026-10-04 00:00", "2026-10-05 00:00", GranularityHour, 23, 23*time.Hour + 30*time.Minute},
		{"Kolkata day, hourly", kolkata, "2026-04-01 00:00", "2026-04-02 00:00", GranularityHour, 24, 24 * time.Hour},
		{"whole period", newYork, "2026-01-15 10:00", "2026-03-15 00:00", GranularityPeriod, 1, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := Period{From: atIn(c.loc, c.from), To: atIn(c.loc, c.to)}
			gs := Granules(p, c.g, c.loc)
			if len(gs) != c.n {
				t.Fatalf("%d granules, want %d", len(gs), c.n)
			}
			var total time.Duration
			for i, g := range gs {
				total += g.End.Sub(g.Start)
				if i > 0 && !g.Start.Equal(gs[i-1].End) {
					t.Errorf("granule %d starts at %s, previous ends at %s", i, g.Start, gs[i-1].End)
				}
				if c.g == GranularityHour && (g.Start.In(c.loc).Minute() != 0 || g.End.In(c.loc).Minute() != 0) {
					t.Errorf("hour %s..%s does not start and end at local minute 0", g.Start.In(c.loc), g.End.In(c.loc))
				}
			}
			if c.g == GranularityPeriod {
				if !gs[0].Start.Equal(p.From) || !gs[0].End.Equal(p.To) {
					t.Errorf("period granule %v", gs[0])
				}
				return
			}
			if total != c.length {
				t.Errorf("granules last %s, want %s", total, c.length)
			}
		})
	}
}

func TestGranulesClipToPeriod(t *testing.T) {
	// Kolkata is +05:30: local hours start at hh:30 UTC. A period from 10:40 to
	// 12:15 UTC touches local hours 15:30–16:00… i.e. UTC 10:30–11:30 and 11:30–12:30.
	p := Period{From: at("2026-04-01 10:40"), To: at("2026-04-01 12:15")}
	gs := Granules(p, GranularityHour, kolkata)
	want := [][4]string{
		{"2026-04-01 10:30", "2026-04-01 11:30", "2026-04-01 10:40", "2026-04-01 11:30"},
		{"2026-04-01 11:30", "2026-04-01 12:30", "2026-04-01 11:30", "2026-04-01 12:15"},
	}
	if len(gs) != len(want) {
		t.Fatalf("%d granules, want %d: %v", len(gs), len(want), gs)
	}
	for i, w := range want {
		g := gs[i]
		if !g.Start.Equal(at(w[0])) || !g.End.Equal(at(w[1])) || !g.From.Equal(at(w[2])) || !g.To.Equal(at(w[3])) {
			t.Errorf("granule %d = %s..%s clipped %s..%s, want %v", i, g.Start.UTC(), g.End.UTC(), g.From.UTC(), g.To.UTC(), w)
		}
	}
	// Months start at local midnight: New York, January 15 – March 15.
	ms := Granules(Period{From: atIn(newYork, "2026-01-15 00:00"), To: atIn(newYork, "2026-03-15 00:00")}, GranularityMonth, newYork)
	if len(ms) != 3 || !ms[0].Start.Equal(atIn(newYork, "2026-01-01 00:00")) || !ms[2].End.Equal(atIn(newYork, "2026-04-01 00:00")) {
		t.Errorf("New York months: %v", ms)
	}
}

func TestGranuleStart(t *testing.T) {
	cases := []struct {
		loc  *time.Location
		t    string // local
		g    Granularity
		want string // local
	}{
		{amsterdam, "2026-10-25 02:30", GranularityHour, "2026-10-25 02:00"},
		{amsterdam, "2026-10-25 23:59", GranularityDay, "2026-10-25 00:00"},
		{kolkata, "2026-04-01 00:10", GranularityHour, "2026-04-01 00:00"},
		{newYork, "2026-03-08 12:00", GranularityMonth, "2026-03-01 00:00"},
	}
	for _, c := range cases {
		if got := granuleStart(atIn(c.loc, c.t), c.g, c.loc); !got.Equal(atIn(c.loc, c.want)) {
			t.Errorf("granuleStart(%s, %s) = %s, want %s", c.t, c.g, got.In(c.loc), c.want)
		}
	}
}
