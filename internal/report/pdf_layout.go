package report

import (
	"strconv"
	"strings"
	"time"

	"github.com/billingd/billingd/internal/report/pdfw"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
)

// Page geometry in points: A4 landscape, so that the table fits one line
// per billing line.
var pageSize = struct{ W, H float64 }{W: 841.89, H: 595.28}

const (
	marginX    = 36.0
	marginTop  = 32.0
	footerY    = 595.28 - 28  // top of the footer text
	bodyBottom = footerY - 16 // rows end above this
	tableWidth = 841.89 - 2*marginX
	pad        = 3.0 // horizontal padding inside a cell
	footerSize = 7.5
)

// Fonts, as indexes into pdfSink.fonts.
const (
	fontRegular = iota
	fontBold
)

// Horizontal alignment of text in a cell.
const (
	alignLeft = iota
	alignRight
)

// Column widths of the table: period, product, details, quantity, unit,
// unit price, amount (sum: tableWidth).
var colW = [7]float64{122, 150, 224.89, 82, 58, 66, 67}

var colTitles = [7]string{"Period", "Product", "Details", "Quantity", "Unit", "Unit price", "Amount"}

// loadFonts embeds the Go fonts (a humanist sans-serif with €, £, – and …),
// so the PDF depends on nothing installed.
func (s *pdfSink) loadFonts() error {
	for i, ttf := range [][]byte{goregular.TTF, gobold.TTF} {
		f, err := s.doc.AddFont(ttf)
		if err != nil {
			return err
		}
		f.DrawAs('-', '\u00ad') // the Go fonts' U+002D is a minus sign, wider than an en dash
		s.fonts[i] = f
	}
	return nil
}

// width is the width of t in font at size.
func (s *pdfSink) width(font int, size float64, t string) float64 {
	return s.fonts[font].Width(t, size)
}

type rowKind int

const (
	rowHeader rowKind = iota
	rowCaption
	rowModel
	rowLine
	rowSubtotal
	rowGroupTotal
	rowTotal
	rowNote
)

type rowStyle struct {
	font       int
	size       float64
	lineHeight float64 // per text line
	padY       float64
	fill       pdfw.Color // background; zero: none
	color      pdfw.Color // text
	rule       pdfw.Color // bottom rule; zero: none
	indent     float64    // of the first cell
}

var rowStyles = map[rowKind]rowStyle{
	rowHeader:     {font: fontBold, size: 8, lineHeight: 10, padY: 3, fill: pdfw.Color{52, 73, 94}, color: pdfw.Color{255, 255, 255}},
	rowCaption:    {font: fontBold, size: 9, lineHeight: 11, padY: 3, fill: pdfw.Color{221, 227, 234}, color: pdfw.Color{20, 30, 40}},
	rowModel:      {font: fontBold, size: 8, lineHeight: 10, padY: 2, color: pdfw.Color{52, 73, 94}, indent: 6},
	rowLine:       {font: fontRegular, size: 8, lineHeight: 10, padY: 2, color: pdfw.Color{20, 20, 20}, rule: pdfw.Color{228, 231, 235}, indent: 12},
	rowSubtotal:   {font: fontBold, size: 8, lineHeight: 10, padY: 2, color: pdfw.Color{52, 73, 94}, fill: pdfw.Color{245, 247, 249}, indent: 6},
	rowGroupTotal: {font: fontBold, size: 8.5, lineHeight: 11, padY: 3, color: pdfw.Color{20, 30, 40}, fill: pdfw.Color{234, 238, 242}, rule: pdfw.Color{127, 140, 153}},
	rowTotal:      {font: fontBold, size: 10, lineHeight: 12, padY: 4, color: pdfw.Color{255, 255, 255}, fill: pdfw.Color{52, 73, 94}},
	rowNote:       {font: fontRegular, size: 8, lineHeight: 10, padY: 4, color: pdfw.Color{90, 90, 90}},
}

// pdfCell is a table cell: single-line text cut with "…" to fit, or up to
// lines lines wrapped at spaces; numbers (right) shrink instead of being cut.
type pdfCell struct {
	text  string
	w     float64
	right bool
	lines int
}

// rowHeight is the height of a one-text-line row of a kind.
func rowHeight(kind rowKind) float64 {
	st := rowStyles[kind]
	return st.lineHeight + 2*st.padY
}

// reserve starts a new page unless h points fit below s.y.
func (s *pdfSink) reserve(h float64) error {
	if s.y+h <= bodyBottom {
		return nil
	}
	return s.breakPage()
}

// lineHeight is the height of a line's row, wrapped text included.
func (s *pdfSink) lineHeight(l *Line) float64 {
	st := rowStyles[rowLine]
	n := 1
	for _, c := range s.lineCells(l) {
		if c.lines > 1 {
			n = max(n, len(s.wrap(st.font, st.size, c.text, c.w-2*pad, c.lines)))
		}
	}
	return float64(n)*st.lineHeight + 2*st.padY
}

// row draws one table row at s.y, breaking the page first if it does not fit.
func (s *pdfSink) row(kind rowKind, cells []pdfCell) error {
	st := rowStyles[kind]
	texts := make([][]string, len(cells))
	n := 1
	for i, c := range cells {
		w := c.w - 2*pad
		if i == 0 {
			w -= st.indent
		}
		if c.lines > 1 {
			texts[i] = s.wrap(st.font, st.size, c.text, w, c.lines)
		} else {
			texts[i] = []string{c.text}
			if !c.right {
				texts[i][0] = s.fit(st.font, st.size, c.text, w)
			}
		}
		n = max(n, len(texts[i]))
	}
	h := float64(n)*st.lineHeight + 2*st.padY
	if s.y+h > bodyBottom {
		if err := s.breakPage(); err != nil {
			return err
		}
	}
	if st.fill != (pdfw.Color{}) {
		s.doc.FillRect(st.fill, marginX, s.y, tableWidth, h)
	}
	if st.rule != (pdfw.Color{}) {
		s.doc.Line(st.rule, 0.5, marginX, s.y+h, marginX+tableWidth, s.y+h)
	}
	x := marginX
	for i, c := range cells {
		left, w := x+pad, c.w-2*pad
		if i == 0 {
			left, w = left+st.indent, w-st.indent
		}
		for k, t := range texts[i] {
			if t == "" {
				continue
			}
			size, tx := st.size, left
			if c.right {
				size = s.shrink(st.font, st.size, t, w)
				tx = left + w - s.width(st.font, size, t)
			}
			s.doc.Text(s.fonts[st.font], size, st.color, tx, s.y+st.padY+float64(k)*st.lineHeight+(st.lineHeight-size)/2, t)
		}
		x += c.w
	}
	s.y += h
	return nil
}

// shrink returns the font size at which t fits w (down to 60 %).
func (s *pdfSink) shrink(font int, size float64, t string, w float64) float64 {
	for size > 0.6*rowStyles[rowLine].size && s.width(font, size, t) > w {
		size -= 0.5
	}
	return size
}

// fit cuts t with "…" to fit w.
func (s *pdfSink) fit(font int, size float64, t string, w float64) string {
	if s.width(font, size, t) <= w {
		return t
	}
	r := []rune(t)
	lo, hi := 0, len(r) // the longest prefix that fits with "…"
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if s.width(font, size, string(r[:mid])+"…") <= w {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return strings.TrimRight(string(r[:lo]), " ") + "…"
}

// wrap breaks t into at most n lines of width w at spaces (inside words
// when a word is too long), the last line cut with "…" if needed.
func (s *pdfSink) wrap(font int, size float64, t string, w float64, n int) []string {
	if t == "" {
		return nil
	}
	var out []string
	line := ""
	for _, word := range strings.Fields(t) {
		cand := word
		if line != "" {
			cand = line + " " + word
		}
		if s.width(font, size, cand) <= w {
			line = cand
			continue
		}
		if line != "" {
			out = append(out, line)
		}
		line = word
		for len(out) < n {
			if s.width(font, size, line) <= w {
				break
			}
			head := strings.TrimSuffix(s.fit(font, size, line, w), "…")
			if head == "" {
				break
			}
			out = append(out, head)
			line = line[len(head):]
		}
	}
	if line != "" {
		out = append(out, line)
	}
	if len(out) > n {
		out[n-1] = s.fit(font, size, strings.Join(out[n-1:], " "), w)
		out = out[:n]
	}
	if len(out) > 0 {
		out[len(out)-1] = s.fit(font, size, out[len(out)-1], w)
	}
	return out
}

// breakPage continues the table on a new page: header row again, then the
// current section's caption marked "(continued)".
func (s *pdfSink) breakPage() error {
	if err := s.newPage(); err != nil {
		return err
	}
	if !s.inTable {
		return nil
	}
	if err := s.tableHeader(); err != nil {
		return err
	}
	if s.section != "" {
		return s.row(rowModel, []pdfCell{{text: s.section + " (continued)", w: tableWidth}})
	}
	return nil
}

func (s *pdfSink) tableHeader() error {
	if s.inSummary {
		return s.summaryHeader()
	}
	cells := make([]pdfCell, 0, len(colTitles))
	for i, t := range colTitles {
		c := pdfCell{text: t, w: colW[i], right: i == 3 || i == 5 || i == 6}
		if i == 2 && !s.detailed {
			cells[1].w += colW[2]
			continue
		}
		cells = append(cells, c)
	}
	return s.row(rowHeader, cells)
}

// newPage starts a page of the current statement with its header and footer.
func (s *pdfSink) newPage() error {
	if err := s.doc.AddPage(); err != nil {
		return err
	}
	s.page++
	if err := s.footer(); err != nil {
		return err
	}
	if s.page == 1 {
		return s.statementHeader()
	}
	return s.runningHeader()
}

// text writes t, cut to fit w, with its top at y.
func (s *pdfSink) text(font int, size float64, color pdfw.Color, x, y, w float64, align int, t string) {
	t = s.fit(font, size, t, w)
	if align == alignRight {
		x += w - s.width(font, size, t)
	}
	s.doc.Text(s.fonts[font], size, color, x, y, t)
}

var (
	ink   = pdfw.Color{20, 30, 40}
	muted = pdfw.Color{100, 110, 120}
	navy  = pdfw.Color{52, 73, 94}
)

// statementHeader: provider and title, customer, period and time zone,
// and the notice that this is not an invoice.
func (s *pdfSink) statementHeader() error {
	st, c := s.st, s.cust
	from, to := st.Period(s.loc) // a month by name is the customer's own
	half := tableWidth / 2
	provider := st.Provider
	if provider == "" {
		provider = "Billing statement"
	}
	y := marginTop
	s.text(fontBold, 16, navy, marginX, y, half, alignLeft, provider)
	title := "Billing statement"
	if s.inSummary {
		title = "Billing summary"
	}
	s.text(fontBold, 16, muted, marginX+half, y, half, alignRight, title)
	y += 26
	name := c.Name
	if name == "" {
		name = c.ID
	}
	s.text(fontBold, 12, ink, marginX, y, half, alignLeft, name)
	y += 18
	ids := "Customer ID: " + c.ID
	if c.ExternalID != "" {
		ids += "    External ID: " + c.ExternalID
	}
	if s.inSummary {
		ids = s.summaryIDs()
	}
	left := []string{ids, "Period: " + periodText(from, to, s.loc), "Time zone: " + s.zone, quantityNote}
	right := []string{"Generated: " + stamp(st.GeneratedAt, time.UTC), "Granularity: " + orDash(st.Granularity), "Grouped by: " + orDash(strings.Join(st.GroupBy, ", ")), ""}
	for i := range left {
		s.text(fontRegular, 9, ink, marginX, y, half, alignLeft, left[i])
		s.text(fontRegular, 9, muted, marginX+half, y, half, alignRight, right[i])
		y += 13
	}
	y += 4
	notice := pdfw.Color{102, 77, 3}
	s.doc.FillRect(pdfw.Color{255, 243, 205}, marginX, y, tableWidth, 20)
	s.text(fontBold, 10, notice, marginX+8, y+5, tableWidth/2, alignLeft, NotInvoiceNotice)
	s.text(fontRegular, 8, notice, marginX+tableWidth/2, y+6, tableWidth/2-8, alignRight,
		"Each amount is rounded once to the currency's minor unit; totals are sums of the lines.")
	s.y = y + 30
	return nil
}

func (s *pdfSink) runningHeader() error {
	name := s.cust.Name
	if name == "" {
		name = s.cust.ID
	}
	from, to := s.st.Period(s.loc)
	t := strings.Join([]string{orDash(s.st.Provider), name, span(from, to, s.loc) + " (" + s.zone + ")"}, " — ")
	s.text(fontBold, 9, navy, marginX, marginTop, tableWidth, alignLeft, t)
	s.y = marginTop + 18
	return nil
}

// footer: the notice and "Page X of Y", Y filled in when the statement ends.
func (s *pdfSink) footer() error {
	s.doc.Line(pdfw.Color{200, 205, 210}, 0.5, marginX, footerY-4, marginX+tableWidth, footerY-4)
	name := s.cust.Name
	if name == "" {
		name = s.cust.ID
	}
	s.text(fontRegular, footerSize, muted, marginX, footerY, tableWidth*0.75, alignLeft,
		orDash(s.st.Provider)+" · "+name+" · "+NotInvoiceNotice)
	label := "Page " + strconv.Itoa(s.page) + " of "
	lw := s.width(fontRegular, footerSize, label)
	const reserve = 14 // room for the page count
	s.doc.Text(s.fonts[fontRegular], footerSize, muted, marginX+tableWidth-reserve-lw, footerY, label)
	return s.doc.Placeholder(s.pagesName(), s.fonts[fontRegular], footerSize, muted, marginX+tableWidth-reserve, footerY, reserve)
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// periodText is the statement's period in words a person reads: a month
// also by its first and last day ("Apr 2026 (2026-04-01 – 2026-04-30)"),
// anything else as span writes it.
func periodText(from, to time.Time, loc *time.Location) string {
	p := span(from, to, loc)
	if f, t := from.In(loc), to.In(loc); midnight(f) && midnight(t) && f.Day() == 1 && t.Equal(f.AddDate(0, 1, 0)) {
		p += " (" + f.Format("2006-01-02") + " – " + t.AddDate(0, 0, -1).Format("2006-01-02") + ")"
	}
	return p
}

// stamp is a local date and time with the zone's abbreviation.
func stamp(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

// span is a readable [start, end) in loc: "Apr 2026", "2026-04-01",
// "2026-04-01 – 2026-04-15" (whole days, last day inclusive),
// "2026-04-01 13:00–14:00" or "2026-04-01 13:00 – 2026-04-03 08:00".
func span(start, end time.Time, loc *time.Location) string {
	s, e := start.In(loc), end.In(loc)
	const day, clock = "2006-01-02", "15:04"
	if midnight(s) && midnight(e) && e.After(s) {
		switch {
		case s.Day() == 1 && e.Equal(s.AddDate(0, 1, 0)):
			return s.Format("Jan 2006")
		case e.Equal(s.AddDate(0, 0, 1)):
			return s.Format(day)
		}
		return s.Format(day) + " – " + e.AddDate(0, 0, -1).Format(day)
	}
	if s.Format(day) == e.Format(day) {
		return s.Format(day+" "+clock) + "–" + e.Format(clock)
	}
	if midnight(e) && s.Format(day) == e.AddDate(0, 0, -1).Format(day) {
		return s.Format(day+" "+clock) + "–24:00"
	}
	return s.Format(day+" "+clock) + " – " + e.Format(day+" "+clock)
}

var currencySymbols = map[string]string{"EUR": "€", "USD": "$", "GBP": "£"}

// moneyText writes a plain decimal string for people: digits grouped by
// thousands and the currency as a symbol ("€1,234.50") or a code
// ("1,234.50 SEK"). The digits are the exact ones of the data.
func moneyText(currency, plain string) string {
	neg := strings.HasPrefix(plain, "-")
	v := groupDigits(strings.TrimPrefix(plain, "-"))
	if sym, ok := currencySymbols[currency]; ok {
		v = sym + v
	} else {
		v += " " + currency
	}
	if neg {
		v = "−" + v
	}
	return v
}

// groupDigits separates thousands of a plain decimal's integer part.
func groupDigits(plain string) string {
	sign := ""
	if strings.HasPrefix(plain, "-") {
		sign, plain = "−", plain[1:]
	}
	intPart, frac, hasFrac := strings.Cut(plain, ".")
	var b strings.Builder
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if hasFrac {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return sign + b.String()
}
