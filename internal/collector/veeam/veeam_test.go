package veeam_test

import (
	"context"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/collector"
	"github.com/billingd/billingd/internal/collector/collectortest"
	"github.com/billingd/billingd/internal/collector/restapi"
	"github.com/billingd/billingd/internal/collector/veeam"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Ids from the fixtures.
const (
	acmeUID   = "5a1e0f8e-0c5e-4b8e-9d7a-0000000000a1"
	globexUID = "5a1e0f8e-0c5e-4b8e-9d7a-0000000000b2"
	res1      = "4b000000-0000-4000-8000-000000000001"
	res2      = "4b000000-0000-4000-8000-000000000002"
)

func customers() restapi.Customers {
	return restapi.Customers{
		Ignore:  []string{"Provider"},
		Map:     map[string]string{"Acme Corp": "acme"},
		Pattern: `^cust-(.+)$`,
	}
}

// config logs in to the fake VSPC with the password and maps customers().
func config(v *vspc) veeam.Config {
	return veeam.Config{
		Common:      restapi.Common{Endpoint: restapi.Endpoint{URL: v.URL}, Customers: customers()},
		Credentials: restapi.Credentials{Username: vspcUser, Password: collector.NewSecret(vspcPassword, "test")},
	}
}

func newSource(t *testing.T, v *vspc, pageSize int) *veeam.Source {
	t.Helper()
	cfg := config(v)
	cfg.PageSize = pageSize
	src, err := veeam.New("vspc01", cfg)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func newPerVMSource(t *testing.T, v *vspc) *veeam.Source {
	t.Helper()
	cfg := config(v)
	cfg.PageSize, cfg.PerVM = 3, true
	src, err := veeam.New("vspc01", cfg)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// TestCollectRecordsAndSkips polls the fixtures with pages of 4 items: the
// first poll only sets the cursor; the second gives, per mapped company,
// the distinct protected VMs and the used storage per backup resource over
// the hour, and skips each malformed or unmapped entry with its reason.
// Collecting the same window again gives identical records.
func TestCollectRecordsAndSkips(t *testing.T) {
	t.Parallel()
	v := newVSPC(t)
	src := newSource(t, v, 4)

	first := collectortest.Collect(t, src, "", t0)
	if len(first.Records) != 0 || len(first.Skipped) != 0 || first.Next != "2026-01-01T00:00:00Z" {
		t.Fatalf("first poll = %+v, want only the cursor 2026-01-01T00:00:00Z", first)
	}
	if got := v.requests.Take(); len(got) != 0 {
		t.Errorf("the first poll called VSPC: %v", got)
	}

	b := collectortest.Collect(t, src, first.Next, t0.Add(time.Hour+500*time.Millisecond))
	if b.Next != "2026-01-01T01:00:00Z" {
		t.Errorf("next = %q, want the poll time in whole seconds", b.Next)
	}
	win := " [2026-01-01T00:00:00Z,2026-01-01T01:00:00Z) "
	common := func(uid string) string { return win + "res=" + uid + " org=" + uid + " site=vspc01 src=veeam:vspc01" }
	// acme: acme-web01 is listed twice (two jobs on two servers) and
	// counts once, with acme-db01: 2 VMs. Storage: 100 GiB on resource 1,
	// 50 GiB on resource 2. globex: 1 VM; 10.5 GiB on resource 1 (its
	// resource 2 entry has a negative size and is skipped).
	want := []string{
		"veeam:vspc01:" + acmeUID + ":backup.protected_vms:1767225600 acme backup.protected_vms=2" + common(acmeUID),
		"veeam:vspc01:" + acmeUID + ":backup.storage_gb:" + res1 + ":1767225600 acme backup.storage_gb=100" + common(acmeUID) + " backup_resource=" + res1,
		"veeam:vspc01:" + acmeUID + ":backup.storage_gb:" + res2 + ":1767225600 acme backup.storage_gb=50" + common(acmeUID) + " backup_resource=" + res2,
		"veeam:vspc01:" + globexUID + ":backup.protected_vms:1767225600 globex backup.protected_vms=1" + common(globexUID),
		"veeam:vspc01:" + globexUID + ":backup.storage_gb:" + res1 + ":1767225600 globex backup.storage_gb=10.5" + common(globexUID) + " backup_resource=" + res1,
	}
	slices.Sort(want)
	if got := collectortest.Lines(b.Records); !slices.Equal(got, want) {
		t.Errorf("records\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
	wantSkips := []string{
		"invalid_customer cust-Bad Name (5a1e0f8e-0c5e-4b8e-9d7a-0000000000e5)",
		"missing_field VM no-org-vm (9f0c1d2e-0000-4000-8000-0000000000f2)",
		"missing_field backup resource " + res2 + " of company 5a1e0f8e-0c5e-4b8e-9d7a-0000000000d4",
		"negative_size backup resource " + res2 + " of company " + globexUID,
		"no_customer Hooli GmbH (5a1e0f8e-0c5e-4b8e-9d7a-0000000000d4)",
		"unknown_tenant 5a1e0f8e-0c5e-4b8e-9d7a-000000000099",
	}
	if got := collectortest.SkipReasons(b); !slices.Equal(got, wantSkips) {
		t.Errorf("skips\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(wantSkips, "\n     "))
	}
	// One login, then every collection page by page: 5 companies, 9 VMs
	// and 9 usage entries (acme's resource 1 listed twice, counted once)
	// in pages of 4.
	wantReq := []string{
		"POST /api/v3/token ",
		"GET /api/v3/organizations/companies 0", "GET /api/v3/organizations/companies 4",
		"GET /api/v3/protectedWorkloads/virtualMachines 0", "GET /api/v3/protectedWorkloads/virtualMachines 4", "GET /api/v3/protectedWorkloads/virtualMachines 8",
		"GET /api/v3/organizations/companies/sites/backupResources/usage 0", "GET /api/v3/organizations/companies/sites/backupResources/usage 4",
		"GET /api/v3/organizations/companies/sites/backupResources/usage 8",
	}
	if got := v.requests.Take(); !slices.Equal(got, wantReq) {
		t.Errorf("requests\n got %q\nwant %q", got, wantReq)
	}

	again := collectortest.Collect(t, src, first.Next, t0.Add(time.Hour))
	if !reflect.DeepEqual(again.Records, b.Records) || again.Next != b.Next {
		t.Errorf("collecting the same window again differs:\n%s\n%s", collectortest.Lines(again.Records), collectortest.Lines(b.Records))
	}
	if got := v.requests.Take(); len(got) != 8 || got[0] != "GET /api/v3/organizations/companies 0" {
		t.Errorf("second collect: %q, want the 8 GETs with the same token", got)
	}

	if b := collectortest.Collect(t, src, "2026-01-01T01:00:00Z", t0.Add(time.Hour)); len(b.Records) != 0 || b.Next != "2026-01-01T01:00:00Z" {
		t.Errorf("an empty window gave %+v", b)
	}
}

// TestPerVMRecords: with per_vm, each distinct protected VM of a mapped
// company also gives a backup.protected_vm record of 1 with its id in
// vm_id, keyed by the VM.
func TestPerVMRecords(t *testing.T) {
	t.Parallel()
	v := newVSPC(t)
	b := collectortest.Collect(t, newPerVMSource(t, v), "2026-01-01T00:00:00Z", t0.Add(time.Hour))
	var got []string
	for _, l := range collectortest.Lines(b.Records) {
		if strings.Contains(l, " backup.protected_vm=") {
			got = append(got, l)
		}
	}
	win := " [2026-01-01T00:00:00Z,2026-01-01T01:00:00Z) "
	vm := func(cust, org, id string) string {
		return "veeam:vspc01:" + org + ":backup.protected_vm:" + id + ":1767225600 " + cust + " backup.protected_vm=1" + win +
			"res=" + id + " org=" + org + " site=vspc01 src=veeam:vspc01 vm_id=" + id
	}
	want := []string{
		vm("acme", acmeUID, "9f0c1d2e-0000-4000-8000-0000000000a1"),
		vm("acme", acmeUID, "9f0c1d2e-0000-4000-8000-0000000000a2"),
		vm("globex", globexUID, "9f0c1d2e-0000-4000-8000-0000000000b1"),
	}
	if !slices.Equal(got, want) {
		t.Errorf("per-VM records\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
	if len(b.Records) != 8 {
		t.Errorf("%d records, want the 5 per company and 3 per VM", len(b.Records))
	}
}

// TestLoginAgainOn401 expires the session between polls and in the middle
// of the VM pages: each time the client logs in again once and the poll
// gives the same records.
func TestLoginAgainOn401(t *testing.T) {
	t.Parallel()
	v := newVSPC(t)
	src := newSource(t, v, 4)
	want := collectortest.Lines(collectortest.Collect(t, src, "2026-01-01T00:00:00Z", t0.Add(time.Hour)).Records)
	if n := v.tokens.Logins(); n != 1 {
		t.Fatalf("%d logins, want 1", n)
	}
	v.requests.Take()

	v.tokens.ExpireAll()
	if got := collectortest.Lines(collectortest.Collect(t, src, "2026-01-01T00:00:00Z", t0.Add(time.Hour)).Records); !slices.Equal(got, want) {
		t.Errorf("after expiry between polls: %v", got)
	}
	if n := v.tokens.Logins(); n != 2 {
		t.Errorf("%d logins after an expiry between polls, want 2", n)
	}
	reqs := v.requests.Take()
	if len(reqs) < 3 || reqs[0] != "GET /api/v3/organizations/companies 0" || reqs[1] != "POST /api/v3/token " || reqs[2] != "GET /api/v3/organizations/companies 0" {
		t.Errorf("requests after expiry: %q, want refused GET, login, same GET again", reqs)
	}

	v.mu.Lock()
	v.expireAt = 4 // the second VM page
	v.mu.Unlock()
	if got := collectortest.Lines(collectortest.Collect(t, src, "2026-01-01T00:00:00Z", t0.Add(time.Hour)).Records); !slices.Equal(got, want) {
		t.Errorf("after expiry mid-paging: %v", got)
	}
	if n := v.tokens.Logins(); n != 3 {
		t.Errorf("%d logins after an expiry mid-paging, want 3", n)
	}
}

// TestWrongPasswordFails: a refused login is an error of the poll (the
// runner retries it later), after exactly one token request.
func TestWrongPasswordFails(t *testing.T) {
	t.Parallel()
	v := newVSPC(t)
	cfg := config(v)
	cfg.Password = collector.NewSecret("wrong", "test")
	src, err := veeam.New("vspc01", cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = src.Collect(context.Background(), "2026-01-01T00:00:00Z", t0.Add(time.Hour))
	if err == nil || !strings.Contains(err.Error(), "HTTP 401") || strings.Contains(err.Error(), "wrong") {
		t.Errorf("err = %v, want a 401 that does not show the password", err)
	}
	if got := v.requests.Take(); !slices.Equal(got, []string{"POST /api/v3/token "}) {
		t.Errorf("requests %q, want one login", got)
	}
}

// TestAPIKey sends a VSPC API key as the bearer token, without a login.
func TestAPIKey(t *testing.T) {
	t.Parallel()
	v := newVSPC(t)
	v.tokens.Add("vspc-api-key-123")
	cfg := config(v)
	cfg.Credentials = restapi.Credentials{APIKey: collector.NewSecret("vspc-api-key-123", "test")}
	src, err := veeam.New("vspc01", cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := collectortest.Collect(t, src, "2026-01-01T00:00:00Z", t0.Add(time.Hour))
	if len(b.Records) != 5 {
		t.Errorf("%d records, want 5", len(b.Records))
	}
	if got := v.requests.Take(); len(got) != 3 || got[0] != "GET /api/v3/organizations/companies 0" {
		t.Errorf("requests %q, want one page of each collection and no login", got)
	}
}

// TestTransientFailureRetried: a 503 is retried and the poll succeeds.
func TestTransientFailureRetried(t *testing.T) {
	t.Parallel()
	v := newVSPC(t)
	v.requests.Fail("/api/v3/protectedWorkloads/virtualMachines", 1)
	src := newSource(t, v, 0)
	if b := collectortest.Collect(t, src, "2026-01-01T00:00:00Z", t0.Add(time.Hour)); len(b.Records) != 5 {
		t.Errorf("%d records, want 5", len(b.Records))
	}
	want := []string{"POST /api/v3/token ", "GET /api/v3/organizations/companies 0",
		"GET /api/v3/protectedWorkloads/virtualMachines 0", "GET /api/v3/protectedWorkloads/virtualMachines 0",
		"GET /api/v3/organizations/companies/sites/backupResources/usage 0"}
	if got := v.requests.Take(); !slices.Equal(got, want) {
		t.Errorf("requests %q\nwant %q", got, want)
	}
}

// TestBuildFromYAML builds a source from the collector config's block and
// refuses bad settings with every problem named.
func TestBuildFromYAML(t *testing.T) {
	t.Setenv("VSPC_TEST_PASSWORD", "pw")
	build := func(doc string) error {
		_, err := veeam.Build("vspc01", collectortest.YAMLNode(t, doc))
		return err
	}
	if err := build(`
url: https://vspc.example.net:1280
username: billing
password: {env: VSPC_TEST_PASSWORD}
page_size: 200
customers: {ignore: [Provider], map: {Acme Corp: acme}, pattern: '^cust-(.+)$', customer: '$1'}
`); err != nil {
		t.Errorf("valid config: %v", err)
	}
	for name, c := range map[string]struct{ doc, want string }{
		"unknown key":      {"url: https://x\nusername: a\npassword: {env: VSPC_TEST_PASSWORD}\ncustomers: {use: name}\ntenant: x\n", "field tenant not found"},
		"inline password":  {"url: https://x\nusername: a\npassword: pw\ncustomers: {use: name}\n", "not inline"},
		"no credentials":   {"url: https://x\ncustomers: {use: name}\n", "username and password"},
		"both credentials": {"url: https://x\nusername: a\npassword: {env: VSPC_TEST_PASSWORD}\napi_key: {env: VSPC_TEST_PASSWORD}\ncustomers: {use: name}\n", "not both"},
		"no rule":          {"url: https://x\nusername: a\npassword: {env: VSPC_TEST_PASSWORD}\n", "customers: give at least one"},
		"bad pattern":      {"url: https://x\nusername: a\npassword: {env: VSPC_TEST_PASSWORD}\ncustomers: {pattern: '('}\n", "customers.pattern"},
		"page size":        {"url: https://x\nusername: a\npassword: {env: VSPC_TEST_PASSWORD}\npage_size: 501\ncustomers: {use: id}\n", "page_size 501"},
		"scheme":           {"url: ftp://x\nusername: a\npassword: {env: VSPC_TEST_PASSWORD}\ncustomers: {use: id}\n", "scheme must be https"},
	} {
		if err := build(c.doc); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
	}
	if _, err := os.Stat("testdata"); err != nil {
		t.Fatal(err)
	}
}
