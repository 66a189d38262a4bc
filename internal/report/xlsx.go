package report

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"
)

// xlsxSink writes one sheet per customer with excelize's StreamWriter:
// a frozen, filtered header row, one row per line with numbers typed as
// numbers, then a totals row per currency. With several customers a last
// "Totals" sheet lists every customer's totals and the grand totals.
//
// StreamWriter takes column widths only before the first row, so each
// sheet holds back its first widthRows rows to measure them (header
// included, capped at maxColWidth characters); later rows take what they
// get. Rows go to excelize's buffer, which spills to a temporary file past
// 16 MiB; the zip is written to w at the end.
type xlsxSink struct {
	w      io.Writer
	f      *excelize.File
	used   map[string]bool // sheet names, case-folded: Excel ignores case
	sheets int

	sw      *excelize.StreamWriter
	sheet   string
	row     int     // last row written
	pending [][]any // rows held back until the widths are known
	widths  [numColumns]float64
	all     []Total // every customer's totals, for the Totals sheet
	names   map[string]string
	loc     *time.Location // the current customer's billing time zone

	header, bold, date int
	decimals           map[int]int    // style of a number with n decimals
	amount, boldAmount map[string]int // style of an amount per currency
	textRow            [numColumns]string
}

const (
	widthRows    = 200
	maxColWidth  = 60
	sheetNameMax = 31 // Excel's limit
	maxSheetRows = 1_048_576
)

func newXLSXSink(w io.Writer) *xlsxSink {
	return &xlsxSink{w: w, used: map[string]bool{}, names: map[string]string{},
		decimals: map[int]int{}, amount: map[string]int{}, boldAmount: map[string]int{}}
}

func (s *xlsxSink) begin(*Statement) error {
	s.f = excelize.NewFile()
	var err error
	if s.header, err = s.f.NewStyle(&excelize.Style{
		Font:   &excelize.Font{Bold: true},
		Fill:   excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDE3EA"}},
		Border: []excelize.Border{{Type: "bottom", Color: "7F8C99", Style: 1}},
	}); err != nil {
		return err
	}
	if s.bold, err = s.f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}}); err != nil {
		return err
	}
	fmtDate := "yyyy-mm-dd hh:mm"
	s.date, err = s.f.NewStyle(&excelize.Style{CustomNumFmt: &fmtDate})
	return err
}

// close removes excelize's temporary files.
func (s *xlsxSink) close() error {
	if s.f == nil {
		return nil
	}
	return s.f.Close()
}

// numberStyle formats a number with exactly n decimals, so that a quantity
// or unit price shows as many digits as it has.
func (s *xlsxSink) numberStyle(n int) (int, error) {
	if id, ok := s.decimals[n]; ok {
		return id, nil
	}
	f := "#,##0"
	if n > 0 {
		f += "." + strings.Repeat("0", n)
	}
	id, err := s.f.NewStyle(&excelize.Style{CustomNumFmt: &f})
	s.decimals[n] = id
	return id, err
}

// amountStyle formats an amount with its currency's minor units and code.
func (s *xlsxSink) amountStyle(currency string, bold bool) (int, error) {
	cache := s.amount
	if bold {
		cache = s.boldAmount
	}
	if id, ok := cache[currency]; ok {
		return id, nil
	}
	f := "#,##0"
	if n := currencyScale(currency); n > 0 {
		f += "." + strings.Repeat("0", int(n))
	}
	f += ` "` + currency + `"`
	st := &excelize.Style{CustomNumFmt: &f}
	if bold {
		st.Font = &excelize.Font{Bold: true}
	}
	id, err := s.f.NewStyle(st)
	cache[currency] = id
	return id, err
}

func (s *xlsxSink) beginCustomer(c *CustomerInfo) error {
	name := s.sheetName(c.Name, c.ID)
	s.names[c.ID] = c.Name
	if err := s.newSheet(name); err != nil {
		return err
	}
	s.loc = location(c.TimeZone)
	hdr := make([]any, numColumns)
	for i, col := range columns {
		title := col.title
		switch i { // times are the customer's wall clock, its zone named
		case colStart:
			title = "Start (" + s.loc.String() + ")"
		case colEnd:
			title = "End (" + s.loc.String() + ")"
		}
		hdr[i] = excelize.Cell{StyleID: s.header, Value: title}
		s.widths[i] = max(col.width, float64(utf8.RuneCountInString(title))+3) // +3: the filter button
	}
	s.pending = append(s.pending[:0], hdr)
	return nil
}

func (s *xlsxSink) newSheet(name string) error {
	if s.sheets == 0 {
		if err := s.f.SetSheetName("Sheet1", name); err != nil {
			return err
		}
	} else if _, err := s.f.NewSheet(name); err != nil {
		return err
	}
	s.sheets++
	s.sheet, s.row = name, 0
	var err error
	if s.sw, err = s.f.NewStreamWriter(name); err != nil {
		return err
	}
	return s.sw.SetPanes(&excelize.Panes{
		Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}},
	})
}

// sheetName makes a valid, unique sheet name from a customer's name.
func (s *xlsxSink) sheetName(name, id string) string {
	if name == "" {
		name = id
	}
	name = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`[]:*?/\`, r) || r < ' ' {
			return '_'
		}
		return r
	}, name)
	name = strings.Trim(name, "' ")
	if name == "" || strings.EqualFold(name, "Totals") {
		name = "Customer"
	}
	base := name
	for i := 2; ; i++ {
		name = truncateRunes(name, sheetNameMax)
		if !s.used[strings.ToLower(name)] {
			break
		}
		suffix := " (" + strconv.Itoa(i) + ")"
		name = truncateRunes(base, sheetNameMax-len(suffix)) + suffix
	}
	s.used[strings.ToLower(name)] = true
	return name
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

func (s *xlsxSink) line(c *CustomerInfo, l *Line) error {
	textFields(&s.textRow, c, l)
	row := make([]any, numColumns)
	for i, v := range s.textRow {
		if v != "" {
			row[i] = v
		}
	}
	var err error
	q, p := decimals(l.Quantity), decimals(l.UnitPrice)
	qs, err1 := s.numberStyle(q)
	ps, err2 := s.numberStyle(p)
	as, err3 := s.amountStyle(l.Currency, false)
	if err = errors.Join(err1, err2, err3); err != nil {
		return err
	}
	row[colStart] = excelize.Cell{StyleID: s.date, Value: wallClock(l.Start, s.loc)}
	row[colEnd] = excelize.Cell{StyleID: s.date, Value: wallClock(l.End, s.loc)}
	row[colQuantity] = excelize.Cell{StyleID: qs, Value: l.Quantity.InexactFloat64()}
	row[colUnitPrice] = excelize.Cell{StyleID: ps, Value: l.UnitPrice.InexactFloat64()}
	row[colAmount] = excelize.Cell{StyleID: as, Value: l.Amount.InexactFloat64()}
	if s.pending == nil {
		return s.writeRow(row)
	}
	for i, v := range s.textRow {
		w := float64(utf8.RuneCountInString(v)) + 2
		switch i {
		case colStart, colEnd:
			w = 18
		case colQuantity, colUnitPrice, colAmount:
			w = float64(len(v)+len(v)/3) + 2 // thousands separators
			if i == colAmount {
				w += float64(len(l.Currency)) + 1
			}
		}
		s.widths[i] = min(max(s.widths[i], w), maxColWidth)
	}
	s.pending = append(s.pending, row)
	if len(s.pending) >= widthRows {
		return s.release()
	}
	return nil
}

// decimals is the number of digits after the point of d's plain notation.
func decimals(d decimal.Decimal) int {
	str := d.String()
	if i := strings.IndexByte(str, '.'); i >= 0 {
		return min(len(str)-i-1, 15) // a float64 holds 15 significant digits
	}
	return 0
}

// release sets the column widths and writes the rows held back.
func (s *xlsxSink) release() error {
	if s.pending == nil {
		return nil
	}
	for i, w := range s.widths {
		if err := s.sw.SetColWidth(i+1, i+1, w); err != nil {
			return err
		}
	}
	rows := s.pending
	s.pending = nil
	for _, r := range rows {
		if err := s.writeRow(r); err != nil {
			return err
		}
	}
	return nil
}

func (s *xlsxSink) writeRow(values []any, opts ...excelize.RowOpts) error {
	if s.row >= maxSheetRows {
		return fmt.Errorf("report: sheet %q would have more than %d rows; export CSV instead", s.sheet, maxSheetRows)
	}
	s.row++
	cell, err := excelize.CoordinatesToCellName(1, s.row)
	if err != nil {
		return err
	}
	return s.sw.SetRow(cell, values, opts...)
}

func (s *xlsxSink) endCustomer(c *CustomerInfo, totals []Total) error {
	if err := s.release(); err != nil {
		return err
	}
	last := s.row // the last line's row; 1 when there are none
	lastCol, _ := excelize.ColumnNumberToName(numColumns)
	if err := s.f.AutoFilter(s.sheet, "A1:"+lastCol+strconv.Itoa(max(last, 2)), nil); err != nil {
		return err
	}
	if err := s.totalRows(totals, last); err != nil {
		return err
	}
	s.all = append(s.all, totals...)
	return s.sw.Flush()
}

// totalRows writes, after an empty row, one row per currency: a label, the
// currency and the amount as a SUMIFS formula over the line rows, with its
// value cached so that readers which do not compute formulas see it.
func (s *xlsxSink) totalRows(totals []Total, last int) error {
	if len(totals) == 0 {
		return s.writeRow([]any{"No billing lines in this period."})
	}
	s.row++ // empty row between lines and totals
	amountCol, _ := excelize.ColumnNumberToName(colAmount + 1)
	curCol, _ := excelize.ColumnNumberToName(colCurrency + 1)
	for _, t := range totals {
		st, err := s.amountStyle(t.Currency, true)
		if err != nil {
			return err
		}
		row := make([]any, numColumns)
		row[0] = excelize.Cell{StyleID: s.bold, Value: totalLabel(t)}
		row[colCurrency] = excelize.Cell{StyleID: s.bold, Value: t.Currency}
		row[colAmount] = excelize.Cell{StyleID: st, Value: t.Amount.InexactFloat64(),
			Formula: fmt.Sprintf(`SUMIFS(%[1]s2:%[1]s%[3]d,%[2]s2:%[2]s%[3]d,"%[4]s")`, amountCol, curCol, last, t.Currency)}
		if err := s.writeRow(row); err != nil {
			return err
		}
	}
	return nil
}

// totalLabel is "Total EUR (12 lines)".
func totalLabel(t Total) string {
	unit := "lines"
	if t.Lines == 1 {
		unit = "line"
	}
	return fmt.Sprintf("Total %s (%d %s)", t.Currency, t.Lines, unit)
}

func (s *xlsxSink) end(grand []Total) error {
	if s.sheets == 0 { // no customers at all: an empty sheet with the header
		if err := s.beginCustomer(&CustomerInfo{Name: "Billing"}); err != nil {
			return err
		}
		if err := s.endCustomer(nil, nil); err != nil {
			return err
		}
	}
	if s.sheets > 1 {
		if err := s.totalsSheet(grand); err != nil {
			return err
		}
	}
	_, err := s.f.WriteTo(s.w)
	return err
}

// totalsSheet lists every customer's totals, then the grand totals.
func (s *xlsxSink) totalsSheet(grand []Total) error {
	name := "Totals"
	s.used[strings.ToLower(name)] = true
	if err := s.newSheet(name); err != nil {
		return err
	}
	titles := []string{"Customer ID", "Customer", "Currency", "Lines", "Amount"}
	hdr := make([]any, len(titles))
	for i, t := range titles {
		hdr[i] = excelize.Cell{StyleID: s.header, Value: t}
	}
	for i, w := range []float64{16, max(20, s.longestName()+2), 10, 10, 20} {
		if err := s.sw.SetColWidth(i+1, i+1, w); err != nil {
			return err
		}
	}
	if err := s.writeRow(hdr); err != nil {
		return err
	}
	for _, t := range s.all {
		st, err := s.amountStyle(t.Currency, false)
		if err != nil {
			return err
		}
		if err := s.writeRow([]any{t.CustomerID, s.names[t.CustomerID], t.Currency, t.Lines,
			excelize.Cell{StyleID: st, Value: t.Amount.InexactFloat64()}}); err != nil {
			return err
		}
	}
	s.row++
	for _, t := range grand {
		st, err := s.amountStyle(t.Currency, true)
		if err != nil {
			return err
		}
		if err := s.writeRow([]any{excelize.Cell{StyleID: s.bold, Value: "Total"}, nil,
			excelize.Cell{StyleID: s.bold, Value: t.Currency}, excelize.Cell{StyleID: s.bold, Value: t.Lines},
			excelize.Cell{StyleID: st, Value: t.Amount.InexactFloat64()}}); err != nil {
			return err
		}
	}
	if err := s.f.AutoFilter(name, "A1:E"+strconv.Itoa(max(len(s.all)+1, 2)), nil); err != nil {
		return err
	}
	return s.sw.Flush()
}

func (s *xlsxSink) longestName() float64 {
	n := 0
	for _, v := range s.names {
		n = max(n, utf8.RuneCountInString(v))
	}
	return float64(min(n, maxColWidth))
}

// wallClock is t's date and time in loc as Excel keeps them: a number of
// days with no zone (excelize converts from UTC, so the wall clock is
// handed over as UTC).
func wallClock(t time.Time, loc *time.Location) time.Time {
	w := t.In(loc)
	return time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), time.UTC)
}
