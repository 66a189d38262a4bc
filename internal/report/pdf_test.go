package report

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var pngDir = flag.String("png-dir", "", "TestRenderPDFPNG writes the sample PDFs and their pages as PNG (pdftoppm) here")

// pdfText extracts a PDF's text with pdftotext (Debian: poppler-utils),
// keeping the layout; pages are separated by form feeds.
func pdfText(t *testing.T, data []byte) string {
	t.Helper()
	bin := lookTool(t, "pdftotext", "poppler-utils")
	file := filepath.Join(t.TempDir(), "r.pdf")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-layout", "-enc", "UTF-8", file, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

var pdfTotalRE = regexp.MustCompile(`Total ([A-Z]{3})\s+(\d+) lines?\s+(\S+)`)

func TestPDF(t *testing.T) {
	data := render(t, PDF, Options{})
	if !bytes.HasPrefix(data, []byte("%PDF-")) {
		t.Fatal("not a PDF")
	}
	text := pdfText(t, data)
	pages := strings.Split(strings.TrimRight(text, "\f"), "\f")
	st := sampleStatement()
	// One statement per customer, each starting on a new page, then the
	// summary of all (TestPDFGrandTotal).
	var statements [][]string
	for _, p := range pages {
		if strings.Contains(p, "Billing statement") || strings.Contains(p, "Billing summary") {
			statements = append(statements, nil)
		}
		statements[len(statements)-1] = append(statements[len(statements)-1], p)
	}
	if len(statements) != len(st.Customers)+1 {
		t.Fatalf("%d statements and summary, want %d:\n%s", len(statements), len(st.Customers)+1, text)
	}
	for n, p := range statements[len(st.Customers)] {
		if want := fmt.Sprintf("Page %d of %d", n+1, len(statements[len(st.Customers)])); !strings.Contains(p, want) {
			t.Errorf("summary page %d lacks %q", n+1, want)
		}
	}
	lines := sampleLines()
	for i, c := range st.Customers {
		s := strings.Join(statements[i], "\n")
		for _, want := range []string{st.Provider, c.Name, "Customer ID: " + c.ID, "External ID: " + c.ExternalID,
			"Time zone: Europe/Helsinki", "Period: Apr 2026", NotInvoiceNotice} {
			if !strings.Contains(s, want) {
				t.Errorf("statement %d lacks %q", i+1, want)
			}
		}
		for n, p := range statements[i] {
			if want := fmt.Sprintf("Page %d of %d", n+1, len(statements[i])); !strings.Contains(p, want) {
				t.Errorf("statement %d page %d lacks %q", i+1, n+1, want)
			}
			if !strings.Contains(p, NotInvoiceNotice) {
				t.Errorf("statement %d page %d lacks the notice", i+1, n+1)
			}
		}
		// Every line's amount, and the totals, to the cent.
		for _, l := range lines {
			if l.CustomerID == c.ID && !strings.Contains(s, moneyText(l.Currency, formatAmount(l.Currency, l.Amount))) {
				t.Errorf("statement %d lacks amount %s %s", i+1, l.Amount, l.Currency)
			}
		}
		var totals []Total
		for _, m := range pdfTotalRE.FindAllStringSubmatch(s, -1) {
			var n int64
			fmt.Sscan(m[2], &n)
			amount := strings.NewReplacer(",", "", "€", "", "$", "", "−", "-").Replace(m[3])
			totals = append(totals, Total{CustomerID: c.ID, Currency: m[1], Amount: mustDecimal(t, amount), Lines: n})
		}
		sameTotals(t, totals, c.ID)
		for _, want := range []string{"Committed", "Pay-as-you-go", "Overage", "Subtotal Compute", "Subtotal Storage"} {
			if !strings.Contains(s, want) {
				t.Errorf("statement %d lacks %q", i+1, want)
			}
		}
	}
	if t.Failed() {
		t.Logf("text:\n%s", text)
	}
}

// TestRenderPDFPNG writes the sample statement and a long one (page
// breaks) with their pages as PNG, for a person to look at:
//
//	go test ./internal/report -run TestRenderPDFPNG -args -png-dir=/tmp/x
func TestRenderPDFPNG(t *testing.T) {
	if *pngDir == "" {
		t.Skip("no -png-dir")
	}
	bin := lookTool(t, "pdftoppm", "poppler-utils")
	if err := os.MkdirAll(*pngDir, 0o755); err != nil {
		t.Fatal(err)
	}
	docs := map[string][]byte{"sample": render(t, PDF, Options{}), "long": longPDF(t, 160)}
	for name, data := range docs {
		file := filepath.Join(*pngDir, name+".pdf")
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(bin, "-png", "-r", "80", file, filepath.Join(*pngDir, name)).CombinedOutput(); err != nil {
			t.Fatalf("pdftoppm: %v\n%s", err, out)
		}
		t.Logf("wrote %s and its pages %s-*.png", file, filepath.Join(*pngDir, name))
	}
}

// longPDF renders one customer with n generated lines.
func longPDF(t testing.TB, n int) []byte {
	st := sampleStatement()
	st.Customers = st.Customers[:1]
	var buf bytes.Buffer
	if err := Write(t.Context(), &buf, PDF, &genSource{st: st, n: n}, Options{}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
