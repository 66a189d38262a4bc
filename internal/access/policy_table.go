package access

// The roles a rule admits. Admin may call everything.
var (
	admins     = []Role{RoleAdmin}
	readers    = []Role{RoleAdmin, RoleReader}
	collectors = []Role{RoleAdmin, RoleCollector}
)

var (
	// adminOnly changes what every customer is billed by, or manages keys
	// and reads the audit trail.
	adminOnly = Rule{Roles: admins, Scope: ScopeGlobal}
	// catalogRead reads what billingd sells, which is no customer's data.
	catalogRead = Rule{Roles: readers, Scope: ScopeNone}
	// ownedRead reads a resource by id; the handler checks its owner.
	ownedRead = Rule{Roles: readers, Scope: ScopeHandler}
	// ingest sends usage records, each held to the key's customer and limits.
	ingest = Rule{Roles: collectors, Scope: ScopeCustomer, Customer: "records.customer_id", Source: "records.source", Site: "records.site"}
)

// customerRead reads data of the customer named at path.
func customerRead(path string) Rule {
	return Rule{Roles: readers, Scope: ScopeCustomer, Customer: path}
}

// filteredRead reads data of the customers filtered at path (all when empty).
func filteredRead(path string) Rule {
	return Rule{Roles: readers, Scope: ScopeFilter, Customer: path}
}

const (
	catalogSvc  = "/billing.v1.CatalogService/"
	customerSvc = "/billing.v1.CustomerService/"
	pricingSvc  = "/billing.v1.PricingService/"
	usageSvc    = "/billing.v1.UsageService/"
	billingSvc  = "/billing.v1.BillingService/"
	reportSvc   = "/billing.v1.ReportService/"
	accessSvc   = "/billing.v1.AccessService/"
)

// policy is the one access table: every method of every billing.v1 service.
// rpc's tests fail when a generated method is missing here or a path does
// not fit its request.
var policy = map[string]Rule{
	catalogSvc + "CreateMetric":       adminOnly,
	catalogSvc + "GetMetric":          catalogRead,
	catalogSvc + "ListMetrics":        catalogRead,
	catalogSvc + "UpdateMetric":       adminOnly,
	catalogSvc + "DeleteMetric":       adminOnly,
	catalogSvc + "CreateProductGroup": adminOnly,
	catalogSvc + "GetProductGroup":    catalogRead,
	catalogSvc + "ListProductGroups":  catalogRead,
	catalogSvc + "UpdateProductGroup": adminOnly,
	catalogSvc + "DeleteProductGroup": adminOnly,
	catalogSvc + "CreateProduct":      adminOnly,
	catalogSvc + "GetProduct":         catalogRead,
	catalogSvc + "ListProducts":       catalogRead,
	catalogSvc + "UpdateProduct":      adminOnly,
	catalogSvc + "DeleteProduct":      adminOnly,

	customerSvc + "CreateCustomer":     adminOnly,
	customerSvc + "GetCustomer":        customerRead("customer_id"),
	customerSvc + "ListCustomers":      ownedRead, // the handler lists only the scoped customer
	customerSvc + "UpdateCustomer":     adminOnly,
	customerSvc + "DeleteCustomer":     adminOnly,
	customerSvc + "CreateOrganisation": adminOnly,
	customerSvc + "GetOrganisation":    customerRead("customer_id"),
	customerSvc + "ListOrganisations":  customerRead("customer_id"),
	customerSvc + "UpdateOrganisation": adminOnly,
	customerSvc + "DeleteOrganisation": adminOnly,
	customerSvc + "CreateVdc":          adminOnly,
	customerSvc + "GetVdc":             customerRead("customer_id"),
	customerSvc + "ListVdcs":           customerRead("customer_id"),
	customerSvc + "UpdateVdc":          adminOnly,
	customerSvc + "DeleteVdc":          adminOnly,

	pricingSvc + "CreatePriceList": adminOnly,
	pricingSvc + "GetPriceList":    ownedRead,
	// A scoped key lists its customer's lists, or with default_only the
	// default lists every customer is priced from.
	pricingSvc + "ListPriceLists":  {Roles: readers, Scope: ScopeFilter, Customer: "customer_id", PublicIf: "default_only"},
	pricingSvc + "UpdatePriceList": adminOnly,
	pricingSvc + "DeletePriceList": adminOnly,
	pricingSvc + "CreatePrice":     adminOnly,
	pricingSvc + "GetPrice":        ownedRead, // owner: the price list's
	pricingSvc + "ListPrices":      ownedRead,
	pricingSvc + "UpdatePrice":     adminOnly,
	pricingSvc + "DeletePrice":     adminOnly,
	pricingSvc + "CreateCampaign":  adminOnly,
	pricingSvc + "GetCampaign":     ownedRead,
	pricingSvc + "ListCampaigns":   filteredRead("customer_id"),
	pricingSvc + "UpdateCampaign":  adminOnly,
	pricingSvc + "DeleteCampaign":  adminOnly,
	pricingSvc + "CreateContract":  adminOnly,
	pricingSvc + "GetContract":     ownedRead,
	pricingSvc + "ListContracts":   filteredRead("customer_id"),
	pricingSvc + "UpdateContract":  adminOnly,
	pricingSvc + "DeleteContract":  adminOnly,

	usageSvc + "IngestUsage":      ingest,
	usageSvc + "BatchIngestUsage": ingest,
	usageSvc + "ListUsage":        filteredRead("customer_id"),

	billingSvc + "QueryBilling":      filteredRead("query.customer_ids"),
	billingSvc + "StreamBilling":     filteredRead("query.customer_ids"),
	billingSvc + "GetBillingStats":   filteredRead("customer_id"),
	billingSvc + "ClosePeriod":       adminOnly,
	billingSvc + "ReopenPeriod":      adminOnly,
	billingSvc + "ListClosedPeriods": customerRead("customer_id"),

	reportSvc + "ExportReport": filteredRead("query.customer_ids"),

	accessSvc + "CreateApiKey":    adminOnly,
	accessSvc + "GetApiKey":       adminOnly,
	accessSvc + "ListApiKeys":     adminOnly,
	accessSvc + "RevokeApiKey":    adminOnly,
	accessSvc + "ListAuditEvents": adminOnly,
}
