package postgres

import (
	"context"

	"github.com/billingd/billingd/internal/usage"
)

// PauseRollupWorkers keeps the store's background rollup workers from
// starting while paused is true.
func PauseRollupWorkers(s *Store, paused bool) {
	if paused {
		pausedPools.Store(s.pool, true)
	} else {
		pausedPools.Delete(s.pool)
	}
}

// ForceHourlyReadForm makes billing read the records of dirty hours by
// hour (1) or by range (2), or pick by the count of dirty hours (0).
func ForceHourlyReadForm(form int32) { hourlyForm.Store(form) }

// InsertStaged stores records the last of Insert's ways (staging table,
// ON CONFLICT DO NOTHING), which Insert takes only after a race.
func InsertStaged(ctx context.Context, repo usage.Repository, records []usage.Record) (int, error) {
	return repo.(*usageRepo).insertOnce(ctx, uniqueInBillingOrder(records), stageAll)
}

// MigrateTo applies the migrations up to version last, so that a test can
// write data in an older schema and then migrate it.
func (s *Store) MigrateTo(ctx context.Context, last int) error { return s.migrateTo(ctx, last) }
