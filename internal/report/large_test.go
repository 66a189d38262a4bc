package report

import (
	"flag"
	"io"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"
)

var raceEnabled bool // set by race_test.go

var largeLines = flag.Int("large-lines", 0, "lines per format of TestLargeExport (default 20,000; the issue's figure is 100,000)")

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
func measure(t testing.TB, f Format, n int) measurement {
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
	err := Write(t.Context(), &out, f, &genSource{st: st, n: n}, Options{})
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
// heap stays under a limit that does not grow with the lines.
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
		XLSX: 96 << 20, // excelize keeps up to 16 MiB of a sheet in a buffer, then spills to a file
		PDF:  24 << 20} // one page, the spool's in-memory lines and 100 bytes a spooled line
	for f := CSV; f <= XML; f++ {
		m := measure(t, f, n)
		t.Logf("%-4s %7d lines: %6.1f MB in %7v, peak heap %6.1f MiB", f, n, float64(m.size)/1e6,
			m.elapsed.Round(time.Millisecond), float64(m.peakHeap)/(1<<20))
		if limit := limits[f]; m.peakHeap > limit {
			t.Errorf("%s: peak heap %d MiB above %d MiB", f, m.peakHeap>>20, limit>>20)
		}
	}
}

// BenchmarkExport100k: size, time and peak heap of a 100,000-line export
// per format.
//
//	go test ./internal/report -run '^$' -bench Export100k -benchtime 1x
func BenchmarkExport100k(b *testing.B) {
	for f := CSV; f <= XML; f++ {
		b.Run(f.String(), func(b *testing.B) {
			var m measurement
			for b.Loop() {
				m = measure(b, f, 100_000)
			}
			b.ReportMetric(float64(m.size)/1e6, "MB/export")
			b.ReportMetric(float64(m.peakHeap)/(1<<20), "MiB-peak-heap")
			b.ReportMetric(m.elapsed.Seconds(), "s/export")
		})
	}
}

var _ io.Writer = (*counter)(nil)
