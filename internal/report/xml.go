package report

import (
	"encoding/xml"
	"io"
	"maps"
	"slices"
	"strconv"
)

// XMLNamespace is the target namespace of docs/schema/billing-report.xsd.
const XMLNamespace = "urn:billingd:report:v1"

// xmlSink writes a billingReport document (docs/schema/billing-report.xsd)
// token by token: one customer element per customer holding its lines and
// totals, then the grand totals. The encoder buffers 4 KiB.
type xmlSink struct {
	enc *xml.Encoder
}

func newXMLSink(w io.Writer) *xmlSink {
	return &xmlSink{enc: xml.NewEncoder(w)}
}

func start(local string, attrs ...xml.Attr) xml.StartElement {
	return xml.StartElement{Name: xml.Name{Local: local}, Attr: attrs}
}

func attr(name, value string) xml.Attr { return xml.Attr{Name: xml.Name{Local: name}, Value: value} }

// text writes <local>value</local>.
func (s *xmlSink) text(local, value string) error {
	el := start(local)
	if err := s.enc.EncodeToken(el); err != nil {
		return err
	}
	if err := s.enc.EncodeToken(xml.CharData(value)); err != nil {
		return err
	}
	return s.enc.EncodeToken(el.End())
}

// optional writes <local>value</local> unless value is empty.
func (s *xmlSink) optional(local, value string) error {
	if value == "" {
		return nil
	}
	return s.text(local, value)
}

func (s *xmlSink) begin(st *Statement) error {
	if err := s.enc.EncodeToken(xml.ProcInst{Target: "xml", Inst: []byte(`version="1.0" encoding="UTF-8"`)}); err != nil {
		return err
	}
	root := xml.StartElement{
		Name: xml.Name{Local: "billingReport"},
		Attr: []xml.Attr{attr("xmlns", XMLNamespace), attr("version", "1")},
	}
	if err := s.enc.EncodeToken(root); err != nil {
		return err
	}
	// Every error below is sticky in the encoder's writer and comes back
	// from the next token or the final Flush.
	s.optional("provider", st.Provider)
	s.text("generatedAt", isoTime(st.GeneratedAt))
	s.text("from", isoTime(st.From))
	s.text("to", isoTime(st.To))
	s.optional("month", st.Month)
	s.optional("granularity", st.Granularity)
	for _, g := range st.GroupBy {
		s.text("groupBy", g)
	}
	return nil
}

func (s *xmlSink) beginCustomer(c *CustomerInfo) error {
	attrs := []xml.Attr{attr("id", c.ID)}
	if c.ExternalID != "" {
		attrs = append(attrs, attr("externalId", c.ExternalID))
	}
	if c.TimeZone != "" {
		attrs = append(attrs, attr("timeZone", c.TimeZone))
	}
	if err := s.enc.EncodeToken(start("customer", attrs...)); err != nil {
		return err
	}
	return s.optional("name", c.Name)
}

func (s *xmlSink) line(_ *CustomerInfo, l *Line) error {
	el := start("line")
	if err := s.enc.EncodeToken(el); err != nil {
		return err
	}
	s.text("customerId", l.CustomerID)
	s.optional("organisationId", l.OrganisationID)
	s.optional("vdcId", l.VdcID)
	s.optional("site", l.Site)
	s.optional("resourceId", l.ResourceID)
	s.optional("productGroupId", l.ProductGroupID)
	s.optional("productGroupName", l.ProductGroupName)
	s.text("productId", l.ProductID)
	s.optional("productName", l.ProductName)
	s.optional("metricKey", l.MetricKey)
	for _, k := range slices.Sorted(maps.Keys(l.Dimensions)) {
		d := start("dimension", attr("key", k))
		s.enc.EncodeToken(d)
		s.enc.EncodeToken(xml.CharData(l.Dimensions[k]))
		s.enc.EncodeToken(d.End())
	}
	s.text("model", l.Model)
	s.optional("granularity", l.Granularity)
	s.text("start", isoTime(l.Start))
	s.text("end", isoTime(l.End))
	s.text("quantity", l.Quantity.String())
	s.optional("unit", l.Unit)
	s.text("unitPrice", l.UnitPrice.String())
	s.text("amount", formatAmount(l.Currency, l.Amount))
	s.text("currency", l.Currency)
	s.optional("priceListId", l.PriceListID)
	s.optional("priceId", l.PriceID)
	s.optional("campaignId", l.CampaignID)
	s.optional("contractId", l.ContractID)
	s.optional("description", l.Description)
	s.optional("adjustedMonth", l.AdjustedMonth)
	s.optional("adjustmentCause", l.AdjustmentCause)
	return s.enc.EncodeToken(el.End())
}

func (s *xmlSink) totals(totals []Total) error {
	for _, t := range totals {
		el := start("total", attr("currency", t.Currency), attr("lineCount", strconv.FormatInt(t.Lines, 10)))
		s.enc.EncodeToken(el)
		s.enc.EncodeToken(xml.CharData(formatAmount(t.Currency, t.Amount)))
		if err := s.enc.EncodeToken(el.End()); err != nil {
			return err
		}
	}
	return nil
}

func (s *xmlSink) endCustomer(_ *CustomerInfo, totals []Total) error {
	if err := s.totals(totals); err != nil {
		return err
	}
	return s.enc.EncodeToken(start("customer").End())
}

func (s *xmlSink) end(totals []Total) error {
	if err := s.totals(totals); err != nil {
		return err
	}
	if err := s.enc.EncodeToken(start("billingReport").End()); err != nil {
		return err
	}
	if err := s.enc.Flush(); err != nil {
		return err
	}
	return s.enc.Close()
}

func (s *xmlSink) close() error { return nil }
