package postgres

import "context"

// The price book's version (migration 0015_book_version). Every write to a
// table readBook reads — metrics, products, price_lists, prices, campaigns,
// campaign_entries, contracts — goes through bookWrite, which raises the
// version in the write's transaction before the write: snapshots that see
// one version see one book, so the billing service keeps the engines it
// built from a book for as long as the version stays (internal/billing,
// bookcache.go). Raising it first also takes the row's lock before any row
// of the book, so two writers of the book queue on it and never deadlock
// on each other's rows.
const (
	// the version's migration (0015_book_version)
	bookVersionMigration = 15

	sqlBookVersion      = "SELECT version FROM book_version"
	sqlRaiseBookVersion = "UPDATE book_version SET version = version + 1"
)

// bookWrite runs fn, a write to the price book, after raising the book's
// version, atomically (in a transaction of its own, or a savepoint of the
// caller's): the raise and the write must commit together, or a query
// between them could keep the old book under the new version.
func (r *repo) bookWrite(ctx context.Context, fn func(q querier) error) error {
	return r.atomically(ctx, func(q querier) error {
		if _, err := q.Exec(ctx, sqlRaiseBookVersion); err != nil {
			return mapErr(err)
		}
		return fn(q)
	})
}

// bookExec is exec (one row written, none is NotFound) for a write to the
// price book.
func (r *repo) bookExec(ctx context.Context, o op, t target, sql string, args ...any) error {
	return r.bookWrite(ctx, func(q querier) error {
		w := repo{q: q, audit: r.audit}
		return w.exec(ctx, o, t, sql, args...)
	})
}

// bookTables are the tables readBook reads: their writes raise the version.
var bookTables = []string{tableMetrics, tableProducts, tablePriceLists, tablePrices, tableCampaigns, tableCampaignEntries, tableContracts}

// BookVersion reads the price book's version: one row of a reference
// table, which a query reads instead of the whole book when it has the
// book of that version already.
func (b billingReader) BookVersion(ctx context.Context) (int64, error) {
	var v int64
	err := b.s.pool.QueryRow(ctx, sqlBookVersion).Scan(&v)
	return v, mapErr(err)
}
