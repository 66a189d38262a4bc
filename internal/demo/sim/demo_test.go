package sim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/app/apptest"
	"github.com/billingd/billingd/internal/collector"
	"github.com/billingd/billingd/internal/config"
	"github.com/billingd/billingd/internal/demo/sim"
	"github.com/billingd/billingd/internal/store/postgres/pgtest"
)

const adminKey = "demo-test-admin-key-0123456789abcdef0123"

// startBillingd runs billingd as billingd-demo does, API keys on, on a
// fresh database, and returns its gRPC address.
func startBillingd(t *testing.T, edit ...func(*config.Config)) string {
	t.Helper()
	cfg := config.Default()
	cfg.DatabaseURL = pgtest.NewDatabase(t)
	cfg.BootstrapAdminKey, cfg.RateLimit = adminKey, 0
	for _, e := range edit {
		e(&cfg)
	}
	return apptest.Start(t, cfg, nil).GRPCAddr()
}

func dialer(t *testing.T, addr string) func(string) (grpc.ClientConnInterface, error) {
	return func(token string) (grpc.ClientConnInterface, error) {
		conn, err := collector.BillingdConfig{Address: addr, Plaintext: true, Token: collector.NewSecret(token, "test")}.Dial()
		if err == nil {
			t.Cleanup(func() { _ = conn.Close() })
		}
		return conn, err
	}
}

var (
	subtotalLine = regexp.MustCompile(`(?m)^\s+(\S+) total\s+(\d+\.\d\d)\s+EUR\s*$`)
	totalLine    = regexp.MustCompile(`(?m)^\s+TOTAL\s+(\d+\.\d\d)\s+EUR\s+\d+ lines\s*$`)
)

// TestShortDemo runs the demo for two days of a small estate against a
// real billingd with API keys on, and checks what it printed against
// QueryBilling, the reports it wrote, and that a second run stores nothing
// twice and prints the same bill.
func TestShortDemo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	addr := startBillingd(t)
	dial := dialer(t, addr)
	admin, err := dial(adminKey)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var out bytes.Buffer
	opts := sim.Options{Out: &out, Days: 2, Small: true, ReportDir: dir, Dial: dial}
	res, err := sim.Run(ctx, admin, opts)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	printed := out.String()
	t.Logf("demo output:\n%s", printed)

	if res.Usage.Accepted == 0 || res.Usage.Rejected != 0 || res.Usage.Duplicates != 0 {
		t.Errorf("usage acks = %+v, want records accepted, none rejected or duplicate", res.Usage)
	}
	if res.SourceKeys != 3 {
		t.Errorf("collector keys = %d, want one per source", res.SourceKeys)
	}

	billing := billingv1.NewBillingServiceClient(admin)
	// The printed totals are QueryBilling's for the same query, asked again:
	// the grand total over all customers, and each customer's subtotal.
	// (The same query: totals of differently grouped lines may differ by
	// the rounding of their lines, see rating.GroupLines.)
	query := func(customers ...string) []*billingv1.CurrencyTotal {
		t.Helper()
		q := proto.Clone(res.Query).(*billingv1.BillingQuery)
		q.CustomerIds = customers
		r, err := billing.QueryBilling(ctx, &billingv1.QueryBillingRequest{Query: q})
		if err != nil {
			t.Fatal(err)
		}
		return r.GetTotals()
	}
	m := totalLine.FindStringSubmatch(printed)
	if m == nil {
		t.Fatal("no TOTAL line printed")
	}
	if tot := query(); len(tot) != 1 || tot[0].GetCurrency() != "EUR" || tot[0].GetAmount() != m[1] {
		t.Errorf("printed TOTAL %s EUR, QueryBilling totals %v", m[1], tot)
	}
	subs := subtotalLine.FindAllStringSubmatch(printed, -1)
	if len(subs) != 3 {
		t.Errorf("printed %d customer subtotals, want 3 (acme, globex, initech)", len(subs))
	}
	for _, s := range subs {
		if tot := query(s[1]); len(tot) != 1 || tot[0].GetAmount() != s[2] {
			t.Errorf("printed %s total %s EUR, QueryBilling for %s alone: %v", s[1], s[2], s[1], tot)
		}
	}

	// ACME's vCPU from the collector's records, by hand. Over the 48 hours:
	// acme-web-01 4 vCPU throughout; acme-db-01 8 vCPU until the resize on
	// day 2 at 10:00 (hour 34), 12 after (the poll at 11:00 sees 12 and
	// bills its window, 10:00–11:00, at 12):
	//	4 × 48 + 8 × 34 + 12 × 14 = 192 + 272 + 168 = 632 vCPU-hours
	//	632 × 0.015 (ACME's own price list)          = 9.48 EUR
	if !regexp.MustCompile(`(?m)^\s+acme\s+vcpu\s+payg\s+632\s+vCPU-hour\s+0\.015\s+9\.48\s+EUR\s+list acme-eur$`).MatchString(printed) {
		t.Error("ACME's vCPU line is not 632 vCPU-hour × 0.015 = 9.48 EUR from list acme-eur")
	}

	// What is measured but not billed is named, with why: the collector's
	// vm.powered_on and storage.used_gb, which no product sells.
	for _, re := range []string{
		`(?m)^\s+Not billed: \d+ usage series`,
		`(?m)^\s+vm\.powered_on\s+acme \d+, globex \d+, initech \d+\s+no product sells metric vm\.powered_on$`,
		`(?m)^\s+storage\.used_gb\s+acme \d+, globex \d+, initech \d+\s+no product sells metric storage\.used_gb$`,
	} {
		if !regexp.MustCompile(re).MatchString(printed) {
			t.Errorf("demo output lacks %s", re)
		}
	}

	// The five reports, each what its format says it is.
	if len(res.Reports) != 5 {
		t.Fatalf("reports = %v, want 5", res.Reports)
	}
	for _, path := range res.Reports {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var ok bool
		switch filepath.Ext(path) {
		case ".csv":
			ok = bytes.Contains(b, []byte("acme")) && bytes.Contains(b, []byte("9.48"))
		case ".xlsx":
			ok = bytes.HasPrefix(b, []byte("PK"))
		case ".pdf":
			ok = bytes.HasPrefix(b, []byte("%PDF"))
		case ".json":
			ok = json.Valid(b) && bytes.Contains(b, []byte(m[1]))
		case ".xml":
			ok = bytes.HasPrefix(bytes.TrimSpace(b), []byte("<?xml")) && bytes.Contains(b, []byte(m[1]))
		}
		if !ok {
			t.Errorf("%s does not look like its format (%d bytes)", path, len(b))
		}
	}

	// A second run (the next `make run`): same keys, all duplicates, same bill.
	out.Reset()
	again, err := sim.Run(ctx, admin, opts)
	if err != nil {
		t.Fatalf("second Run: %v\n%s", err, out.String())
	}
	if again.Usage.Accepted != 0 || again.Usage.Duplicates != res.Usage.Accepted {
		t.Errorf("second run acks = %+v, want all %d records duplicates", again.Usage, res.Usage.Accepted)
	}
	if m2 := totalLine.FindStringSubmatch(out.String()); m2 == nil || m2[1] != m[1] {
		t.Errorf("second run printed %v, want TOTAL %s EUR again", m2, m[1])
	}
	if !strings.Contains(out.String(), "already loaded") {
		t.Error("second run did not say the catalog was already loaded")
	}
}

// TestRefusedUsageEndsTheDemo: a collector whose key billingd refuses
// would retry forever; the demo stops with billingd's reason instead.
func TestRefusedUsageEndsTheDemo(t *testing.T) {
	t.Parallel()
	addr := startBillingd(t)
	dial := dialer(t, addr)
	admin, err := dial(adminKey)
	if err != nil {
		t.Fatal(err)
	}
	wrongKey := func(string) (grpc.ClientConnInterface, error) { return dial("not-a-key-of-billingd-0123456789abcdef") }
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = sim.Run(ctx, admin, sim.Options{Days: 1, Small: true, Dial: wrongKey})
	if err == nil || !strings.Contains(err.Error(), "refused the usage") || !strings.Contains(err.Error(), "Unauthenticated") {
		t.Fatalf("Run = %v, want billingd's refusal", err)
	}
}

// TestShortDemoWithoutKeys: with --auth=off the collectors push on the
// caller's connection, and the bill is the same.
func TestShortDemoWithoutKeys(t *testing.T) {
	t.Parallel()
	addr := startBillingd(t, func(c *config.Config) { c.Auth, c.BootstrapAdminKey = false, "" })
	conn, err := dialer(t, addr)("")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	res, err := sim.Run(context.Background(), conn, sim.Options{Out: &out, Days: 2, Small: true})
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	if res.SourceKeys != 0 || res.Usage.Accepted == 0 || res.Usage.Rejected != 0 {
		t.Errorf("keys %d, usage %+v", res.SourceKeys, res.Usage)
	}
	// The same two days as TestShortDemo: ACME's vCPU is 632 × 0.015 = 9.48.
	if !regexp.MustCompile(`(?m)^\s+acme\s+vcpu\s+payg\s+632\s+vCPU-hour\s+0\.015\s+9\.48\s+EUR\s+list acme-eur$`).MatchString(out.String()) {
		t.Errorf("ACME's vCPU line is not 632 × 0.015 = 9.48:\n%s", out.String())
	}
}
