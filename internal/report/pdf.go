package report

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/billingd/billingd/internal/report/pdfw"
	"github.com/shopspring/decimal"
)

// NotInvoiceNotice is printed on every page of a PDF statement.
const NotInvoiceNotice = "This is billing data, not an invoice."

// pdfSink writes a billing statement per customer, each starting on a new
// page and numbered "Page X of Y" on its own: a header with provider,
// customer, period and time zone, then the lines in sections per product
// group and model (committed, pay-as-you-go, overage, adjustment), each
// with subtotals per currency, then the customer's totals per currency.
//
// Memory: pages go to w as they are finished (pdfw), so the document
// costs one page; a customer's lines wait in a spool (in memory, then a
// temporary file) until the customer ends, to be sorted into sections.
// There is no line cap.
type pdfSink struct {
	w     io.Writer
	doc   *pdfw.Writer
	fonts [2]*pdfw.Font // fontRegular, fontBold
	st    *Statement

	cust     *CustomerInfo
	custNo   int
	loc      *time.Location
	zone     string
	lines    spool
	scratch  Line
	sections map[sectionKey]*tally // per group (model -1) and per group and model
	page     int                   // page of the current statement
	y        float64               // top of the next row
	inTable  bool                  // the table has started: new pages repeat its header
	section  string                // caption repeated as "… (continued)" after a page break
	detailed bool                  // the requested keys add a details column

	done      []customerSum // statements written, for the summary
	inSummary bool          // writing the summary of several customers
}

// sectionKey names a product group, and with model ≥ 0 one model in it;
// sections print in the order of their keys' fields.
type sectionKey struct {
	ungrouped int    // 1: lines without a product group, last
	title     string // group title, lower case
	groupID   string
	model     int // modelOrder, or -1: the whole group
}

func sectionOf(l *Line, model int) sectionKey {
	return sectionKey{ungrouped: ungrouped(l), title: strings.ToLower(groupTitle(l)), groupID: l.ProductGroupID, model: model}
}

func newPDFSink(w io.Writer) *pdfSink { return &pdfSink{w: w} }

func (s *pdfSink) begin(st *Statement) error {
	s.st = st
	s.doc = pdfw.New(s.w, pageSize.W, pageSize.H, pdfw.Info{
		Title:   "Billing statement " + cmp.Or(st.Month, periodName(st.From.UTC(), st.To.UTC())),
		Author:  st.Provider,
		Subject: NotInvoiceNotice,
		Creator: "billingd",
		Created: st.GeneratedAt,
	})
	return s.loadFonts()
}

func (s *pdfSink) beginCustomer(c *CustomerInfo) error {
	s.cust, s.page, s.inTable, s.section, s.detailed = c, 0, false, "", false
	s.sections = map[sectionKey]*tally{}
	s.custNo++
	s.loc, s.zone = location(c.TimeZone), c.TimeZone
	if s.loc == time.UTC { // also for a zone unknown to this host
		s.zone = "UTC"
	}
	return s.lines.reset()
}

func (s *pdfSink) line(_ *CustomerInfo, l *Line) error {
	if err := s.lines.add(l); err != nil {
		return err
	}
	s.detailed = s.detailed || details(l) != ""
	for _, m := range []int{-1, modelOrder[l.Model]} {
		k := sectionOf(l, m)
		t := s.sections[k]
		if t == nil {
			t = &tally{}
			s.sections[k] = t
		}
		t.add(l.Currency, l.Amount)
	}
	return nil
}

// key is the section of the i-th line in sorted order.
func (s *pdfSink) key(i int) sectionKey { return s.lines.refs[i].sectionKey }

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

func (s *pdfSink) endCustomer(c *CustomerInfo, totals []Total) error {
	if c != nil {
		s.done = append(s.done, customerSum{c: *c, totals: totals})
	}
	if err := s.lines.sort(); err != nil {
		return err
	}
	if err := s.newPage(); err != nil {
		return err
	}
	if err := s.tableHeader(); err != nil {
		return err
	}
	s.inTable = true
	n := s.lines.len()
	if n == 0 {
		if err := s.row(rowNote, []pdfCell{{text: "No billing lines in this period.", w: tableWidth}}); err != nil {
			return err
		}
	}
	for i := 0; i < n; {
		g := s.key(i)
		g.model = -1
		j := i
		for j < n && s.sameGroup(i, j) {
			j++
		}
		var after float64 // the totals stay with the last group
		if j == n {
			after = totalsGap + float64(len(totals))*rowHeight(rowTotal)
		}
		if err := s.group(i, j, g, totals, after); err != nil {
			return err
		}
		i = j
	}
	s.section = ""
	if err := s.totals(totals); err != nil {
		return err
	}
	if err := s.lines.reset(); err != nil {
		return err
	}
	return s.doc.FillPlaceholder(s.pagesName(), strconv.Itoa(s.page))
}

func (s *pdfSink) sameGroup(i, j int) bool {
	a, b := s.key(i), s.key(j)
	return a.ungrouped == b.ungrouped && a.title == b.title && a.groupID == b.groupID
}

// fewerLines keeps the subtotals that sum fewer lines than the totals of
// the level above in their currency: one that sums all of them would
// repeat the figure printed next.
func fewerLines(sub, above []Total) []Total {
	var out []Total
	for _, t := range sub {
		i := slices.IndexFunc(above, func(a Total) bool { return a.Currency == t.Currency })
		if i < 0 || above[i].Lines != t.Lines {
			out = append(out, t)
		}
	}
	return out
}

// ungrouped lines (no product group) come last.
func ungrouped(l *Line) int {
	if l.ProductGroupID == "" && l.ProductGroupName == "" {
		return 1
	}
	return 0
}

// group writes the product group of the sorted lines [from, to): a
// caption, a section per model, each with its subtotals, then the group's
// subtotals (a subtotal that sums the same lines as the level above, whose
// figure follows, is left out). A caption never ends a page, and the last
// line of a section keeps its subtotals (and after them, below the last
// section) on its page.
func (s *pdfSink) group(from, to int, g sectionKey, customerTotals []Total, after float64) error {
	first, err := s.lines.line(from, &s.scratch)
	if err != nil {
		return err
	}
	title := groupTitle(first)
	all := s.sections[g].list("")
	groupTotals := fewerLines(all, customerTotals)
	groupRows := float64(len(groupTotals)) * rowHeight(rowGroupTotal)
	for i := from; i < to; {
		m := s.key(i)
		j := i
		for j < to && s.key(j) == m {
			j++
		}
		modelTotals := fewerLines(s.sections[m].list(""), all)
		l, err := s.lines.line(i, &s.scratch)
		if err != nil {
			return err
		}
		model := modelTitle[l.Model]
		// tail: what must follow a section's last line on the same page.
		tail := float64(len(modelTotals)) * rowHeight(rowSubtotal)
		if j == to {
			tail += groupRows + after
		}
		head := rowHeight(rowModel) + s.lineHeight(l)
		if j == i+1 {
			head += tail
		}
		if i == from {
			head += rowHeight(rowCaption)
		}
		s.section = ""
		if i > from {
			s.section = title
		}
		if err := s.reserve(head); err != nil {
			return err
		}
		if i == from {
			if err := s.row(rowCaption, []pdfCell{{text: title, w: tableWidth}}); err != nil {
				return err
			}
		}
		if err := s.row(rowModel, []pdfCell{{text: model, w: tableWidth}}); err != nil {
			return err
		}
		s.section = title + " · " + model
		for k := i; k < j; k++ {
			l, err := s.lines.line(k, &s.scratch)
			if err != nil {
				return err
			}
			if k == j-1 && k > i {
				if err := s.reserve(s.lineHeight(l) + tail); err != nil {
					return err
				}
			}
			if err := s.row(rowLine, s.lineCells(l)); err != nil {
				return err
			}
		}
		if err := s.subtotals(rowSubtotal, "Subtotal "+model, modelTotals); err != nil {
			return err
		}
		i = j
	}
	s.section = ""
	return s.subtotals(rowGroupTotal, "Subtotal "+title, groupTotals)
}

func (s *pdfSink) lineCells(l *Line) []pdfCell {
	cells := []pdfCell{
		{text: span(l.Start, l.End, s.loc), w: colW[0], lines: 2},
		{text: productName(l), w: colW[1], lines: 2},
	}
	if s.detailed {
		cells = append(cells, pdfCell{text: details(l), w: colW[2], lines: 3})
	} else {
		cells[1].w += colW[2]
	}
	return append(cells,
		pdfCell{text: quantityText(l.Quantity), w: colW[3], right: true},
		pdfCell{text: l.Unit, w: colW[4]},
		pdfCell{text: moneyText(l.Currency, unitPrice(l)), w: colW[5], right: true},
		pdfCell{text: moneyText(l.Currency, formatAmount(l.Currency, l.Amount)), w: colW[6], right: true},
	)
}

// quantityDecimals is how many decimals the PDF shows of a quantity.
const quantityDecimals = 3

// quantityNote tells the reader the display rule of quantityText.
const quantityNote = "Quantities are shown to 3 decimals; the CSV, JSON and XML exports carry them exactly."

// quantityText shows a quantity as a person reads it: rounded half away
// from zero to quantityDecimals, trailing zeros dropped, thousands
// grouped; a quantity that is not zero but rounds to zero is "<0.001".
// Amounts come from the exact quantities, not from these.
func quantityText(q decimal.Decimal) string {
	r := q.Round(quantityDecimals)
	if r.IsZero() && !q.IsZero() {
		tiny := "0." + strings.Repeat("0", quantityDecimals-1) + "1"
		if q.IsNegative() {
			return ">−" + tiny
		}
		return "<" + tiny
	}
	return groupDigits(r.String())
}

// details are the keys the lines were grouped by, the campaign that
// priced the line, then the description without the product name, which
// the product column shows.
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
	if l.CampaignID != "" {
		parts = append(parts, "campaign "+l.CampaignID)
	}
	if d := withoutProduct(l.Description, productName(l)); d != "" {
		parts = append(parts, d)
	}
	return strings.Join(parts, " · ")
}

func productName(l *Line) string {
	if l.ProductName != "" {
		return l.ProductName
	}
	return l.ProductID
}

// withoutProduct drops the product name from a description as the billing
// service writes them: "Storage Gold", "Storage Gold — overage above
// 100 GB", "Adjustment to 2026-03 (…): Storage Gold — …".
func withoutProduct(desc, product string) string {
	if product == "" {
		return desc
	}
	if head, rest, ok := strings.Cut(desc, "): "); ok && strings.HasPrefix(desc, "Adjustment ") {
		if r := withoutProduct(rest, product); r != "" {
			return head + "): " + r
		}
		return head + ")"
	}
	if desc == product {
		return ""
	}
	return strings.TrimPrefix(desc, product+" — ")
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

func (s *pdfSink) end(grand []Total) error {
	switch {
	case s.custNo == 0: // no customers: one page that says so
		if err := s.beginCustomer(&CustomerInfo{Name: "All customers"}); err != nil {
			return err
		}
		if err := s.endCustomer(nil, nil); err != nil {
			return err
		}
	case len(s.done) > 1:
		if err := s.summary(grand); err != nil {
			return err
		}
	}
	return s.doc.Close()
}

func (s *pdfSink) close() error { return s.lines.close() }

func (s *pdfSink) pagesName() string { return fmt.Sprintf("pages-%d", s.custNo) }
