package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/billingd/billingd/internal/app/apptest"
	"github.com/billingd/billingd/internal/config"
	"github.com/billingd/billingd/internal/store/postgres/pgtest"
)

// adminKey is the bootstrap admin key of the test billingd, made at start
// the way operators make theirs (--bootstrap-admin-key).
const adminKey = "billingctl-test-admin-0123456789abcdef0123"

// startBillingd runs billingd in-process on loopback, API keys on, on a
// fresh database, and returns its gRPC address.
func startBillingd(t *testing.T) string {
	t.Helper()
	cfg := config.Default()
	cfg.DatabaseURL = pgtest.NewDatabase(t)
	cfg.BootstrapAdminKey = adminKey
	return apptest.Start(t, cfg, nil).GRPCAddr()
}

// result is one billingctl run.
type result struct {
	code           int
	stdout, stderr string
}

// ctl runs billingctl with BILLINGD_ADDR and BILLINGD_API_KEY set as env says.
func ctl(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errOut, func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})
	return result{code, out.String(), errOut.String()}
}

// withUsage starts billingd, loads testdata/catalog.yaml and ingests the
// usage CSV csv, and returns the admin's environment.
func withUsage(t *testing.T, csv string) map[string]string {
	t.Helper()
	env := admin(startBillingd(t))
	must(t, ctl(t, env, "catalog", "load", "testdata/catalog.yaml"))
	usage := filepath.Join(t.TempDir(), "usage.csv")
	if err := os.WriteFile(usage, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	must(t, ctl(t, env, "ingest", usage))
	return env
}

func admin(addr string) map[string]string {
	return map[string]string{"BILLINGD_ADDR": addr, "BILLINGD_API_KEY": adminKey}
}

func must(t *testing.T, r result) result {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	return r
}

func TestCatalogLoadIsIdempotent(t *testing.T) {
	t.Parallel()
	env := admin(startBillingd(t))
	first := must(t, ctl(t, env, "catalog", "load", "testdata/catalog.yaml"))
	if !strings.Contains(first.stdout, "15 created, 0 updated, 0 unchanged") {
		t.Errorf("first load:\n%s", first.stdout)
	}
	again := must(t, ctl(t, env, "catalog", "load", "testdata/catalog.yaml"))
	if !strings.Contains(again.stdout, "0 created, 0 updated, 15 unchanged") {
		t.Errorf("second load of the same file:\n%s", again.stdout)
	}

	// A changed file updates only what changed, with an update mask.
	b, err := os.ReadFile("testdata/catalog.yaml")
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(b), "{id: compute, displayName: Compute}", "{id: compute, displayName: Compute (VMs)}", 1)
	changed = strings.Replace(changed, "unitPrice: 0.02,", "unitPrice: 0.025,", 1)
	path := filepath.Join(t.TempDir(), "catalog.json.yaml")
	if err := os.WriteFile(path, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	dry := must(t, ctl(t, env, "catalog", "load", "--dry-run", path))
	if !strings.Contains(dry.stdout, "would update display_name") || !strings.Contains(dry.stdout, "(dry run: nothing changed)") {
		t.Errorf("dry run:\n%s", dry.stdout)
	}
	upd := must(t, ctl(t, env, "catalog", "load", path))
	for _, want := range []string{
		"product group compute                    updated display_name",
		"price default-eur/vcpu-2026              updated unit_price",
		"0 created, 2 updated, 13 unchanged",
	} {
		if !strings.Contains(upd.stdout, want) {
			t.Errorf("update run lacks %q:\n%s", want, upd.stdout)
		}
	}
	list := must(t, ctl(t, env, "catalog", "list"))
	if !regexp.MustCompile(`(?m)^storage-gold\s+storage\s+storage\.gb\s+policy=Gold\s+GB-month\s+Storage Gold$`).MatchString(list.stdout) {
		t.Errorf("catalog list:\n%s", list.stdout)
	}
	prices := must(t, ctl(t, env, "prices", "list", "default-eur"))
	if !regexp.MustCompile(`(?m)^vcpu-2026\s+vcpu\s+0\.025\s+hour\s+2026-01-01 00:00\s*$`).MatchString(prices.stdout) {
		t.Errorf("prices list:\n%s", prices.stdout)
	}
}

func TestIngestBillAndReport(t *testing.T) {
	t.Parallel()
	env := admin(startBillingd(t))
	must(t, ctl(t, env, "catalog", "load", "testdata/catalog.yaml"))

	// hooli is no customer: its record alone is rejected, and the exit
	// code says so.
	in := ctl(t, env, "ingest", "testdata/usage.csv")
	if in.code != 1 || !strings.Contains(in.stdout, "4 records: 3 stored, 0 duplicates (stored before), 1 rejected") ||
		!strings.Contains(in.stderr, "line 5 (key t:vm9:vcpu:2026-10-01): rejected: customer_id") {
		t.Errorf("ingest: %+v", in)
	}
	again := ctl(t, env, "ingest", "testdata/usage.csv")
	if !strings.Contains(again.stdout, "4 records: 0 stored, 3 duplicates (stored before), 1 rejected") {
		t.Errorf("ingest again: %+v", again)
	}

	// globex's October (UTC), by hand:
	//	vcpu  vm1 4 vCPU × 24 h + vm2 2 vCPU × 12 h = 120 vCPU-h × 0.02 =  2.40
	//	gold  310 GB all month                      = 310 GB-month × 0.18 = 55.80
	//	                                                          total 58.20 EUR
	bill := must(t, ctl(t, env, "bill", "--customer", "globex", "--month", "2026-10", "--group-by", "product"))
	for _, re := range []string{
		`(?m)^globex\s+vcpu\s+payg\s+120\s+vCPU-hour\s+0\.02\s+2\.40\s+EUR\s+list default-eur$`,
		`(?m)^globex\s+storage-gold\s+payg\s+310\s+GB-month\s+0\.18\s+55\.80\s+EUR\s+list default-eur$`,
		`(?m)^\s+TOTAL\s+58\.20\s+EUR\s+2 lines$`,
	} {
		if !regexp.MustCompile(re).MatchString(bill.stdout) {
			t.Errorf("bill table lacks %s:\n%s", re, bill.stdout)
		}
	}
	csvOut := must(t, ctl(t, env, "bill", "--customer", "globex", "--month", "2026-10", "--group-by", "product", "--format", "csv"))
	if !strings.HasPrefix(csvOut.stdout, "customer,product,model,quantity,unit,unit_price,amount,currency,priced_by\n") ||
		!strings.Contains(csvOut.stdout, "globex,vcpu,payg,120,vCPU-hour,0.02,2.40,EUR,list default-eur\n") {
		t.Errorf("bill csv:\n%s", csvOut.stdout)
	}
	jsonOut := must(t, ctl(t, env, "bill", "--customer", "globex", "--from", "2026-10-01T00:00:00Z", "--to", "2026-11-01T00:00:00Z", "--format", "json"))
	var res struct {
		Totals []struct{ Currency, Amount string }
	}
	if err := json.Unmarshal([]byte(jsonOut.stdout), &res); err != nil || len(res.Totals) != 1 || res.Totals[0].Amount != "58.20" {
		t.Errorf("bill json totals %+v (%v):\n%s", res.Totals, err, jsonOut.stdout)
	}

	pdf := filepath.Join(t.TempDir(), "globex.pdf")
	rep := must(t, ctl(t, env, "report", "--customer", "globex", "--month", "2026-10", "--group-by", "product", "--format", "pdf", "-o", pdf))
	if b, err := os.ReadFile(pdf); err != nil || !bytes.HasPrefix(b, []byte("%PDF")) {
		t.Errorf("report pdf: %v, %q…; stderr %s", err, b[:min(len(b), 8)], rep.stderr)
	}
	csvRep := must(t, ctl(t, env, "report", "--customer", "globex", "--month", "2026-10", "--format", "csv", "-o", "-"))
	if !strings.Contains(csvRep.stdout, ",120,vCPU-hour,0.02,2.40,EUR,") || !strings.Contains(csvRep.stdout, ",310,GB-month,0.18,55.80,EUR,") {
		t.Errorf("report csv to stdout:\n%s", csvRep.stdout)
	}
}

// --month without --tz is each customer's own month: acme's October
// starts at midnight in Amsterdam (22:00 UTC on 30 September), globex's at
// midnight UTC, in one command over both.
func TestBillMonthIsEachCustomersMonth(t *testing.T) {
	t.Parallel()
	// acme: 4 vCPU in its first October hour, the last September hour in UTC.
	// globex: 4 vCPU in the last October hour in UTC, already November in Amsterdam.
	env := withUsage(t, "key,customer,metric,quantity,start,end,resource\n"+
		"a,acme,vm.vcpu,4,2026-09-30T22:00:00Z,2026-09-30T23:00:00Z,vm1\n"+
		"g,globex,vm.vcpu,4,2026-10-31T23:00:00Z,2026-11-01T00:00:00Z,vm1\n")

	// acme: 4 vCPU-h × 0.015 (its own list) = 0.06, and its storage
	// contract's fee for exactly one month (a UTC month would charge it
	// 1.033333333333 months: 124.00); globex: 4 × 0.02 = 0.08.
	// 0.06 + 120.00 + 0.08 = 120.14.
	bill := must(t, ctl(t, env, "bill", "--month", "2026-10", "--group-by", "customer,product"))
	for _, re := range []string{
		`(?m)^acme\s+vcpu\s+payg\s+4\s+vCPU-hour\s+0\.015\s+0\.06\s+EUR\s+list acme-eur$`,
		`(?m)^acme\s+storage-gold\s+committed\s+1\s+month\s+120\s+120\.00\s+EUR\s+contract acme-gold$`,
		`(?m)^globex\s+vcpu\s+payg\s+4\s+vCPU-hour\s+0\.02\s+0\.08\s+EUR\s+list default-eur$`,
		`(?m)^\s+TOTAL\s+120\.14\s+EUR\s+3 lines$`,
	} {
		if !regexp.MustCompile(re).MatchString(bill.stdout) {
			t.Errorf("bill --month 2026-10 lacks %s:\n%s", re, bill.stdout)
		}
	}
	// --tz makes it one zone's month for everyone: Amsterdam's October
	// holds acme's hour and month but not globex's hour: 0.06 + 120.00.
	ams := must(t, ctl(t, env, "bill", "--month", "2026-10", "--tz", "Europe/Amsterdam", "--group-by", "customer"))
	if !regexp.MustCompile(`(?m)^\s+TOTAL\s+120\.06\s+EUR\s+2 lines$`).MatchString(ams.stdout) {
		t.Errorf("bill --month 2026-10 --tz Europe/Amsterdam:\n%s", ams.stdout)
	}
}

// Usage that is not billed is listed with its metric, resource,
// dimensions and why: no product sells it, or no price covers its time.
func TestBillListsUnpricedUsage(t *testing.T) {
	t.Parallel()
	// Silver storage: only storage-gold sells storage.gb (policy Gold).
	// vCPU on 31 December 2025: the vcpu prices start on 1 January 2026;
	// unpriced usage of a gauge is its time-weighted average (2 vCPU).
	env := withUsage(t, "key,customer,metric,quantity,start,end,resource,dim.policy\n"+
		"s,globex,storage.gb,50,2026-10-01T00:00:00Z,2026-11-01T00:00:00Z,vm1,Silver\n"+
		"v,globex,vm.vcpu,2,2025-12-31T00:00:00Z,2026-01-01T00:00:00Z,vm2,\n")

	oct := must(t, ctl(t, env, "bill", "--customer", "globex", "--month", "2026-10"))
	if !regexp.MustCompile(`(?m)^globex\s+storage\.gb\s+vm1\s+policy=Silver\s+50\s+no product of storage\.gb matches these dimensions$`).MatchString(oct.stdout) {
		t.Errorf("bill --month 2026-10 does not name the unsold Silver storage:\n%s", oct.stdout)
	}
	js := must(t, ctl(t, env, "bill", "--customer", "globex", "--month", "2026-10", "--format", "json"))
	var res struct {
		UnpricedUsage []struct {
			MetricKey, ResourceID, Reason string
			Dimensions                    map[string]string
		}
	}
	if err := json.Unmarshal([]byte(js.stdout), &res); err != nil || len(res.UnpricedUsage) != 1 {
		t.Fatalf("bill --format json: %v\n%s", err, js.stdout)
	}
	if u := res.UnpricedUsage[0]; u.MetricKey != "storage.gb" || u.ResourceID != "vm1" || u.Dimensions["policy"] != "Silver" ||
		u.Reason != "UNPRICED_REASON_NO_MATCHING_PRODUCT" {
		t.Errorf("bill --format json: unpricedUsage %+v", u)
	}
	dec := must(t, ctl(t, env, "bill", "--customer", "globex", "--from", "2025-12-31T00:00:00Z", "--to", "2026-01-01T00:00:00Z"))
	if !regexp.MustCompile(`(?m)^globex\s+vm\.vcpu\s+vm2\s+2\s+no price of product vcpu covers 2025-12-31 00:00 to 2026-01-01 00:00 UTC$`).MatchString(dec.stdout) {
		t.Errorf("bill of 31 December 2025 does not name the unpriced vCPU:\n%s", dec.stdout)
	}
}

func TestKeys(t *testing.T) {
	t.Parallel()
	addr := startBillingd(t)
	env := admin(addr)
	created := must(t, ctl(t, env, "keys", "create", "--name", "ERP export", "--role", "reader"))
	secret := regexp.MustCompile(`(?m)^\s+(bk_\S+)$`).FindStringSubmatch(created.stdout)
	id := regexp.MustCompile(`Created API key (\S+) \(reader, "ERP export"\)`).FindStringSubmatch(created.stdout)
	if secret == nil || id == nil {
		t.Fatalf("keys create:\n%s", created.stdout)
	}
	reader := map[string]string{"BILLINGD_ADDR": addr, "BILLINGD_API_KEY": secret[1]}

	// A reader may read but not manage keys.
	must(t, ctl(t, reader, "catalog", "list"))
	denied := ctl(t, reader, "keys", "create", "--name", "x", "--role", "admin")
	if denied.code != 1 || !strings.HasPrefix(denied.stderr, "billingctl: PermissionDenied: ") || strings.Count(denied.stderr, "\n") != 1 {
		t.Errorf("reader creating a key: %+v", denied)
	}

	list := must(t, ctl(t, env, "keys", "list"))
	if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(id[1]) + `\s+ERP export\s+reader\s+bk_\w{8}…`).MatchString(list.stdout) {
		t.Errorf("keys list:\n%s", list.stdout)
	}
	must(t, ctl(t, env, "keys", "revoke", id[1]))
	revoked := ctl(t, reader, "catalog", "list")
	if revoked.code != 1 || !strings.Contains(revoked.stderr, "Unauthenticated") || !strings.Contains(revoked.stderr, "BILLINGD_API_KEY") {
		t.Errorf("revoked key: %+v", revoked)
	}
	if all := must(t, ctl(t, env, "keys", "list", "--all")); !strings.Contains(all.stdout, id[1]) {
		t.Errorf("keys list --all lacks the revoked key:\n%s", all.stdout)
	}
	if now := must(t, ctl(t, env, "keys", "list")); strings.Contains(now.stdout, id[1]) {
		t.Errorf("keys list shows the revoked key:\n%s", now.stdout)
	}
}

// TestErrorsAndUsage: usage mistakes exit 2 before calling billingd;
// billingd's refusals exit 1 with one line naming the fields at fault.
func TestErrorsAndUsage(t *testing.T) {
	t.Parallel()
	addr := startBillingd(t)
	env := admin(addr)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"bill", "--customer", "acme"}, "give --month YYYY-MM, or --from and --to"},
		{[]string{"bill", "--month", "2026-13", "--tz", "UTC"}, `--month "2026-13": want YYYY-MM`},
		{[]string{"bill", "--nope"}, "flag provided but not defined: -nope"},
		{[]string{"bill", "--month", "2026-10", "--group-by", "colour"}, `--group-by "colour"`},
		{[]string{"keys", "create", "--role", "admin"}, "--name is required"},
		{[]string{"keys", "revoke"}, "want one key id"},
		{[]string{"report", "--month", "2026-10", "--format", "docx"}, `--format "docx"`},
	} {
		r := ctl(t, env, c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("billingctl %v = %d %q, want exit 2 and one line with %q", c.args, r.code, r.stderr, c.want)
		}
	}
	if r := ctl(t, env); r.code != 2 || !strings.Contains(r.stderr, "Usage:") {
		t.Errorf("no command: %+v", r)
	}
	for _, args := range [][]string{{"help"}, {"--help"}, {"help", "bill"}, {"bill", "--help"}, {"ingest", "-h"}} {
		if r := ctl(t, env, args...); r.code != 0 || !strings.Contains(r.stdout, "Usage") {
			t.Errorf("billingctl %v = %d, stdout %q", args, r.code, r.stdout)
		}
	}

	// billingd validates; the line carries the status and every field violation.
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("metrics:\n  - {key: Bad.Key, unit: vCPU, aggregation: sum}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := ctl(t, env, "catalog", "load", bad)
	if r.code != 1 || !strings.HasPrefix(r.stderr, "billingctl: metric Bad.Key (line 2): InvalidArgument: ") ||
		!strings.Contains(r.stderr, "key: must be lower-case letters") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("invalid metric: %+v", r)
	}
	if r := ctl(t, env, "catalog", "load", "testdata/usage.csv"); r.code != 1 || !strings.Contains(r.stderr, "testdata/usage.csv") {
		t.Errorf("a CSV file as a catalog: %+v", r)
	}
	if r := ctl(t, map[string]string{"BILLINGD_ADDR": addr}, "catalog", "list"); r.code != 1 || !strings.Contains(r.stderr, "Unauthenticated") {
		t.Errorf("no key: %+v", r)
	}
	if r := ctl(t, map[string]string{"BILLINGD_ADDR": "127.0.0.1:1"}, "--timeout", "5s", "catalog", "list"); r.code != 1 || !strings.Contains(r.stderr, "Unavailable") {
		t.Errorf("nothing listening: %+v", r)
	}
}

// TestCatalogFileDefinesPricingRules: a derived metric, a customer peak and
// a minimum charge load from a catalog file, and loading it again changes
// nothing.
func TestCatalogFileDefinesPricingRules(t *testing.T) {
	t.Parallel()
	env := admin(startBillingd(t))
	first := must(t, ctl(t, env, "catalog", "load", "testdata/rules.yaml"))
	if !strings.Contains(first.stdout, "10 created, 0 updated, 0 unchanged") {
		t.Errorf("first load:\n%s", first.stdout)
	}
	again := must(t, ctl(t, env, "catalog", "load", "testdata/rules.yaml"))
	if !strings.Contains(again.stdout, "0 created, 0 updated, 10 unchanged") {
		t.Errorf("second load of the same file:\n%s", again.stdout)
	}
}
