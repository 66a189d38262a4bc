package report

import (
	"bytes"
	"encoding/csv"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// parseCSV reads a CSV export back into lines.
func parseCSV(t *testing.T, data []byte, delimiter rune) []Line {
	t.Helper()
	if !utf8.Valid(data) {
		t.Fatal("CSV is not UTF-8")
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = delimiter
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("parse CSV: %v", err)
	}
	var header []string
	for _, c := range columns {
		header = append(header, c.key)
	}
	if got := strings.Join(rows[0], ","); got != strings.Join(header, ",") {
		t.Fatalf("header %q, want %q", got, strings.Join(header, ","))
	}
	var lines []Line
	for _, row := range rows[1:] {
		f := map[string]string{}
		for i, v := range row {
			f[header[i]] = v
		}
		dims, err := url.ParseQuery(f["dimensions"])
		if err != nil {
			t.Fatal(err)
		}
		l := Line{
			CustomerID: f["customer_id"], OrganisationID: f["organisation_id"], VdcID: f["vdc_id"],
			Site: f["site"], ResourceID: f["resource_id"], ProductGroupID: f["product_group_id"],
			ProductGroupName: f["product_group_name"], ProductID: f["product_id"], ProductName: f["product_name"],
			MetricKey: f["metric_key"], Model: f["model"], Granularity: f["granularity"],
			Start: mustTime(t, f["start_time"]), End: mustTime(t, f["end_time"]),
			Quantity: mustDecimal(t, f["quantity"]), Unit: f["unit"], UnitPrice: mustDecimal(t, f["unit_price"]),
			Amount: mustDecimal(t, f["amount"]), Currency: f["currency"],
			PriceListID: f["price_list_id"], PriceID: f["price_id"], CampaignID: f["campaign_id"],
			ContractID: f["contract_id"], Description: f["description"],
			AdjustedMonth: f["adjusted_month"], AdjustmentCause: f["adjustment_cause"],
		}
		for k, v := range dims {
			if l.Dimensions == nil {
				l.Dimensions = map[string]string{}
			}
			l.Dimensions[k] = v[0]
		}
		lines = append(lines, l)
	}
	return lines
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	if !strings.HasSuffix(s, "Z") {
		t.Errorf("time %q is not UTC", s)
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Errorf("time %q: %v", s, err)
	}
	return v
}

func mustDecimal(t *testing.T, s string) decimal.Decimal {
	t.Helper()
	if strings.ContainsAny(s, ", eE") {
		t.Errorf("decimal %q is not plain", s)
	}
	v, err := decimal.NewFromString(s)
	if err != nil {
		t.Errorf("decimal %q: %v", s, err)
	}
	return v
}

// sumLines totals parsed lines per currency, as the grand totals.
func sumLines(lines []Line) []Total {
	var t tally
	for _, l := range lines {
		t.add(l.Currency, l.Amount)
	}
	return t.list("")
}

func TestCSV(t *testing.T) {
	for _, delim := range []rune{0, ',', ';'} {
		t.Run(string(max(delim, ',')), func(t *testing.T) {
			data := render(t, CSV, Options{CSVDelimiter: delim})
			if !bytes.HasSuffix(data, []byte("\r\n")) || bytes.Count(data, []byte("\r\n")) != len(sampleLines())+1 {
				t.Errorf("want %d CRLF-ended records", len(sampleLines())+1)
			}
			lines := parseCSV(t, data, max(delim, ','))
			sameLines(t, lines)
			sameTotals(t, sumLines(lines), "")
			if delim == ';' && !bytes.Contains(data, []byte(`"Ticket ""#42"", on-site; <urgent> & ünïcödé €"`)) {
				t.Error("a field holding the delimiter is not quoted")
			}
			if bytes.Contains(data, []byte("1,234")) || bytes.Contains(data, []byte("1 234")) {
				t.Error("thousands separators in a CSV")
			}
			if !bytes.Contains(data, []byte("1234500.00")) {
				t.Error("amount not written with its currency's two decimals")
			}
		})
	}
}

func TestCSVCustomerColumns(t *testing.T) {
	data := render(t, CSV, Options{})
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := rows[len(rows)-1][colCustomerName] + "|" + rows[len(rows)-1][colCustomerExternalID]; got != "Globex Corporation (Nordics)|GLX-7" {
		t.Errorf("customer columns %q", got)
	}
}
