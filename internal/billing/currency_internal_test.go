package billing

import (
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/catalog"
	"github.com/billingd/billingd/internal/pricing"
)

// book is a catalog of one product p, the lists named "owner:currency"
// ("" owner: default), each pricing p at 1 per day from 2026, and the
// contracts and campaigns given.
func book(lists []string, contracts []pricing.Contract, campaigns []pricing.Campaign) Book {
	b := Book{
		Metrics:   []catalog.Metric{{Key: "m", Aggregation: catalog.AggregationSum}},
		Products:  []catalog.Product{{ID: "p", GroupID: "g", MetricKey: "m"}},
		Contracts: contracts, Campaigns: campaigns,
	}
	for _, l := range lists {
		owner, cur, _ := strings.Cut(l, ":")
		id := owner + "-" + cur
		b.PriceLists = append(b.PriceLists, pricing.PriceList{ID: id, Currency: cur, CustomerID: owner})
		b.Prices = append(b.Prices, pricing.Price{PriceListID: id, ID: "p", ProductID: "p", UnitPrice: decimal.NewFromInt(1),
			Granularity: pricing.GranularityDay, ValidFrom: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	}
	return b
}

var y2026 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func contractIn(id, customer, cur string, start time.Time) pricing.Contract {
	return pricing.Contract{ID: id, CustomerID: customer, ProductID: "p", Model: pricing.ContractModelCommitted,
		CommittedQuantity: decimal.NewFromInt(1), FeeGranularity: pricing.GranularityMonth, Currency: cur, StartTime: start}
}

func campaignIn(id, customer, cur string) pricing.Campaign {
	return pricing.Campaign{ID: id, CustomerID: customer, Currency: cur, ValidFrom: y2026, ValidTo: y2026.AddDate(1, 0, 0),
		Entries: []pricing.CampaignEntry{{ProductID: "p", UnitPrice: decimal.NewNullDecimal(decimal.NewFromInt(2))}}}
}

func TestBillingCurrencyRule(t *testing.T) {
	t.Parallel()
	nov := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name      string
		lists     []string
		contracts []pricing.Contract
		campaigns []pricing.Campaign
		want      string // the currency ("" for none), or a part of the FailedPrecondition message
	}{
		{"own list", []string{":EUR", ":USD", "acme:USD"}, nil, nil, "USD"},
		{"own lists in two currencies", []string{"acme:EUR", "acme:USD"}, nil, nil, "customer acme has price lists in EUR and USD; billingd bills a customer in one currency"},
		{"own lists in two currencies, contracts settle it", []string{"acme:EUR", "acme:USD"}, []pricing.Contract{contractIn("c", "acme", "USD", y2026)}, nil, "USD"},
		{"own lists in two currencies, contracts in a third", []string{"acme:EUR", "acme:USD"}, []pricing.Contract{contractIn("c", "acme", "GBP", y2026)}, nil,
			"customer acme has price lists in EUR and USD and its contracts in GBP"},
		{"own lists in two currencies, contracts in both", []string{"acme:EUR", "acme:USD"},
			[]pricing.Contract{contractIn("c1", "acme", "EUR", y2026), contractIn("c2", "acme", "USD", y2026)}, nil, "and its contracts in EUR and USD"},
		{"default list", []string{":EUR", "other:USD"}, nil, nil, "EUR"},
		{"default lists in three currencies", []string{":EUR", ":USD", ":GBP", "other:USD"}, nil, nil,
			"customer acme has no price list of its own, the default price lists are in EUR, GBP and USD"},
		{"default lists in two currencies, contracts settle it", []string{":EUR", ":USD"}, []pricing.Contract{contractIn("c", "acme", "EUR", y2026)}, nil, "EUR"},
		{"own list before contracts", []string{"acme:EUR"}, []pricing.Contract{contractIn("c", "acme", "USD", y2026)}, nil,
			"customer acme is billed in EUR (the currency of its price list), but contract c is in USD"},
		{"default list before contracts", []string{":EUR"}, []pricing.Contract{contractIn("c", "acme", "USD", y2026)}, nil,
			"customer acme is billed in EUR (the currency of the default price list), but contract c is in USD"},
		{"a contract in another currency after the period", []string{"acme:EUR"}, []pricing.Contract{contractIn("c", "acme", "USD", nov.AddDate(0, 1, 0))}, nil, "EUR"},
		{"contracts only", nil, []pricing.Contract{contractIn("c", "acme", "CHF", y2026)}, nil, "CHF"},
		{"contracts only, two currencies", nil, []pricing.Contract{contractIn("c1", "acme", "CHF", y2026), contractIn("c2", "acme", "EUR", y2026)}, nil,
			"customer acme has contracts in CHF and EUR"},
		{"own campaign in another currency", []string{":EUR"}, nil, []pricing.Campaign{campaignIn("k", "acme", "USD")},
			"customer acme is billed in EUR (the currency of the default price list), but campaign k is in USD"},
		{"default campaigns in other currencies do not apply", []string{":EUR"}, nil, []pricing.Campaign{campaignIn("k", "", "USD")}, "EUR"},
		{"own campaign only", nil, nil, []pricing.Campaign{campaignIn("k", "acme", "JPY"), campaignIn("d", "", "USD")}, "JPY"},
		{"default campaign only", []string{"other:EUR"}, nil, []pricing.Campaign{campaignIn("d", "", "USD")}, "USD"},
		{"default campaigns in two currencies", nil, nil, []pricing.Campaign{campaignIn("d1", "", "USD"), campaignIn("d2", "", "EUR")},
			"default campaigns in EUR and USD"},
		{"nothing", []string{"other:EUR"}, nil, nil, ""},
	}
	for _, c := range cases {
		r, err := newRater(book(c.lists, c.contracts, c.campaigns))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		cur, err := r.currencyFor("acme", nov, nov.AddDate(0, 1, 0))
		if len(c.want) <= 3 { // a currency code, or "" for none
			if err != nil || cur != c.want {
				t.Errorf("%s: %q, %v; want %q", c.name, cur, err, c.want)
			}
		} else if apperr.KindOf(err) != apperr.KindFailedPrecondition || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %q, %v; want FailedPrecondition saying %q", c.name, cur, err, c.want)
		}
		if err == nil && r.engines[cur] == nil {
			t.Errorf("%s: no engine for %q", c.name, cur)
		}
	}
}

// Lists of one owner in different currencies pricing one product go to
// different engines; prices that overlap within one list (which the domain
// forbids) are refused, named by list and price.
func TestEnginesPerCurrency(t *testing.T) {
	t.Parallel()
	b := book([]string{":EUR", ":USD", "acme:EUR", "acme:USD"}, nil, nil)
	r, err := newRater(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.engines) != 3 { // "", EUR, USD
		t.Errorf("%d engines, want 3", len(r.engines))
	}
	b.Prices = append(b.Prices, pricing.Price{PriceListID: "-USD", ID: "q", ProductID: "p", UnitPrice: decimal.NewFromInt(1),
		Granularity: pricing.GranularityDay, ValidFrom: y2026.AddDate(0, 6, 0)})
	_, err = newRater(b)
	ae, ok := apperr.As(err)
	if !ok || ae.Kind != apperr.KindFailedPrecondition || !strings.Contains(err.Error(), "the USD price book") || !strings.Contains(err.Error(), "price -USD/") {
		t.Errorf("%v, want FailedPrecondition naming the USD price book and price -USD/…", err)
	}
	t.Log(err)
}
