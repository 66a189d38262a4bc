package postgres

// Table and column names, in one place. Column lists are in the order the
// scan functions read them; the schema itself is in migrations/.
const (
	tableCustomers          = "customers"
	tableOrganisations      = "organisations"
	tableVdcs               = "vdcs"
	tableMetrics            = "metrics"
	tableProductGroups      = "product_groups"
	tableProducts           = "products"
	tablePriceLists         = "price_lists"
	tablePrices             = "prices"
	tableCampaigns          = "campaigns"
	tableCampaignEntries    = "campaign_entries"
	tableContracts          = "contracts"
	tableIdempotentRequests = "idempotent_requests"

	colsCustomer     = "id, COALESCE(external_id, ''), display_name, billing_time_zone, labels, create_time, update_time"
	colsOrganisation = "customer_id, id, display_name, create_time, update_time"
	colsVdc          = "customer_id, organisation_id, id, display_name, create_time, update_time"
	colsMetric       = "key, display_name, description, unit, aggregation, unique_dimension, create_time, update_time, expression"
	colsProductGroup = "id, display_name, description, create_time, update_time"
	colsProduct      = "id, product_group_id, metric_key, dimension_filter, unit, display_name, description, create_time, update_time, peak_basis"
	colsPriceList    = "id, display_name, currency, COALESCE(customer_id, ''), create_time, update_time"
	colsPrice        = "price_list_id, id, product_id, unit_price, granularity, valid_from, valid_to, tier_mode, tiers, create_time, update_time, minimum_charge"
	colsCampaign     = "id, display_name, COALESCE(customer_id, ''), currency, valid_from, valid_to, priority, create_time, update_time"
	colsEntry        = "campaign_id, position, product_id, unit_price, discount_percent"
	colsContract     = "id, customer_id, product_id, model, committed_quantity, fee, fee_granularity, overage_unit_price, currency, start_time, end_time, proration, create_time, update_time"
)
