package rating

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/apperr"
)

func resolutionBook(t *testing.T) *Engine {
	cfg := catalog()
	cfg.Prices = []PriceEntry{
		price("v-def", "", "vcpu", "3.00", GranularityDay, "", ""),
		price("v-acme", "acme", "vcpu", "2.00", GranularityDay, "2026-04-05 00:00", "2026-04-20 00:00"),
	}
	cfg.Campaigns = []Campaign{
		{ID: "c-lo", CustomerID: "acme", Currency: "EUR", Priority: 1, ValidFrom: at("2026-04-10 00:00"), ValidTo: at("2026-04-12 00:00"),
			Entries: []CampaignEntry{{ProductID: "vcpu", UnitPrice: nd("1.00")}}},
		{ID: "c-hi", CustomerID: "acme", Priority: 2, ValidFrom: at("2026-04-11 00:00"), ValidTo: at("2026-04-12 00:00"),
			Entries: []CampaignEntry{{ProductID: "vcpu", DiscountPercent: nd("10")}}},
		{ID: "d-20", ValidFrom: at("2026-04-01 00:00"), ValidTo: at("2026-05-01 00:00"),
			Entries: []CampaignEntry{{ProductID: "vcpu", DiscountPercent: nd("20")}}},
		{ID: "d-unit", Currency: "EUR", ValidFrom: at("2026-04-25 00:00"), ValidTo: at("2026-04-26 00:00"),
			Entries: []CampaignEntry{{ProductID: "storage", UnitPrice: nd("0.40")}}},
		{ID: "d-unit-g", Currency: "EUR", ValidFrom: at("2026-04-27 00:00"), ValidTo: at("2026-04-28 00:00"),
			Entries: []CampaignEntry{{ProductID: "storage", UnitPrice: nd("0.30"), Granularity: GranularityMonth}}},
	}
	return engine(t, cfg)
}

func describeResolved(r *resolved) string {
	if r == nil {
		return "none"
	}
	return fmt.Sprintf("%s %s/%s entry:%s campaign:%s", r.unit, r.cur.Code, r.gran, r.entryID, r.campaignID)
}

func TestResolution(t *testing.T) {
	e := resolutionBook(t)
	cases := []struct {
		name, customer, product, at, want string
	}{
		// no customer campaign or list yet: default campaign 20 % off the default list, 3.00 × 0.8
		{"default campaign over default list", "acme", "vcpu", "2026-04-02 00:00", "2.4 EUR/day entry:v-def campaign:d-20"},
		{"customer list beats default campaign", "acme", "vcpu", "2026-04-06 00:00", "2 EUR/day entry:v-acme campaign:"},
		// unit-price campaign: granularity from the list entry it overrides
		{"customer campaign beats customer list", "acme", "vcpu", "2026-04-10 12:00", "1 EUR/day entry: campaign:c-lo"},
		// the higher priority campaign wins its level; its 10 % applies to the customer list: 2.00 × 0.9
		{"priority, percent off the next level", "acme", "vcpu", "2026-04-11 12:00", "1.8 EUR/day entry:v-acme campaign:c-hi"},
		{"window end is exclusive", "acme", "vcpu", "2026-04-20 00:00", "2.4 EUR/day entry:v-def campaign:d-20"},
		{"default customer", "", "vcpu", "2026-04-06 00:00", "2.4 EUR/day entry:v-def campaign:d-20"},
		{"after every campaign", "acme", "vcpu", "2026-05-02 00:00", "3 EUR/day entry:v-def campaign:"},
		{"unit-price campaign without granularity or list", "acme", "storage", "2026-04-25 12:00", "none"},
		{"unit-price campaign with its own granularity", "acme", "storage", "2026-04-27 12:00", "0.3 EUR/month entry: campaign:d-unit-g"},
		{"no price at all", "acme", "transfer", "2026-04-02 00:00", "none"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := describeResolved(e.resolve(c.customer, c.product, at(c.at).UnixNano())); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestTimelineSplitsOnlyWherePricesChange(t *testing.T) {
	e := resolutionBook(t)
	var got []string
	for _, s := range e.timeline("acme", "vcpu", april.From.UnixNano(), april.To.UnixNano()) {
		got = append(got, time.Unix(0, s.from).UTC().Format("01-02")+" "+describeResolved(s.price))
	}
	diff(t, "segments", got, []string{
		"04-01 2.4 EUR/day entry:v-def campaign:d-20",
		"04-05 2 EUR/day entry:v-acme campaign:",
		"04-10 1 EUR/day entry: campaign:c-lo",
		"04-11 1.8 EUR/day entry:v-acme campaign:c-hi",
		"04-12 2 EUR/day entry:v-acme campaign:",
		"04-20 2.4 EUR/day entry:v-def campaign:d-20",
	})
}

func TestConfigValidation(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Config)
		field  string // expected in the error
	}{
		{"overlapping prices", func(c *Config) {
			c.Prices = []PriceEntry{
				price("a", "", "vcpu", "1", GranularityHour, "", "2026-04-10 00:00"),
				price("b", "", "vcpu", "1", GranularityHour, "2026-04-09 00:00", ""),
			}
		}, "overlaps another price"},
		{"unknown product", func(c *Config) {
			c.Prices = []PriceEntry{price("a", "", "nope", "1", GranularityHour, "", "")}
		}, "prices[0].product_id"},
		{"unknown currency", func(c *Config) {
			p := price("a", "", "vcpu", "1", GranularityHour, "", "")
			p.Currency = "EURO"
			c.Prices = []PriceEntry{p}
		}, "prices[0].currency"},
		{"negative price", func(c *Config) { c.Prices = []PriceEntry{price("a", "", "vcpu", "-1", GranularityHour, "", "")} }, "prices[0].unit_price"},
		{"period granularity for a price", func(c *Config) { c.Prices = []PriceEntry{price("a", "", "vcpu", "1", GranularityPeriod, "", "")} }, "prices[0].granularity"},
		{"empty window", func(c *Config) {
			c.Prices = []PriceEntry{price("a", "", "vcpu", "1", GranularityHour, "2026-04-10 00:00", "2026-04-10 00:00")}
		}, "prices[0].valid_to"},
		{"bounded last tier", func(c *Config) {
			p := price("a", "", "vcpu", "0", GranularityHour, "", "")
			p.Tiers = &Tiers{Mode: TierGraduated, Tiers: []Tier{{UpTo: nd("10"), UnitPrice: d("1")}}}
			c.Prices = []PriceEntry{p}
		}, "prices[0].tiers[0].up_to"},
		{"descending tiers", func(c *Config) {
			p := price("a", "", "vcpu", "0", GranularityHour, "", "")
			p.Tiers = &Tiers{Mode: TierVolume, Tiers: []Tier{{UpTo: nd("10"), UnitPrice: d("1")}, {UpTo: nd("5"), UnitPrice: d("1")}, {UnitPrice: d("1")}}}
			c.Prices = []PriceEntry{p}
		}, "prices[0].tiers[1].up_to"},
		{"campaign entry with both prices", func(c *Config) {
			c.Campaigns = []Campaign{{ID: "x", Currency: "EUR", Entries: []CampaignEntry{{ProductID: "vcpu", UnitPrice: nd("1"), DiscountPercent: nd("5")}}}}
		}, "campaigns[0].entries[0]"},
		{"discount over 100 %", func(c *Config) {
			c.Campaigns = []Campaign{{ID: "x", Entries: []CampaignEntry{{ProductID: "vcpu", DiscountPercent: nd("150")}}}}
		}, "campaigns[0].entries[0].discount_percent"},
		{"overlapping contracts", func(c *Config) {
			c.Contracts = []Contract{
				contract("k1", "storage", ContractCommitted, "1", "1", GranularityMonth, "0", ProrationNone, "2026-01-01 00:00", ""),
				contract("k2", "storage", ContractCommitted, "1", "1", GranularityMonth, "0", ProrationNone, "2026-03-01 00:00", ""),
			}
		}, "overlaps another contract"},
		{"contract without proration", func(c *Config) {
			c.Contracts = []Contract{contract("k1", "storage", ContractCommitted, "1", "1", GranularityMonth, "0", ProrationUnspecified, "2026-01-01 00:00", "")}
		}, "contracts[0].proration"},
		{"unique_count without dimension", func(c *Config) {
			c.Metrics = append(c.Metrics, Metric{Key: "u", Aggregation: AggregationUniqueCount})
		}, "unique_dimension"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := catalog()
			c.change(&cfg)
			_, err := New(cfg)
			if err == nil {
				t.Fatal("New accepted the config")
			}
			if apperr.KindOf(err) != apperr.KindInvalid || !strings.Contains(err.Error(), c.field) {
				t.Errorf("error %q (kind %s), want an invalid-argument error about %q", err, apperr.KindOf(err), c.field)
			}
		})
	}
}

func TestRequestValidation(t *testing.T) {
	e := engine(t, catalog())
	cases := []struct {
		name  string
		req   Request
		field string
	}{
		{"empty period", Request{Period: Period{From: april.To, To: april.From}}, "period.to"},
		{"period out of range", Request{Period: Period{From: time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), To: april.To}}, "period"},
		{"unknown metric", Request{Period: april, Series: []Series{{MetricKey: "nope"}}}, "series[0].metric_key"},
		{"piece ends before it starts", Request{Period: april, Series: []Series{{MetricKey: "net.gb", Pieces: []Piece{{Start: at("2026-04-02 00:00"), End: at("2026-04-01 00:00")}}}}}, "series[0].pieces[0].end"},
		{"piece out of range", Request{Period: april, Series: []Series{{MetricKey: "net.gb", Pieces: []Piece{{Start: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}}}}}, "series[0].pieces[0]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.Rate(c.req)
			if apperr.KindOf(err) != apperr.KindInvalid || !strings.Contains(fmt.Sprint(err), c.field) {
				t.Errorf("error %v, want an invalid-argument error about %q", err, c.field)
			}
		})
	}
}

func TestRateFuncStopsOnEmitError(t *testing.T) {
	cfg := catalog()
	cfg.Prices = []PriceEntry{price("p", "", "vcpu", "0.01", GranularityHour, "", "")}
	e := engine(t, cfg)
	stop := errors.New("client went away")
	n := 0
	_, err := e.RateFunc(Request{Period: april, Series: []Series{gauge("vm.vcpu", "vm1", at("2026-04-02 00:00"), "2026-04-01 00:00", "1")}},
		func(Line) error {
			if n++; n == 3 {
				return stop
			}
			return nil
		})
	if !errors.Is(err, stop) || n != 3 {
		t.Errorf("err = %v after %d lines, want the emit error after 3", err, n)
	}
}
