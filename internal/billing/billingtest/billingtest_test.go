package billingtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/billing/billingtest"
	"github.com/billingd/billingd/internal/store/postgres"
	"github.com/billingd/billingd/internal/store/postgres/pgtest"
)

// Records written by Insert are what the billing reader reads, whether the
// usage migration made the table (monthly partitions) or Insert had to
// (a DEFAULT partition).
func TestInsertThenScan(t *testing.T) {
	t.Parallel()
	for _, withMigration := range []bool{true, false} {
		t.Run(map[bool]string{true: "migrated table", false: "no table yet"}[withMigration], func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			url := pgtest.NewDatabase(t)
			db, err := pgxpool.New(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if !withMigration { // this test's own database only
				if _, err := db.Exec(ctx, "DROP TABLE IF EXISTS usage_records CASCADE"); err != nil {
					t.Fatal(err)
				}
			}
			nov := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
			recs := []billingtest.Record{
				{Customer: "acme", Metric: "m", Quantity: "1.5", Start: nov, Resource: "r1", Site: "ams", Dimensions: map[string]string{"policy": "gold"}},
				{Customer: "acme", Metric: "m", Quantity: "2", Start: nov.AddDate(0, 1, 0), End: nov.AddDate(0, 1, 1)},
				{Customer: "other", Metric: "m", Quantity: "9", Start: nov},
			}
			if err := billingtest.Insert(ctx, db, recs...); err != nil {
				t.Fatal(err)
			}
			if err := billingtest.Insert(ctx, db, recs[0]); err != nil { // partitions exist now
				t.Fatal(err)
			}
			store, err := postgres.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			var got []string
			w := billing.UsageWindow{CustomerID: "acme", From: nov, To: nov.AddDate(0, 2, 0), Lookback: time.Hour, Metrics: []string{"m"}}
			err = store.Billing().ScanUsage(context.WithoutCancel(ctx), w, func(u *billing.UsageRow) error {
				got = append(got, string(u.Quantity)+" "+u.Start.Format(time.RFC3339)+" "+u.End.Format(time.RFC3339)+" "+string(u.Site)+" "+string(u.Dimensions))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 3 {
				t.Fatalf("read %q, want acme's 3 records", got)
			}
			for _, want := range []string{
				`1.5 2026-11-01T00:00:00Z 2026-11-01T00:00:00Z ams {"policy": "gold"}`,
				`2 2026-12-01T00:00:00Z 2026-12-02T00:00:00Z  {}`,
			} {
				found := false
				for _, g := range got {
					found = found || g == want
				}
				if !found {
					t.Errorf("read %q, want %q among them", got, want)
				}
			}
		})
	}
}
