package app_test

import (
	"testing"

	"github.com/billingd/billingd/internal/store/postgres/pgtest"
)

// TestCitus runs the closing and pricing-rule tests on a Citus coordinator with workers
// (BILLINGD_TEST_CITUS_URL; skipped without it): a closed month stays
// frozen under late usage, and a close waits for ingestion in flight.
func TestCitus(t *testing.T) {
	pgtest.RunOnCitus(t, map[string]func(*testing.T){
		"ClosedPeriodFreezesAndAdjusts": TestClosedPeriodFreezesAndAdjusts,
		"ClosePeriodRefusals":           TestClosePeriodRefusals,
		"CloseDuringIngestion":          TestCloseDuringIngestion,
		// derived metrics, customer peaks and minimum charges; months by name
		"PricingRulesEndToEnd":            TestPricingRulesEndToEnd,
		"MonthByNameIsEachCustomersMonth": TestMonthByNameIsEachCustomersMonth,
	})
}
