package rating

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/formula"
)

// vmwareCatalog is the catalog of the VMware pricing rules: inputs as
// gauges, the rules as derived metrics, a product per rule.
func vmwareCatalog(t testing.TB) Config {
	t.Helper()
	cfg := Config{Metrics: []Metric{
		{Key: "vdc.cpu_allocation_ghz", Aggregation: AggregationTimeWeightedAvg},
		{Key: "vdc.cpu_used_ghz", Aggregation: AggregationTimeWeightedAvg},
		{Key: "vm.vcpu", Aggregation: AggregationTimeWeightedAvg},
		{Key: "vm.powered_on", Aggregation: AggregationLatest},
		{Key: "vm.memory_gb", Aggregation: AggregationTimeWeightedAvg},
		{Key: "vm.memory_reservation_gb", Aggregation: AggregationTimeWeightedAvg},
		{Key: "disk.gb", Aggregation: AggregationMax},
	}}
	known := map[string]bool{}
	for _, m := range cfg.Metrics {
		known[m.Key] = true
	}
	derived := func(key, expr string, agg Aggregation) {
		f, err := formula.Compile(expr, func(k string) error {
			if !known[k] {
				return fmt.Errorf("unknown metric %q", k)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Metrics = append(cfg.Metrics, Metric{Key: key, Aggregation: agg, Formula: f})
		known[key] = true
	}
	derived("vdc.cpu_billable_ghz", "max(vdc.cpu_allocation_ghz, vdc.cpu_used_ghz)", AggregationMax)
	derived("vm.vcpu_on", "vm.vcpu * vm.powered_on", AggregationTimeWeightedAvg)
	derived("vm.vram_billable_gb", "max(vm.memory_gb * 0.5, vm.memory_reservation_gb)", AggregationTimeWeightedAvg)
	cfg.Products = []Product{
		{ID: "vdc-cpu", GroupID: "compute", MetricKey: "vdc.cpu_billable_ghz"},
		{ID: "vcpu-on", GroupID: "compute", MetricKey: "vm.vcpu_on"},
		{ID: "vram", GroupID: "compute", MetricKey: "vm.vram_billable_gb"},
		{ID: "disk", GroupID: "storage", MetricKey: "disk.gb"},
		{ID: "disk-peak", GroupID: "storage", MetricKey: "disk.gb", CustomerPeak: true, DimensionFilter: map[string]string{"basis": "customer"}},
	}
	return cfg
}

// The worked examples of VMware pricing rules (docs/concepts.md), UTC,
// September 2026 (30 days).
func TestVMwarePricingRules(t *testing.T) {
	sep := Period{From: at("2026-09-01 00:00"), To: at("2026-10-01 00:00")}
	end := sep.To
	cases := []struct {
		name   string
		prices []PriceEntry
		series []Series
		want   []string
		total  string
	}{{
		// 10 × 10 + 20 × 12 = 340 GHz-days.
		name:   "allocation vs usage: max(allocation, used), daily max",
		prices: []PriceEntry{price("p", "", "vdc-cpu", "1.00", GranularityDay, "", "")},
		series: []Series{
			gauge("vdc.cpu_allocation_ghz", "vdc1", end, "2026-09-01 00:00", "10"),
			gauge("vdc.cpu_used_ghz", "vdc1", end, "2026-09-01 00:00", "4", "2026-09-11 00:00", "12"),
		},
		want:  []string{"payg vdc-cpu 09-01 00:00..10-01 00:00 340 × 1 = 340.00 EUR [entry:p]"},
		total: "EUR 340.00",
	}, {
		// 4 vCPU × 500 powered-on hours = 2000 vCPU-h; the 220 hours off cost nothing.
		name:   "powered-on only: vm.vcpu * vm.powered_on, hourly",
		prices: []PriceEntry{price("p", "", "vcpu-on", "0.01", GranularityHour, "", "")},
		series: []Series{
			gauge("vm.vcpu", "vm1", end, "2026-09-01 00:00", "4"),
			gauge("vm.powered_on", "vm1", end, "2026-09-01 00:00", "1", "2026-09-21 20:00", "0"),
		},
		want:  []string{"payg vcpu-on 09-01 00:00..09-21 20:00 2000 × 0.01 = 20.00 EUR [entry:p]"},
		total: "EUR 20.00",
	}, {
		// VM1 max(8, 4) = 8 GB, VM2 max(8, 12) = 12 GB, 720 h × 0.005:
		// 5760 GB-h = 28.80 and 8640 GB-h = 43.20.
		name:   "the vRAM rule: max(50 % of configured, reservation)",
		prices: []PriceEntry{price("p", "", "vram", "0.005", GranularityHour, "", "")},
		series: []Series{
			gauge("vm.memory_gb", "vm1", end, "2026-09-01 00:00", "16"),
			gauge("vm.memory_reservation_gb", "vm1", end, "2026-09-01 00:00", "4"),
			gauge("vm.memory_gb", "vm2", end, "2026-09-01 00:00", "16"),
			gauge("vm.memory_reservation_gb", "vm2", end, "2026-09-01 00:00", "12"),
		},
		want: []string{
			"payg vram 09-01 00:00..10-01 00:00 5760 × 0.005 = 28.80 EUR [entry:p]",
			"payg vram 09-01 00:00..10-01 00:00 8640 × 0.005 = 43.20 EUR [entry:p]",
		},
		total: "EUR 72.00",
	}, {
		// A VM without a reservation record: the missing input counts as 0,
		// so the rule gives half of its 16 GB.
		name:   "a missing input counts as zero",
		prices: []PriceEntry{price("p", "", "vram", "0.005", GranularityHour, "", "")},
		series: []Series{gauge("vm.memory_gb", "vm1", end, "2026-09-01 00:00", "16")},
		want:   []string{"payg vram 09-01 00:00..10-01 00:00 5760 × 0.005 = 28.80 EUR [entry:p]"},
		total:  "EUR 28.80",
	}, {
		// Two disks of 100 GB, one to the 16th, its replacement from the 16th,
		// 1.00 per GB-month: each resource at its peak is 200 GB-month.
		name:   "peak of each resource",
		prices: []PriceEntry{price("p", "", "disk", "1.00", GranularityMonth, "", "")},
		series: []Series{
			gauge("disk.gb", "d1", at("2026-09-16 00:00"), "2026-09-01 00:00", "100"),
			gauge("disk.gb", "d2", end, "2026-09-16 00:00", "100"),
		},
		want: []string{
			"payg disk 09-01 00:00..10-01 00:00 100 × 1 = 100.00 EUR [entry:p]",
			"payg disk 09-01 00:00..10-01 00:00 100 × 1 = 100.00 EUR [entry:p]",
		},
		total: "EUR 200.00",
	}, {
		// The same disks, the customer's peak: never more than 100 GB at once.
		name:   "peak of the customer",
		prices: []PriceEntry{price("p", "", "disk-peak", "1.00", GranularityMonth, "", "")},
		series: []Series{
			withDims(gauge("disk.gb", "d1", at("2026-09-16 00:00"), "2026-09-01 00:00", "100"), "basis", "customer"),
			withDims(gauge("disk.gb", "d2", end, "2026-09-16 00:00", "100"), "basis", "customer"),
		},
		want:  []string{"payg disk-peak 09-01 00:00..10-01 00:00 100 × 1 = 100.00 EUR [entry:p]"},
		total: "EUR 100.00",
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := vmwareCatalog(t)
			cfg.Prices = c.prices
			res := rateWith2(t, cfg, sep, c.series)
			diff(t, "lines", describeAll(res.Lines, time.UTC), c.want)
			if got := describeTotals(res.Totals); got != c.total {
				t.Errorf("totals %q, want %q", got, c.total)
			}
			// the inputs are billed through the derived metrics, not unpriced
			for _, u := range res.Unpriced {
				if !strings.HasPrefix(u.MetricKey, "disk.") {
					t.Errorf("input %s reported unpriced", u.MetricKey)
				}
			}
		})
	}
}

// Minimum charge: Storage Gold at least 50.00 a month.
func TestMinimumCharge(t *testing.T) {
	sep := Period{From: at("2026-09-01 00:00"), To: at("2026-10-01 00:00")}
	gold := func(from string) PriceEntry {
		p := price("gold", "", "storage", "1.00", GranularityMonth, from, "")
		p.MinimumCharge = nd("50.00")
		return p
	}
	cases := []struct {
		name  string
		price PriceEntry
		gb    string
		want  []string
		total string
	}{
		{"usage below the minimum is topped up", gold(""), "30", []string{
			"payg storage 09-01 00:00..10-01 00:00 30 × 1 = 30.00 EUR [entry:gold]",
			"minimum storage 09-01 00:00..10-01 00:00 1 × 20 = 20.00 EUR [entry:gold]",
		}, "EUR 50.00"},
		{"usage above the minimum has no minimum line", gold(""), "60", []string{
			"payg storage 09-01 00:00..10-01 00:00 60 × 1 = 60.00 EUR [entry:gold]",
		}, "EUR 60.00"},
		// valid 15 of 30 days: minimum 25.00; 10 GB for those days is 5 GB-month.
		{"a price valid for part of the month prorates the minimum", gold("2026-09-16 00:00"), "10", []string{
			"payg storage 09-16 00:00..10-01 00:00 5 × 1 = 5.00 EUR [entry:gold]",
			"minimum storage 09-01 00:00..10-01 00:00 1 × 20 = 20.00 EUR [entry:gold]",
		}, "EUR 25.00"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := catalog()
			cfg.Prices = []PriceEntry{c.price}
			res := rateWith2(t, cfg, sep, []Series{gauge("storage.gb", "vol1", sep.To, "2026-09-01 00:00", c.gb)})
			diff(t, "lines", describeAll(res.Lines, time.UTC), c.want)
			if got := describeTotals(res.Totals); got != c.total {
				t.Errorf("totals %q, want %q", got, c.total)
			}
		})
	}
}

func TestFormulaValidation(t *testing.T) {
	cfg := vmwareCatalog(t)
	cfg.Metrics[0].Aggregation = AggregationSum // vdc.cpu_allocation_ghz, an input, is now a counter
	cfg.Products[0].CustomerPeak = true         // on a max metric: allowed
	cfg.Products[1].CustomerPeak = true         // on a time-weighted average: refused
	_, err := New(cfg)
	for _, want := range []string{
		`metrics[7].expression: "vdc.cpu_allocation_ghz" is a sum metric`,
		"products[1].customer_peak: needs a max metric",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New: %v, want %q", err, want)
		}
	}
}

func withDims(s Series, kv ...string) Series {
	s.Dimensions = map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		s.Dimensions[kv[i]] = kv[i+1]
	}
	return s
}

// rateWith2 rates September and groups the lines per customer and resource.
func rateWith2(t *testing.T, cfg Config, p Period, series []Series) *Result {
	t.Helper()
	res, err := engine(t, cfg).Rate(Request{CustomerID: "acme", Period: p, Series: series})
	if err != nil {
		t.Fatalf("Rate: %v", err)
	}
	checkInvariants(t, res)
	// shown per customer and resource over the period
	if res.Lines, err = GroupLines(res.Lines, Grouping{Keys: []GroupKey{GroupCustomer, GroupResource}, Granularity: GranularityPeriod}); err != nil {
		t.Fatal(err)
	}
	return res
}

// A customer who did not use a product pays no minimum for it.
func TestMinimumChargeNeedsUsage(t *testing.T) {
	cfg := catalog()
	p := price("gold", "", "storage", "1.00", GranularityMonth, "", "")
	p.MinimumCharge = nd("50.00")
	cfg.Prices = []PriceEntry{p, price("t", "", "transfer", "1.00", GranularityMonth, "", "")}
	sep := Period{From: at("2026-09-01 00:00"), To: at("2026-10-01 00:00")}
	res := rateWith2(t, cfg, sep, []Series{{MetricKey: "net.gb", ResourceID: "r", Pieces: []Piece{CounterPiece(at("2026-09-03 00:00"), d("5"))}}})
	diff(t, "lines", describeAll(res.Lines, time.UTC), []string{"payg transfer 09-01 00:00..10-01 00:00 5 × 1 = 5.00 EUR [entry:t]"})
}
