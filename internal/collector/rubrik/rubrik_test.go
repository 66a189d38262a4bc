package rubrik_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/collector"
	"github.com/billingd/billingd/internal/collector/collectortest"
	"github.com/billingd/billingd/internal/collector/restapi"
	"github.com/billingd/billingd/internal/collector/rubrik"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	acmeOrg   = "0c7e4a10-1111-4a6e-8f00-00000000ac3e"
	globexOrg = "3a9d0b22-2222-4b1f-9e00-0000000006b0"
)

func customers() restapi.Customers {
	return restapi.Customers{Ignore: []string{"Global"}, Map: map[string]string{"Acme Corp": "acme"}, Pattern: `^cust-(.+)$`}
}

func newSource(t *testing.T, r *rsc) *rubrik.Source {
	t.Helper()
	src, err := rubrik.New("rsc01", rubrik.Config{
		Common:   restapi.Common{Endpoint: restapi.Endpoint{URL: r.URL}, PageSize: 3, Customers: customers()},
		ClientID: clientID, ClientSecret: collector.NewSecret(clientSecret, "test"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// TestCollectRecordsAndSkips reads the three pages of VM workloads: per
// mapped organisation the distinct Protected workloads (acme-web01 is
// listed twice and counts once; NoSla and DoNotProtect ones do not count)
// and the physical bytes per SLA Domain of every VM (acme-web01's two
// copies, two fids, add up: 60 + 20 + acme-db01's 40 = 120 GiB Gold; the
// unprotected acme-old keeps 50 GiB; globex-app is read on pages 2 and 3
// with the same fid and counts once). Collecting the same window again
// gives identical records.
func TestCollectRecordsAndSkips(t *testing.T) {
	t.Parallel()
	r := newRSC(t)
	src := newSource(t, r)
	if b := collectortest.Collect(t, src, "", t0); len(b.Records) != 0 || b.Next != "2026-01-01T00:00:00Z" {
		t.Fatalf("first poll = %+v, want only the cursor", b)
	}
	b := collectortest.Collect(t, src, "2026-01-01T00:00:00Z", t0.Add(time.Hour))
	win := " [2026-01-01T00:00:00Z,2026-01-01T01:00:00Z) "
	common := func(id string) string { return win + "res=" + id + " org=" + id + " site=rsc01 src=rubrik:rsc01" }
	want := []string{
		"rubrik:rsc01:" + acmeOrg + ":backup.protected_vms:1767225600 acme backup.protected_vms=3" + common(acmeOrg),
		"rubrik:rsc01:" + acmeOrg + ":backup.storage_gb:Gold:1767225600 acme backup.storage_gb=120" + common(acmeOrg) + " sla_domain=Gold",
		"rubrik:rsc01:" + acmeOrg + ":backup.storage_gb:Unprotected:1767225600 acme backup.storage_gb=50" + common(acmeOrg) + " sla_domain=Unprotected",
		"rubrik:rsc01:" + globexOrg + ":backup.protected_vms:1767225600 globex backup.protected_vms=2" + common(globexOrg),
		"rubrik:rsc01:" + globexOrg + ":backup.storage_gb:Silver:1767225600 globex backup.storage_gb=10.5" + common(globexOrg) + " sla_domain=Silver",
	}
	slices.Sort(want)
	if got := collectortest.Lines(b.Records); !slices.Equal(got, want) {
		t.Errorf("records\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
	wantSkips := []string{
		"missing_field VM acme-new (5f9b8a2e-aaaa-4c3e-9d61-0000000000a4)",
		"missing_field VM lost-vm (9e0f1a2b-ffff-4000-8000-0000000000f1)",
		"negative_size VM globex-files (7d2c1b3a-bbbb-4f00-a000-0000000000b2)",
		"no_customer Hooli GmbH (4b5c6d7e-4444-4000-8000-0000000d0011)",
	}
	if got := collectortest.SkipReasons(b); !slices.Equal(got, wantSkips) {
		t.Errorf("skips\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(wantSkips, "\n     "))
	}
	wantReq := []string{"POST /api/client_token", "POST /api/graphql ", "POST /api/graphql " + cursor2, "POST /api/graphql " + cursor3}
	if got := r.requests.Take(); !slices.Equal(got, wantReq) {
		t.Errorf("requests\n got %q\nwant %q", got, wantReq)
	}
	again := collectortest.Collect(t, src, "2026-01-01T00:00:00Z", t0.Add(time.Hour))
	if !reflect.DeepEqual(again.Records, b.Records) {
		t.Errorf("collecting the same window again differs:\n%s\n%s", collectortest.Lines(again.Records), collectortest.Lines(b.Records))
	}
}

// TestLoginAgainOn401 expires the token in the middle of the pages: the
// client logs in again once and resends that page.
func TestLoginAgainOn401(t *testing.T) {
	t.Parallel()
	r := newRSC(t)
	src := newSource(t, r)
	want := collectortest.Lines(collectortest.Collect(t, src, "2026-01-01T00:00:00Z", t0.Add(time.Hour)).Records)
	r.requests.Take()
	r.mu.Lock()
	r.expireAt = 2 // the second page of the next poll
	r.mu.Unlock()
	got := collectortest.Lines(collectortest.Collect(t, src, "2026-01-01T00:00:00Z", t0.Add(time.Hour)).Records)
	if !slices.Equal(got, want) {
		t.Errorf("after expiry: %v", got)
	}
	if n := r.tokens.Logins(); n != 2 {
		t.Errorf("%d logins, want 2", n)
	}
	wantReq := []string{"POST /api/graphql ", "POST /api/graphql " + cursor2, "POST /api/client_token", "POST /api/graphql " + cursor2, "POST /api/graphql " + cursor3}
	if got := r.requests.Take(); !slices.Equal(got, wantReq) {
		t.Errorf("requests\n got %q\nwant %q", got, wantReq)
	}
}

// TestGraphQLErrorFailsThePoll: an error on any page fails the whole poll,
// so that a partial inventory is never billed; the runner retries it.
func TestGraphQLErrorFailsThePoll(t *testing.T) {
	t.Parallel()
	r := newRSC(t)
	r.errorsAt = 3 // the second page (after the login and the first page)
	_, err := newSource(t, r).Collect(context.Background(), "2026-01-01T00:00:00Z", t0.Add(time.Hour))
	if err == nil || !strings.Contains(err.Error(), "timed out reading workloads") {
		t.Errorf("err = %v, want the GraphQL error", err)
	}
	src, err := rubrik.New("rsc01", rubrik.Config{Common: restapi.Common{Endpoint: restapi.Endpoint{URL: r.URL}, Customers: customers()},
		ClientID: clientID, ClientSecret: collector.NewSecret("wrong-secret", "test")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = src.Collect(context.Background(), "2026-01-01T00:00:00Z", t0.Add(time.Hour))
	if err == nil || !strings.Contains(err.Error(), "HTTP 401") || strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("err = %v, want a 401 that does not show the secret", err)
	}
}

// TestBuildFromYAML builds from the config block and refuses bad settings.
func TestBuildFromYAML(t *testing.T) {
	t.Setenv("RSC_TEST_SECRET", "x")
	build := func(doc string) error {
		_, err := rubrik.Build("rsc01", collectortest.YAMLNode(t, doc))
		return err
	}
	if err := build("url: https://example.my.rubrik.com\nclient_id: client|x\nclient_secret: {env: RSC_TEST_SECRET}\nobject_types: [VmwareVirtualMachine]\ncustomers: {ignore: [Global], use: name}\n"); err != nil {
		t.Errorf("valid config: %v", err)
	}
	for name, c := range map[string]struct{ doc, want string }{
		"no secret":   {"url: https://x\nclient_id: client|x\ncustomers: {use: name}\n", "client_id and client_secret"},
		"object type": {"url: https://x\nclient_id: c\nclient_secret: {env: RSC_TEST_SECRET}\nobject_types: [vm]\ncustomers: {use: name}\n", `"vm" is not an RSC object type`},
		"page size":   {"url: https://x\nclient_id: c\nclient_secret: {env: RSC_TEST_SECRET}\npage_size: 1001\ncustomers: {use: name}\n", "page_size 1001"},
		"unknown key": {"url: https://x\nclient_id: c\nclient_secret: {env: RSC_TEST_SECRET}\norgs: x\ncustomers: {use: name}\n", "field orgs not found"},
	} {
		if err := build(c.doc); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
	}
}
