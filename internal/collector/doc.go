// Package collector runs sources of usage (vCenter, VMware Cloud Director,
// backup products, queues, files) and pushes what they measure to billingd.
//
// A Source reads one platform: given the Cursor its previous run ended at
// and the current time, it returns records and the next cursor. A Runner
// polls every source on its own interval, spools each collected window to a
// local state directory before pushing it, pushes through billingd's public
// UsageService.IngestUsage stream, and advances the persisted cursor only
// after billingd acknowledged every record of the window. A restart resumes
// from the state directory: unacknowledged windows are pushed again with the
// same idempotency keys, which billingd stores once.
//
// A Feed (a queue consumer) is not polled: the Runner receives batches of
// its messages, pushes their records through the same pusher, and settles
// each message with its broker only after billingd acknowledged the record
// (ack, or dead letter for what billingd cannot bill); the broker keeps
// what is not yet settled, as the state directory does for pollers.
//
// The package must not read or write billingd's database, and must not
// import billingd's domain or store packages: collectors are clients of the
// public API and can run on another machine.
package collector
