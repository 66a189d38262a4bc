package app_test

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/billingd/billingd/internal/app"
	"github.com/billingd/billingd/internal/config"
)

// fuzzServer starts one billingd (auth off, a fresh database) for a fuzz
// target in this process and returns the base URL of its REST side.
func fuzzServer(f *testing.F) string {
	f.Helper()
	return "http://" + fuzzApp(f).HTTPAddr()
}

// fuzzApp starts billingd for a fuzz target with a customer acme, a metric
// vm.vcpu and an EUR default price list.
func fuzzApp(f *testing.F) *app.App {
	f.Helper()
	cfg := config.Default()
	cfg.Auth = false
	cfg.MaxBodyBytes = 64 << 10
	a := launch(f, cfg)
	post := func(path, body string) {
		resp, err := http.Post("http://"+a.HTTPAddr()+path, "application/json", bytes.NewReader([]byte(body)))
		if err != nil {
			f.Fatal(err)
		}
		resp.Body.Close()
	}
	post("/v1/metrics", `{"key":"vm.vcpu","unit":"vCPU","aggregation":"AGGREGATION_MAX"}`)
	post("/v1/productGroups", `{"id":"compute","displayName":"Compute"}`)
	post("/v1/customers", `{"id":"acme","displayName":"ACME"}`)
	post("/v1/priceLists", `{"id":"default-eur","displayName":"Default","currency":"EUR"}`)
	return a
}

// checkNo5xx posts body to path and fails on a server error: bad JSON must
// be a 4xx with a message, never a 500 or a panic.
func checkNo5xx(t *testing.T, client *http.Client, base, path string, body []byte) {
	resp, err := client.Post(base+path, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		t.Fatalf("POST %s %q = %d %s", path, body, resp.StatusCode, raw)
	}
}

// FuzzCreateProductJSON posts arbitrary bodies to POST /v1/products.
func FuzzCreateProductJSON(f *testing.F) {
	for _, seed := range []string{
		`{"id":"p1","productGroupId":"compute","metricKey":"vm.vcpu","displayName":"vCPU"}`,
		`{"id":"p2","productGroupId":"compute","metricKey":"vm.vcpu","displayName":"x","dimensionFilter":{"policy":"Gold"}}`,
		`{}`, `[]`, `null`, `{"id":1}`, `{"dimensionFilter":{"":""}}`, `{"createTime":"not a time"}`,
		`{"id":"` + "\xff" + `"}`, `{"displayName":"` + string(bytes.Repeat([]byte("é"), 300)) + `"}`,
		`{"unknownField":true}`, `{"id":"a","id":"b"}`, `{"updateTime":"9999-12-31T23:59:59Z"}`,
	} {
		f.Add([]byte(seed))
	}
	base := fuzzServer(f)
	client := &http.Client{}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkNo5xx(t, client, base, "/v1/products", body)
	})
}

// FuzzRESTJSONBodies posts arbitrary bodies to the other write endpoints
// whose JSON carries decimals, times, enums and nested messages.
func FuzzRESTJSONBodies(f *testing.F) {
	const (
		prices = iota
		contracts
		campaigns
		apiKeys
		billingQuery
		usageIngest
		customers
		metrics
		productGroups
		organisations
	)
	paths := []string{
		prices:        "/v1/priceLists/default-eur/prices",
		contracts:     "/v1/contracts",
		campaigns:     "/v1/campaigns",
		apiKeys:       "/v1/apiKeys",
		billingQuery:  "/v1/billing:query",
		usageIngest:   "/v1/usage:ingest",
		customers:     "/v1/customers",
		metrics:       "/v1/metrics",
		productGroups: "/v1/productGroups",
		organisations: "/v1/customers/acme/organisations",
	}
	for _, seed := range []struct {
		path uint8
		body string
	}{
		{prices, `{"id":"p","productId":"vcpu","unitPrice":"0.01","granularity":"GRANULARITY_HOUR","validFrom":"2026-01-01T00:00:00Z","tiers":[{"upTo":"10","unitPrice":"1"}]}`},
		{contracts, `{"id":"c","customerId":"acme","productId":"vcpu","model":"CONTRACT_MODEL_COMMITTED","committedQuantity":"1e400","fee":"-0","feeGranularity":3,"currency":"EUR","startTime":"2026-01-01T00:00:00Z"}`},
		{campaigns, `{"id":"k","displayName":"x","currency":"EUR","validFrom":"2026-01-01T00:00:00Z","entries":[{"productId":"vcpu","discountPercent":"NaN"}]}`},
		{apiKeys, `{"displayName":"k","role":"ROLE_ADMIN","customerId":"acme","expireTime":"0001-01-01T00:00:00Z"}`},
		{billingQuery, `{"query":{"customerIds":["acme"],"startTime":"2026-10-01T00:00:00Z","endTime":"2026-11-01T00:00:00Z","groupBy":[99]}}`},
		// Centuries apart: the length rule once overflowed CEL's duration.
		{billingQuery, `{"query":{"customerIds":["000"],"startTime":"0001-10-01T0:00:00Z","endTime":"1000-01-01T0:00:00Z","groupBy":[0]}}`},
		{billingQuery, `{"query":{"startTime":"0001-01-01T00:00:00Z","endTime":"0001-02-01T00:00:00Z","granularity":"GRANULARITY_DAY"}}`},
		{billingQuery, `{"query":{"startTime":"9999-12-01T00:00:00Z","endTime":"9999-12-31T23:59:59.999999999Z","granularity":"GRANULARITY_HOUR"}}`},
		{usageIngest, `{"records":[{"idempotencyKey":"x","customerId":"acme","metricKey":"vm.vcpu","quantity":"99999999999999999999999999999999","time":"2026-10-01T00:00:00Z"}]}`},
		// Out of the rated range (1970–2200), the zero instant, an expired key.
		{prices, `{"id":"p0","productId":"vcpu","unitPrice":"1","granularity":"GRANULARITY_HOUR","validFrom":"0001-01-01T00:00:00Z","validTo":"9999-12-31T23:59:59Z"}`},
		{apiKeys, `{"displayName":"k","role":"ROLE_READER","expireTime":"2001-01-01T00:00:00Z"}`},
		// PostgreSQL text cannot hold NUL: each must be a 400 naming the field.
		{customers, `{"id":"c1","displayName":"a\u0000b","externalId":"\u0000","labels":{"k":"\u0000"}}`},
		{metrics, `{"key":"m.x","unit":"\u0000","aggregation":"AGGREGATION_SUM","displayName":"\u0000"}`},
		{productGroups, `{"id":"g","displayName":"\u0000"}`},
		{organisations, `{"id":"o","displayName":"x\u0000"}`},
		{apiKeys, `{"displayName":"\u0000","role":"ROLE_READER","sources":["\u0000"]}`},
		{campaigns, `{"id":"k2","displayName":"\u0000","currency":"EUR","validFrom":"2026-01-01T00:00:00Z","entries":[{"productId":"vcpu","discountPercent":"1"}]}`},
	} {
		f.Add(seed.path, []byte(seed.body))
	}
	base := fuzzServer(f)
	client := &http.Client{}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		checkNo5xx(t, client, base, paths[int(which)%len(paths)], body)
	})
}

// FuzzRESTQuery sends GET requests whose filters and page tokens are
// arbitrary text (NUL, invalid UTF-8, tokens this server never issued):
// every answer must be a 2xx or 4xx.
func FuzzRESTQuery(f *testing.F) {
	paths := []string{
		"/v1/customers?externalId=", "/v1/customers?pageToken=", "/v1/usage?customerId=acme&resourceId=",
		"/v1/usage?customerId=acme&pageToken=", "/v1/auditEvents?actor=", "/v1/auditEvents?pageToken=",
		"/v1/products?pageToken=", "/v1/metrics?pageToken=", "/v1/customers/",
		"/v1/reports/billing?format=csv&from=2026-10-01T00:00:00Z&to=2026-11-01T00:00:00Z&customer=",
		"/v1/billing:stats?month=",
	}
	for i, v := range []string{"a\x00b", "YQBi", "AAAAAAAAAAFhAA", "\xff", "%00", "acme", "_w", "2026-10", "0001-01", "000000000000"} {
		f.Add(uint8(i), v)
	}
	base := fuzzServer(f)
	client := &http.Client{}
	f.Fuzz(func(t *testing.T, which uint8, value string) {
		path := paths[int(which)%len(paths)] + url.QueryEscape(value)
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("GET %s = %d %s", path, resp.StatusCode, raw)
		}
	})
}

// FuzzRESTMethods sends any method to any path with any body: a method a
// path does not serve is 405, an unknown path 404, never a 5xx.
func FuzzRESTMethods(f *testing.F) {
	for _, s := range []struct{ method, path, body string }{
		{"TRACE", "/v1/products", ""}, {"PUT", "/v1/products/x", "{}"}, {"DELETE", "/v1/reports/billing", ""},
		{"PATCH", "/v1/customers/acme", `{"displayName":"\u0000"}`}, {"OPTIONS", "/v1/usage:ingest", ""},
		{"GET", "/v1/customers/acme/periods/0001-01:close", ""}, {"POST", "/v1/customers/acme/periods/0001-01:close", "{}"},
		{"GET", "/v1/%ff", ""}, {"GET", "/v1/billing:stats?month=2200-01", ""},
	} {
		f.Add(s.method, s.path, []byte(s.body))
	}
	base := fuzzServer(f)
	client := &http.Client{}
	f.Fuzz(func(t *testing.T, method, path string, body []byte) {
		req, err := http.NewRequest(method, base+path, bytes.NewReader(body))
		if err != nil || !strings.HasPrefix(req.URL.Path, "/") {
			return // not a request a client can send
		}
		resp, err := client.Do(req)
		if err != nil {
			return // refused by the client library or the server's HTTP parser
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("%s %s %q = %d %s", method, path, body, resp.StatusCode, raw)
		}
	})
}
