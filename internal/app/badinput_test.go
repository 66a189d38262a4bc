package app_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// badInput is one request a client may send and the field its 400 must name.
type badInput struct {
	method, path string
	body         map[string]any
	field        string
}

// nulInputs put U+0000 in every kind of text a client sends: display names,
// ids in the ERP, labels, list filters and page tokens that decode to NUL.
// PostgreSQL text cannot hold NUL; reaching the database it was a 500.
func nulInputs() []badInput {
	const nul = "a\x00b"
	token := base64.RawURLEncoding.EncodeToString([]byte(nul))
	return []badInput{
		{"POST", "/v1/customers", map[string]any{"id": "nul-1", "displayName": nul}, "customer.display_name"},
		{"POST", "/v1/customers", map[string]any{"id": "nul-2", "displayName": "x", "externalId": nul}, "customer.external_id"},
		{"POST", "/v1/customers", map[string]any{"id": "nul-3", "displayName": "x", "labels": map[string]any{"k": nul}}, `customer.labels["k"]`},
		{"POST", "/v1/metrics", map[string]any{"key": "nul.m", "unit": "x", "aggregation": "AGGREGATION_SUM", "displayName": nul}, "metric.display_name"},
		{"POST", "/v1/productGroups", map[string]any{"id": "nul-g", "displayName": nul}, "product_group.display_name"},
		{"POST", "/v1/customers/acme/organisations", map[string]any{"id": "nul-o", "displayName": nul}, "organisation.display_name"},
		{"POST", "/v1/apiKeys", map[string]any{"displayName": nul, "role": "ROLE_READER"}, "api_key.display_name"},
		{"GET", "/v1/usage?customerId=acme&resourceId=a%00b", nil, "resource_id"},
		{"GET", "/v1/customers?externalId=a%00b", nil, "external_id"},
		{"GET", "/v1/auditEvents?actor=a%00b", nil, "actor"},
		{"GET", "/v1/customers?pageToken=" + token, nil, "page_token"},
		{"GET", "/v1/usage?customerId=acme&pageToken=" + base64.RawURLEncoding.EncodeToString([]byte("\x00\x00\x00\x00\x00\x00\x00\x01a\x00")), nil, "page_token"},
	}
}

// TestBadTextIsRejectedNamingTheField: each input is a 400 whose details
// name the field, and nothing is written.
func TestBadTextIsRejectedNamingTheField(t *testing.T) {
	t.Parallel()
	s := startOnTestDB(t)
	if code, body := s.call(t, "POST", "/v1/customers", map[string]any{"id": "acme", "displayName": "ACME"}); code != http.StatusOK {
		t.Fatalf("create customer: %d %v", code, body)
	}
	for _, in := range nulInputs() {
		code, body := s.call(t, in.method, in.path, in.body)
		if code != http.StatusBadRequest || !slices.Contains(violatedFields(body), in.field) {
			t.Errorf("%s %s %q = %d %v, want 400 naming %s", in.method, in.path, in.body, code, body, in.field)
		}
	}
	_, body := s.call(t, "GET", "/v1/customers", nil)
	if n := len(body["customers"].([]any)); n != 1 {
		t.Errorf("%d customers after rejected creates, want 1", n)
	}
}

// TestUnsupportedMethodIs405: a method the path does not serve is 405
// Method Not Allowed, not 501 (which says the server cannot do it at all).
func TestUnsupportedMethodIs405(t *testing.T) {
	t.Parallel()
	s := startOnTestDB(t)
	for _, c := range []struct{ method, path, allow string }{
		{"TRACE", "/v1/products", "GET, HEAD, POST"}, {"PUT", "/v1/products", "GET, HEAD, POST"},
		{"TRACE", "/v1/products/x", "DELETE, GET, HEAD, PATCH"},
		{"GET", "/v1/customers/acme/periods/2026-10:close", "POST"},
		{"TRACE", "/v1/reports/billing", "GET, HEAD"}, {"POST", "/v1/reports/billing", "GET, HEAD"}, {"TRACE", "/healthz", "GET, HEAD"},
	} {
		req, err := http.NewRequest(c.method, s.http+c.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != c.allow {
			t.Errorf("%s %s = %d Allow %q, want 405 Allow %q", c.method, c.path, resp.StatusCode, resp.Header.Get("Allow"), c.allow)
		}
	}
}

// TestReportDownloadAuthenticatesFirst: like every RPC, the download asks
// who calls before it looks at the parameters, so a caller without a key
// or without the right learns nothing from validation.
func TestReportDownloadAuthenticatesFirst(t *testing.T) {
	t.Parallel()
	s := startSecured(t, nil)
	for who, want := range map[string]int{noKey: 401, collector: 403, reader: 400, admin: 400} {
		if code, body := s.rest(t, who, "GET", "/v1/reports/billing?format=nope", nil); code != want {
			t.Errorf("bad parameters as %s = %d %v, want %d", who, code, body, want)
		}
	}
}

// boundInputs hold times and months outside what billingd rates (instants
// in [1970-01-01, 2200-01-01) UTC), which every path must refuse alike and
// name, and an API key that would be expired when made.
func boundInputs() []badInput {
	price := func(from, to string) map[string]any {
		p := map[string]any{"id": "p-" + from[:4] + "-" + to, "productId": "vcpu", "unitPrice": "1", "granularity": "GRANULARITY_HOUR", "validFrom": from}
		if to != "" {
			p["validTo"] = to
		}
		return p
	}
	return []badInput{
		{"POST", "/v1/customers/acme/periods/0001-01:close", map[string]any{}, "month"},
		{"POST", "/v1/customers/acme/periods/2200-01:close", map[string]any{}, "month"},
		{"GET", "/v1/billing:stats?month=0001-01", nil, "month"},
		{"GET", "/v1/billing:query?query.month=2200-01", nil, "query.month"},
		{"POST", "/v1/priceLists/default-eur/prices", price("0001-01-02T00:00:00Z", ""), "price.valid_from"},
		{"POST", "/v1/priceLists/default-eur/prices", price("9999-01-01T00:00:00Z", ""), "price.valid_from"},
		{"POST", "/v1/priceLists/default-eur/prices", price("2026-01-01T00:00:00Z", "9999-01-01T00:00:00Z"), "price.valid_to"},
		{"POST", "/v1/campaigns", map[string]any{"id": "c9", "displayName": "x", "currency": "EUR", "validFrom": "2026-01-01T00:00:00Z", "validTo": "9999-01-01T00:00:00Z",
			"entries": []any{map[string]any{"productId": "vcpu", "discountPercent": "1"}}}, "campaign.valid_to"},
		{"POST", "/v1/apiKeys", map[string]any{"displayName": "late", "role": "ROLE_READER", "expireTime": "2020-01-01T00:00:00Z"}, "api_key.expire_time"},
	}
}

// TestBoundsAgree: the bounds the billing query and stats state hold for
// closing a month and for price and campaign windows; the zero instant
// 0001-01-01T00:00:00Z is out of bounds, not "required"; a key is not made
// expired.
func TestBoundsAgree(t *testing.T) {
	t.Parallel()
	s := startOnTestDB(t)
	seedCatalog(t, s)
	for _, c := range []struct {
		path string
		body map[string]any
	}{
		{"/v1/customers", map[string]any{"id": "acme", "displayName": "ACME"}},
		{"/v1/products", product("vcpu")},
		{"/v1/priceLists", map[string]any{"id": "default-eur", "displayName": "Default", "currency": "EUR"}},
	} {
		if code, body := s.call(t, "POST", c.path, c.body); code != http.StatusOK {
			t.Fatalf("POST %s: %d %v", c.path, code, body)
		}
	}
	for _, in := range boundInputs() {
		code, body := s.call(t, in.method, in.path, in.body)
		if code != http.StatusBadRequest || !slices.Contains(violatedFields(body), in.field) {
			t.Errorf("%s %s %v = %d %v, want 400 naming %s", in.method, in.path, in.body, code, body, in.field)
		}
	}
	zero := map[string]any{"id": "p0", "productId": "vcpu", "unitPrice": "1", "granularity": "GRANULARITY_HOUR", "validFrom": "0001-01-01T00:00:00Z"}
	code, body := s.call(t, "POST", "/v1/priceLists/default-eur/prices", zero)
	if msg, _ := body["message"].(string); code != http.StatusBadRequest || strings.Contains(msg, "required") || !strings.Contains(msg, "1970") {
		t.Errorf("valid_from 0001-01-01T00:00:00Z = %d %v, want 400 saying it lies before 1970", code, body)
	}
	_, body = s.call(t, "GET", "/v1/priceLists/default-eur/prices", nil)
	if n := len(body["prices"].([]any)); n != 0 {
		t.Errorf("%d prices stored from refused requests", n)
	}
}

// TestMessagesNameTheFieldAndTheFix: a decimal that is not one, malformed
// JSON and an unknown enum value each get a 400 whose details name the
// field (or the body, with the place) and say what to send instead of
// quoting a regular expression.
func TestMessagesNameTheFieldAndTheFix(t *testing.T) {
	t.Parallel()
	s := startOnTestDB(t)
	for _, c := range []struct {
		method, path string
		body         string
		field, says  string
	}{
		{"POST", "/v1/priceLists/x/prices", `{"id":"p","productId":"vcpu","unitPrice":"12,50","granularity":"GRANULARITY_HOUR","validFrom":"2026-01-01T00:00:00Z"}`,
			"price.unit_price", "must be a decimal number such as 12.50"},
		{"POST", "/v1/metrics", `{"key":"m.x","unit":"x","aggregation":"AGGREGATION_NOPE"}`, "aggregation", `"AGGREGATION_NOPE"`},
		{"POST", "/v1/metrics", `{"key":"m.x","unit":"x","nope":1}`, "nope", "not a field"},
		{"POST", "/v1/metrics", `{"key":1}`, "key", "string"},
		{"POST", "/v1/metrics", `{"key":"m.x",`, "body", "JSON"},
		{"POST", "/v1/customers", `{"id":"Bad Id!","displayName":"x"}`, "customer.id", "letters, digits"},
		{"GET", "/v1/customers?pageSize=abc", "", "page_size", ""},
	} {
		req, err := http.NewRequest(c.method, s.http+c.path, strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		found := false
		for _, fv := range violations(body) {
			found = found || fv["field"] == c.field && strings.Contains(fv["description"], c.says)
		}
		if resp.StatusCode != http.StatusBadRequest || !found {
			t.Errorf("%s %s %s = %d %v, want 400 naming %s with %q", c.method, c.path, c.body, resp.StatusCode, body, c.field, c.says)
		}
	}
}

// violations are the BadRequest field violations of an error body.
func violations(body map[string]any) []map[string]string {
	var out []map[string]string
	details, _ := body["details"].([]any)
	for _, d := range details {
		fvs, _ := d.(map[string]any)["fieldViolations"].([]any)
		for _, fv := range fvs {
			m := fv.(map[string]any)
			f, _ := m["field"].(string)
			desc, _ := m["description"].(string)
			out = append(out, map[string]string{"field": f, "description": desc})
		}
	}
	return out
}

// TestAtomicBatchIsAllOrNothing: with atomic set, a batch with any bad
// record is a 400 listing every problem of every record, and stores
// nothing (so `curl -f` notices); a good batch is stored as usual.
func TestAtomicBatchIsAllOrNothing(t *testing.T) {
	t.Parallel()
	s := startOnTestDB(t)
	seedCatalog(t, s)
	if code, body := s.call(t, "POST", "/v1/customers", map[string]any{"id": "acme", "displayName": "ACME"}); code != http.StatusOK {
		t.Fatalf("create customer: %d %v", code, body)
	}
	rec := func(key, customer, qty string) map[string]any {
		return map[string]any{"idempotencyKey": key, "customerId": customer, "metricKey": "vm.vcpu", "quantity": qty, "time": "2026-10-01T00:00:00Z"}
	}
	code, body := s.call(t, "POST", "/v1/usage:ingest", map[string]any{"atomic": true, "records": []any{
		rec("a1", "acme", "1"), rec("a2", "nobody", "x"), rec("a3", "acme", "-1"),
	}})
	var got []string
	for _, fv := range violations(body) {
		got = append(got, fv["field"])
	}
	want := []string{"records[1].customer_id", "records[1].quantity", "records[2].quantity"}
	if code != http.StatusBadRequest || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("atomic batch with bad records = %d %v, want 400 naming %v", code, body, want)
	}
	if _, body := s.call(t, "GET", "/v1/usage?customerId=acme", nil); len(body["usageRecords"].([]any)) != 0 {
		t.Errorf("a refused atomic batch stored %v", body["usageRecords"])
	}
	code, body = s.call(t, "POST", "/v1/usage:ingest", map[string]any{"atomic": true, "records": []any{rec("a1", "acme", "1"), rec("a4", "acme", "2")}})
	if code != http.StatusOK || body["accepted"] != float64(2) {
		t.Errorf("atomic batch of good records = %d %v, want 2 accepted", code, body)
	}
}
