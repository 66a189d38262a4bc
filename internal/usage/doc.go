// Package usage ingests usage records: it validates each record on its own
// (a bad record is rejected with its index, field and reason while the rest
// of its batch is stored), drops repeated idempotency keys, and hands the
// valid records to a Repository that stores a batch in one transaction with
// exactly-once effect per key. It also lists stored records.
//
// It must not import the store, pgx or gRPC: the store implements
// Repository, and internal/rpc maps these types onto the wire.
package usage
