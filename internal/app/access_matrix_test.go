package app_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/access"
	"github.com/billingd/billingd/internal/config"
)

// class says who may call an RPC, and so the expected code per principal:
// adminOnly: no key 401, collector/reader/scoped reader 403, admin ok;
// catalog: readers and admin ok, collector 403; readA: a read of customer
// A's data (all readers ok); readB: of customer B's (the scoped reader
// 403); readAny: a read without a customer (the scoped reader's is
// narrowed, ok); ingest: collector and admin ok, readers 403.
type class int

const (
	adminOnly class = iota
	catalogRead
	readA
	readB
	readAny
	ingest
)

// allowed stands for "any code but Unauthenticated and PermissionDenied":
// methods other issues implement (reports, closed periods) may answer
// Unimplemented or an error of their own.
const allowed codes.Code = 1000

type rpcCase struct {
	method string
	class  class
	ok     codes.Code // the code when the principal may call it
	call   func(ctx context.Context, c grpc.ClientConnInterface) error
}

func expected(c rpcCase, who string) codes.Code {
	if who == noKey {
		return codes.Unauthenticated
	}
	deny := codes.PermissionDenied
	switch c.class {
	case adminOnly:
		if who == admin {
			return c.ok
		}
	case catalogRead, readA, readAny:
		if who != collector {
			return c.ok
		}
	case readB:
		if who == admin || who == reader {
			return c.ok
		}
	case ingest:
		if who == admin || who == collector {
			return c.ok
		}
	}
	return deny
}

var mask = func(paths ...string) *fieldmaskpb.FieldMask { return &fieldmaskpb.FieldMask{Paths: paths} }

func query(customers ...string) *billingv1.BillingQuery {
	return &billingv1.BillingQuery{CustomerIds: customers, StartTime: at(2026, 10, 1), EndTime: at(2026, 11, 1), Granularity: billingv1.Granularity_GRANULARITY_MONTH}
}

// drain reads a server stream to its end and returns its error.
func drain[T any](s interface{ Recv() (T, error) }, err error) error {
	if err != nil {
		return err
	}
	for {
		if _, err := s.Recv(); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// rpcCases calls every RPC of billing.v1 with a valid request. Writes by the
// admin create new resources or target missing ones, so the fixture stays
// as it is for the other principals.
func rpcCases() []rpcCase {
	cat := billingv1.NewCatalogServiceClient
	cus := billingv1.NewCustomerServiceClient
	pri := billingv1.NewPricingServiceClient
	use := billingv1.NewUsageServiceClient
	bil := billingv1.NewBillingServiceClient
	acc := billingv1.NewAccessServiceClient
	const (
		C = "/billing.v1.CatalogService/"
		U = "/billing.v1.CustomerService/"
		P = "/billing.v1.PricingService/"
		S = "/billing.v1.UsageService/"
		B = "/billing.v1.BillingService/"
		R = "/billing.v1.ReportService/"
		A = "/billing.v1.AccessService/"
	)
	ok, missing := codes.OK, codes.NotFound
	e := func(_ any, err error) error { return err }
	return []rpcCase{
		{C + "CreateMetric", adminOnly, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(cat(c).CreateMetric(ctx, &billingv1.CreateMetricRequest{Metric: &billingv1.Metric{Key: "vm.new", Unit: "x", Aggregation: billingv1.Aggregation_AGGREGATION_SUM}}))
		}},
		{C + "GetMetric", catalogRead, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(cat(c).GetMetric(ctx, &billingv1.GetMetricRequest{MetricKey: "vm.vcpu"}))
		}},
		{C + "ListMetrics", catalogRead, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(cat(c).ListMetrics(ctx, &billingv1.ListMetricsRequest{}))
		}},
		{C + "UpdateMetric", adminOnly, missing, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(cat(c).UpdateMetric(ctx, &billingv1.UpdateMetricRequest{Metric: &billingv1.Metric{Key: "vm.nope", Description: "x"}, UpdateMask: mask("description")}))
		}},
		{C + "DeleteMetric", adminOnly, missing, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(cat(c).DeleteMetric(ctx, &billingv1.DeleteMetricRequest{MetricKey: "vm.nope"}))
		}},
		{C + "CreateProductGroup", adminOnly, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(cat(c).CreateProductGroup(ctx, &billingv1.CreateProductGroupRequest{ProductGroup: &billingv1.ProductGroup{Id: "new-group", DisplayName: "New"}}))
		}},
		{C + "GetProductGroup", catalogRead, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(cat(c).GetProductGroup(ctx, &billingv1.GetProductGroupRequest{ProductGroupId: "compute"}))
		}},
		{C + "ListProductGroups", catalogRead, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(cat(c).ListProductGroups(ctx, &billingv1.ListProductGroupsRequest{}))
		}},
		{C + "UpdateProductGroup", adminOnly, missing, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(cat(c).UpdateProductGroup(ctx, &billingv1.UpdateProductGroupRequest{ProductGroup: &billingv1.ProductGroup{Id: "nope", Description: "x"}, UpdateMask: mask("description")}))
		}},
		{C + "DeleteProductGroup", adminOnly, missing, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(cat(c).DeleteProductGroup(ctx, &billingv1.DeleteProductGroupRequest{ProductGroupId: "nope"}))
		}},
		{C + "CreateProduct", adminOnly, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(cat(c).CreateProduct(ctx, &billingv1.CreateProductRequest{Product: &billingv1.Product{Id: "new-product", ProductGroupId: "compute", MetricKey: "vm.vcpu", DisplayName: "New"}}))
		}},
		{C + "GetProduct", catalogRead, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(cat(c).GetProduct(ctx, &billingv1.GetProductRequest{ProductId: "vcpu"}))
		}},
		{C + "ListProducts", catalogRead, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(cat(c).ListProducts(ctx, &billingv1.ListProductsRequest{}))
		}},
		{C + "UpdateProduct", adminOnly, missing, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(cat(c).UpdateProduct(ctx, &billingv1.UpdateProductRequest{Product: &billingv1.Product{Id: "nope", Description: "x"}, UpdateMask: mask("description")}))
		}},
		{C + "DeleteProduct", adminOnly, missing, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(cat(c).DeleteProduct(ctx, &billingv1.DeleteProductRequest{ProductId: "nope"}))
		}},

		{U + "CreateCustomer", adminOnly, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(cus(c).CreateCustomer(ctx, &billingv1.CreateCustomerRequest{Customer: &billingv1.Customer{Id: "cust-new", DisplayName: "New"}}))
		}},
		{U + "GetCustomer", readA, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(cus(c).GetCustomer(ctx, &billingv1.GetCustomerRequest{CustomerId: "cust-a"}))
		}},
		{U + "GetCustomer", readB, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(cus(c).GetCustomer(ctx, &billingv1.GetCustomerRequest{CustomerId: "cust-b"}))
		}},
		{U + "ListCustomers", readAny, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(cus(c).ListCustomers(ctx, &billingv1.ListCustomersRequest{}))
		}},
		{U + "UpdateCustomer", adminOnly, missing, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(cus(c).UpdateCustomer(ctx, &billingv1.UpdateCustomerRequest{Customer: &billingv1.Customer{Id: "nope", DisplayName: "x"}, UpdateMask: mask("display_name")}))
		}},
		{U + "DeleteCustomer", adminOnly, missing, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(cus(c).DeleteCustomer(ctx, &billingv1.DeleteCustomerRequest{CustomerId: "nope"}))
		}},
		{U + "CreateOrganisation", adminOnly, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(cus(c).CreateOrganisation(ctx, &billingv1.CreateOrganisationRequest{CustomerId: "cust-a", Organisation: &billingv1.Organisation{Id: "new-org", DisplayName: "New"}}))
		}},
		{U + "GetOrganisation", readA, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(cus(c).GetOrganisation(ctx, &billingv1.GetOrganisationRequest{CustomerId: "cust-a", OrganisationId: "a-org"}))
		}},
		{U + "GetOrganisation", readB, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(cus(c).GetOrganisation(ctx, &billingv1.GetOrganisationRequest{CustomerId: "cust-b", OrganisationId: "b-org"}))
		}},
		{U + "ListOrganisations", readA, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(cus(c).ListOrganisations(ctx, &billingv1.ListOrganisationsRequest{CustomerId: "cust-a"}))
		}},
		{U + "ListOrganisations", readB, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(cus(c).ListOrganisations(ctx, &billingv1.ListOrganisationsRequest{CustomerId: "cust-b"}))
		}},
		{U + "UpdateOrganisation", adminOnly, missing, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(cus(c).UpdateOrganisation(ctx, &billingv1.UpdateOrganisationRequest{Organisation: &billingv1.Organisation{CustomerId: "cust-a", Id: "nope", DisplayName: "x"}, UpdateMask: mask("display_name")}))
		}},
		{U + "DeleteOrganisation", adminOnly, missing, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(cus(c).DeleteOrganisation(ctx, &billingv1.DeleteOrganisationRequest{CustomerId: "cust-a", OrganisationId: "nope"}))
		}},
		{U + "CreateVdc", adminOnly, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(cus(c).CreateVdc(ctx, &billingv1.CreateVdcRequest{CustomerId: "cust-a", OrganisationId: "a-org", Vdc: &billingv1.Vdc{Id: "new-vdc", DisplayName: "New"}}))
		}},
		{U + "GetVdc", readA, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(cus(c).GetVdc(ctx, &billingv1.GetVdcRequest{CustomerId: "cust-a", OrganisationId: "a-org", VdcId: "a-vdc"}))
		}},
		{U + "GetVdc", readB, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(cus(c).GetVdc(ctx, &billingv1.GetVdcRequest{CustomerId: "cust-b", OrganisationId: "b-org", VdcId: "b-vdc"}))
		}},
		{U + "ListVdcs", readA, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(cus(c).ListVdcs(ctx, &billingv1.ListVdcsRequest{CustomerId: "cust-a", OrganisationId: "a-org"}))
		}},
		{U + "ListVdcs", readB, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(cus(c).ListVdcs(ctx, &billingv1.ListVdcsRequest{CustomerId: "cust-b", OrganisationId: "b-org"}))
		}},
		{U + "UpdateVdc", adminOnly, missing, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(cus(c).UpdateVdc(ctx, &billingv1.UpdateVdcRequest{Vdc: &billingv1.Vdc{CustomerId: "cust-a", OrganisationId: "a-org", Id: "nope", DisplayName: "x"}, UpdateMask: mask("display_name")}))
		}},
		{U + "DeleteVdc", adminOnly, missing, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(cus(c).DeleteVdc(ctx, &billingv1.DeleteVdcRequest{CustomerId: "cust-a", OrganisationId: "a-org", VdcId: "nope"}))
		}},

		{P + "CreatePriceList", adminOnly, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			// cust-new (made by CreateCustomer above) gets a list in the
			// default lists' currency, so billing everyone stays possible.
			return e(pri(c).CreatePriceList(ctx, &billingv1.CreatePriceListRequest{PriceList: &billingv1.PriceList{Id: "new-list", DisplayName: "New", Currency: "EUR", CustomerId: "cust-new"}}))
		}},
		{P + "GetPriceList", readA, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(pri(c).GetPriceList(ctx, &billingv1.GetPriceListRequest{PriceListId: "a-eur"}))
		}},
		{P + "GetPriceList", readA, ok, func(ctx context.Context, c grpc.ClientConnInterface) error { // the default list
			return e(pri(c).GetPriceList(ctx, &billingv1.GetPriceListRequest{PriceListId: "default-eur"}))
		}},
		{P + "GetPriceList", readB, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(pri(c).GetPriceList(ctx, &billingv1.GetPriceListRequest{PriceListId: "b-eur"}))
		}},
		{P + "ListPriceLists", readAny, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(pri(c).ListPriceLists(ctx, &billingv1.ListPriceListsRequest{}))
		}},
		{P + "ListPriceLists", readB, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(pri(c).ListPriceLists(ctx, &billingv1.ListPriceListsRequest{CustomerId: "cust-b"}))
		}},
		{P + "UpdatePriceList", adminOnly, missing, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(pri(c).UpdatePriceList(ctx, &billingv1.UpdatePriceListRequest{PriceList: &billingv1.PriceList{Id: "nope", DisplayName: "x"}, UpdateMask: mask("display_name")}))
		}},
		{P + "DeletePriceList", adminOnly, missing, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(pri(c).DeletePriceList(ctx, &billingv1.DeletePriceListRequest{PriceListId: "nope"}))
		}},
		{P + "CreatePrice", adminOnly, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(pri(c).CreatePrice(ctx, &billingv1.CreatePriceRequest{PriceListId: "a-eur", Price: &billingv1.Price{
				Id: "new-price", ProductId: "vcpu", UnitPrice: "0.03", Granularity: billingv1.Granularity_GRANULARITY_HOUR, ValidFrom: at(2030, 1, 1),
			}}))
		}},
		{P + "GetPrice", readA, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(pri(c).GetPrice(ctx, &billingv1.GetPriceRequest{PriceListId: "default-eur", PriceId: "vcpu-h"}))
		}},
		{P + "GetPrice", readB, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(pri(c).GetPrice(ctx, &billingv1.GetPriceRequest{PriceListId: "b-eur", PriceId: "b-vcpu-h"}))
		}},
		{P + "ListPrices", readA, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(pri(c).ListPrices(ctx, &billingv1.ListPricesRequest{PriceListId: "a-eur"}))
		}},
		{P + "ListPrices", readB, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(pri(c).ListPrices(ctx, &billingv1.ListPricesRequest{PriceListId: "b-eur"}))
		}},
		{P + "UpdatePrice", adminOnly, missing, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(pri(c).UpdatePrice(ctx, &billingv1.UpdatePriceRequest{Price: &billingv1.Price{PriceListId: "a-eur", Id: "nope", UnitPrice: "1"}, UpdateMask: mask("unit_price")}))
		}},
		{P + "DeletePrice", adminOnly, missing, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(pri(c).DeletePrice(ctx, &billingv1.DeletePriceRequest{PriceListId: "a-eur", PriceId: "nope"}))
		}},
		{P + "CreateCampaign", adminOnly, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(pri(c).CreateCampaign(ctx, &billingv1.CreateCampaignRequest{Campaign: &billingv1.Campaign{
				Id: "new-camp", DisplayName: "New", Currency: "EUR", ValidFrom: at(2030, 1, 1), ValidTo: at(2030, 2, 1),
				Entries: []*billingv1.CampaignEntry{{ProductId: "vcpu", DiscountPercent: "1"}},
			}}))
		}},
		{P + "GetCampaign", readA, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(pri(c).GetCampaign(ctx, &billingv1.GetCampaignRequest{CampaignId: "camp-a"}))
		}},
		{P + "GetCampaign", readB, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(pri(c).GetCampaign(ctx, &billingv1.GetCampaignRequest{CampaignId: "camp-b"}))
		}},
		{P + "ListCampaigns", readAny, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(pri(c).ListCampaigns(ctx, &billingv1.ListCampaignsRequest{}))
		}},
		{P + "ListCampaigns", readB, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(pri(c).ListCampaigns(ctx, &billingv1.ListCampaignsRequest{CustomerId: "cust-b"}))
		}},
		{P + "UpdateCampaign", adminOnly, missing, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(pri(c).UpdateCampaign(ctx, &billingv1.UpdateCampaignRequest{Campaign: &billingv1.Campaign{Id: "nope", DisplayName: "x"}, UpdateMask: mask("display_name")}))
		}},
		{P + "DeleteCampaign", adminOnly, missing, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(pri(c).DeleteCampaign(ctx, &billingv1.DeleteCampaignRequest{CampaignId: "nope"}))
		}},
		{P + "CreateContract", adminOnly, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(pri(c).CreateContract(ctx, &billingv1.CreateContractRequest{Contract: &billingv1.Contract{
				Id: "new-con", CustomerId: "cust-a", ProductId: "vcpu", Model: billingv1.ContractModel_CONTRACT_MODEL_COMMITTED,
				CommittedQuantity: "1", Fee: "1.00", FeeGranularity: billingv1.Granularity_GRANULARITY_MONTH,
				Currency: "EUR", StartTime: at(2030, 1, 1), Proration: billingv1.Proration_PRORATION_NONE,
			}}))
		}},
		{P + "GetContract", readA, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(pri(c).GetContract(ctx, &billingv1.GetContractRequest{ContractId: "con-a"}))
		}},
		{P + "GetContract", readB, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(pri(c).GetContract(ctx, &billingv1.GetContractRequest{ContractId: "con-b"}))
		}},
		{P + "ListContracts", readAny, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(pri(c).ListContracts(ctx, &billingv1.ListContractsRequest{}))
		}},
		{P + "ListContracts", readB, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(pri(c).ListContracts(ctx, &billingv1.ListContractsRequest{CustomerId: "cust-b"}))
		}},
		{P + "UpdateContract", adminOnly, missing, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(pri(c).UpdateContract(ctx, &billingv1.UpdateContractRequest{Contract: &billingv1.Contract{Id: "nope", Fee: "2"}, UpdateMask: mask("fee")}))
		}},
		{P + "DeleteContract", adminOnly, missing, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(pri(c).DeleteContract(ctx, &billingv1.DeleteContractRequest{ContractId: "nope"}))
		}},

		{S + "IngestUsage", ingest, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			st, err := use(c).IngestUsage(ctx)
			if err != nil {
				return err
			}
			if err := st.Send(&billingv1.IngestUsageRequest{Sequence: 1, Records: []*billingv1.UsageRecord{{
				IdempotencyKey: "stream-1", CustomerId: "cust-a", MetricKey: "vm.vcpu", Quantity: "1", Time: at(2026, 10, 5),
			}}}); err != nil && !errors.Is(err, io.EOF) {
				return err
			}
			_ = st.CloseSend()
			return drain(st, nil)
		}},
		{S + "BatchIngestUsage", ingest, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(use(c).BatchIngestUsage(ctx, &billingv1.BatchIngestUsageRequest{Records: []*billingv1.UsageRecord{{
				IdempotencyKey: "batch-1", CustomerId: "cust-b", MetricKey: "vm.vcpu", Quantity: "1", Time: at(2026, 10, 5),
			}}}))
		}},
		{S + "ListUsage", readAny, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(use(c).ListUsage(ctx, &billingv1.ListUsageRequest{}))
		}},
		{S + "ListUsage", readB, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(use(c).ListUsage(ctx, &billingv1.ListUsageRequest{CustomerId: "cust-b"}))
		}},

		{B + "QueryBilling", readAny, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(bil(c).QueryBilling(ctx, &billingv1.QueryBillingRequest{Query: query()}))
		}},
		{B + "QueryBilling", readB, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(bil(c).QueryBilling(ctx, &billingv1.QueryBillingRequest{Query: query("cust-b")}))
		}},
		{B + "StreamBilling", readA, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			st, err := bil(c).StreamBilling(ctx, &billingv1.StreamBillingRequest{Query: query("cust-a")})
			return drain(st, err)
		}},
		{B + "StreamBilling", readB, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			st, err := bil(c).StreamBilling(ctx, &billingv1.StreamBillingRequest{Query: query("cust-b")})
			return drain(st, err)
		}},
		{B + "GetBillingStats", readAny, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(bil(c).GetBillingStats(ctx, &billingv1.GetBillingStatsRequest{Month: "2026-10"}))
		}},
		{B + "GetBillingStats", readB, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(bil(c).GetBillingStats(ctx, &billingv1.GetBillingStatsRequest{Month: "2026-10", CustomerId: "cust-b"}))
		}},
		{B + "ClosePeriod", adminOnly, allowed, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(bil(c).ClosePeriod(ctx, &billingv1.ClosePeriodRequest{CustomerId: "cust-a", Month: "2026-10"}))
		}},
		{B + "ReopenPeriod", adminOnly, allowed, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(bil(c).ReopenPeriod(ctx, &billingv1.ReopenPeriodRequest{CustomerId: "cust-a", Month: "2026-10", Reason: "test"}))
		}},
		{B + "ListClosedPeriods", readA, allowed, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(bil(c).ListClosedPeriods(ctx, &billingv1.ListClosedPeriodsRequest{CustomerId: "cust-a"}))
		}},
		{B + "ListClosedPeriods", readB, allowed, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(bil(c).ListClosedPeriods(ctx, &billingv1.ListClosedPeriodsRequest{CustomerId: "cust-b"}))
		}},

		{R + "ExportReport", readAny, allowed, func(ctx context.Context, c grpc.ClientConnInterface) error {
			st, err := billingv1.NewReportServiceClient(c).ExportReport(ctx, &billingv1.ExportReportRequest{Query: query(), Format: billingv1.ReportFormat_REPORT_FORMAT_CSV})
			return drain(st, err)
		}},
		{R + "ExportReport", readB, allowed, func(ctx context.Context, c grpc.ClientConnInterface) error {
			st, err := billingv1.NewReportServiceClient(c).ExportReport(ctx, &billingv1.ExportReportRequest{Query: query("cust-b"), Format: billingv1.ReportFormat_REPORT_FORMAT_CSV})
			return drain(st, err)
		}},

		{A + "CreateApiKey", adminOnly, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(acc(c).CreateApiKey(ctx, &billingv1.CreateApiKeyRequest{ApiKey: &billingv1.ApiKey{DisplayName: "new", Role: billingv1.Role_ROLE_READER}}))
		}},
		{A + "GetApiKey", adminOnly, missing, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(acc(c).GetApiKey(ctx, &billingv1.GetApiKeyRequest{ApiKeyId: "nope"}))
		}},
		{A + "ListApiKeys", adminOnly, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(acc(c).ListApiKeys(ctx, &billingv1.ListApiKeysRequest{}))
		}},
		{A + "RevokeApiKey", adminOnly, missing, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(acc(c).RevokeApiKey(ctx, &billingv1.RevokeApiKeyRequest{ApiKeyId: "nope"}))
		}},
		{A + "ListAuditEvents", adminOnly, ok, func(ctx context.Context, c grpc.ClientConnInterface) error {
			return e(acc(c).ListAuditEvents(ctx, &billingv1.ListAuditEventsRequest{}))
		}},
	}
}

// TestAccessMatrixGRPC calls every RPC as every principal and checks the
// code: 401 without a key, 403 for a role or scope that may not, and the
// RPC's own answer otherwise.
func TestAccessMatrixGRPC(t *testing.T) {
	t.Parallel()
	s := startSecured(t, func(c *config.Config) { c.RateLimit = 0 })
	cases := rpcCases()
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.method] = true
	}
	for _, m := range access.Methods() {
		if !covered[m] {
			t.Errorf("the matrix does not call %s", m)
		}
	}
	for _, c := range cases {
		for _, who := range principals { // admin last: its writes must not change what others see
			want := expected(c, who)
			err := c.call(t.Context(), s.conn(t, who))
			got := status.Code(err)
			switch {
			case want == allowed && (got == codes.Unauthenticated || got == codes.PermissionDenied):
				t.Errorf("%s as %s: %v, want it allowed", c.method, who, err)
			case want != allowed && got != want:
				t.Errorf("%s (%s) as %s: %v, want %v", c.method, className[c.class], who, err, want)
			}
		}
	}
}

var className = map[class]string{adminOnly: "admin only", catalogRead: "catalog", readA: "A's data", readB: "B's data", readAny: "no customer named", ingest: "ingest"}

// TestAccessMatrixREST checks a representative call of each class over the
// gateway: the Authorization header reaches the interceptors and the codes
// become 401 and 403.
func TestAccessMatrixREST(t *testing.T) {
	t.Parallel()
	s := startSecured(t, func(c *config.Config) { c.RateLimit = 0 })
	type call struct {
		method, path string
		body         any
		class        class
		ok           int
	}
	usage := map[string]any{"records": []any{map[string]any{
		"idempotencyKey": "rest-1", "customerId": "cust-a", "metricKey": "vm.vcpu", "quantity": "1", "time": "2026-10-05T00:00:00Z",
	}}}
	for _, c := range []call{
		{"GET", "/v1/products", nil, catalogRead, 200},
		{"POST", "/v1/productGroups", map[string]any{"id": "rest-group", "displayName": "REST"}, adminOnly, 200},
		{"GET", "/v1/customers/cust-a", nil, readA, 200},
		{"GET", "/v1/customers/cust-b", nil, readB, 200},
		{"GET", "/v1/contracts/con-b", nil, readB, 200},
		{"GET", "/v1/contracts", nil, readAny, 200},
		{"GET", "/v1/billing:query?query.startTime=2026-10-01T00:00:00Z&query.endTime=2026-11-01T00:00:00Z&query.customerIds=cust-b", nil, readB, 200},
		{"POST", "/v1/usage:ingest", usage, ingest, 200},
		{"GET", "/v1/apiKeys", nil, adminOnly, 200},
		{"GET", "/v1/auditEvents", nil, adminOnly, 200},
	} {
		for _, who := range principals {
			want := map[codes.Code]int{codes.Unauthenticated: http.StatusUnauthorized, codes.PermissionDenied: http.StatusForbidden, codes.OK: c.ok}[expected(rpcCase{class: c.class, ok: codes.OK}, who)]
			got, body := s.rest(t, who, c.method, c.path, c.body)
			if got != want {
				t.Errorf("%s %s as %s = %d %v, want %d", c.method, c.path, who, got, body, want)
			}
		}
	}
	// Only the Authorization header authenticates; a key elsewhere does not.
	req, _ := http.NewRequest("GET", s.httpBase+"/v1/products", nil)
	req.Header.Set("Grpc-Metadata-Authorization", "Bearer "+s.secrets[admin])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("key in Grpc-Metadata-Authorization = %d, want 401", resp.StatusCode)
	}
}
