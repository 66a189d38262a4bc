package report

import (
	"strconv"
	"strings"
	"time"

	"github.com/signintech/gopdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
)

// Page geometry in points: A4 landscape, so that the table fits one line
// per billing line.
var pageSize = gopdf.Rect{W: 841.89, H: 595.28}

const (
	marginX    = 36.0
	marginTop  = 32.0
	footerY    = 595.28 - 28  // top of the footer text
	bodyBottom = footerY - 16 // rows end above this
	tableWidth = 841.89 - 2*marginX
	pad        = 3.0 // horizontal padding inside a cell
	footerSize = 7.5
	goAscent   = 1579.0 / 2048 // typographic ascender of the Go fonts, in em

	fontRegular = "go"
	fontBold    = "go-bold"
)

// Column widths of the table: period, product, details, quantity, unit,
// unit price, amount (sum: tableWidth).
var colW = [7]float64{122, 150, 224.89, 82, 58, 66, 67}

var colTitles = [7]string{"Period", "Product", "Details", "Quantity", "Unit", "Unit price", "Amount"}

// loadFonts embeds the Go fonts (a humanist sans-serif with €, £, – and …),
// so the PDF depends on nothing installed.
func loadFonts(gp *gopdf.GoPdf) error {
	if err := gp.AddTTFFontData(fontRegular, goregular.TTF); err != nil {
		return err
	}
	return gp.AddTTFFontData(fontBold, gobold.TTF)
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
	font       string
	size       float64
	lineHeight float64 // per text line
	padY       float64
	fill       [3]uint8 // background; zero: none
	color      [3]uint8 // text
	rule       [3]uint8 // bottom rule; zero: none
	indent     float64  // of the first cell
}

var rowStyles = map[rowKind]rowStyle{
	rowHeader:     {font: fontBold, size: 8, lineHeight: 10, padY: 3, fill: [3]uint8{52, 73, 94}, color: [3]uint8{255, 255, 255}},
	rowCaption:    {font: fontBold, size: 9, lineHeight: 11, padY: 3, fill: [3]uint8{221, 227, 234}, color: [3]uint8{20, 30, 40}},
	rowModel:      {font: fontBold, size: 8, lineHeight: 10, padY: 2, color: [3]uint8{52, 73, 94}, indent: 6},
	rowLine:       {font: fontRegular, size: 8, lineHeight: 10, padY: 2, color: [3]uint8{20, 20, 20}, rule: [3]uint8{228, 231, 235}, indent: 12},
	rowSubtotal:   {font: fontBold, size: 8, lineHeight: 10, padY: 2, color: [3]uint8{52, 73, 94}, fill: [3]uint8{245, 247, 249}, indent: 6},
	rowGroupTotal: {font: fontBold, size: 8.5, lineHeight: 11, padY: 3, color: [3]uint8{20, 30, 40}, fill: [3]uint8{234, 238, 242}, rule: [3]uint8{127, 140, 153}},
	rowTotal:      {font: fontBold, size: 10, lineHeight: 12, padY: 4, color: [3]uint8{255, 255, 255}, fill: [3]uint8{52, 73, 94}},
	rowNote:       {font: fontRegular, size: 8, lineHeight: 10, padY: 4, color: [3]uint8{90, 90, 90}},
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
	_ = s.gp.SetFont(st.font, "", st.size)
	n := 1
	for _, c := range s.lineCells(l) {
		if c.lines > 1 {
			n = max(n, len(s.wrap(c.text, c.w-2*pad, c.lines)))
		}
	}
	return float64(n)*st.lineHeight + 2*st.padY
}

// row draws one table row at s.y, breaking the page first if it does not fit.
func (s *pdfSink) row(kind rowKind, cells []pdfCell) error {
	st := rowStyles[kind]
	if err := s.gp.SetFont(st.font, "", st.size); err != nil {
		return err
	}
	texts := make([][]string, len(cells))
	n := 1
	for i, c := range cells {
		w := c.w - 2*pad
		if i == 0 {
			w -= st.indent
		}
		if c.lines > 1 {
			texts[i] = s.wrap(c.text, w, c.lines)
		} else {
			texts[i] = []string{c.text}
			if !c.right {
				texts[i][0] = s.fit(c.text, w)
			}
		}
		n = max(n, len(texts[i]))
	}
	h := float64(n)*st.lineHeight + 2*st.padY
	if s.y+h > bodyBottom {
		if err := s.breakPage(); err != nil {
			return err
		}
		if err := s.gp.SetFont(st.font, "", st.size); err != nil {
			return err
		}
	}
	if st.fill != [3]uint8{} {
		s.gp.SetFillColor(st.fill[0], st.fill[1], st.fill[2])
		s.gp.RectFromUpperLeftWithStyle(marginX, s.y, tableWidth, h, "F")
	}
	if st.rule != [3]uint8{} {
		s.gp.SetStrokeColor(st.rule[0], st.rule[1], st.rule[2])
		s.gp.SetLineWidth(0.5)
		s.gp.Line(marginX, s.y+h, marginX+tableWidth, s.y+h)
	}
	s.gp.SetTextColor(st.color[0], st.color[1], st.color[2])
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
			opt := gopdf.CellOption{Align: gopdf.Left | gopdf.Top}
			size := st.size
			if c.right {
				opt.Align = gopdf.Right | gopdf.Top
				size = s.shrink(t, w, st.font, st.size)
			}
			s.gp.SetXY(left, s.y+st.padY+float64(k)*st.lineHeight+(st.lineHeight-st.size)/2)
			if err := s.gp.CellWithOption(&gopdf.Rect{W: w, H: st.size}, t, opt); err != nil {
				return err
			}
			if size != st.size {
				if err := s.gp.SetFont(st.font, "", st.size); err != nil {
					return err
				}
			}
		}
		x += c.w
	}
	s.y += h
	return nil
}

// shrink sets the font size at which t fits w (down to 60 %) and returns it.
func (s *pdfSink) shrink(t string, w float64, font string, size float64) float64 {
	for size > 0 {
		if tw, err := s.gp.MeasureTextWidth(t); err != nil || tw <= w || size <= 0.6*rowStyles[rowLine].size {
			return size
		}
		size -= 0.5
		_ = s.gp.SetFont(font, "", size)
	}
	return size
}

// fit cuts t with "…" to fit w in the current font.
func (s *pdfSink) fit(t string, w float64) string {
	if tw, err := s.gp.MeasureTextWidth(t); err != nil || tw <= w {
		return t
	}
	r := []rune(t)
	lo, hi := 0, len(r) // the longest prefix that fits with "…"
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if tw, _ := s.gp.MeasureTextWidth(string(r[:mid]) + "…"); tw <= w {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return strings.TrimRight(string(r[:lo]), " ") + "…"
}

// wrap breaks t into at most n lines of width w at spaces (inside words
// when a word is too long), the last line cut with "…" if needed.
func (s *pdfSink) wrap(t string, w float64, n int) []string {
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
		if tw, _ := s.gp.MeasureTextWidth(cand); tw <= w {
			line = cand
			continue
		}
		if line != "" {
			out = append(out, line)
		}
		line = word
		for len(out) < n {
			if tw, _ := s.gp.MeasureTextWidth(line); tw <= w {
				break
			}
			head := s.fit(line, w)
			head = strings.TrimSuffix(head, "…")
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
		out[n-1] = s.fit(strings.Join(out[n-1:], " "), w)
		out = out[:n]
	}
	if len(out) > 0 {
		out[len(out)-1] = s.fit(out[len(out)-1], w)
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
	s.gp.AddPage()
	s.page++
	if err := s.footer(); err != nil {
		return err
	}
	if s.page == 1 {
		return s.statementHeader()
	}
	return s.runningHeader()
}

func (s *pdfSink) text(font string, size float64, color [3]uint8, x, y, w float64, align int, t string) error {
	if err := s.gp.SetFont(font, "", size); err != nil {
		return err
	}
	s.gp.SetTextColor(color[0], color[1], color[2])
	s.gp.SetXY(x, y)
	return s.gp.CellWithOption(&gopdf.Rect{W: w, H: size}, s.fit(t, w), gopdf.CellOption{Align: align | gopdf.Top})
}

var (
	ink   = [3]uint8{20, 30, 40}
	muted = [3]uint8{100, 110, 120}
	navy  = [3]uint8{52, 73, 94}
)

// statementHeader: provider and title, customer, period and time zone,
// and the notice that this is not an invoice.
func (s *pdfSink) statementHeader() error {
	st, c := s.st, s.cust
	from, to := st.Period(s.loc)
	half := tableWidth / 2
	provider := st.Provider
	if provider == "" {
		provider = "Billing statement"
	}
	y := marginTop
	err := s.text(fontBold, 16, navy, marginX, y, half, gopdf.Left, provider)
	if err == nil {
		err = s.text(fontBold, 16, muted, marginX+half, y, half, gopdf.Right, "Billing statement")
	}
	y += 26
	name := c.Name
	if name == "" {
		name = c.ID
	}
	if err == nil {
		err = s.text(fontBold, 12, ink, marginX, y, half, gopdf.Left, name)
	}
	y += 18
	ids := "Customer ID: " + c.ID
	if c.ExternalID != "" {
		ids += "    External ID: " + c.ExternalID
	}
	left := []string{ids, "Period: " + span(from, to, s.loc) + " (end exclusive: " + stamp(to, s.loc) + ")", "Time zone: " + s.zone}
	right := []string{"Generated: " + stamp(st.GeneratedAt, time.UTC), "Granularity: " + orDash(st.Granularity), "Grouped by: " + orDash(strings.Join(st.GroupBy, ", "))}
	for i := range left {
		if err == nil {
			err = s.text(fontRegular, 9, ink, marginX, y, half, gopdf.Left, left[i])
		}
		if err == nil {
			err = s.text(fontRegular, 9, muted, marginX+half, y, half, gopdf.Right, right[i])
		}
		y += 13
	}
	y += 4
	s.gp.SetFillColor(255, 243, 205)
	s.gp.RectFromUpperLeftWithStyle(marginX, y, tableWidth, 20, "F")
	if err == nil {
		err = s.text(fontBold, 10, [3]uint8{102, 77, 3}, marginX+8, y+5, tableWidth/2, gopdf.Left, NotInvoiceNotice)
	}
	if err == nil {
		err = s.text(fontRegular, 8, [3]uint8{102, 77, 3}, marginX+tableWidth/2, y+6, tableWidth/2-8, gopdf.Right,
			"Each amount is rounded once to the currency's minor unit; totals are sums of the lines.")
	}
	s.y = y + 30
	return err
}

func (s *pdfSink) runningHeader() error {
	name := s.cust.Name
	if name == "" {
		name = s.cust.ID
	}
	from, to := s.st.Period(s.loc)
	t := strings.Join([]string{orDash(s.st.Provider), name, span(from, to, s.loc) + " (" + s.zone + ")"}, " — ")
	if err := s.text(fontBold, 9, navy, marginX, marginTop, tableWidth, gopdf.Left, t); err != nil {
		return err
	}
	s.y = marginTop + 18
	return nil
}

// footer: the notice and "Page X of Y", Y filled in when the statement ends.
func (s *pdfSink) footer() error {
	s.gp.SetStrokeColor(200, 205, 210)
	s.gp.SetLineWidth(0.5)
	s.gp.Line(marginX, footerY-4, marginX+tableWidth, footerY-4)
	name := s.cust.Name
	if name == "" {
		name = s.cust.ID
	}
	if err := s.text(fontRegular, footerSize, muted, marginX, footerY, tableWidth*0.75, gopdf.Left,
		orDash(s.st.Provider)+" · "+name+" · "+NotInvoiceNotice); err != nil {
		return err
	}
	label := "Page " + strconv.Itoa(s.page) + " of "
	lw, err := s.gp.MeasureTextWidth(label)
	if err != nil {
		return err
	}
	const reserve = 14 // room for the page count
	s.gp.SetXY(marginX+tableWidth-reserve-lw, footerY)
	if err := s.gp.CellWithOption(&gopdf.Rect{W: lw, H: footerSize}, label, gopdf.CellOption{Align: gopdf.Left | gopdf.Top}); err != nil {
		return err
	}
	// A placeholder is drawn from its baseline, a cell from its top.
	s.gp.SetXY(marginX+tableWidth-reserve, footerY+footerSize*goAscent)
	return s.gp.PlaceHolderText(s.pagesName(), reserve)
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
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
