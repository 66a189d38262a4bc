// Package access decides who may do what in billingd: API keys (roles
// admin, collector and reader, optionally scoped to one customer, collector
// keys optionally limited to sources and sites), the principal a request runs
// as (FromContext), the one policy table that maps every gRPC method to the
// roles allowed to call it and to where its customer is named, and the audit
// trail that every change writes in its own transaction.
//
// Secrets are never stored: only their SHA-256 and a short prefix to
// recognise them. A customer-scoped key learns nothing about other customers:
// asking for one, or for a resource that does not exist, answers the same
// PermissionDenied (ErrOutOfScope).
//
// What a stolen key can do. A collector key can send usage (for its
// customer and sources/sites only, when limited) and nothing else: it reads
// no data, not even the catalog; duplicates of what it sent are ignored by
// idempotency, but it can send false usage within its limits until revoked.
// A reader key scoped to a customer reads the shared catalog, the default
// price lists and campaigns, and only that customer's customer record,
// organisations, VDCs, price lists, prices, campaigns, contracts, usage,
// billing lines, stats and reports; every list is narrowed to it and every
// other customer, existing or not, answers the same PermissionDenied. It
// changes nothing and sees no keys or audit events. Both are limited to
// --rate-limit calls per second and stop working when revoked or expired
// (checked on every call; a stream is checked when it opens).
//
// It must not import gRPC, the generated API or the store: internal/rpc
// enforces the policy in its interceptors and the store implements the
// Repository. The domain packages import it only to record audit events.
package access
