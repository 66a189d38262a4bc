package access_test

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/access"
	"github.com/billingd/billingd/internal/apperr"
)

const (
	catalogCreateMetric = "/billing.v1.CatalogService/CreateMetric"
	catalogGetMetric    = "/billing.v1.CatalogService/GetMetric"
	queryBilling        = "/billing.v1.BillingService/QueryBilling"
	batchIngest         = "/billing.v1.UsageService/BatchIngestUsage"
	listPriceLists      = "/billing.v1.PricingService/ListPriceLists"
	getCustomer         = "/billing.v1.CustomerService/GetCustomer"
	getContract         = "/billing.v1.PricingService/GetContract"
	createAPIKey        = "/billing.v1.AccessService/CreateApiKey"
)

var (
	admin       = access.Principal{ID: "k-admin", Role: access.RoleAdmin}
	reader      = access.Principal{ID: "k-reader", Role: access.RoleReader}
	readerA     = access.Principal{ID: "k-reader-a", Role: access.RoleReader, CustomerID: "a"}
	collector   = access.Principal{ID: "k-coll", Role: access.RoleCollector}
	collectorA  = access.Principal{ID: "k-coll-a", Role: access.RoleCollector, CustomerID: "a"}
	collectorVC = access.Principal{ID: "k-coll-vc", Role: access.RoleCollector, Sources: []string{"vc01"}, Sites: []string{"ams"}}
)

func kind(err error) string {
	if err == nil {
		return "ok"
	}
	return apperr.KindOf(err).String()
}

func TestAuthorizeCallByRole(t *testing.T) {
	for _, tc := range []struct {
		method string
		p      access.Principal
		want   string
	}{
		{catalogCreateMetric, admin, "ok"},
		{catalogCreateMetric, reader, "permission_denied"},
		{catalogCreateMetric, collector, "permission_denied"},
		{catalogGetMetric, reader, "ok"},
		{catalogGetMetric, collector, "permission_denied"},
		{batchIngest, collector, "ok"},
		{batchIngest, admin, "ok"},
		{batchIngest, reader, "permission_denied"},
		{createAPIKey, reader, "permission_denied"},
		{"/billing.v1.CatalogService/NotAMethod", admin, "permission_denied"},
		{catalogGetMetric, access.Principal{ID: "nobody"}, "permission_denied"},
	} {
		if got := kind(access.AuthorizeCall(tc.method, tc.p)); got != tc.want {
			t.Errorf("%s as %s/%s = %s, want %s", tc.method, tc.p.ID, tc.p.Role, got, tc.want)
		}
	}
}

func query(customers ...string) *billingv1.QueryBillingRequest {
	return &billingv1.QueryBillingRequest{Query: &billingv1.BillingQuery{CustomerIds: customers}}
}

func TestScopedRequestsAreHeldToTheirCustomer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		method string
		p      access.Principal
		req    proto.Message
		want   string
		after  proto.Message // the request once narrowed; nil: unchanged
	}{
		{"filter narrowed", queryBilling, readerA, query(), "ok", query("a")},
		{"filter own", queryBilling, readerA, query("a"), "ok", nil},
		{"filter other", queryBilling, readerA, query("b"), "permission_denied", nil},
		{"filter own and other", queryBilling, readerA, query("a", "b"), "permission_denied", nil},
		{"unscoped untouched", queryBilling, reader, query(), "ok", nil},
		{"customer own", getCustomer, readerA, &billingv1.GetCustomerRequest{CustomerId: "a"}, "ok", nil},
		{"customer other", getCustomer, readerA, &billingv1.GetCustomerRequest{CustomerId: "b"}, "permission_denied", nil},
		{"customer missing", getCustomer, readerA, &billingv1.GetCustomerRequest{}, "permission_denied", nil},
		{"default lists are public", listPriceLists, readerA, &billingv1.ListPriceListsRequest{DefaultOnly: true}, "ok", nil},
		{"lists narrowed", listPriceLists, readerA, &billingv1.ListPriceListsRequest{}, "ok", &billingv1.ListPriceListsRequest{CustomerId: "a"}},
		{"handler decides", getContract, readerA, &billingv1.GetContractRequest{ContractId: "c-of-b"}, "ok", nil},
		{"catalog is shared", catalogGetMetric, readerA, &billingv1.GetMetricRequest{MetricKey: "vm.vcpu"}, "ok", nil},
		{"global refused", createAPIKey, readerA, &billingv1.CreateApiKeyRequest{}, "permission_denied", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := proto.Clone(tc.req)
			if tc.after != nil {
				want = tc.after
			}
			got := kind(access.AuthorizeMessage(tc.method, tc.p, tc.req))
			if got != tc.want {
				t.Fatalf("= %s, want %s", got, tc.want)
			}
			if tc.want == "ok" && !proto.Equal(tc.req, want) {
				t.Errorf("request became %v, want %v", tc.req, want)
			}
		})
	}
}

func records(rs ...*billingv1.UsageRecord) *billingv1.BatchIngestUsageRequest {
	return &billingv1.BatchIngestUsageRequest{Records: rs}
}

func rec(customer, source, site string) *billingv1.UsageRecord {
	return &billingv1.UsageRecord{CustomerId: customer, Source: source, Site: site}
}

func TestCollectorLimits(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    access.Principal
		req  proto.Message
		want string
	}{
		{"unscoped any customer", collector, records(rec("a", "", ""), rec("b", "x", "y")), "ok"},
		{"scoped own", collectorA, records(rec("a", "", ""), rec("a", "", "")), "ok"},
		{"scoped one other record", collectorA, records(rec("a", "", ""), rec("b", "", "")), "permission_denied"},
		{"source and site allowed", collectorVC, records(rec("a", "vc01", "ams")), "ok"},
		{"source not allowed", collectorVC, records(rec("a", "vc01", "ams"), rec("a", "vc02", "ams")), "permission_denied"},
		{"site not allowed", collectorVC, records(rec("a", "vc01", "fra")), "permission_denied"},
		{"empty source refused when limited", collectorVC, records(rec("a", "", "ams")), "permission_denied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := kind(access.AuthorizeMessage(batchIngest, tc.p, tc.req)); got != tc.want {
				t.Fatalf("= %s, want %s", got, tc.want)
			}
		})
	}
	// The stream's messages are held to the same rule.
	stream := &billingv1.IngestUsageRequest{Records: []*billingv1.UsageRecord{rec("b", "", "")}}
	if got := kind(access.AuthorizeMessage("/billing.v1.UsageService/IngestUsage", collectorA, stream)); got != "permission_denied" {
		t.Errorf("stream message of another customer = %s", got)
	}
}

func TestOutOfScopeSaysNothingAboutExistence(t *testing.T) {
	ctx := access.WithPrincipal(t.Context(), readerA)
	missing := access.CheckOwner(ctx, "", apperr.NotFound("contract", "nope"))
	foreign := access.CheckOwner(ctx, "b", nil)
	if missing == nil || foreign == nil || missing.Error() != foreign.Error() || apperr.KindOf(missing) != apperr.KindPermissionDenied {
		t.Fatalf("missing = %v, foreign = %v: want the same PermissionDenied", missing, foreign)
	}
	if err := access.CheckOwner(ctx, "a", nil); err != nil {
		t.Errorf("own resource: %v", err)
	}
	if err := access.CheckOwner(ctx, "", nil); err != nil {
		t.Errorf("default resource: %v", err)
	}
	unscoped := access.WithPrincipal(t.Context(), reader)
	if err := access.CheckOwner(unscoped, "", apperr.NotFound("contract", "nope")); apperr.KindOf(err) != apperr.KindNotFound {
		t.Errorf("unscoped missing = %v, want NotFound", err)
	}
}

func TestPublicMethods(t *testing.T) {
	for _, m := range []string{"/grpc.health.v1.Health/Check", "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"} {
		if !access.PublicMethod(m) {
			t.Errorf("%s should need no key", m)
		}
	}
	if access.PublicMethod(catalogGetMetric) || slices.Contains(access.Methods(), "/grpc.health.v1.Health/Check") {
		t.Error("billing methods are never public")
	}
}
