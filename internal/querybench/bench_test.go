package querybench

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
)

// TestRunTiny runs the whole harness at a tiny scale (3 VMs against 1, a
// day, 2 clients for a second) on the PostgreSQL of the other tests, with
// billingd in this process, so that it tests this tree's billingd and
// needs no bin/billingd. Every query must succeed with the same total, and
// the bill must be what the generator sent: vCPU- and GB-hours are the
// sums of the hourly levels, storage GB-months their sum over the month's
// 744 hours.
func TestRunTiny(t *testing.T) {
	if testing.Short() {
		t.Skip("starts billingd and loads usage: not in -short")
	}
	cfg := Default()
	cfg.BigVMs, cfg.SmallVMs, cfg.Hours = 3, 1, 24
	cfg.LoadClients, cfg.Warmups, cfg.Queries, cfg.Clients, cfg.Duration = 2, 1, 5, 2, time.Second
	res, err := Run(t.Context(), cfg, testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 24*4*3 || res.Big.N != 5 || res.Small.N != 5 || res.Concurrent.N == 0 {
		t.Errorf("%d records, %d + %d single-client and %d concurrent queries", res.Records, res.Big.N, res.Small.N, res.Concurrent.N)
	}
	f := newFleet(october, 24, customer{VMs: 3}, customer{VMs: 1})
	for c, a := range []answer{res.BigAnswer, res.SmallAnswer} {
		want := expectedQuantities(f, c)
		if len(a.Lines) != len(want) {
			t.Errorf("customer %d: %d lines, want one per product %v", c, len(a.Lines), want)
		}
		for _, l := range a.Lines {
			checkLine(t, l, want[l.GetProductId()])
		}
	}
	var out bytes.Buffer
	res.Print(&out)
	for _, s := range []string{"big-customer", "small-customer", "goal 1: single client, big customer p50", "goal 2: billingd peak RSS"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("the printed result has no %q:\n%s", s, out.String())
		}
	}
}

// expectedQuantities is customer c's quantity per product over the loaded
// hours of October: hourly products sum the hourly levels; the monthly
// storage products average the level over the month's 744 hours.
func expectedQuantities(f *fleet, c int) map[string]decimal.Decimal {
	want := map[string]decimal.Decimal{}
	for vm := f.Customers[c].first; vm < f.Customers[c].first+f.Customers[c].VMs; vm++ {
		for h := range f.Hours {
			add := func(product string, q decimal.Decimal) { want[product] = want[product].Add(q) }
			add("vcpu", decimal.NewFromInt(f.vcpu(vm, h)))
			add("ram", decimal.NewFromInt(f.memoryGB(vm, h)))
			add("storage-"+policy(vm), decimal.NewFromInt(f.storageGB(vm, h)).Div(decimal.NewFromInt(744)))
		}
	}
	return want
}

// checkLine: the line bills want (to 1e-9: a monthly average is a
// repeating decimal, which billingd carries to 12 places) at the list
// price, rounded once to the cent.
func checkLine(t *testing.T, l *billingv1.BillingLine, want decimal.Decimal) {
	t.Helper()
	q, err1 := decimal.NewFromString(l.GetQuantity())
	price, err2 := decimal.NewFromString(l.GetUnitPrice())
	amount, err3 := decimal.NewFromString(l.GetAmount())
	if err1 != nil || err2 != nil || err3 != nil {
		t.Fatalf("line %s: quantity %q, unit price %q, amount %q", l.GetProductId(), l.GetQuantity(), l.GetUnitPrice(), l.GetAmount())
	}
	if q.Sub(want).Abs().GreaterThan(decimal.New(1, -9)) {
		t.Errorf("line %s: quantity %s, want %s", l.GetProductId(), q, want)
	}
	for _, p := range products {
		if p.id == l.GetProductId() && !price.Equal(decimal.RequireFromString(p.price)) {
			t.Errorf("line %s: unit price %s, want %s", p.id, price, p.price)
		}
	}
	if !amount.Equal(q.Mul(price).Round(2)) {
		t.Errorf("line %s: amount %s, want %s × %s rounded to the cent", l.GetProductId(), amount, q, price)
	}
}

// testWriter sends billingd's and the harness's progress to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
