package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The VMware pricing rules' worked examples (docs/concepts.md), end to end
// through the REST API as an integrator sends them: catalog, price list and
// usage in, QueryBilling out. UTC, September 2026 (30 days).
func TestPricingRulesEndToEnd(t *testing.T) {
	t.Parallel()
	s := startOnTestDB(t)
	ok := func(method, path string, body any) map[string]any {
		t.Helper()
		code, out := s.call(t, method, path, body)
		if code != http.StatusOK {
			t.Fatalf("%s %s: %d %v", method, path, code, out)
		}
		return out
	}
	metric := func(key, agg, expr string) {
		ok("POST", "/v1/metrics", map[string]any{"key": key, "unit": "u", "aggregation": agg, "expression": expr})
	}
	for _, k := range []string{"vdc.cpu_allocation_ghz", "vdc.cpu_used_ghz", "vm.vcpu", "vm.memory_gb", "vm.memory_reservation_gb", "storage.gb"} {
		metric(k, "AGGREGATION_TIME_WEIGHTED_AVG", "")
	}
	metric("vm.powered_on", "AGGREGATION_LATEST", "")
	metric("disk.gb", "AGGREGATION_MAX", "")
	metric("vdc.cpu_billable_ghz", "AGGREGATION_MAX", "max(vdc.cpu_allocation_ghz, vdc.cpu_used_ghz)")
	metric("vm.vcpu_on", "AGGREGATION_TIME_WEIGHTED_AVG", "vm.vcpu * vm.powered_on")
	metric("vm.vram_billable_gb", "AGGREGATION_TIME_WEIGHTED_AVG", "max(vm.memory_gb * 0.5, vm.memory_reservation_gb)")
	ok("POST", "/v1/productGroups", map[string]any{"id": "g", "displayName": "G"})
	product := func(id, metric, basis string) {
		p := map[string]any{"id": id, "productGroupId": "g", "metricKey": metric, "displayName": id}
		if basis != "" {
			p["peakBasis"] = basis
		}
		ok("POST", "/v1/products", p)
	}
	product("vdc-cpu", "vdc.cpu_billable_ghz", "")
	product("vcpu-on", "vm.vcpu_on", "")
	product("vram", "vm.vram_billable_gb", "")
	product("disk-each", "disk.gb", "PEAK_BASIS_RESOURCE")
	product("disk-peak", "disk.gb", "PEAK_BASIS_CUSTOMER")
	product("gold", "storage.gb", "")
	ok("POST", "/v1/priceLists", map[string]any{"id": "default", "displayName": "Default", "currency": "EUR"})
	price := func(id, product, unit, gran, from, minimum string) {
		ok("POST", "/v1/priceLists/default/prices", map[string]any{"id": id, "productId": product, "unitPrice": unit,
			"granularity": gran, "validFrom": from, "minimumCharge": minimum})
	}
	const jan = "2026-01-01T00:00:00Z"
	price("vdc-cpu", "vdc-cpu", "1.00", "GRANULARITY_DAY", jan, "")
	price("vcpu-on", "vcpu-on", "0.01", "GRANULARITY_HOUR", jan, "")
	price("vram", "vram", "0.005", "GRANULARITY_HOUR", jan, "")
	price("disk-each", "disk-each", "1.00", "GRANULARITY_MONTH", jan, "")
	price("disk-peak", "disk-peak", "1.00", "GRANULARITY_MONTH", jan, "")
	price("gold", "gold", "1.00", "GRANULARITY_MONTH", jan, "50.00")

	customers := []string{"alloc", "poweron", "vram", "disks", "min30", "min60"}
	for _, c := range customers {
		ok("POST", "/v1/customers", map[string]any{"id": c, "displayName": c})
	}
	var records []map[string]any
	rec := func(cust, metric, res, q, from, to string) {
		records = append(records, map[string]any{"idempotencyKey": fmt.Sprint(len(records)), "customerId": cust, "metricKey": metric,
			"resourceId": res, "quantity": q, "startTime": "2026-09-" + from + "Z", "endTime": "2026-" + to + "Z"})
	}
	rec("alloc", "vdc.cpu_allocation_ghz", "vdc1", "10", "01T00:00:00", "10-01T00:00:00")
	rec("alloc", "vdc.cpu_used_ghz", "vdc1", "4", "01T00:00:00", "09-11T00:00:00")
	rec("alloc", "vdc.cpu_used_ghz", "vdc1", "12", "11T00:00:00", "10-01T00:00:00")
	rec("poweron", "vm.vcpu", "vm1", "4", "01T00:00:00", "10-01T00:00:00")
	rec("poweron", "vm.powered_on", "vm1", "1", "01T00:00:00", "09-21T20:00:00") // 500 h
	rec("poweron", "vm.powered_on", "vm1", "0", "21T20:00:00", "10-01T00:00:00")
	rec("vram", "vm.memory_gb", "vm1", "16", "01T00:00:00", "10-01T00:00:00")
	rec("vram", "vm.memory_reservation_gb", "vm1", "4", "01T00:00:00", "10-01T00:00:00")
	rec("vram", "vm.memory_gb", "vm2", "16", "01T00:00:00", "10-01T00:00:00")
	rec("vram", "vm.memory_reservation_gb", "vm2", "12", "01T00:00:00", "10-01T00:00:00")
	rec("disks", "disk.gb", "d1", "100", "01T00:00:00", "09-16T00:00:00")
	rec("disks", "disk.gb", "d2", "100", "16T00:00:00", "10-01T00:00:00")
	rec("min30", "storage.gb", "vol1", "30", "01T00:00:00", "10-01T00:00:00")
	rec("min60", "storage.gb", "vol1", "60", "01T00:00:00", "10-01T00:00:00")
	if out := ok("POST", "/v1/usage:ingest", map[string]any{"records": records}); fmt.Sprint(out["accepted"]) != fmt.Sprint(len(records)) {
		t.Fatalf("ingest: %v", out)
	}

	bill := func(cust string) string {
		t.Helper()
		out := ok("POST", "/v1/billing:query", map[string]any{"query": map[string]any{"customerIds": []string{cust},
			"startTime": "2026-09-01T00:00:00Z", "endTime": "2026-10-01T00:00:00Z", "groupBy": []string{"GROUP_BY_PRODUCT", "GROUP_BY_MODEL"}}})
		var rows []string
		for _, l := range out["lines"].([]any) {
			l := l.(map[string]any)
			model := strings.TrimPrefix(l["model"].(string), "BILLING_MODEL_")
			rows = append(rows, fmt.Sprintf("%s %s %s × %s = %s", l["productId"], model, l["quantity"], l["unitPrice"], l["amount"]))
			if model == "MINIMUM" && (l["unit"] != "month" || !strings.HasSuffix(fmt.Sprint(l["description"]), "— minimum charge")) {
				t.Errorf("a minimum line reads %q in %v", l["description"], l["unit"])
			}
		}
		tot := out["totals"].([]any)[0].(map[string]any)
		return strings.Join(rows, "; ") + " | " + tot["amount"].(string)
	}
	for cust, want := range map[string]string{
		// 10 GHz × 10 days + 12 GHz × 20 days = 340 GHz-days
		"alloc": "vdc-cpu PAYG 340 × 1 = 340.00 | 340.00",
		// 4 vCPU × 500 powered-on hours; the 220 hours off cost nothing
		"poweron": "vcpu-on PAYG 2000 × 0.01 = 20.00 | 20.00",
		// max(8, 4) = 8 GB and max(8, 12) = 12 GB for 720 h
		"vram": "vram PAYG 14400 × 0.005 = 72.00 | 72.00",
		// each disk at its peak: 200 GB-month; the customer's peak: 100
		"disks": "disk-each PAYG 200 × 1 = 200.00; disk-peak PAYG 100 × 1 = 100.00 | 300.00",
		// 30.00 of usage topped up to the 50.00 minimum; 60.00 is above it
		"min30": "gold PAYG 30 × 1 = 30.00; gold MINIMUM 1 × 20 = 20.00 | 50.00",
		"min60": "gold PAYG 60 × 1 = 60.00 | 60.00",
	} {
		if got := bill(cust); got != want {
			t.Errorf("%s:\n got %s\nwant %s", cust, got, want)
		}
	}
}

// TestPricingRulesRefuseBadInput: an expression or peak basis that cannot
// work is a 400 naming the field (and the expression's position), usage of
// a derived metric is refused per record, and an input of a derived metric
// cannot be deleted; none of it changes anything.
func TestPricingRulesRefuseBadInput(t *testing.T) {
	t.Parallel()
	s := startOnTestDB(t)
	call := func(method, path string, body any) (int, string) {
		t.Helper()
		code, out := s.call(t, method, path, body)
		return code, fmt.Sprint(out)
	}
	for _, m := range []map[string]any{
		{"key": "vm.vcpu", "unit": "vCPU", "aggregation": "AGGREGATION_TIME_WEIGHTED_AVG"},
		{"key": "net.gb", "unit": "GB", "aggregation": "AGGREGATION_SUM"},
		{"key": "vm.vcpu_x2", "unit": "vCPU", "aggregation": "AGGREGATION_TIME_WEIGHTED_AVG", "expression": "vm.vcpu * 2"},
	} {
		if code, out := call("POST", "/v1/metrics", m); code != http.StatusOK {
			t.Fatalf("create %v: %d %s", m["key"], code, out)
		}
	}
	bad := []struct {
		expr, agg, want string
	}{
		{"vm.vcpus * 2", "AGGREGATION_TIME_WEIGHTED_AVG", `unknown metric "vm.vcpus" (at 1:1)`},
		{"2 * net.gb", "AGGREGATION_TIME_WEIGHTED_AVG", `metric "net.gb" aggregates by sum`},
		{"vm.bad + 1", "AGGREGATION_TIME_WEIGHTED_AVG", `metric "vm.bad" cannot refer to itself (at 1:1)`},
		{"vm.vcpu *", "AGGREGATION_TIME_WEIGHTED_AVG", "syntax error"},
		{"vm.vcpu > 1", "AGGREGATION_TIME_WEIGHTED_AVG", "must give a number"},
		{"vm.vcpu", "AGGREGATION_SUM", "a derived metric is a level"},
	}
	for _, b := range bad {
		code, out := call("POST", "/v1/metrics", map[string]any{"key": "vm.bad", "unit": "u", "aggregation": b.agg, "expression": b.expr})
		if code != http.StatusBadRequest || !strings.Contains(out, "metric.") || !strings.Contains(out, b.want) {
			t.Errorf("%q: %d %s, want 400 with %q", b.expr, code, out, b.want)
		}
	}
	if code, out := call("GET", "/v1/metrics/vm.bad", nil); code != http.StatusNotFound {
		t.Errorf("a refused metric was stored: %d %s", code, out)
	}
	call("POST", "/v1/productGroups", map[string]any{"id": "g", "displayName": "G"})
	code, out := call("POST", "/v1/products", map[string]any{"id": "p", "productGroupId": "g", "metricKey": "vm.vcpu", "displayName": "p", "peakBasis": "PEAK_BASIS_CUSTOMER"})
	if code != http.StatusBadRequest || !strings.Contains(out, "product.peak_basis") || !strings.Contains(out, "needs a max metric") {
		t.Errorf("customer peak of an average: %d %s", code, out)
	}
	code, out = call("PATCH", "/v1/metrics/vm.vcpu_x2", map[string]any{"expression": "vm.vcpu * 3"})
	if code != http.StatusBadRequest || !strings.Contains(out, "cannot change") {
		t.Errorf("changing an expression: %d %s", code, out)
	}
	code, out = call("DELETE", "/v1/metrics/vm.vcpu", nil)
	if code != http.StatusBadRequest || !strings.Contains(out, `input of derived metric "vm.vcpu_x2"`) {
		t.Errorf("deleting an input: %d %s", code, out)
	}
	call("POST", "/v1/customers", map[string]any{"id": "acme", "displayName": "ACME"})
	sep1, sep1h := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339), time.Date(2026, 9, 1, 1, 0, 0, 0, time.UTC).Format(time.RFC3339)
	code, out = call("POST", "/v1/usage:ingest", map[string]any{"records": []map[string]any{{"idempotencyKey": "k", "customerId": "acme",
		"metricKey": "vm.vcpu_x2", "quantity": "2", "startTime": sep1, "endTime": sep1h}}})
	if code != http.StatusOK || !strings.Contains(out, "derived from other metrics") || strings.Contains(out, "accepted:1") {
		t.Errorf("usage of a derived metric: %d %s", code, out)
	}
}
