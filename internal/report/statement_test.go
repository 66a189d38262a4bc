package report

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// Statements a finance person reads (issue 18, item 15): what the PDF and
// the XLSX print, read back as a person would.

// onePDF renders lines of the sample's first customer as a PDF and returns
// its text.
func onePDF(t *testing.T, lines ...Line) string {
	t.Helper()
	st := sampleStatement()
	st.Customers = st.Customers[:1]
	var buf bytes.Buffer
	if err := Write(t.Context(), &buf, PDF, SliceSource(st, lines, nil), Options{}); err != nil {
		t.Fatal(err)
	}
	return pdfText(t, buf.Bytes())
}

// TestPDFQuantityDisplay: quantities are shown to at most three decimals
// (the exact ones are in the CSV, JSON and XML), and the statement says so.
func TestPDFQuantityDisplay(t *testing.T) {
	for _, c := range []struct{ exact, shown string }{
		{"63.087248322148", "63.087"},
		{"1440", "1,440"},
		{"12.5", "12.5"},
		{"0.0004", "<0.001"},
		{"-2.0005", "−2.001"}, // half away from zero
		{"1234567.1234", "1,234,567.123"},
		{"0", "0"},
	} {
		if got := quantityText(d(c.exact)); got != c.shown {
			t.Errorf("quantityText(%s) = %q, want %q", c.exact, got, c.shown)
		}
	}
	l := line("acme", "storage", "Storage", "gold", "Storage Gold", ModelPAYG, "63.087248322148", "GB-month", "2", "126.17", "EUR")
	text := onePDF(t, l)
	if strings.Contains(text, "63.087248322148") || !strings.Contains(text, "63.087 GB-month") {
		t.Errorf("quantity not shown as 63.087:\n%s", text)
	}
	if !strings.Contains(text, "Quantities are shown to 3 decimals") {
		t.Errorf("the statement does not state how quantities are shown:\n%s", text)
	}
}

// TestPDFDetailsNamesCampaignNotProduct: the details column does not
// repeat the product name that the product column shows, and a line a
// campaign priced names the campaign.
func TestPDFDetailsNamesCampaignNotProduct(t *testing.T) {
	plain := line("acme", "storage", "Storage", "gold", "Storage Gold", ModelPAYG, "10", "GB-month", "2", "20.00", "EUR")
	plain.Description = "Storage Gold"
	over := line("acme", "storage", "Storage", "gold", "Storage Gold", ModelOverage, "5", "GB-month", "3", "15.00", "EUR")
	over.Description = "Storage Gold — overage above 100 GB"
	adj := line("acme", "storage", "Storage", "gold", "Storage Gold", ModelAdjustment, "1", "GB-month", "2", "2.00", "EUR")
	adj.AdjustedMonth, adj.AdjustmentCause = "2026-03", CauseLateUsage
	adj.Description = "Adjustment to 2026-03 (usage received after the month was closed): Storage Gold"
	camp := line("acme", "compute", "Compute", "vcpu", "vCPU", ModelPAYG, "168", "vCPU-h", "0.005", "0.84", "EUR")
	camp.Description, camp.CampaignID = "vCPU", "spring-50"
	for _, c := range []struct {
		l    Line
		want string
	}{
		{plain, ""},
		{over, "overage above 100 GB"},
		{adj, "Adjustment to 2026-03 (usage received after the month was closed)"},
		{camp, "campaign spring-50"},
	} {
		if got := details(&c.l); got != c.want {
			t.Errorf("details of %q = %q, want %q", c.l.Description, got, c.want)
		}
	}
	text := onePDF(t, plain, over, adj, camp)
	if n := strings.Count(text, "Storage Gold"); n != 3 {
		t.Errorf("Storage Gold printed %d times, want 3 (the product column only):\n%s", n, text)
	}
	if !strings.Contains(text, "campaign spring-50") {
		t.Errorf("the campaign line does not name its campaign:\n%s", text)
	}
}

// sumRowRE is a subtotal or total row: label, line count, amount.
var sumRowRE = regexp.MustCompile(`^\s*((?:Subtotal|Total) .*?)\s+(\d+ lines?)\s+(?:[A-Z]{3}\s+)?(\S+)\s*$`)

// TestPDFNoRepeatedSubtotals: a subtotal that sums the same lines as the
// row after it (a group with one model, a statement with one group) is not
// printed; each figure appears once.
func TestPDFNoRepeatedSubtotals(t *testing.T) {
	one := line("acme", "backup", "Backup", "vm", "Protected VM", ModelPAYG, "12", "VM", "4.50", "54.00", "EUR")
	two := line("acme", "backup", "Backup", "lic", "Backup licence", ModelPAYG, "12", "licence", "3.75", "45.00", "EUR")
	vcpu := line("acme", "compute", "Compute", "vcpu", "vCPU", ModelPAYG, "80", "vCPU-h", "0.01", "0.80", "EUR")
	for name, text := range map[string]string{
		"one group, one model":  onePDF(t, one, two),
		"two groups, one model": onePDF(t, one, two, vcpu),
		"sample":                pdfText(t, render(t, PDF, Options{})),
	} {
		var prev []string
		for _, row := range strings.Split(text, "\n") {
			m := sumRowRE.FindStringSubmatch(row)
			if m == nil {
				if strings.TrimSpace(row) != "" {
					prev = nil
				}
				continue
			}
			if prev != nil && prev[2] == m[2] && prev[3] == m[3] {
				t.Errorf("%s: %q repeats %q (%s, %s)", name, m[1], prev[1], m[2], m[3])
			}
			prev = m
		}
		if name == "two groups, one model" && (!strings.Contains(text, "Subtotal Backup") || strings.Contains(text, "Subtotal Pay-as-you-go")) {
			t.Errorf("%s: want the group subtotals and no model subtotal:\n%s", name, text)
		}
	}
}

// TestPDFHyphensAreHyphens: the Go font draws U+002D as a minus sign,
// wider than an en dash; the PDF draws a hyphen instead, and text
// extraction still reads "-".
func TestPDFHyphensAreHyphens(t *testing.T) {
	s := newPDFSink(io.Discard)
	if err := s.begin(&Statement{}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []int{fontRegular, fontBold} {
		hyphen, enDash := s.width(f, 10, "-"), s.width(f, 10, "–")
		if hyphen >= 0.8*enDash {
			t.Errorf("font %d: a hyphen is %.2f pt wide, an en dash %.2f", f, hyphen, enDash)
		}
	}
	text := pdfText(t, render(t, PDF, Options{}))
	for _, want := range []string{"Pay-as-you-go", "ERP-1001", "2026-05-01"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q", want)
		}
	}
}

// TestPDFPeriodInPlainWords: no "end exclusive"; a month names its days.
func TestPDFPeriodInPlainWords(t *testing.T) {
	text := pdfText(t, render(t, PDF, Options{}))
	if strings.Contains(strings.ToLower(text), "exclusive") {
		t.Errorf("the statement says \"exclusive\":\n%s", text)
	}
	if !strings.Contains(text, "Period: Apr 2026 (2026-04-01 – 2026-04-30)") {
		t.Errorf("period not given as its first and last day:\n%s", text)
	}
}

// TestPDFGrandTotal: a statement of several customers ends with a summary
// of every customer's totals and the grand totals per currency.
func TestPDFGrandTotal(t *testing.T) {
	text := pdfText(t, render(t, PDF, Options{}))
	pages := strings.Split(strings.TrimRight(text, "\f"), "\f")
	last := pages[len(pages)-1]
	if !strings.Contains(last, "All customers") {
		t.Fatalf("the last page is not the summary:\n%s", last)
	}
	for _, c := range sampleStatement().Customers {
		if !strings.Contains(last, c.Name) {
			t.Errorf("summary lacks %s", c.Name)
		}
	}
	var grand []Total
	for _, m := range pdfTotalRE.FindAllStringSubmatch(last, -1) {
		lines, _ := strconv.ParseInt(m[2], 10, 64)
		amount := strings.NewReplacer(",", "", "€", "", "$", "", "−", "-").Replace(m[3])
		grand = append(grand, Total{Currency: m[1], Amount: mustDecimal(t, amount), Lines: lines})
	}
	sameTotals(t, grand, "")
}

// TestXLSXLocalTimes: start and end are the customer's wall-clock times,
// and the header names the zone.
func TestXLSXLocalTimes(t *testing.T) {
	f := openXLSX(t, render(t, XLSX, Options{}))
	rows, err := f.GetRows("Acme Oy")
	if err != nil {
		t.Fatal(err)
	}
	if got := rows[0][colStart]; got != "Start (Europe/Helsinki)" {
		t.Errorf("start header %q, want %q", got, "Start (Europe/Helsinki)")
	}
	if got := rows[0][colEnd]; got != "End (Europe/Helsinki)" {
		t.Errorf("end header %q", got)
	}
	raw, _ := f.GetCellValue("Acme Oy", cellName(colStart, 2), excelize.Options{RawCellValue: true})
	if got := excelTime(t, raw); !got.Equal(utc("2026-04-01T00:00:00Z")) {
		t.Errorf("an April line starts at %v on the sheet, want 2026-04-01 00:00 (Helsinki wall clock)", got)
	}
}

// TestPDFSpilledLines: past spoolInMemory lines a customer's lines go to a
// temporary file; they come back whole and in their sections.
func TestPDFSpilledLines(t *testing.T) {
	n := spoolInMemory + 404 // 4,500: 1,125 per product group
	text := pdfText(t, longPDF(t, n))
	if !regexp.MustCompile(fmt.Sprintf(`Total EUR\s+%d lines`, n)).MatchString(text) {
		t.Errorf("no total of %d lines", n)
	}
	last := -1
	for _, g := range []string{"Backup", "Compute", "Network", "Storage"} { // sections by name
		m := regexp.MustCompile(`Subtotal ` + g + `\s+(\d+) lines`).FindStringSubmatch(text)
		if m == nil || m[1] != strconv.Itoa(n/4) {
			t.Errorf("subtotal of %s: %v, want %d lines", g, m, n/4)
		}
		at := regexp.MustCompile(`(?m)^\s*` + g + `\s*$`).FindStringIndex(text)
		if at == nil || at[0] < last {
			t.Errorf("section %s out of order", g)
		}
		if at != nil {
			last = at[0]
		}
	}
	if got := strings.Count(text, " unit-h "); got != n { // the unit column of each line
		t.Errorf("%d lines printed, want %d", got, n)
	}
	for _, vm := range []string{"vm-000000", fmt.Sprintf("vm-%06d", n-1)} {
		if !strings.Contains(text, vm) {
			t.Errorf("line of %s missing", vm)
		}
	}
}
