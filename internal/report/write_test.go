package report

import (
	"bytes"
	"context"
	"errors"
	"iter"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/apperr"
)

var allFormats = []Format{CSV, XLSX, PDF, JSON, XML}

func TestFormatNames(t *testing.T) {
	for _, c := range []struct {
		name string
		f    Format
		ct   string
	}{
		{"csv", CSV, "text/csv; charset=utf-8"},
		{"XLSX", XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
		{"pdf", PDF, "application/pdf"},
		{"json", JSON, "application/json"},
		{"xml", XML, "application/xml"},
	} {
		f, err := ParseFormat(c.name)
		if err != nil || f != c.f || ContentType(f) != c.ct || f.String() != strings.ToLower(c.name) {
			t.Errorf("%s: %v %v %q", c.name, f, err, ContentType(f))
		}
	}
	if _, err := ParseFormat("docx"); apperr.KindOf(err) != apperr.KindInvalid {
		t.Errorf("docx: %v, want invalid", err)
	}
	if got := ContentDisposition("billing-all-2026-04.csv"); got != `attachment; filename=billing-all-2026-04.csv` {
		t.Errorf("ContentDisposition = %q", got)
	}
}

func TestFileName(t *testing.T) {
	helsinki := []CustomerInfo{{ID: "acme", TimeZone: "Europe/Helsinki"}}
	two := []CustomerInfo{{ID: "a", TimeZone: "Europe/Helsinki"}, {ID: "b", TimeZone: "Europe/Helsinki"}}
	mixed := []CustomerInfo{{ID: "a", TimeZone: "Europe/Helsinki"}, {ID: "b"}}
	for _, c := range []struct {
		customers []CustomerInfo
		from, to  string
		f         Format
		want      string
	}{
		{helsinki, "2026-03-31T21:00:00Z", "2026-04-30T21:00:00Z", CSV, "billing-acme-2026-04.csv"},
		{two, "2026-03-31T21:00:00Z", "2026-04-30T21:00:00Z", XLSX, "billing-all-2026-04.xlsx"},
		{mixed, "2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z", PDF, "billing-all-2026-04.pdf"},
		{nil, "2026-04-01T00:00:00Z", "2026-04-16T00:00:00Z", JSON, "billing-all-2026-04-01_2026-04-15.json"},
		{[]CustomerInfo{{ID: "a/b c"}}, "2026-04-01T13:00:00Z", "2026-04-02T01:00:00Z", XML, "billing-a_b_c-20260401T1300Z_20260402T0100Z.xml"},
	} {
		st := Statement{Customers: c.customers, From: utc(c.from), To: utc(c.to)}
		if got := FileName(c.f, st); got != c.want {
			t.Errorf("FileName = %q, want %q", got, c.want)
		}
	}
}

// errSource yields lines, then maybe an error; its totals are given.
type errSource struct {
	st     Statement
	lines  []Line
	err    error
	totals []Total
}

func (s errSource) Statement() Statement { return s.st }
func (s errSource) Totals() []Total      { return s.totals }
func (s errSource) Lines() iter.Seq2[Line, error] {
	return func(yield func(Line, error) bool) {
		for _, l := range s.lines {
			if !yield(l, nil) {
				return
			}
		}
		if s.err != nil {
			yield(Line{}, s.err)
		}
	}
}

func TestWriteErrors(t *testing.T) {
	lines := sampleLines()
	acme, globex := lines[0], lines[len(lines)-1]
	badTotals := sampleTotals()
	badTotals[0].Amount = d("341.63")
	missingCurrency := sampleTotals()[1:] // no grand EUR total
	wrongCount := sampleTotals()
	wrongCount[2].Lines = 13
	boom := errors.New("boom")
	for _, c := range []struct {
		name string
		src  Source
		want error
	}{
		{"customer again", errSource{st: sampleStatement(), lines: []Line{acme, globex, acme}}, ErrLineOrder},
		{"customers reversed", errSource{st: sampleStatement(), lines: []Line{globex, acme}}, ErrLineOrder},
		{"unknown customer", errSource{st: sampleStatement(), lines: []Line{with(acme, func(l *Line) { l.CustomerID = "x" })}}, ErrLineOrder},
		{"customer again, none listed", errSource{lines: []Line{acme, globex, acme}}, ErrLineOrder},
		{"grand total off by a cent", SliceSource(sampleStatement(), lines, badTotals), ErrTotalsMismatch},
		{"grand total missing", SliceSource(sampleStatement(), lines, missingCurrency), ErrTotalsMismatch},
		{"customer line count", SliceSource(sampleStatement(), lines, wrongCount), ErrTotalsMismatch},
		{"unknown model", errSource{st: sampleStatement(), lines: []Line{with(acme, func(l *Line) { l.Model = "free" })}}, ErrInvalidLine},
		{"bad currency", errSource{st: sampleStatement(), lines: []Line{with(acme, func(l *Line) { l.Currency = "eur" })}}, ErrInvalidLine},
		{"no start", errSource{st: sampleStatement(), lines: []Line{with(acme, func(l *Line) { l.Start = time.Time{} })}}, ErrInvalidLine},
		{"source error", errSource{st: sampleStatement(), lines: []Line{acme}, err: boom}, boom},
	} {
		for _, f := range allFormats {
			err := Write(t.Context(), &bytes.Buffer{}, f, c.src, Options{})
			if !errors.Is(err, c.want) {
				t.Errorf("%s, %s: %v, want %v", c.name, f, err, c.want)
			}
		}
	}
}

func TestWriteInvalidOptions(t *testing.T) {
	if err := Write(t.Context(), &bytes.Buffer{}, CSV, sampleSource(), Options{CSVDelimiter: '\t'}); apperr.KindOf(err) != apperr.KindInvalid {
		t.Errorf("tab delimiter: %v, want invalid", err)
	}
	if err := Write(t.Context(), &bytes.Buffer{}, Format(9), sampleSource(), Options{}); apperr.KindOf(err) != apperr.KindInvalid {
		t.Errorf("format 9: %v, want invalid", err)
	}
}

func TestWriteCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	st := sampleStatement()
	st.Customers = st.Customers[:1]
	for _, f := range allFormats {
		if err := Write(ctx, &bytes.Buffer{}, f, &genSource{st: st, n: 1000}, Options{}); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: %v, want canceled", f, err)
		}
	}
}

// A customer of the statement without lines still gets its place: an
// empty sheet, a statement page, a customer element. Customers taken from
// the lines work too.
func TestCustomersWithoutLines(t *testing.T) {
	st := sampleStatement()
	st.Customers = append([]CustomerInfo{{ID: "idle", Name: "Idle Ltd"}}, st.Customers...)
	st.Customers = append(st.Customers, CustomerInfo{ID: "zed", Name: "Zed AB"})
	src := SliceSource(st, sampleLines(), sampleTotals())

	var x bytes.Buffer
	if err := Write(t.Context(), &x, XLSX, src, Options{}); err != nil {
		t.Fatal(err)
	}
	f := openXLSX(t, x.Bytes())
	if got := strings.Join(f.GetSheetList(), "|"); got != "Idle Ltd|Acme Oy|Globex Corporation (Nordics)|Zed AB|Totals" {
		t.Errorf("sheets %s", got)
	}
	if v, _ := f.GetCellValue("Zed AB", "A2"); v != "No billing lines in this period." {
		t.Errorf("empty sheet says %q", v)
	}

	var p bytes.Buffer
	if err := Write(t.Context(), &p, PDF, src, Options{}); err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, p.Bytes())
	if strings.Count(text, "Billing statement") != 4 || strings.Count(text, "No billing lines in this period.") != 2 ||
		strings.Count(text, "Billing summary") != 1 || !regexp.MustCompile(`Zed AB\s+zed\s+0 lines\s+—`).MatchString(text) {
		t.Errorf("PDF:\n%s", text)
	}

	var m bytes.Buffer
	if err := Write(t.Context(), &m, XML, src, Options{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.String(), `<customer id="idle"><name>Idle Ltd</name></customer>`) {
		t.Errorf("XML lacks the idle customer")
	}
	validateXSD(t, m.Bytes())

	noList := sampleStatement()
	noList.Customers = nil
	var c bytes.Buffer
	if err := Write(t.Context(), &c, XLSX, SliceSource(noList, sampleLines(), sampleTotals()), Options{}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(openXLSX(t, c.Bytes()).GetSheetList(), "|"); got != "acme|globex|Totals" {
		t.Errorf("sheets from the lines: %s", got)
	}
}

func TestFormatAmount(t *testing.T) {
	for _, c := range []struct{ cur, amount, want string }{
		{"EUR", "0.8", "0.80"},
		{"EUR", "-1.5", "-1.50"},
		{"EUR", "1234500", "1234500.00"},
		{"JPY", "5", "5"},
		{"KWD", "1.2", "1.200"},
		{"EUR", "1.234", "1.234"}, // not rounded by rating: kept, never rounded here
		{"XXX", "1.5", "1.5"},
	} {
		if got := formatAmount(c.cur, d(c.amount)); got != c.want {
			t.Errorf("formatAmount(%s %s) = %s, want %s", c.cur, c.amount, got, c.want)
		}
	}
}

func TestSpan(t *testing.T) {
	hel, _ := time.LoadLocation("Europe/Helsinki")
	for _, c := range []struct{ from, to, want string }{
		{"2026-03-31T21:00:00Z", "2026-04-30T21:00:00Z", "Apr 2026"},
		{"2026-03-31T21:00:00Z", "2026-04-01T21:00:00Z", "2026-04-01"},
		{"2026-03-31T21:00:00Z", "2026-04-15T21:00:00Z", "2026-04-01 – 2026-04-15"},
		{"2026-04-10T10:00:00Z", "2026-04-10T11:00:00Z", "2026-04-10 13:00–14:00"},
		{"2026-04-10T20:00:00Z", "2026-04-10T21:00:00Z", "2026-04-10 23:00–24:00"},
		{"2026-04-10T10:00:00Z", "2026-04-12T05:00:00Z", "2026-04-10 13:00 – 2026-04-12 08:00"},
		// The DST day of October in Helsinki has 25 hours, still one day.
		{"2026-10-24T21:00:00Z", "2026-10-25T22:00:00Z", "2026-10-25"},
	} {
		if got := span(utc(c.from), utc(c.to), hel); got != c.want {
			t.Errorf("span(%s, %s) = %q, want %q", c.from, c.to, got, c.want)
		}
	}
}

func TestMoneyText(t *testing.T) {
	for _, c := range []struct{ cur, plain, want string }{
		{"EUR", "1234500.00", "€1,234,500.00"},
		{"USD", "-1.50", "−$1.50"},
		{"SEK", "999.5", "999.5 SEK"},
		{"JPY", "1000", "1,000 JPY"},
	} {
		if got := moneyText(c.cur, c.plain); got != c.want {
			t.Errorf("moneyText(%s, %s) = %q, want %q", c.cur, c.plain, got, c.want)
		}
	}
}
