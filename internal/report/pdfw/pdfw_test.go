package pdfw

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/image/font/gofont/goregular"
)

// TestTextReadsBack: what is drawn, placeholders included, comes back out
// of pdftotext as the same runes, on the pages it was drawn on.
func TestTextReadsBack(t *testing.T) {
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("BILLINGD_TEST_TOOLS") == "required" {
			t.Fatal("pdftotext not installed (apt-get install poppler-utils)")
		}
		t.Skip("pdftotext not installed (apt-get install poppler-utils)")
	}
	var buf bytes.Buffer
	d := New(&buf, 595, 842, Info{Title: "Test – ü", Created: time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)})
	f, err := d.AddFont(goregular.TTF)
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"Pay-as-you-go 2026-12-05 €1,234.50 −5 …", "Grüße £3 (x) \\ 12.5 GB-month"}
	for i, s := range texts {
		if err := d.AddPage(); err != nil {
			t.Fatal(err)
		}
		d.FillRect(Color{240, 240, 240}, 20, 20, 400, 30)
		d.Line(Color{0, 0, 0}, 0.5, 20, 50, 420, 50)
		d.Text(f, 10, Color{0, 0, 0}, 30, 30, s)
		d.Text(f, 8, Color{0, 0, 0}, 30, 800, "Page "+string(rune('1'+i))+" of ")
		if err := d.Placeholder("total", f, 8, Color{0, 0, 0}, 30+f.Width("Page 1 of ", 8), 800, 20); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.FillPlaceholder("total", "2"); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "t.pdf")
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-layout", "-enc", "UTF-8", file, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	pages := strings.Split(strings.TrimRight(string(out), "\f"), "\f")
	if len(pages) != 2 {
		t.Fatalf("%d pages, want 2:\n%s", len(pages), out)
	}
	for i, s := range texts {
		if !strings.Contains(pages[i], s) {
			t.Errorf("page %d lacks %q:\n%s", i+1, s, pages[i])
		}
		if want := "Page " + string(rune('1'+i)) + " of 2"; !strings.Contains(pages[i], want) {
			t.Errorf("page %d lacks %q:\n%s", i+1, want, pages[i])
		}
	}
	if info, err := exec.Command("pdfinfo", file).CombinedOutput(); err == nil && !strings.Contains(string(info), "Title:           Test – ü") {
		t.Errorf("pdfinfo:\n%s", info)
	}
}
