package rating

import "testing"

func contract(id, product string, model ContractModel, qty, fee string, g Granularity, overage string, pr Proration, start, end string) Contract {
	c := Contract{
		ID: id, CustomerID: "acme", ProductID: product, Model: model, CommittedQuantity: d(qty), Fee: d(fee),
		FeeGranularity: g, OverageUnitPrice: d(overage), Currency: "EUR", Proration: pr, Start: at(start),
	}
	if end != "" {
		c.End = at(end)
	}
	return c
}

func TestContracts(t *testing.T) {
	endApril := at("2026-05-01 00:00")
	monthly := []PriceEntry{price("s-def", "", "storage", "0.10", GranularityMonth, "", "")}
	storage := func(gb string) []Series {
		return []Series{gauge("storage.gb", "disk1", endApril, "2026-04-01 00:00", gb)}
	}
	committed := func(pr Proration, start, end string) []Contract {
		return []Contract{contract("k1", "storage", ContractCommitted, "100", "50.00", GranularityMonth, "0", pr, start, end)}
	}
	cases := []ratingCase{
		{
			// 100 GB committed at 50.00/month, 60 GB used: one line 50.00, no PAYG.
			name: "committed monthly, usage below the commitment", prices: monthly, series: storage("60"),
			contracts: committed(ProrationNone, "2026-01-01 00:00", ""),
			want:      []string{"committed storage 04-01 00:00..05-01 00:00 1 × 50 = 50.00 EUR [contract:k1]"},
			total:     "EUR 50.00",
		},
		{
			// The fee is charged whatever the usage, even none.
			name: "committed fee without usage", prices: monthly,
			contracts: committed(ProrationNone, "2026-01-01 00:00", ""),
			want:      []string{"committed storage 04-01 00:00..05-01 00:00 1 × 50 = 50.00 EUR [contract:k1]"},
			total:     "EUR 50.00",
		},
		{
			// Contract from the 11th, daily proration: 50 × 20/30 = 50 × 0.666666666667
			// = 33.33333333335 → 33.33. Before it, PAYG: 60 GB × 10/30 = 20 × 0.10 = 2.00.
			// Used 60 × 20/30 = 40 < 100 × 20/30: no excess.
			name: "proration daily, contract starts on the 11th", prices: monthly, series: storage("60"),
			contracts: committed(ProrationDaily, "2026-04-11 00:00", ""),
			want: []string{
				"payg storage 04-01 00:00..04-11 00:00 20 × 0.1 = 2.00 EUR [entry:s-def]",
				"committed storage 04-11 00:00..05-01 00:00 0.666666666667 × 50 = 33.33 EUR [contract:k1]",
			},
			total: "EUR 35.33",
		},
		{
			// Starting at noon on the 11th the 11th still counts: 20/30 → 33.33;
			// PAYG before: 60 × 10.5/30 = 21 × 0.10 = 2.10.
			name: "proration daily, a partial day counts whole", prices: monthly, series: storage("60"),
			contracts: committed(ProrationDaily, "2026-04-11 12:00", ""),
			want: []string{
				"payg storage 04-01 00:00..04-11 12:00 21 × 0.1 = 2.10 EUR [entry:s-def]",
				"committed storage 04-11 12:00..05-01 00:00 0.666666666667 × 50 = 33.33 EUR [contract:k1]",
			},
			total: "EUR 35.43",
		},
		{
			// Hourly: 19.5 days × 24 = 468 of 720 hours = 0.65 × 50 = 32.50.
			name: "proration hourly", prices: monthly, series: storage("60"),
			contracts: committed(ProrationHourly, "2026-04-11 12:00", ""),
			want: []string{
				"payg storage 04-01 00:00..04-11 12:00 21 × 0.1 = 2.10 EUR [entry:s-def]",
				"committed storage 04-11 12:00..05-01 00:00 0.65 × 50 = 32.50 EUR [contract:k1]",
			},
			total: "EUR 34.60",
		},
		{
			// None: a partly covered month costs the full fee: 50.00 (+ PAYG 2.00).
			name: "proration none", prices: monthly, series: storage("60"),
			contracts: committed(ProrationNone, "2026-04-11 00:00", ""),
			want: []string{
				"payg storage 04-01 00:00..04-11 00:00 20 × 0.1 = 2.00 EUR [entry:s-def]",
				"committed storage 04-11 00:00..05-01 00:00 1 × 50 = 50.00 EUR [contract:k1]",
			},
			total: "EUR 52.00",
		},
		{
			// Contract ends on the 21st: April 1–20 = 20/30 → 33.33; PAYG after: 20 × 0.10.
			name: "proration daily, contract ends on the 21st", prices: monthly, series: storage("60"),
			contracts: committed(ProrationDaily, "2026-03-01 00:00", "2026-04-21 00:00"),
			want: []string{
				"payg storage 04-21 00:00..05-01 00:00 20 × 0.1 = 2.00 EUR [entry:s-def]",
				"committed storage 04-01 00:00..04-21 00:00 0.666666666667 × 50 = 33.33 EUR [contract:k1]",
			},
			total: "EUR 35.33",
		},
		{
			// The period clips the month like a contract edge: 1st–15th = 15/30 × 50 = 25.00.
			name: "proration daily, period of half a month", prices: monthly,
			period:    Period{From: at("2026-04-01 00:00"), To: at("2026-04-16 00:00")},
			contracts: committed(ProrationDaily, "2026-01-01 00:00", ""),
			want:      []string{"committed storage 04-01 00:00..04-16 00:00 0.5 × 50 = 25.00 EUR [contract:k1]"},
			total:     "EUR 25.00",
		},
		{
			// 120 GB average, commitment 100 at 50.00, overage 0.10:
			// committed 50.00 + overage (120 − 100) × 0.10 = 2.00.
			name: "committed + overage, monthly", prices: monthly, series: storage("120"),
			contracts: []Contract{contract("k1", "storage", ContractCommittedOverage, "100", "50.00", GranularityMonth, "0.10", ProrationNone, "2026-01-01 00:00", "")},
			want: []string{
				"committed storage 04-01 00:00..05-01 00:00 1 × 50 = 50.00 EUR [contract:k1]",
				"overage storage 04-01 00:00..05-01 00:00 20 × 0.1 = 2.00 EUR [contract:k1]",
			},
			total: "EUR 52.00",
		},
		{
			// The daily example: commit 100 GB at 1.00/day, overage 0.02 per GB-day,
			// 150 GB for 10 days of a 30-day month: committed 30 × 1.00 = 30.00 and
			// overage 50 × 10 × 0.02 = 10.00 (shown per period).
			name:      "committed + overage, daily",
			series:    []Series{gauge("storage.gb", "disk1", at("2026-04-11 00:00"), "2026-04-01 00:00", "150")},
			contracts: []Contract{contract("k2", "storage", ContractCommittedOverage, "100", "1.00", GranularityDay, "0.02", ProrationNone, "2026-01-01 00:00", "")},
			group:     GranularityPeriod,
			lines:     40,
			want: []string{
				"committed storage 04-01 00:00..05-01 00:00 30 × 1 = 30.00 EUR [contract:k2]",
				"overage storage 04-01 00:00..04-11 00:00 500 × 0.02 = 10.00 EUR [contract:k2]",
			},
			total: "EUR 40.00",
		},
		{
			// Overage under daily proration from the 11th, 120 GB all month:
			// PAYG before: 120 × 10/30 = 40 × 0.10 = 4.00; fee 33.33; 120 GB held while
			// the commitment of 100 is in force: overage (120 − 100) × 20/30 = 13.333333333333 × 0.10 = 1.33.
			name: "committed + overage, prorated commitment", prices: monthly, series: storage("120"),
			contracts: []Contract{contract("k1", "storage", ContractCommittedOverage, "100", "50.00", GranularityMonth, "0.10", ProrationDaily, "2026-04-11 00:00", "")},
			want: []string{
				"payg storage 04-01 00:00..04-11 00:00 40 × 0.1 = 4.00 EUR [entry:s-def]",
				"committed storage 04-11 00:00..05-01 00:00 0.666666666667 × 50 = 33.33 EUR [contract:k1]",
				"overage storage 04-11 00:00..05-01 00:00 13.333333333333 × 0.1 = 1.33 EUR [contract:k1]",
			},
			total: "EUR 38.66",
		},
		{
			// Plain committed, 120 GB against 100: the 20 GB month-average excess
			// is rated at the hourly list price, as 20 × 720 h = 14400 GB-h × 0.0002 = 2.88.
			name:      "committed, excess rated pay-as-you-go at the list price",
			prices:    []PriceEntry{price("s-h", "", "storage", "0.0002", GranularityHour, "", "")},
			series:    storage("120"),
			contracts: committed(ProrationNone, "2026-01-01 00:00", ""),
			want: []string{
				"committed storage 04-01 00:00..05-01 00:00 1 × 50 = 50.00 EUR [contract:k1]",
				"payg storage 04-01 00:00..05-01 00:00 14400 × 0.0002 = 2.88 EUR [entry:s-h contract:k1]",
			},
			total: "EUR 52.88",
		},
		{
			// A price change on the 16th shares the 20 GB excess by usage: 60 and 60 of
			// 120 → 10 and 10, × 720 h = 7200 GB-h each: × 0.0002 = 1.44, × 0.0003 = 2.16.
			name: "committed, excess split by a price change",
			prices: []PriceEntry{
				price("s-h1", "", "storage", "0.0002", GranularityHour, "", "2026-04-16 00:00"),
				price("s-h2", "", "storage", "0.0003", GranularityHour, "2026-04-16 00:00", ""),
			},
			series:    storage("120"),
			contracts: committed(ProrationNone, "2026-01-01 00:00", ""),
			want: []string{
				"committed storage 04-01 00:00..05-01 00:00 1 × 50 = 50.00 EUR [contract:k1]",
				"payg storage 04-01 00:00..04-16 00:00 7200 × 0.0002 = 1.44 EUR [entry:s-h1 contract:k1]",
				"payg storage 04-16 00:00..05-01 00:00 7200 × 0.0003 = 2.16 EUR [entry:s-h2 contract:k1]",
			},
			total: "EUR 53.60",
		},
		{
			// No price for the excess: it is reported unpriced (20 GB month-average), not dropped.
			name:      "committed, excess without a price",
			series:    storage("120"),
			contracts: committed(ProrationNone, "2026-01-01 00:00", ""),
			want:      []string{"committed storage 04-01 00:00..05-01 00:00 1 × 50 = 50.00 EUR [contract:k1]"},
			total:     "EUR 50.00",
			unpriced:  []string{"no_price storage/storage.gb  04-01 00:00..05-01 00:00 20"},
		},
		{
			// A volume (sum) keeps its unit: 1200 GB against 1000 → 200 × 0.05 = 10.00.
			name:      "committed, excess of a counter",
			prices:    []PriceEntry{price("t", "", "transfer", "0.05", GranularityMonth, "", "")},
			series:    []Series{{MetricKey: "net.gb", ResourceID: "r1", Pieces: []Piece{CounterPiece(at("2026-04-10 00:00"), d("1200"))}}},
			contracts: []Contract{contract("k3", "transfer", ContractCommitted, "1000", "20.00", GranularityMonth, "0", ProrationNone, "2026-01-01 00:00", "")},
			want: []string{
				"committed transfer 04-01 00:00..05-01 00:00 1 × 20 = 20.00 EUR [contract:k3]",
				"payg transfer 04-01 00:00..05-01 00:00 200 × 0.05 = 10.00 EUR [entry:t contract:k3]",
			},
			total: "EUR 30.00",
		},
	}
	for _, c := range cases {
		t.Run(c.name, c.run)
	}
}

func TestContractProrationInDSTMonth(t *testing.T) {
	// March 2026 in Amsterdam has 743 hours. A contract from March 29 00:00
	// local covers 23 + 24 + 24 = 71 of them: 100.00 × 71/743
	// = 100 × 0.095558546433 = 9.5558546433 → 9.56.
	c := ratingCase{
		loc:    amsterdam,
		period: Period{From: atIn(amsterdam, "2026-03-01 00:00"), To: atIn(amsterdam, "2026-04-01 00:00")},
		contracts: []Contract{{
			ID: "k", CustomerID: "acme", ProductID: "storage", Model: ContractCommitted, CommittedQuantity: d("1"),
			Fee: d("100.00"), FeeGranularity: GranularityMonth, Currency: "EUR", Proration: ProrationHourly,
			Start: atIn(amsterdam, "2026-03-29 00:00"),
		}},
		want:  []string{"committed storage 03-29 00:00..04-01 00:00 0.095558546433 × 100 = 9.56 EUR [contract:k]"},
		total: "EUR 9.56",
	}
	if n := len(Granules(c.period, GranularityHour, amsterdam)); n != 743 {
		t.Fatalf("March 2026 in Amsterdam has %d hours, want 743", n)
	}
	c.run(t)
}
