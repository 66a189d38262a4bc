package billing_test

import (
	"testing"
	"time"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/pricing"
	"github.com/billingd/billingd/internal/rating"
)

// A month given by name is each customer's own month in its billing time
// zone: one query over customers in three zones bills each for its local
// October, not for the UTC one.
func TestMonthIsEachCustomersLocalMonth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	vcpuCatalog(e) // acme, UTC
	e.customer("fin", "Europe/Helsinki")
	e.customer("nyc", "America/New_York")
	e.list("default", "")
	e.price("default", "vcpu-h", "vcpu", "0.01", pricing.GranularityHour, utc(2026, 1, 1, 0), time.Time{})
	for _, c := range []string{"acme", "fin", "nyc"} {
		// 1 vCPU from 25 September on, carried through October.
		e.usage(sample(c, "vm.vcpu", "vm1", "1", utc(2026, 9, 25, 0)))
	}

	res := e.query(billing.Query{Month: "2026-10", GroupBy: byCustomerProductModel, Granularity: rating.GranularityPeriod})
	// Helsinki's October has 745 hours (25 October has 25), New York's
	// 744 (its clocks change on 1 November), UTC's 744:
	// 744 × 0.01 = 7.44, 745 × 0.01 = 7.45; 7.44 + 7.45 + 7.44 = 22.33.
	wantRows(t, res.Lines,
		"acme vcpu payg 2026-10-01..2026-11-01 744 × 0.01 = 7.44 EUR",
		"fin vcpu payg 2026-10-01..2026-11-01 745 × 0.01 = 7.45 EUR",
		"nyc vcpu payg 2026-10-01..2026-11-01 744 × 0.01 = 7.44 EUR",
	)
	for _, l := range res.Lines {
		loc := l.Start.Location()
		if want := map[string]string{"acme": "UTC", "fin": "Europe/Helsinki", "nyc": "America/New_York"}[l.CustomerID]; loc.String() != want {
			t.Errorf("%s: line starts at %s, want midnight in %s", l.CustomerID, l.Start, want)
		}
	}
	if got := total(res); got != "22.33 EUR" {
		t.Errorf("total %s, want 22.33 EUR", got)
	}

	// One customer's month is the same as its local instants.
	loc, _ := time.LoadLocation("Europe/Helsinki")
	from := time.Date(2026, 10, 1, 0, 0, 0, 0, loc)
	byMonth := e.query(billing.Query{CustomerIDs: []string{"fin"}, Month: "2026-10"})
	byInstants := e.query(billing.Query{CustomerIDs: []string{"fin"}, From: from, To: from.AddDate(0, 1, 0)})
	if a, b := total(byMonth), total(byInstants); a != b || a != "7.45 EUR" {
		t.Errorf("fin's month %s, its local instants %s, want both 7.45 EUR", a, b)
	}

	// A page token names its month: October's next page is not November's.
	oct := billing.Query{Month: "2026-10", GroupBy: byCustomerProductModel, Granularity: rating.GranularityPeriod}
	first, err := e.svc.QueryPage(e.ctx, oct, 1, "")
	if err != nil || first.NextPageToken == "" {
		t.Fatalf("first page of October: %v, token %q", err, first.NextPageToken)
	}
	second, err := e.svc.QueryPage(e.ctx, oct, 1, first.NextPageToken)
	if err != nil || len(second.Lines) != 1 || second.Lines[0].CustomerID != "fin" {
		t.Errorf("second page of October: %v %v, want fin's line", err, rows(second.Lines))
	}
	nov := oct
	nov.Month = "2026-11"
	if _, err := e.svc.QueryPage(e.ctx, nov, 1, first.NextPageToken); apperr.KindOf(err) != apperr.KindInvalid {
		t.Errorf("October's token for November: %v, want invalid page_token", err)
	}
}

func TestMonthValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	vcpuCatalog(e)
	cases := []struct {
		name  string
		q     billing.Query
		field string
	}{
		{"month and instants", billing.Query{Month: "2026-10", From: nov, To: dec1}, "month"},
		{"month and a start", billing.Query{Month: "2026-10", From: nov}, "month"},
		{"not a month", billing.Query{Month: "2026-13"}, "month"},
		{"a day", billing.Query{Month: "2026-10-01"}, "month"},
		{"before 1970", billing.Query{Month: "1969-12"}, "month"},
		{"neither", billing.Query{}, "start_time"},
		{"a start alone", billing.Query{From: nov}, "end_time"},
	}
	for _, c := range cases {
		_, err := e.svc.Query(e.ctx, c.q)
		ae, ok := apperr.As(err)
		if !ok || ae.Kind != apperr.KindInvalid || len(ae.Violations) == 0 || ae.Violations[0].Field != c.field {
			t.Errorf("%s: %v, want Invalid on %s", c.name, err, c.field)
		}
	}
}
