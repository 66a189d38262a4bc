package report

import (
	"flag"
	"github.com/billingd/billingd/internal/apperr"
	"io"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"
)

var raceEnabled bool // set by race_test.go

var largeLines = flag.Int("large-lines", 0, "lines per format of TestLargeExport (default 10,000; the issue's figure is 100,000)")

// counter counts what is written to it and drops it.
type counter struct{ n int64 }

func (c *counter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

type measurement struct {
	size     int64
	elapsed  time.Duration
	peakHeap uint64 // above the heap before the export
}

// heapNow reads the bytes of live and not yet swept heap objects without
// stopping the world.
func heapNow() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// measure streams n generated lines in format f to a counter, sampling the
// heap every millisecond.
func measure(t testing.TB, f Format, n int, opts Options) measurement {
	t.Helper()
	runtime.GC()
	base := heapNow()
	var peak uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			peak = max(peak, heapNow())
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	st := sampleStatement()
	st.Customers = st.Customers[:1]
	var out counter
	start := time.Now()
	err := Write(t.Context(), &out, f, &genSource{st: st, n: n}, opts)
	elapsed := time.Since(start)
	close(stop)
	wg.Wait()
	peak = max(peak, heapNow())
	if err != nil {
		t.Fatalf("%s: %v", f, err)
	}
	return measurement{size: out.n, elapsed: elapsed, peakHeap: max(peak, base) - base}
}

// TestLargeExport streams many lines per format with bounded memory: the
// heap of CSV, JSON, XML and XLSX stays under a limit that does not grow
// with the lines. The PDF, which gopdf builds in memory, is measured at
// its cap, and past it with the cap lifted.
//
//	go test ./internal/report -run TestLargeExport -v -args -large-lines=100000
func TestLargeExport(t *testing.T) {
	n := *largeLines
	switch {
	case n > 0:
	case raceEnabled:
		n = 2_000
	default:
		n = 20_000
	}
	limits := map[Format]uint64{CSV: 16 << 20, JSON: 16 << 20, XML: 16 << 20,
		XLSX: 96 << 20} // excelize keeps up to 16 MiB of a sheet in a buffer, then spills to a file
	for f := CSV; f <= XML; f++ {
		lines, opts := n, Options{}
		if f == PDF {
			lines = min(n, DefaultPDFMaxLines)
			if *largeLines > 0 {
				lines, opts.PDFMaxLines = n, -1
			}
		}
		m := measure(t, f, lines, opts)
		t.Logf("%-4s %7d lines: %6.1f MB in %7v, peak heap %6.1f MiB", f, lines, float64(m.size)/1e6,
			m.elapsed.Round(time.Millisecond), float64(m.peakHeap)/(1<<20))
		if limit := limits[f]; limit > 0 && m.peakHeap > limit {
			t.Errorf("%s: peak heap %d MiB above %d MiB", f, m.peakHeap>>20, limit>>20)
		}
	}
}

// TestPDFMaxLines: past the cap the PDF fails before writing anything.
func TestPDFMaxLines(t *testing.T) {
	st := sampleStatement()
	st.Customers = st.Customers[:1]
	var out counter
	err := Write(t.Context(), &out, PDF, &genSource{st: st, n: 31}, Options{PDFMaxLines: 30})
	if apperr.KindOf(err) != apperr.KindFailedPrecondition || out.n != 0 {
		t.Errorf("err %v (kind %v) after %d bytes, want a failed precondition and no output", err, apperr.KindOf(err), out.n)
	}
	if err := Write(t.Context(), &out, PDF, &genSource{st: st, n: 30}, Options{PDFMaxLines: 30}); err != nil {
		t.Errorf("30 lines with a cap of 30: %v", err)
	}
}

// BenchmarkExport100k: size, time and peak heap of a 100,000-line export
// per format (the PDF with its cap lifted).
//
//	go test ./internal/report -run '^$' -bench Export100k -benchtime 1x
func BenchmarkExport100k(b *testing.B) {
	for f := CSV; f <= XML; f++ {
		b.Run(f.String(), func(b *testing.B) {
			var m measurement
			for b.Loop() {
				m = measure(b, f, 100_000, Options{PDFMaxLines: -1})
			}
			b.ReportMetric(float64(m.size)/1e6, "MB/export")
			b.ReportMetric(float64(m.peakHeap)/(1<<20), "MiB-peak-heap")
			b.ReportMetric(m.elapsed.Seconds(), "s/export")
		})
	}
}

var _ io.Writer = (*counter)(nil)
