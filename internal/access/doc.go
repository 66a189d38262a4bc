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
// It must not import gRPC, the generated API or the store: internal/rpc
// enforces the policy in its interceptors and the store implements the
// Repository. The domain packages import it only to record audit events.
package access
