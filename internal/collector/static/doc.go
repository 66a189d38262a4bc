// Package static imports usage that no platform reports — licences,
// support contracts, one-off services — from CSV and JSON files (source
// type "static"). Rows carry the fields of billingd's usage record; each
// becomes a record with the same format rules as any collector's, and a row
// that cannot is reported as a Skip naming its file, line, field and reason.
//
// The cursor holds every imported file's SHA-256: a file is read again only
// when its content changed, and then re-imported whole, which is harmless,
// since its unchanged rows keep their idempotency keys and billingd drops
// them as duplicates. See docs/collectors-queue.md.
package static
