package cohesity_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/collector"
	"github.com/billingd/billingd/internal/collector/cohesity"
	"github.com/billingd/billingd/internal/collector/collectortest"
	"github.com/billingd/billingd/internal/collector/restapi"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func customers() restapi.Customers {
	return restapi.Customers{Ignore: []string{"provider/"}, Map: map[string]string{"Acme": "acme"}, Pattern: `^cust-(.+)$`}
}

func newSource(t *testing.T, c *cluster) *cohesity.Source {
	t.Helper()
	src, err := cohesity.New("coh01", cohesity.Config{
		Common:      restapi.Common{Endpoint: restapi.Endpoint{URL: c.URL}, Customers: customers()},
		Credentials: restapi.Credentials{Username: cohUser, Password: collector.NewSecret(cohPassword, "test")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// TestCollectRecordsAndSkips polls the fixtures: per mapped tenant the
// distinct protected VMs (acme-web01 is in two protection groups and
// counts once; the vCenter container does not count) and the consumed
// storage per storage domain, read over two cookie-chained pages of
// stats/tenants (globex's DefaultStorageDomain entry comes on both pages
// and counts once); malformed and unmapped entries are skipped with reasons.
// Collecting the same window again gives identical records.
func TestCollectRecordsAndSkips(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	src := newSource(t, c)
	if b := collectortest.Collect(t, src, "", t0); len(b.Records) != 0 || b.Next != "2026-01-01T00:00:00Z" {
		t.Fatalf("first poll = %+v, want only the cursor", b)
	}
	b := collectortest.Collect(t, src, "2026-01-01T00:00:00Z", t0.Add(time.Hour))
	win := " [2026-01-01T00:00:00Z,2026-01-01T01:00:00Z) "
	common := func(id string) string { return win + "res=" + id + " org=" + id + " site=coh01 src=cohesity:coh01" }
	want := []string{
		"cohesity:coh01:acme/:backup.protected_vms:1767225600 acme backup.protected_vms=2" + common("acme/"),
		"cohesity:coh01:acme/:backup.storage_gb:DefaultStorageDomain:1767225600 acme backup.storage_gb=100" + common("acme/") + " storage_domain=DefaultStorageDomain",
		"cohesity:coh01:acme/:backup.storage_gb:Gold:1767225600 acme backup.storage_gb=50" + common("acme/") + " storage_domain=Gold",
		"cohesity:coh01:globex/:backup.protected_vms:1767225600 globex backup.protected_vms=1" + common("globex/"),
		"cohesity:coh01:globex/:backup.storage_gb:DefaultStorageDomain:1767225600 globex backup.storage_gb=10.5" + common("globex/") + " storage_domain=DefaultStorageDomain",
	}
	slices.Sort(want)
	if got := collectortest.Lines(b.Records); !slices.Equal(got, want) {
		t.Errorf("records\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
	wantSkips := []string{
		"missing_field object acme-broken of tenant acme/",
		"missing_field storage of tenant globex/",
		"negative_size storage of tenant globex/",
		"no_customer Hooli GmbH (hooli/)",
		"unknown_tenant initrode/",
	}
	if got := collectortest.SkipReasons(b); !slices.Equal(got, wantSkips) {
		t.Errorf("skips\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(wantSkips, "\n     "))
	}
	// The ignored provider tenant is not searched.
	wantReq := []string{
		"POST /irisservices/api/v1/public/accessTokens",
		"GET /irisservices/api/v1/public/tenants",
		"GET /v2/data-protect/search/protected-objects acme/",
		"GET /v2/data-protect/search/protected-objects globex/",
		"GET /v2/data-protect/search/protected-objects hooli/",
		"GET /irisservices/api/v1/public/stats/tenants",
		"GET /irisservices/api/v1/public/stats/tenants " + cookie2,
	}
	if got := c.requests.Take(); !slices.Equal(got, wantReq) {
		t.Errorf("requests\n got %q\nwant %q", got, wantReq)
	}
	again := collectortest.Collect(t, src, "2026-01-01T00:00:00Z", t0.Add(time.Hour))
	if !reflect.DeepEqual(again.Records, b.Records) {
		t.Errorf("collecting the same window again differs:\n%s\n%s", collectortest.Lines(again.Records), collectortest.Lines(b.Records))
	}
	if got := c.requests.Take(); len(got) != 6 {
		t.Errorf("second collect: %q, want the 6 GETs without a login", got)
	}
}

// TestLoginAgainOn401: after the session expired the client logs in again
// once, and the poll gives the same records.
func TestLoginAgainOn401(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	src := newSource(t, c)
	want := collectortest.Lines(collectortest.Collect(t, src, "2026-01-01T00:00:00Z", t0.Add(time.Hour)).Records)
	c.requests.Take()
	c.tokens.ExpireAll()
	if got := collectortest.Lines(collectortest.Collect(t, src, "2026-01-01T00:00:00Z", t0.Add(time.Hour)).Records); !slices.Equal(got, want) {
		t.Errorf("after expiry: %v", got)
	}
	if n := c.tokens.Logins(); n != 2 {
		t.Errorf("%d logins, want 2", n)
	}
	if got := c.requests.Take(); len(got) != 8 || got[1] != "POST /irisservices/api/v1/public/accessTokens" {
		t.Errorf("requests %q, want refused GET, login, then the 6 GETs", got)
	}
}

// TestAPIKeyAndFailures: an API key goes in the apiKey header without a
// login; a wrong key fails the poll after one retry; a 503 is retried.
func TestAPIKeyAndFailures(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	c.tokens.Add("cohesity-api-key")
	newKeySource := func(key string) *cohesity.Source {
		src, err := cohesity.New("coh01", cohesity.Config{
			Common:      restapi.Common{Endpoint: restapi.Endpoint{URL: c.URL}, Customers: customers()},
			Credentials: restapi.Credentials{APIKey: collector.NewSecret(key, "test")},
		})
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
	c.requests.Fail("/irisservices/api/v1/public/stats/tenants", 1)
	if b := collectortest.Collect(t, newKeySource("cohesity-api-key"), "2026-01-01T00:00:00Z", t0.Add(time.Hour)); len(b.Records) != 5 {
		t.Errorf("%d records, want 5", len(b.Records))
	}
	if got := c.requests.Take(); len(got) != 7 || slices.Contains(got, "POST /irisservices/api/v1/public/accessTokens") {
		t.Errorf("requests %q, want the 6 GETs and the retried stats page, no login", got)
	}
	_, err := newKeySource("wrong-key").Collect(context.Background(), "2026-01-01T00:00:00Z", t0.Add(time.Hour))
	if err == nil || !strings.Contains(err.Error(), "HTTP 401") || strings.Contains(err.Error(), "wrong-key") {
		t.Errorf("err = %v, want a 401 that does not show the key", err)
	}
	if got := c.requests.Take(); len(got) != 2 {
		t.Errorf("requests with a wrong key %q, want the refused GET and one retry", got)
	}
}

// TestBuildFromYAML builds from the config block and refuses bad settings.
func TestBuildFromYAML(t *testing.T) {
	t.Setenv("COHESITY_TEST_PASSWORD", "pw")
	build := func(doc string) error {
		_, err := cohesity.Build("coh01", collectortest.YAMLNode(t, doc))
		return err
	}
	if err := build("url: https://coh.example.net\nusername: billing\npassword: {env: COHESITY_TEST_PASSWORD}\ndomain: corp.example\nenvironments: [kVMware]\ncustomers: {use: name}\n"); err != nil {
		t.Errorf("valid config: %v", err)
	}
	for name, c := range map[string]struct{ doc, want string }{
		"unknown key":   {"url: https://x\nusername: a\npassword: {env: COHESITY_TEST_PASSWORD}\ncustomers: {use: name}\ntenants: x\n", "field tenants not found"},
		"environment":   {"url: https://x\nusername: a\npassword: {env: COHESITY_TEST_PASSWORD}\nenvironments: [vmware]\ncustomers: {use: name}\n", `"vmware" is not a Cohesity environment`},
		"credentials":   {"url: https://x\nusername: a\ncustomers: {use: name}\n", "username and password"},
		"customers use": {"url: https://x\napi_key: {env: COHESITY_TEST_PASSWORD}\ncustomers: {use: uid}\n", `customers.use "uid"`},
	} {
		if err := build(c.doc); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
	}
}
