package rating

import "testing"

// The worked examples of a cut granule (docs/concepts.md, "A cut granule is
// charged once"): examples A, B and C of the issue that found the bug, a
// campaign starting mid-month on a monthly max product, and a unique count
// across a price change.
func TestCutGranules(t *testing.T) {
	september := Period{From: at("2026-09-01 00:00"), To: at("2026-10-01 00:00")}
	october := Period{From: at("2026-10-01 00:00"), To: at("2026-11-01 00:00")}
	november := Period{From: at("2026-11-01 00:00"), To: at("2026-12-01 00:00")}
	disk := gauge("vm.vcpu_peak", "disk1", at("2026-12-01 00:00"), "2026-11-01 00:00", "10")
	cases := []ratingCase{
		{
			// A: 4 vCPU committed at 120.00/month from the 11th, daily proration,
			// 4 vCPU held from the 11th: 120 × 20/30 = 80.00 and no excess.
			name:   "A: prorated commitment fully used has no excess",
			period: september,
			prices: []PriceEntry{price("p", "", "vcpu-peak", "0.01", GranularityHour, "", "")},
			series: []Series{gauge("vm.vcpu_peak", "vm1", at("2026-10-01 00:00"), "2026-09-11 00:00", "4")},
			contracts: []Contract{contract("k", "vcpu-peak", ContractCommitted, "4", "120.00", GranularityMonth, "0",
				ProrationDaily, "2026-09-11 00:00", "")},
			want:  []string{"committed vcpu-peak 09-11 00:00..10-01 00:00 0.666666666667 × 120 = 80.00 EUR [contract:k]"},
			total: "EUR 80.00",
		},
		{
			// A with 5 vCPU: 1 vCPU above the commitment for 20 days = 480 vCPU-hours.
			name:   "A': one vCPU above a prorated commitment is exactly its hours",
			period: september,
			prices: []PriceEntry{price("p", "", "vcpu-peak", "0.01", GranularityHour, "", "")},
			series: []Series{gauge("vm.vcpu_peak", "vm1", at("2026-10-01 00:00"), "2026-09-11 00:00", "5")},
			contracts: []Contract{contract("k", "vcpu-peak", ContractCommitted, "4", "120.00", GranularityMonth, "0",
				ProrationDaily, "2026-09-11 00:00", "")},
			want: []string{
				"committed vcpu-peak 09-11 00:00..10-01 00:00 0.666666666667 × 120 = 80.00 EUR [contract:k]",
				"payg vcpu-peak 09-11 00:00..10-01 00:00 480 × 0.01 = 4.80 EUR [entry:p contract:k]",
			},
			total: "EUR 84.80",
		},
		{
			// B: 10 GB all November, 3.00 per GB-month until the 7th, 4.50 from it:
			// 10 × 6/30 × 3.00 + 10 × 24/30 × 4.50 = 6.00 + 36.00.
			name:   "B: a monthly max price changing mid-month shares the month",
			period: november,
			prices: []PriceEntry{
				price("p1", "", "vcpu-peak", "3.00", GranularityMonth, "", "2026-11-07 00:00"),
				price("p2", "", "vcpu-peak", "4.50", GranularityMonth, "2026-11-07 00:00", ""),
			},
			series: []Series{disk},
			want: []string{
				"payg vcpu-peak 11-01 00:00..11-07 00:00 2 × 3 = 6.00 EUR [entry:p1]",
				"payg vcpu-peak 11-07 00:00..12-01 00:00 8 × 4.5 = 36.00 EUR [entry:p2]",
			},
			total: "EUR 42.00",
		},
		{
			// B with a default campaign from the 7th: the same shares.
			name:   "a campaign from mid-month on a monthly max product",
			period: november,
			prices: []PriceEntry{price("p1", "", "vcpu-peak", "3.00", GranularityMonth, "", "")},
			campaigns: []Campaign{{ID: "promo", Currency: "EUR", ValidFrom: at("2026-11-07 00:00"),
				Entries: []CampaignEntry{{ProductID: "vcpu-peak", UnitPrice: nd("4.50")}}}},
			series: []Series{disk},
			want: []string{
				"payg vcpu-peak 11-01 00:00..11-07 00:00 2 × 3 = 6.00 EUR [entry:p1]",
				"payg vcpu-peak 11-07 00:00..12-01 00:00 8 × 4.5 = 36.00 EUR [campaign:promo]",
			},
			total: "EUR 42.00",
		},
		{
			// B with the customer's own list from the 7th.
			name:   "a customer list from mid-month on a monthly max product",
			period: november,
			prices: []PriceEntry{
				price("p1", "", "vcpu-peak", "3.00", GranularityMonth, "", ""),
				price("c1", "acme", "vcpu-peak", "4.50", GranularityMonth, "2026-11-07 00:00", ""),
			},
			series: []Series{disk},
			want: []string{
				"payg vcpu-peak 11-01 00:00..11-07 00:00 2 × 3 = 6.00 EUR [entry:p1]",
				"payg vcpu-peak 11-07 00:00..12-01 00:00 8 × 4.5 = 36.00 EUR [entry:c1]",
			},
			total: "EUR 42.00",
		},
		{
			// A disk that exists only after the change takes the whole pay-as-you-go month.
			name:   "a level with usage in one piece only takes the whole granule there",
			period: november,
			prices: []PriceEntry{
				price("p1", "", "vcpu-peak", "3.00", GranularityMonth, "", "2026-11-07 00:00"),
				price("p2", "", "vcpu-peak", "4.50", GranularityMonth, "2026-11-07 00:00", ""),
			},
			series: []Series{gauge("vm.vcpu_peak", "disk1", at("2026-11-20 00:00"), "2026-11-10 00:00", "10")},
			want:   []string{"payg vcpu-peak 11-07 00:00..12-01 00:00 10 × 4.5 = 45.00 EUR [entry:p2]"},
			total:  "EUR 45.00",
		},
		{
			// C: first 50 units free per month, then 1.00 until the 20th and 1.50
			// from it; 40 units on the 3rd and 40 on the 25th. The ladder runs over
			// the month in order of use: 40 free, then 10 free and 30 × 1.50.
			name:   "C: a free allowance is given once per granule",
			period: october,
			prices: []PriceEntry{
				graduated(price("t1", "", "transfer", "0", GranularityMonth, "", "2026-10-20 00:00"), "50", "0", "1.00"),
				graduated(price("t2", "", "transfer", "0", GranularityMonth, "2026-10-20 00:00", ""), "50", "0", "1.50"),
			},
			series: []Series{{MetricKey: "net.gb", ResourceID: "r1", Pieces: []Piece{
				CounterPiece(at("2026-10-03 12:00"), d("40")), CounterPiece(at("2026-10-25 12:00"), d("40")),
			}}},
			want: []string{
				"payg transfer 10-01 00:00..10-20 00:00 40 × 0 = 0.00 EUR [entry:t1 tier:1]",
				"payg transfer 10-20 00:00..11-01 00:00 10 × 0 = 0.00 EUR [entry:t2 tier:1]",
				"payg transfer 10-20 00:00..11-01 00:00 30 × 1.5 = 45.00 EUR [entry:t2 tier:2]",
			},
			total: "EUR 45.00",
		},
		{
			// C as a volume price: the month's 80 units fall in the second tier of each price.
			name:   "a volume tier is chosen by the granule's whole quantity",
			period: october,
			prices: []PriceEntry{
				volume(price("t1", "", "transfer", "0", GranularityMonth, "", "2026-10-20 00:00"), "50", "0", "1.00"),
				volume(price("t2", "", "transfer", "0", GranularityMonth, "2026-10-20 00:00", ""), "50", "0", "1.50"),
			},
			series: []Series{{MetricKey: "net.gb", ResourceID: "r1", Pieces: []Piece{
				CounterPiece(at("2026-10-03 12:00"), d("40")), CounterPiece(at("2026-10-25 12:00"), d("40")),
			}}},
			want: []string{
				"payg transfer 10-01 00:00..10-20 00:00 40 × 1 = 40.00 EUR [entry:t1 tier:2]",
				"payg transfer 10-20 00:00..11-01 00:00 40 × 1.5 = 60.00 EUR [entry:t2 tier:2]",
			},
			total: "EUR 100.00",
		},
		{
			// Three VMs protected in September, 2.00 per VM-month until the 16th and
			// 3.00 from it: the month's 3 VMs are shared 15/30 and 15/30.
			name:   "a unique count across a price change",
			period: september,
			prices: []PriceEntry{
				price("b1", "", "backup", "2.00", GranularityMonth, "", "2026-09-16 00:00"),
				price("b2", "", "backup", "3.00", GranularityMonth, "2026-09-16 00:00", ""),
			},
			series: []Series{{MetricKey: "backup.protected_vms", ResourceID: "job1", Pieces: []Piece{
				{Start: at("2026-09-02 00:00"), End: at("2026-09-02 00:00"), Unique: []string{"vm1", "vm2"}},
				{Start: at("2026-09-20 00:00"), End: at("2026-09-20 00:00"), Unique: []string{"vm2", "vm3"}},
			}}},
			want: []string{
				"payg backup 09-01 00:00..09-16 00:00 1.5 × 2 = 3.00 EUR [entry:b1]",
				"payg backup 09-16 00:00..10-01 00:00 1.5 × 3 = 4.50 EUR [entry:b2]",
			},
			total: "EUR 7.50",
		},
	}
	for _, c := range cases {
		t.Run(c.name, c.run)
	}
}

func graduated(p PriceEntry, upTo, first, rest string) PriceEntry {
	p.Tiers = &Tiers{Mode: TierGraduated, Tiers: []Tier{{UpTo: nd(upTo), UnitPrice: d(first)}, {UnitPrice: d(rest)}}}
	return p
}

func volume(p PriceEntry, upTo, first, rest string) PriceEntry {
	p = graduated(p, upTo, first, rest)
	p.Tiers.Mode = TierVolume
	return p
}
