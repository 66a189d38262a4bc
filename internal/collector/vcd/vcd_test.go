package vcd

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/collector"
)

func newSource(t *testing.T, cfg Config) *Source {
	t.Helper()
	s, err := New("vcd01", cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func collect(t *testing.T, s *Source, cur collector.Cursor, now time.Time) collector.Batch {
	t.Helper()
	b, err := s.Collect(context.Background(), cur, now)
	if err != nil {
		t.Fatalf("Collect(%s): %v", now.Format("15:04"), err)
	}
	return b
}

// TestPollBillsTheInventoryPageByPage: every query type is read page by
// page (page size 2: 2 pages of orgs, 2 of VDCs, 3 of VMs, 1 of gateways,
// 2 of external IPs), once per poll whatever the number of VMs; the first
// poll only sets the start; the second bills the hour at the levels seen.
func TestPollBillsTheInventoryPageByPage(t *testing.T) {
	t.Parallel()
	f := newFakeVCD(t)
	f.seed()
	s := newSource(t, testConfig(f))

	b0 := collect(t, s, "", t0)
	if len(b0.Records) != 0 {
		t.Fatalf("first poll gave %d records, want none", len(b0.Records))
	}
	wantRequests := map[string]int{"login": 1, "query organization": 2, "query adminOrgVdc": 2, "query adminVM": 3,
		"query edgeGateway": 1, "query adminAllocatedExternalAddress": 2}
	if got := f.takeRequests(); !maps.Equal(got, wantRequests) {
		t.Errorf("first poll requests %v, want %v", got, wantRequests)
	}

	b1 := collect(t, s, b0.Next, t0.Add(time.Hour))
	delete(wantRequests, "login")
	if got := f.takeRequests(); !maps.Equal(got, wantRequests) {
		t.Errorf("second poll requests %v, want %v (no login, one query per type)", got, wantRequests)
	}
	const k = "vcd:vcd01:"
	const w = ":1767225600 "
	acme := " 00:00-01:00 acme 5a60 0001 allocation_model=payg"
	globex := " 00:00-01:00 globex 6b71 0002 allocation_model=allocation_pool"
	want := []string{
		k + vmWeb + ":vm.vcpu" + w + "vm.vcpu=2" + acme,
		k + vmWeb + ":vm.memory_gb" + w + "vm.memory_gb=4" + acme,
		k + vmWeb + ":vm.powered_on" + w + "vm.powered_on=1" + acme,
		k + vmWeb + ":storage.gb" + w + "storage.gb=40" + acme + " policy=Gold",
		k + vmDB + ":vm.vcpu" + w + "vm.vcpu=4" + acme,
		k + vmDB + ":vm.memory_gb" + w + "vm.memory_gb=16" + acme,
		k + vmDB + ":vm.powered_on" + w + "vm.powered_on=0" + acme,
		k + vmDB + ":storage.gb" + w + "storage.gb=100" + acme + " policy=Silver",
		k + vmApp + ":vm.vcpu" + w + "vm.vcpu=1" + acme,
		k + vmApp + ":vm.memory_gb" + w + "vm.memory_gb=1.5" + acme,
		k + vmApp + ":vm.powered_on" + w + "vm.powered_on=0" + acme, // suspended
		k + vmApp + ":storage.gb" + w + "storage.gb=10" + acme + " policy=default",
		k + vmGlobex + ":vm.vcpu" + w + "vm.vcpu=8" + globex,
		k + vmGlobex + ":vm.memory_gb" + w + "vm.memory_gb=32" + globex,
		k + vmGlobex + ":vm.powered_on" + w + "vm.powered_on=1" + globex,
		k + vmGlobex + ":storage.gb" + w + "storage.gb=200" + globex + " policy=Gold",
		k + vdcGlobex + ":vdc.cpu_allocation_ghz" + w + "vdc.cpu_allocation_ghz=10" + globex,
		k + vdcGlobex + ":vdc.memory_allocation_gb" + w + "vdc.memory_allocation_gb=20" + globex,
		k + vdcGlobex + ":vdc.storage_limit_gb" + w + "vdc.storage_limit_gb=500" + globex,
		k + edgeAcme + ":network.edge_gateway" + w + "network.edge_gateway=1 00:00-01:00 acme 5a60 0001",
		k + orgAcme + ":network.public_ips" + w + "network.public_ips=2 00:00-01:00 acme 5a60 -",
		k + orgGlobex + ":network.public_ips" + w + "network.public_ips=1 00:00-01:00 globex 6b71 -",
	}
	if d := diffLines(want, lines(b1.Records)); d != "" {
		t.Errorf("records (-want +got):\n%s", d)
	}
	for _, r := range b1.Records {
		if err := r.Check(); err != nil || r.Site != "vcd01" || r.Source != "vcd:vcd01" || r.ResourceID == "" {
			t.Errorf("record %s: check %v, site %q, source %q, resource %q", r.Key, err, r.Site, r.Source, r.ResourceID)
		}
	}
	// hooli's org matches no rule; System's VM and VDC are the provider's (no skip).
	wantSkips := map[string]string{"hooli-vm (" + vmHooli + ")": SkipNoCustomer}
	if got := skipReasons(b1); !maps.Equal(got, wantSkips) {
		t.Errorf("skips %v, want %v", got, wantSkips)
	}

	// Same cursor, same keys: a window collected twice is billed once.
	again := collect(t, s, b0.Next, t0.Add(time.Hour))
	if d := diffLines(lines(b1.Records), lines(again.Records)); d != "" || again.Next != b1.Next {
		t.Errorf("collecting the window again differs:\n%s", d)
	}
	// A window that would be empty keeps the cursor and asks VCD nothing.
	f.takeRequests()
	if e := collect(t, s, b1.Next, t0.Add(time.Hour)); len(e.Records) != 0 || e.Next != b1.Next {
		t.Errorf("empty window: %d records, next %s", len(e.Records), e.Next)
	}
	if got := f.takeRequests(); len(got) != 0 {
		t.Errorf("empty window made requests %v", got)
	}
}

// TestBadSourceDataIsSkippedWithAReason: negative, missing and non-numeric
// sizes and an unknown VDC skip the VM (or VDC allocation) with a reason;
// the rest of the poll is billed.
func TestBadSourceDataIsSkippedWithAReason(t *testing.T) {
	t.Parallel()
	f := newFakeVCD(t)
	f.seed()
	neg := f.vm("0e1d2c3b-0101-4a00-9000-000000000101", "neg", orgAcme, vdcAcme, 2, -1024, 10240, "POWERED_ON", "Gold")
	missing := f.vm("0e1d2c3b-0102-4a00-9000-000000000102", "missing", orgAcme, vdcAcme, 2, 1024, 10240, "POWERED_ON", "Gold")
	delete(missing, "numberOfCpus")
	nullStorage := f.vm("0e1d2c3b-0103-4a00-9000-000000000103", "nullstorage", orgAcme, vdcAcme, 2, 1024, nil, "POWERED_ON", "Gold")
	text := f.vm("0e1d2c3b-0104-4a00-9000-000000000104", "text", orgAcme, vdcAcme, 2, 1024, "n/a", "POWERED_ON", "Gold")
	orphan := f.vm("0e1d2c3b-0105-4a00-9000-000000000105", "orphan", orgAcme, "ffffffff-0000-4000-8000-000000000000", 2, 1024, 10240, "POWERED_ON", "Gold")
	for _, v := range []map[string]any{neg, missing, nullStorage, text, orphan} {
		f.add(qtVM, v)
	}
	f.addVdc("a1b2c3d4-0005-4000-8000-000000000005", "globex-flex", orgGlobex, "Globex Corporation", "Flex", nil, -1, 1024)
	f.addEdge("ed9e0000-0002-4b00-a000-000000000002", "stray-edge", "ffffffff-0000-4000-8000-000000000000")
	s := newSource(t, testConfig(f))
	b0 := collect(t, s, "", t0)
	b := collect(t, s, b0.Next, t0.Add(time.Hour))
	want := map[string]string{
		"hooli-vm (" + vmHooli + ")":                                     SkipNoCustomer,
		"neg (0e1d2c3b-0101-4a00-9000-000000000101)":                     SkipNegative,
		"missing (0e1d2c3b-0102-4a00-9000-000000000102)":                 SkipMissingSize,
		"nullstorage (0e1d2c3b-0103-4a00-9000-000000000103)":             SkipMissingSize,
		"text (0e1d2c3b-0104-4a00-9000-000000000104)":                    SkipUnexpected,
		"orphan (0e1d2c3b-0105-4a00-9000-000000000105)":                  SkipUnknownVdc,
		"vdc globex-flex (a1b2c3d4-0005-4000-8000-000000000005)":         SkipNegative, // the last of its two skips: cpu missing, memory negative
		"edge gateway stray-edge (ed9e0000-0002-4b00-a000-000000000002)": SkipUnknownVdc,
	}
	got := skipReasons(b)
	if !maps.Equal(got, want) {
		t.Errorf("skips\n got %v\nwant %v", got, want)
	}
	var vdcSkips []string
	for _, sk := range b.Skipped {
		if strings.HasPrefix(sk.Resource, "vdc globex-flex") {
			vdcSkips = append(vdcSkips, sk.Reason+": "+sk.Detail)
		}
	}
	if len(vdcSkips) != 2 || vdcSkips[0] != "missing_size: cpuAllocationMhz is missing" || vdcSkips[1] != "negative_size: memoryAllocationMB is -1" {
		t.Errorf("flex VDC skips %q", vdcSkips)
	}
	// The good data is still billed: 4 VMs × 4, 2 allocation pool VDC × 3 − 2, a gateway, 2 orgs' IPs.
	if n := len(b.Records); n != 16+3+1+1+2 {
		t.Errorf("%d records, want 23:\n%s", n, strings.Join(lines(b.Records), "\n"))
	}
}

// TestLogin: a wrong password fails the collect without leaking it; an API
// token is exchanged at the OAuth endpoint; an expired session is renewed.
func TestLogin(t *testing.T) {
	t.Parallel()
	f := newFakeVCD(t)
	f.seed()

	cfg := testConfig(f)
	cfg.Password = collector.NewSecret("wrong-password-123", "test")
	_, err := newSource(t, cfg).Collect(context.Background(), "", t0)
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "billing@System") ||
		!strings.Contains(err.Error(), "Invalid credentials") || strings.Contains(err.Error(), "wrong-password") {
		t.Errorf("wrong password: err = %v", err)
	}
	if got := f.takeRequests(); !maps.Equal(got, map[string]int{"login": 1}) {
		t.Errorf("wrong password: requests %v, want one login", got)
	}

	cfg = testConfig(f)
	cfg.Username, cfg.Password = "", collector.Secret{}
	cfg.APIToken = collector.NewSecret(fakeAPIToken, "file /run/secrets/vcd")
	s := newSource(t, cfg)
	b0 := collect(t, s, "", t0)
	f.expireSessions()
	b1 := collect(t, s, b0.Next, t0.Add(time.Hour))
	if len(b1.Records) != 22 {
		t.Errorf("with an API token: %d records, want 22", len(b1.Records))
	}
	if got := f.takeRequests()["login"]; got != 2 {
		t.Errorf("API token: %d logins, want 2 (the first, and after the session expired)", got)
	}

	cfg.APIToken = collector.NewSecret("revoked-token-456", "env VCD_TOKEN")
	_, err = newSource(t, cfg).Collect(context.Background(), "", t0)
	if err == nil || !strings.Contains(err.Error(), "400") || strings.Contains(err.Error(), "revoked-token") {
		t.Errorf("revoked token: err = %v", err)
	}
}

// TestNewAndVanishedVMsWithoutNotifications: without notifications a new
// VM is billed from its dateCreated, a VM gone between polls is billed up
// to the last poll that saw it (and not skipped: nothing tells when it
// went), as the vCenter source does.
func TestNewAndVanishedVMsWithoutNotifications(t *testing.T) {
	t.Parallel()
	f := newFakeVCD(t)
	f.seed()
	s := newSource(t, testConfig(f))
	b0 := collect(t, s, "", t0)
	nv := f.vm("0e1d2c3b-0201-4a00-9000-000000000201", "new", orgAcme, vdcAcme, 2, 2048, 20480, "POWERED_ON", "Gold")
	nv["dateCreated"] = "2026-01-01T00:20:00.000+00:00"
	f.add(qtVM, nv)
	f.removeVM(vmDB)
	b := collect(t, s, b0.Next, t0.Add(time.Hour))
	var got []string
	for _, l := range lines(b.Records) {
		if strings.Contains(l, "0e1d2c3b-0201") || strings.Contains(l, vmDB) {
			got = append(got, l)
		}
	}
	k := "vcd:vcd01:0e1d2c3b-0201-4a00-9000-000000000201:"
	rest := " 00:20-01:00 acme 5a60 0001 allocation_model=payg"
	want := []string{
		k + "storage.gb:1767226800 storage.gb=20" + rest + " policy=Gold",
		k + "vm.memory_gb:1767226800 vm.memory_gb=2" + rest,
		k + "vm.powered_on:1767226800 vm.powered_on=1" + rest,
		k + "vm.vcpu:1767226800 vm.vcpu=2" + rest,
	}
	if d := diffLines(want, got); d != "" {
		t.Errorf("new and deleted VMs (-want +got):\n%s", d)
	}
	if len(b.Skipped) != 1 { // hooli's
		t.Errorf("skips %v", b.Skipped)
	}
}

func TestConfigFromYAML(t *testing.T) {
	t.Setenv("VCD_TEST_PASSWORD", "pw")
	cfg, err := collector.Parse([]byte(`
billingd: {address: "127.0.0.1:9090", plaintext: true}
state_dir: /tmp/x
sources:
  - name: vcd01
    interval: 15m
    vcd:
      url: https://vcd.example.net
      username: billing
      password: {env: VCD_TEST_PASSWORD}
      customers:
        map: {"ACME Corp": acme}
        rules: [{org: '^cust-([a-z0-9]+)$', customer: $1}, {org: '^System$', ignore: true}]
        same_name: true
      notifications:
        url: amqp://rabbit.example.net:5672/vcd
        username: billing
        password: {env: VCD_TEST_PASSWORD}
        exchange: vcd.notifications20
        queue: billingd-vcd01
`))
	if err != nil {
		t.Fatal(err)
	}
	scheds, err := cfg.Build(map[string]collector.Builder{Type: Build})
	if err != nil {
		t.Fatal(err)
	}
	s := scheds[0].Source.(*Source)
	if s.Name() != "vcd01" || s.site != "vcd01" || s.notifications == nil || s.client.accept != "application/*+json;version=38.1" {
		t.Errorf("built %+v", s)
	}
	for org, want := range map[string]string{"ACME Corp": "acme", "cust-globex": "globex", "initech": "initech", "Bad Name": ""} {
		if got, _ := s.customers.resolve(org); got != want {
			t.Errorf("org %q → %q, want %q", org, got, want)
		}
	}
	if _, ignore := s.customers.resolve("System"); !ignore {
		t.Error("System is not ignored")
	}

	for _, bad := range []struct{ yaml, want string }{
		{"url: https://x\nusername: u\n", "username and password, or api_token"},
		{"url: ftp://x\napi_token: {env: VCD_TEST_PASSWORD}\n", "scheme must be https"},
		{"url: https://x\napi_token: {env: VCD_TEST_PASSWORD}\ncustomers: {rules: [{org: '('}]}\n", "customers.rules[0]: org"},
		{"url: https://x\napi_token: {env: VCD_TEST_PASSWORD}\nnotifications: {url: 'amqp://guest:guest@h/', exchange: e, queue: q}\n", "put credentials in username"},
		{"url: https://x\napi_token: {env: VCD_TEST_PASSWORD}\npassword: 'inline'\n", "not inline"},
		{"url: https://x\napi_token: {env: VCD_TEST_PASSWORD}\npage_sise: 3\n", "field page_sise not found"},
	} {
		_, err := collector.Parse([]byte("billingd: {address: \"127.0.0.1:9090\", plaintext: true}\nstate_dir: /tmp/x\nsources:\n  - name: v\n    interval: 1h\n    vcd:\n" + indent(bad.yaml)))
		if err == nil {
			var c collector.Config
			c, _ = collector.Parse([]byte("billingd: {address: \"127.0.0.1:9090\", plaintext: true}\nstate_dir: /tmp/x\nsources:\n  - name: v\n    interval: 1h\n    vcd:\n" + indent(bad.yaml)))
			_, err = c.Build(map[string]collector.Builder{Type: Build})
		}
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: err %v, want %q", bad.yaml, err, bad.want)
		}
	}
}

func indent(s string) string {
	var b strings.Builder
	for l := range strings.SplitSeq(strings.TrimSuffix(s, "\n"), "\n") {
		b.WriteString("      " + l + "\n")
	}
	return b.String()
}

// TestVDCUsage: with vdc_usage on, an allocation pool VDC also sends what
// its VMs use of the allocation (the fake reports 4000 MHz and 8192 MB).
func TestVDCUsage(t *testing.T) {
	t.Parallel()
	f := newFakeVCD(t)
	f.seed()
	cfg := testConfig(f)
	cfg.VDCUsage = true
	s := newSource(t, cfg)
	b0 := collect(t, s, "", t0)
	b1 := collect(t, s, b0.Next, t0.Add(time.Hour))
	var got []string
	for _, l := range lines(b1.Records) {
		if strings.Contains(l, "_used_") {
			got = append(got, l[strings.Index(l, " ")+1:])
		}
	}
	want := []string{
		"vdc.cpu_used_ghz=4 00:00-01:00 globex 6b71 0002 allocation_model=allocation_pool",
		"vdc.memory_used_gb=8 00:00-01:00 globex 6b71 0002 allocation_model=allocation_pool",
	}
	if !slices.Equal(got, want) {
		t.Errorf("usage records %q, want %q", got, want)
	}
}
