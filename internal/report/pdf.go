package report

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/signintech/gopdf"
)

// NotInvoiceNotice is printed on every page of a PDF statement.
const NotInvoiceNotice = "This is billing data, not an invoice."

// pdfSink writes a billing statement per customer, each starting on a new
// page and numbered "Page X of Y" on its own: a header with provider,
// customer, period and time zone, then the lines in sections per product
// group and model (committed, pay-as-you-go, overage, adjustment), each
// with subtotals per currency, then the customer's totals per currency.
//
// Memory: gopdf builds the whole document in memory and writes it at the
// end, and the sink holds one customer's lines to sort them into sections.
// So a PDF costs memory in proportion to its lines (about 3 KB a line while
// it is built) and is capped at Options.PDFMaxLines; it is meant for
// statements a person reads, and large exports belong in CSV, XLSX, JSON
// or XML. Nothing reaches w before the end, so every error comes first.
type pdfSink struct {
	w  io.Writer
	gp *gopdf.GoPdf
	st *Statement

	cust     *CustomerInfo
	custNo   int
	loc      *time.Location
	zone     string
	lines    []Line
	page     int     // page of the current statement
	y        float64 // top of the next row
	inTable  bool    // the table has started: new pages repeat its header
	section  string  // caption repeated as "… (continued)" after a page break
	detailed bool    // the requested keys add a details column
	maxLines int     // negative: no cap
	count    int
}

func newPDFSink(w io.Writer, maxLines int) *pdfSink { return &pdfSink{w: w, maxLines: maxLines} }

func (s *pdfSink) begin(st *Statement) error {
	s.st = st
	s.gp = &gopdf.GoPdf{}
	s.gp.Start(gopdf.Config{PageSize: pageSize, Unit: gopdf.UnitPT})
	s.gp.SetInfo(gopdf.PdfInfo{
		Title:        "Billing statement " + cmp.Or(st.Month, periodName(st.From.UTC(), st.To.UTC())),
		Author:       st.Provider,
		Subject:      NotInvoiceNotice,
		Creator:      "billingd",
		CreationDate: st.GeneratedAt,
	})
	return loadFonts(s.gp)
}

func (s *pdfSink) beginCustomer(c *CustomerInfo) error {
	s.cust, s.lines, s.page, s.inTable, s.section = c, s.lines[:0], 0, false, ""
	s.custNo++
	s.loc, s.zone = location(c.TimeZone), c.TimeZone
	if s.loc == time.UTC { // also for a zone unknown to this host
		s.zone = "UTC"
	}
	return nil
}

func (s *pdfSink) line(_ *CustomerInfo, l *Line) error {
	if s.count++; s.maxLines >= 0 && s.count > s.maxLines {
		return apperr.FailedPrecondition("a PDF statement holds at most %d lines and this export has more: "+
			"choose CSV, XLSX, JSON or XML, a coarser granularity or fewer group-by keys", s.maxLines)
	}
	s.lines = append(s.lines, *l)
	return nil
}

var modelOrder = map[string]int{ModelCommitted: 0, ModelPAYG: 1, ModelOverage: 2, ModelMinimum: 3, ModelAdjustment: 4}

var modelTitle = map[string]string{
	ModelCommitted:  "Committed",
	ModelPAYG:       "Pay-as-you-go",
	ModelOverage:    "Overage",
	ModelMinimum:    "Minimum charge",
	ModelAdjustment: "Adjustment",
}

// unitPrice shows at least the currency's minor units ("3.00", "0.0125"):
// trailing zeros only, the value is exact.
func unitPrice(l *Line) string {
	if n := currencyScale(l.Currency); int32(decimals(l.UnitPrice)) < n {
		return l.UnitPrice.StringFixed(n)
	}
	return l.UnitPrice.String()
}

func groupTitle(l *Line) string {
	switch {
	case l.ProductGroupName != "":
		return l.ProductGroupName
	case l.ProductGroupID != "":
		return l.ProductGroupID
	}
	return "Other products"
}

func (s *pdfSink) endCustomer(_ *CustomerInfo, totals []Total) error {
	// Sections: product groups by name (lines without one last), then
	// models in a fixed order; lines keep the source's order within one.
	slices.SortStableFunc(s.lines, func(a, b Line) int {
		return cmp.Or(
			cmp.Compare(ungrouped(&a), ungrouped(&b)),
			cmp.Compare(strings.ToLower(groupTitle(&a)), strings.ToLower(groupTitle(&b))),
			cmp.Compare(a.ProductGroupID, b.ProductGroupID),
			cmp.Compare(modelOrder[a.Model], modelOrder[b.Model]))
	})
	s.detailed = false
	for i := range s.lines {
		if details(&s.lines[i]) != "" {
			s.detailed = true
			break
		}
	}
	if err := s.newPage(); err != nil {
		return err
	}
	if err := s.tableHeader(); err != nil {
		return err
	}
	s.inTable = true
	if len(s.lines) == 0 {
		if err := s.row(rowNote, []pdfCell{{text: "No billing lines in this period.", w: tableWidth}}); err != nil {
			return err
		}
	}
	for i := 0; i < len(s.lines); {
		j := i
		for j < len(s.lines) && sameGroup(&s.lines[i], &s.lines[j]) {
			j++
		}
		var after float64 // the totals stay with the last group
		if j == len(s.lines) {
			after = totalsGap + float64(len(totals))*rowHeight(rowTotal)
		}
		if err := s.group(s.lines[i:j], after); err != nil {
			return err
		}
		i = j
	}
	s.section = ""
	if err := s.totals(totals); err != nil {
		return err
	}
	s.lines = s.lines[:0]
	return s.gp.FillInPlaceHoldText(s.pagesName(), fmt.Sprint(s.page), gopdf.Left)
}

// ungrouped lines (no product group) come last.
func ungrouped(l *Line) int {
	if l.ProductGroupID == "" && l.ProductGroupName == "" {
		return 1
	}
	return 0
}

func sameGroup(a, b *Line) bool {
	return a.ProductGroupID == b.ProductGroupID && groupTitle(a) == groupTitle(b)
}

// group writes one product group: a caption, a section per model, each
// with its subtotals, then the group's subtotals. A caption never ends a
// page, and the last line of a section keeps its subtotals (and after
// them, below the last section) on its page.
func (s *pdfSink) group(lines []Line, after float64) error {
	title := groupTitle(&lines[0])
	var groupTotals tally
	for i := range lines {
		groupTotals.add(lines[i].Currency, lines[i].Amount)
	}
	groupRows := float64(len(groupTotals.sums)) * rowHeight(rowGroupTotal)
	for i := 0; i < len(lines); {
		j := i
		var modelTotals tally
		for j < len(lines) && lines[j].Model == lines[i].Model {
			modelTotals.add(lines[j].Currency, lines[j].Amount)
			j++
		}
		// tail: what must follow a section's last line on the same page.
		tail := float64(len(modelTotals.sums)) * rowHeight(rowSubtotal)
		if j == len(lines) {
			tail += groupRows + after
		}
		first := s.lineHeight(&lines[i])
		if j == i+1 {
			first += tail
		}
		head := rowHeight(rowModel) + first
		if i == 0 {
			head += rowHeight(rowCaption)
		}
		s.section = ""
		if i > 0 {
			s.section = title
		}
		if err := s.reserve(head); err != nil {
			return err
		}
		if i == 0 {
			if err := s.row(rowCaption, []pdfCell{{text: title, w: tableWidth}}); err != nil {
				return err
			}
		}
		model := modelTitle[lines[i].Model]
		if err := s.row(rowModel, []pdfCell{{text: model, w: tableWidth}}); err != nil {
			return err
		}
		s.section = title + " · " + model
		for k := i; k < j; k++ {
			if k == j-1 && k > i {
				if err := s.reserve(s.lineHeight(&lines[k]) + tail); err != nil {
					return err
				}
			}
			if err := s.row(rowLine, s.lineCells(&lines[k])); err != nil {
				return err
			}
		}
		if err := s.subtotals(rowSubtotal, "Subtotal "+model, modelTotals.list("")); err != nil {
			return err
		}
		i = j
	}
	s.section = ""
	return s.subtotals(rowGroupTotal, "Subtotal "+title, groupTotals.list(""))
}

func (s *pdfSink) lineCells(l *Line) []pdfCell {
	product := l.ProductName
	if product == "" {
		product = l.ProductID
	}
	cells := []pdfCell{
		{text: span(l.Start, l.End, s.loc), w: colW[0], lines: 2},
		{text: product, w: colW[1], lines: 2},
	}
	if s.detailed {
		cells = append(cells, pdfCell{text: details(l), w: colW[2], lines: 3})
	} else {
		cells[1].w += colW[2]
	}
	return append(cells,
		pdfCell{text: groupDigits(l.Quantity.String()), w: colW[3], right: true},
		pdfCell{text: l.Unit, w: colW[4]},
		pdfCell{text: moneyText(l.Currency, unitPrice(l)), w: colW[5], right: true},
		pdfCell{text: moneyText(l.Currency, formatAmount(l.Currency, l.Amount)), w: colW[6], right: true},
	)
}

// details are the keys the lines were grouped by, then the description.
func details(l *Line) string {
	var parts []string
	for _, p := range []string{l.OrganisationID, l.VdcID, l.Site, l.ResourceID} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(l.Dimensions)) {
		parts = append(parts, k+"="+l.Dimensions[k])
	}
	if l.Description != "" {
		parts = append(parts, l.Description)
	}
	return strings.Join(parts, " · ")
}

// subtotals writes one row per currency: label, line count, amount.
func (s *pdfSink) subtotals(kind rowKind, label string, totals []Total) error {
	if err := s.reserve(float64(len(totals)) * rowHeight(kind)); err != nil {
		return err
	}
	for _, t := range totals {
		lines := "1 line"
		if t.Lines != 1 {
			lines = fmt.Sprintf("%d lines", t.Lines)
		}
		if err := s.row(kind, []pdfCell{
			{text: label, w: colW[0] + colW[1] + colW[2]},
			{text: lines, w: colW[3] + colW[4], right: true},
			{text: t.Currency, w: colW[5], right: true},
			{text: moneyText(t.Currency, formatAmount(t.Currency, t.Amount)), w: colW[6], right: true},
		}); err != nil {
			return err
		}
	}
	return nil
}

// totals writes the customer's totals per currency below the table.
func (s *pdfSink) totals(totals []Total) error {
	if len(totals) == 0 {
		return nil
	}
	s.y += totalsGap
	if err := s.reserve(float64(len(totals)) * rowHeight(rowTotal)); err != nil {
		return err
	}
	for _, t := range totals {
		if err := s.row(rowTotal, []pdfCell{
			{text: "Total " + t.Currency, w: colW[0] + colW[1] + colW[2]},
			{text: fmt.Sprintf("%d %s", t.Lines, plural(t.Lines, "line")), w: colW[3] + colW[4], right: true},
			{text: moneyText(t.Currency, formatAmount(t.Currency, t.Amount)), w: colW[5] + colW[6], right: true},
		}); err != nil {
			return err
		}
	}
	return nil
}

const totalsGap = 6 // between the table and the totals

func plural(n int64, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func (s *pdfSink) end([]Total) error {
	if s.custNo == 0 { // no customers: one page that says so
		if err := s.beginCustomer(&CustomerInfo{Name: "All customers"}); err != nil {
			return err
		}
		if err := s.endCustomer(nil, nil); err != nil {
			return err
		}
	}
	_, err := s.gp.WriteTo(s.w)
	return err
}

func (s *pdfSink) close() error { return nil }

func (s *pdfSink) pagesName() string { return fmt.Sprintf("pages-%d", s.custNo) }
