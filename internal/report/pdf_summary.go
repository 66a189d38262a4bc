package report

import "fmt"

// customerSum is one customer's totals, kept for the summary page.
type customerSum struct {
	c      CustomerInfo
	totals []Total
}

// summary ends a PDF of several customers with a statement of its own:
// every customer's totals per currency, then the grand totals.
func (s *pdfSink) summary(grand []Total) error {
	zone := s.done[0].c.TimeZone
	for _, c := range s.done {
		if c.c.TimeZone != zone {
			zone = "" // several zones: the period in UTC
		}
	}
	if err := s.beginCustomer(&CustomerInfo{Name: "All customers", TimeZone: zone}); err != nil {
		return err
	}
	s.inSummary = true
	defer func() { s.inSummary = false }()
	if err := s.newPage(); err != nil {
		return err
	}
	if err := s.tableHeader(); err != nil {
		return err
	}
	s.inTable = true
	for _, cs := range s.done {
		name, ids := cs.c.Name, cs.c.ID
		if name == "" {
			name = cs.c.ID
		}
		if cs.c.ExternalID != "" {
			ids += " · " + cs.c.ExternalID
		}
		if len(cs.totals) == 0 {
			if err := s.row(rowLine, summaryCells(name, ids, "0 lines", "", "—")); err != nil {
				return err
			}
		}
		for _, t := range cs.totals {
			if err := s.row(rowLine, summaryCells(name, ids, fmt.Sprintf("%d %s", t.Lines, plural(t.Lines, "line")),
				t.Currency, moneyText(t.Currency, formatAmount(t.Currency, t.Amount)))); err != nil {
				return err
			}
		}
	}
	if err := s.totals(grand); err != nil {
		return err
	}
	return s.doc.FillPlaceholder(s.pagesName(), fmt.Sprint(s.page))
}

// summaryCells is a row of the summary table; its columns span the
// statement's: customer (period and product), ids (details), lines
// (quantity and unit), currency (unit price), amount.
func summaryCells(name, ids, lines, currency, amount string) []pdfCell {
	return []pdfCell{
		{text: name, w: colW[0] + colW[1]},
		{text: ids, w: colW[2]},
		{text: lines, w: colW[3] + colW[4], right: true},
		{text: currency, w: colW[5], right: true},
		{text: amount, w: colW[6], right: true},
	}
}

func (s *pdfSink) summaryHeader() error {
	return s.row(rowHeader, summaryCells("Customer", "Customer ID · External ID", "Lines", "Currency", "Amount"))
}

// summaryIDs is the summary's line where a statement names its customer.
func (s *pdfSink) summaryIDs() string {
	return fmt.Sprintf("%d customers, each with a statement of its own above", len(s.done))
}
