package report

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

func openXLSX(t *testing.T, data []byte) *excelize.File {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("open XLSX: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func cellName(col, row int) string {
	c, err := excelize.CoordinatesToCellName(col+1, row)
	if err != nil {
		panic(err)
	}
	return c
}

var totalLabelRE = regexp.MustCompile(`^Total ([A-Z]{3}) \((\d+) lines?\)$`)

func TestXLSX(t *testing.T) {
	data := render(t, XLSX, Options{})
	f := openXLSX(t, data)
	st := sampleStatement()
	sheets := f.GetSheetList()
	if want := []string{"Acme Oy", "Globex Corporation (Nordics)", "Totals"}; !slices.Equal(sheets, want) {
		t.Fatalf("sheets %q, want %q", sheets, want)
	}
	var lines []Line
	var totals []Total
	for i, c := range st.Customers {
		sheet := sheets[i]
		sheetLines, sheetTotals := readSheet(t, f, sheet, c)
		lines = append(lines, sheetLines...)
		totals = append(totals, sheetTotals...)
	}
	sameLines(t, lines)
	sameTotals(t, totals, "acme", "globex")
	sameTotals(t, sumLines(lines), "")

	// The Totals sheet: per customer, then the grand totals.
	rows, err := f.GetRows("Totals", excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []Total
	for _, r := range rows[1:] {
		if len(r) < 5 {
			continue
		}
		id := r[0]
		if id == "Total" {
			id = ""
		}
		n, _ := strconv.ParseInt(r[3], 10, 64)
		got = append(got, Total{CustomerID: id, Currency: r[2], Amount: mustDecimal(t, r[4]).Round(2), Lines: n})
	}
	sameTotals(t, got, "", "acme", "globex")

	// Every sheet's header row is frozen and filtered: the pane, the
	// autoFilter element and Excel's _FilterDatabase name.
	names := map[string]string{}
	for _, dn := range f.GetDefinedName() {
		if dn.Name == "_xlnm._FilterDatabase" {
			names[dn.Scope] = dn.RefersTo
		}
	}
	for _, sheet := range sheets {
		p, err := f.GetPanes(sheet)
		if err != nil {
			t.Fatal(err)
		}
		if !p.Freeze || p.YSplit != 1 || p.XSplit != 0 || p.TopLeftCell != "A2" {
			t.Errorf("%s: panes %+v, want the first row frozen", sheet, p)
		}
		if !strings.HasPrefix(names[sheet], "'"+sheet+"'!$A$1:") {
			t.Errorf("%s: filter database %q", sheet, names[sheet])
		}
	}
	filters := sheetXMLs(t, data, `<autoFilter ref="([$A-Z0-9]+:[$A-Z0-9]+)"`)
	if want := []string{"$A$1:$AC$15", "$A$1:$AC$11", "$A$1:$E$4"}; !slices.Equal(filters, want) {
		t.Errorf("autoFilter refs %q, want %q", filters, want)
	}
}

// readSheet reads one customer's sheet: typed cells, then the totals rows.
func readSheet(t *testing.T, f *excelize.File, sheet string, c CustomerInfo) ([]Line, []Total) {
	t.Helper()
	rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	loc := location(c.TimeZone)
	for i, col := range columns {
		want := col.title
		if i == colStart || i == colEnd {
			want += " (" + loc.String() + ")" // wall-clock times in the customer's zone
		}
		if rows[0][i] != want {
			t.Errorf("%s: header %d %q, want %q", sheet, i, rows[0][i], want)
		}
	}
	cell := func(r []string, i int) string {
		if i < len(r) {
			return r[i]
		}
		return ""
	}
	var lines []Line
	var totals []Total
	for n, r := range rows[1:] {
		row := n + 2
		if len(r) == 0 {
			continue
		}
		if m := totalLabelRE.FindStringSubmatch(r[0]); m != nil {
			cnt, _ := strconv.ParseInt(m[2], 10, 64)
			formula, _ := f.GetCellFormula(sheet, cellName(colAmount, row))
			if !strings.HasPrefix(formula, "SUMIFS(") {
				t.Errorf("%s row %d: formula %q", sheet, row, formula)
			}
			checkNumber(t, f, sheet, cellName(colAmount, row), `"`+m[1]+`"`)
			totals = append(totals, Total{CustomerID: c.ID, Currency: cell(r, colCurrency),
				Amount: mustDecimal(t, cell(r, colAmount)).Round(currencyScale(m[1])), Lines: cnt})
			continue
		}
		for _, col := range []int{colQuantity, colUnitPrice, colAmount, colStart, colEnd} {
			checkNumber(t, f, sheet, cellName(col, row), "")
		}
		cur := cell(r, colCurrency)
		checkNumber(t, f, sheet, cellName(colAmount, row), fmt.Sprintf(`#,##0.00 "%s"`, cur))
		if cell(r, colCustomerName) != c.Name {
			t.Errorf("%s row %d: customer %q", sheet, row, cell(r, colCustomerName))
		}
		dims, _ := url.ParseQuery(cell(r, colDimensions))
		l := Line{
			CustomerID: cell(r, colCustomerID), OrganisationID: cell(r, colOrganisationID), VdcID: cell(r, colVdcID),
			Site: cell(r, colSite), ResourceID: cell(r, colResourceID), ProductGroupID: cell(r, colProductGroupID),
			ProductGroupName: cell(r, colProductGroupName), ProductID: cell(r, colProductID),
			ProductName: cell(r, colProductName), MetricKey: cell(r, colMetricKey), Model: cell(r, colModel),
			Granularity: cell(r, colGranularity), Start: inZone(excelTime(t, cell(r, colStart)), loc), End: inZone(excelTime(t, cell(r, colEnd)), loc),
			Quantity: mustDecimal(t, cell(r, colQuantity)), Unit: cell(r, colUnit),
			UnitPrice: mustDecimal(t, cell(r, colUnitPrice)),
			// A float64 with 15 significant digits: exact for these amounts.
			Amount: mustDecimal(t, cell(r, colAmount)), Currency: cur,
			PriceListID: cell(r, colPriceListID), PriceID: cell(r, colPriceID), CampaignID: cell(r, colCampaignID),
			ContractID: cell(r, colContractID), Description: cell(r, colDescription),
			AdjustedMonth: cell(r, colAdjustedMonth), AdjustmentCause: cell(r, colAdjustmentCause),
		}
		for k, v := range dims {
			if l.Dimensions == nil {
				l.Dimensions = map[string]string{}
			}
			l.Dimensions[k] = v[0]
		}
		lines = append(lines, l)
	}
	// Widths fit the content: the description column is as wide as the
	// longest description (plus padding), the quantity column wider than
	// its title.
	if w, _ := f.GetColWidth(sheet, "AA"); c.ID == "acme" && w < float64(len([]rune(sampleLines()[13].Description))) {
		t.Errorf("%s: description column %.0f wide", sheet, w)
	}
	return lines, totals
}

// checkNumber asserts a cell is a number (not text), optionally with a
// number format containing fmtPart.
func checkNumber(t *testing.T, f *excelize.File, sheet, cell, fmtPart string) {
	t.Helper()
	typ, err := f.GetCellType(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	if typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber && typ != excelize.CellTypeFormula {
		t.Errorf("%s!%s has type %v, want a number", sheet, cell, typ)
	}
	raw, _ := f.GetCellValue(sheet, cell, excelize.Options{RawCellValue: true})
	if _, err := strconv.ParseFloat(raw, 64); err != nil {
		t.Errorf("%s!%s = %q, not a number", sheet, cell, raw)
	}
	if fmtPart == "" {
		return
	}
	id, _ := f.GetCellStyle(sheet, cell)
	st, err := f.GetStyle(id)
	if err != nil || st.CustomNumFmt == nil || !strings.Contains(*st.CustomNumFmt, fmtPart) {
		t.Errorf("%s!%s: number format %v, want one with %s", sheet, cell, st, fmtPart)
	}
}

// inZone reads a wall-clock time (held as UTC) as one in loc.
func inZone(wall time.Time, loc *time.Location) time.Time {
	return time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), wall.Nanosecond(), loc).UTC()
}

func excelTime(t *testing.T, raw string) time.Time {
	t.Helper()
	v, err := strconv.ParseFloat(raw, 64)
	if err != nil {
		t.Errorf("date %q is not a number", raw)
		return time.Time{}
	}
	tm, err := excelize.ExcelDateToTime(v, false)
	if err != nil {
		t.Error(err)
	}
	return tm.Round(time.Second).UTC()
}

// sheetXMLs returns the first submatch of re in each worksheet, in order.
func sheetXMLs(t *testing.T, data []byte, re string) []string {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	rx := regexp.MustCompile(re)
	var out []string
	for i := 1; ; i++ {
		fh, err := z.Open(fmt.Sprintf("xl/worksheets/sheet%d.xml", i))
		if err != nil {
			return out
		}
		b, _ := io.ReadAll(fh)
		fh.Close()
		if m := rx.FindSubmatch(b); m != nil {
			out = append(out, string(m[1]))
		} else {
			out = append(out, "")
		}
	}
}

func TestXLSXOneCustomer(t *testing.T) {
	st := sampleStatement()
	st.Customers = st.Customers[:1]
	var buf bytes.Buffer
	src := SliceSource(st, sampleLines()[:14], nil)
	if err := Write(t.Context(), &buf, XLSX, src, Options{}); err != nil {
		t.Fatal(err)
	}
	f := openXLSX(t, buf.Bytes())
	if got := f.GetSheetList(); !slices.Equal(got, []string{"Acme Oy"}) {
		t.Errorf("sheets %q, want one sheet and no Totals sheet", got)
	}
}

func TestXLSXSheetNames(t *testing.T) {
	s := newXLSXSink(io.Discard)
	for _, c := range []struct{ name, want string }{
		{"Acme", "Acme"},
		{"acme", "acme (2)"},
		{"A/B: C? [x]*", "A_B_ C_ _x__"},
		{"Totals", "Customer"},
		{"", "id-1"},
		{"A very long customer name that does not fit", "A very long customer name that "},
		{"A very long customer name that does not fit either", "A very long customer name t (2)"},
	} {
		id := "id-1"
		if got := s.sheetName(c.name, id); got != c.want {
			t.Errorf("sheetName(%q) = %q, want %q", c.name, got, c.want)
		}
	}
}
