package report

import (
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The document as an ERP would bind it.
type xmlReport struct {
	XMLName     xml.Name      `xml:"urn:billingd:report:v1 billingReport"`
	Version     string        `xml:"version,attr"`
	Provider    string        `xml:"provider"`
	GeneratedAt string        `xml:"generatedAt"`
	From        string        `xml:"from"`
	To          string        `xml:"to"`
	Granularity string        `xml:"granularity"`
	GroupBy     []string      `xml:"groupBy"`
	Customers   []xmlCustomer `xml:"customer"`
	Totals      []xmlTotal    `xml:"total"`
}

type xmlCustomer struct {
	ID         string     `xml:"id,attr"`
	ExternalID string     `xml:"externalId,attr"`
	TimeZone   string     `xml:"timeZone,attr"`
	Name       string     `xml:"name"`
	Lines      []xmlLine  `xml:"line"`
	Totals     []xmlTotal `xml:"total"`
}

type xmlTotal struct {
	Currency  string `xml:"currency,attr"`
	LineCount int64  `xml:"lineCount,attr"`
	Amount    string `xml:",chardata"`
}

type xmlLine struct {
	CustomerID       string `xml:"customerId"`
	OrganisationID   string `xml:"organisationId"`
	VdcID            string `xml:"vdcId"`
	Site             string `xml:"site"`
	ResourceID       string `xml:"resourceId"`
	ProductGroupID   string `xml:"productGroupId"`
	ProductGroupName string `xml:"productGroupName"`
	ProductID        string `xml:"productId"`
	ProductName      string `xml:"productName"`
	MetricKey        string `xml:"metricKey"`
	Dimension        []struct {
		Key   string `xml:"key,attr"`
		Value string `xml:",chardata"`
	} `xml:"dimension"`
	Model           string `xml:"model"`
	Granularity     string `xml:"granularity"`
	Start           string `xml:"start"`
	End             string `xml:"end"`
	Quantity        string `xml:"quantity"`
	Unit            string `xml:"unit"`
	UnitPrice       string `xml:"unitPrice"`
	Amount          string `xml:"amount"`
	Currency        string `xml:"currency"`
	PriceListID     string `xml:"priceListId"`
	PriceID         string `xml:"priceId"`
	CampaignID      string `xml:"campaignId"`
	ContractID      string `xml:"contractId"`
	Description     string `xml:"description"`
	AdjustedMonth   string `xml:"adjustedMonth"`
	AdjustmentCause string `xml:"adjustmentCause"`
}

func TestXML(t *testing.T) {
	data := render(t, XML, Options{})
	var doc xmlReport
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("unmarshal: %v\n%s", err, data)
	}
	st := sampleStatement()
	if doc.Version != "1" || doc.Provider != st.Provider || doc.From != "2026-03-31T21:00:00Z" || doc.To != "2026-04-30T21:00:00Z" ||
		doc.Granularity != "month" || len(doc.GroupBy) != 3 {
		t.Errorf("header %+v", doc)
	}
	if len(doc.Customers) != 2 || doc.Customers[1].Name != "Globex Corporation (Nordics)" || doc.Customers[0].ExternalID != "ERP-1001" ||
		doc.Customers[0].TimeZone != "Europe/Helsinki" {
		t.Fatalf("customers %+v", doc.Customers)
	}
	var lines []Line
	var totals []Total
	for _, c := range doc.Customers {
		for _, x := range c.Lines {
			if x.CustomerID != c.ID {
				t.Errorf("line of %s under customer %s", x.CustomerID, c.ID)
			}
			l := Line{
				CustomerID: x.CustomerID, OrganisationID: x.OrganisationID, VdcID: x.VdcID, Site: x.Site,
				ResourceID: x.ResourceID, ProductGroupID: x.ProductGroupID, ProductGroupName: x.ProductGroupName,
				ProductID: x.ProductID, ProductName: x.ProductName, MetricKey: x.MetricKey,
				Model: x.Model, Granularity: x.Granularity, Start: mustTime(t, x.Start), End: mustTime(t, x.End),
				Quantity: mustDecimal(t, x.Quantity), Unit: x.Unit, UnitPrice: mustDecimal(t, x.UnitPrice),
				Amount: mustDecimal(t, x.Amount), Currency: x.Currency, PriceListID: x.PriceListID,
				PriceID: x.PriceID, CampaignID: x.CampaignID, ContractID: x.ContractID, Description: x.Description,
				AdjustedMonth: x.AdjustedMonth, AdjustmentCause: x.AdjustmentCause,
			}
			for _, dim := range x.Dimension {
				if l.Dimensions == nil {
					l.Dimensions = map[string]string{}
				}
				l.Dimensions[dim.Key] = dim.Value
			}
			lines = append(lines, l)
		}
		for _, x := range c.Totals {
			totals = append(totals, Total{CustomerID: c.ID, Currency: x.Currency, Amount: mustDecimal(t, x.Amount), Lines: x.LineCount})
		}
	}
	for _, x := range doc.Totals {
		totals = append(totals, Total{Currency: x.Currency, Amount: mustDecimal(t, x.Amount), Lines: x.LineCount})
	}
	sameLines(t, lines)
	sameTotals(t, totals, "", "acme", "globex")
	sameTotals(t, sumLines(lines), "")
	validateXSD(t, data)
}

// validateXSD checks a document against docs/schema/billing-report.xsd with
// xmllint (Debian: libxml2-utils).
func validateXSD(t *testing.T, data []byte) {
	t.Helper()
	xmllint := lookTool(t, "xmllint", "libxml2-utils")
	file := filepath.Join(t.TempDir(), "report.xml")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(xmllint, "--noout", "--nonet", "--schema", "../../docs/schema/billing-report.xsd", file).CombinedOutput()
	if err != nil {
		t.Fatalf("xmllint: %v\n%s", err, out)
	}
}

// TestXMLEmpty: a report without lines is still valid.
func TestXMLEmpty(t *testing.T) {
	for _, st := range []Statement{sampleStatement(), {GeneratedAt: aprTo, From: aprFrom, To: aprTo}} {
		var buf xmlBuffer
		if err := Write(t.Context(), &buf, XML, SliceSource(st, nil, nil), Options{}); err != nil {
			t.Fatal(err)
		}
		validateXSD(t, buf.Bytes())
	}
}

// TestXSDRejects: the schema check is not a formality.
func TestXSDRejects(t *testing.T) {
	data := render(t, XML, Options{})
	for _, c := range []struct{ from, to string }{
		{"<model>payg</model>", "<model>free</model>"},
		{"<amount>0.80</amount>", "<amount>0,80</amount>"},
		{"<start>2026-03-31T21:00:00Z</start>", "<start>2026-04-01T00:00:00+03:00</start>"},
	} {
		bad := bytes.Replace(data, []byte(c.from), []byte(c.to), 1)
		if bytes.Equal(bad, data) {
			t.Fatalf("%s not found", c.from)
		}
		t.Run(c.to, func(t *testing.T) {
			xmllint := lookTool(t, "xmllint", "libxml2-utils")
			file := filepath.Join(t.TempDir(), "bad.xml")
			if err := os.WriteFile(file, bad, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := exec.Command(xmllint, "--noout", "--nonet", "--schema", "../../docs/schema/billing-report.xsd", file).Run(); err == nil {
				t.Errorf("a document with %s validates", c.to)
			}
		})
	}
}
