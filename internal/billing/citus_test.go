package billing_test

import (
	"testing"

	"github.com/billingd/billingd/internal/store/postgres/pgtest"
)

// TestCitus runs the billing scenarios on a Citus coordinator with workers
// (BILLINGD_TEST_CITUS_URL; skipped without it): the same lines and totals
// as on one node, from raw records and from hourly rollups.
func TestCitus(t *testing.T) {
	pgtest.RunOnCitus(t, map[string]func(*testing.T){
		"WorkedExamples":                    TestWorkedExamples,
		"CutGranuleExamples":                TestCutGranuleExamples,
		"DSTDayHasTwentyFiveHourlyLines":    TestDSTDayHasTwentyFiveHourlyLines,
		"LateUsageChangesTheNextQuery":      TestLateUsageChangesTheNextQuery,
		"PagesCoverTheResultAndKeepTotals":  TestPagesCoverTheResultAndKeepTotals,
		"GroupByVariants":                   TestGroupByVariants,
		"Errors":                            TestErrors,
		"ReaderSemantics":                   TestReaderSemantics,
		"Stats":                             TestStats,
		"LinesOfSeveralCustomersMerge":      TestLinesOfSeveralCustomersMerge,
		"RollupReaderEqualsRawReader":       TestRollupReaderEqualsRawReader,
		"EachCustomerIsBilledInOneCurrency": TestEachCustomerIsBilledInOneCurrency,
		"AmbiguousBillingCurrency":          TestAmbiguousBillingCurrencyIsFailedPrecondition,
		"MergedLinesSplitAcrossIdleDays":    TestMergedLinesSplitAcrossAResourcesIdleDays,
		"MergedLinesSplitAtAnotherPrice":    TestMergedLinesSplitWhereAnotherPriceApplied,
		"MonthIsEachCustomersLocalMonth":    TestMonthIsEachCustomersLocalMonth,
		"MonthValidation":                   TestMonthValidation,
		"EveryBookEditIsSeen":               TestEveryBookEditIsSeenByTheNextQuery,
		"PriceEditOnAnotherReplicaIsSeen":   TestAPriceEditOnAnotherReplicaIsSeen,
		"QueriesSeeEveryAcknowledgedEdit":   TestConcurrentQueriesSeeEveryAcknowledgedEdit,
		// pools: a customer's resources summed per metric and hour (0014)
		"PoolDividesOnce":                    TestPoolDividesOnce,
		"PoolNamesUnpricedResources":         TestPoolNamesUnpricedResources,
		"PropertyPoolIsTheSumOfItsResources": TestPropertyPoolIsTheSumOfItsResources,
	})
}
