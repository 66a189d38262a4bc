package billing

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/billingd/billingd/internal/catalog"
	"github.com/billingd/billingd/internal/pricing"
)

func closedMonths(loc *time.Location, months ...string) *closedState {
	cs := &closedState{}
	for _, m := range months {
		from, to, err := MonthBounds(m, loc)
		if err != nil {
			panic(err)
		}
		cs.periods = append(cs.periods, ClosedPeriod{ID: m, Month: m, From: from, To: to})
	}
	return cs
}

func TestSegmentsCutAtClosedMonths(t *testing.T) {
	hel, err := time.LoadLocation("Europe/Helsinki")
	if err != nil {
		t.Fatal(err)
	}
	cs := closedMonths(hel, "2026-08", "2026-09", "2026-11")
	at := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 0, 0, 0, 0, hel) }
	render := func(segs []segment) string {
		out := ""
		for _, s := range segs {
			id := "live"
			if s.p != nil {
				id = s.p.ID
			}
			out += fmt.Sprintf("[%s %s %s) ", s.from.Format("01-02"), id, s.to.Format("01-02"))
		}
		return out
	}
	for _, c := range []struct {
		from, to time.Time
		want     string
	}{
		{at(7, 15), at(12, 15), "[07-15 live 08-01) [08-01 2026-08 09-01) [09-01 2026-09 10-01) [10-01 live 11-01) [11-01 2026-11 12-01) [12-01 live 12-15) "},
		{at(8, 10), at(8, 20), "[08-10 2026-08 08-20) "},
		{at(10, 1), at(11, 1), "[10-01 live 11-01) "},
		{at(9, 30), at(10, 2), "[09-30 2026-09 10-01) [10-01 live 10-02) "},
	} {
		if got := render(cs.segments(c.from, c.to)); got != c.want {
			t.Errorf("segments(%s, %s)\n got %s\nwant %s", c.from.Format("01-02"), c.to.Format("01-02"), got, c.want)
		}
	}
}

func TestBookingMonthSkipsClosedMonths(t *testing.T) {
	cs := closedMonths(time.UTC, "2026-08", "2026-09", "2026-11")
	for _, c := range []struct{ closed, want string }{
		{"2026-08", "2026-10"}, // September is closed too
		{"2026-09", "2026-10"},
		{"2026-11", "2026-12"},
	} {
		p := &cs.periods[0]
		for i := range cs.periods {
			if cs.periods[i].Month == c.closed {
				p = &cs.periods[i]
			}
		}
		from, to := cs.bookingMonth(p, time.UTC)
		if got := from.Format("2006-01"); got != c.want || !to.Equal(from.AddDate(0, 1, 0)) {
			t.Errorf("adjustments of %s booked in [%s, %s), want %s", c.closed, from, to, c.want)
		}
	}
}

// A book without the pricing rules of migration 0010 encodes as it did
// before them, so months closed before keep their book hashes (and are not
// re-rated on every read as if their prices had changed).
func TestBookEncodingOmitsUnsetPricingRules(t *testing.T) {
	b := Book{
		Metrics:  []catalog.Metric{{Key: "vm.vcpu", Aggregation: catalog.AggregationMax}},
		Products: []catalog.Product{{ID: "vcpu", MetricKey: "vm.vcpu"}},
		Prices:   []pricing.Price{{ID: "p", ProductID: "vcpu"}},
	}
	j, err := EncodeBook(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{"Expression", "PeakBasis", "MinimumCharge"} {
		if strings.Contains(string(j), field) {
			t.Errorf("%s is encoded when unset: %s", field, j)
		}
	}
	b.Metrics[0].Expression, b.Products[0].PeakBasis = "vm.x * 2", catalog.PeakBasisCustomer
	b.Prices[0].MinimumCharge = decimal.NewNullDecimal(decimal.NewFromInt(50))
	if j, err = EncodeBook(b); err != nil {
		t.Fatal(err)
	}
	back, err := DecodeBook(j)
	if err != nil || back.Metrics[0].Expression != "vm.x * 2" || back.Products[0].PeakBasis != catalog.PeakBasisCustomer ||
		!back.Prices[0].MinimumCharge.Decimal.Equal(decimal.NewFromInt(50)) {
		t.Errorf("the rules do not survive a frozen book: %+v %v", back, err)
	}
}
