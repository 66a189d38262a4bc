package postgres_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/billingd/billingd/internal/store/postgres/pgtest"
)

// BenchmarkInsertBatch: one batch of 5,000 new records (the fast path: a
// COPY into usage_records), and the same batch resent (the COPY fails on
// the first known record, then the lookup of the batch's identities finds
// every record stored and nothing is copied).
func BenchmarkInsertBatch(b *testing.B) {
	ctx := context.Background()
	st := pgtest.NewStore(b)
	repo := st.Usage()
	b.Run("new", func(b *testing.B) {
		n := 0
		for b.Loop() {
			batch := recs(fmt.Sprint("new", n), 0, 5000)
			n++
			if got, err := repo.Insert(ctx, batch); err != nil || got != 5000 {
				b.Fatalf("Insert = %d, %v; want 5000 stored", got, err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(5000*b.N), "ns/record")
	})
	b.Run("resent", func(b *testing.B) {
		batch := recs("resent", 0, 5000)
		if _, err := repo.Insert(ctx, batch); err != nil {
			b.Fatal(err)
		}
		if err := st.FlushRollups(ctx); err != nil { // the rollup worker is not what is measured
			b.Fatal(err)
		}
		for b.Loop() {
			if got, err := repo.Insert(ctx, batch); err != nil || got != 0 {
				b.Fatalf("Insert = %d, %v; want all duplicates", got, err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(5000*b.N), "ns/record")
	})
}
