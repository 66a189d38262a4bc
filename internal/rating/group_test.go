package rating

import (
	"testing"
	"time"
)

func TestGroupLines(t *testing.T) {
	cfg := catalog()
	cfg.Prices = []PriceEntry{
		price("p1", "", "vcpu", "0.01", GranularityHour, "", "2026-04-01 12:00"),
		price("p2", "", "vcpu", "0.02", GranularityHour, "2026-04-01 12:00", ""),
	}
	dims := func(org, vdc, site string) map[string]string {
		return map[string]string{DimOrganisation: org, DimVDC: vdc, DimSite: site}
	}
	series := func(vm, org, vdc, site string) Series {
		s := gauge("vm.vcpu", vm, at("2026-04-02 00:00"), "2026-04-01 00:00", "1")
		s.Dimensions = dims(org, vdc, site)
		return s
	}
	// Three VMs of 1 vCPU for a day: vm1, vm2 in org A (vdc a1, a2), vm3 in org B.
	// Each has 12 hours at 0.01 (p1) and 12 at 0.02 (p2): 0.12 + 0.24 = 0.36 per VM.
	res, err := engine(t, cfg).Rate(Request{CustomerID: "acme", Period: april, Series: []Series{
		series("vm1", "A", "a1", "ams"), series("vm2", "A", "a2", "rtm"), series("vm3", "B", "b1", "ams"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	describeGrouped := func(ls []Line) []string {
		out := make([]string, len(ls))
		for i, l := range ls {
			out[i] = l.CustomerID + "|" + l.Organisation() + "|" + l.VDC() + "|" + l.Site() + "|" + l.ResourceID + " " + describe(l, time.UTC)
		}
		return out
	}
	cases := []struct {
		name string
		g    Grouping
		want []string
	}{
		{
			// per organisation and day: org A = 2 VMs × 12 h per price; never across prices
			name: "organisation per day",
			g:    Grouping{Keys: []GroupKey{GroupOrganisation}, Granularity: GranularityDay},
			want: []string{
				"|A||| payg vcpu 04-01 00:00..04-01 12:00 24 × 0.01 = 0.24 EUR [entry:p1]",
				"|A||| payg vcpu 04-01 12:00..04-02 00:00 24 × 0.02 = 0.48 EUR [entry:p2]",
				"|B||| payg vcpu 04-01 00:00..04-01 12:00 12 × 0.01 = 0.12 EUR [entry:p1]",
				"|B||| payg vcpu 04-01 12:00..04-02 00:00 12 × 0.02 = 0.24 EUR [entry:p2]",
			},
		},
		{
			name: "customer and site per month",
			g:    Grouping{Keys: []GroupKey{GroupCustomer, GroupSite}, Granularity: GranularityMonth},
			want: []string{
				"acme|||ams| payg vcpu 04-01 00:00..04-01 12:00 24 × 0.01 = 0.24 EUR [entry:p1]",
				"acme|||ams| payg vcpu 04-01 12:00..04-02 00:00 24 × 0.02 = 0.48 EUR [entry:p2]",
				"acme|||rtm| payg vcpu 04-01 00:00..04-01 12:00 12 × 0.01 = 0.12 EUR [entry:p1]",
				"acme|||rtm| payg vcpu 04-01 12:00..04-02 00:00 12 × 0.02 = 0.24 EUR [entry:p2]",
			},
		},
		{
			name: "resource and vdc over the period, site kept",
			g:    Grouping{Keys: []GroupKey{GroupResource, GroupVDC}, Granularity: GranularityPeriod, Dimensions: []string{DimSite}},
			want: []string{
				"||a1|ams|vm1 payg vcpu 04-01 00:00..04-01 12:00 12 × 0.01 = 0.12 EUR [entry:p1]",
				"||a1|ams|vm1 payg vcpu 04-01 12:00..04-02 00:00 12 × 0.02 = 0.24 EUR [entry:p2]",
				"||a2|rtm|vm2 payg vcpu 04-01 00:00..04-01 12:00 12 × 0.01 = 0.12 EUR [entry:p1]",
				"||a2|rtm|vm2 payg vcpu 04-01 12:00..04-02 00:00 12 × 0.02 = 0.24 EUR [entry:p2]",
				"||b1|ams|vm3 payg vcpu 04-01 00:00..04-01 12:00 12 × 0.01 = 0.12 EUR [entry:p1]",
				"||b1|ams|vm3 payg vcpu 04-01 12:00..04-02 00:00 12 × 0.02 = 0.24 EUR [entry:p2]",
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := GroupLines(res.Lines, c.g)
			if err != nil {
				t.Fatal(err)
			}
			diff(t, "grouped", describeGrouped(got), c.want)
			if a, b := describeTotals(Totals(got)), describeTotals(res.Totals); a != b {
				t.Errorf("grouping changed the totals: %s, was %s", a, b)
			}
		})
	}
	if _, err := GroupLines(res.Lines, Grouping{Keys: []GroupKey{99}}); err == nil {
		t.Error("GroupLines accepted an unknown key")
	}
}
