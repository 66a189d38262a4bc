package rpc_test

import (
	"testing"

	"github.com/billingd/billingd/internal/store/postgres/pgtest"
)

// TestCitus runs ingestion and billing end to end on a Citus coordinator
// with workers (BILLINGD_TEST_CITUS_URL; skipped without it): resends are
// duplicates, two replicas store each record once, bills are as on one node.
func TestCitus(t *testing.T) {
	pgtest.RunOnCitus(t, map[string]func(*testing.T){
		"IngestUsageExactlyOnceAcrossReplicas":      TestIngestUsageExactlyOnceAcrossReplicas,
		"IngestUsageOverREST":                       TestIngestUsageOverREST,
		"IngestUsageStoresGoodRecordsAndNamesBad":   TestIngestUsageStoresGoodRecordsAndNamesBadOnes,
		"BatchIngestUsageAndLimits":                 TestBatchIngestUsageAndLimits,
		"ListUsagePagesAndFilters":                  TestListUsagePagesAndFilters,
		"BillingOverGRPCAndREST":                    TestBillingOverGRPCAndREST,
		"StreamBillingSendsChunksOfAtMostAThousand": TestStreamBillingSendsChunksOfAtMostAThousandLines,
	})
}
