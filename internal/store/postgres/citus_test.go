package postgres_test

import (
	"context"
	"maps"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/store/postgres/pgtest"
)

// TestCitus runs the ingestion, rollup, replica and upgrade tests of this
// package on a Citus coordinator with workers (BILLINGD_TEST_CITUS_URL;
// skipped without it): each gets a database laid out by Migrate.
func TestCitus(t *testing.T) {
	pgtest.RunOnCitus(t, map[string]func(*testing.T){
		"MigrateLaysTheSchemaOut": testCitusLayout,
		// ingestion
		"UsageInsertIsExactlyOncePerIdentity": TestUsageInsertIsExactlyOncePerIdentity,
		"UsageInsertStagedStoresOnlyNew":      TestUsageInsertStagedStoresOnlyNew,
		"UsageRoundTripAndList":               TestUsageRoundTripAndList,
		"UsagePartitionsAreCreatedPerMonth":   TestUsagePartitionsAreCreatedPerMonth,
		"UsagePartitionDroppedBehindTheCache": TestUsagePartitionDroppedBehindTheCache,
		"UsageConcurrentOverlappingBatches":   TestUsageConcurrentOverlappingBatches,
		// rollups, and replicas ingesting and draining side by side
		"UsageRollupsExactUnderConcurrentReplicas":    TestUsageRollupsExactUnderConcurrentReplicas,
		"UsageRollupsFollowLateRecords":               TestUsageRollupsFollowLateRecords,
		"UsageRollupRefreshWaitsForTheOtherWriter":    TestUsageRollupRefreshWaitsForTheOtherWriter,
		"UsageRollupWorkersCatchUpAcrossReplicas":     TestUsageRollupWorkersCatchUpAcrossReplicas,
		"UsageRollupDrainKeepsHoursCommittedAfterIt":  TestUsageRollupDrainKeepsHoursCommittedAfterIt,
		"UsageRollupSparseHoursReadRaw":               TestUsageRollupSparseHoursReadRaw,
		"UsageRollupHintMarksThenRecomputes":          TestUsageRollupHintMarksThenRecomputes,
		"UsageRollupDrainFailuresAreLoggedAndCounted": TestUsageRollupDrainFailuresAreLoggedAndCounted,
		"BillingExactWhileHoursAreDirty":              TestBillingExactWhileHoursAreDirty,
		// pooled hours (0014), drained beside the rollups and read in their place
		"PooledReaderExactWhileHoursAreDirty": TestPooledReaderExactWhileHoursAreDirty,
		// the price book's version, a reference table written beside the book
		"EveryBookWriteRaisesTheBookVersion": TestEveryBookWriteRaisesTheBookVersion,
		// a database migrated and filled before Citus laid it out
		"UpgradeFrom0006MovesUsageToItsIdentity": TestUpgradeFrom0006MovesUsageToItsIdentity,
	})
}

// testCitusLayout: Migrate on a database with the citus extension
// distributes the usage and rollup tables by customer_id in one
// co-location group, makes the small tables reference tables and leaves
// audit_events on the coordinator; migrating again changes nothing.
func testCitusLayout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newUsageDB(t)
	conn := db.conn
	read := func() map[string]string {
		rows, _ := conn.Query(ctx, `SELECT t.table_name::text,
			CASE t.citus_table_type WHEN 'distributed' THEN 'customer:' || t.distribution_column || ':' || t.colocation_id
			ELSE t.citus_table_type END
			FROM citus_tables t WHERE t.table_name::text NOT LIKE 'usage\\_records\\_%'`)
		got := map[string]string{}
		var table, how string
		if _, err := pgx.ForEachRow(rows, []any{&table, &how}, func() error { got[table] = how; return nil }); err != nil {
			t.Fatal(err)
		}
		return got
	}
	got := read()
	group := got["usage_records"]
	if len(group) < len("customer:customer_id:") || group[:len("customer:customer_id:")] != "customer:customer_id:" {
		t.Fatalf("usage_records is laid out as %q, want distributed by customer_id", group)
	}
	want := map[string]string{"usage_records": group, "usage_hourly": group, "usage_hourly_rolled": group, "usage_hourly_dirty": group,
		"usage_pooled": group, "usage_pooled_hours": group}
	for _, ref := range []string{"customers", "organisations", "vdcs", "metrics", "product_groups", "products", "price_lists", "prices",
		"campaigns", "campaign_entries", "contracts", "idempotent_requests", "api_keys", "closed_periods", "usage_late", "period_adjustments", "book_version"} {
		want[ref] = "reference"
	}
	if !maps.Equal(got, want) {
		t.Errorf("layout\n got %v\nwant %v (audit_events, schema_migrations, schema_layout stay local)", got, want)
	}
	if err := db.store.Migrate(ctx); err != nil {
		t.Fatalf("migrating a laid-out database again: %v", err)
	}
	if again := read(); !maps.Equal(again, got) {
		t.Errorf("migrating again changed the layout: %v", again)
	}
}
