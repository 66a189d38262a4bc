package billing_test

import (
	"strings"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/pricing"
	"github.com/billingd/billingd/internal/rating"
)

// currencyEnv has a default EUR and a default USD list pricing the same
// products, which the pricing domain allows, a default USD campaign of 50 %
// on vCPU on 1 November, and customers:
//   - acme: its own USD list (storage only): billed in USD;
//   - beta: its own EUR list, empty: billed in EUR at the default EUR prices;
//   - gamma: nothing of its own: no billing currency;
//   - delta: no list of its own but a USD contract: billed in USD;
//   - eps: its own EUR list and a USD contract from 15 November.
//
// Each uses 2 vCPU from 1 November; acme 10 GB of storage as well.
func currencyEnv(t *testing.T) *env {
	e := newEnv(t)
	vcpuCatalog(e)
	storageCatalog(e)
	for _, c := range []string{"beta", "gamma", "delta", "eps"} {
		e.customer(c, "UTC")
	}
	e.listIn("default", "", "EUR")
	e.price("default", "vcpu-d", "vcpu", "1.00", pricing.GranularityDay, utc(2026, 1, 1, 0), time.Time{})
	e.price("default", "gb-d", "storage-gold", "0.10", pricing.GranularityDay, utc(2026, 1, 1, 0), time.Time{})
	e.listIn("default-usd", "", "USD")
	e.price("default-usd", "vcpu-d", "vcpu", "1.10", pricing.GranularityDay, utc(2026, 1, 1, 0), time.Time{})
	e.price("default-usd", "gb-d", "storage-gold", "0.20", pricing.GranularityDay, utc(2026, 1, 1, 0), time.Time{})
	e.discountIn("usd-promo", "", "USD", "vcpu", "50", nov, utc(2026, 11, 2, 0))

	e.listIn("acme-usd", "acme", "USD")
	e.price("acme-usd", "gb-d", "storage-gold", "0.15", pricing.GranularityDay, utc(2026, 1, 1, 0), time.Time{})
	e.listIn("beta-eur", "beta", "EUR")
	e.contractIn("delta-c", "delta", "USD", utc(2026, 1, 1, 0), "storage-gold", pricing.ContractModelCommitted, "100", "2.00", pricing.GranularityDay, "")
	e.listIn("eps-eur", "eps", "EUR")
	e.contractIn("eps-c", "eps", "USD", utc(2026, 11, 15, 0), "storage-gold", pricing.ContractModelCommitted, "100", "2.00", pricing.GranularityDay, "")

	for _, c := range []string{"acme", "beta", "gamma", "delta", "eps"} {
		e.usage(sample(c, "vm.vcpu", "vm1", "2", nov))
	}
	e.usage(sample("acme", "storage.gb", "vol1", "10", nov))
	return e
}

func TestEachCustomerIsBilledInOneCurrency(t *testing.T) {
	t.Parallel()
	e := currencyEnv(t)
	q := billing.Query{CustomerIDs: []string{"acme", "beta", "delta"}, From: nov, To: utc(2026, 11, 4, 0),
		Granularity: rating.GranularityPeriod, GroupBy: byCustomerProductModel}
	res := e.query(q)
	wantRows(t, res.Lines,
		// default USD vCPU price, halved by the USD campaign on the 1st: 2 × 0.55 + 4 × 1.10
		"acme vcpu payg 2026-11-01..2026-11-02 2 × 0.55 = 1.10 USD campaign usd-promo",
		"acme vcpu payg 2026-11-02..2026-11-04 4 × 1.1 = 4.40 USD",
		// its own USD storage price: 10 GB × 3 days × 0.15
		"acme storage-gold payg 2026-11-01..2026-11-04 30 × 0.15 = 4.50 USD",
		// an empty EUR list: the default EUR price, and no USD campaign
		"beta vcpu payg 2026-11-01..2026-11-04 6 × 1 = 6.00 EUR",
		// the USD contract settles delta's currency
		"delta vcpu payg 2026-11-01..2026-11-02 2 × 0.55 = 1.10 USD campaign usd-promo",
		"delta vcpu payg 2026-11-02..2026-11-04 4 × 1.1 = 4.40 USD",
		"delta storage-gold committed 2026-11-01..2026-11-04 3 × 2 = 6.00 USD",
	)
	// USD: 1.10 + 4.40 + 4.50 + 1.10 + 4.40 + 6.00 = 21.50 over 6 lines
	if total(res) != "6.00 EUR, 21.50 USD" || res.Totals[0].Lines != 1 || res.Totals[1].Lines != 6 {
		t.Errorf("totals %v, want 6.00 EUR over 1 line and 21.50 USD over 6", res.Totals)
	}

	// Lines of customers in different currencies never merge.
	q.GroupBy = []rating.GroupKey{rating.GroupProduct}
	res = e.query(q)
	wantRows(t, res.Lines,
		"vcpu payg 2026-11-01..2026-11-02 4 × 0.55 = 2.20 USD campaign usd-promo",
		"vcpu payg 2026-11-01..2026-11-04 6 × 1 = 6.00 EUR",
		"vcpu payg 2026-11-02..2026-11-04 8 × 1.1 = 8.80 USD",
		"storage-gold payg 2026-11-01..2026-11-04 30 × 0.15 = 4.50 USD",
		"storage-gold committed 2026-11-01..2026-11-04 3 × 2 = 6.00 USD",
	)
	if total(res) != "6.00 EUR, 21.50 USD" {
		t.Errorf("totals %v, want 6.00 EUR and 21.50 USD", res.Totals)
	}

	st, err := e.svc.Stats(e.ctx, "2026-11", "acme")
	if err != nil {
		t.Fatal(err)
	}
	if st.Customers != 1 || st.ProductsRated != 2 {
		t.Errorf("stats of acme %+v, want 1 customer and 2 products rated", st)
	}
}

func TestAmbiguousBillingCurrencyIsFailedPrecondition(t *testing.T) {
	t.Parallel()
	e := currencyEnv(t)
	cases := []struct {
		name string
		q    billing.Query
		want []string // in the message
	}{{
		name: "no own list, default lists in two currencies",
		q:    billing.Query{CustomerIDs: []string{"gamma"}, From: nov, To: dec1},
		want: []string{"customer gamma", "EUR and USD", "billingd bills a customer in one currency"},
	}, {
		// the first customer in id order that fails names the error
		name: "every customer, eps and gamma among them",
		q:    billing.Query{From: nov, To: dec1},
		want: []string{"customer eps"},
	}, {
		name: "a contract in another currency",
		q:    billing.Query{CustomerIDs: []string{"eps"}, From: nov, To: dec1},
		want: []string{"customer eps is billed in EUR", "contract eps-c is in USD"},
	}}
	for _, c := range cases {
		_, err := e.svc.Query(e.ctx, c.q)
		ae, ok := apperr.As(err)
		if !ok || ae.Kind != apperr.KindFailedPrecondition {
			t.Errorf("%s: %v, want FailedPrecondition", c.name, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(ae.Error(), w) {
				t.Errorf("%s: %q does not say %q", c.name, ae.Error(), w)
			}
		}
	}
	if _, err := e.svc.Stats(e.ctx, "2026-11", "gamma"); apperr.KindOf(err) != apperr.KindFailedPrecondition {
		t.Errorf("stats of gamma: %v, want FailedPrecondition", err)
	}

	// Before the USD contract starts, eps is billed in EUR without trouble.
	res := e.query(billing.Query{CustomerIDs: []string{"eps"}, From: nov, To: utc(2026, 11, 15, 0), Granularity: rating.GranularityPeriod})
	wantRows(t, res.Lines, "eps vcpu payg 2026-11-01..2026-11-15 28 × 1 = 28.00 EUR")

	// An own list in the customer's currency settles gamma's.
	e.listIn("gamma-usd", "gamma", "USD")
	res = e.query(billing.Query{CustomerIDs: []string{"gamma"}, From: nov, To: utc(2026, 11, 3, 0), Granularity: rating.GranularityPeriod})
	wantRows(t, res.Lines,
		"gamma vcpu payg 2026-11-01..2026-11-02 2 × 0.55 = 1.10 USD campaign usd-promo",
		"gamma vcpu payg 2026-11-02..2026-11-03 2 × 1.1 = 2.20 USD",
	)
}
