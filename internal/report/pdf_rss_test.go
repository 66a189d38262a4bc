package report

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// rssChildEnv makes the test binary, started again by pdfPeakRSS, write
// that many lines as one customer's PDF and print its peak RSS.
const rssChildEnv = "BILLINGD_REPORT_RSS_CHILD_LINES"

// TestPDFRSSChild is the child process of pdfPeakRSS; run alone it skips.
func TestPDFRSSChild(t *testing.T) {
	n, err := strconv.Atoi(os.Getenv(rssChildEnv))
	if err != nil {
		t.Skip("run by pdfPeakRSS")
	}
	st := sampleStatement()
	st.Customers = st.Customers[:1]
	var out counter
	start := time.Now()
	if err := Write(t.Context(), &out, PDF, &genSource{st: st, n: n}, Options{}); err != nil {
		t.Fatal(err)
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	hwm := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(status)
	if hwm == nil {
		t.Fatal("no VmHWM in /proc/self/status")
	}
	fmt.Printf("pdf-rss lines=%d bytes=%d seconds=%.2f peak-rss-kb=%s\n", n, out.n, time.Since(start).Seconds(), hwm[1])
}

var rssLine = regexp.MustCompile(`pdf-rss lines=\d+ bytes=(\d+) seconds=(\S+) peak-rss-kb=(\d+)`)

// pdfPeakRSS writes an n-line statement in a fresh process (this test
// binary) and returns its peak resident set, which includes the Go runtime
// and the test binary's own few MB.
func pdfPeakRSS(tb testing.TB, n int) (rssMiB, sizeMB, seconds float64) {
	tb.Helper()
	if _, err := os.Stat("/proc/self/status"); err != nil {
		tb.Skip("peak RSS is read from /proc")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPDFRSSChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), rssChildEnv+"="+strconv.Itoa(n))
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, io.Discard
	if err := cmd.Run(); err != nil {
		tb.Fatalf("child: %v\n%s", err, stdout.String())
	}
	m := rssLine.FindStringSubmatch(stdout.String())
	if m == nil {
		tb.Fatalf("child printed no measurement:\n%s", stdout.String())
	}
	kb, _ := strconv.ParseFloat(m[3], 64)
	size, _ := strconv.ParseFloat(m[1], 64)
	seconds, _ = strconv.ParseFloat(m[2], 64)
	return kb / 1024, size / 1e6, seconds
}

// pdfRSSLimitMiB is issue 16's bound for a 100,000-line statement.
const pdfRSSLimitMiB = 100

// TestPDFPeakRSS: a one-customer statement streams with a peak RSS under
// 100 MiB (100,000 lines with -large-lines=100000; fewer by default, and
// under the race detector, whose shadow memory multiplies RSS, it skips).
func TestPDFPeakRSS(t *testing.T) {
	if raceEnabled {
		t.Skip("RSS under the race detector is not the program's")
	}
	n := 20_000
	if *largeLines > 0 {
		n = *largeLines
	}
	rss, size, secs := pdfPeakRSS(t, n)
	t.Logf("PDF %d lines: %.1f MB in %.1fs, peak RSS %.1f MiB", n, size, secs, rss)
	if rss >= pdfRSSLimitMiB {
		t.Errorf("peak RSS %.1f MiB, want < %d", rss, pdfRSSLimitMiB)
	}
}

// BenchmarkPDF100kRSS: peak RSS of a process writing a 100,000-line PDF.
//
//	go test ./internal/report -run '^$' -bench PDF100kRSS -benchtime 1x
func BenchmarkPDF100kRSS(b *testing.B) {
	var rss, size, secs float64
	for b.Loop() {
		rss, size, secs = pdfPeakRSS(b, 100_000)
	}
	b.ReportMetric(rss, "MiB-peak-RSS")
	b.ReportMetric(size, "MB/export")
	b.ReportMetric(secs, "s/export")
	if rss >= pdfRSSLimitMiB {
		b.Errorf("peak RSS %.1f MiB, want < %d", rss, pdfRSSLimitMiB)
	}
}
