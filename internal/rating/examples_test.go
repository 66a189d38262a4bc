package rating

import (
	"testing"
	"time"

	"github.com/billingd/billingd/internal/money"
	"github.com/shopspring/decimal"
)

// ratingCase rates one customer ("acme") and compares the lines, grouped
// per customer and resource by group (0 keeps the raw lines).
type ratingCase struct {
	name      string
	loc       *time.Location // nil: UTC
	period    Period         // zero: April 2026
	prices    []PriceEntry
	campaigns []Campaign
	contracts []Contract
	series    []Series
	group     Granularity
	lines     int // raw line count, when checked
	want      []string
	total     string
	unpriced  []string
}

func (c ratingCase) run(t *testing.T) {
	t.Helper()
	cfg := catalog()
	cfg.Prices, cfg.Campaigns, cfg.Contracts = c.prices, c.campaigns, c.contracts
	loc := c.loc
	if loc == nil {
		loc = time.UTC
	}
	p := c.period
	if p.From.IsZero() {
		p = april
	}
	res, err := engine(t, cfg).Rate(Request{CustomerID: "acme", Location: loc, Period: p, Series: c.series})
	if err != nil {
		t.Fatalf("Rate: %v", err)
	}
	checkInvariants(t, res)
	if c.lines > 0 && len(res.Lines) != c.lines {
		t.Errorf("%d raw lines, want %d", len(res.Lines), c.lines)
	}
	lines, totals := res.Lines, res.Totals
	if c.group != GranularityUnspecified {
		if lines, err = GroupLines(lines, Grouping{Keys: []GroupKey{GroupCustomer, GroupResource}, Granularity: c.group, Location: loc}); err != nil {
			t.Fatal(err)
		}
		// What a caller shows: the grouped lines and their totals.
		checkInvariants(t, &Result{Lines: lines, Summary: Summary{Totals: Totals(lines)}})
		totals = Totals(lines)
	}
	diff(t, "lines", describeAll(lines, loc), c.want)
	if got := describeTotals(totals); got != c.total {
		t.Errorf("totals %q, want %q", got, c.total)
	}
	diff(t, "unpriced", describeUnpriced(res.Unpriced, loc), c.unpriced)
}

// checkInvariants holds for every result: each amount is within one minor
// unit of its quantity × unit price (the lines of a cut granule are rounded
// as one running total; a line alone is exactly its rounded product), and
// the totals are the exact sums of the amounts.
func checkInvariants(t testing.TB, res *Result) {
	t.Helper()
	for _, l := range res.Lines {
		cur := money.MustLookup(l.Currency)
		unit := decimal.New(1, -cur.Scale)
		if off := l.Amount.Sub(l.Quantity.Mul(l.UnitPrice)).Abs(); !off.LessThan(unit) {
			t.Errorf("amount %s is %s from %s × %s", l.Amount, off, l.Quantity, l.UnitPrice)
		}
	}
	want := map[string]string{}
	for _, tot := range Totals(res.Lines) {
		want[tot.Currency] = tot.Amount.String()
	}
	if len(want) != len(res.Totals) {
		t.Errorf("totals %v, lines sum to %v", res.Totals, want)
	}
	for _, tot := range res.Totals {
		if want[tot.Currency] != tot.Amount.String() {
			t.Errorf("total %s %s, lines sum to %s", tot.Currency, tot.Amount, want[tot.Currency])
		}
	}
}

func TestPayAsYouGo(t *testing.T) {
	endApril := at("2026-05-01 00:00")
	cases := []ratingCase{
		{
			// 4 vCPU × 10 h × 0.01 + 8 vCPU × 14 h × 0.01 = 0.40 + 1.12 = 1.52:
			// 24 hourly lines of 0.04 and 0.08, shown as one day.
			name:   "hourly vCPU, 4 for 10 h then 8 for 14 h",
			prices: []PriceEntry{price("p-vcpu", "", "vcpu", "0.01", GranularityHour, "", "")},
			series: []Series{gauge("vm.vcpu", "vm1", at("2026-04-02 00:00"), "2026-04-01 00:00", "4", "2026-04-01 10:00", "8")},
			group:  GranularityDay,
			lines:  24,
			want:   []string{"payg vcpu 04-01 00:00..04-02 00:00 152 × 0.01 = 1.52 EUR [entry:p-vcpu]"},
			total:  "EUR 1.52",
		},
		{
			// The example: 4·10·0.01 + 8·5·0.01 = 0.40 + 0.40 = 0.80; the VM ends after 15 h.
			name:   "hourly vCPU, 4 for 10 h then 8 for 5 h",
			prices: []PriceEntry{price("p-vcpu", "", "vcpu", "0.01", GranularityHour, "", "")},
			series: []Series{gauge("vm.vcpu", "vm1", at("2026-04-01 15:00"), "2026-04-01 00:00", "4", "2026-04-01 10:00", "8")},
			group:  GranularityDay,
			lines:  15,
			want:   []string{"payg vcpu 04-01 00:00..04-01 15:00 80 × 0.01 = 0.80 EUR [entry:p-vcpu]"},
			total:  "EUR 0.80",
		},
		{
			// Monthly price 0.10 until the 16th, 0.12 from then; 100 GB all month:
			// 100 × 15/30 = 50 GB-month at 0.10 = 5.00, and 50 at 0.12 = 6.00.
			name: "price change on the 16th splits the monthly line",
			prices: []PriceEntry{
				price("s-old", "", "storage", "0.10", GranularityMonth, "", "2026-04-16 00:00"),
				price("s-new", "", "storage", "0.12", GranularityMonth, "2026-04-16 00:00", ""),
			},
			series: []Series{gauge("storage.gb", "disk1", endApril, "2026-04-01 00:00", "100")},
			want: []string{
				"payg storage 04-01 00:00..04-16 00:00 50 × 0.1 = 5.00 EUR [entry:s-old]",
				"payg storage 04-16 00:00..05-01 00:00 50 × 0.12 = 6.00 EUR [entry:s-new]",
			},
			total: "EUR 11.00",
		},
		{
			// One unit of each for 10 days, daily prices.
			// vcpu: acme's list (2.00) beats the default list (3.00); acme's
			// campaign "half" (−50 %, 1st–7th) beats acme's list inside its window:
			// 7 × 1.00; days 8 and 10 at the list: 2 × 2.00, on two lines
			// since the flash campaign priced the 9th between them, at its
			// unit price 0.50 (granularity from the list): 11.50.
			// vcpu-peak has only a default price: 10 × 1.00 = 10.00.
			// storage: default list 5.00 with default campaign 20 % off:
			// 10 × 4.00 = 40.00. Total 61.50.
			name: "campaigns and lists: customer campaign → customer list → default campaign → default list",
			prices: []PriceEntry{
				price("v-def", "", "vcpu", "3.00", GranularityDay, "", ""),
				price("v-acme", "acme", "vcpu", "2.00", GranularityDay, "", ""),
				price("pk-def", "", "vcpu-peak", "1.00", GranularityDay, "", ""),
				price("s-def", "", "storage", "5.00", GranularityDay, "", ""),
			},
			campaigns: []Campaign{
				{ID: "half", CustomerID: "acme", ValidFrom: at("2026-04-01 00:00"), ValidTo: at("2026-04-08 00:00"),
					Entries: []CampaignEntry{{ProductID: "vcpu", DiscountPercent: nd("50")}}},
				{ID: "flash", CustomerID: "acme", Currency: "EUR", ValidFrom: at("2026-04-09 00:00"), ValidTo: at("2026-04-10 00:00"),
					Entries: []CampaignEntry{{ProductID: "vcpu", UnitPrice: nd("0.50")}}},
				{ID: "spring20", Currency: "EUR", ValidFrom: at("2026-03-01 00:00"), ValidTo: at("2026-06-01 00:00"),
					Entries: []CampaignEntry{{ProductID: "storage", DiscountPercent: nd("20")}}},
			},
			series: []Series{
				gauge("vm.vcpu", "vm1", at("2026-04-11 00:00"), "2026-04-01 00:00", "1"),
				gauge("vm.vcpu_peak", "vm1", at("2026-04-11 00:00"), "2026-04-01 00:00", "1"),
				gauge("storage.gb", "disk1", at("2026-04-11 00:00"), "2026-04-01 00:00", "1"),
			},
			group: GranularityPeriod,
			want: []string{
				"payg vcpu 04-01 00:00..04-08 00:00 7 × 1 = 7.00 EUR [entry:v-acme campaign:half]",
				"payg vcpu 04-08 00:00..04-09 00:00 1 × 2 = 2.00 EUR [entry:v-acme]",
				"payg vcpu 04-10 00:00..04-11 00:00 1 × 2 = 2.00 EUR [entry:v-acme]",
				"payg vcpu 04-09 00:00..04-10 00:00 1 × 0.5 = 0.50 EUR [campaign:flash]",
				"payg vcpu-peak 04-01 00:00..04-11 00:00 10 × 1 = 10.00 EUR [entry:pk-def]",
				"payg storage 04-01 00:00..04-11 00:00 10 × 4 = 40.00 EUR [entry:s-def campaign:spring20]",
			},
			total: "EUR 61.50",
		},
		{
			// A customer percent campaign over a default percent campaign stacks:
			// 10.00 × 0.90 × 0.80 = 7.20 per day, one day.
			name:   "stacked percent campaigns",
			prices: []PriceEntry{price("v-def", "", "vcpu", "10.00", GranularityDay, "", "")},
			campaigns: []Campaign{
				{ID: "loyal10", CustomerID: "acme", Entries: []CampaignEntry{{ProductID: "vcpu", DiscountPercent: nd("10")}}},
				{ID: "spring20", Entries: []CampaignEntry{{ProductID: "vcpu", DiscountPercent: nd("20")}}},
			},
			series: []Series{gauge("vm.vcpu", "vm1", at("2026-04-02 00:00"), "2026-04-01 00:00", "1")},
			want:   []string{"payg vcpu 04-01 00:00..04-02 00:00 1 × 7.2 = 7.20 EUR [entry:v-def campaign:loyal10+spring20]"},
			total:  "EUR 7.20",
		},
		{
			// Same samples, three aggregations, 1.00 per unit-day: 2 vCPU 00–12 h,
			// 8 vCPU 12–18 h, 3 vCPU 18–24 h.
			// time_weighted_avg = (2·12 + 8·6 + 3·6)/24 = 90/24 = 3.75 → 3.75
			// max = 8 → 8.00; latest = 3 → 3.00.
			// A VM of 4 vCPU for half of the 2nd: 4·12/24 = 2 vCPU-day average → 2.00.
			name: "time_weighted_avg, max and latest of the same samples",
			prices: []PriceEntry{
				price("v", "", "vcpu", "1.00", GranularityDay, "", ""),
				price("pk", "", "vcpu-peak", "1.00", GranularityDay, "", ""),
				price("ls", "", "vcpu-last", "1.00", GranularityDay, "", ""),
			},
			series: []Series{
				gauge("vm.vcpu", "vm1", at("2026-04-02 00:00"), "2026-04-01 00:00", "2", "2026-04-01 12:00", "8", "2026-04-01 18:00", "3"),
				gauge("vm.vcpu_peak", "vm1", at("2026-04-02 00:00"), "2026-04-01 00:00", "2", "2026-04-01 12:00", "8", "2026-04-01 18:00", "3"),
				gauge("vm.vcpu_last", "vm1", at("2026-04-02 00:00"), "2026-04-01 00:00", "2", "2026-04-01 12:00", "8", "2026-04-01 18:00", "3"),
				gauge("vm.vcpu", "vm2", at("2026-04-03 00:00"), "2026-04-02 12:00", "4"),
			},
			want: []string{
				"payg vcpu 04-01 00:00..04-02 00:00 3.75 × 1 = 3.75 EUR [entry:v]",
				"payg vcpu-peak 04-01 00:00..04-02 00:00 8 × 1 = 8.00 EUR [entry:pk]",
				"payg vcpu-last 04-01 00:00..04-02 00:00 3 × 1 = 3.00 EUR [entry:ls]",
				"payg vcpu 04-02 00:00..04-03 00:00 2 × 1 = 2.00 EUR [entry:v]",
			},
			total: "EUR 16.75",
		},
		{
			// Protected VMs per day at 0.50: on the 1st {vm1, vm2} then {vm2, vm3}:
			// 3 distinct → 1.50; on the 2nd {vm1, vm1}: 1 → 0.50.
			name:   "unique_count of protected VMs",
			prices: []PriceEntry{price("b-def", "", "backup", "0.50", GranularityDay, "", "")},
			series: []Series{{MetricKey: "backup.protected_vms", ResourceID: "job1", Pieces: []Piece{
				{Start: at("2026-04-01 00:00"), End: at("2026-04-01 12:00"), Unique: []string{"vm1", "vm2"}},
				{Start: at("2026-04-01 12:00"), End: at("2026-04-02 00:00"), Unique: []string{"vm2", "vm3"}},
				{Start: at("2026-04-02 00:00"), End: at("2026-04-02 01:00"), Unique: []string{"vm1", "vm1"}},
			}}},
			want: []string{
				"payg backup 04-01 00:00..04-02 00:00 3 × 0.5 = 1.50 EUR [entry:b-def]",
				"payg backup 04-02 00:00..04-03 00:00 1 × 0.5 = 0.50 EUR [entry:b-def]",
			},
			total: "EUR 2.00",
		},
		{
			// 0.005 per vCPU-hour, 1 vCPU for 24 h, shown per day: the 24 hourly
			// lines merge into one line of 24 vCPU-h whose amount is rounded
			// once, 24 × 0.005 = 0.12 — not the sum of 24 hourly roundings
			// (24 × 0.01 = 0.24, which would double the bill). The shown line
			// is exactly quantity × unit price, and the total is its sum.
			name:   "rounding once per shown line, totals of rounded lines",
			prices: []PriceEntry{price("p", "", "vcpu", "0.005", GranularityHour, "", "")},
			series: []Series{gauge("vm.vcpu", "vm1", at("2026-04-02 00:00"), "2026-04-01 00:00", "1")},
			group:  GranularityDay,
			lines:  24,
			want:   []string{"payg vcpu 04-01 00:00..04-02 00:00 24 × 0.005 = 0.12 EUR [entry:p]"},
			total:  "EUR 0.12",
		},
		{
			// A price from the 16th only; 100 GB all month: 100 × 15/30 = 50 × 0.10
			// = 5.00, the first half reported unpriced (average 100 GB over it);
			// a metric no product uses is reported too (3 + 4 = 7).
			name:   "unpriced usage is reported, not dropped",
			prices: []PriceEntry{price("s-late", "", "storage", "0.10", GranularityMonth, "2026-04-16 00:00", "")},
			series: []Series{
				gauge("storage.gb", "disk1", endApril, "2026-04-01 00:00", "100"),
				{MetricKey: "orphan.metric", ResourceID: "x", Pieces: []Piece{
					CounterPiece(at("2026-04-03 00:00"), d("3")), CounterPiece(at("2026-04-04 00:00"), d("4")),
				}},
			},
			want:  []string{"payg storage 04-16 00:00..05-01 00:00 50 × 0.1 = 5.00 EUR [entry:s-late]"},
			total: "EUR 5.00",
			unpriced: []string{
				// by metric, product, resource, dimensions and time
				"no_product /orphan.metric x 04-01 00:00..05-01 00:00 7",
				"no_price storage/storage.gb disk1 04-01 00:00..04-16 00:00 100",
			},
		},
		{
			// A product filter: the Gold disk matches storage and storage-gold.
			// storage 0.10/GB-month and gold +0.05/GB-month, 10 GB all month: 1.00 + 0.50.
			name: "dimension filter selects products",
			prices: []PriceEntry{
				price("s", "", "storage", "0.10", GranularityMonth, "", ""),
				price("g", "", "storage-gold", "0.05", GranularityMonth, "", ""),
			},
			series: []Series{func() Series {
				s := gauge("storage.gb", "disk1", endApril, "2026-04-01 00:00", "10")
				s.Dimensions = map[string]string{"policy": "gold", DimSite: "ams1"}
				return s
			}()},
			want: []string{
				"payg storage 04-01 00:00..05-01 00:00 10 × 0.1 = 1.00 EUR [entry:s]",
				"payg storage-gold 04-01 00:00..05-01 00:00 10 × 0.05 = 0.50 EUR [entry:g]",
			},
			total: "EUR 1.50",
		},
	}
	for _, c := range cases {
		t.Run(c.name, c.run)
	}
}

func TestTieredPrices(t *testing.T) {
	tiers := func(mode TierMode) *Tiers {
		return &Tiers{Mode: mode, Tiers: []Tier{
			{UpTo: nd("1000"), UnitPrice: d("0.10")},
			{UpTo: nd("5000"), UnitPrice: d("0.08")},
			{UnitPrice: d("0.05")},
		}}
	}
	tiered := func(id string, mode TierMode) PriceEntry {
		p := price(id, "", "transfer", "0", GranularityMonth, "", "")
		p.Tiers = tiers(mode)
		return p
	}
	// Two resources: 800 and 300 + 400 GB. Tiers apply to the customer's 1500 GB.
	transfer := []Series{
		{MetricKey: "net.gb", ResourceID: "r1", Pieces: []Piece{CounterPiece(at("2026-04-03 10:00"), d("800"))}},
		{MetricKey: "net.gb", ResourceID: "r2", Pieces: []Piece{
			CounterPiece(at("2026-04-05 00:00"), d("300")), CounterPiece(at("2026-04-20 00:00"), d("400")),
		}},
	}
	big := []Series{{MetricKey: "net.gb", ResourceID: "r1", Pieces: []Piece{CounterPiece(at("2026-04-03 10:00"), d("6000"))}}}
	cases := []ratingCase{
		{
			// graduated: 1000 × 0.10 = 100.00 and 500 × 0.08 = 40.00 → 140.00
			name:   "graduated",
			prices: []PriceEntry{tiered("t-grad", TierGraduated)},
			series: transfer,
			want: []string{
				"payg transfer 04-01 00:00..05-01 00:00 1000 × 0.1 = 100.00 EUR [entry:t-grad tier:1]",
				"payg transfer 04-01 00:00..05-01 00:00 500 × 0.08 = 40.00 EUR [entry:t-grad tier:2]",
			},
			total: "EUR 140.00",
		},
		{
			// volume: 1500 falls in tier 2: 1500 × 0.08 = 120.00
			name:   "volume",
			prices: []PriceEntry{tiered("t-vol", TierVolume)},
			series: transfer,
			want:   []string{"payg transfer 04-01 00:00..05-01 00:00 1500 × 0.08 = 120.00 EUR [entry:t-vol tier:2]"},
			total:  "EUR 120.00",
		},
		{
			// volume beyond the last bound: 6000 × 0.05 = 300.00
			name:   "volume, open last tier",
			prices: []PriceEntry{tiered("t-vol", TierVolume)},
			series: big,
			want:   []string{"payg transfer 04-01 00:00..05-01 00:00 6000 × 0.05 = 300.00 EUR [entry:t-vol tier:3]"},
			total:  "EUR 300.00",
		},
		{
			// graduated, 6000: 1000 × 0.10 + 4000 × 0.08 + 1000 × 0.05 = 100 + 320 + 50 = 470.00
			name:   "graduated, every tier",
			prices: []PriceEntry{tiered("t-grad", TierGraduated)},
			series: big,
			want: []string{
				"payg transfer 04-01 00:00..05-01 00:00 1000 × 0.1 = 100.00 EUR [entry:t-grad tier:1]",
				"payg transfer 04-01 00:00..05-01 00:00 4000 × 0.08 = 320.00 EUR [entry:t-grad tier:2]",
				"payg transfer 04-01 00:00..05-01 00:00 1000 × 0.05 = 50.00 EUR [entry:t-grad tier:3]",
			},
			total: "EUR 470.00",
		},
		{
			// a 50 % campaign discounts every tier: 1000 × 0.05 + 500 × 0.04 = 50.00 + 20.00
			name:      "graduated under a percent campaign",
			prices:    []PriceEntry{tiered("t-grad", TierGraduated)},
			campaigns: []Campaign{{ID: "half", Entries: []CampaignEntry{{ProductID: "transfer", DiscountPercent: nd("50")}}}},
			series:    transfer,
			want: []string{
				"payg transfer 04-01 00:00..05-01 00:00 1000 × 0.05 = 50.00 EUR [entry:t-grad campaign:half tier:1]",
				"payg transfer 04-01 00:00..05-01 00:00 500 × 0.04 = 20.00 EUR [entry:t-grad campaign:half tier:2]",
			},
			total: "EUR 70.00",
		},
	}
	for _, c := range cases {
		t.Run(c.name, c.run)
	}
}

func TestDaylightSavingTime(t *testing.T) {
	day := func(loc *time.Location, date string) (Period, []Series) {
		from := atIn(loc, date+" 00:00")
		to := from.AddDate(0, 0, 1)
		on := GaugePieces([]Sample{{At: from, Value: d("1")}}, to)
		return Period{From: from, To: to}, []Series{{MetricKey: "vm.vcpu", ResourceID: "vm1", Pieces: on}}
	}
	hourly := []PriceEntry{price("p", "", "vcpu", "0.01", GranularityHour, "", "")}
	var cases []ratingCase
	for _, x := range []struct {
		name  string
		loc   *time.Location
		date  string
		hours int
		want  string
		total string
	}{
		// a VM on all day, 1 vCPU at 0.01 per hour: as many hours as the day has
		{"Amsterdam spring forward: 23 h × 0.01 = 0.23", amsterdam, "2026-03-29", 23, "payg vcpu 03-29 00:00..03-30 00:00 23 × 0.01 = 0.23 EUR [entry:p]", "EUR 0.23"},
		{"Amsterdam fall back: 25 h × 0.01 = 0.25", amsterdam, "2026-10-25", 25, "payg vcpu 10-25 00:00..10-26 00:00 25 × 0.01 = 0.25 EUR [entry:p]", "EUR 0.25"},
		{"Helsinki fall back: 25 h × 0.01 = 0.25", helsinki, "2026-10-25", 25, "payg vcpu 10-25 00:00..10-26 00:00 25 × 0.01 = 0.25 EUR [entry:p]", "EUR 0.25"},
		{"Amsterdam ordinary day: 24 h × 0.01 = 0.24", amsterdam, "2026-10-26", 24, "payg vcpu 10-26 00:00..10-27 00:00 24 × 0.01 = 0.24 EUR [entry:p]", "EUR 0.24"},
	} {
		p, s := day(x.loc, x.date)
		cases = append(cases, ratingCase{name: x.name, loc: x.loc, period: p, prices: hourly, series: s,
			group: GranularityDay, lines: x.hours, want: []string{x.want}, total: x.total})
	}
	for _, c := range cases {
		t.Run(c.name, c.run)
	}
}

func TestLateUsageChangesTheNextResult(t *testing.T) {
	e := engine(t, Config{
		Metrics:  catalog().Metrics,
		Products: catalog().Products,
		Prices:   []PriceEntry{price("p", "", "transfer", "0.10", GranularityDay, "", "")},
	})
	s := Series{MetricKey: "net.gb", ResourceID: "r1", Pieces: []Piece{CounterPiece(at("2026-04-02 10:00"), d("10"))}}
	req := Request{CustomerID: "acme", Period: april, Series: []Series{s}}
	first, err := e.Rate(req)
	if err != nil {
		t.Fatal(err)
	}
	// a late record for the same day: 10 + 5 = 15 GB × 0.10 = 1.50 instead of 1.00
	req.Series[0].Pieces = append(req.Series[0].Pieces, CounterPiece(at("2026-04-02 09:00"), d("5")))
	second, err := e.Rate(req)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := describeTotals(first.Totals), describeTotals(second.Totals); a != "EUR 1.00" || b != "EUR 1.50" {
		t.Errorf("totals before/after the late record: %s / %s, want EUR 1.00 / EUR 1.50", a, b)
	}
}
