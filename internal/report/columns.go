package report

import (
	"net/url"
	"time"
)

// column is one column of the tabular formats (CSV and XLSX), in order.
type column struct {
	key   string  // CSV header: the proto field name where there is one
	title string  // XLSX header
	width float64 // XLSX width in characters when the first rows don't say
}

// Indices into columns.
const (
	colCustomerID = iota
	colCustomerName
	colCustomerExternalID
	colOrganisationID
	colVdcID
	colSite
	colResourceID
	colProductGroupID
	colProductGroupName
	colProductID
	colProductName
	colMetricKey
	colDimensions
	colModel
	colGranularity
	colStart
	colEnd
	colQuantity
	colUnit
	colUnitPrice
	colAmount
	colCurrency
	colPriceListID
	colPriceID
	colCampaignID
	colContractID
	colDescription
	colAdjustedMonth
	colAdjustmentCause
	numColumns
)

var columns = [numColumns]column{
	{"customer_id", "Customer ID", 14},
	{"customer_name", "Customer", 20},
	{"customer_external_id", "External ID", 12},
	{"organisation_id", "Organisation", 14},
	{"vdc_id", "VDC", 14},
	{"site", "Site", 10},
	{"resource_id", "Resource", 16},
	{"product_group_id", "Product group ID", 14},
	{"product_group_name", "Product group", 16},
	{"product_id", "Product ID", 14},
	{"product_name", "Product", 20},
	{"metric_key", "Metric", 14},
	{"dimensions", "Dimensions", 20},
	{"model", "Model", 11},
	{"granularity", "Granularity", 11},
	{"start_time", "Start", 17}, // XLSX: "Start (<zone>)", in the customer's zone
	{"end_time", "End", 17},
	{"quantity", "Quantity", 14},
	{"unit", "Unit", 8},
	{"unit_price", "Unit price", 12},
	{"amount", "Amount", 16},
	{"currency", "Currency", 9},
	{"price_list_id", "Price list", 14},
	{"price_id", "Price", 14},
	{"campaign_id", "Campaign", 14},
	{"contract_id", "Contract", 14},
	{"description", "Description", 36},
	{"adjusted_month", "Adjusts month", 12},
	{"adjustment_cause", "Adjustment cause", 14},
}

// textFields fills row with a line as exact text: decimals as plain
// strings, amounts with the currency's minor units, times in ISO 8601 UTC.
func textFields(row *[numColumns]string, c *CustomerInfo, l *Line) {
	*row = [numColumns]string{
		colCustomerID:         l.CustomerID,
		colCustomerName:       c.Name,
		colCustomerExternalID: c.ExternalID,
		colOrganisationID:     l.OrganisationID,
		colVdcID:              l.VdcID,
		colSite:               l.Site,
		colResourceID:         l.ResourceID,
		colProductGroupID:     l.ProductGroupID,
		colProductGroupName:   l.ProductGroupName,
		colProductID:          l.ProductID,
		colProductName:        l.ProductName,
		colMetricKey:          l.MetricKey,
		colDimensions:         encodeDimensions(l.Dimensions),
		colModel:              l.Model,
		colGranularity:        l.Granularity,
		colStart:              isoTime(l.Start),
		colEnd:                isoTime(l.End),
		colQuantity:           l.Quantity.String(),
		colUnit:               l.Unit,
		colUnitPrice:          l.UnitPrice.String(),
		colAmount:             formatAmount(l.Currency, l.Amount),
		colCurrency:           l.Currency,
		colPriceListID:        l.PriceListID,
		colPriceID:            l.PriceID,
		colCampaignID:         l.CampaignID,
		colContractID:         l.ContractID,
		colDescription:        l.Description,
		colAdjustedMonth:      l.AdjustedMonth,
		colAdjustmentCause:    l.AdjustmentCause,
	}
}

// encodeDimensions writes dimensions as a URL query ("policy=gold&tier=2"),
// keys sorted: one cell, unambiguous whatever the values hold, and parsed
// back by any URL library.
func encodeDimensions(d map[string]string) string {
	if len(d) == 0 {
		return ""
	}
	v := make(url.Values, len(d))
	for k, s := range d {
		v[k] = []string{s}
	}
	return v.Encode()
}

// isoTime is RFC 3339 in UTC with as many fractional digits as needed.
func isoTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}
