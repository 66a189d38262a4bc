package billing

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/rating"
)

// A closed segment's kept lines are premerged on their own and fed to the
// query's premerger later (cache.go): for any cut of the engine's lines,
// premerging the part before it separately and replaying it gives the
// premerger's lines exactly (same quantities, amounts, order).
func TestPremergeKeptSegmentIsExact(t *testing.T) {
	t.Parallel()
	hel, err := time.LoadLocation("Europe/Helsinki")
	if err != nil {
		t.Fatal(err)
	}
	groupings := []rating.Grouping{
		{Granularity: rating.GranularityPeriod},
		{Granularity: rating.GranularityMonth},
		{Granularity: rating.GranularityDay, Dimensions: []string{"policy"}},
		{Granularity: rating.GranularityHour},
		{Granularity: rating.GranularityUnspecified, Dimensions: []string{"tier", "policy"}},
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for run := range 60 {
		loc := []*time.Location{time.UTC, hel}[run%2]
		lines := randomLines(rng, loc)
		cut := rng.IntN(len(lines) + 1)
		for _, g := range groupings {
			g.Location = loc
			direct := newPremerger(g, loc)
			for _, l := range lines {
				_ = direct.add(l)
			}
			kept := newPremerger(g, loc)
			for _, l := range lines[:cut] {
				_ = kept.add(l)
			}
			replay := newPremerger(g, loc)
			for _, l := range kept.lines() {
				_ = replay.add(l)
			}
			for _, l := range lines[cut:] {
				_ = replay.add(l)
			}
			if w, h := render(direct.lines()), render(replay.lines()); w != h {
				t.Fatalf("run %d, cut %d, grouping %+v:\nreplayed: %s\ndirect:   %s", run, cut, g, h, w)
			}
		}
	}
}

// The LRU stays within its entry and weight bounds, drops the least
// recently used first, refuses what is heavier than the bound and forgets
// entries past their TTL.
func TestLRUBounds(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	c := newLRU[int, string](CacheLimits{Entries: 3, Weight: 100, TTL: time.Minute}, func() time.Time { return now })
	check := func(what string, entries, weight int, present ...int) {
		t.Helper()
		if n, w := c.size(); n != entries || w != weight {
			t.Errorf("%s: %d entries weighing %d, want %d weighing %d", what, n, w, entries, weight)
		}
		for _, k := range present {
			if _, ok := c.get(k); !ok {
				t.Errorf("%s: %d is gone", what, k)
			}
		}
	}
	c.add(1, "a", 40)
	c.add(2, "b", 40)
	c.get(1)          // 2 is now the least recently used
	c.add(3, "c", 40) // 120 > 100: 2 goes
	check("by weight", 2, 80, 1, 3)
	if _, ok := c.get(2); ok {
		t.Error("the least recently used entry was kept")
	}
	c.add(4, "d", 10)
	c.add(5, "e", 10) // a 4th entry: 1 (least recently used) goes
	check("by count", 3, 60, 3, 4, 5)
	if c.add(6, "f", 101) {
		t.Error("an entry heavier than the bound was kept")
	}
	c.add(3, "c2", 50) // replacing counts the new weight only
	check("replaced", 3, 70)
	if v, _ := c.get(3); v != "c2" {
		t.Errorf("replaced entry reads %q", v)
	}
	now = now.Add(time.Minute)
	for _, k := range []int{3, 4, 5} {
		if _, ok := c.get(k); ok {
			t.Errorf("%d read after its TTL", k)
		}
	}
	check("expired", 0, 0)

	off := newLRU[int, string](CacheLimits{Entries: 3, Weight: -1}, time.Now)
	if off.add(1, "a", 0) {
		t.Error("a cache with a negative weight keeps entries")
	}
}
