package usagebench

import (
	"os"
	"strconv"
	"testing"
)

// BenchmarkUsageIngest runs the harness once (USAGEBENCH_RECORDS records,
// default 100,000, 8 clients) so that `make bench` reports the figures;
// `go run ./cmd/usagebench` runs the full million.
func BenchmarkUsageIngest(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("USAGEBENCH_RECORDS")); err == nil && v > 0 {
		n = v
	}
	cfg := Config{Records: n, Clients: 8, Batch: 5000, Window: 2, AdminURL: DefaultAdminURL()}
	for b.Loop() {
		res, err := Run(b.Context(), cfg, os.Stderr)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(rate(n, res.Plain), "copy-rows/s")
		b.ReportMetric(rate(n, res.Unique), "copy-unique-rows/s")
		b.ReportMetric(rate(n, res.Ingest), "ingest-records/s")
		b.ReportMetric(rate(n, res.Ingest)/rate(n, res.Unique), "ratio-c/b")
		b.ReportMetric(float64(res.MaxRSSBytes)/(1<<20), "maxRSS-MB")
	}
}
