package rating

import (
	"testing"
	"time"
)

// A reader of a bill learns from the description what is not billed and
// why, in the customer's time zone.
func TestUnpricedDescription(t *testing.T) {
	ams, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Fatal(err)
	}
	oct := time.Date(2026, 10, 1, 0, 0, 0, 0, ams)
	for _, c := range []struct {
		u    UnpricedUsage
		want string
	}{
		{UnpricedUsage{MetricKey: "vm.powered_on", Reason: UnpricedNoProduct}, "no product sells metric vm.powered_on"},
		{UnpricedUsage{MetricKey: "storage.gb", Dimensions: map[string]string{"policy": "Silver"}, Reason: UnpricedNoMatchingProduct},
			"no product of storage.gb matches these dimensions"},
		{UnpricedUsage{ProductID: "vcpu", MetricKey: "vm.vcpu", Start: oct, End: oct.AddDate(0, 0, 5), Reason: UnpricedNoPrice},
			"no price of product vcpu covers 2026-10-01 00:00 to 2026-10-06 00:00 CEST"},
		// Across the end of summer time both ends name their offset.
		{UnpricedUsage{ProductID: "vcpu", MetricKey: "vm.vcpu", Start: oct, End: oct.AddDate(0, 1, 0), Reason: UnpricedNoPrice},
			"no price of product vcpu covers 2026-10-01 00:00 CEST to 2026-11-01 00:00 CET"},
		{UnpricedUsage{ProductID: "gold", MetricKey: "storage.gb", ContractID: "k1", Start: oct, End: oct.AddDate(0, 0, 1), Reason: UnpricedNoPrice},
			"usage of product gold above the commitment of contract k1: no price covers it from 2026-10-01 00:00 to 2026-10-02 00:00 CEST"},
	} {
		if got := c.u.Description(); got != c.want {
			t.Errorf("%+v:\n got %q\nwant %q", c.u, got, c.want)
		}
	}
}
