package postgres

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/usage"
)

// partitionLockKey serialises partition creation across replicas
// ("usagepar" in ASCII); creating one is rare, so one key for all months.
const partitionLockKey int64 = 0x7573616765706172

// partitionName is the month's partition of usage_records, e.g. usage_records_2026_01.
func partitionName(month time.Time) string {
	return fmt.Sprintf("%s_%04d_%02d", tableUsageRecords, month.Year(), int(month.Month()))
}

// monthOf returns the first instant of t's UTC month.
func monthOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// partitions remembers the months known to have a partition, so a batch
// checks the catalog only for a month it has not seen before.
type partitions struct {
	mu    sync.Mutex
	known map[time.Time]bool
}

func (p *partitions) has(month time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.known[month]
}

func (p *partitions) add(month time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.known == nil {
		p.known = map[time.Time]bool{}
	}
	p.known[month] = true
}

// forget drops what is known, after an insert found a month missing.
func (p *partitions) forget() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.known = nil
}

// ensure creates the partitions of the given months that do not exist yet.
//
// A partition is created as a plain table and then attached: ATTACH
// PARTITION takes only a SHARE UPDATE EXCLUSIVE lock on usage_records, so
// unlike CREATE TABLE … PARTITION OF it does not wait for running billing
// queries nor block concurrent ingestion. Both steps run in one transaction
// under an advisory lock, so replicas that need the same month at once
// create it once and a crash never leaves a table half attached.
func (p *partitions) ensure(ctx context.Context, q querier, months []time.Time) error {
	var missing []time.Time
	for _, m := range months {
		if !p.has(m) {
			missing = append(missing, m)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	err := pgx.BeginFunc(ctx, q, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", partitionLockKey); err != nil {
			return err
		}
		for _, m := range missing {
			if err := createPartition(ctx, tx, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, m := range missing {
		p.add(m)
	}
	return nil
}

func createPartition(ctx context.Context, tx pgx.Tx, month time.Time) error {
	name := partitionName(month)
	var exists, attached bool
	err := tx.QueryRow(ctx, `
		SELECT to_regclass($1) IS NOT NULL,
		       EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass($1) AND inhparent = $2::regclass)`,
		name, tableUsageRecords).Scan(&exists, &attached)
	switch {
	case err != nil:
		return err
	case attached:
		return nil
	case exists:
		// Someone detached the month to archive it: refuse rather than
		// write records next to the archive.
		return apperr.FailedPrecondition("usage for %s cannot be stored: its partition %s is detached", month.Format("2006-01"), name)
	}
	ident := pgx.Identifier{name}.Sanitize()
	from, to := month.Format(time.RFC3339), month.AddDate(0, 1, 0).Format(time.RFC3339)
	if _, err := tx.Exec(ctx, fmt.Sprintf("CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS)",
		ident, tableUsageRecords)); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, fmt.Sprintf("ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM ('%s') TO ('%s')",
		tableUsageRecords, ident, from, to))
	return err
}

// monthsOf returns the distinct months of the records' start times.
func monthsOf(records []usage.Record) []time.Time {
	var out []time.Time
	for _, r := range records {
		if m := monthOf(r.Start); !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}
