package report

import (
	"encoding/json"
	"strings"
	"testing"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/shopspring/decimal"
	"google.golang.org/protobuf/encoding/protojson"
)

// TestJSON decodes the export with protojson into the generated
// QueryBillingResponse — so it is the proto JSON of the billing result,
// field names and types included — and compares lines and totals.
func TestJSON(t *testing.T) {
	data := render(t, JSON, Options{})
	if !json.Valid(data) {
		t.Fatalf("invalid JSON:\n%s", data)
	}
	var resp billingv1.QueryBillingResponse
	if err := protojson.Unmarshal(data, &resp); err != nil {
		t.Fatalf("protojson: %v", err)
	}
	var lines []Line
	for _, pl := range resp.GetLines() {
		lines = append(lines, Line{
			CustomerID: pl.GetCustomerId(), OrganisationID: pl.GetOrganisationId(), VdcID: pl.GetVdcId(),
			Site: pl.GetSite(), ResourceID: pl.GetResourceId(), ProductGroupID: pl.GetProductGroupId(),
			ProductID: pl.GetProductId(), MetricKey: pl.GetMetricKey(), Dimensions: pl.GetDimensions(),
			Model:       strings.ToLower(strings.TrimPrefix(pl.GetModel().String(), "BILLING_MODEL_")),
			Granularity: strings.ToLower(strings.TrimPrefix(pl.GetGranularity().String(), "GRANULARITY_")),
			Start:       pl.GetStartTime().AsTime(), End: pl.GetEndTime().AsTime(),
			Quantity: mustDecimal(t, pl.GetQuantity()), Unit: pl.GetUnit(), UnitPrice: mustDecimal(t, pl.GetUnitPrice()),
			Amount: mustDecimal(t, pl.GetAmount()), Currency: pl.GetCurrency(),
			PriceListID: pl.GetPriceListId(), PriceID: pl.GetPriceId(), CampaignID: pl.GetCampaignId(),
			ContractID: pl.GetContractId(), Description: pl.GetDescription(), AdjustedMonth: pl.GetAdjustedMonth(),
		})
		if c := pl.GetAdjustmentCause(); c != 0 {
			lines[len(lines)-1].AdjustmentCause = strings.ToLower(strings.TrimPrefix(c.String(), "ADJUSTMENT_CAUSE_"))
		}
	}
	sameLines(t, lines, "product_group_name", "product_name")
	var totals []Total
	for _, pt := range resp.GetTotals() {
		totals = append(totals, Total{Currency: pt.GetCurrency(), Amount: decimal.RequireFromString(pt.GetAmount()), Lines: pt.GetLineCount()})
	}
	sameTotals(t, totals, "")
	sameTotals(t, sumLines(lines), "")
}

// TestJSONShape pins the wire shape a client sees: lowerCamel names, every
// field present (as the gateway's EmitUnpopulated), strings for decimals,
// enums and int64.
func TestJSONShape(t *testing.T) {
	var doc struct {
		Lines  []map[string]any `json:"lines"`
		Totals []map[string]any `json:"totals"`
	}
	if err := json.Unmarshal(render(t, JSON, Options{}), &doc); err != nil {
		t.Fatal(err)
	}
	first := doc.Lines[0]
	for k, want := range map[string]any{
		"customerId": "acme", "quantity": "80", "unitPrice": "0.01", "amount": "0.80",
		"model": "BILLING_MODEL_PAYG", "granularity": "GRANULARITY_MONTH",
		"startTime": "2026-03-31T21:00:00Z", "organisationId": "", "campaignId": "",
	} {
		if first[k] != want {
			t.Errorf("lines[0].%s = %#v, want %#v", k, first[k], want)
		}
	}
	if _, ok := first["dimensions"].(map[string]any); !ok {
		t.Errorf("lines[0].dimensions = %#v, want an object", first["dimensions"])
	}
	if got := doc.Totals[0]; got["currency"] != "EUR" || got["amount"] != "341.64" || got["lineCount"] != "15" {
		t.Errorf("totals[0] = %v", got)
	}
}
